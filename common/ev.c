/*
 * Event loop, the part both backends share: the per-fd table, the timer heap,
 * the cached clock and the dispatch that keeps callbacks safe from each other.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ev.h"

#define EV_INTEREST	(EV_READ | EV_WRITE | EV_EXCLUSIVE)
#define EV_MAXEVENTS_MIN	64
#define EV_MAXEVENTS_MAX	1024

/*
 * Rounds are numbered from 1 so that a zeroed entry never looks stamped by
 * the current round.
 */
struct ev_fd {
	ev_io_cb	*cb;
	void		*arg;
	uint64_t	 fired_round;	/* has an entry in fired[fired_index] */
	uint64_t	 cleared_round;	/* interest removed during this round */
	int		 mask;
	int		 fired_index;
};

struct ev_fired {
	int		 fd;
	int		 events;
};

struct ev_backend;

struct ev_loop {
	struct ev_fd	 *fds;
	int		  nfds;
	struct ev_fired	 *fired;
	int		  nfired;
	int		  maxevents;	/* fired[] and the backend's array */
	struct ev_timer	**heap;		/* heap[1] is the nearest deadline */
	unsigned int	  nheap;
	unsigned int	  heapsize;
	uint64_t	  now;
	uint64_t	  round;
	int		  in_timers;
	struct ev_backend *backend;
};

static void	ev_fire(struct ev_loop *, int, int);

#ifdef EV_USE_KQUEUE
#include "ev_kqueue.c"
#else
#include "ev_epoll.c"
#endif

static int	ev_fds_grow(struct ev_loop *, int);
static void	ev_fd_store(struct ev_loop *, int, int, ev_io_cb *, void *);
static int	ev_wait_timeout(struct ev_loop *, int);
static int	ev_dispatch_io(struct ev_loop *);
static int	ev_dispatch_timers(struct ev_loop *);
static void	ev_heap_grow(struct ev_loop *);
static void	ev_heap_place(struct ev_loop *, struct ev_timer *,
		    unsigned int);
static void	ev_heap_up(struct ev_loop *, unsigned int);
static void	ev_heap_down(struct ev_loop *, unsigned int);
static void	ev_heap_remove(struct ev_loop *, struct ev_timer *);

uint64_t
ev_clock_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
ev_now(struct ev_loop *loop)
{
	return loop->now;
}

const char *
ev_backend_name(void)
{
	return backend_name();
}

int
ev_backend_exclusive(void)
{
	return EV_HAVE_EXCLUSIVE;
}

struct ev_loop *
ev_loop_new(int size_hint)
{
	struct ev_loop	*loop;

	if (size_hint < EV_MAXEVENTS_MIN)
		size_hint = EV_MAXEVENTS_MIN;
	if ((loop = calloc(1, sizeof(*loop))) == NULL)
		return NULL;
	loop->maxevents = size_hint < EV_MAXEVENTS_MAX ? size_hint :
	    EV_MAXEVENTS_MAX;
	loop->fired = calloc(loop->maxevents, sizeof(*loop->fired));
	loop->heapsize = 64;
	loop->heap = calloc(loop->heapsize + 1, sizeof(*loop->heap));
	if (loop->fired == NULL || loop->heap == NULL ||
	    ev_fds_grow(loop, size_hint - 1) == -1 ||
	    backend_init(loop) == -1) {
		free(loop->fired);
		free(loop->heap);
		free(loop->fds);
		free(loop);
		return NULL;
	}
	loop->now = ev_clock_ms();
	return loop;
}

void
ev_loop_free(struct ev_loop *loop)
{
	unsigned int	 i;

	if (loop == NULL)
		return;
	/* Timers outlive the loop in their owners' memory: show them idle. */
	for (i = 1; i <= loop->nheap; i++)
		loop->heap[i]->slot = 0;
	backend_free(loop);
	free(loop->fired);
	free(loop->heap);
	free(loop->fds);
	free(loop);
}

static int
ev_fds_grow(struct ev_loop *loop, int fd)
{
	struct ev_fd	*fds;
	int		 n;

	if (fd < loop->nfds)
		return 0;
	n = loop->nfds > 0 ? loop->nfds : 64;
	while (n <= fd)
		n = n > INT_MAX / 2 ? INT_MAX : n * 2;
	if ((fds = reallocarray(loop->fds, n, sizeof(*fds))) == NULL)
		return -1;
	memset(fds + loop->nfds, 0, (size_t)(n - loop->nfds) * sizeof(*fds));
	loop->fds = fds;
	loop->nfds = n;
	return 0;
}

/*
 * The caller must remove the interest before closing the fd: the kernel
 * forgets a closed fd on its own, and this table would not.
 */
int
ev_set(struct ev_loop *loop, int fd, int events, ev_io_cb *cb, void *arg)
{
	int	 old, saved;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	events &= EV_INTEREST;
	/* Refused, not pretended: every waiter would be woken. */
	if ((events & EV_EXCLUSIVE) && !EV_HAVE_EXCLUSIVE) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if ((events & (EV_READ | EV_WRITE)) == 0)
		events = 0;
	if (fd >= loop->nfds) {
		if (events == 0)
			return 0;
		if (ev_fds_grow(loop, fd) == -1)
			return -1;
	}
	old = loop->fds[fd].mask;
	if (old != events && backend_set(loop, fd, old, events) == -1) {
		/* A half-applied change is undone: the fd keeps no interest. */
		saved = errno;
		backend_set(loop, fd, old | events, 0);
		ev_fd_store(loop, fd, 0, NULL, NULL);
		errno = saved;
		return -1;
	}
	ev_fd_store(loop, fd, events, cb, arg);
	return 0;
}

static void
ev_fd_store(struct ev_loop *loop, int fd, int events, ev_io_cb *cb, void *arg)
{
	struct ev_fd	*f = &loop->fds[fd];

	f->mask = events;
	f->cb = events != 0 ? cb : NULL;
	f->arg = events != 0 ? arg : NULL;
	if (events == 0)
		f->cleared_round = loop->round;
}

/*
 * fd is about to be closed and no other descriptor shares its file: the
 * kernel drops it from epoll or kqueue on close, so only the table has
 * to forget it, and a close costs no extra system call.
 */
void
ev_forget(struct ev_loop *loop, int fd)
{
	if (fd >= 0 && fd < loop->nfds && loop->fds[fd].mask != 0)
		ev_fd_store(loop, fd, 0, NULL, NULL);
}

int
ev_get(struct ev_loop *loop, int fd)
{
	if (fd < 0 || fd >= loop->nfds)
		return 0;
	return loop->fds[fd].mask;
}

/*
 * Backends report readiness here.  kqueue returns one event per filter, so
 * events for an fd already seen this round are merged into one callback.
 */
static void
ev_fire(struct ev_loop *loop, int fd, int events)
{
	struct ev_fd	*f;

	if (fd < 0 || fd >= loop->nfds || loop->fds[fd].mask == 0)
		return;
	f = &loop->fds[fd];
	if (f->fired_round == loop->round) {
		loop->fired[f->fired_index].events |= events;
		return;
	}
	if (loop->nfired == loop->maxevents)
		return;		/* level-triggered: it comes back next round */
	f->fired_round = loop->round;
	f->fired_index = loop->nfired;
	loop->fired[loop->nfired].fd = fd;
	loop->fired[loop->nfired].events = events;
	loop->nfired++;
}

int
ev_run_once(struct ev_loop *loop, int timeout_ms)
{
	int	 ran;

	loop->round++;
	loop->nfired = 0;
	loop->now = ev_clock_ms();
	if (backend_poll(loop, ev_wait_timeout(loop, timeout_ms)) == -1) {
		loop->now = ev_clock_ms();
		return -1;
	}
	loop->now = ev_clock_ms();
	ran = ev_dispatch_io(loop);
	ran += ev_dispatch_timers(loop);
	return ran;
}

static int
ev_wait_timeout(struct ev_loop *loop, int timeout_ms)
{
	uint64_t	 deadline, wait;

	if (loop->nheap == 0)
		return timeout_ms < 0 ? -1 : timeout_ms;
	deadline = loop->heap[1]->deadline;
	wait = deadline > loop->now ? deadline - loop->now : 0;
	if (wait > INT_MAX)
		wait = INT_MAX;
	if (timeout_ms >= 0 && (uint64_t)timeout_ms < wait)
		wait = timeout_ms;
	return (int)wait;
}

/*
 * A callback may change or remove any fd's interest, close fds and open new
 * ones with the same numbers.  So each event is checked against the fd's
 * interest as it is now, and dropped if the interest was removed this round:
 * a reused fd number must not inherit its predecessor's readiness.
 */
static int
ev_dispatch_io(struct ev_loop *loop)
{
	struct ev_fd	*f;
	int		 i, fd, ready, ran = 0;

	for (i = 0; i < loop->nfired; i++) {
		fd = loop->fired[i].fd;
		f = &loop->fds[fd];
		if (f->cleared_round == loop->round)
			continue;
		ready = loop->fired[i].events & f->mask & (EV_READ | EV_WRITE);
		if (ready == 0)
			continue;
		ready |= loop->fired[i].events & (EV_EOF | EV_ERROR);
		f->cb(loop, fd, ready, f->arg);
		ran++;
	}
	return ran;
}

static int
ev_dispatch_timers(struct ev_loop *loop)
{
	struct ev_timer	*t;
	int		 ran = 0;

	loop->in_timers = 1;
	while (loop->nheap > 0 && loop->heap[1]->deadline <= loop->now) {
		t = loop->heap[1];
		ev_heap_remove(loop, t);
		t->cb(loop, t, t->arg);
		ran++;
	}
	loop->in_timers = 0;
	return ran;
}

void
ev_timer_init(struct ev_timer *t, ev_timer_cb *cb, void *arg)
{
	t->deadline = 0;
	t->slot = 0;
	t->cb = cb;
	t->arg = arg;
}

int
ev_timer_armed(const struct ev_timer *t)
{
	return t->slot != 0;
}

/*
 * Fires ms after the loop's cached clock.  A timer armed from a timer
 * callback waits for the next round even at 0 ms, or a callback that
 * re-arms itself would keep this round's dispatch going for ever.
 */
void
ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t ms)
{
	uint64_t	 deadline;

	if (t->slot != 0)
		ev_heap_remove(loop, t);
	deadline = ms > UINT64_MAX - loop->now ? UINT64_MAX : loop->now + ms;
	if (loop->in_timers && deadline <= loop->now)
		deadline = loop->now + 1;
	t->deadline = deadline;
	if (loop->nheap == loop->heapsize)
		ev_heap_grow(loop);
	loop->nheap++;
	ev_heap_place(loop, t, loop->nheap);
	ev_heap_up(loop, loop->nheap);
}

void
ev_timer_stop(struct ev_loop *loop, struct ev_timer *t)
{
	if (t->slot != 0)
		ev_heap_remove(loop, t);
}

/*
 * ev_timer_start cannot fail by its signature, so running out of memory
 * for the heap is fatal.
 */
static void
ev_heap_grow(struct ev_loop *loop)
{
	struct ev_timer	**heap;
	unsigned int	  n = loop->heapsize * 2;

	if ((heap = reallocarray(loop->heap, n + 1, sizeof(*heap))) == NULL) {
		fprintf(stderr, "ev_timer_start: no memory for %u timers\n", n);
		abort();
	}
	loop->heap = heap;
	loop->heapsize = n;
}

static void
ev_heap_place(struct ev_loop *loop, struct ev_timer *t, unsigned int i)
{
	loop->heap[i] = t;
	t->slot = i;
}

static void
ev_heap_up(struct ev_loop *loop, unsigned int i)
{
	struct ev_timer	*t = loop->heap[i];

	while (i > 1 && loop->heap[i / 2]->deadline > t->deadline) {
		ev_heap_place(loop, loop->heap[i / 2], i);
		i /= 2;
	}
	ev_heap_place(loop, t, i);
}

static void
ev_heap_down(struct ev_loop *loop, unsigned int i)
{
	struct ev_timer	*t = loop->heap[i];
	unsigned int	 child;

	while ((child = i * 2) <= loop->nheap) {
		if (child < loop->nheap && loop->heap[child + 1]->deadline <
		    loop->heap[child]->deadline)
			child++;
		if (loop->heap[child]->deadline >= t->deadline)
			break;
		ev_heap_place(loop, loop->heap[child], i);
		i = child;
	}
	ev_heap_place(loop, t, i);
}

static void
ev_heap_remove(struct ev_loop *loop, struct ev_timer *t)
{
	unsigned int	 i = t->slot;
	struct ev_timer	*last = loop->heap[loop->nheap];

	loop->heap[loop->nheap] = NULL;
	loop->nheap--;
	t->slot = 0;
	if (last == t)
		return;
	ev_heap_place(loop, last, i);
	ev_heap_down(loop, i);
	ev_heap_up(loop, last->slot);
}

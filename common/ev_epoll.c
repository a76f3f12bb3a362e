/*
 * Event loop backend for Linux: level-triggered epoll.  Included by ev.c,
 * which defines struct ev_loop; every function here is static.
 */
#include <sys/epoll.h>

#include <unistd.h>

struct ev_backend {
	int			 epfd;
	struct epoll_event	*events;
};

static const char *
backend_name(void)
{
	return "epoll";
}

static int
backend_init(struct ev_loop *loop)
{
	struct ev_backend	*b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return -1;
	b->events = calloc(loop->maxevents, sizeof(*b->events));
	if (b->events == NULL ||
	    (b->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		free(b->events);
		free(b);
		return -1;
	}
	loop->backend = b;
	return 0;
}

static void
backend_free(struct ev_loop *loop)
{
	close(loop->backend->epfd);
	free(loop->backend->events);
	free(loop->backend);
}

/*
 * The kernel refuses EPOLLRDHUP next to EPOLLEXCLUSIVE; exclusive interest
 * is meant for listeners, where a peer's FIN means nothing.
 */
static uint32_t
backend_epoll_events(int mask)
{
	uint32_t	 events = 0;

	if (mask & EV_READ)
		events |= (mask & EV_EXCLUSIVE) ? EPOLLIN :
		    EPOLLIN | EPOLLRDHUP;
	if (mask & EV_WRITE)
		events |= EPOLLOUT;
	if (mask & EV_EXCLUSIVE)
		events |= EPOLLEXCLUSIVE;
	return events;
}

static int
backend_ctl(struct ev_loop *loop, int op, int fd, int mask)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = backend_epoll_events(mask);
	ev.data.fd = fd;
	return epoll_ctl(loop->backend->epfd, op, fd, &ev);
}

/*
 * EPOLLEXCLUSIVE is accepted only by EPOLL_CTL_ADD (MOD fails with EINVAL,
 * also when it would turn the flag off), so any change to an exclusive
 * registration is a DEL and an ADD.  A DEL that finds the fd already gone
 * (closed before its interest was removed) is not an error.
 */
static int
backend_set(struct ev_loop *loop, int fd, int oldmask, int newmask)
{
	if (oldmask != 0 && (newmask == 0 ||
	    ((oldmask | newmask) & EV_EXCLUSIVE))) {
		if (backend_ctl(loop, EPOLL_CTL_DEL, fd, 0) == -1 &&
		    errno != ENOENT && errno != EBADF)
			return -1;
		oldmask = 0;
	}
	if (newmask == 0)
		return 0;
	if (oldmask == 0)
		return backend_ctl(loop, EPOLL_CTL_ADD, fd, newmask);
	if (backend_ctl(loop, EPOLL_CTL_MOD, fd, newmask) == -1) {
		if (errno != ENOENT)
			return -1;
		return backend_ctl(loop, EPOLL_CTL_ADD, fd, newmask);
	}
	return 0;
}

/*
 * An error or hang-up is reported as readable and writable too, so that
 * whichever the callback waits for, its next read or write sees the error.
 */
static int
backend_events(uint32_t e)
{
	int	 events = 0;

	if (e & EPOLLIN)
		events |= EV_READ;
	if (e & EPOLLOUT)
		events |= EV_WRITE;
	if (e & EPOLLRDHUP)
		events |= EV_READ | EV_EOF;
	if (e & EPOLLHUP)
		events |= EV_READ | EV_WRITE | EV_EOF | EV_ERROR;
	if (e & EPOLLERR)
		events |= EV_READ | EV_WRITE | EV_ERROR;
	return events;
}

static int
backend_poll(struct ev_loop *loop, int timeout_ms)
{
	struct ev_backend	*b = loop->backend;
	int			 i, n;

	n = epoll_wait(b->epfd, b->events, loop->maxevents, timeout_ms);
	if (n == -1)
		return -1;
	for (i = 0; i < n; i++)
		ev_fire(loop, b->events[i].data.fd,
		    backend_events(b->events[i].events));
	return n;
}

/*
 * Event-layer tests: readiness, EOF and reset flags, interest changes during
 * dispatch, timers.  The same file runs against epoll and the kqueue shim.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "loopback.h"
#include "tap.h"

#define WAIT_MS		2000	/* upper bound for anything expected */
#define QUIET_MS	50	/* how long "nothing happens" is watched */
#define NTIMERS		1000

struct seen {
	int	 calls;
	int	 fd;
	int	 events;
};

static void	record(struct ev_loop *, int, int, void *);
static int	run_until(struct ev_loop *, const int *, int, int);
static void	put_byte(int);
static void	set_nonblock(int);
static int	tcp_pair(int, int *, int *);

static void
record(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct seen	*s = arg;

	(void)loop;
	s->calls++;
	s->fd = fd;
	s->events |= events;
}

/* Runs the loop until *counter reaches want or ms pass; returns *counter. */
static int
run_until(struct ev_loop *loop, const int *counter, int want, int ms)
{
	uint64_t	 end = ev_clock_ms() + ms, now;

	while (*counter < want && (now = ev_clock_ms()) < end)
		if (ev_run_once(loop, (int)(end - now)) == -1 && errno != EINTR)
			break;
	return *counter;
}

/* Test set-up that cannot fail on a sane system, but says so if it does. */
static void
put_byte(int fd)
{
	if (write(fd, "x", 1) != 1)
		tap_diag("write to fd %d: %s", fd, strerror(errno));
}

static void
set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* A connected loopback pair: the client, and the server side accepted. */
static int
tcp_pair(int lfd, int *client, int *server)
{
	struct seen	 s = { 0 };
	struct ev_loop	*loop;

	if ((*client = loopback_connect(lfd)) == -1)
		return -1;
	/* Loopback connect completes at once, but wait for the queue anyway. */
	if ((loop = ev_loop_new(0)) == NULL)
		return -1;
	ev_set(loop, lfd, EV_READ, record, &s);
	run_until(loop, &s.calls, 1, WAIT_MS);
	ev_set(loop, lfd, 0, NULL, NULL);
	ev_loop_free(loop);
	if ((*server = accept(lfd, NULL, NULL)) == -1) {
		close(*client);
		return -1;
	}
	set_nonblock(*server);
	return 0;
}

static void
test_read_write(struct ev_loop *loop)
{
	struct seen	 s = { 0 };
	int		 sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	ok(ev_set(loop, sv[0], EV_READ, record, &s) == 0, "ev_set read");
	is_int(ev_get(loop, sv[0]), EV_READ, "ev_get gives the interest");
	ev_run_once(loop, 0);
	is_int(s.calls, 0, "nothing to read: no callback");
	put_byte(sv[1]);
	run_until(loop, &s.calls, 1, WAIT_MS);
	is_int(s.calls, 1, "read readiness reported");
	is_int(s.fd, sv[0], "for the right fd");
	is_int(s.events & (EV_READ | EV_WRITE), EV_READ, "as EV_READ only");

	memset(&s, 0, sizeof(s));
	ev_set(loop, sv[0], 0, NULL, NULL);
	ev_run_once(loop, QUIET_MS);
	is_int(s.calls, 0, "interest removed: no more callbacks");
	is_int(ev_get(loop, sv[0]), 0, "ev_get gives 0 after removal");

	ok(ev_set(loop, sv[0], EV_READ | EV_WRITE, record, &s) == 0,
	    "ev_set read and write");
	run_until(loop, &s.calls, 1, WAIT_MS);
	is_int(s.events & (EV_READ | EV_WRITE), EV_READ | EV_WRITE,
	    "both reported in one callback");

	memset(&s, 0, sizeof(s));
	ev_set(loop, sv[0], EV_WRITE, record, &s);
	run_until(loop, &s.calls, 1, WAIT_MS);
	is_int(s.events & (EV_READ | EV_WRITE), EV_WRITE,
	    "read disabled, write kept: only EV_WRITE");

	memset(&s, 0, sizeof(s));
	ev_set(loop, sv[0], EV_READ | EV_WRITE, record, &s);
	run_until(loop, &s.calls, 1, WAIT_MS);
	is_int(s.events & EV_READ, EV_READ, "read re-added: reported again");

	ev_set(loop, sv[0], 0, NULL, NULL);
	close(sv[0]);
	close(sv[1]);
}

static void
test_pipe_eof(struct ev_loop *loop)
{
	struct seen	 s = { 0 };
	int		 p[2];

	if (!ok(pipe(p) == 0, "pipe"))
		return;
	ev_set(loop, p[0], EV_READ, record, &s);
	close(p[1]);
	run_until(loop, &s.calls, 1, WAIT_MS);
	ok(s.calls >= 1 && (s.events & EV_EOF), "pipe: EV_EOF when the writer "
	    "closes (events 0x%x)", s.events);
	ev_set(loop, p[0], 0, NULL, NULL);
	close(p[0]);
}

static void
test_shutdown_eof(struct ev_loop *loop, const char *what, int a, int b)
{
	struct seen	 s = { 0 };
	char		 c;

	ev_set(loop, a, EV_READ, record, &s);
	put_byte(b);
	run_until(loop, &s.calls, 1, WAIT_MS);
	ok(s.calls == 1 && !(s.events & EV_EOF),
	    "%s: data alone is not EOF (events 0x%x)", what, s.events);
	if (read(a, &c, 1) != 1)
		tap_diag("read: %s", strerror(errno));

	memset(&s, 0, sizeof(s));
	shutdown(b, SHUT_WR);
	run_until(loop, &s.calls, 1, WAIT_MS);
	ok((s.events & (EV_READ | EV_EOF)) == (EV_READ | EV_EOF),
	    "%s: shutdown(SHUT_WR) gives EV_READ|EV_EOF (events 0x%x)", what,
	    s.events);
	ok(!(s.events & EV_ERROR), "%s: and no EV_ERROR", what);
	ev_set(loop, a, 0, NULL, NULL);
}

static void
test_eof(struct ev_loop *loop, int lfd)
{
	int	 sv[2], client, server;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	test_shutdown_eof(loop, "unix", sv[0], sv[1]);
	close(sv[0]);
	close(sv[1]);
	if (!ok(tcp_pair(lfd, &client, &server) == 0, "tcp loopback pair"))
		return;
	test_shutdown_eof(loop, "tcp", server, client);
	close(client);
	close(server);
}

static void
test_reset(struct ev_loop *loop, int lfd)
{
	struct seen	 s = { 0 };
	struct linger	 lg = { 1, 0 };
	char		 c;
	ssize_t		 n;
	int		 client, server;

	if (!ok(tcp_pair(lfd, &client, &server) == 0, "tcp pair for reset"))
		return;
	ev_set(loop, server, EV_READ, record, &s);
	setsockopt(client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(client);
	run_until(loop, &s.calls, 1, WAIT_MS);
	ok((s.events & EV_READ) && (s.events & (EV_EOF | EV_ERROR)),
	    "reset: EV_READ with EV_EOF or EV_ERROR (events 0x%x)", s.events);
	n = read(server, &c, 1);
	ok(n == -1 && errno == ECONNRESET,
	    "reset: the read after it still sees ECONNRESET");
	ev_set(loop, server, 0, NULL, NULL);
	close(server);
}

/*
 * Two fds ready in the same round: whichever runs first removes the other's
 * interest, closes it and opens a new fd on the same number.  Neither the
 * old fd's event nor a stale one for the new fd may reach a callback.
 */
struct steal {
	int		 forget;	/* ev_forget instead of ev_set 0 */
	int		 calls;
	int		 fds[2];
	int		 peers[2];
	int		 reused;
	struct seen	 newcomer;
};

static void
steal_cb(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct steal	*st = arg;
	int		 other = fd == st->fds[0] ? 1 : 0, sv[2];

	(void)events;
	st->calls++;
	if (st->calls > 1)
		return;
	if (st->forget)
		ev_forget(loop, st->fds[other]);
	else
		ev_set(loop, st->fds[other], 0, NULL, NULL);
	close(st->fds[other]);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return;
	st->reused = sv[0] == st->fds[other];
	ev_set(loop, sv[0], EV_READ | EV_WRITE, record, &st->newcomer);
	st->fds[other] = sv[0];
	close(st->peers[other]);
	st->peers[other] = sv[1];
}

static void
test_remove_during_dispatch(struct ev_loop *loop, int forget)
{
	struct steal	 st;
	const char	*how = forget ? " (ev_forget)" : "";
	int		 a[2], b[2], i, n;

	memset(&st, 0, sizeof(st));
	st.forget = forget;
	socketpair(AF_UNIX, SOCK_STREAM, 0, a);
	socketpair(AF_UNIX, SOCK_STREAM, 0, b);
	st.fds[0] = a[0];
	st.fds[1] = b[0];
	st.peers[0] = a[1];
	st.peers[1] = b[1];
	put_byte(a[1]);
	put_byte(b[1]);
	ev_set(loop, a[0], EV_READ, steal_cb, &st);
	ev_set(loop, b[0], EV_READ, steal_cb, &st);
	/* Both are readable before the wait, so one round sees both. */
	n = ev_run_once(loop, WAIT_MS);
	is_int(st.calls, 1, "a callback removing another fd: it is not "
	    "called%s", how);
	is_int(n, 1, "ev_run_once counts the callbacks it ran%s", how);
	ok(st.reused, "the closed fd's number was reused in the callback%s",
	    how);
	is_int(st.newcomer.calls, 0, "the reused number got no stale event%s",
	    how);
	run_until(loop, &st.newcomer.calls, 1, WAIT_MS);
	is_int(st.newcomer.events & EV_WRITE, EV_WRITE,
	    "the new fd gets its own events in the next round%s", how);
	for (i = 0; i < 2; i++) {
		ev_set(loop, st.fds[i], 0, NULL, NULL);
		close(st.fds[i]);
		close(st.peers[i]);
	}
}

/* Timers: each records its number in a shared log. */
struct tlog {
	int		 n;
	int		 order[NTIMERS];
	struct ev_timer	*stop;		/* stopped by whoever fires first */
	int		 rearm;		/* fires left for the self re-arm */
};

struct tentry {
	struct ev_timer	 t;
	struct tlog	*log;
	int		 id;
	uint64_t	 ms;
};

static void
tlog_cb(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct tentry	*e = arg;

	(void)t;
	e->log->order[e->log->n++] = e->id;
	if (e->log->stop != NULL) {
		ev_timer_stop(loop, e->log->stop);
		e->log->stop = NULL;
	}
}

static void
rearm_cb(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct tentry	*e = arg;

	e->log->n++;
	if (e->log->rearm-- > 0)
		ev_timer_start(loop, t, 0);
}

static void
tentry_arm(struct ev_loop *loop, struct tentry *e, struct tlog *log, int id,
    uint64_t ms)
{
	e->log = log;
	e->id = id;
	e->ms = ms;
	ev_timer_init(&e->t, tlog_cb, e);
	ev_timer_start(loop, &e->t, ms);
}

static void
test_timer_order(struct ev_loop *loop)
{
	struct tentry	 e[4];
	struct tlog	 log;

	memset(&log, 0, sizeof(log));
	tentry_arm(loop, &e[0], &log, 0, 30);
	tentry_arm(loop, &e[1], &log, 1, 10);
	tentry_arm(loop, &e[2], &log, 2, 20);
	tentry_arm(loop, &e[3], &log, 3, 15);
	ok(ev_timer_armed(&e[3].t), "a started timer is armed");
	ev_timer_stop(loop, &e[3].t);
	ok(!ev_timer_armed(&e[3].t), "a stopped timer is not");
	run_until(loop, &log.n, 3, WAIT_MS);
	ok(log.n == 3 && log.order[0] == 1 && log.order[1] == 2 &&
	    log.order[2] == 0, "timers fire in deadline order, the stopped one "
	    "never");
	ok(!ev_timer_armed(&e[0].t), "a fired timer is not armed");
	ev_run_once(loop, QUIET_MS);
	is_int(log.n, 3, "and nothing fires later");

	/* Both due in the same round: the first stops the second. */
	memset(&log, 0, sizeof(log));
	tentry_arm(loop, &e[0], &log, 0, 1);
	tentry_arm(loop, &e[1], &log, 1, 2);
	log.stop = &e[1].t;
	while (ev_clock_ms() < ev_now(loop) + 5)
		;	/* let both expire before the loop looks */
	run_until(loop, &log.n, 2, QUIET_MS);
	ok(log.n == 1 && log.order[0] == 0,
	    "a due timer stopped by an earlier one in the same round never "
	    "fires");
}

static void
test_timer_rearm(struct ev_loop *loop)
{
	struct tentry	 e;
	struct tlog	 log;
	int		 n;

	memset(&log, 0, sizeof(log));
	e.log = &log;
	log.rearm = 2;
	ev_timer_init(&e.t, rearm_cb, &e);
	ev_timer_start(loop, &e.t, 0);
	n = ev_run_once(loop, 0);
	is_int(n, 1, "a 0 ms timer re-armed from its callback fires once per "
	    "round");
	ok(ev_timer_armed(&e.t), "and is armed again");
	run_until(loop, &log.n, 3, WAIT_MS);
	is_int(log.n, 3, "and fires again, each time re-armed");
	ok(!ev_timer_armed(&e.t), "until it stops re-arming");
}

static void
test_timeouts(struct ev_loop *loop)
{
	struct tentry	 e;
	struct tlog	 log;
	uint64_t	 start, took;
	int		 n;

	start = ev_clock_ms();
	n = ev_run_once(loop, 50);
	took = ev_clock_ms() - start;
	ok(n == 0 && took >= 49 && took < 1000,
	    "ev_run_once(50) with nothing to do waits ~50 ms (%llu)",
	    (unsigned long long)took);

	memset(&log, 0, sizeof(log));
	tentry_arm(loop, &e, &log, 7, 20);
	start = ev_clock_ms();
	n = ev_run_once(loop, 5000);
	took = ev_clock_ms() - start;
	ok(n == 1 && log.n == 1 && took >= 15 && took < 1000,
	    "a nearer timer cuts the wait short (%llu ms)",
	    (unsigned long long)took);
}

static void
test_many_timers(struct ev_loop *loop)
{
	static struct tentry	 e[NTIMERS];
	static struct tlog	 log;
	int			 i, sorted = 1, stopped = 0, fired_stopped = 0;

	memset(&log, 0, sizeof(log));
	srandom(4242);
	for (i = 0; i < NTIMERS; i++)
		tentry_arm(loop, &e[i], &log, i, (uint64_t)(random() % 200));
	for (i = 0; i < NTIMERS; i += 10) {
		ev_timer_stop(loop, &e[i].t);
		stopped++;
	}
	run_until(loop, &log.n, NTIMERS - stopped, WAIT_MS);
	is_int(log.n, NTIMERS - stopped, "%d random timers: all not stopped "
	    "fire", NTIMERS);
	for (i = 0; i < log.n; i++) {
		if (log.order[i] % 10 == 0)
			fired_stopped++;
		if (i > 0 && e[log.order[i]].ms < e[log.order[i - 1]].ms)
			sorted = 0;
	}
	ok(sorted, "in deadline order");
	is_int(fired_stopped, 0, "and none of the stopped ones");
}

static void
test_exclusive(struct ev_loop *loop, int lfd)
{
	struct seen	 s = { 0 };
	int		 c1, c2, fd;

	if (!ev_backend_exclusive()) {
		ok(ev_set(loop, lfd, EV_READ, record, &s) == 0,
		    "plain read interest on a listener");
		errno = 0;
		ok(ev_set(loop, lfd, EV_READ | EV_EXCLUSIVE, record, &s) == -1 &&
		    errno == EOPNOTSUPP, "EV_EXCLUSIVE refused with EOPNOTSUPP "
		    "(%s has no exclusive wake-up)", ev_backend_name());
		is_int(ev_get(loop, lfd), EV_READ, "the refusal changes nothing");
		ev_set(loop, lfd, 0, NULL, NULL);
		return;
	}
	ok(ev_set(loop, lfd, EV_READ | EV_EXCLUSIVE, record, &s) == 0,
	    "EV_EXCLUSIVE on a listener");
	is_int(ev_get(loop, lfd), EV_READ | EV_EXCLUSIVE,
	    "ev_get keeps EV_EXCLUSIVE");
	c1 = loopback_connect(lfd);
	run_until(loop, &s.calls, 1, WAIT_MS);
	ok(s.calls >= 1 && (s.events & EV_READ), "a connect makes it readable");
	if ((fd = accept(lfd, NULL, NULL)) != -1)
		close(fd);

	ok(ev_set(loop, lfd, 0, NULL, NULL) == 0, "exclusive interest removed");
	memset(&s, 0, sizeof(s));
	c2 = loopback_connect(lfd);
	ev_run_once(loop, QUIET_MS);
	is_int(s.calls, 0, "no callback while removed");
	ok(ev_set(loop, lfd, EV_READ | EV_EXCLUSIVE, record, &s) == 0,
	    "exclusive interest set again");
	run_until(loop, &s.calls, 1, WAIT_MS);
	ok(s.calls >= 1, "the queued connection is reported");

	ok(ev_set(loop, lfd, EV_READ, record, &s) == 0,
	    "exclusive to plain read (DEL and ADD)");
	ok(ev_set(loop, lfd, EV_READ | EV_EXCLUSIVE, record, &s) == 0,
	    "and back to exclusive");
	memset(&s, 0, sizeof(s));
	run_until(loop, &s.calls, 1, WAIT_MS);
	ok(s.calls >= 1, "still reported");
	if ((fd = accept(lfd, NULL, NULL)) != -1)
		close(fd);
	ev_set(loop, lfd, 0, NULL, NULL);
	close(c1);
	close(c2);
}

/*
 * A kqueue is not inherited by fork: a loop made before it is dead in the
 * child, so each worker must make its own (the shim is as strict).  An
 * epoll descriptor is shared with the child; nothing here relies on it.
 */
static void
test_fork(struct ev_loop *loop)
{
	int	 fds[2], status = -1;
	pid_t	 pid;

	if (strcmp(ev_backend_name(), "kqueue") != 0) {
		ok(1, "# SKIP %s descriptors are inherited by fork",
		    ev_backend_name());
		return;
	}
	if (!ok(pipe(fds) == 0, "a pipe for the child"))
		return;
	if ((pid = fork()) == 0) {
		int	 bad = 0;

		errno = 0;
		if (ev_run_once(loop, 0) != -1 || errno != EBADF)
			bad |= 1;
		errno = 0;
		if (ev_set(loop, fds[0], EV_READ, record, NULL) != -1 ||
		    errno != EBADF)
			bad |= 2;
		_exit(bad);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && (WEXITSTATUS(status) & 1) == 0,
	    "after fork, the parent's loop fails in the child with EBADF");
	ok(WIFEXITED(status) && (WEXITSTATUS(status) & 2) == 0,
	    "and so does setting an interest on it");
	close(fds[0]);
	close(fds[1]);
}

static void
test_errors(struct ev_loop *loop)
{
	struct tentry	 e;
	struct tlog	 log;
	struct ev_loop	*other;
	int		 p[2];

	ok(ev_set(loop, -1, EV_READ, record, NULL) == -1 && errno == EBADF,
	    "ev_set on -1: EBADF");
	if (pipe(p) == -1)
		return;
	close(p[0]);
	close(p[1]);
	ok(ev_set(loop, p[0], EV_READ, record, NULL) == -1,
	    "ev_set on a closed fd fails");
	is_int(ev_get(loop, p[0]), 0, "and leaves no interest");
	ok(ev_set(loop, 100000, 0, NULL, NULL) == 0,
	    "removing interest never set is fine");

	if ((other = ev_loop_new(1)) == NULL)
		return;
	memset(&log, 0, sizeof(log));
	tentry_arm(other, &e, &log, 0, 1000);
	ev_loop_free(other);
	ok(!ev_timer_armed(&e.t), "freeing the loop disarms its timers");
}

int
main(void)
{
	struct ev_loop	*loop;
	int		 lfd;

	tap_diag("backend: %s", ev_backend_name());
	if (!ok((loop = ev_loop_new(16)) != NULL, "ev_loop_new"))
		return tap_done();
	if (!ok((lfd = loopback_listen(16)) != -1, "loopback listener"))
		return tap_done();
	set_nonblock(lfd);
	test_read_write(loop);
	test_pipe_eof(loop);
	test_eof(loop, lfd);
	test_reset(loop, lfd);
	test_remove_during_dispatch(loop, 0);
	test_remove_during_dispatch(loop, 1);
	test_timer_order(loop);
	test_timer_rearm(loop);
	test_timeouts(loop);
	test_many_timers(loop);
	test_exclusive(loop, lfd);
	test_fork(loop);
	test_errors(loop);
	close(lfd);
	ev_loop_free(loop);
	return tap_done();
}

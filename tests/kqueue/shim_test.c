/*
 * The kqueue shim against kqueue(2), where the daemon could be fooled by a
 * kinder kqueue: a queue is not inherited by fork, a listener's read event
 * carries the accept queue's length, EV_EOF and fflags as documented.
 * Built only on Linux, with the shim (tests/unit/kqueue-shim.t).
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loopback.h"
#include "tap.h"

#define WAIT_MS		2000

static int	wait_filter(int, int, int, struct kevent *);
static int	watch(int, int, int);

static int
watch(int kq, int fd, int filter)
{
	struct kevent	 ch;

	EV_SET(&ch, fd, filter, EV_ADD, 0, 0, NULL);
	return kevent(kq, &ch, 1, NULL, 0, NULL);
}

/* Waits up to WAIT_MS for an event of filter on fd: 1 with *out, else 0. */
static int
wait_filter(int kq, int fd, int filter, struct kevent *out)
{
	struct kevent	 evs[8];
	struct timespec	 ts = { 0, 20 * 1000000 };
	int		 i, n, tries;

	for (tries = 0; tries < WAIT_MS / 20; tries++) {
		if ((n = kevent(kq, NULL, 0, evs, 8, &ts)) == -1)
			return 0;
		for (i = 0; i < n; i++)
			if ((int)evs[i].ident == fd && evs[i].filter == filter) {
				*out = evs[i];
				return 1;
			}
	}
	return 0;
}

static void
test_fork(void)
{
	struct kevent	 ev;
	struct timespec	 zero = { 0, 0 };
	int		 kq, fds[2], status = -1;
	pid_t		 pid;

	kq = kqueue();
	if (!ok(kq != -1 && pipe(fds) == 0, "kqueue and a pipe"))
		return;
	ok(watch(kq, fds[0], EVFILT_READ) == 0, "read filter on the pipe");
	if ((pid = fork()) == 0) {
		/* Exit status: a bit for each way the child could use it. */
		int	 bad = 0;

		errno = 0;
		if (kevent(kq, NULL, 0, &ev, 1, &zero) != -1 || errno != EBADF)
			bad |= 1;
		errno = 0;
		if (watch(kq, fds[1], EVFILT_WRITE) != -1 || errno != EBADF)
			bad |= 2;
		_exit(bad);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && (WEXITSTATUS(status) & 1) == 0,
	    "after fork, the child's kevent() wait fails with EBADF");
	ok(WIFEXITED(status) && (WEXITSTATUS(status) & 2) == 0,
	    "after fork, the child's kevent() change fails with EBADF");
	write(fds[1], "x", 1);
	ok(wait_filter(kq, fds[0], EVFILT_READ, &ev) && ev.data == 1,
	    "the parent's kqueue still works (data = 1 byte)");
	close(fds[0]);
	close(fds[1]);
	close(kq);
}

static void
test_listener_data(void)
{
	struct kevent	 ev;
	int		 kq, lfd, c[3], fd, i;

	kq = kqueue();
	lfd = loopback_listen(8);
	if (!ok(kq != -1 && lfd != -1, "kqueue and a listener"))
		return;
	for (i = 0; i < 3; i++)
		c[i] = loopback_connect(lfd);
	ok(watch(kq, lfd, EVFILT_READ) == 0, "read filter on the listener");
	ok(wait_filter(kq, lfd, EVFILT_READ, &ev), "the listener is readable");
	is_int((int)ev.data, 3, "its data is the accept queue's length");
	if ((fd = accept(lfd, NULL, NULL)) != -1)
		close(fd);
	ok(wait_filter(kq, lfd, EVFILT_READ, &ev) && ev.data == 2,
	    "one accepted: data 2");
	for (i = 0; i < 3; i++)
		close(c[i]);
	close(lfd);
	close(kq);
}

/* A client and the server side of one connection on a fresh listener. */
static int
pair(int *client, int *server)
{
	int	 lfd;

	if ((lfd = loopback_listen(4)) == -1)
		return -1;
	*client = loopback_connect(lfd);
	*server = accept(lfd, NULL, NULL);
	close(lfd);
	return *client == -1 || *server == -1 ? -1 : 0;
}

static void
test_eof(void)
{
	struct kevent	 ev;
	int		 kq, c, s;

	kq = kqueue();
	if (!ok(kq != -1 && pair(&c, &s) == 0, "a connection"))
		return;
	watch(kq, s, EVFILT_READ);
	watch(kq, s, EVFILT_WRITE);
	ok(wait_filter(kq, s, EVFILT_WRITE, &ev) && !(ev.flags & EV_EOF),
	    "writable, no EV_EOF on the write filter");
	write(c, "hello", 5);
	shutdown(c, SHUT_WR);
	ok(wait_filter(kq, s, EVFILT_READ, &ev), "FIN: readable");
	ok(ev.flags & EV_EOF, "the read filter sets EV_EOF on the peer's FIN");
	is_int((int)ev.data, 5, "data: the 5 bytes still to read");
	is_int((int)ev.fflags, 0, "fflags 0: no socket error");
	ok(wait_filter(kq, s, EVFILT_WRITE, &ev) && !(ev.flags & EV_EOF),
	    "the peer's FIN leaves the write filter without EV_EOF");
	shutdown(s, SHUT_WR);
	ok(wait_filter(kq, s, EVFILT_WRITE, &ev) && (ev.flags & EV_EOF),
	    "our shutdown(SHUT_WR): the write filter sets EV_EOF");
	is_int((int)ev.fflags, 0, "with fflags 0");
	close(c);
	close(s);
	close(kq);
}

static void
test_reset(void)
{
	struct kevent	 ev;
	struct linger	 lg = { 1, 0 };
	int		 kq, c, s;

	kq = kqueue();
	if (!ok(kq != -1 && pair(&c, &s) == 0, "a connection to reset"))
		return;
	watch(kq, s, EVFILT_READ);
	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c);
	ok(wait_filter(kq, s, EVFILT_READ, &ev) && (ev.flags & EV_EOF),
	    "RST: the read filter sets EV_EOF");
	is_int((int)ev.fflags, ECONNRESET, "fflags holds ECONNRESET");
	watch(kq, s, EVFILT_WRITE);
	ok(wait_filter(kq, s, EVFILT_WRITE, &ev) && (ev.flags & EV_EOF) &&
	    ev.fflags == ECONNRESET,
	    "and the write filter EV_EOF with ECONNRESET");
	close(s);
	close(kq);
}

static void
test_pipe(void)
{
	struct kevent	 ev;
	int		 kq, fds[2];

	kq = kqueue();
	if (!ok(kq != -1 && pipe(fds) == 0, "kqueue and a pipe"))
		return;
	watch(kq, fds[0], EVFILT_READ);
	close(fds[1]);
	ok(wait_filter(kq, fds[0], EVFILT_READ, &ev) && (ev.flags & EV_EOF) &&
	    ev.fflags == 0, "writer gone: read filter EV_EOF, fflags 0");
	close(fds[0]);
	if (pipe(fds) == -1)
		return;
	watch(kq, fds[1], EVFILT_WRITE);
	close(fds[0]);
	ok(wait_filter(kq, fds[1], EVFILT_WRITE, &ev) &&
	    (ev.flags & EV_EOF) && ev.fflags == 0,
	    "reader gone: write filter EV_EOF, fflags 0");
	close(fds[1]);
	close(kq);
}

int
main(void)
{
	test_fork();
	test_listener_data();
	test_eof();
	test_reset();
	test_pipe();
	return tap_done();
}

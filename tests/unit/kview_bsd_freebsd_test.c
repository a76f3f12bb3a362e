/*
 * common/kview_bsd.c's FreeBSD path, compiled here: SO_LISTENQLEN and
 * SO_LISTENQLIMIT get FreeBSD's numbers, and a stand-in getsockopt
 * answers them as FreeBSD's sogetopt does (0 on a socket that is not
 * listening); every other call reaches this kernel.  It proves the code
 * around the options, not FreeBSD.
 */
#ifdef __linux__	/* elsewhere the library has kview_bsd.c as it is */
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int	kview_test_getsockopt(int, int, int, void *, socklen_t *);

/* FreeBSD's sys/socket.h numbers; this kernel has no such options. */
#define SO_LISTENQLIMIT		0x1011
#define SO_LISTENQLEN		0x1012
#define SO_LISTENINCQLEN	0x1013
#define getsockopt		kview_test_getsockopt
#include "kview_bsd.c"
#undef getsockopt

#include "loopback.h"
#include "tap.h"

/* What the stand-in answers for fake.fd, if it is listening. */
static struct {
	int	fd;
	int	qlen, qlimit;
	int	fail;		/* errno for SO_LISTENQLEN, or 0 */
	int	asked;		/* SO_LISTEN* calls */
} fake = { -1, 0, 0, 0, 0 };

static int
kview_test_getsockopt(int fd, int level, int name, void *value,
    socklen_t *len)
{
	socklen_t	l = sizeof(int);
	int		listening, v = 0;

	if (level != SOL_SOCKET || (name != SO_LISTENQLEN &&
	    name != SO_LISTENQLIMIT && name != SO_LISTENINCQLEN))
		return getsockopt(fd, level, name, value, len);
	fake.asked++;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l) == -1)
		return -1;
	if (name == SO_LISTENQLEN && fake.fail != 0) {
		errno = fake.fail;
		return -1;
	}
	if (listening && fd == fake.fd)
		v = name == SO_LISTENQLEN ? fake.qlen :
		    name == SO_LISTENQLIMIT ? fake.qlimit : 0;
	if (*len > sizeof(v))
		*len = sizeof(v);
	memcpy(value, &v, *len);
	return 0;
}

/* -1 with want_errno, and queue and limit left as they were. */
static void
refused(int fd, int want_errno, const char *what)
{
	unsigned int	q = 77, l = 88;
	int		rc;

	errno = 0;
	rc = kview_listen_queue(fd, &q, &l);
	ok(rc == -1 && errno == want_errno, "%s: -1 with %s", what,
	    strerror(want_errno));
	if (rc != -1 || errno != want_errno)
		tap_diag("got %d, errno %s", rc, strerror(errno));
	ok(q == 77 && l == 88, "%s: queue and limit untouched", what);
}

static void
test_listener(void)
{
	unsigned int	q = 0, l = 0;
	int		lfd;

	if ((lfd = loopback_listen(16)) == -1) {
		ok(0, "listen on 127.0.0.1: %s", strerror(errno));
		return;
	}
	fake.fd = lfd;
	fake.qlen = 3;
	fake.qlimit = 16;
	ok(kview_listen_queue(lfd, &q, &l) == 0, "listener: read");
	is_int(q, 3, "queue is SO_LISTENQLEN");
	is_int(l, 16, "limit is SO_LISTENQLIMIT");

	/* FreeBSD lets the queue pass the limit (up to 1.5 times it). */
	fake.qlen = 24;
	ok(kview_listen_queue(lfd, &q, &l) == 0 && q == 24 && l == 16,
	    "a queue past its limit is shown as it is");

	fake.fail = ENOPROTOOPT;	/* a kernel without the option */
	refused(lfd, ENOPROTOOPT, "SO_LISTENQLEN fails");
	fake.fail = 0;
	close(lfd);
	fake.fd = -1;
}

/* Where FreeBSD's options would read 0, the answer is EINVAL. */
static void
test_not_listeners(void)
{
	struct sockaddr_un	sun;
	int			fd, fds[2];

	fd = socket(AF_INET, SOCK_STREAM, 0);
	fake.fd = fd;
	fake.asked = 0;
	refused(fd, EINVAL, "TCP socket not listening");
	is_int(fake.asked, 0, "... without asking for the queue");
	close(fd);

	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	refused(fd, EINVAL, "UDP socket");
	close(fd);

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;	/* abstract name: nothing to remove */
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
	    "acceptd-kview-bsd-%d", (int)getpid());
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 4) == -1)
		ok(0, "unix listener: %s", strerror(errno));
	else
		refused(fd, EINVAL, "listening UNIX socket");
	close(fd);

	if (pipe(fds) == -1) {
		ok(0, "pipe: %s", strerror(errno));
		return;
	}
	refused(fds[0], ENOTSOCK, "pipe");
	close(fds[0]);
	close(fds[1]);
	refused(fds[0], EBADF, "closed descriptor");
	fake.fd = -1;
}

int
main(void)
{
	test_listener();
	test_not_listeners();
	return tap_done();
}

#else

#include <stdio.h>

int
main(void)
{
	printf("1..0 # SKIP Linux only: here kview_bsd.c is built for this "
	    "system as it is\n");
	return 0;
}

#endif

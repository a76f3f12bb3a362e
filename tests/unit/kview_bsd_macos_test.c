/*
 * common/kview_bsd.c's macOS path, compiled here against a stand-in for
 * <libproc.h>: the fields of struct socket_info it reads, named as in
 * XNU's bsd/sys/proc_info.h, and a proc_pidfdinfo() that answers as
 * XNU's does for the caller's descriptors (the bytes filled, or 0 with
 * errno).  It proves the code around the call, not macOS.
 */
#ifdef __linux__	/* elsewhere the library has kview_bsd.c as it is */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define PROC_PIDFDSOCKETINFO	3
struct socket_info {
	int	soi_protocol;
	int	soi_family;
	short	soi_options;
	short	soi_qlen;		/* completed and incomplete */
	short	soi_incqlen;
	short	soi_qlimit;
};
struct socket_fdinfo {
	struct socket_info	psi;
};
static int	proc_pidfdinfo(int, int, int, void *, int);

#if defined(SO_LISTENQLEN) && defined(SO_LISTENQLIMIT)
#error "SO_LISTENQLEN here: kview_bsd.c would take its FreeBSD path"
#endif
#include "kview_bsd.c"

#include "tap.h"

/* Descriptors the stand-in knows: numbers only, nothing is opened. */
enum { FD_V4 = 100, FD_V6, FD_HALF_OPEN, FD_CONNECTED, FD_UDP, FD_UNIX,
    FD_PIPE, FD_CLOSED };

static const struct {
	int			fd;
	struct socket_info	si;
	int			error;
} fds[] = {
	{ FD_V4, { IPPROTO_TCP, AF_INET, SO_ACCEPTCONN | SO_REUSEADDR,
	    5, 2, 128 }, 0 },
	{ FD_V6, { IPPROTO_TCP, AF_INET6, SO_ACCEPTCONN, 0, 0, 4 }, 0 },
	{ FD_HALF_OPEN, { IPPROTO_TCP, AF_INET, SO_ACCEPTCONN, 4, 4, 4 },
	    0 },
	{ FD_CONNECTED, { IPPROTO_TCP, AF_INET, 0, 0, 0, 0 }, 0 },
	{ FD_UDP, { IPPROTO_UDP, AF_INET, 0, 0, 0, 0 }, 0 },
	{ FD_UNIX, { 0, AF_UNIX, SO_ACCEPTCONN, 1, 0, 8 }, 0 },
	{ FD_PIPE, { 0, 0, 0, 0, 0, 0 }, ENOTSOCK },
};

static int
proc_pidfdinfo(int pid, int fd, int flavor, void *buf, int size)
{
	struct socket_fdinfo	 info;
	size_t			 i;

	if (pid != getpid() || flavor != PROC_PIDFDSOCKETINFO) {
		errno = EINVAL;
		return 0;
	}
	if (size < (int)sizeof(info)) {
		errno = ENOMEM;
		return 0;
	}
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (fds[i].fd != fd)
			continue;
		if (fds[i].error != 0) {
			errno = fds[i].error;
			return 0;
		}
		memset(&info, 0, sizeof(info));
		info.psi = fds[i].si;
		memcpy(buf, &info, sizeof(info));
		return sizeof(info);
	}
	errno = EBADF;
	return 0;
}

static void
queue_is(int fd, unsigned int want_queue, unsigned int want_limit,
    const char *what)
{
	unsigned int	q = 77, l = 88;

	ok(kview_listen_queue(fd, &q, &l) == 0, "%s: read", what);
	is_int(q, want_queue, "%s: queue", what);
	is_int(l, want_limit, "%s: limit", what);
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

int
main(void)
{
	queue_is(FD_V4, 3, 128, "IPv4 listener: the completed only");
	queue_is(FD_V6, 0, 4, "IPv6 listener, empty");
	queue_is(FD_HALF_OPEN, 0, 4, "handshakes in progress only");
	refused(FD_CONNECTED, EINVAL, "TCP socket not listening");
	refused(FD_UDP, EINVAL, "UDP socket");
	refused(FD_UNIX, EINVAL, "listening UNIX socket");
	refused(FD_PIPE, ENOTSOCK, "pipe");
	refused(FD_CLOSED, EBADF, "closed descriptor");
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

/*
 * Kernel view on the BSDs and macOS: a listener's accept queue and its
 * limit, from FreeBSD's SO_LISTENQLEN and SO_LISTENQLIMIT or from macOS's
 * proc_pidfdinfo(); the rest fails with ENOTSUP, as it does everywhere
 * when neither exists.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>
#ifdef __APPLE__
#include <libproc.h>
#endif

#include "kview.h"

int
kview_available(void)
{
	return 0;
}

#if defined(SO_LISTENQLEN) && defined(SO_LISTENQLIMIT)

static int
kview_int_option(int fd, int option, int *value)
{
	socklen_t	len = sizeof(*value);

	*value = 0;
	return getsockopt(fd, SOL_SOCKET, option, value, &len);
}

/* 0 for a listening IPv4 or IPv6 stream socket, else -1 (EINVAL...). */
static int
kview_tcp_listener(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	int			type, listening;

	if (kview_int_option(fd, SO_TYPE, &type) == -1 ||
	    kview_int_option(fd, SO_ACCEPTCONN, &listening) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (type != SOCK_STREAM || listening == 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/*
 * FreeBSD: the completed queue and the backlog as clamped to
 * kern.ipc.somaxconn.  The options read 0 on a socket that is not
 * listening, hence the check first.  A handshake in progress waits in
 * the syncache, not on the listener; the incomplete queue
 * (SO_LISTENINCQLEN) holds what an accept filter keeps back until data
 * arrives, which accept() cannot return yet either, so it is left out.
 * The queue may pass the limit: new connections are refused only once
 * it holds more than 1.5 times it.
 */
int
kview_listen_queue(int listen_fd, unsigned int *queue, unsigned int *limit)
{
	int	qlen, qlimit;

	if (kview_tcp_listener(listen_fd) == -1 ||
	    kview_int_option(listen_fd, SO_LISTENQLEN, &qlen) == -1 ||
	    kview_int_option(listen_fd, SO_LISTENQLIMIT, &qlimit) == -1)
		return -1;
	*queue = qlen < 0 ? 0 : (unsigned int)qlen;
	*limit = qlimit < 0 ? 0 : (unsigned int)qlimit;
	return 0;
}

#elif defined(PROC_PIDFDSOCKETINFO)

/*
 * macOS: no socket option tells the queue, but libproc describes our own
 * descriptor.  XNU has no syncache: a SYN makes a socket on the
 * listener's incomplete queue, and so_qlen counts both queues (so does
 * a kqueue read event's data on a listener); the completed ones are
 * so_qlen - so_incqlen.  The limit is the backlog clamped to
 * kern.ipc.somaxconn (listen(0) gets somaxconn), and the kernel compares
 * both queues together with it, so SYNs may be dropped while the
 * completed queue is still short of it.
 */
int
kview_listen_queue(int listen_fd, unsigned int *queue, unsigned int *limit)
{
	struct socket_fdinfo	 info;
	const struct socket_info *si = &info.psi;
	int			 n;

	memset(&info, 0, sizeof(info));
	n = proc_pidfdinfo(getpid(), listen_fd, PROC_PIDFDSOCKETINFO, &info,
	    sizeof(info));
	if (n <= 0)
		return -1;	/* errno: EBADF, ENOTSOCK */
	if (n < (int)sizeof(info) ||
	    (si->soi_family != AF_INET && si->soi_family != AF_INET6) ||
	    si->soi_protocol != IPPROTO_TCP ||
	    (si->soi_options & SO_ACCEPTCONN) == 0) {
		errno = EINVAL;
		return -1;
	}
	*queue = si->soi_qlen > si->soi_incqlen ?
	    (unsigned int)(si->soi_qlen - si->soi_incqlen) : 0;
	*limit = si->soi_qlimit < 0 ? 0 : (unsigned int)si->soi_qlimit;
	return 0;
}

#else

/* OpenBSD, NetBSD and the rest: no way to the limit from user space. */
int
kview_listen_queue(int listen_fd, unsigned int *queue, unsigned int *limit)
{
	(void)listen_fd;
	(void)queue;
	(void)limit;
	errno = ENOTSUP;
	return -1;
}

#endif

int
kview_sockets_ports(const unsigned short *ports, int nports,
    void (*fn)(const struct kview_socket *, void *), void *arg)
{
	(void)ports;
	(void)nports;
	(void)fn;
	(void)arg;
	errno = ENOTSUP;
	return -1;
}

int
kview_counters(struct kview_counters *c)
{
	(void)c;
	errno = ENOTSUP;
	return -1;
}

int
kview_process_sleeps(int pid, unsigned long long *sleeps)
{
	(void)pid;
	*sleeps = 0;
	errno = ENOTSUP;
	return -1;
}

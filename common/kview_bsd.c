/*
 * Kernel view on the BSDs and macOS: FreeBSD gives the listen queue through
 * SO_LISTENQLEN/SO_LISTENQLIMIT; everything else fails with ENOTSUP.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>

#include "kview.h"

int
kview_available(void)
{
	return 0;
}

int
kview_listen_queue(int listen_fd, unsigned int *queue, unsigned int *limit)
{
#if defined(SO_LISTENQLEN) && defined(SO_LISTENQLIMIT)
	socklen_t	len;
	int		qlen, qlimit;

	len = sizeof(qlen);
	if (getsockopt(listen_fd, SOL_SOCKET, SO_LISTENQLEN, &qlen, &len) == -1)
		return -1;
	len = sizeof(qlimit);
	if (getsockopt(listen_fd, SOL_SOCKET, SO_LISTENQLIMIT, &qlimit,
	    &len) == -1)
		return -1;
	*queue = qlen;
	*limit = qlimit;
	return 0;
#else
	(void)listen_fd;
	(void)queue;
	(void)limit;
	errno = ENOTSUP;
	return -1;
#endif
}

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

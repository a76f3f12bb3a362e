/*
 * Reuseport on the BSDs and macOS.  FreeBSD's SO_REUSEPORT_LB balances
 * new connections over the sockets bound to one address; plain
 * SO_REUSEPORT there (and on macOS, OpenBSD) lets them share the address
 * but hands each connection to one of them, not in turn.  Steering a
 * group is not available: a socket retired here keeps its share of new
 * connections until it closes.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stddef.h>

#include "acceptd.h"

int
listen_reuseport(int fd, int on)
{
#ifdef SO_REUSEPORT_LB
	return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT_LB, &on, sizeof(on));
#else
	return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
#endif
}

/* Said at start, by -n and on reload when accept is reuseport. */
const char *
listen_reuseport_note(void)
{
#ifdef SO_REUSEPORT_LB
	return NULL;
#else
	return "accept reuseport: this platform has no balancing "
	    "SO_REUSEPORT (FreeBSD's SO_REUSEPORT_LB), so the kernel does "
	    "not spread new connections over the workers' sockets: one "
	    "worker may get them all; accept shared spreads them";
#endif
}

/* No queue migration on close here: a retired socket's queue may reset. */
int
listen_migrate(int *set)
{
	*set = 0;
	return 0;
}

int
listen_steer(int fd, const int *keep, int n)
{
	(void)fd;
	(void)n;
	if (keep == NULL)
		return 0;
	errno = EOPNOTSUPP;
	return -1;
}

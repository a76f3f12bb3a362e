/*
 * Steering a reuseport group: not available on this platform.  A socket
 * retired there keeps its share of new connections until it closes.
 */
#include <errno.h>
#include <stddef.h>

#include "acceptd.h"

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

/*
 * Loopback TCP for the C tests: a listener on 127.0.0.1, any port, and a
 * client connected to it.  Blocking descriptors; -1 on failure.
 */
#ifndef LOOPBACK_H
#define LOOPBACK_H

#include <sys/socket.h>
#include <netinet/in.h>

#include <string.h>
#include <unistd.h>

static inline int
loopback_listen(int backlog)
{
	struct sockaddr_in	 sin;
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, backlog) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline int
loopback_connect(int lfd)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	if (getsockname(lfd, (struct sockaddr *)&sin, &len) == -1 ||
	    (fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

#endif

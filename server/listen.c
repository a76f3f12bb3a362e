/*
 * Listening sockets: one shared by every worker, or one per worker slot
 * with SO_REUSEPORT, each with its own accept queue.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "acceptd.h"

static int
listen_socket(const struct conf *conf, int reuseport, char *err, size_t len)
{
	int fd, on = 1;

	fd = socket(conf->listen_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, len, "socket for %s: %s", conf->listen,
		    strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on,
	    sizeof(on)) == -1) ||
	    (conf->listen_addr.ss_family == AF_INET6 && setsockopt(fd,
	    IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)) {
		snprintf(err, len, "setsockopt on %s: %s", conf->listen,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)&conf->listen_addr,
	    conf->listen_len) == -1) {
		snprintf(err, len, "cannot listen on %s: %s%s", conf->listen,
		    strerror(errno), errno == EADDRINUSE ?
		    " (another acceptd or another server has it)" : "");
		close(fd);
		return -1;
	}
	return fd;
}

int
listen_open(const struct conf *conf, int reuseport, char *err, size_t len)
{
	int fd;

	if ((fd = listen_socket(conf, reuseport, err, len)) == -1)
		return -1;
	if (listen(fd, conf->backlog) == -1) {
		snprintf(err, len, "listen on %s: %s", conf->listen,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * SO_REUSEPORT lets a second process of the same user join our group
 * silently; a plain bind first makes "port in use" an error as it
 * should be.
 */
int
listen_probe(const struct conf *conf, char *err, size_t len)
{
	int fd;

	if ((fd = listen_socket(conf, 0, err, len)) == -1)
		return -1;
	close(fd);
	return 0;
}

int
listen_set_backlog(int fd, int backlog)
{
	return listen(fd, backlog);
}

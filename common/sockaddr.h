/*
 * IPv4 and IPv6 socket addresses in one type, and their text form:
 * "127.0.0.1:8080", "[::1]:8080".
 */
#ifndef SOCKADDR_H
#define SOCKADDR_H

#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>

/* Kept small: a connection carries one (no sockaddr_storage). */
union sockaddr_any {
	struct sockaddr		sa;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
};

#define SOCKADDR_STRLEN	(INET6_ADDRSTRLEN + sizeof("[]:65535"))

int		sockaddr_format(const union sockaddr_any *, char *, size_t);
unsigned int	sockaddr_port(const union sockaddr_any *);	/* 0: neither */

#endif

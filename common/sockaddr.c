/* Socket addresses as text, for the daemon's trace lines and sockets list. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>

#include "sockaddr.h"

/* Like snprintf: the length the text needs; "-" for another family. */
int
sockaddr_format(const union sockaddr_any *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &sa->sin6.sin6_addr, host, sizeof(host));
		return snprintf(buf, len, "[%s]:%u", host, sockaddr_port(sa));
	}
	if (sa->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &sa->sin.sin_addr, host, sizeof(host));
		return snprintf(buf, len, "%s:%u", host, sockaddr_port(sa));
	}
	return snprintf(buf, len, "-");
}

unsigned int
sockaddr_port(const union sockaddr_any *sa)
{
	if (sa->sa.sa_family == AF_INET6)
		return ntohs(sa->sin6.sin6_port);
	if (sa->sa.sa_family == AF_INET)
		return ntohs(sa->sin.sin_port);
	return 0;
}

/*
 * acceptload's tally of connect and request errors by errno, and the errno
 * names the report shows them under.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "acceptload.h"

void
loaderrno_add(struct loaderrno *ec, int e)
{
	size_t	 i;

	for (i = 0; i < ec->used; i++)
		if (ec->err[i] == e)
			break;
	if (i == ec->used) {
		/* Full: the last slot takes every errno not seen before. */
		if (ec->used == LOADERRNO_SLOTS)
			i = LOADERRNO_SLOTS - 1;
		else
			ec->err[ec->used++] = e;
	}
	ec->n[i]++;
}

uint64_t
loaderrno_total(const struct loaderrno *ec)
{
	uint64_t	 n = 0;
	size_t		 i;

	for (i = 0; i < ec->used; i++)
		n += ec->n[i];
	return n;
}

/* The errnos a connect or a socket read or write can end with. */
const char *
loaderrno_name(int e)
{
	static char	 buf[16];

	switch (e) {
	case EACCES:		return "EACCES";
	case EADDRINUSE:	return "EADDRINUSE";
	case EADDRNOTAVAIL:	return "EADDRNOTAVAIL";
	case EAFNOSUPPORT:	return "EAFNOSUPPORT";
	case EAGAIN:		return "EAGAIN";
	case ECONNABORTED:	return "ECONNABORTED";
	case ECONNREFUSED:	return "ECONNREFUSED";
	case ECONNRESET:	return "ECONNRESET";
	case EHOSTDOWN:		return "EHOSTDOWN";
	case EHOSTUNREACH:	return "EHOSTUNREACH";
	case EINVAL:		return "EINVAL";
	case EIO:		return "EIO";
	case EMFILE:		return "EMFILE";
	case ENETDOWN:		return "ENETDOWN";
	case ENETUNREACH:	return "ENETUNREACH";
	case ENFILE:		return "ENFILE";
	case ENOBUFS:		return "ENOBUFS";
	case ENOMEM:		return "ENOMEM";
	case ENOTCONN:		return "ENOTCONN";
	case EPERM:		return "EPERM";
	case EPIPE:		return "EPIPE";
	case EPROTO:		return "EPROTO";
	case ETIMEDOUT:		return "ETIMEDOUT";
	default:
		snprintf(buf, sizeof(buf), "E%d", e);
		return buf;
	}
}

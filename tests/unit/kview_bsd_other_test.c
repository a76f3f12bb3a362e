/*
 * common/kview_bsd.c where neither FreeBSD's options nor macOS's libproc
 * exist (OpenBSD, NetBSD, and Linux, where it is compiled here): every
 * part fails with ENOTSUP, so callers say "not available on this
 * platform" instead of printing zeros.
 */
#ifdef __linux__	/* elsewhere the library has kview_bsd.c as it is */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#if defined(SO_LISTENQLEN) || defined(PROC_PIDFDSOCKETINFO)
#error "kview_bsd.c would take its FreeBSD or macOS path here"
#endif
#include "kview_bsd.c"

#include "loopback.h"
#include "tap.h"

static void
collect(const struct kview_socket *s, void *arg)
{
	(void)s;
	(*(int *)arg)++;
}

int
main(void)
{
	struct kview_counters	c;
	unsigned long long	sleeps = 99;
	unsigned short		ports[] = { 80, 443 };
	unsigned int		q = 77, l = 88;
	int			lfd, n = 0;

	is_int(kview_available(), 0, "no socket list or counters here");
	lfd = loopback_listen(4);
	ok(lfd != -1, "a real listener");
	errno = 0;
	ok(kview_listen_queue(lfd, &q, &l) == -1 && errno == ENOTSUP,
	    "listen queue: ENOTSUP");
	ok(q == 77 && l == 88, "... queue and limit untouched");
	close(lfd);
	errno = 0;
	ok(kview_sockets_ports(ports, 2, collect, &n) == -1 &&
	    errno == ENOTSUP && n == 0, "sockets by ports: ENOTSUP");
	errno = 0;
	ok(kview_sockets(80, collect, &n) == -1 && errno == ENOTSUP && n == 0,
	    "sockets of a port: ENOTSUP");
	errno = 0;
	ok(kview_counters(&c) == -1 && errno == ENOTSUP, "counters: ENOTSUP");
	errno = 0;
	ok(kview_process_sleeps(getpid(), &sleeps) == -1 &&
	    errno == ENOTSUP, "process sleeps: ENOTSUP");
	is_int(sleeps, 0, "... and sleeps set to 0");
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

/*
 * Kernel events on the BSDs and macOS: none here.  DTrace's tcp provider
 * (tcp:::state-change, tcp:::send with the RST flag) is the equivalent.
 */
#include <stdio.h>

#include "kview.h"

struct kevents *
kevents_open(const unsigned short *ports, int nports, char *why, size_t len)
{
	(void)ports;
	(void)nports;
	snprintf(why, len, "not available on this platform (DTrace's tcp "
	    "provider is the equivalent: dtrace -n 'tcp:::state-change')");
	return NULL;
}

const int *
kevents_fds(const struct kevents *ke, int *n)
{
	(void)ke;
	*n = 0;
	return NULL;
}

const char *
kevents_missing(const struct kevents *ke)
{
	(void)ke;
	return "";
}

int
kevents_read(struct kevents *ke, void (*fn)(const struct kevent *, void *),
    void *arg)
{
	(void)ke;
	(void)fn;
	(void)arg;
	return 0;
}

void
kevents_close(struct kevents *ke)
{
	(void)ke;
}

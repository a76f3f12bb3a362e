/*
 * Kernel view on the BSDs and macOS: FreeBSD gives the listen queue through
 * SO_LISTENQLEN/SO_LISTENQLIMIT; everything else fails with ENOTSUP.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>

#include "kview.h"

/* Kept for printing, so callers need not know which platform they are on. */
const struct kview_counter_name kview_counter_names[KVIEW_NCOUNTERS] = {
	{ "ListenOverflows", offsetof(struct kview_counters, listen_overflows) },
	{ "ListenDrops", offsetof(struct kview_counters, listen_drops) },
	{ "TCPReqQFullDrop", offsetof(struct kview_counters, reqq_full_drop) },
	{ "TCPReqQFullDoCookies",
	    offsetof(struct kview_counters, reqq_full_do_cookies) },
	{ "EmbryonicRsts", offsetof(struct kview_counters, embryonic_rsts) },
	{ "TCPAbortOnData", offsetof(struct kview_counters, abort_on_data) },
	{ "TCPAbortOnClose", offsetof(struct kview_counters, abort_on_close) },
	{ "OutRsts", offsetof(struct kview_counters, out_rsts) },
};

static const char *const kview_states[KV_NSTATES] = {
	"UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
	"FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN",
	"CLOSING", "NEW_SYN_RECV"
};

int
kview_available(void)
{
	return 0;
}

const char *
kview_state_name(int state)
{
	if (state <= 0 || state >= KV_NSTATES)
		return kview_states[0];
	return kview_states[state];
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
kview_sockets(unsigned short port,
    void (*fn)(const struct kview_socket *, void *), void *arg)
{
	(void)port;
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

/*
 * The kernel view's names and wrappers, the same on every platform; what
 * the kernel is asked, and how, lives in kview_linux.c and kview_bsd.c.
 */
#include <stddef.h>

#include "kview.h"

const struct kview_counter_name kview_counter_names[KVIEW_NCOUNTERS] = {
	{ "ListenOverflows",
	    offsetof(struct kview_counters, listen_overflows) },
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

const char *
kview_state_name(int state)
{
	if (state <= 0 || state >= KV_NSTATES)
		return kview_states[0];
	return kview_states[state];
}

int
kview_sockets(unsigned short port,
    void (*fn)(const struct kview_socket *, void *), void *arg)
{
	return kview_sockets_ports(&port, 1, fn, arg);
}

const char *
kevent_name(int kind)
{
	static const char *const names[KE_NKINDS] = {
		"state", "rst-sent", "rst-received", "synack-retransmit",
		"drop", "lost"
	};

	return kind >= 0 && kind < KE_NKINDS ? names[kind] : "unknown";
}

/*
 * /metrics: the master's view in the Prometheus text format (expo.c).
 * Read at scrape time from the scoreboard and the kernel; nothing is
 * kept between scrapes.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdio.h>

#include "expo.h"
#include "kview.h"
#include "log.h"
#include "master.h"
#include "monitor.h"

/* The kernel counters under Prometheus names, in kview.h's order. */
static const struct {
	const char	*name;
	const char	*help;
	size_t		 offset;
} metrics_kernel[] = {
#define K(f)	offsetof(struct kview_counters, f)
	{ "acceptd_kernel_listen_overflows_total", "TcpExt ListenOverflows: "
	    "handshakes dropped because an accept queue was full "
	    "(network namespace).", K(listen_overflows) },
	{ "acceptd_kernel_listen_drops_total", "TcpExt ListenDrops: SYNs "
	    "to listeners dropped for any reason (network namespace).",
	    K(listen_drops) },
	{ "acceptd_kernel_tcp_reqq_full_drop_total", "TcpExt "
	    "TCPReqQFullDrop: SYNs dropped because the SYN queue was full "
	    "and cookies were off.", K(reqq_full_drop) },
	{ "acceptd_kernel_tcp_reqq_full_do_cookies_total", "TcpExt "
	    "TCPReqQFullDoCookies: SYN cookies sent because the SYN queue "
	    "was full.", K(reqq_full_do_cookies) },
	{ "acceptd_kernel_embryonic_rsts_total", "TcpExt EmbryonicRsts: "
	    "resets of connections not yet accepted.", K(embryonic_rsts) },
	{ "acceptd_kernel_tcp_abort_on_data_total", "TcpExt "
	    "TCPAbortOnData: connections reset because data arrived after "
	    "close.", K(abort_on_data) },
	{ "acceptd_kernel_tcp_abort_on_close_total", "TcpExt "
	    "TCPAbortOnClose: connections reset because they were closed "
	    "with unread data.", K(abort_on_close) },
	{ "acceptd_kernel_out_rsts_total", "Tcp OutRsts: segments sent "
	    "with the RST flag.", K(out_rsts) },
#undef K
};

/* The per-worker counters and gauges, from the scoreboard. */
static const struct {
	const char	*name;
	enum expo_type	 type;
	const char	*help;
	size_t		 offset;
} metrics_worker[] = {
#define W(f)	offsetof(struct sb_worker, f)
	{ "acceptd_worker_accepts_total", EXPO_COUNTER,
	    "Connections accepted by the worker's current process.",
	    W(accepts) },
	{ "acceptd_worker_wakeups_total", EXPO_COUNTER,
	    "Times the worker was woken for its listening socket.",
	    W(wakeups) },
	{ "acceptd_worker_empty_accepts_total", EXPO_COUNTER,
	    "Wake-ups that found the accept queue empty (the thundering "
	    "herd).", W(empty_accepts) },
	{ "acceptd_worker_connections", EXPO_GAUGE,
	    "Connections the worker has open.", W(active) },
	{ "acceptd_worker_closed_total", EXPO_COUNTER,
	    "Connections the worker closed.", W(closed) },
	{ "acceptd_worker_received_bytes_total", EXPO_COUNTER,
	    "Bytes the worker read from its connections.", W(bytes_in) },
	{ "acceptd_worker_sent_bytes_total", EXPO_COUNTER,
	    "Bytes the worker wrote to its connections.", W(bytes_out) },
#undef W
};

static struct sb_worker *
metrics_sb(const struct slot *s)
{
	static struct sb_worker none;

	return s->sb < 0 ? &none : &master.sb->worker[s->sb];
}

/* One sample per listen line, over every socket it has. */
static void
metrics_queue(struct expo *e)
{
	unsigned int	q, l;
	int		i;

	expo_family(e, "acceptd_listen_queue_length", EXPO_GAUGE,
	    "Connections the kernel completed that no worker has accepted "
	    "yet (all of the listen address's sockets).");
	for (i = 0; i < master.conf.nlisten; i++) {
		listener_queue(i, &q, &l);
		expo_sample(e, "acceptd_listen_queue_length", q, "listen",
		    master.conf.listen[i].text, NULL);
	}
	expo_family(e, "acceptd_listen_queue_limit", EXPO_GAUGE,
	    "The accept queues' limit: min(backlog, somaxconn) for each of "
	    "the listen address's sockets that stays (one per worker with "
	    "reuseport), added up; the kernel holds one more on each.");
	for (i = 0; i < master.conf.nlisten; i++) {
		listener_queue(i, &q, &l);
		expo_sample(e, "acceptd_listen_queue_limit", l, "listen",
		    master.conf.listen[i].text, NULL);
	}
}

/*
 * Processes draining after a scale-down, reload or accept switch: not
 * workers any more, but their connections are still served.
 */
static void
metrics_retiring(struct expo *e)
{
	struct proc	*p;
	unsigned long long conns = 0;
	int		 n = 0;

	TAILQ_FOREACH(p, &procs, entry)
		if (p->retiring) {
			n++;
			conns += sb_get(&master.sb->worker[p->sb].active);
		}
	expo_family(e, "acceptd_retiring_workers", EXPO_GAUGE,
	    "Worker processes draining after a scale-down, reload or accept "
	    "switch.");
	expo_sample(e, "acceptd_retiring_workers", n, NULL);
	expo_family(e, "acceptd_retiring_connections", EXPO_GAUGE,
	    "Connections the retiring processes still serve.");
	expo_sample(e, "acceptd_retiring_connections", conns, NULL);
}

static void
metrics_workers(struct expo *e)
{
	const struct slot	*s;
	char			 id[16];
	size_t			 m;
	int			 i, st, now;

	for (m = 0; m < sizeof(metrics_worker) / sizeof(metrics_worker[0]);
	    m++) {
		expo_family(e, metrics_worker[m].name, metrics_worker[m].type,
		    metrics_worker[m].help);
		for (i = 0; i < CONF_WORKERS_MAX; i++) {
			s = &master.slot[i];
			if (!s->wanted)
				continue;
			snprintf(id, sizeof(id), "%d", i);
			expo_sample(e, metrics_worker[m].name,
			    sb_get((sb_counter *)((char *)metrics_sb(s) +
			    metrics_worker[m].offset)), "worker", id, NULL);
		}
	}
	metrics_retiring(e);
	expo_family(e, "acceptd_worker_state", EXPO_GAUGE,
	    "1 for the state the worker is in, 0 for the others.");
	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		s = &master.slot[i];
		if (!s->wanted)
			continue;
		snprintf(id, sizeof(id), "%d", i);
		now = atomic_load(&metrics_sb(s)->state);
		for (st = WORKER_STARTING; st < WORKER_NSTATES; st++)
			expo_sample(e, "acceptd_worker_state", st == now,
			    "worker", id, "state", scoreboard_state_name(st),
			    NULL);
	}
}

static void
metrics_tally(const struct kview_socket *k, void *arg)
{
	unsigned int *count = arg;

	if (k->side == KV_SIDE_SERVER && k->state > 0 &&
	    k->state < KV_NSTATES)
		count[k->state]++;
}

static void
metrics_kernel_view(struct expo *e)
{
	struct kview_counters	 now;
	unsigned int		 count[KV_NSTATES] = { 0 };
	unsigned short		 ports[CONF_LISTEN_MAX];
	size_t			 i;
	int			 st, nports;

	nports = master_ports(ports, CONF_LISTEN_MAX);
	if (kview_sockets_ports(ports, nports, metrics_tally, count) != -1) {
		expo_family(e, "acceptd_tcp_sockets", EXPO_GAUGE,
		    "TCP sockets whose local port is one of the daemon's "
		    "listening ports, by state (the kernel's view, as ss "
		    "shows it).");
		for (st = KV_ESTABLISHED; st < KV_NSTATES; st++)
			expo_sample(e, "acceptd_tcp_sockets", count[st],
			    "state", kview_state_name(st), NULL);
	}
	if (kview_counters(&now) == -1)
		return;
	for (i = 0; i < sizeof(metrics_kernel) / sizeof(metrics_kernel[0]);
	    i++) {
		expo_family(e, metrics_kernel[i].name, EXPO_COUNTER,
		    metrics_kernel[i].help);
		expo_sample(e, metrics_kernel[i].name,
		    *(const unsigned long long *)((const char *)&now +
		    metrics_kernel[i].offset), NULL);
	}
}

void
metrics_write(FILE *f)
{
	struct expo	e;

	expo_init(&e, f);
	metrics_queue(&e);
	metrics_workers(&e);
	metrics_kernel_view(&e);
	expo_family(&e, "acceptd_uptime_seconds", EXPO_GAUGE,
	    "Seconds since the master started.");
	expo_sample(&e, "acceptd_uptime_seconds",
	    (ev_clock_ms() - master.started_ms) / 1000, NULL);
	if (e.errors > 0)
		log_warnx("metrics: %d samples refused (a bug: names)",
		    e.errors);
}

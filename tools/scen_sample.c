/*
 * The kernel lane by sampling: every few milliseconds the sockets of the
 * scenario's port straight from the kernel view (sock_diag), no round trip
 * through the observed daemon.  A sample is written only when it differs
 * from the one before.  Also the live questions the scenarios wait on
 * (`now`) and the TCP counters snapshots.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kview.h"
#include "scenlog.h"
#include "sockaddr.h"

#define SAMPLE_MS	5	/* the issue asks for 5 ms or better */
#define SAMPLE_IDLE_MS	25	/* ... while anything changes */
#define IDLE_AFTER	40	/* samples alike: 200 ms at 5 ms */
#define SAMPLE_MAX_S	120	/* no sampler outlives a stuck run */
#define LOG_BUFFER	(4 << 20)	/* larger than any sample */

struct sock_row {
	int		 side, state;
	unsigned int	 rq, wq;
	char		 conn[2 * SOCKADDR_STRLEN + 2];
};

struct sample {
	struct sock_row	*rows;
	size_t		 n, cap;
	unsigned int	 queue, backlog;
	int		 listeners;
};

/* Counters the checks ask about; all are per network namespace. */
static const char *const counter_names[] = {
	"ListenOverflows", "ListenDrops", "TCPReqQFullDrop",
	"TCPReqQFullDoCookies", "EmbryonicRsts", "TCPAbortOnData",
	"TCPAbortOnClose", "TCPAbortOnLinger", "TCPAbortOnTimeout",
	"OutRsts", "TCPToZeroWindowAdv", "TCPFromZeroWindowAdv",
	"TCPWantZeroWindowAdv", "TCPWinProbe", "TCPACKSkippedSeq",
	"TCPSynRetrans",
	"TCPTimeouts", "SyncookiesSent", "SyncookiesRecv", "SyncookiesFailed",
	"ActiveOpens", "PassiveOpens", "AttemptFails", "EstabResets",
	"RetransSegs", "TW"
};
#define NCOUNTERS (sizeof(counter_names) / sizeof(counter_names[0]))

static volatile sig_atomic_t	stop_sampling;

static void
on_signal(int sig)
{
	(void)sig;
	stop_sampling = 1;
}

static void
addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	union sockaddr_any	a;

	memset(&a, 0, sizeof(a));
	memcpy(&a, ss, sizeof(a));
	sockaddr_format(&a, buf, len);
}

/* The connection as "CLIENT>SERVER", whichever end this socket is. */
static void
sock_collect(const struct kview_socket *ks, void *arg)
{
	struct sample	*s = arg;
	struct sock_row	*r;
	char		 local[SOCKADDR_STRLEN], peer[SOCKADDR_STRLEN];

	if (ks->state == KV_LISTEN) {
		s->queue += ks->rqueue;
		if (s->listeners++ == 0)
			s->backlog = ks->wqueue;
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		if ((s->rows = reallocarray(s->rows, s->cap,
		    sizeof(*s->rows))) == NULL)
			err(1, "reallocarray");
	}
	r = &s->rows[s->n++];
	memset(r, 0, sizeof(*r));	/* compared whole, padding included */
	r->side = ks->side;
	r->state = ks->state;
	r->rq = ks->rqueue;
	r->wq = ks->wqueue;
	addr_text(&ks->local, local, sizeof(local));
	addr_text(&ks->peer, peer, sizeof(peer));
	if (ks->side == KV_SIDE_CLIENT)
		snprintf(r->conn, sizeof(r->conn), "%s>%s", local, peer);
	else
		snprintf(r->conn, sizeof(r->conn), "%s>%s", peer, local);
}

static int
row_cmp(const void *a, const void *b)
{
	const struct sock_row	*x = a, *y = b;

	if (x->side != y->side)
		return x->side - y->side;
	return strcmp(x->conn, y->conn);
}

static int
sample_take(unsigned short port, struct sample *s)
{
	s->n = 0;
	s->queue = s->backlog = 0;
	s->listeners = 0;
	if (kview_sockets(port, sock_collect, s) == -1)
		return -1;
	if (s->n > 1)
		qsort(s->rows, s->n, sizeof(*s->rows), row_cmp);
	return 0;
}

static const char *
side_name(int side)
{
	return side == KV_SIDE_CLIENT ? "client" : "server";
}

/* The sample as event lines: a listen row, then a row per socket. */
static void
sample_write(FILE *f, long long t, const struct sample *s)
{
	char	q[16], b[16], rq[16], wq[16], st[512], *p;
	size_t	i, j, n;
	int	side, state;

	snprintf(q, sizeof(q), "%u", s->queue);
	snprintf(b, sizeof(b), "%u", s->backlog);
	/* per side and state, the counts the checks ask for */
	p = st;
	for (side = 0; side < 2; side++)
		for (state = 1; state < KV_NSTATES; state++) {
			for (n = 0, j = 0; j < s->n; j++)
				n += s->rows[j].side == side &&
				    s->rows[j].state == state;
			if (side == KV_SIDE_SERVER && state == KV_LISTEN)
				n = s->listeners;
			if (n > 0 && p < st + sizeof(st) - 64)
				p += snprintf(p, st + sizeof(st) - p,
				    "\t%s.%s=%zu", side_name(side),
				    kview_state_name(state), n);
		}
	fprintf(f, "%lld\tkernel-sample\t-\tlisten\tqueue=%s\tbacklog=%s%s\n",
	    t, q, b, st);
	for (i = 0; i < s->n; i++) {
		snprintf(rq, sizeof(rq), "%u", s->rows[i].rq);
		snprintf(wq, sizeof(wq), "%u", s->rows[i].wq);
		scen_event_write(f, t, "kernel-sample", s->rows[i].conn,
		    "socket", "side", side_name(s->rows[i].side), "state",
		    kview_state_name(s->rows[i].state), "recv_q", rq,
		    "send_q", wq, NULL);
	}
}

static int
sample_same(const struct sample *a, const struct sample *b)
{
	return a->n == b->n && a->queue == b->queue &&
	    a->backlog == b->backlog && a->listeners == b->listeners &&
	    (a->n == 0 || memcmp(a->rows, b->rows, a->n *
	    sizeof(*a->rows)) == 0);
}

/*
 * The event log, appended to by several recorders at once: a sample must
 * reach it in one write(2), or another's lines could land inside it.  The
 * buffer is ours: given none, glibc ignores the size asked for and
 * flushes every 4 KiB, and a sample of a few dozen sockets was cut in two
 * by another's (seen in reuseport-stuck-worker).  One log is open at a
 * time in a process.
 */
static FILE *
log_open(const char *path)
{
	static char	*buf;
	FILE		*f;

	if (buf == NULL && (buf = malloc(LOG_BUFFER)) == NULL)
		return NULL;
	if ((f = fopen(path, "a")) == NULL)
		return NULL;
	if (setvbuf(f, buf, _IOFBF, LOG_BUFFER) != 0) {
		fclose(f);
		return NULL;
	}
	return f;
}

static unsigned short
port_arg(const char *s)
{
	char	*end;
	long	 p = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || p < 1 || p > 65535)
		errx(2, "port \"%s\": want 1 to 65535", s);
	return p;
}

static void
sleep_ns(long long ns)
{
	struct timespec	ts = { ns / 1000000000LL, ns % 1000000000LL };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR &&
	    !stop_sampling)
		;
}

/*
 * sample -p PORT -o FILE [-i MS] [-s STOPFILE]: append samples to FILE
 * until SIGTERM, SIGINT, STOPFILE appears or SAMPLE_MAX_S pass.
 */
int
scen_sample_main(int argc, char **argv)
{
	struct sample	 cur = { 0 }, prev = { 0 }, tmp;
	struct stat	 sb, logst;
	off_t		 ours = -1;
	const char	*out = NULL, *stopfile = NULL;
	unsigned short	 port = 0;
	long		 interval = SAMPLE_MS;
	long long	 end, t, t1, first = 1, dumps = 0, dump_ns = 0;
	long long	 t_start, pause, idle = 0;
	FILE		*f;
	int		 ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "i:o:p:s:")) != -1) {
		switch (ch) {
		case 'i':
			interval = strtol(optarg, NULL, 10);
			break;
		case 'o':
			out = optarg;
			break;
		case 'p':
			port = port_arg(optarg);
			break;
		case 's':
			stopfile = optarg;
			break;
		default:
			return 2;
		}
	}
	if (port == 0 || out == NULL || interval < 1)
		errx(2, "usage: sample -p PORT -o FILE [-i MS] [-s STOPFILE]");
	if ((f = log_open(out)) == NULL)
		err(1, "%s", out);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	t_start = scen_monotonic_ns();
	end = t_start + SAMPLE_MAX_S * 1000000000LL;
	while (!stop_sampling && scen_monotonic_ns() < end) {
		if (stopfile != NULL && stat(stopfile, &sb) == 0)
			break;
		t1 = scen_monotonic_ns();
		if (sample_take(port, &cur) == -1)
			warn("sample: sockets of port %u", port);
		/* stamped after the answer: never before its cause */
		t = scen_monotonic_ns();
		dumps++;
		dump_ns += t - t1;
		/*
		 * A sample is written when it differs from the last one in the
		 * log, which is ours unless another wrote since (a live view,
		 * scenlog now -o): then ours is written whatever it says, or
		 * a state the other saw and that is gone already would last.
		 */
		if (first || !sample_same(&cur, &prev) ||
		    (fstat(fileno(f), &logst) == 0 && logst.st_size != ours)) {
			sample_write(f, t, &cur);
			fflush(f);
			if (fstat(fileno(f), &logst) == 0)
				ours = logst.st_size;
			tmp = prev;
			prev = cur;
			cur = tmp;
			first = 0;
			idle = 0;
		} else
			idle++;
		/*
		 * A dump walks every TCP socket of the host, whatever the
		 * namespace: with 100k TIME_WAIT sockets next door it takes
		 * 15 ms.  Then sample less often, dumping a third of the time
		 * at most, rather than take a core from the run observed;
		 * else one sample every interval, the dump included.
		 */
		pause = interval * 1000000LL - (t - t1);
		if (pause < 2 * (t - t1))
			pause = 2 * (t - t1);
		/*
		 * A port where nothing changed for IDLE_AFTER samples is
		 * sampled every SAMPLE_IDLE_MS, back to the interval at the
		 * first change: a scenario that measures something else
		 * meanwhile (thundering-herd's extra daemons) keeps its CPU.
		 */
		if (idle >= IDLE_AFTER && pause < SAMPLE_IDLE_MS * 1000000LL)
			pause = SAMPLE_IDLE_MS * 1000000LL;
		sleep_ns(pause);
	}
	if (dumps > 0)
		fprintf(stderr, "%lld samples, one every %.1f ms, each dump "
		    "%.2f ms\n", dumps, (scen_monotonic_ns() - t_start) / 1e6 /
		    dumps, dump_ns / 1e6 / dumps);
	fclose(f);
	free(cur.rows);
	free(prev.rows);
	return 0;
}

/* One namespace counter from /proc/net/netstat or snmp; -1 if absent. */
static long long
proc_counter(const char *name)
{
	static const char *const files[] = {
		"/proc/net/netstat", "/proc/net/snmp"
	};
	char		*names = NULL, *values = NULL, *np, *vp, *n, *v;
	size_t		 nc = 0, vc = 0, i;
	long long	 found = -1;
	FILE		*f;

	for (i = 0; i < 2 && found == -1; i++) {
		if ((f = fopen(files[i], "r")) == NULL)
			continue;
		while (found == -1 && getline(&names, &nc, f) != -1 &&
		    getline(&values, &vc, f) != -1) {
			np = names;
			vp = values;
			while ((n = strsep(&np, " \n")) != NULL &&
			    (v = strsep(&vp, " \n")) != NULL)
				if (strcmp(n, name) == 0) {
					found = strtoll(v, NULL, 10);
					break;
				}
		}
		fclose(f);
	}
	free(names);
	free(values);
	return found;
}

/* counters -n NAME: a snapshot of the namespace's counters as one event. */
int
scen_counters_main(int argc, char **argv)
{
	const char	*name = NULL;
	size_t		 i;
	long long	 v;
	int		 ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "n:")) != -1) {
		if (ch != 'n')
			return 2;
		name = optarg;
	}
	if (name == NULL)
		errx(2, "usage: counters -n NAME");
	printf("%lld\tkernel-sample\t-\tcounters\tname=%s",
	    scen_monotonic_ns(), name);
	for (i = 0; i < NCOUNTERS; i++)
		if ((v = proc_counter(counter_names[i])) != -1)
			printf("\t%s=%lld", counter_names[i], v);
	putchar('\n');
	return 0;
}

/* The value of counter in the snapshot named "start" of dir's log. */
static long long
start_value(const char *dir, const char *counter)
{
	struct scen_log	 log = { 0 };
	char		 path[4096];
	const char	*n, *v;
	long long	 r = 0;
	size_t		 i;

	snprintf(path, sizeof(path), "%s/events.tsv", dir);
	if (scen_log_read(&log, path) == -1)
		return 0;
	for (i = 0; i < log.n; i++)
		if (strcmp(log.ev[i].event, "counters") == 0 &&
		    (n = scen_event_get(&log.ev[i], "name")) != NULL &&
		    strcmp(n, "start") == 0 &&
		    (v = scen_event_get(&log.ev[i], counter)) != NULL) {
			r = strtoll(v, NULL, 10);
			break;
		}
	scen_log_free(&log);
	return r;
}

static int
state_arg(const char *s)
{
	int	st;

	for (st = 1; st < KV_NSTATES; st++)
		if (strcmp(kview_state_name(st), s) == 0)
			return st;
	errx(2, "state \"%s\": ESTABLISHED, CLOSE_WAIT, ...", s);
}

/*
 * now [-o FILE] -p PORT queue | count SIDE STATE | max SIDE STATE FIELD |
 *     state SIDE CONN (the TCP state of one connection's end, or none)
 * now [-d DIR] counter NAME (its rise since the "start" snapshot)
 * One number; -1 when the kernel could not be asked.  With -o the sample
 * is appended to the log too: what a scenario waited for is on record
 * before its next mark, even when the sampler was not scheduled.
 */
int
scen_now_main(int argc, char **argv)
{
	struct sample	 s = { 0 };
	const char	*dir = NULL, *out = NULL;
	FILE		*f;
	unsigned short	 port = 0;
	long long	 v = -1;
	size_t		 i;
	int		 ch, side, state;

	optind = 1;
	while ((ch = getopt(argc, argv, "+d:o:p:")) != -1) {
		if (ch == 'd')
			dir = optarg;
		else if (ch == 'o')
			out = optarg;
		else if (ch == 'p')
			port = port_arg(optarg);
		else
			return 2;
	}
	argc -= optind;
	argv += optind;
	if (argc == 2 && strcmp(argv[0], "counter") == 0) {
		if ((v = proc_counter(argv[1])) != -1 && dir != NULL)
			v -= start_value(dir, argv[1]);
		printf("%lld\n", v);
		return 0;
	}
	if (port == 0 || argc < 1)
		errx(2, "usage: now -p PORT queue | count SIDE STATE | "
		    "max SIDE STATE recv_q|send_q | state SIDE CONN; "
		    "now [-d DIR] counter NAME");
	if (sample_take(port, &s) == 0) {
		if (out != NULL && (f = log_open(out)) != NULL) {
			sample_write(f, scen_monotonic_ns(), &s);
			fclose(f);
		}
		if (strcmp(argv[0], "queue") == 0 && argc == 1)
			v = s.queue;
		else if (strcmp(argv[0], "state") == 0 && argc == 3) {
			/* the state of one connection's SIDE, or none */
			side = strcmp(argv[1], "client") == 0;
			for (i = 0; i < s.n; i++)
				if (s.rows[i].side == side &&
				    strcmp(s.rows[i].conn, argv[2]) == 0)
					break;
			printf("%s\n", i < s.n ?
			    kview_state_name(s.rows[i].state) : "none");
			free(s.rows);
			return 0;
		} else if ((strcmp(argv[0], "count") == 0 && argc == 3) ||
		    (strcmp(argv[0], "max") == 0 && argc == 4)) {
			side = strcmp(argv[1], "client") == 0;
			state = state_arg(argv[2]);
			v = argc == 3 ? 0 : -1;
			for (i = 0; i < s.n; i++) {
				if (s.rows[i].side != side ||
				    s.rows[i].state != state)
					continue;
				if (argc == 3)
					v++;
				else if (strcmp(argv[3], "send_q") == 0)
					v = v > s.rows[i].wq ? v :
					    (long long)s.rows[i].wq;
				else
					v = v > s.rows[i].rq ? v :
					    (long long)s.rows[i].rq;
			}
		} else
			errx(2, "now: queue, count SIDE STATE, max SIDE STATE "
			    "FIELD, state SIDE CONN or counter NAME");
	}
	free(s.rows);
	printf("%lld\n", v);
	return 0;
}

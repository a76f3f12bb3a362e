/*
 * The trace stream: the workers' events, the control actions that took
 * effect and the kernel's own events (common/kview.h), to every client of
 * `trace`, in time order.
 *
 * A line is "TIME WHO CONN PEER EVENT DETAIL": TIME wall-clock seconds with
 * microseconds; WHO a worker's number, "-" for a control action, "kernel"
 * for a kernel event, whose PEER is the socket's own address, then ">"
 * (a packet went out, or a state changed) or "<" (a packet came in), then
 * its peer's, and whose DETAIL is key=value words.
 *
 * Kernel events reach the master later than a worker's line of the same
 * instant may, so while the kernel is traced every line waits TRACE_HOLD_MS
 * and goes out sorted by time; otherwise at once.  Tracing costs nothing
 * while nobody listens: the kernel's instance exists only while someone
 * does.
 */
#include <sys/param.h>
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "json.h"
#include "kview.h"
#include "log.h"
#include "master.h"
#include "sockaddr.h"

#define TRACE_HOLD_MS	50		/* at least; more while lines come late */
#define TRACE_HOLD_MAX_MS 1000
#define TRACE_WATCH_MS	250		/* how often workers' losses are said */
#define TRACE_HELD_MAX	(1 << 17)	/* lines; then lost, and said */

struct held {
	uint64_t	 us;		/* wall clock */
	uint64_t	 seq;		/* arrival: keeps equal times in order */
	char		*line;
};

static struct ev_loop	*trace_loop;
static int		 ntracers;
static struct kevents	*kev;
static char		 kev_why[256];
static struct held	*held;
static size_t		 nheld, held_cap;
static uint64_t		 held_seq, held_lost;
static uint64_t		 hold_us = TRACE_HOLD_MS * 1000;
static struct ev_timer	 hold_timer;
static struct ev_timer	 watch_timer;
static unsigned long long drop_seen[SB_WORKERS];

static void	trace_kernel_start(void);
static void	trace_kernel_stop(void);
static void	trace_kernel_read(struct ev_loop *, int, int, void *);
static void	trace_kernel_drain(void);
static void	trace_kernel_event(const struct kevent *, void *);
static void	trace_line(const char *);
static void	trace_release(struct ev_loop *, struct ev_timer *, void *);
static uint64_t	trace_now_us(void);
static int	trace_linef(char *, size_t, uint64_t, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static void	trace_watch(struct ev_loop *, struct ev_timer *, void *);

void
ctl_trace_init(struct ev_loop *loop)
{
	trace_loop = loop;
	ev_timer_init(&hold_timer, trace_release, NULL);
	ev_timer_init(&watch_timer, trace_watch, NULL);
	proc_set_trace(trace_line);
}

/* From now on the client gets every trace line; tracing costs only then. */
void
ctl_trace_start(struct ctl_client *c)
{
	char	line[512];

	c->trace = 1;
	if (ntracers++ == 0) {
		atomic_store(&master.sb->trace, 1);
		trace_kernel_start();
		trace_watch(trace_loop, &watch_timer, &ntracers); /* baseline */
	}
	/* Said to each client, first: why some kernel lines are missing. */
	if (kev != NULL && kevents_missing(kev)[0] == '\0')
		return;
	trace_linef(line, sizeof(line), trace_now_us(), "kernel - - %s %s",
	    kev != NULL ? "partial" : "unavailable",
	    kev != NULL ? kevents_missing(kev) : kev_why);
	ctl_trace_send(c, line);
}

void
ctl_trace_stop(struct ctl_client *c)
{
	if (!c->trace)
		return;
	c->trace = 0;
	if (--ntracers > 0)
		return;
	atomic_store(&master.sb->trace, 0);
	trace_kernel_stop();
	while (nheld > 0)		/* nobody to send them to */
		free(held[--nheld].line);
	held_lost = 0;
	ev_timer_stop(trace_loop, &hold_timer);
	ev_timer_stop(trace_loop, &watch_timer);
}

/*
 * A control action that took effect is a trace event of its own, worker,
 * connection and peer "-", event "control", the command as detail.
 */
void
ctl_trace_action(const char *action)
{
	char	line[CTL_LINE_MAX + 64];

	/* The listen lines, and so the traced ports, last until restart. */
	if (ntracers == 0)
		return;
	trace_linef(line, sizeof(line), trace_now_us(), "- - - control %s",
	    action);
	trace_line(line);
}

/* One trace line as a JSON object; -1 if it is not one. */
int
ctl_trace_json(FILE *f, const char *line)
{
	char	 t[32], who[16], conn[16], peer[128], event[32];
	char	 rest[CHAN_PAYLOAD_MAX], *w, *v, *next, *arrow;

	rest[0] = '\0';
	if (sscanf(line, "%31s %15s %15s %127s %31s %999[^\n]", t, who,
	    conn, peer, event, rest) < 5 || t[strspn(t, "0123456789.")] != '\0')
		return -1;
	if (strcmp(who, "kernel") == 0) {
		fprintf(f, "{\"time\":%s,\"source\":\"kernel\",\"event\":", t);
		json_string(f, event);
		if ((arrow = strpbrk(peer, "<>")) != NULL) {
			*arrow = '\0';
			fprintf(f, ",\"local\":");
			json_string(f, peer);
			fprintf(f, ",\"peer\":");
			json_string(f, arrow + 1);
		}
		if (strcmp(event, "unavailable") == 0 ||
		    strcmp(event, "partial") == 0 ||
		    strcmp(event, "lost") == 0) {
			fprintf(f, ",\"detail\":");
			json_string(f, rest);
		} else
			for (w = rest; w != NULL && *w != '\0'; w = next) {
				if ((next = strchr(w, ' ')) != NULL)
					*next++ = '\0';
				if ((v = strchr(w, '=')) == NULL)
					continue;
				*v++ = '\0';
				fprintf(f, ",");
				json_string(f, w);
				fprintf(f, ":");
				json_string(f, v);
			}
		fprintf(f, "}\n");
		return 0;
	}
	if (strcmp(who, "-") == 0)
		fprintf(f, "{\"time\":%s,\"source\":\"control\"", t);
	else if (who[strspn(who, "0123456789")] == '\0' &&
	    conn[strspn(conn, "0123456789")] == '\0')
		fprintf(f, "{\"time\":%s,\"source\":\"worker %s\",\"worker\":%s,"
		    "\"conn\":%s,\"peer\":", t, who, who, conn);
	else
		return -1;
	if (strcmp(who, "-") != 0)
		json_string(f, peer);
	fprintf(f, ",\"event\":");
	json_string(f, event);
	fprintf(f, ",\"detail\":");
	json_string(f, rest);
	fprintf(f, "}\n");
	return 0;
}

/*
 * A worker whose channel to the master is full drops its trace lines and
 * counts them (scoreboard): the stream says so, every TRACE_WATCH_MS.
 * With arg set, only take the counts as they are.
 */
static void
trace_watch(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	unsigned long long	 v, lost = 0;
	char			 line[160];
	int			 i;

	for (i = 0; i < SB_WORKERS; i++) {
		v = sb_get(&master.sb->worker[i].trace_dropped);
		lost += v >= drop_seen[i] ? v - drop_seen[i] : v;
		drop_seen[i] = v;
	}
	if (lost > 0 && arg == NULL) {
		trace_linef(line, sizeof(line), trace_now_us(), "- - - lost %llu "
		    "worker trace lines: a worker's channel to the master was "
		    "full", lost);
		trace_line(line);
	}
	ev_timer_start(loop, t, TRACE_WATCH_MS);
}

/* A trace line stamped us: "SEC.USEC " and the rest; its length. */
static int
trace_linef(char *buf, size_t len, uint64_t us, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	n = snprintf(buf, len, "%llu.%06llu ", (unsigned long long)(us /
	    1000000), (unsigned long long)(us % 1000000));
	if (n < 0 || (size_t)n >= len)
		return n;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
	return n;
}

static uint64_t
trace_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
trace_kernel_start(void)
{
	unsigned short	 ports[KVIEW_PORTS_MAX];
	const int	*fds;
	int		 i, n;

	n = master_ports(ports, KVIEW_PORTS_MAX);
	if ((kev = kevents_open(ports, n, kev_why, sizeof(kev_why))) ==
	    NULL) {
		log_info("trace: kernel events unavailable: %s", kev_why);
		return;
	}
	fds = kevents_fds(kev, &n);
	for (i = 0; i < n; i++)
		if (ev_set(trace_loop, fds[i], EV_READ, trace_kernel_read,
		    NULL) == -1) {
			snprintf(kev_why, sizeof(kev_why), "poll the kernel's "
			    "buffer: %s", strerror(errno));
			log_warnx("trace: kernel events unavailable: %s",
			    kev_why);
			trace_kernel_stop();
			return;
		}
}

static void
trace_kernel_stop(void)
{
	const int	*fds;
	int		 i, n;

	if (kev == NULL)
		return;
	fds = kevents_fds(kev, &n);
	for (i = 0; i < n; i++)
		ev_set(trace_loop, fds[i], 0, NULL, NULL);
	kevents_close(kev);
	kev = NULL;
	/* What is held goes out soon, in order; never from inside a send. */
	if (nheld > 0) {
		ev_timer_stop(trace_loop, &hold_timer);
		ev_timer_start(trace_loop, &hold_timer, 0);
	}
}

static void
trace_kernel_read(struct ev_loop *loop, int fd, int events, void *arg)
{
	(void)loop;
	(void)fd;
	(void)events;
	(void)arg;
	trace_kernel_drain();
}

/* Every CPU's records so far, onto the queue. */
static void
trace_kernel_drain(void)
{
	struct timespec	mono, real;
	int64_t		offset;

	if (kev == NULL)
		return;
	/* From the kernel's CLOCK_MONOTONIC to the workers' wall clock. */
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	offset = ((int64_t)real.tv_sec - mono.tv_sec) * 1000000 +
	    (real.tv_nsec - mono.tv_nsec) / 1000;
	if (kevents_read(kev, trace_kernel_event, &offset) == -1)
		log_warn("trace: read the kernel's buffer");
}

static void
trace_kernel_event(const struct kevent *e, void *arg)
{
	const int64_t	*offset = arg;
	char		 line[512], local[SOCKADDR_STRLEN], peer[SOCKADDR_STRLEN];
	uint64_t	 us = (uint64_t)((int64_t)(e->mono_ns / 1000) + *offset);
	int		 n, in;

	n = trace_linef(line, sizeof(line), us, "kernel - ");
	if (e->kind == KE_LOST) {
		if (e->count > 0)
			snprintf(line + n, sizeof(line) - n, "- lost %lu events: "
			    "the kernel's buffer was full", e->count);
		else
			snprintf(line + n, sizeof(line) - n, "- lost events: "
			    "the kernel's buffer was full");
		trace_line(line);
		return;
	}
	if (sockaddr_format((const union sockaddr_any *)&e->local, local,
	    sizeof(local)) == -1)
		strlcpy(local, "?", sizeof(local));
	if (sockaddr_format((const union sockaddr_any *)&e->peer, peer,
	    sizeof(peer)) == -1)
		strlcpy(peer, "?", sizeof(peer));
	in = e->kind == KE_RST_RECEIVED || e->kind == KE_DROP;
	n += snprintf(line + n, sizeof(line) - n, "%s%c%s %s", local,
	    in ? '<' : '>', peer, kevent_name(e->kind));
	if (e->kind == KE_STATE)
		n += snprintf(line + n, sizeof(line) - n, " from=%s to=%s",
		    kview_state_name(e->from), kview_state_name(e->to));
	if (e->reason != NULL)
		n += snprintf(line + n, sizeof(line) - n, " reason=%s",
		    e->reason);
	if (e->kind == KE_RST_SENT && e->to != 0)
		snprintf(line + n, sizeof(line) - n, " state=%s",
		    kview_state_name(e->to));
	trace_line(line);
}

/*
 * Every line: out at once, or held to be sorted among the kernel's.  A
 * held line is never sent from here: this runs inside the kernel's
 * reader, and a send may close a client and with it the reader.
 */
static void
trace_line(const char *line)
{
	struct held	*h;
	uint64_t	 now;
	size_t		 cap;

	if (ntracers == 0)
		return;
	if (kev == NULL) {
		ctl_trace_send(NULL, line);
		return;
	}
	if (nheld == held_cap && nheld < TRACE_HELD_MAX) {
		cap = held_cap ? held_cap * 2 : 256;
		if ((h = reallocarray(held, cap, sizeof(*h))) != NULL) {
			held = h;
			held_cap = cap;
		}
	}
	if (nheld == held_cap || (held[nheld].line = strdup(line)) == NULL) {
		if (held_lost++ == 0)
			log_warnx("trace: the hold queue is full; lines lost");
		return;
	}
	h = &held[nheld++];
	h->us = strtoull(line, NULL, 10) * 1000000 +
	    (strchr(line, '.') != NULL ? strtoull(strchr(line, '.') + 1,
	    NULL, 10) : 0);
	h->seq = held_seq++;
	/* A line this late (a busy master, a full channel): hold longer. */
	now = trace_now_us();
	if (now > h->us && now - h->us + 10000 > hold_us)
		hold_us = MIN(now - h->us + 10000, TRACE_HOLD_MAX_MS * 1000);
	if (!ev_timer_armed(&hold_timer))
		ev_timer_start(trace_loop, &hold_timer, TRACE_HOLD_MS);
}

static int
held_cmp(const void *a, const void *b)
{
	const struct held	*x = a, *y = b;

	if (x->us != y->us)
		return x->us < y->us ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Out, in time order, what is older than the hold (with no kernel: all).
 * The lines leave the queue before any is sent: a send may close a client
 * and so stop the kernel's tracing, which must find the queue whole.
 */
static void
trace_release(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	uint64_t	 limit = trace_now_us() - hold_us;
	struct held	*out;
	char		 line[128];
	size_t		 i, n;

	(void)arg;
	trace_kernel_drain();		/* what the kernel has up to now */
	hold_us -= (hold_us - TRACE_HOLD_MS * 1000) / 8;	/* back to 50 ms */
	if (kev == NULL)
		limit = UINT64_MAX;
	if (nheld > 1)
		qsort(held, nheld, sizeof(*held), held_cmp);
	for (n = 0; n < nheld && held[n].us <= limit; n++)
		;
	out = NULL;
	if (n > 0 && (out = reallocarray(NULL, n, sizeof(*out))) == NULL)
		n = 0;			/* next time */
	if (n > 0) {
		memcpy(out, held, n * sizeof(*out));
		memmove(held, held + n, (nheld - n) * sizeof(*held));
		nheld -= n;
	}
	if (nheld > 0 && !ev_timer_armed(t))
		ev_timer_start(loop, t, TRACE_HOLD_MS / 2);
	if (held_lost > 0) {
		trace_linef(line, sizeof(line), trace_now_us(), "kernel - - lost "
		    "%llu trace lines: the daemon could not hold them",
		    (unsigned long long)held_lost);
		held_lost = 0;
		ctl_trace_send(NULL, line);
	}
	for (i = 0; i < n; i++) {
		if (ntracers > 0)
			ctl_trace_send(NULL, out[i].line);
		free(out[i].line);
	}
	free(out);
}

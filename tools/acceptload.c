/*
 * acceptload: a load generator on acceptd's own event layer.  It opens, holds
 * and churns TCP connections and reports connect outcomes and latencies.
 * Here: main, the set-up, and the run loop with its pacer, which says when
 * the next connection or request may start.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acceptload.h"
#include "sockaddr.h"

#define LOAD_HTTP_REQUEST	"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
#define LOAD_HOLDOFF_MS		10	/* pause after EMFILE and friends */
#define LOAD_TICK_MS		1000	/* longest wait in one loop turn */

static void	 load_setup(struct load *);
static void	 load_resolve(struct load *);
static void	 load_raise_nofile(struct load *);
static void	 load_signals(void);
static void	 load_signal(int);
static void	 load_pacer_fired(struct ev_loop *, struct ev_timer *, void *);
static void	 load_end(struct ev_loop *, struct ev_timer *, void *);
static void	 load_run(struct load *);
static void	 load_fill(struct load *);
static int	 load_may_open(struct load *, uint64_t);
static int	 load_pacer_allows(struct load *, uint64_t);
static int	 load_done(struct load *);
static void	 load_hold_note(struct load *);
static void	 load_free(struct load *);

static volatile sig_atomic_t	 load_signalled;

int
main(int argc, char *argv[])
{
	static struct load	 l;

	setprogname("acceptload");	/* one prefix, however it was run */
	opts_parse(&l.o, argc, argv);
	load_setup(&l);
	load_run(&l);
	if (l.o.json)
		report_json(&l, stdout);
	else if (!l.o.quiet)
		report_text(&l, stdout);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	load_free(&l);
	/* A run in which nothing connected measured nothing: a script must see it. */
	if (l.connect_ok == 0 && l.started > 0) {
		warnx("no connection to %s succeeded", l.target);
		return 1;
	}
	return 0;
}

/* Microseconds on the monotonic clock: latencies need more than ev's ms. */
uint64_t
load_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
load_setup(struct load *l)
{
	size_t	 i;

	/* Hold needs a slot per connection; the other modes reuse -c slots. */
	l->nclients = l->o.mode == LOAD_MODE_HOLD ? l->o.count :
	    l->o.concurrency;
	load_resolve(l);
	load_raise_nofile(l);
	load_signals();
	if (l->o.proto == LOAD_PROTO_HTTP) {
		l->request = LOAD_HTTP_REQUEST;
		l->request_len = strlen(LOAD_HTTP_REQUEST);
	} else {
		l->request = l->o.payload;
		l->request_len = l->o.payload_len;
	}
	l->clients = calloc(l->nclients, sizeof(*l->clients));
	l->free_slots = calloc(l->nclients, sizeof(*l->free_slots));
	if (l->clients == NULL || l->free_slots == NULL)
		err(1, "%zu connection slots", l->nclients);
	for (i = 0; i < l->nclients; i++) {
		client_init(&l->clients[i], l);
		l->free_slots[l->nfree++] = l->nclients - 1 - i;
	}
	TAILQ_INIT(&l->idle);
	loadstats_init(&l->connect_lat);
	loadstats_init(&l->request_lat);
	if ((l->loop = ev_loop_new((int)(l->nclients < 1024 ?
	    l->nclients + 8 : 1024))) == NULL)
		err(1, "event loop (%s)", ev_backend_name());
	ev_timer_init(&l->pacer, load_pacer_fired, l);
	ev_timer_init(&l->end_timer, load_end, l);
}

static void
load_resolve(struct load *l)
{
	struct addrinfo	 hints, *res;
	char		 host[NI_MAXHOST];
	size_t		 len;
	int		 e;

	/* Accept "[::1]" as well as "::1". */
	strlcpy(host, l->o.host, sizeof(host));
	len = strlen(host);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		memmove(host, host + 1, len - 2);
		host[len - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((e = getaddrinfo(host, l->o.port, &hints, &res)) != 0)
		errx(1, "cannot resolve %s port %s: %s", l->o.host, l->o.port,
		    gai_strerror(e));
	memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
	l->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	sockaddr_format((const union sockaddr_any *)&l->addr, l->target,
	    sizeof(l->target));
}

/* Many connections need many fds: take all the hard limit allows. */
static void
load_raise_nofile(struct load *l)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		warn("getrlimit RLIMIT_NOFILE");
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			warn("setrlimit RLIMIT_NOFILE to %llu",
			    (unsigned long long)rl.rlim_max);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (!l->o.quiet && rl.rlim_cur != RLIM_INFINITY &&
	    l->nclients + 16 > (uint64_t)rl.rlim_cur)
		warnx("%llu connections but only %llu file descriptors: "
		    "expect EMFILE errors (raise the hard limit, ulimit -Hn)",
		    (unsigned long long)l->nclients,
		    (unsigned long long)rl.rlim_cur);
}

static void
load_signals(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		err(1, "sigaction SIGPIPE");
	sa.sa_handler = load_signal;
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		err(1, "sigaction SIGINT, SIGTERM");
}

static void
load_signal(int sig)
{
	(void)sig;
	load_signalled = 1;
}

static void
load_pacer_fired(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	/* The pacer only wakes the loop; load_fill does the work. */
	(void)loop;
	(void)t;
	(void)arg;
}

static void
load_end(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct load	*l = arg;

	(void)loop;
	(void)t;
	l->stopping = 1;
}

static void
load_run(struct load *l)
{
	size_t	 i;

	l->t0_us = load_now_us();
	if (l->o.duration_ms > 0)
		ev_timer_start(l->loop, &l->end_timer, l->o.duration_ms);
	load_fill(l);
	while (!load_done(l)) {
		if (ev_run_once(l->loop, LOAD_TICK_MS) == -1 && errno != EINTR)
			err(1, "event loop");
		if (load_signalled)
			l->stopping = 1;
		load_fill(l);
		load_hold_note(l);
	}
	l->t_end_us = load_now_us();
	for (i = 0; i < l->nclients; i++)
		client_close(&l->clients[i]);
	ev_timer_stop(l->loop, &l->pacer);
	ev_timer_stop(l->loop, &l->end_timer);
}

/*
 * Start what the limits allow.  Called between loop turns, never from a
 * callback, so a new connection never reuses the fd of one closed earlier
 * in the same batch of events.
 */
static void
load_fill(struct load *l)
{
	struct client	*c;
	uint64_t	 now = load_now_us();

	while (load_may_open(l, now))
		client_open(l);
	while ((c = TAILQ_FIRST(&l->idle)) != NULL && load_may_start(l, now)) {
		l->started++;
		client_request_start(c);
	}
	/* Nothing more to send: idle keep-alive connections are done. */
	if (l->stopping || l->started >= l->o.count)
		while ((c = TAILQ_FIRST(&l->idle)) != NULL)
			client_close(c);
}

static int
load_may_open(struct load *l, uint64_t now)
{
	uint64_t	 open;

	if (l->nfree == 0)
		return 0;
	open = l->nclients - l->nfree;
	if (l->o.mode == LOAD_MODE_HOLD ? l->connecting >= l->o.concurrency :
	    open >= l->o.concurrency)
		return 0;
	return load_may_start(l, now);
}

/* May a connection or a request start now? */
int
load_may_start(struct load *l, uint64_t now)
{
	if (l->stopping || l->started >= l->o.count)
		return 0;
	return load_pacer_allows(l, now);
}

/*
 * The pacer: by time t since the start, rate * t starts are allowed (plus
 * one, so the first goes at once).  When none is due, a timer wakes the
 * loop when the next one is.
 */
static int
load_pacer_allows(struct load *l, uint64_t now)
{
	uint64_t	 next_us, wait_ms;

	if (now < l->holdoff_until_us) {
		wait_ms = (l->holdoff_until_us - now + 999) / 1000;
		goto wait;
	}
	if (l->o.rate == 0)
		return 1;
	if (l->started < (now - l->t0_us) * l->o.rate / 1000000 + 1)
		return 1;
	next_us = l->t0_us + l->started * 1000000 / l->o.rate;
	wait_ms = next_us > now ? (next_us - now + 999) / 1000 : 1;
wait:
	if (!ev_timer_armed(&l->pacer))
		ev_timer_start(l->loop, &l->pacer, wait_ms);
	return 0;
}

/* Out of fds or ports: retrying at once would only spin, so pause starts. */
void
load_holdoff(struct load *l, int e)
{
	if (e == EMFILE || e == ENFILE || e == EADDRNOTAVAIL ||
	    e == ENOBUFS || e == ENOMEM)
		l->holdoff_until_us = load_now_us() + LOAD_HOLDOFF_MS * 1000;
}

static int
load_done(struct load *l)
{
	if (l->stopping)
		return 1;
	if (l->started < l->o.count)
		return 0;
	if (l->o.mode == LOAD_MODE_HOLD)
		return l->connecting == 0 && l->held == 0;
	return l->nfree == l->nclients;
}

/* Once every hold connection is up, say so: the run may last for ever. */
static void
load_hold_note(struct load *l)
{
	if (l->o.mode != LOAD_MODE_HOLD || l->hold_noted || l->o.quiet ||
	    l->connecting > 0 || l->started < l->o.count || l->held == 0)
		return;
	l->hold_noted = 1;
	fprintf(stderr, "acceptload: holding %llu connection%s to %s%s\n",
	    (unsigned long long)l->held, l->held == 1 ? "" : "s", l->target,
	    l->o.duration_ms == 0 ? "; interrupt to stop" : "");
}

static void
load_free(struct load *l)
{
	size_t	 i;

	for (i = 0; i < l->nclients; i++)
		client_free(&l->clients[i]);
	free(l->clients);
	free(l->free_slots);
	free(l->o.payload);
	ev_loop_free(l->loop);
}

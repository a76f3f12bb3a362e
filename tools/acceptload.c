/*
 * acceptload: a load generator on acceptd's own event layer.  It opens, holds
 * and churns TCP connections and reports connect outcomes and latencies.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "json.h"
#include "loadstats.h"

#define LOAD_DEFAULT_PAYLOAD	"hello acceptd\n"
#define LOAD_HTTP_REQUEST	"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
#define LOAD_HDR_MAX		4096	/* bytes of one HTTP response header */
#define LOAD_ERRNO_SLOTS	16
#define LOAD_HOLDOFF_MS		10	/* pause after EMFILE and friends */
#define LOAD_TICK_MS		1000	/* longest wait in one loop turn */
#define LOAD_MAX_CONNS		10000000

enum load_mode {
	MODE_HOLD,
	MODE_CONNECT_CLOSE,
	MODE_SEND_CLOSE,
	MODE_REQUEST,
	MODE_CHURN
};

enum load_proto {
	PROTO_NONE,
	PROTO_HTTP,
	PROTO_ECHO
};

enum conn_state {
	CONN_FREE,
	CONN_CONNECTING,
	CONN_SENDING,
	CONN_READING,
	CONN_IDLE,		/* keep-alive, waiting for the pacer */
	CONN_HELD
};

struct errno_count {
	int		 err[LOAD_ERRNO_SLOTS];
	uint64_t	 n[LOAD_ERRNO_SLOTS];
	size_t		 used;
};

struct conn {
	struct load		*load;
	int			 fd;
	enum conn_state		 state;
	uint64_t		 start_us;	/* of the connect or request */
	struct ev_timer		 timer;
	size_t			 sent;
	size_t			 got;		/* echo bytes or header bytes */
	uint64_t		 body_left;
	int			 in_body;
	int			 close_after;	/* "Connection: close" seen */
	char			*hdr;
	TAILQ_ENTRY(conn)	 idle_entry;
};

struct load_opts {
	const char		*host;
	const char		*port;
	enum load_mode		 mode;
	enum load_proto		 proto;
	uint64_t		 concurrency;
	uint64_t		 count;		/* UINT64_MAX: until duration */
	uint64_t		 rate;
	uint64_t		 duration_ms;	/* 0: none */
	uint64_t		 connect_timeout_ms;
	uint64_t		 request_timeout_ms;
	char			*payload;
	size_t			 payload_len;
	int			 json;
	int			 quiet;
};

struct load {
	struct load_opts	 o;
	struct ev_loop		*loop;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	char			 target[NI_MAXHOST + 16];

	const char		*request;
	size_t			 request_len;

	struct conn		*conns;
	size_t			 nconns;
	size_t			*free_slots;
	size_t			 nfree;
	TAILQ_HEAD(, conn)	 idle;

	uint64_t		 started;	/* connections or requests */
	uint64_t		 connecting;
	uint64_t		 held;
	uint64_t		 held_max;
	int			 hold_noted;
	int			 stopping;

	uint64_t		 t0_us;
	uint64_t		 t_end_us;
	uint64_t		 holdoff_until_us;
	struct ev_timer		 pacer;
	struct ev_timer		 end_timer;

	uint64_t		 connect_ok;
	uint64_t		 connect_refused;
	uint64_t		 connect_reset;
	uint64_t		 connect_timeout;
	struct errno_count	 connect_errors;

	uint64_t		 request_ok;
	uint64_t		 request_reset;
	uint64_t		 request_timeout;
	uint64_t		 request_eof;
	uint64_t		 request_bad;
	struct errno_count	 request_errors;

	uint64_t		 peer_eof;
	uint64_t		 peer_reset;

	struct loadstats	 connect_lat;
	struct loadstats	 request_lat;
};

static void	 usage(void) __attribute__((noreturn));
static void	 load_parse_args(struct load_opts *, int, char **);
static void	 load_setup(struct load *);
static void	 load_run(struct load *);
static void	 load_fill(struct load *);
static void	 hold_note(struct load *);
static void	 conn_open(struct load *);
static void	 conn_io(struct ev_loop *, int, int, void *);
static void	 conn_close(struct conn *);
static void	 conn_timeout(struct ev_loop *, struct ev_timer *, void *);
static void	 request_start(struct conn *);
static void	 request_send(struct conn *);
static void	 report_text(struct load *, FILE *);
static void	 report_json(struct load *, FILE *);

static volatile sig_atomic_t	 load_signalled;
static char			 load_scratch[65536];

static const char *load_mode_names[] = {
	"hold", "connect-close", "send-close", "request", "churn"
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: acceptload [-jq] [-c concurrency] [-d duration] [-h host] "
	    "[-m payload]\n"
	    "                  [-n count] [-P http|echo] [-r rate] "
	    "[-T timeout] [-t timeout]\n"
	    "                  -p port mode\n"
	    "modes: hold, connect-close, send-close, request, churn\n"
	    "  -c n      connections at once (default 1; hold: -n)\n"
	    "  -d time   stop after this long (10s, 500ms, 2m)\n"
	    "  -h host   address to connect to (default 127.0.0.1; ::1 ok)\n"
	    "  -j        print the report as one JSON object\n"
	    "  -m text   payload to send; \\n \\r \\t \\\\ \\xHH are escapes\n"
	    "  -n n      connections (requests in request mode) in all\n"
	    "  -P proto  request and churn: http (default) or echo\n"
	    "  -p port   port to connect to (required)\n"
	    "  -q        quiet: no progress notes, no text report\n"
	    "  -r n      starts per second, 0 = no limit (default 0)\n"
	    "  -T time   request timeout, 0 = none (default 30s)\n"
	    "  -t time   connect timeout, 0 = none (default 5s)\n");
	exit(1);
}

/* Microseconds on the monotonic clock: latencies need more than ev's ms. */
static uint64_t
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* "10s", "500ms", "2m", "1.5s"; a bare number is seconds. */
static int
parse_duration(const char *s, uint64_t *ms)
{
	char	*end;
	double	 v, scale;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(v) || v < 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		scale = 1000.0;
	else if (strcmp(end, "ms") == 0)
		scale = 1.0;
	else if (strcmp(end, "m") == 0)
		scale = 60000.0;
	else
		return -1;
	v *= scale;
	if (v > 86400.0 * 1000.0)
		return -1;
	*ms = (uint64_t)v;
	if ((double)*ms < v)
		(*ms)++;
	return 0;
}

static uint64_t
parse_number(const char *s, long long min, long long max, const char *what)
{
	const char	*errstr;
	long long	 v;

	v = strtonum(s, min, max, &errstr);
	if (errstr != NULL)
		errx(1, "%s \"%s\" is %s (allowed %lld to %lld)", what, s,
		    errstr, min, max);
	return (uint64_t)v;
}

static int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode \n \r \t \\ \xHH so a payload can carry an HTTP request. */
static size_t
unescape(char *s)
{
	char	*in, *out;
	int	 hi, lo;

	for (in = out = s; *in != '\0'; in++) {
		if (*in != '\\' || in[1] == '\0') {
			*out++ = *in;
			continue;
		}
		in++;
		switch (*in) {
		case 'n':
			*out++ = '\n';
			break;
		case 'r':
			*out++ = '\r';
			break;
		case 't':
			*out++ = '\t';
			break;
		case 'x':
			if ((hi = hex_digit(in[1])) < 0 ||
			    (lo = hex_digit(in[2])) < 0)
				errx(1, "payload: \\x needs two hex digits");
			*out++ = (char)(hi * 16 + lo);
			in += 2;
			break;
		default:
			*out++ = *in;
			break;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}

static enum load_mode
parse_mode(const char *s)
{
	size_t	 i;

	for (i = 0; i < sizeof(load_mode_names) / sizeof(load_mode_names[0]);
	    i++)
		if (strcmp(s, load_mode_names[i]) == 0)
			return (enum load_mode)i;
	warnx("unknown mode \"%s\"", s);
	usage();
}

static void
load_parse_args(struct load_opts *o, int argc, char **argv)
{
	int	 ch, have_c = 0, have_n = 0;
	char	*payload = NULL;

	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->concurrency = 1;
	o->connect_timeout_ms = 5000;
	o->request_timeout_ms = 30000;
	while ((ch = getopt(argc, argv, "c:d:h:jm:n:P:p:qr:T:t:")) != -1) {
		switch (ch) {
		case 'c':
			o->concurrency = parse_number(optarg, 1, 1000000,
			    "concurrency");
			have_c = 1;
			break;
		case 'd':
			if (parse_duration(optarg, &o->duration_ms) == -1 ||
			    o->duration_ms == 0)
				errx(1, "duration \"%s\": use e.g. 10s, 500ms",
				    optarg);
			break;
		case 'h':
			o->host = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'm':
			payload = optarg;
			break;
		case 'n':
			o->count = parse_number(optarg, 1, LLONG_MAX, "count");
			have_n = 1;
			break;
		case 'P':
			if (strcmp(optarg, "http") == 0)
				o->proto = PROTO_HTTP;
			else if (strcmp(optarg, "echo") == 0)
				o->proto = PROTO_ECHO;
			else
				errx(1, "protocol \"%s\": use http or echo",
				    optarg);
			break;
		case 'p':
			o->port = optarg;
			parse_number(optarg, 1, 65535, "port");
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'r':
			o->rate = parse_number(optarg, 0, 10000000, "rate");
			break;
		case 'T':
			if (parse_duration(optarg, &o->request_timeout_ms) ==
			    -1)
				errx(1, "request timeout \"%s\": use e.g. 30s",
				    optarg);
			break;
		case 't':
			if (parse_duration(optarg, &o->connect_timeout_ms) ==
			    -1)
				errx(1, "connect timeout \"%s\": use e.g. 5s",
				    optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		warnx(argc == 0 ? "no mode given" : "one mode only");
		usage();
	}
	if (o->port == NULL) {
		warnx("no port given: use -p port");
		usage();
	}
	o->mode = parse_mode(argv[0]);
	if (o->mode == MODE_HOLD) {
		/* Hold: -n is how many to keep, -c how many connect at once. */
		if (!have_n)
			o->count = o->concurrency;
		if (!have_c)
			o->concurrency = o->count;
		if (o->count > LOAD_MAX_CONNS)
			errx(1, "hold: at most %d connections", LOAD_MAX_CONNS);
	} else if (!have_n)
		o->count = o->duration_ms > 0 ? UINT64_MAX : o->concurrency;
	if ((o->mode == MODE_REQUEST || o->mode == MODE_CHURN) &&
	    o->proto == PROTO_NONE)
		o->proto = PROTO_HTTP;
	o->payload = strdup(payload != NULL ? payload : LOAD_DEFAULT_PAYLOAD);
	if (o->payload == NULL)
		err(1, "strdup");
	o->payload_len = unescape(o->payload);
	if (o->proto == PROTO_ECHO && o->payload_len == 0)
		errx(1, "echo needs a payload of at least one byte");
}

static void
load_resolve(struct load *l)
{
	struct addrinfo	 hints, *res;
	char		 host[NI_MAXHOST], buf[NI_MAXHOST];
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
	if (getnameinfo((struct sockaddr *)&l->addr, l->addrlen, buf,
	    sizeof(buf), NULL, 0, NI_NUMERICHOST) != 0)
		strlcpy(buf, host, sizeof(buf));
	snprintf(l->target, sizeof(l->target),
	    l->addr.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", buf,
	    l->o.port);
}

/* Many connections need many fds: take all the hard limit allows. */
static void
load_raise_nofile(struct load *l)
{
	struct rlimit	 rl;
	uint64_t	 want;

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
	want = l->o.mode == MODE_HOLD ? l->o.count : l->o.concurrency;
	if (!l->o.quiet && rl.rlim_cur != RLIM_INFINITY &&
	    want + 16 > (uint64_t)rl.rlim_cur)
		warnx("%llu connections but only %llu file descriptors: "
		    "expect EMFILE errors (raise the hard limit, ulimit -Hn)",
		    (unsigned long long)want, (unsigned long long)rl.rlim_cur);
}

static void
load_signal(int sig)
{
	(void)sig;
	load_signalled = 1;
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
load_timer_noop(struct ev_loop *loop, struct ev_timer *t, void *arg)
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
load_setup(struct load *l)
{
	size_t	 i;
	int	 parse;

	load_resolve(l);
	load_raise_nofile(l);
	load_signals();
	if (l->o.proto == PROTO_HTTP) {
		l->request = LOAD_HTTP_REQUEST;
		l->request_len = strlen(LOAD_HTTP_REQUEST);
	} else {
		l->request = l->o.payload;
		l->request_len = l->o.payload_len;
	}
	l->nconns = l->o.mode == MODE_HOLD ? l->o.count : l->o.concurrency;
	l->conns = calloc(l->nconns, sizeof(*l->conns));
	l->free_slots = calloc(l->nconns, sizeof(*l->free_slots));
	if (l->conns == NULL || l->free_slots == NULL)
		err(1, "%zu connection slots", l->nconns);
	parse = l->o.proto == PROTO_HTTP &&
	    (l->o.mode == MODE_REQUEST || l->o.mode == MODE_CHURN);
	for (i = 0; i < l->nconns; i++) {
		l->conns[i].load = l;
		l->conns[i].fd = -1;
		ev_timer_init(&l->conns[i].timer, conn_timeout, &l->conns[i]);
		if (parse && (l->conns[i].hdr = malloc(LOAD_HDR_MAX)) == NULL)
			err(1, "header buffers");
		l->free_slots[l->nfree++] = l->nconns - 1 - i;
	}
	TAILQ_INIT(&l->idle);
	loadstats_init(&l->connect_lat);
	loadstats_init(&l->request_lat);
	if ((l->loop = ev_loop_new((int)(l->nconns < 1024 ? l->nconns + 8 :
	    1024))) == NULL)
		err(1, "event loop (%s)", ev_backend_name());
	ev_timer_init(&l->pacer, load_timer_noop, l);
	ev_timer_init(&l->end_timer, load_end, l);
}

static void
load_free(struct load *l)
{
	size_t	 i;

	for (i = 0; i < l->nconns; i++)
		free(l->conns[i].hdr);
	free(l->conns);
	free(l->free_slots);
	free(l->o.payload);
	ev_loop_free(l->loop);
}

static void
errno_count_add(struct errno_count *ec, int e)
{
	size_t	 i;

	for (i = 0; i < ec->used; i++)
		if (ec->err[i] == e)
			break;
	if (i == ec->used) {
		/* Full: the last slot takes every errno not seen before. */
		if (ec->used == LOAD_ERRNO_SLOTS)
			i = LOAD_ERRNO_SLOTS - 1;
		else
			ec->err[ec->used++] = e;
	}
	ec->n[i]++;
}

static uint64_t
errno_count_total(const struct errno_count *ec)
{
	uint64_t	 n = 0;
	size_t		 i;

	for (i = 0; i < ec->used; i++)
		n += ec->n[i];
	return n;
}

static const char *
errno_name(int e)
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

/* Out of fds or ports: retrying at once would only spin. */
static int
errno_is_local_shortage(int e)
{
	return e == EMFILE || e == ENFILE || e == EADDRNOTAVAIL ||
	    e == ENOBUFS || e == ENOMEM;
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

static int
load_may_start(struct load *l, uint64_t now)
{
	if (l->stopping || l->started >= l->o.count)
		return 0;
	return load_pacer_allows(l, now);
}

static int
load_may_open(struct load *l, uint64_t now)
{
	uint64_t	 open;

	if (l->nfree == 0)
		return 0;
	open = l->nconns - l->nfree;
	if (l->o.mode == MODE_HOLD ? l->connecting >= l->o.concurrency :
	    open >= l->o.concurrency)
		return 0;
	return load_may_start(l, now);
}

/*
 * Start what the limits allow.  Called between loop turns, never from a
 * callback, so a new connection never reuses the fd of one closed earlier
 * in the same batch of events.
 */
static void
load_fill(struct load *l)
{
	struct conn	*c;
	uint64_t	 now = now_us();

	while (load_may_open(l, now))
		conn_open(l);
	while ((c = TAILQ_FIRST(&l->idle)) != NULL && load_may_start(l, now)) {
		l->started++;
		request_start(c);
	}
	/* Nothing more to send: idle keep-alive connections are done. */
	if (l->stopping || l->started >= l->o.count)
		while ((c = TAILQ_FIRST(&l->idle)) != NULL)
			conn_close(c);
}

static int
load_done(struct load *l)
{
	if (l->stopping)
		return 1;
	if (l->started < l->o.count)
		return 0;
	if (l->o.mode == MODE_HOLD)
		return l->connecting == 0 && l->held == 0;
	return l->nfree == l->nconns;
}

static void
conn_set_state(struct conn *c, enum conn_state state)
{
	struct load	*l = c->load;

	if (c->state == CONN_CONNECTING)
		l->connecting--;
	else if (c->state == CONN_HELD)
		l->held--;
	else if (c->state == CONN_IDLE)
		TAILQ_REMOVE(&l->idle, c, idle_entry);
	c->state = state;
	if (state == CONN_CONNECTING)
		l->connecting++;
	else if (state == CONN_HELD) {
		if (++l->held > l->held_max)
			l->held_max = l->held;
	} else if (state == CONN_IDLE)
		TAILQ_INSERT_TAIL(&l->idle, c, idle_entry);
}

static void
conn_watch(struct conn *c, int events)
{
	if (ev_set(c->load->loop, c->fd, events, conn_io, c) == -1)
		err(1, "ev_set fd %d", c->fd);
}

static void
conn_close(struct conn *c)
{
	struct load	*l = c->load;

	if (c->state == CONN_FREE)
		return;
	ev_timer_stop(l->loop, &c->timer);
	if (c->fd != -1) {
		ev_set(l->loop, c->fd, 0, NULL, NULL);
		close(c->fd);
		c->fd = -1;
	}
	conn_set_state(c, CONN_FREE);
	l->free_slots[l->nfree++] = (size_t)(c - l->conns);
}

static void
conn_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct conn	*c = arg;
	struct load	*l = c->load;

	(void)loop;
	(void)t;
	if (c->state == CONN_CONNECTING)
		l->connect_timeout++;
	else
		l->request_timeout++;
	conn_close(c);
}

static void
conn_arm_timer(struct conn *c, uint64_t ms)
{
	struct load	*l = c->load;

	ev_timer_stop(l->loop, &c->timer);
	if (ms == 0)
		return;
	ev_timer_start(l->loop, &c->timer, ms);
}

static void
connect_failed(struct conn *c, int e)
{
	struct load	*l = c->load;

	if (e == ECONNREFUSED)
		l->connect_refused++;
	else if (e == ECONNRESET)
		l->connect_reset++;
	else if (e == ETIMEDOUT)
		l->connect_timeout++;
	else
		errno_count_add(&l->connect_errors, e);
	if (errno_is_local_shortage(e))
		l->holdoff_until_us = now_us() + LOAD_HOLDOFF_MS * 1000;
	conn_close(c);
}

static void
hold_note(struct load *l)
{
	if (l->o.mode != MODE_HOLD || l->hold_noted || l->o.quiet ||
	    l->connecting > 0 || l->started < l->o.count || l->held == 0)
		return;
	l->hold_noted = 1;
	fprintf(stderr, "acceptload: holding %llu connection%s to %s%s\n",
	    (unsigned long long)l->held, l->held == 1 ? "" : "s", l->target,
	    l->o.duration_ms == 0 ? "; interrupt to stop" : "");
}

static void
conn_connected(struct conn *c)
{
	struct load	*l = c->load;

	l->connect_ok++;
	loadstats_record(&l->connect_lat, now_us() - c->start_us);
	ev_timer_stop(l->loop, &c->timer);
	switch (l->o.mode) {
	case MODE_HOLD:
		conn_set_state(c, CONN_HELD);
		conn_watch(c, EV_READ);
		break;
	case MODE_CONNECT_CLOSE:
		conn_close(c);
		break;
	default:
		/* The request was counted when the connection started. */
		request_start(c);
		break;
	}
}

static void
conn_open(struct load *l)
{
	struct conn	*c;
	int		 fd, one = 1;

	l->started++;
	fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		errno_count_add(&l->connect_errors, errno);
		if (errno_is_local_shortage(errno))
			l->holdoff_until_us = now_us() + LOAD_HOLDOFF_MS * 1000;
		return;
	}
	c = &l->conns[l->free_slots[--l->nfree]];
	c->fd = fd;
	c->state = CONN_FREE;
	conn_set_state(c, CONN_CONNECTING);
	if (l->o.mode != MODE_HOLD)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->start_us = now_us();
	if (connect(fd, (struct sockaddr *)&l->addr, l->addrlen) == 0) {
		conn_connected(c);
		return;
	}
	if (errno != EINPROGRESS) {
		connect_failed(c, errno);
		return;
	}
	conn_watch(c, EV_WRITE);
	conn_arm_timer(c, l->o.connect_timeout_ms);
}

static void
conn_connect_ready(struct conn *c)
{
	socklen_t	 len;
	int		 e = 0;

	len = sizeof(e);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		e = errno;
	if (e != 0)
		connect_failed(c, e);
	else
		conn_connected(c);
}

static void
request_failed(struct conn *c, int e)
{
	struct load	*l = c->load;

	if (e == ECONNRESET)
		l->request_reset++;
	else if (e == ETIMEDOUT)
		l->request_timeout++;
	else
		errno_count_add(&l->request_errors, e);
	conn_close(c);
}

static void
request_bad(struct conn *c)
{
	c->load->request_bad++;
	conn_close(c);
}

/* One request done: go on with the next on this connection, or close. */
static void
request_done(struct conn *c)
{
	struct load	*l = c->load;

	l->request_ok++;
	loadstats_record(&l->request_lat, now_us() - c->start_us);
	ev_timer_stop(l->loop, &c->timer);
	if (l->o.mode != MODE_REQUEST || c->close_after) {
		conn_close(c);
		return;
	}
	if (l->stopping || l->started >= l->o.count) {
		conn_close(c);
		return;
	}
	if (load_may_start(l, now_us())) {
		l->started++;
		request_start(c);
		return;
	}
	/* Watch for the peer closing while the pacer holds us back. */
	conn_set_state(c, CONN_IDLE);
	conn_watch(c, EV_READ);
}

static void
request_start(struct conn *c)
{
	c->sent = 0;
	c->got = 0;
	c->body_left = 0;
	c->in_body = 0;
	c->close_after = 0;
	c->start_us = now_us();
	conn_set_state(c, CONN_SENDING);
	conn_arm_timer(c, c->load->o.request_timeout_ms);
	request_send(c);
}

static void
request_send(struct conn *c)
{
	struct load	*l = c->load;
	ssize_t		 n;

	while (c->sent < l->request_len) {
		n = send(c->fd, l->request + c->sent, l->request_len - c->sent,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_watch(c, EV_WRITE);
			return;
		}
		if (n == -1) {
			request_failed(c, errno);
			return;
		}
		c->sent += (size_t)n;
	}
	if (l->o.mode == MODE_SEND_CLOSE) {
		/* Nothing to wait for: the write is the request. */
		l->request_ok++;
		conn_close(c);
		return;
	}
	conn_set_state(c, CONN_READING);
	conn_watch(c, EV_READ);
}

/* The byte after the response header, or NULL while it is incomplete. */
static char *
http_header_end(char *buf, size_t len)
{
	size_t	 i;

	for (i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' &&
		    buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return buf + i + 1;
	return NULL;
}

/*
 * Parse the status line and the two headers that matter; a missing
 * Content-Length means an empty body.  Returns -1 on a malformed header.
 */
static int
http_parse_header(struct conn *c, char *hdr, char *end)
{
	char		*line, *eol, *v;
	unsigned int	 status;

	end[-2] = '\0';
	if (sscanf(hdr, "HTTP/1.%*1[01] %3u", &status) != 1)
		return -1;
	c->body_left = 0;
	for (line = strstr(hdr, "\r\n"); line != NULL; line = eol) {
		line += 2;
		if ((eol = strstr(line, "\r\n")) != NULL)
			*eol = '\0';
		if ((v = strchr(line, ':')) == NULL)
			continue;
		*v++ = '\0';
		v += strspn(v, " \t");
		if (strcasecmp(line, "Content-Length") == 0) {
			if (!isdigit((unsigned char)*v))
				return -1;
			c->body_left = strtoull(v, NULL, 10);
		} else if (strcasecmp(line, "Connection") == 0 &&
		    strcasestr(v, "close") != NULL)
			c->close_after = 1;
		if (eol != NULL)
			*eol = '\r';
	}
	return status >= 200 && status < 300 ? 0 : -1;
}

/* Returns 1 when the response is complete, 0 for more, -1 if bad. */
static int
http_consume(struct conn *c, size_t n)
{
	char	*end;
	size_t	 extra;

	if (c->in_body) {
		c->body_left -= n;
		return c->body_left == 0;
	}
	c->got += n;
	if ((end = http_header_end(c->hdr, c->got)) == NULL)
		return c->got == LOAD_HDR_MAX ? -1 : 0;
	extra = c->got - (size_t)(end - c->hdr);
	if (http_parse_header(c, c->hdr, end) == -1 || extra > c->body_left)
		return -1;
	c->in_body = 1;
	c->body_left -= extra;
	return c->body_left == 0;
}

static int
echo_consume(struct conn *c, const char *buf, size_t n)
{
	struct load	*l = c->load;

	if (memcmp(buf, l->request + c->got, n) != 0)
		return -1;
	c->got += n;
	return c->got == l->request_len;
}

/* Where the next read goes, and at most how much, so we never over-read. */
static size_t
response_buffer(struct conn *c, char **buf)
{
	struct load	*l = c->load;
	size_t		 want;

	if (l->o.proto == PROTO_HTTP && !c->in_body) {
		*buf = c->hdr + c->got;
		return LOAD_HDR_MAX - c->got;
	}
	*buf = load_scratch;
	want = l->o.proto == PROTO_HTTP ? (size_t)(c->body_left <
	    sizeof(load_scratch) ? c->body_left : sizeof(load_scratch)) :
	    l->request_len - c->got;
	return want < sizeof(load_scratch) ? want : sizeof(load_scratch);
}

static void
response_read(struct conn *c)
{
	char	*buf;
	size_t	 want;
	ssize_t	 n;
	int	 r;

	for (;;) {
		want = response_buffer(c, &buf);
		n = recv(c->fd, buf, want, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == -1) {
			request_failed(c, errno);
			return;
		}
		if (n == 0) {
			c->load->request_eof++;
			conn_close(c);
			return;
		}
		r = c->load->o.proto == PROTO_HTTP ?
		    http_consume(c, (size_t)n) :
		    echo_consume(c, buf, (size_t)n);
		if (r == -1) {
			request_bad(c);
			return;
		}
		if (r == 1) {
			request_done(c);
			return;
		}
	}
}

/* Held or idle: discard what arrives, note the peer's FIN or RST. */
static void
conn_drain(struct conn *c)
{
	struct load	*l = c->load;
	ssize_t		 n;

	for (;;) {
		n = recv(c->fd, load_scratch, sizeof(load_scratch), 0);
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == 0)
			l->peer_eof++;
		else if (errno == ECONNRESET)
			l->peer_reset++;
		else
			errno_count_add(&l->request_errors, errno);
		conn_close(c);
		return;
	}
}

static void
conn_io(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct conn	*c = arg;

	(void)loop;
	(void)fd;
	(void)events;
	switch (c->state) {
	case CONN_CONNECTING:
		conn_connect_ready(c);
		break;
	case CONN_SENDING:
		request_send(c);
		break;
	case CONN_READING:
		response_read(c);
		break;
	case CONN_IDLE:
	case CONN_HELD:
		conn_drain(c);
		break;
	case CONN_FREE:
		break;
	}
}

static void
load_run(struct load *l)
{
	size_t	 i;

	l->t0_us = now_us();
	if (l->o.duration_ms > 0)
		ev_timer_start(l->loop, &l->end_timer, l->o.duration_ms);
	load_fill(l);
	while (!load_done(l)) {
		if (ev_run_once(l->loop, LOAD_TICK_MS) == -1 && errno != EINTR)
			err(1, "event loop");
		if (load_signalled)
			l->stopping = 1;
		load_fill(l);
		hold_note(l);
	}
	l->t_end_us = now_us();
	for (i = 0; i < l->nconns; i++)
		conn_close(&l->conns[i]);
	ev_timer_stop(l->loop, &l->pacer);
	ev_timer_stop(l->loop, &l->end_timer);
}

static double
load_seconds(const struct load *l)
{
	return (double)(l->t_end_us - l->t0_us) / 1e6;
}

static uint64_t
load_request_failures(const struct load *l)
{
	return l->request_reset + l->request_timeout + l->request_eof +
	    l->request_bad + errno_count_total(&l->request_errors);
}

/* Requests per second in request mode, connections per second otherwise. */
static double
load_rate(const struct load *l)
{
	double		 s = load_seconds(l);
	uint64_t	 n;

	n = l->o.mode == MODE_REQUEST ? l->request_ok : l->connect_ok;
	return s > 0 ? (double)n / s : 0.0;
}

static int
load_has_requests(const struct load *l)
{
	return l->o.mode == MODE_REQUEST || l->o.mode == MODE_CHURN;
}

static const char *
fmt_us(uint64_t us, char *buf, size_t len)
{
	if (us < 1000)
		snprintf(buf, len, "%lluus", (unsigned long long)us);
	else if (us < 1000000)
		snprintf(buf, len, "%.2fms", (double)us / 1e3);
	else
		snprintf(buf, len, "%.3fs", (double)us / 1e6);
	return buf;
}

static void
report_latency_text(FILE *fp, const char *what, const struct loadstats *ls)
{
	char	 b[6][32];

	if (loadstats_count(ls) == 0) {
		fprintf(fp, "%s latency: no samples\n", what);
		return;
	}
	fprintf(fp, "%s latency: p50 %s  p90 %s  p99 %s  max %s  "
	    "(min %s, mean %s, %llu samples)\n", what,
	    fmt_us(loadstats_percentile(ls, 50), b[0], sizeof(b[0])),
	    fmt_us(loadstats_percentile(ls, 90), b[1], sizeof(b[1])),
	    fmt_us(loadstats_percentile(ls, 99), b[2], sizeof(b[2])),
	    fmt_us(loadstats_max(ls), b[3], sizeof(b[3])),
	    fmt_us(loadstats_min(ls), b[4], sizeof(b[4])),
	    fmt_us((uint64_t)loadstats_mean(ls), b[5], sizeof(b[5])),
	    (unsigned long long)loadstats_count(ls));
	loadstats_print_coarse(fp, ls, "  ");
}

static void
report_errors_text(FILE *fp, const char *what, const struct errno_count *ec)
{
	size_t	 i;

	if (ec->used == 0)
		return;
	fprintf(fp, "%s errors:", what);
	for (i = 0; i < ec->used; i++)
		fprintf(fp, "%s %s %llu", i == 0 ? "" : ",",
		    errno_name(ec->err[i]), (unsigned long long)ec->n[i]);
	fprintf(fp, "\n");
}

static void
report_text(struct load *l, FILE *fp)
{
	fprintf(fp, "acceptload: %s to %s, %.3f s, concurrency %llu\n",
	    load_mode_names[l->o.mode], l->target, load_seconds(l),
	    (unsigned long long)l->o.concurrency);
	fprintf(fp, "connects: %llu ok, %llu refused, %llu reset, "
	    "%llu timed out, %llu other errors\n",
	    (unsigned long long)l->connect_ok,
	    (unsigned long long)l->connect_refused,
	    (unsigned long long)l->connect_reset,
	    (unsigned long long)l->connect_timeout,
	    (unsigned long long)errno_count_total(&l->connect_errors));
	report_errors_text(fp, "connect", &l->connect_errors);
	if (l->o.mode != MODE_HOLD && l->o.mode != MODE_CONNECT_CLOSE)
		fprintf(fp, "requests: %llu ok, %llu failed (%llu reset, "
		    "%llu timed out, %llu closed early, %llu bad replies)\n",
		    (unsigned long long)l->request_ok,
		    (unsigned long long)load_request_failures(l),
		    (unsigned long long)l->request_reset,
		    (unsigned long long)l->request_timeout,
		    (unsigned long long)l->request_eof,
		    (unsigned long long)l->request_bad);
	report_errors_text(fp, "request", &l->request_errors);
	if (l->o.mode == MODE_HOLD || l->peer_eof + l->peer_reset > 0)
		fprintf(fp, "held: %llu at most; closed by peer: %llu, "
		    "reset by peer: %llu\n", (unsigned long long)l->held_max,
		    (unsigned long long)l->peer_eof,
		    (unsigned long long)l->peer_reset);
	fprintf(fp, "rate: %.1f %s/s\n", load_rate(l),
	    l->o.mode == MODE_REQUEST ? "requests" : "connections");
	report_latency_text(fp, "connect", &l->connect_lat);
	if (load_has_requests(l))
		report_latency_text(fp, "request", &l->request_lat);
}

static void
json_errors(FILE *fp, const struct errno_count *ec)
{
	size_t	 i;

	fputc('{', fp);
	for (i = 0; i < ec->used; i++)
		fprintf(fp, "%s\"%s\":%llu", i == 0 ? "" : ",",
		    errno_name(ec->err[i]), (unsigned long long)ec->n[i]);
	fputc('}', fp);
}

static void
json_latency(FILE *fp, const struct loadstats *ls)
{
	uint64_t	 limit;
	size_t		 i;

	fprintf(fp, "{\"count\":%llu,\"min\":%llu,\"mean\":%.1f,\"p50\":%llu,"
	    "\"p90\":%llu,\"p99\":%llu,\"max\":%llu,\"histogram\":[",
	    (unsigned long long)loadstats_count(ls),
	    (unsigned long long)loadstats_min(ls), loadstats_mean(ls),
	    (unsigned long long)loadstats_percentile(ls, 50),
	    (unsigned long long)loadstats_percentile(ls, 90),
	    (unsigned long long)loadstats_percentile(ls, 99),
	    (unsigned long long)loadstats_max(ls));
	for (i = 0; i < LOADSTATS_COARSE; i++) {
		limit = loadstats_coarse_limit_ms(i);
		fprintf(fp, "%s{\"label\":\"%s\",\"le_ms\":", i == 0 ? "" : ",",
		    loadstats_coarse_label(i));
		if (limit == 0)
			fprintf(fp, "null");
		else
			fprintf(fp, "%llu", (unsigned long long)limit);
		fprintf(fp, ",\"count\":%llu}",
		    (unsigned long long)loadstats_coarse_count(ls, i));
	}
	fprintf(fp, "]}");
}

static void
report_json(struct load *l, FILE *fp)
{
	fprintf(fp, "{\"mode\":");
	json_string(fp, load_mode_names[l->o.mode]);
	fprintf(fp, ",\"target\":");
	json_string(fp, l->target);
	fprintf(fp, ",\"concurrency\":%llu,\"duration_s\":%.3f,"
	    "\"connects\":{\"ok\":%llu,\"refused\":%llu,\"reset\":%llu,"
	    "\"timeout\":%llu,\"errors\":",
	    (unsigned long long)l->o.concurrency, load_seconds(l),
	    (unsigned long long)l->connect_ok,
	    (unsigned long long)l->connect_refused,
	    (unsigned long long)l->connect_reset,
	    (unsigned long long)l->connect_timeout);
	json_errors(fp, &l->connect_errors);
	fprintf(fp, "},\"requests\":{\"ok\":%llu,\"errors\":%llu,"
	    "\"reset\":%llu,\"timeout\":%llu,\"eof\":%llu,\"bad\":%llu,"
	    "\"other\":", (unsigned long long)l->request_ok,
	    (unsigned long long)load_request_failures(l),
	    (unsigned long long)l->request_reset,
	    (unsigned long long)l->request_timeout,
	    (unsigned long long)l->request_eof,
	    (unsigned long long)l->request_bad);
	json_errors(fp, &l->request_errors);
	fprintf(fp, "},\"held\":{\"max\":%llu,\"peer_eof\":%llu,"
	    "\"peer_reset\":%llu},\"rate\":%.1f,\"connect_latency_us\":",
	    (unsigned long long)l->held_max, (unsigned long long)l->peer_eof,
	    (unsigned long long)l->peer_reset, load_rate(l));
	json_latency(fp, &l->connect_lat);
	fprintf(fp, ",\"request_latency_us\":");
	json_latency(fp, &l->request_lat);
	fprintf(fp, "}\n");
}

int
main(int argc, char *argv[])
{
	static struct load	 l;

	load_parse_args(&l.o, argc, argv);
	load_setup(&l);
	load_run(&l);
	if (l.o.json)
		report_json(&l, stdout);
	else if (!l.o.quiet)
		report_text(&l, stdout);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	load_free(&l);
	return 0;
}

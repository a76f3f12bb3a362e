/*
 * acceptload's command line: usage, each option checked as it comes, then
 * the mode and the defaults that depend on other options.
 */
#include <ctype.h>
#include <err.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acceptload.h"
#include "conf.h"

#define OPTS_DEFAULT_PAYLOAD	"hello acceptd\n"
#define OPTS_HOLD_MAX		10000000	/* connections held at once */

/* What the command line said, for the defaults that depend on it. */
struct opts_given {
	int		 concurrency;	/* -c */
	int		 count;		/* -n */
	const char	*payload;	/* -m */
};

static void		 opts_usage(int) __attribute__((noreturn));
static void		 opts_option(struct load_opts *, struct opts_given *,
			    int, const char *);
static uint64_t		 opts_number(const char *, long long, long long,
			    const char *);
static unsigned int	 opts_duration(const char *, const char *, int);
static enum load_proto	 opts_protocol(const char *);
static enum load_mode	 opts_mode(const char *);
static void		 opts_defaults(struct load_opts *,
			    const struct opts_given *);
static void		 opts_payload(struct load_opts *, const char *);
static size_t		 opts_unescape(char *);
static int		 opts_hex_digit(int);

static const char *opts_mode_names[] = {
	"hold", "connect-close", "send-close", "request", "churn"
};

/* Asked for (-?, --help): on stdout, exit 0; after an error: stderr, 1. */
static void
opts_usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
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
	    "  -t time   connect timeout, 0 = none (default 5s)\n"
	    "exit status: 0, or 1 on bad usage or when no connection "
	    "succeeded\n");
	exit(status);
}

void
opts_parse(struct load_opts *o, int argc, char **argv)
{
	struct opts_given	 given;
	int			 ch;

	memset(o, 0, sizeof(*o));
	memset(&given, 0, sizeof(given));
	o->host = "127.0.0.1";
	o->concurrency = 1;
	o->connect_timeout_ms = 5000;
	o->request_timeout_ms = 30000;
	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		opts_usage(0);
	opterr = 0;		/* its messages name argv[0]; ours, acceptload */
	while ((ch = getopt(argc, argv, ":c:d:h:jm:n:P:p:qr:T:t:")) != -1)
		opts_option(o, &given, ch, optarg);
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		warnx(argc == 0 ? "no mode given" : "one mode only");
		opts_usage(1);
	}
	if (o->port == NULL) {
		warnx("no port given: use -p port");
		opts_usage(1);
	}
	o->mode = opts_mode(argv[0]);
	opts_defaults(o, &given);
	opts_payload(o, given.payload);
}

const char *
opts_mode_name(enum load_mode mode)
{
	return opts_mode_names[mode];
}

/* Request and churn send requests and read the replies. */
int
opts_has_requests(const struct load_opts *o)
{
	return o->mode == LOAD_MODE_REQUEST || o->mode == LOAD_MODE_CHURN;
}

static void
opts_option(struct load_opts *o, struct opts_given *given, int ch,
    const char *arg)
{
	switch (ch) {
	case 'c':
		o->concurrency = opts_number(arg, 1, 1000000, "-c concurrency");
		given->concurrency = 1;
		break;
	case 'd':
		o->duration_ms = opts_duration(arg, "-d duration", 0);
		break;
	case 'h':
		o->host = arg;
		break;
	case 'j':
		o->json = 1;
		break;
	case 'm':
		given->payload = arg;
		break;
	case 'n':
		o->count = opts_number(arg, 1, LLONG_MAX, "-n count");
		given->count = 1;
		break;
	case 'P':
		o->proto = opts_protocol(arg);
		break;
	case 'p':
		o->port = arg;
		opts_number(arg, 1, 65535, "-p port");
		break;
	case 'q':
		o->quiet = 1;
		break;
	case 'r':
		o->rate = opts_number(arg, 0, 10000000, "-r rate");
		break;
	case 'T':
		o->request_timeout_ms = opts_duration(arg,
		    "-T request timeout", 1);
		break;
	case 't':
		o->connect_timeout_ms = opts_duration(arg,
		    "-t connect timeout", 1);
		break;
	case ':':
		warnx("-%c needs a value", optopt);
		opts_usage(1);
	default:
		if (optopt == '?')	/* -?: asked for */
			opts_usage(0);
		warnx("unknown option -%c", optopt);
		opts_usage(1);
	}
}

static uint64_t
opts_number(const char *s, long long min, long long max, const char *what)
{
	const char	*errstr;
	long long	 v;

	v = strtonum(s, min, max, &errstr);
	if (errstr != NULL)
		errx(1, "%s \"%s\" is %s (allowed %lld to %lld)", what, s,
		    strcmp(errstr, "invalid") == 0 ? "not a number" : errstr,
		    min, max);
	return (uint64_t)v;
}

/*
 * The tools' duration rule: a bare whole number is seconds, else 250ms,
 * 10s, 2m.  A timeout of 0 means none; a run of 0 would be no run.
 */
static unsigned int
opts_duration(const char *s, const char *what, int zero_ok)
{
	const char	*why = "must be more than 0";
	unsigned int	 ms;

	if (conf_parse_duration(s, &ms, &why) == -1 ||
	    (ms == 0 && !zero_ok))
		errx(1, "%s \"%s\" %s", what, s, why);
	return ms;
}

static enum load_proto
opts_protocol(const char *s)
{
	if (strcmp(s, "http") == 0)
		return LOAD_PROTO_HTTP;
	if (strcmp(s, "echo") == 0)
		return LOAD_PROTO_ECHO;
	errx(1, "protocol \"%s\": use http or echo", s);
}

static enum load_mode
opts_mode(const char *s)
{
	size_t	 i;

	for (i = 0; i < sizeof(opts_mode_names) / sizeof(opts_mode_names[0]);
	    i++)
		if (strcmp(s, opts_mode_names[i]) == 0)
			return (enum load_mode)i;
	warnx("unknown mode \"%s\"", s);
	opts_usage(1);
}

/*
 * In hold mode -n is how many to keep and -c how many connect at once, each
 * the other's default; elsewhere -n defaults to -c, or to no limit when -d
 * ends the run.  Request and churn speak HTTP unless told otherwise.
 */
static void
opts_defaults(struct load_opts *o, const struct opts_given *given)
{
	if (o->mode == LOAD_MODE_HOLD) {
		if (!given->count)
			o->count = o->concurrency;
		if (!given->concurrency)
			o->concurrency = o->count;
		if (o->count > OPTS_HOLD_MAX)
			errx(1, "hold: at most %d connections", OPTS_HOLD_MAX);
	} else if (!given->count)
		o->count = o->duration_ms > 0 ? UINT64_MAX : o->concurrency;
	if (opts_has_requests(o) && o->proto == LOAD_PROTO_NONE)
		o->proto = LOAD_PROTO_HTTP;
}

static void
opts_payload(struct load_opts *o, const char *payload)
{
	o->payload = strdup(payload != NULL ? payload : OPTS_DEFAULT_PAYLOAD);
	if (o->payload == NULL)
		err(1, "strdup");
	o->payload_len = opts_unescape(o->payload);
	if (o->proto == LOAD_PROTO_ECHO && o->payload_len == 0)
		errx(1, "echo needs a payload of at least one byte");
}

/* Decode \n \r \t \\ \xHH so a payload can carry an HTTP request. */
static size_t
opts_unescape(char *s)
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
			if ((hi = opts_hex_digit(in[1])) < 0 ||
			    (lo = opts_hex_digit(in[2])) < 0)
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

static int
opts_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * acceptd.conf(5): a flat "name value" file read with fparseln, one table
 * of directives that drives parsing, run-time setting and printing.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ev.h"
#include "os.h"

/* The text of a listen or monitor address, terminated. */
#define CONF_ADDRESS_MAX	sizeof(((struct conf_listen *)0)->text)
_Static_assert(sizeof(((struct conf *)0)->monitor) == CONF_ADDRESS_MAX,
    "monitor and listen hold the same text");

/* The longest duration, 24h; printed as 1440m. */
#define CONF_DURATION_MAX	(24U * 60 * 60 * 1000)
#define CONF_SUN_PATH_MAX \
	(sizeof(((struct sockaddr_un *)0)->sun_path))

enum conf_type {
	CONF_INT,
	CONF_ENUM,
	CONF_YESNO,
	CONF_ONOFF,
	CONF_DURATION,
	CONF_LISTEN,
	CONF_MONITOR,
	CONF_SOCKPATH,
	CONF_PATH,
	CONF_USER,
};

struct conf_directive {
	const char		*name;
	enum conf_type		 type;
	int			 runtime;	/* in struct settings */
	size_t			 offset;	/* in settings or conf */
	long long		 min, max;	/* CONF_INT */
	const char * const	*names;		/* CONF_ENUM */
};

static const char * const conf_accept_names[] = {
	"shared", "exclusive", "reuseport", NULL
};
static const char * const conf_protocol_names[] = {
	"http", "echo", "oneshot", "discard", NULL
};
static const char * const conf_close_names[] = {
	"graceful", "reset", "half", "never", NULL
};
static const char * const conf_log_level_names[] = {
	"error", "warn", "info", "debug", NULL
};

/* Enums are read and written through int pointers by the table. */
_Static_assert(sizeof(enum accept_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum protocol) == sizeof(int), "enum size");
_Static_assert(sizeof(enum close_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum log_level) == sizeof(int), "enum size");

#define C(f)	0, offsetof(struct conf, f)
#define S(f)	1, offsetof(struct settings, f)

/* In the order of acceptd.conf(5); conf_print follows it. */
static const struct conf_directive conf_directives[] = {
	{ "listen", CONF_LISTEN, C(listen), 0, 0, NULL },
	{ "backlog", CONF_INT, C(backlog), 0, 65535, NULL },
	{ "workers", CONF_INT, C(workers), 1, CONF_WORKERS_MAX, NULL },
	{ "accept", CONF_ENUM, C(accept), 0, 0, conf_accept_names },
	{ "accept-batch", CONF_INT, S(accept_batch), 1, 1024, NULL },
	{ "max-connections", CONF_INT, S(max_connections), 1, 1048576, NULL },
	{ "accept-rate", CONF_INT, S(accept_rate), 0, 1000000, NULL },
	{ "paused", CONF_YESNO, S(paused), 0, 0, NULL },
	{ "protocol", CONF_ENUM, S(protocol), 0, 0, conf_protocol_names },
	{ "close-mode", CONF_ENUM, S(close_mode), 0, 0, conf_close_names },
	{ "reading", CONF_ONOFF, S(reading), 0, 0, NULL },
	{ "response-delay", CONF_DURATION, S(response_delay_ms), 0, 0, NULL },
	{ "idle-timeout", CONF_DURATION, S(idle_timeout_ms), 0, 0, NULL },
	{ "shutdown-timeout", CONF_DURATION, C(shutdown_timeout_ms), 0, 0,
	    NULL },
	{ "control", CONF_SOCKPATH, C(control), 0, 0, NULL },
	{ "pidfile", CONF_PATH, C(pidfile), 0, 0, NULL },
	{ "user", CONF_USER, C(user), 0, 0, NULL },
	{ "log-level", CONF_ENUM, C(log_level), 0, 0, conf_log_level_names },
	{ "log-file", CONF_PATH, C(log_file), 0, 0, NULL },
	{ "monitor", CONF_MONITOR, C(monitor), 0, 0, NULL },
};

#undef C
#undef S

#define CONF_NDIRECTIVES \
	(sizeof(conf_directives) / sizeof(conf_directives[0]))

static const struct conf_directive *conf_lookup(const char *);
static const char *conf_enum_name(const char * const *, int);
static int	 conf_default_workers(void);
static void	*conf_field(const struct conf_directive *,
		    const struct conf *, const struct settings *);
static int	 conf_error(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 conf_apply(const struct conf_directive *, struct conf *,
		    struct settings *, const char *, char *, size_t);
static int	 conf_set_int(const struct conf_directive *, int *,
		    const char *, char *, size_t);
static int	 conf_set_enum(const struct conf_directive *, int *,
		    const char *, char *, size_t);
static int	 conf_set_bool(const struct conf_directive *, int *,
		    const char *, char *, size_t);
static int	 conf_set_duration(const struct conf_directive *,
		    unsigned int *, const char *, char *, size_t);
static int	 conf_set_listen(struct conf *, const char *, int, char *,
		    size_t);
static int	 conf_listen_overlap(const struct conf_listen *,
		    const struct conf_listen *, char *, size_t);
static int	 conf_set_address(const char *, char *,
		    struct sockaddr_storage *, socklen_t *, const char *,
		    char *, size_t);
static int	 conf_set_path(const struct conf_directive *, char *,
		    const char *, char *, size_t);
static int	 conf_set_user(char *, const char *, char *, size_t);
static int	 conf_parse_port(const char *, const char *, in_port_t *,
		    char *, size_t);
static void	 conf_format(const struct conf_directive *,
		    const struct conf *, const struct settings *, char *,
		    size_t);
static int	 conf_parse_line(char *, int *, size_t, struct conf *,
		    char *, size_t);
static int	 conf_parse_file(FILE *, const char *, struct conf *, FILE *);

/* The names array of an enum ends with NULL; never index past it. */
static const char *
conf_enum_name(const char * const *names, int value)
{
	int	i;

	for (i = 0; names[i] != NULL; i++)
		if (i == value)
			return names[i];
	return "?";
}

const char *
conf_accept_name(enum accept_mode mode)
{
	return conf_enum_name(conf_accept_names, mode);
}

const char *
conf_protocol_name(enum protocol proto)
{
	return conf_enum_name(conf_protocol_names, proto);
}

const char *
conf_close_name(enum close_mode mode)
{
	return conf_enum_name(conf_close_names, mode);
}

/* The directory must hold the control socket, whose path is short. */
void
conf_default_dir(char *buf, size_t len)
{
	const char	*xdg;

	if (geteuid() == 0) {
		strlcpy(buf, OS_RUN_DIR "/acceptd", len);
		return;
	}
	xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg != NULL && xdg[0] == '/' && strlen(xdg) +
	    sizeof("/acceptd/acceptd.sock") <= CONF_SUN_PATH_MAX) {
		snprintf(buf, len, "%s/acceptd", xdg);
		return;
	}
	snprintf(buf, len, "/tmp/acceptd-%u", (unsigned int)geteuid());
}

void
conf_default_control(char *buf, size_t len)
{
	char	dir[PATH_MAX];

	conf_default_dir(dir, sizeof(dir));
	snprintf(buf, len, "%s/acceptd.sock", dir);
}

void
conf_default_pidfile(char *buf, size_t len)
{
	char	dir[PATH_MAX];

	conf_default_dir(dir, sizeof(dir));
	snprintf(buf, len, "%s/acceptd.pid", dir);
}

static int
conf_default_workers(void)
{
	long	n;

	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	if (n > CONF_WORKERS_MAX)
		return CONF_WORKERS_MAX;
	return (int)n;
}

void
conf_defaults(struct conf *conf)
{
	char	err[128];

	memset(conf, 0, sizeof(*conf));
	conf->set.accept_batch = 16;
	conf->set.max_connections = 1024;
	conf->set.accept_rate = 0;
	conf->set.paused = 0;
	conf->set.protocol = PROTO_HTTP;
	conf->set.close_mode = CLOSE_GRACEFUL;
	conf->set.reading = 1;
	conf->set.response_delay_ms = 0;
	conf->set.idle_timeout_ms = 60 * 1000;
	if (conf_set_listen(conf, "127.0.0.1:8080", 0, err, sizeof(err)) == -1)
		abort();	/* the default must parse */
	conf->backlog = 128;
	conf->workers = conf_default_workers();
	/* kqueue has no exclusive wake-up: there the default is shared. */
	conf->accept = EV_HAVE_EXCLUSIVE ? ACCEPT_EXCLUSIVE : ACCEPT_SHARED;
	conf->shutdown_timeout_ms = 10 * 1000;
	conf_default_control(conf->control, sizeof(conf->control));
	conf_default_pidfile(conf->pidfile, sizeof(conf->pidfile));
	conf->user[0] = '\0';
	conf->log_level = LOGLEVEL_INFO;
}

static const struct conf_directive *
conf_lookup(const char *name)
{
	size_t	i;

	for (i = 0; i < CONF_NDIRECTIVES; i++)
		if (strcmp(conf_directives[i].name, name) == 0)
			return &conf_directives[i];
	return NULL;
}

/* Where d's value lives; writable only when the caller's structs are. */
static void *
conf_field(const struct conf_directive *d, const struct conf *conf,
    const struct settings *set)
{
	if (d->runtime)
		return (char *)set + d->offset;
	return (char *)conf + d->offset;
}

static int
conf_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
conf_set_int(const struct conf_directive *d, int *field, const char *value,
    char *err, size_t errlen)
{
	const char	*errstr;
	long long	 n;

	n = strtonum(value, d->min, d->max, &errstr);
	if (errstr != NULL && strcmp(errstr, "invalid") == 0)
		return conf_error(err, errlen, "%s: \"%s\" is not a number "
		    "(%lld..%lld)", d->name, value, d->min, d->max);
	if (errstr != NULL)
		return conf_error(err, errlen, "%s: \"%s\" is %s (%lld..%lld)",
		    d->name, value, errstr, d->min, d->max);
	*field = (int)n;
	return 0;
}

static int
conf_set_enum(const struct conf_directive *d, int *field, const char *value,
    char *err, size_t errlen)
{
	char	list[128] = "";
	int	i;

	for (i = 0; d->names[i] != NULL; i++) {
		if (strcmp(d->names[i], value) == 0) {
			*field = i;
			return 0;
		}
		if (i > 0)
			strlcat(list, ", ", sizeof(list));
		strlcat(list, d->names[i], sizeof(list));
	}
	return conf_error(err, errlen, "%s: \"%s\" is not one of %s",
	    d->name, value, list);
}

static int
conf_set_bool(const struct conf_directive *d, int *field, const char *value,
    char *err, size_t errlen)
{
	const char	*yes, *no;

	yes = d->type == CONF_YESNO ? "yes" : "on";
	no = d->type == CONF_YESNO ? "no" : "off";
	if (strcmp(value, yes) == 0)
		*field = 1;
	else if (strcmp(value, no) == 0)
		*field = 0;
	else
		return conf_error(err, errlen,
		    "%s: \"%s\" is not one of %s, %s", d->name, value, yes,
		    no);
	return 0;
}

int
conf_parse_duration(const char *s, unsigned int *ms, const char **why)
{
	unsigned long long	 n = 0, scale;
	const char		*p;

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (unsigned int)(*p - '0');
		if (n > CONF_DURATION_MAX)
			goto toolong;
	}
	if (p == s) {
		*why = "is not a duration (like 0, 250ms, 10s, 2m)";
		return -1;
	}
	if (*p == '.') {
		*why = "must be a whole number (write 1500ms, not 1.5s)";
		return -1;
	}
	if (strcmp(p, "ms") == 0)
		scale = 1;
	else if (*p == '\0' || strcmp(p, "s") == 0)	/* bare: seconds */
		scale = 1000;
	else if (strcmp(p, "m") == 0)
		scale = 60 * 1000;
	else {
		*why = "has an unknown unit (use ms, s or m)";
		return -1;
	}
	if (n * scale > CONF_DURATION_MAX)
		goto toolong;
	*ms = (unsigned int)(n * scale);
	return 0;
toolong:
	*why = "is too long (at most 1440m)";
	return -1;
}

void
conf_format_duration(unsigned int ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "0");
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%um", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%us", ms / 1000);
	else
		snprintf(buf, len, "%ums", ms);
}

static int
conf_set_duration(const struct conf_directive *d, unsigned int *field,
    const char *value, char *err, size_t errlen)
{
	const char	*why;

	if (conf_parse_duration(value, field, &why) == -1)
		return conf_error(err, errlen, "%s: \"%s\" %s", d->name, value,
		    why);
	return 0;
}

static int
conf_parse_port(const char *name, const char *s, in_port_t *port, char *err,
    size_t errlen)
{
	const char	*errstr;
	long long	 n;

	n = strtonum(s, 1, 65535, &errstr);
	if (errstr != NULL)
		return conf_error(err, errlen, "%s: port \"%s\" is %s "
		    "(1..65535)", name, s, strcmp(errstr, "invalid") == 0 ?
		    "not a number" : errstr);
	*port = htons((in_port_t)n);
	return 0;
}

/*
 * One listen line: the only address (a file's first line, conf_set), or
 * one more (append: a file's later lines).  Two lines the kernel could
 * not both bind are refused here, with both named.
 */
static int
conf_set_listen(struct conf *conf, const char *value, int append, char *err,
    size_t errlen)
{
	struct conf_listen	l;
	int			i;

	if (conf_set_address("listen", l.text, &l.addr, &l.len, value, err,
	    errlen) == -1)
		return -1;
	if (!append) {
		conf->listen[0] = l;
		conf->nlisten = 1;
		return 0;
	}
	for (i = 0; i < conf->nlisten; i++)
		if (conf_listen_overlap(&conf->listen[i], &l, err,
		    errlen) == -1)
			return -1;
	if (conf->nlisten == CONF_LISTEN_MAX)
		return conf_error(err, errlen, "listen: \"%s\" is one too "
		    "many (at most %d listen lines)", value, CONF_LISTEN_MAX);
	conf->listen[conf->nlisten++] = l;
	return 0;
}

/* The address bytes (and their length) and the port of a listen line. */
static const void *
conf_listen_host(const struct conf_listen *l, size_t *len, in_port_t *port)
{
	const struct sockaddr_in	*sin = (const void *)&l->addr;
	const struct sockaddr_in6	*sin6 = (const void *)&l->addr;

	if (l->addr.ss_family == AF_INET) {
		*len = sizeof(sin->sin_addr);
		*port = sin->sin_port;
		return &sin->sin_addr;
	}
	*len = sizeof(sin6->sin6_addr);
	*port = sin6->sin6_port;
	return &sin6->sin6_addr;
}

/*
 * The same address twice, or an address beside the wildcard of its family
 * on the same port: the second bind would fail (EADDRINUSE), or take
 * connections from the first.  IPv4 and IPv6 never overlap: IPv6 sockets
 * are IPv6-only.
 */
static int
conf_listen_overlap(const struct conf_listen *a, const struct conf_listen *b,
    char *err, size_t errlen)
{
	static const unsigned char	 any[16];
	const void			*ha, *hb;
	size_t				 len;
	in_port_t			 pa, pb;

	if (a->addr.ss_family != b->addr.ss_family)
		return 0;
	ha = conf_listen_host(a, &len, &pa);
	hb = conf_listen_host(b, &len, &pb);
	if (pa != pb)
		return 0;
	if (memcmp(ha, hb, len) == 0)
		return conf_error(err, errlen, "listen: \"%s\" is already "
		    "listed (as \"%s\")", b->text, a->text);
	if (memcmp(ha, any, len) == 0 || memcmp(hb, any, len) == 0)
		return conf_error(err, errlen, "listen: \"%s\" overlaps "
		    "\"%s\": the wildcard address already takes port %u on "
		    "every %s address; keep one of the two", b->text, a->text,
		    ntohs(pa), a->addr.ss_family == AF_INET ? "IPv4" : "IPv6");
	return 0;
}

void
conf_listen_join(const struct conf *conf, const char *sep, char *buf,
    size_t len)
{
	int	i;

	buf[0] = '\0';
	for (i = 0; i < conf->nlisten; i++) {
		if (i > 0)
			strlcat(buf, sep, len);
		strlcat(buf, conf->listen[i].text, len);
	}
}

/* By address, not by text: "*:80" is "0.0.0.0:80". */
int
conf_listen_same(const struct conf *a, const struct conf *b)
{
	int	i, j;

	if (a->nlisten != b->nlisten)
		return 0;
	for (i = 0; i < a->nlisten; i++) {
		for (j = 0; j < b->nlisten; j++)
			if (a->listen[i].len == b->listen[j].len &&
			    memcmp(&a->listen[i].addr, &b->listen[j].addr,
			    a->listen[i].len) == 0)
				break;
		if (j == b->nlisten)
			return 0;
	}
	return 1;
}

/*
 * ADDR:PORT, [ADDR6]:PORT, *:PORT or localhost:PORT; no DNS.  text has
 * the size of conf's listen and monitor.
 */
static int
conf_set_address(const char *name, char *text, struct sockaddr_storage *addr,
    socklen_t *addrlen, const char *value, char *err, size_t errlen)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	char			 host[INET6_ADDRSTRLEN + 2];
	const char		*colon, *port;
	size_t			 hostlen;

	if (strlen(value) >= CONF_ADDRESS_MAX)
		return conf_error(err, errlen, "%s: \"%s\" is too long", name,
		    value);
	if (value[0] == '[') {
		colon = strstr(value, "]:");
		if (colon == NULL)
			return conf_error(err, errlen, "%s: \"%s\" is not "
			    "[ADDR6]:PORT", name, value);
		hostlen = (size_t)(colon - value) - 1;
		port = colon + 2;
	} else {
		colon = strrchr(value, ':');
		if (colon == NULL)
			return conf_error(err, errlen, "%s: \"%s\" is not "
			    "ADDR:PORT or [ADDR6]:PORT", name, value);
		if (memchr(value, ':', (size_t)(colon - value)) != NULL)
			return conf_error(err, errlen, "%s: \"%s\": put an "
			    "IPv6 address in brackets, as [ADDR6]:PORT", name,
			    value);
		hostlen = (size_t)(colon - value);
		port = colon + 1;
	}
	if (hostlen >= sizeof(host))
		return conf_error(err, errlen, "%s: address in \"%s\" is "
		    "too long", name, value);
	memcpy(host, value + (value[0] == '['), hostlen);
	host[hostlen] = '\0';

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	sin.sin_family = AF_INET;
	sin6.sin6_family = AF_INET6;
	if (value[0] == '[') {
		if (inet_pton(AF_INET6, host, &sin6.sin6_addr) != 1)
			return conf_error(err, errlen, "%s: \"%s\" is not "
			    "an IPv6 address", name, host);
		if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
			inet_ntop(AF_INET, &sin6.sin6_addr.s6_addr[12], host,
			    sizeof(host));
			return conf_error(err, errlen, "%s: \"%s\" is an "
			    "IPv4-mapped address, which acceptd's IPv6-only "
			    "sockets cannot bind; write %s:%s", name, value,
			    host, port);
		}
		if (conf_parse_port(name, port, &sin6.sin6_port, err,
		    errlen) == -1)
			return -1;
		memset(addr, 0, sizeof(*addr));
		memcpy(addr, &sin6, sizeof(sin6));
		*addrlen = sizeof(sin6);
	} else {
		if (strcmp(host, "*") == 0)
			sin.sin_addr.s_addr = htonl(INADDR_ANY);
		else if (strcmp(host, "localhost") == 0)
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
			return conf_error(err, errlen, "%s: \"%s\" is not "
			    "an IPv4 address (or *, localhost, [ADDR6])", name,
			    host);
		if (conf_parse_port(name, port, &sin.sin_port, err,
		    errlen) == -1)
			return -1;
		memset(addr, 0, sizeof(*addr));
		memcpy(addr, &sin, sizeof(sin));
		*addrlen = sizeof(sin);
	}
	strlcpy(text, value, CONF_ADDRESS_MAX);
	return 0;
}

static int
conf_set_path(const struct conf_directive *d, char *field, const char *value,
    char *err, size_t errlen)
{
	size_t	max = PATH_MAX;

	if (value[0] != '/')
		return conf_error(err, errlen, "%s: \"%s\" must be an absolute "
		    "path", d->name, value);
	if (d->type == CONF_SOCKPATH)
		max = CONF_SUN_PATH_MAX;
	if (strlen(value) >= max)
		return conf_error(err, errlen, "%s: \"%s\" is too long "
		    "(at most %zu bytes%s)", d->name, value, max - 1,
		    d->type == CONF_SOCKPATH ? " for a UNIX socket" : "");
	strlcpy(field, value, PATH_MAX);
	return 0;
}

static int
conf_set_user(char *field, const char *value, char *err, size_t errlen)
{
	if (strlen(value) >= sizeof(((struct conf *)0)->user))
		return conf_error(err, errlen, "user: \"%s\" is too long",
		    value);
	if (getpwnam(value) == NULL)
		return conf_error(err, errlen, "user: unknown user \"%s\"",
		    value);
	strlcpy(field, value, sizeof(((struct conf *)0)->user));
	return 0;
}

/* Parse value into the field d names; on error the field is unchanged. */
static int
conf_apply(const struct conf_directive *d, struct conf *conf,
    struct settings *set, const char *value, char *err, size_t errlen)
{
	void	*field;

	if (value == NULL || value[0] == '\0')
		return conf_error(err, errlen, "%s: missing value", d->name);
	field = conf_field(d, conf, set);
	switch (d->type) {
	case CONF_INT:
		return conf_set_int(d, field, value, err, errlen);
	case CONF_ENUM:
		return conf_set_enum(d, field, value, err, errlen);
	case CONF_YESNO:
	case CONF_ONOFF:
		return conf_set_bool(d, field, value, err, errlen);
	case CONF_DURATION:
		return conf_set_duration(d, field, value, err, errlen);
	case CONF_LISTEN:
		return conf_set_listen(conf, value, 0, err, errlen);
	case CONF_MONITOR:
		return conf_set_address("monitor", conf->monitor,
		    &conf->monitor_addr, &conf->monitor_len, value, err,
		    errlen);
	case CONF_SOCKPATH:
	case CONF_PATH:
		return conf_set_path(d, field, value, err, errlen);
	case CONF_USER:
		return conf_set_user(field, value, err, errlen);
	}
	return conf_error(err, errlen, "%s: internal error", d->name);
}

int
conf_set(struct conf *conf, const char *name, const char *value, char *err,
    size_t errlen)
{
	const struct conf_directive	*d;

	if ((d = conf_lookup(name)) == NULL)
		return conf_error(err, errlen, "unknown directive \"%s\"",
		    name);
	return conf_apply(d, conf, &conf->set, value, err, errlen);
}

int
conf_set_settings(struct settings *set, const char *name, const char *value,
    char *err, size_t errlen)
{
	const struct conf_directive	*d;

	if ((d = conf_lookup(name)) == NULL)
		return conf_error(err, errlen, "unknown directive \"%s\"",
		    name);
	if (!d->runtime)
		return conf_error(err, errlen, "%s: cannot be changed at run "
		    "time; edit the file and reload", name);
	return conf_apply(d, NULL, set, value, err, errlen);
}

int
conf_is_runtime(const char *name)
{
	const struct conf_directive	*d;

	d = conf_lookup(name);
	return d != NULL && d->runtime;
}

/* Lets callers walk the run-time directives without a list of their own. */
const char *
conf_runtime_name(int i)
{
	size_t	j;

	for (j = 0; j < CONF_NDIRECTIVES; j++)
		if (conf_directives[j].runtime && i-- == 0)
			return conf_directives[j].name;
	return NULL;
}

static void
conf_format(const struct conf_directive *d, const struct conf *conf,
    const struct settings *set, char *buf, size_t len)
{
	const void	*field = conf_field(d, conf, set);

	switch (d->type) {
	case CONF_INT:
		snprintf(buf, len, "%d", *(int *)field);
		break;
	case CONF_ENUM:
		strlcpy(buf, conf_enum_name(d->names, *(int *)field), len);
		break;
	case CONF_YESNO:
		strlcpy(buf, *(int *)field ? "yes" : "no", len);
		break;
	case CONF_ONOFF:
		strlcpy(buf, *(int *)field ? "on" : "off", len);
		break;
	case CONF_DURATION:
		conf_format_duration(*(unsigned int *)field, buf, len);
		break;
	case CONF_LISTEN:
	case CONF_MONITOR:
	case CONF_SOCKPATH:
	case CONF_PATH:
	case CONF_USER:
		strlcpy(buf, field, len);
		break;
	}
}

void
conf_print(FILE *fp, const struct conf *conf)
{
	const struct conf_directive	*d;
	char				 buf[PATH_MAX];
	size_t				 i;
	int				 j;

	for (i = 0; i < CONF_NDIRECTIVES; i++) {
		d = &conf_directives[i];
		if (d->type == CONF_LISTEN) {	/* one line each */
			for (j = 0; j < conf->nlisten; j++)
				fprintf(fp, "%s %s\n", d->name,
				    conf->listen[j].text);
			continue;
		}
		conf_format(d, conf, &conf->set, buf, sizeof(buf));
		if ((d->type == CONF_USER || d->type == CONF_MONITOR ||
		    d->type == CONF_PATH) && buf[0] == '\0')
			continue;	/* none */
		fprintf(fp, "%s %s\n", d->name, buf);
	}
}

int
conf_format_setting(const struct settings *set, const char *name, char *buf,
    size_t len)
{
	const struct conf_directive	*d;

	d = conf_lookup(name);
	if (d == NULL || !d->runtime)
		return -1;
	conf_format(d, NULL, set, buf, len);
	return 0;
}

/*
 * One line: name, value, nothing else.  seen[] holds the line each
 * directive first appeared on, for the duplicate message.  listen may
 * be given again: each line adds an address.
 */
static int
conf_parse_line(char *line, int *seen, size_t lineno, struct conf *conf,
    char *err, size_t errlen)
{
	const struct conf_directive	*d;
	const char			*ws = " \t\r\n\v\f";
	char				*name, *value, *extra, *p = line;
	int				 again;

	if ((name = conf_word(&p, ws)) == NULL)
		return 0;
	value = conf_word(&p, ws);
	extra = conf_word(&p, ws);
	if ((d = conf_lookup(name)) == NULL)
		return conf_error(err, errlen, "unknown directive \"%s\"",
		    name);
	again = seen[d - conf_directives] != 0;
	if (again && d->type != CONF_LISTEN)
		return conf_error(err, errlen, "duplicate directive \"%s\" "
		    "(first on line %d)", name, seen[d - conf_directives]);
	if (d->type != CONF_LISTEN)
		seen[d - conf_directives] = (int)lineno;
	if (extra != NULL)
		return conf_error(err, errlen,
		    "%s: unexpected \"%s\" after the value", name, extra);
	if (d->type != CONF_LISTEN || value == NULL || value[0] == '\0')
		return conf_apply(d, conf, &conf->set, value, err, errlen);
	/* The first good listen line replaces the default; others add. */
	if (conf_set_listen(conf, value, again, err, errlen) == -1)
		return -1;
	if (!again)
		seen[d - conf_directives] = (int)lineno;
	return 0;
}

char *
conf_word(char **p, const char *ws)
{
	char	*word;

	*p += strspn(*p, ws);
	if (**p == '\0')
		return NULL;
	word = *p;
	*p += strcspn(*p, ws);
	if (**p != '\0')
		*(*p)++ = '\0';
	return word;
}

static int
conf_parse_file(FILE *fp, const char *path, struct conf *conf, FILE *errs)
{
	static const char	 delim[3] = { '\0', '\0', '#' };
	int			 seen[CONF_NDIRECTIVES] = { 0 };
	char			 err[PATH_MAX + 128], *line;
	size_t			 lineno = 0;
	int			 nerr = 0;

	while ((line = fparseln(fp, NULL, &lineno, delim, 0)) != NULL) {
		if (conf_parse_line(line, seen, lineno, conf, err,
		    sizeof(err)) == -1) {
			if (errs != NULL)
				fprintf(errs, "%s:%zu: %s\n", path, lineno,
				    err);
			nerr++;
		}
		free(line);
	}
	if (ferror(fp)) {
		if (errs != NULL)
			fprintf(errs, "%s: cannot read: %s\n", path,
			    strerror(errno));
		nerr++;
	}
	return nerr;
}

int
conf_load(const char *path, struct conf *conf, FILE *errs)
{
	struct conf	*tmp;
	FILE		*fp;
	int		 nerr;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errs != NULL)
			fprintf(errs, "%s: cannot open: %s\n", path,
			    strerror(errno));
		return 1;
	}
	/* Heap, not stack: two PATH_MAX buffers, and callers may nest. */
	if ((tmp = malloc(sizeof(*tmp))) == NULL) {
		if (errs != NULL)
			fprintf(errs, "%s: %s\n", path, strerror(errno));
		fclose(fp);
		return 1;
	}
	conf_defaults(tmp);
	nerr = conf_parse_file(fp, path, tmp, errs);
	fclose(fp);
	if (nerr == 0)
		*conf = *tmp;
	free(tmp);
	return nerr;
}

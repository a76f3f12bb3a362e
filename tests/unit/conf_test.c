/*
 * Unit tests for common/conf.c: the golden files in tests/conf (good configs
 * print their .out and print the same again after a re-parse; bad configs
 * give exactly their .err), then ranges, durations, addresses, run-time set.
 * Run from the repository root, as prove does.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ev.h"
#include "tap.h"

#define GOOD_DIR	"tests/conf/good"
#define BAD_DIR		"tests/conf/bad"

/* The whole file as a string, or NULL. */
static char *
slurp(const char *path)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 len = 0;
	int	 c;
	FILE	*out;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	if ((out = open_memstream(&buf, &len)) == NULL) {
		fclose(fp);
		return NULL;
	}
	while ((c = getc(fp)) != EOF)
		putc(c, out);
	fclose(fp);
	fclose(out);
	return buf;
}

static char *
print_to_string(const struct conf *conf)
{
	FILE	*out;
	char	*buf = NULL;
	size_t	 len = 0;

	if ((out = open_memstream(&buf, &len)) == NULL)
		abort();
	conf_print(out, conf);
	fclose(out);
	return buf;
}

static int
load_with_errors(const char *path, struct conf *conf, char **errs)
{
	FILE	*out;
	size_t	 len = 0;
	int	 n;

	*errs = NULL;
	if ((out = open_memstream(errs, &len)) == NULL)
		abort();
	n = conf_load(path, conf, out);
	fclose(out);
	return n;
}

static int
count_lines(const char *s)
{
	int	n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

static int
is_conf_file(const struct dirent *de)
{
	size_t	len = strlen(de->d_name);

	return len > 5 && strcmp(de->d_name + len - 5, ".conf") == 0;
}

/* NAME.conf in dir -> dir/NAME.ext */
static void
sibling(char *buf, size_t len, const char *dir, const char *conf,
    const char *ext)
{
	snprintf(buf, len, "%s/%.*s%s", dir, (int)(strlen(conf) - 5), conf,
	    ext);
}

static void
reparse(const char *name, const char *printed, const struct conf *first)
{
	struct conf	 again;
	char		 tmp[] = "/tmp/conf_test.XXXXXX", *errs, *second;
	FILE		*fp;
	int		 fd, n;

	if ((fd = mkstemp(tmp)) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		ok(0, "%s: temporary file: %s", name, strerror(errno));
		return;
	}
	fputs(printed, fp);
	fclose(fp);
	n = load_with_errors(tmp, &again, &errs);
	unlink(tmp);
	is_int(n, 0, "%s: printed config parses again", name);
	if (n != 0)
		tap_diag("%s", errs);
	second = print_to_string(&again);
	is_str(second, printed, "%s: and prints the same", name);
	ok(conf_listen_same(&again, first) && again.nlisten ==
	    first->nlisten, "%s: same listen addresses", name);
	free(second);
	free(errs);
}

static void
test_good(const char *name)
{
	struct conf	 conf;
	char		 path[512], out[512], *want, *got, *errs;
	int		 n;

	snprintf(path, sizeof(path), "%s/%s", GOOD_DIR, name);
	sibling(out, sizeof(out), GOOD_DIR, name, ".out");
	if ((want = slurp(out)) == NULL) {
		ok(0, "%s: cannot read %s: %s", name, out, strerror(errno));
		return;
	}
	n = load_with_errors(path, &conf, &errs);
	is_int(n, 0, "%s: no errors", name);
	if (n != 0) {
		tap_diag("%s", errs);
		free(errs);
		free(want);
		return;
	}
	got = print_to_string(&conf);
	is_str(got, want, "%s: prints %s", name, out);
	reparse(name, got, &conf);
	free(got);
	free(want);
	free(errs);
}

static void
test_bad(const char *name)
{
	struct conf	 conf;
	char		 path[512], err[512], *want, *errs, *before, *after;
	int		 n;

	snprintf(path, sizeof(path), "%s/%s", BAD_DIR, name);
	sibling(err, sizeof(err), BAD_DIR, name, ".err");
	if ((want = slurp(err)) == NULL) {
		ok(0, "%s: cannot read %s: %s", name, err, strerror(errno));
		return;
	}
	conf_defaults(&conf);
	conf.backlog = 4242;	/* a value no file here sets */
	before = print_to_string(&conf);
	n = load_with_errors(path, &conf, &errs);
	is_int(n, count_lines(want), "%s: error count", name);
	is_str(errs, want, "%s: errors as in %s", name, err);
	after = print_to_string(&conf);
	is_str(after, before, "%s: conf untouched", name);
	free(want);
	free(errs);
	free(before);
	free(after);
}

static int
walk(const char *dir, void (*fn)(const char *))
{
	struct dirent	**list;
	int		  i, n;

	n = scandir(dir, &list, is_conf_file, alphasort);
	if (n == -1) {
		printf("Bail out! %s: %s (run from the repository root)\n",
		    dir, strerror(errno));
		exit(1);
	}
	for (i = 0; i < n; i++) {
		fn(list[i]->d_name);
		free(list[i]);
	}
	free(list);
	return n;
}

static void
test_goldens(void)
{
	int	n;

	n = walk(GOOD_DIR, test_good);
	ok(n >= 8, "at least 8 good golden configs (%d)", n);
	n = walk(BAD_DIR, test_bad);
	ok(n >= 20, "at least 20 bad golden configs (%d)", n);
}

/* The configs the project ships must load as they are. */
static void
test_shipped(void)
{
	static const char * const files[] = { "conf/acceptd.conf",
	    "conf/demo-closewait.conf", "conf/demo-herd.conf",
	    "conf/demo-reuseport.conf", NULL };
	struct conf	 conf;
	char		*errs;
	int		 i, n;

	for (i = 0; files[i] != NULL; i++) {
		n = load_with_errors(files[i], &conf, &errs);
		is_int(n, 0, "%s loads", files[i]);
		if (n != 0)
			tap_diag("%s", errs);
		free(errs);
	}
}

static void
test_unreadable(void)
{
	struct conf	 conf;
	char		 want[256], *errs;
	int		 n;

	n = load_with_errors("tests/conf/no-such-file.conf", &conf, &errs);
	is_int(n, 1, "missing file: one error");
	snprintf(want, sizeof(want), "tests/conf/no-such-file.conf: cannot "
	    "open: %s\n", strerror(ENOENT));
	is_str(errs, want, "missing file: path: cannot open: reason");
	free(errs);

	n = load_with_errors("tests/conf", &conf, &errs);
	is_int(n, 1, "directory: one error");
	snprintf(want, sizeof(want), "tests/conf: cannot read: %s\n",
	    strerror(EISDIR));
	is_str(errs, want, "directory: path: cannot read: reason");
	free(errs);

	is_int(conf_load("tests/conf/no-such-file.conf", &conf, NULL), 1,
	    "errs may be NULL");
}

struct duration_case {
	const char	*text;
	int		 ok;
	unsigned int	 ms;
	const char	*why;
};

static void
check_durations(const struct duration_case *cases, size_t n,
    int (*parse)(const char *, unsigned int *, const char **),
    const char *what)
{
	const char	*why;
	unsigned int	 ms;
	size_t		 i;
	int		 rc;

	for (i = 0; i < n; i++) {
		ms = 12345;
		why = NULL;
		rc = parse(cases[i].text, &ms, &why);
		if (cases[i].ok) {
			is_int(rc, 0, "%s \"%s\" parses", what, cases[i].text);
			is_int(ms, cases[i].ms, "%s \"%s\" = %u ms", what,
			    cases[i].text, cases[i].ms);
		} else {
			is_int(rc, -1, "%s \"%s\" refused", what,
			    cases[i].text);
			is_str(why, cases[i].why, "%s \"%s\": why", what,
			    cases[i].text);
			is_int(ms, 12345, "%s \"%s\": ms untouched", what,
			    cases[i].text);
		}
	}
}

static void
test_durations(void)
{
	static const struct duration_case cases[] = {
		{ "0", 1, 0, NULL },
		{ "0ms", 1, 0, NULL },
		{ "0s", 1, 0, NULL },
		{ "1ms", 1, 1, NULL },
		{ "250ms", 1, 250, NULL },
		{ "10s", 1, 10000, NULL },
		{ "2m", 1, 120000, NULL },
		{ "1440m", 1, 86400000, NULL },
		{ "86400000ms", 1, 86400000, NULL },
		{ "10", 1, 10000, NULL },
		{ "1", 1, 1000, NULL },
		{ "", 0, 0, "is not a duration (like 0, 250ms, 10s, 2m)" },
		{ "ms", 0, 0, "is not a duration (like 0, 250ms, 10s, 2m)" },
		{ "-1s", 0, 0, "is not a duration (like 0, 250ms, 10s, 2m)" },
		{ " 1s", 0, 0, "is not a duration (like 0, 250ms, 10s, 2m)" },
		{ "1h", 0, 0, "has an unknown unit (use ms, s or m)" },
		{ "1S", 0, 0, "has an unknown unit (use ms, s or m)" },
		{ "1s ", 0, 0, "has an unknown unit (use ms, s or m)" },
		{ "1.5s", 0, 0, "must be a whole number (write 1500ms, not "
		    "1.5s)" },
		{ "1441m", 0, 0, "is too long (at most 1440m)" },
		{ "86401s", 0, 0, "is too long (at most 1440m)" },
		{ "86400001ms", 0, 0, "is too long (at most 1440m)" },
		{ "4294967296ms", 0, 0, "is too long (at most 1440m)" },
		{ "184467440737095516160s", 0, 0,
		    "is too long (at most 1440m)" },
	};

	check_durations(cases, sizeof(cases) / sizeof(cases[0]),
	    conf_parse_duration, "duration");
}

/* A bare number is seconds, in the file as on a command line. */
static void
test_duration_args(void)
{
	static const struct duration_case cases[] = {
		{ "0", 1, 0, NULL },
		{ "5", 1, 5000, NULL },
		{ "86400", 1, 86400000, NULL },
		{ "250ms", 1, 250, NULL },
		{ "2m", 1, 120000, NULL },
		{ "86401", 0, 0, "is too long (at most 1440m)" },
		{ "99999999999999999999", 0, 0, "is too long (at most 1440m)" },
		{ "-5", 0, 0, "is not a duration (like 0, 250ms, 10s, 2m)" },
		{ "+5", 0, 0, "is not a duration (like 0, 250ms, 10s, 2m)" },
		{ " 5", 0, 0, "is not a duration (like 0, 250ms, 10s, 2m)" },
		{ "", 0, 0, "is not a duration (like 0, 250ms, 10s, 2m)" },
		{ "1.5", 0, 0, "must be a whole number (write 1500ms, not "
		    "1.5s)" },
		{ "5h", 0, 0, "has an unknown unit (use ms, s or m)" },
	};

	check_durations(cases, sizeof(cases) / sizeof(cases[0]),
	    conf_parse_duration, "bare seconds");
}

static void
test_format_duration(void)
{
	static const struct {
		unsigned int	 ms;
		const char	*text;
	} cases[] = {
		{ 0, "0" }, { 1, "1ms" }, { 999, "999ms" }, { 1000, "1s" },
		{ 1500, "1500ms" }, { 59000, "59s" }, { 60000, "1m" },
		{ 90000, "90s" }, { 120000, "2m" }, { 86400000, "1440m" },
		{ 86399999, "86399999ms" },
	};
	char	buf[32];
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_format_duration(cases[i].ms, buf, sizeof(buf));
		is_str(buf, cases[i].text, "format %u ms", cases[i].ms);
	}
}

/* True if the printed conf has exactly the line "name value". */
static int
prints_line(const struct conf *conf, const char *name, const char *value)
{
	char	line[256], *text;
	int	found;

	text = print_to_string(conf);
	snprintf(line, sizeof(line), "\n%s %s\n", name, value);
	found = strstr(text, line) != NULL ||
	    strncmp(text, line + 1, strlen(line + 1)) == 0;
	free(text);
	return found;
}

static void
check_range(const char *name, long long min, long long max)
{
	struct conf	conf;
	char		value[32], err[256], want[256];

	conf_defaults(&conf);
	snprintf(value, sizeof(value), "%lld", min);
	is_int(conf_set(&conf, name, value, err, sizeof(err)), 0,
	    "%s %s accepted", name, value);
	ok(prints_line(&conf, name, value), "%s %s printed", name, value);
	snprintf(value, sizeof(value), "%lld", max);
	is_int(conf_set(&conf, name, value, err, sizeof(err)), 0,
	    "%s %s accepted", name, value);
	ok(prints_line(&conf, name, value), "%s %s printed", name, value);

	snprintf(value, sizeof(value), "%lld", min - 1);
	is_int(conf_set(&conf, name, value, err, sizeof(err)), -1,
	    "%s %s refused", name, value);
	snprintf(want, sizeof(want), "%s: \"%s\" is too small (%lld..%lld)",
	    name, value, min, max);
	is_str(err, want, "%s %s: message", name, value);
	snprintf(value, sizeof(value), "%lld", max + 1);
	is_int(conf_set(&conf, name, value, err, sizeof(err)), -1,
	    "%s %s refused", name, value);
	snprintf(want, sizeof(want), "%s: \"%s\" is too large (%lld..%lld)",
	    name, value, min, max);
	is_str(err, want, "%s %s: message", name, value);
	snprintf(value, sizeof(value), "%lld", max);
	ok(prints_line(&conf, name, value), "%s keeps %s after refusals",
	    name, value);
}

static void
check_words(const char *name, const char * const *words)
{
	struct conf	conf;
	char		err[256];
	int		i;

	conf_defaults(&conf);
	for (i = 0; words[i] != NULL; i++) {
		is_int(conf_set(&conf, name, words[i], err, sizeof(err)), 0,
		    "%s %s accepted", name, words[i]);
		ok(prints_line(&conf, name, words[i]), "%s %s printed", name,
		    words[i]);
	}
}

static void
test_ranges(void)
{
	static const char * const accept[] = { "shared", "exclusive",
	    "reuseport", NULL };
	static const char * const protocol[] = { "http", "echo", "oneshot",
	    "discard", NULL };
	static const char * const close_mode[] = { "graceful", "reset", "half",
	    "never", NULL };
	static const char * const level[] = { "error", "warn", "info",
	    "debug", NULL };
	static const char * const yesno[] = { "yes", "no", NULL };
	static const char * const onoff[] = { "on", "off", NULL };
	static const char * const durations[] = { "0", "1ms", "1s", "1m",
	    "1440m", NULL };
	static const char * const paths[] = { "/x", "/run/a/b.sock", NULL };

	check_range("backlog", 0, 65535);
	check_range("workers", 1, CONF_WORKERS_MAX);
	check_range("accept-batch", 1, 1024);
	check_range("max-connections", 1, 1048576);
	check_range("accept-rate", 0, 1000000);
	check_words("accept", accept);
	check_words("protocol", protocol);
	check_words("close-mode", close_mode);
	check_words("log-level", level);
	check_words("paused", yesno);
	check_words("reading", onoff);
	check_words("response-delay", durations);
	check_words("idle-timeout", durations);
	check_words("shutdown-timeout", durations);
	check_words("control", paths);
	check_words("pidfile", paths);
}

static void
test_enum_names(void)
{
	is_str(conf_accept_name(ACCEPT_SHARED), "shared", "accept name");
	is_str(conf_accept_name(ACCEPT_REUSEPORT), "reuseport", "accept name");
	is_str(conf_protocol_name(PROTO_ONESHOT), "oneshot", "protocol name");
	is_str(conf_close_name(CLOSE_NEVER), "never", "close name");
	is_str(conf_close_name((enum close_mode)99), "?", "out of range enum");
}

static void
check_listen(const char *value, int family, const char *addr, int port)
{
	struct conf	 conf;
	char		 err[256], text[INET6_ADDRSTRLEN];
	const void	*a;
	int		 p;

	conf_defaults(&conf);
	if (!ok(conf_set(&conf, "listen", value, err, sizeof(err)) == 0,
	    "listen %s accepted", value)) {
		tap_diag("%s", err);
		return;
	}
	is_int(conf.nlisten, 1, "listen %s: the only address", value);
	is_int(conf.listen[0].addr.ss_family, family, "listen %s: family",
	    value);
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (void *)&conf.listen[0].addr;

		is_int(conf.listen[0].len, sizeof(*sin6), "listen %s: length",
		    value);
		a = &sin6->sin6_addr;
		p = ntohs(sin6->sin6_port);
	} else {
		struct sockaddr_in *sin = (void *)&conf.listen[0].addr;

		is_int(conf.listen[0].len, sizeof(*sin), "listen %s: length",
		    value);
		a = &sin->sin_addr;
		p = ntohs(sin->sin_port);
	}
	inet_ntop(family, a, text, sizeof(text));
	is_str(text, addr, "listen %s: address", value);
	is_int(p, port, "listen %s: port", value);
	is_str(conf.listen[0].text, value, "listen %s: kept as written",
	    value);
}

static void
test_listen(void)
{
	struct conf	conf;
	char		err[256];

	check_listen("127.0.0.1:8080", AF_INET, "127.0.0.1", 8080);
	check_listen("*:80", AF_INET, "0.0.0.0", 80);
	check_listen("localhost:1", AF_INET, "127.0.0.1", 1);
	check_listen("[::1]:8443", AF_INET6, "::1", 8443);
	check_listen("[::]:65535", AF_INET6, "::", 65535);
	check_listen("[fe80::1:2]:9", AF_INET6, "fe80::1:2", 9);

	/* From IPv6 back to IPv4 leaves no IPv6 bytes behind. */
	conf_defaults(&conf);
	conf_set(&conf, "listen", "[::1]:80", err, sizeof(err));
	conf_set(&conf, "listen", "127.0.0.1:81", err, sizeof(err));
	is_int(conf.nlisten, 1, "conf_set replaces: one address");
	is_int(conf.listen[0].addr.ss_family, AF_INET, "v6 then v4: family");
	is_str(conf.listen[0].text, "127.0.0.1:81", "v6 then v4: text");

	is_int(conf_set(&conf, "listen", "[::1]80", err, sizeof(err)), -1,
	    "[::1]80 refused");
	is_str(err, "listen: \"[::1]80\" is not [ADDR6]:PORT", "message");
	is_int(conf_set(&conf, "listen", "1.2.3.4:", err, sizeof(err)), -1,
	    "empty port refused");
	is_str(err, "listen: port \"\" is not a number (1..65535)", "message");
	is_int(conf_set(&conf, "listen", ":80", err, sizeof(err)), -1,
	    "empty address refused");
	is_str(err, "listen: \"\" is not an IPv4 address (or *, localhost, "
	    "[ADDR6])", "message");
	is_int(conf_set(&conf, "listen", "[::1]:65536", err, sizeof(err)), -1,
	    "IPv6 port 65536 refused");
	is_str(err, "listen: port \"65536\" is too large (1..65535)",
	    "message");
	is_int(conf_set(&conf, "listen", "[::ffff:127.0.0.1]:80", err,
	    sizeof(err)), -1, "IPv4-mapped refused");
	is_str(err, "listen: \"[::ffff:127.0.0.1]:80\" is an IPv4-mapped "
	    "address, which acceptd's IPv6-only sockets cannot bind; write "
	    "127.0.0.1:80", "message");
	is_int(conf_set(&conf, "listen", "[::ffff:7f00:2]:80", err,
	    sizeof(err)), -1, "IPv4-mapped in hex refused");
	is_str(err, "listen: \"[::ffff:7f00:2]:80\" is an IPv4-mapped "
	    "address, which acceptd's IPv6-only sockets cannot bind; write "
	    "127.0.0.2:80", "message: the IPv4 address, dotted");
	is_str(conf.listen[0].text, "127.0.0.1:81",
	    "refusals leave listen alone");
}

/* Several listen lines: what the file lists, and how two compare. */
static void
test_listen_lines(void)
{
	struct conf	 a, b;
	char		 buf[256], *errs;
	int		 n;

	n = load_with_errors(GOOD_DIR "/listeners.conf", &a, &errs);
	is_int(n, 0, "listeners.conf loads");
	free(errs);
	is_int(a.nlisten, 3, "three listen lines, three addresses");
	is_int(a.listen[0].addr.ss_family, AF_INET6, "the first is IPv6");
	is_int(a.listen[1].addr.ss_family, AF_INET, "the second IPv4");
	conf_listen_join(&a, ", ", buf, sizeof(buf));
	is_str(buf, "[::]:8087, 0.0.0.0:8087, 127.0.0.1:9000",
	    "joined in file order");
	ok(conf_listen_same(&a, &a), "the same as itself");

	b = a;
	b.listen[0] = a.listen[2];
	b.listen[2] = a.listen[0];
	ok(conf_listen_same(&a, &b), "another order: the same addresses");
	b.nlisten = 2;
	ok(!conf_listen_same(&a, &b), "one fewer: not the same");
	ok(!conf_listen_same(&b, &a), "one more: not the same");
	conf_defaults(&b);
	conf_set(&b, "listen", "*:8087", NULL, 0);
	b.listen[1] = a.listen[0];
	b.listen[2] = a.listen[2];
	b.nlisten = 3;
	ok(conf_listen_same(&a, &b), "*:8087 is 0.0.0.0:8087");
	conf_set(&b, "listen", "127.0.0.1:9000", NULL, 0);
	is_int(b.nlisten, 1, "conf_set listen leaves one address");
}

static void
test_set(void)
{
	struct conf	conf;
	char		err[256];

	conf_defaults(&conf);
	is_int(conf_set(&conf, "listn", "x", err, sizeof(err)), -1,
	    "unknown directive refused");
	is_str(err, "unknown directive \"listn\"", "message");
	is_int(conf_set(&conf, "backlog", NULL, err, sizeof(err)), -1,
	    "NULL value refused");
	is_str(err, "backlog: missing value", "message");
	is_int(conf_set(&conf, "backlog", "", err, sizeof(err)), -1,
	    "empty value refused");
	is_str(err, "backlog: missing value", "message");
	is_int(conf_set(&conf, "control", "rel/x.sock", err, sizeof(err)),
	    -1, "relative control refused");
	is_str(err, "control: \"rel/x.sock\" must be an absolute path",
	    "message");
	is_int(conf_set(&conf, "user", "root", err, sizeof(err)), 0,
	    "user root accepted");
	ok(prints_line(&conf, "user", "root"), "user printed");
	is_int(conf_set(&conf, "user", "nobody-acceptd-x", err, sizeof(err)),
	    -1, "unknown user refused");
	is_str(err, "user: unknown user \"nobody-acceptd-x\"", "message");
	is_str(conf.user, "root", "user kept");
	is_int(conf_set(&conf, "paused", "yes", NULL, 0), 0,
	    "err may be NULL");
	is_int(conf_set(&conf, "paused", "maybe", NULL, 0), -1,
	    "err may be NULL on error");
	is_int(conf.set.paused, 1, "paused set through conf_set");
}

static void
test_set_settings(void)
{
	struct settings	set;
	struct conf	conf;
	char		err[256], buf[64];

	conf_defaults(&conf);
	set = conf.set;
	is_int(conf_set_settings(&set, "max-connections", "1", err,
	    sizeof(err)), 0, "settings: max-connections 1");
	is_int(set.max_connections, 1, "settings: value stored");
	is_int(conf_set_settings(&set, "max-connections", "0", err,
	    sizeof(err)), -1, "settings: max-connections 0 refused");
	is_str(err, "max-connections: \"0\" is too small (1..1048576)",
	    "settings: message");
	is_int(set.max_connections, 1, "settings: value kept");
	is_int(conf_set_settings(&set, "close-mode", "rst", err,
	    sizeof(err)), -1, "settings: bad enum");
	is_str(err, "close-mode: \"rst\" is not one of graceful, reset, half, "
	    "never", "settings: message");
	is_int(conf_set_settings(&set, "response-delay", "5", err,
	    sizeof(err)), 0, "settings: a bare number is seconds");
	is_int(set.response_delay_ms, 5000, "settings: 5 is 5s");
	is_int(conf_set_settings(&set, "response-delay", "5h", err,
	    sizeof(err)), -1, "settings: unknown unit");
	is_str(err, "response-delay: \"5h\" has an unknown unit (use ms, s "
	    "or m)", "settings: message");
	is_int(conf_set_settings(&set, "listen", "127.0.0.1:1", err,
	    sizeof(err)), -1, "settings: listen refused");
	is_str(err, "listen: cannot be changed at run time; edit the file "
	    "and reload", "settings: message");
	is_int(conf_set_settings(&set, "nope", "1", err, sizeof(err)), -1,
	    "settings: unknown refused");
	is_str(err, "unknown directive \"nope\"", "settings: message");
	is_int(conf_set_settings(&set, "reading", NULL, err, sizeof(err)),
	    -1, "settings: missing value");
	is_str(err, "reading: missing value", "settings: message");

	conf_set_settings(&set, "close-mode", "never", err, sizeof(err));
	conf_set_settings(&set, "reading", "off", err, sizeof(err));
	conf_set_settings(&set, "idle-timeout", "90s", err, sizeof(err));
	conf_set_settings(&set, "paused", "yes", err, sizeof(err));
	is_int(set.close_mode, CLOSE_NEVER, "settings: close-mode never");
	is_int(set.reading, 0, "settings: reading off");
	is_int(set.idle_timeout_ms, 90000, "settings: idle-timeout 90s");
	is_int(set.paused, 1, "settings: paused yes");

	is_int(conf_format_setting(&set, "close-mode", buf, sizeof(buf)), 0,
	    "format close-mode");
	is_str(buf, "never", "format close-mode value");
	conf_format_setting(&set, "reading", buf, sizeof(buf));
	is_str(buf, "off", "format reading");
	conf_format_setting(&set, "idle-timeout", buf, sizeof(buf));
	is_str(buf, "90s", "format idle-timeout");
	conf_format_setting(&set, "paused", buf, sizeof(buf));
	is_str(buf, "yes", "format paused");
	conf_format_setting(&set, "max-connections", buf, sizeof(buf));
	is_str(buf, "1", "format max-connections");
	conf_format_setting(&set, "accept-batch", buf, sizeof(buf));
	is_str(buf, "16", "format accept-batch");
	conf_format_setting(&set, "protocol", buf, sizeof(buf));
	is_str(buf, "http", "format protocol");
	is_int(conf_format_setting(&set, "listen", buf, sizeof(buf)), -1,
	    "format listen refused (not run-time)");
	is_int(conf_format_setting(&set, "nope", buf, sizeof(buf)), -1,
	    "format unknown refused");
}

static void
test_runtime(void)
{
	static const char * const yes[] = { "accept-batch", "max-connections",
	    "accept-rate", "paused", "protocol", "close-mode", "reading",
	    "response-delay", "idle-timeout", NULL };
	static const char * const no[] = { "listen", "backlog", "workers",
	    "accept", "shutdown-timeout", "control", "pidfile", "user",
	    "log-level", "bogus", "", NULL };
	struct settings	set;
	struct conf	conf;
	char		buf[64], err[256];
	int		i;

	conf_defaults(&conf);
	set = conf.set;
	for (i = 0; yes[i] != NULL; i++) {
		ok(conf_is_runtime(yes[i]), "%s is run-time", yes[i]);
		is_int(conf_format_setting(&set, yes[i], buf, sizeof(buf)), 0,
		    "%s formats", yes[i]);
		is_int(conf_set_settings(&set, yes[i], buf, err, sizeof(err)),
		    0, "%s: its formatted value parses", yes[i]);
	}
	for (i = 0; no[i] != NULL; i++)
		ok(!conf_is_runtime(no[i]), "\"%s\" is not run-time", no[i]);
	for (i = 0; yes[i] != NULL; i++)
		is_str(conf_runtime_name(i), yes[i], "run-time name %d", i);
	ok(conf_runtime_name(i) == NULL, "run-time names end with NULL");
	ok(conf_runtime_name(-1) == NULL, "negative index: NULL");
}

static void
test_defaults(void)
{
	struct conf	 conf;
	char		 buf[PATH_MAX], want[PATH_MAX];
	long		 cpus;
	int		 expect;

	conf_defaults(&conf);
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	expect = cpus < 1 ? 1 : cpus > CONF_WORKERS_MAX ? CONF_WORKERS_MAX :
	    (int)cpus;
	is_int(conf.workers, expect, "workers default = online CPUs");
	is_int(conf.nlisten, 1, "one listen address by default");
	is_str(conf.listen[0].text, "127.0.0.1:8080", "listen default");
	is_int(conf.listen[0].len, sizeof(struct sockaddr_in),
	    "listen length");
	is_int(conf.set.idle_timeout_ms, 60000, "idle-timeout default");
	/* kqueue has no exclusive wake-up: there the default is shared. */
	is_int(conf.accept, EV_HAVE_EXCLUSIVE ? ACCEPT_EXCLUSIVE :
	    ACCEPT_SHARED, "accept default (shared on kqueue)");
	is_str(conf.user, "", "no user by default");

	if (geteuid() != 0) {
		tap_diag("not root: skipping the root and other-user branches");
		return;
	}
	conf_default_control(buf, sizeof(buf));
	is_str(buf, "/run/acceptd/acceptd.sock", "root: control");
	conf_default_pidfile(buf, sizeof(buf));
	is_str(buf, "/run/acceptd/acceptd.pid", "root: pidfile");

	/* Another user, effective uid only, so root can come back. */
	if (seteuid(65534) == -1) {
		ok(0, "seteuid: %s", strerror(errno));
		return;
	}
	setenv("XDG_RUNTIME_DIR", "/run/user/65534", 1);
	conf_default_control(buf, sizeof(buf));
	is_str(buf, "/run/user/65534/acceptd/acceptd.sock", "user: XDG");
	setenv("XDG_RUNTIME_DIR", "relative/dir", 1);
	conf_default_pidfile(buf, sizeof(buf));
	is_str(buf, "/tmp/acceptd-65534/acceptd.pid", "user: relative XDG");
	unsetenv("XDG_RUNTIME_DIR");
	conf_default_dir(buf, sizeof(buf));
	is_str(buf, "/tmp/acceptd-65534", "user: no XDG");
	memset(want, 'x', 200);
	want[0] = '/';
	want[200] = '\0';
	setenv("XDG_RUNTIME_DIR", want, 1);
	conf_default_control(buf, sizeof(buf));
	is_str(buf, "/tmp/acceptd-65534/acceptd.sock",
	    "user: XDG too long for a socket path");
	unsetenv("XDG_RUNTIME_DIR");
	ok(seteuid(0) == 0, "back to root");
}

int
main(void)
{
	test_goldens();
	test_shipped();
	test_unreadable();
	test_durations();
	test_duration_args();
	test_format_duration();
	test_ranges();
	test_enum_names();
	test_listen();
	test_listen_lines();
	test_set();
	test_set_settings();
	test_runtime();
	test_defaults();
	return tap_done();
}

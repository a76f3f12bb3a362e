/*
 * Recorders' own formats into events: tcpdump's text (-tt -nn) into the
 * wire lane, acceptctl's JSON trace into the app and kernel lanes.  Both stamp
 * wall-clock time; the run file's clock offset makes it monotonic.
 */
#include <ctype.h>
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "scenlog.h"

#define ADDR_MAX	64

/* "127.0.0.1.33226" or "::1.33226" (tcpdump) as "127.0.0.1:33226". */
static int
tcpdump_addr(const char *s, size_t len, char *out, size_t outlen)
{
	const char	*dot;

	if ((dot = memrchr(s, '.', len)) == NULL || dot == s)
		return -1;
	if (memchr(s, ':', dot - s) != NULL)
		snprintf(out, outlen, "[%.*s]:%.*s", (int)(dot - s), s,
		    (int)(len - (dot - s) - 1), dot + 1);
	else
		snprintf(out, outlen, "%.*s:%.*s", (int)(dot - s), s,
		    (int)(len - (dot - s) - 1), dot + 1);
	return 0;
}

/* The value after ", NAME " up to the next comma, or NULL. */
static const char *
tcpdump_field(const char *line, const char *name, char *out, size_t len)
{
	char		 key[32];
	const char	*p;
	size_t		 n;

	snprintf(key, sizeof(key), ", %s ", name);
	if ((p = strstr(line, key)) == NULL)
		return NULL;
	p += strlen(key);
	n = strcspn(p, ",\r\n");
	snprintf(out, len, "%.*s", (int)n, p);
	return out;
}

/* An option's value from "options [mss 65495,...,wscale 10]". */
static const char *
tcpdump_option(const char *line, const char *name, char *out, size_t len)
{
	char		 key[32];
	const char	*p;

	snprintf(key, sizeof(key), "%s ", name);
	if ((p = strstr(line, "options [")) == NULL ||
	    (p = strstr(p, key)) == NULL)
		return NULL;
	p += strlen(key);
	snprintf(out, len, "%.*s", (int)strspn(p, "0123456789"), p);
	return out;
}

static const char *
addr_port(const char *a)
{
	const char	*c = strrchr(a, ':');

	return c ? c + 1 : a;
}

/*
 * One line of tcpdump -tt -nn into a wire event; server is the listener's
 * "ADDR:PORT", offset realtime minus monotonic.  0, or -1 when the line
 * is not a TCP packet.
 */
int
scen_wire_line(const char *line, const char *server, long long offset,
    FILE *out)
{
	char		 src[ADDR_MAX], dst[ADDR_MAX], conn[2 * ADDR_MAX + 2];
	char		 flags[16], seq[32], ack[32], win[32], len[32], ws[8];
	const char	*p, *q, *from;
	long long	 t;
	size_t		 n;

	if (scen_parse_seconds_ns(line, &t) == -1)
		return -1;
	p = line + strcspn(line, " ");
	if (strncmp(p, " IP ", 4) != 0 && strncmp(p, " IP6 ", 5) != 0)
		return -1;
	p += p[3] == ' ' ? 4 : 5;
	n = strcspn(p, " ");
	if (tcpdump_addr(p, n, src, sizeof(src)) == -1 ||
	    strncmp(p + n, " > ", 3) != 0)
		return -1;
	p += n + 3;
	if ((q = strstr(p, ": ")) == NULL ||
	    tcpdump_addr(p, q - p, dst, sizeof(dst)) == -1)
		return -1;
	if ((q = strstr(p, "Flags [")) == NULL)
		return -1;
	q += 7;
	n = strcspn(q, "]");
	if (n + 2 > sizeof(flags))
		return -1;
	snprintf(flags, sizeof(flags), "%.*s", (int)n, q);
	if (tcpdump_field(line, "length", len, sizeof(len)) == NULL)
		snprintf(len, sizeof(len), "0");
	if (strcmp(len, "0") != 0)
		strlcat(flags, "D", sizeof(flags));	/* carries data */
	if (strcmp(src, server) == 0 || (strcmp(dst, server) != 0 &&
	    strcmp(addr_port(src), addr_port(server)) == 0)) {
		from = "server";
		snprintf(conn, sizeof(conn), "%s>%s", dst, src);
	} else {
		from = "client";
		snprintf(conn, sizeof(conn), "%s>%s", src, dst);
	}
	scen_event_write(out, t - offset, "wire", conn, "packet",
	    "from", from, "flags", flags,
	    "seq", tcpdump_field(line, "seq", seq, sizeof(seq)),
	    "ack", tcpdump_field(line, "ack", ack, sizeof(ack)),
	    "win", tcpdump_field(line, "win", win, sizeof(win)),
	    "len", len,
	    "wscale", tcpdump_option(line, "wscale", ws, sizeof(ws)), NULL);
	return 0;
}

int
scen_ingest_wire(FILE *in, FILE *out, const char *server, long long offset)
{
	char	*line = NULL;
	size_t	 cap = 0;

	while (getline(&line, &cap, in) != -1)
		(void)scen_wire_line(line, server, offset, out);
	free(line);
	return 0;
}

/* A JSON string's text, unescaped in place; p is past the opening quote. */
static char *
json_unquote(char **pp)
{
	char	*p = *pp, *start = p, *w = p;
	unsigned int u;

	while (*p != '\0' && *p != '"') {
		if (*p != '\\') {
			*w++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': case 't': case 'r':
			*w++ = ' ';
			break;
		case 'u':
			if (sscanf(p + 1, "%4x", &u) == 1 && strlen(p) > 4) {
				*w++ = u >= 0x20 && u < 0x7f ? (char)u : '?';
				p += 4;
			}
			break;
		case '\0':
			p--;
			break;
		default:
			*w++ = *p;
		}
		p++;
	}
	if (*p != '"')
		return NULL;
	*w = '\0';
	*pp = p + 1;
	return start;
}

/*
 * A flat JSON object ({"k":"v","n":1}) into fields, in place; nested
 * values are not read.  The count, or -1 when it is not such an object.
 */
int
scen_json_flat(char *s, struct scen_field *f, int max)
{
	char	*p = s, *k, *v;
	int	 n = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (*p++ != '{')
		return -1;
	for (;;) {
		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (*p == '}')
			return n;
		if (*p++ != '"' || (k = json_unquote(&p)) == NULL)
			return -1;
		while (isspace((unsigned char)*p))
			p++;
		if (*p++ != ':')
			return -1;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '"') {
			p++;
			if ((v = json_unquote(&p)) == NULL)
				return -1;
		} else {
			v = p;
			p += strcspn(p, ",}");
			if (*p == '\0' || *p == '{' || *p == '[')
				return -1;
			if (*p == '}') {
				*p = '\0';
				if (n < max) {
					f[n].key = k;
					f[n++].value = v;
				}
				return n;
			}
			*p++ = '\0';
		}
		if (n < max) {
			f[n].key = k;
			f[n++].value = v;
		}
	}
}

static const char *
json_get(const struct scen_field *f, int n, const char *key)
{
	int	i;

	for (i = 0; i < n; i++)
		if (strcmp(f[i].key, key) == 0)
			return f[i].value;
	return NULL;
}

/* An address with no host and no port: a listener's missing peer. */
static int
addr_unspecified(const char *a)
{
	return a == NULL || *a == '\0' || strcmp(a, "-") == 0 ||
	    strcmp(a, "0.0.0.0:0") == 0 || strcmp(a, "[::]:0") == 0;
}

/*
 * A kernel event of acceptctl -j trace ("source":"kernel") into the
 * kernel lane.  "local" is the socket's own address: the server's port
 * there makes it the server's side, else it is the local client's.  The
 * connection is written client first, as in every lane; a listener's
 * own events (no peer) belong to no connection and keep "local".
 */
static void
ingest_kernel(FILE *out, const struct scen_field *f, int n,
    const char *server, long long t)
{
	const char	*ev = json_get(f, n, "event");
	const char	*local = json_get(f, n, "local");
	const char	*peer = json_get(f, n, "peer");
	const char	*side = NULL;
	char		 conn[2 * ADDR_MAX + 2];

	snprintf(conn, sizeof(conn), "%s", SCEN_NOCONN);
	if (local != NULL && *local != '\0') {
		if (strcmp(addr_port(local), addr_port(server)) == 0) {
			side = "server";
			if (!addr_unspecified(peer))
				snprintf(conn, sizeof(conn), "%s>%s", peer,
				    local);
		} else {
			side = "client";
			if (!addr_unspecified(peer))
				snprintf(conn, sizeof(conn), "%s>%s", local,
				    peer);
		}
	}
	scen_event_write(out, t, "kernel", conn, ev,
	    "side", side,
	    "from", json_get(f, n, "from"),
	    "to", json_get(f, n, "to"),
	    "reason", json_get(f, n, "reason"),
	    "state", json_get(f, n, "state"),
	    "local", strcmp(conn, SCEN_NOCONN) == 0 ? local : NULL,
	    "detail", json_get(f, n, "detail"), NULL);
}

/*
 * acceptctl -j trace lines into events: acceptd's own into the app
 * lane, the kernel's ("source":"kernel") into the kernel lane.
 */
int
scen_ingest_app(FILE *in, FILE *out, const char *server, long long offset)
{
	struct scen_field	 f[16];
	char			*line = NULL, conn[2 * ADDR_MAX + 2];
	const char		*tm, *peer, *ev, *src;
	size_t			 cap = 0;
	long long		 t;
	int			 n;

	while (getline(&line, &cap, in) != -1) {
		if ((n = scen_json_flat(line, f, 16)) <= 0 ||
		    (tm = json_get(f, n, "time")) == NULL ||
		    (ev = json_get(f, n, "event")) == NULL ||
		    scen_parse_seconds_ns(tm, &t) == -1)
			continue;
		if ((src = json_get(f, n, "source")) != NULL &&
		    strcmp(src, "kernel") == 0) {
			ingest_kernel(out, f, n, server, t - offset);
			continue;
		}
		peer = json_get(f, n, "peer");
		if (peer != NULL && *peer != '\0' && strcmp(peer, "-") != 0)
			snprintf(conn, sizeof(conn), "%s>%s", peer, server);
		else
			snprintf(conn, sizeof(conn), "%s", SCEN_NOCONN);
		scen_event_write(out, t - offset, "app", conn, ev,
		    "source", json_get(f, n, "source"),
		    "worker", json_get(f, n, "worker"),
		    "id", json_get(f, n, "conn"),
		    "detail", json_get(f, n, "detail"), NULL);
	}
	free(line);
	return 0;
}

/*
 * The event log's lines and the run file: parsing, writing, reading whole
 * files.  Every time is CLOCK_MONOTONIC nanoseconds; recorders that see
 * wall-clock time convert with the run file's offset.
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scenlog.h"

static char	*next_column(char **);
static int	 event_cmp(const void *, const void *);
static void	 write_clean(FILE *, const char *);

/* A tab-separated column, cut out of *s in place; NULL at the end. */
static char *
next_column(char **s)
{
	char	*start = *s, *tab;

	if (start == NULL)
		return NULL;
	if ((tab = strchr(start, '\t')) != NULL) {
		*tab = '\0';
		*s = tab + 1;
	} else
		*s = NULL;
	return start;
}

/*
 * 0 and ev filled, 1 for a comment or an empty line, -1 for a line that
 * is not an event.  ev owns a copy of the line.
 */
int
scen_event_parse(const char *line, struct scen_event *ev)
{
	char	*s, *t, *end, *col, *eq;

	memset(ev, 0, sizeof(*ev));
	if (line[0] == '#' || line[0] == '\n' || line[0] == '\0')
		return 1;
	if ((ev->buf = strdup(line)) == NULL)
		err(1, "strdup");
	ev->buf[strcspn(ev->buf, "\r\n")] = '\0';
	s = ev->buf;
	t = next_column(&s);
	errno = 0;
	ev->time = strtoll(t, &end, 10);
	if (errno != 0 || end == t || *end != '\0')
		goto bad;
	ev->lane = next_column(&s);
	ev->conn = next_column(&s);
	ev->event = next_column(&s);
	if (ev->lane == NULL || ev->conn == NULL || ev->event == NULL ||
	    *ev->lane == '\0' || *ev->event == '\0')
		goto bad;
	while ((col = next_column(&s)) != NULL) {
		if ((eq = strchr(col, '=')) == NULL || eq == col)
			goto bad;
		if (ev->nfields == SCEN_MAXFIELDS)
			goto bad;
		*eq = '\0';
		ev->fields[ev->nfields].key = col;
		ev->fields[ev->nfields].value = eq + 1;
		ev->nfields++;
	}
	return 0;
bad:
	scen_event_free(ev);
	return -1;
}

void
scen_event_free(struct scen_event *ev)
{
	free(ev->buf);
	memset(ev, 0, sizeof(*ev));
}

/* A named column: lane, conn, event, or a key=value field; NULL if none. */
const char *
scen_event_get(const struct scen_event *ev, const char *key)
{
	int	i;

	if (strcmp(key, "lane") == 0)
		return ev->lane;
	if (strcmp(key, "conn") == 0)
		return ev->conn;
	if (strcmp(key, "event") == 0)
		return ev->event;
	for (i = 0; i < ev->nfields; i++)
		if (strcmp(ev->fields[i].key, key) == 0)
			return ev->fields[i].value;
	return NULL;
}

/* Tabs and line ends would split the line: they become spaces. */
static void
write_clean(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

/* One event line; the variable part is KEY, VALUE pairs ending in NULL. */
void
scen_event_write(FILE *f, long long time, const char *lane, const char *conn,
    const char *event, ...)
{
	va_list		 ap;
	const char	*k, *v;

	fprintf(f, "%lld\t", time);
	write_clean(f, lane);
	fputc('\t', f);
	write_clean(f, conn == NULL || *conn == '\0' ? SCEN_NOCONN : conn);
	fputc('\t', f);
	write_clean(f, event);
	va_start(ap, event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (v == NULL)
			continue;
		fputc('\t', f);
		write_clean(f, k);
		fputc('=', f);
		write_clean(f, v);
	}
	va_end(ap);
	fputc('\n', f);
}

/* Adds one line; 0, 1 when it holds no event, -1 when it is not one. */
int
scen_log_add(struct scen_log *log, const char *line)
{
	struct scen_event	ev;
	int			r;

	if ((r = scen_event_parse(line, &ev)) != 0)
		return r;
	if (log->n == log->cap) {
		log->cap = log->cap ? log->cap * 2 : 256;
		log->ev = reallocarray(log->ev, log->cap, sizeof(*log->ev));
		if (log->ev == NULL)
			err(1, "reallocarray");
	}
	ev.order = log->n;
	log->ev[log->n++] = ev;
	return 0;
}

/* Every event of a file, in time order; -1 (said why) on a bad line. */
int
scen_log_read(struct scen_log *log, const char *path)
{
	FILE	*f;
	char	*line = NULL;
	size_t	 cap = 0;
	long	 lineno = 0;
	int	 bad = 0;

	if ((f = fopen(path, "r")) == NULL) {
		warn("%s", path);
		return -1;
	}
	while (getline(&line, &cap, f) != -1) {
		lineno++;
		if (scen_log_add(log, line) == -1) {
			warnx("%s:%ld: not an event line (time, lane, conn, "
			    "event, key=value...)", path, lineno);
			bad = 1;
		}
	}
	free(line);
	fclose(f);
	scen_log_sort(log);
	return bad ? -1 : 0;
}

static int
event_cmp(const void *a, const void *b)
{
	const struct scen_event *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Recorders append concurrently: time order, file order on ties. */
void
scen_log_sort(struct scen_log *log)
{
	if (log->n > 0)
		qsort(log->ev, log->n, sizeof(*log->ev), event_cmp);
}

struct seen {
	char	*key, *conn, *side, *state;
	int	 present;
};

static size_t
seen_find(struct seen *s, size_t n, const char *key)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(s[i].key, key) == 0)
			break;
	return i;
}

static void
gone_add(struct scen_log *out, long long t, const struct seen *s)
{
	char	*line;

	if (asprintf(&line, "%lld\tkernel-sample\t%s\tgone\tside=%s\t"
	    "state=%s", t, s->conn, s->side, s->state) == -1)
		err(1, "asprintf");
	scen_log_add(out, line);
	free(line);
}

/*
 * The kernel samples' sockets that vanished: a "gone" event (side, last
 * state) at the first sample without them, whichever recorder took it.
 * The log must be sorted; it is again after.
 */
void
scen_log_derive_gone(struct scen_log *log)
{
	struct scen_log		 gone = { 0 };
	struct seen		*s = NULL;
	const struct scen_event	*ev;
	char			*key;
	size_t			 n = 0, i, j, k;

	for (i = 0; i < log->n; i++) {
		ev = &log->ev[i];
		if (strcmp(ev->lane, "kernel-sample") != 0 ||
		    strcmp(ev->event, "listen") != 0)
			continue;
		for (k = 0; k < n; k++)
			s[k].present = 0;
		for (j = i + 1; j < log->n && log->ev[j].time == ev->time;
		    j++) {
			if (strcmp(log->ev[j].lane, "kernel-sample") != 0 ||
			    strcmp(log->ev[j].event, "socket") != 0)
				continue;
			if (asprintf(&key, "%s %s", scen_event_get(&log->ev[j],
			    "side"), log->ev[j].conn) == -1)
				err(1, "asprintf");
			if ((k = seen_find(s, n, key)) == n) {
				if ((s = reallocarray(s, n + 1,
				    sizeof(*s))) == NULL)
					err(1, "reallocarray");
				s[n].key = key;
				s[n].conn = log->ev[j].conn;
				s[n].side = (char *)scen_event_get(&log->ev[j],
				    "side");
				n++;
			} else
				free(key);
			s[k].state = (char *)scen_event_get(&log->ev[j],
			    "state");
			s[k].present = 1;
		}
		for (k = 0; k < n;) {
			if (s[k].present) {
				k++;
				continue;
			}
			gone_add(&gone, ev->time, &s[k]);
			free(s[k].key);
			s[k] = s[--n];
		}
	}
	for (k = 0; k < n; k++)
		free(s[k].key);
	free(s);
	for (i = 0; i < gone.n; i++) {
		if (log->n == log->cap) {
			log->cap = log->cap ? log->cap * 2 : 256;
			if ((log->ev = reallocarray(log->ev, log->cap,
			    sizeof(*log->ev))) == NULL)
				err(1, "reallocarray");
		}
		gone.ev[i].order = log->n;
		log->ev[log->n++] = gone.ev[i];
	}
	free(gone.ev);
	scen_log_sort(log);
}

void
scen_log_free(struct scen_log *log)
{
	size_t	i;

	for (i = 0; i < log->n; i++)
		scen_event_free(&log->ev[i]);
	free(log->ev);
	memset(log, 0, sizeof(*log));
}

int
scen_run_read(struct scen_run *run, const char *path)
{
	FILE	*f;
	char	*line = NULL, *tab;
	size_t	 cap = 0;

	memset(run, 0, sizeof(*run));
	if ((f = fopen(path, "r")) == NULL) {
		warn("%s", path);
		return -1;
	}
	while (getline(&line, &cap, f) != -1) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || (tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		run->kv = reallocarray(run->kv, run->n + 1, sizeof(*run->kv));
		if (run->kv == NULL)
			err(1, "reallocarray");
		if ((run->kv[run->n].key = strdup(line)) == NULL ||
		    (run->kv[run->n].value = strdup(tab + 1)) == NULL)
			err(1, "strdup");
		run->n++;
	}
	free(line);
	fclose(f);
	return 0;
}

/* The last value written for key wins: the shell appends as it learns. */
const char *
scen_run_get(const struct scen_run *run, const char *key)
{
	size_t	i;

	for (i = run->n; i > 0; i--)
		if (strcmp(run->kv[i - 1].key, key) == 0)
			return run->kv[i - 1].value;
	return NULL;
}

void
scen_run_free(struct scen_run *run)
{
	size_t	i;

	for (i = 0; i < run->n; i++) {
		free(run->kv[i].key);
		free(run->kv[i].value);
	}
	free(run->kv);
	memset(run, 0, sizeof(*run));
}

static long long
clock_ns(clockid_t id)
{
	struct timespec	ts;

	if (clock_gettime(id, &ts) == -1)
		err(1, "clock_gettime");
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long
scen_monotonic_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

long long
scen_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/*
 * "1795988815.837986" (tcpdump -tt, bash EPOCHREALTIME, acceptd's trace)
 * as nanoseconds, digit by digit: a double would lose the microseconds.
 */
int
scen_parse_seconds_ns(const char *s, long long *ns)
{
	long long	sec = 0, frac = 0, scale = 1000000000LL;
	const char	*p = s;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (sec > 9000000000LL)
			return -1;
		sec = sec * 10 + (*p - '0');
	}
	if (*p == '.' || *p == ',')
		for (p++; isdigit((unsigned char)*p); p++)
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
	if (*p != '\0' && !isspace((unsigned char)*p))
		return -1;
	*ns = sec * 1000000000LL + frac;
	return 0;
}

/*
 * A connection as the ladder names it: the client's ":PORT" when it sits
 * on the server's host (loopback), else its whole address.
 */
const char *
scen_conn_short(const char *conn, char *buf, size_t len)
{
	const char	*gt, *colon, *scolon;

	if (conn == NULL || strcmp(conn, SCEN_NOCONN) == 0)
		return "";
	if ((gt = strchr(conn, '>')) == NULL ||
	    (colon = memrchr(conn, ':', gt - conn)) == NULL ||
	    (scolon = strrchr(gt + 1, ':')) == NULL) {
		snprintf(buf, len, "%s", conn);
		return buf;
	}
	if (colon - conn == scolon - (gt + 1) &&
	    strncmp(conn, gt + 1, colon - conn) == 0)
		snprintf(buf, len, "%.*s", (int)(gt - colon), colon);
	else
		snprintf(buf, len, "%.*s", (int)(gt - conn), conn);
	return buf;
}

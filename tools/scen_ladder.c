/*
 * The ladder: the run's events in time order, one column per lane (client,
 * wire, server kernel, acceptd), marks as rules across.  Fits any width of
 * 40 columns or more; a text longer than its column wraps inside it, so
 * nothing is ever cut.
 *
 * The kernel's side comes from its own events (the kernel lane) when the
 * run has them: each at its exact time, the server's sockets in the
 * server-kernel column, the local client's in the client column ("k:").
 * The sampler's rows then stand beside them marked "≈": the accept queue,
 * Recv-Q and Send-Q, and what the events cannot show (a time-wait
 * socket's state, its end).  Without kernel events the sampled rows are
 * the kernel column, as differences between samples.
 */
#include <sys/ioctl.h>

#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenlog.h"

#define LADDER_MIN	40	/* narrower than this, columns hold nothing */
#define LADDER_DEFAULT	120	/* not a terminal, no COLUMNS */
#define TIME_W		7	/* "12345.6" */
#define SEP		" │ "	/* three columns wide */
#define SEP_W		3

/* Each lane's share of the room the time and separators leave, in %. */
static const int	 col_share[SCEN_NCOLS] = { 22, 30, 26, 22 };
static const char *const	 col_title[SCEN_NCOLS] = {
	"client", "wire", "server kernel", "acceptd"
};

/* Keys and their values, few enough to search in order. */
struct strmap {
	char	**key, **value;
	size_t	  n;
};

/* What one ladder is being written with, and what it showed so far. */
struct ladder {
	FILE		*f;
	size_t		 cols[SCEN_NCOLS];
	long long	 t0;
	int		 kernel;	/* the kernel's own events are in */
	struct strmap	 names;		/* connection -> client name */
	struct strmap	 sampled;	/* "S :port" -> last sample of it */
	struct strmap	 shown_q;	/* ... its queues last shown */
	struct strmap	 kstate;	/* ... its state by kernel events */
	long long	 queue;
};

#define SAMPLED		"≈ "	/* a sampled row beside kernel events */

static void	ladder_header(FILE *, const size_t *);
static void	ladder_row(FILE *, long long, int, const char *,
		    const size_t *);
static void	ladder_mark(FILE *, long long, const char *, size_t);
static size_t	kernel_rows(struct ladder *, const struct scen_log *, size_t);
static char	*text_of(FILE *, char **);

size_t
scen_ladder_width(void)
{
	struct winsize	 ws;
	const char	*c = getenv("COLUMNS");
	long		 n;

	if (c != NULL && (n = strtol(c, NULL, 10)) > 0)
		return n < LADDER_MIN ? LADDER_MIN : (size_t)n;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ,
	    &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col < LADDER_MIN ? LADDER_MIN : ws.ws_col;
	return LADDER_DEFAULT;
}

/* The width of each lane's column in a ladder width columns wide. */
void
scen_ladder_columns(size_t width, size_t *cols)
{
	size_t	room, used = 0;
	int	i;

	if (width < LADDER_MIN)
		width = LADDER_MIN;
	room = width - TIME_W - SCEN_NCOLS * SEP_W;
	for (i = 0; i < SCEN_NCOLS - 1; i++) {
		cols[i] = room * col_share[i] / 100;
		used += cols[i];
	}
	cols[SCEN_NCOLS - 1] = room - used;
}

/* The stream's text: its buffer is only final once it is closed. */
static char *
text_of(FILE *f, char **buf)
{
	if (fclose(f) != 0)
		err(1, "open_memstream");
	return *buf;
}

static void
wire_text(FILE *f, const struct scen_event *ev)
{
	const char	*from = scen_event_get(ev, "from");
	const char	*fl = scen_event_get(ev, "flags");
	const char	*len = scen_event_get(ev, "len");
	const char	*win = scen_event_get(ev, "win");
	const char	*seq = scen_event_get(ev, "seq");
	const char	*ack = scen_event_get(ev, "ack");
	char		 c[128];
	size_t		 n;

	scen_conn_short(ev->conn, c, sizeof(c));
	if (fl == NULL)
		fl = "?";
	n = strlen(fl);
	if (n > 0 && fl[n - 1] == 'D')
		n--;		/* the "has data" mark, not tcpdump's */
	if (from != NULL && strcmp(from, "server") == 0)
		fprintf(f, "S>%s [%.*s]", c, (int)n, fl);
	else
		fprintf(f, "%s>S [%.*s]", c, (int)n, fl);
	if (len != NULL && strcmp(len, "0") != 0)
		fprintf(f, " %s (%s)", seq ? seq : "", len);
	else if (strcmp(fl, ".") == 0 && ack != NULL)
		fprintf(f, " ack %s", ack);
	if (win != NULL && strcmp(win, "0") == 0 && strchr(fl, 'R') == NULL)
		fputs(" win 0", f);
}

/* Every field's value after the event's name: lanes this file knows not. */
static void
generic_text(FILE *f, const struct scen_event *ev)
{
	int	i;

	fputs(ev->event, f);
	for (i = 0; i < ev->nfields; i++)
		fprintf(f, " %s=%s", ev->fields[i].key, ev->fields[i].value);
}

/*
 * The text of one event and its column; NULL for the kernel sampler's
 * rows, which the ladder shows as differences (kernel_rows), and for the
 * kernel's own events (kernel_event_row).
 */
char *
scen_ladder_text(const struct scen_event *ev, int *col)
{
	const char	*text = scen_event_get(ev, "text");
	const char	*name = scen_event_get(ev, "name");
	char		*buf = NULL, c[128];
	size_t		 len = 0;
	FILE		*f;

	if (strcmp(ev->lane, "kernel-sample") == 0 ||
	    strcmp(ev->lane, "kernel") == 0) {
		*col = SCEN_COL_NONE;
		return NULL;
	}
	if ((f = open_memstream(&buf, &len)) == NULL)
		err(1, "open_memstream");
	if (strcmp(ev->lane, "mark") == 0) {
		*col = SCEN_COL_MARK;
		fputs(text ? text : name ? name : "", f);
	} else if (strcmp(ev->lane, "client") == 0) {
		*col = SCEN_COL_CLIENT;
		if (name != NULL)
			fprintf(f, "%s ", name);
		fputs(text ? text : ev->event, f);
	} else if (strcmp(ev->lane, "wire") == 0) {
		*col = SCEN_COL_WIRE;
		wire_text(f, ev);
	} else if (strcmp(ev->lane, "app") == 0) {
		*col = SCEN_COL_APP;
		if (scen_event_get(ev, "worker") != NULL)
			fprintf(f, "w%s %s %s", scen_event_get(ev, "worker"),
			    scen_conn_short(ev->conn, c, sizeof(c)),
			    ev->event);
		else	/* the master's own: a control action in effect */
			fputs(ev->event, f);
		text = scen_event_get(ev, "detail");
		if (text != NULL && *text != '\0')
			fprintf(f, " %s", text);
	} else if (strcmp(ev->lane, "control") == 0) {
		*col = SCEN_COL_APP;
		fprintf(f, "ctl> %s", text ? text : "");
		if (strcmp(ev->event, "ctl") != 0)
			fprintf(f, " (%s)", ev->event);
	} else {
		*col = SCEN_COL_APP;
		fprintf(f, "%s: ", ev->lane);
		generic_text(f, ev);
	}
	return text_of(f, &buf);
}

/*
 * One row of cells, each wrapped in its column; the first line carries
 * the time label.  Columns past the last text are left off.
 */
static void
ladder_cells(FILE *f, const char *label, const char *const *texts,
    const size_t *cols)
{
	char	**lines[SCEN_NCOLS];
	int	  n[SCEN_NCOLS], most = 0, last = 0, i, c;

	for (c = 0; c < SCEN_NCOLS; c++) {
		n[c] = scen_text_wrap(texts[c] ? texts[c] : "", cols[c],
		    &lines[c]);
		if (texts[c] != NULL && *texts[c] != '\0')
			last = c;
		if (n[c] > most)
			most = n[c];
	}
	for (i = 0; i < most; i++) {
		fprintf(f, "%*s", TIME_W, i == 0 ? label : "");
		for (c = 0; c <= last; c++) {
			fputs(SEP, f);
			if (c < last)
				scen_text_pad(f, i < n[c] ? lines[c][i] : "",
				    cols[c]);
			else
				fputs(i < n[c] ? lines[c][i] : "", f);
		}
		fputc('\n', f);
	}
	for (c = 0; c < SCEN_NCOLS; c++) {
		for (i = 0; i < n[c]; i++)
			free(lines[c][i]);
		free(lines[c]);
	}
}

static void
ladder_header(FILE *f, const size_t *cols)
{
	size_t	i, j;

	ladder_cells(f, "ms", col_title, cols);
	for (j = 0; j < TIME_W + 1; j++)
		fputs("─", f);
	for (i = 0; i < SCEN_NCOLS; i++) {
		fputs("┼", f);
		for (j = 0; j < cols[i] + (i < SCEN_NCOLS - 1 ? 2 : 1); j++)
			fputs("─", f);
	}
	fputc('\n', f);
}

static void
time_label(char *buf, size_t len, long long t)
{
	snprintf(buf, len, "%.1f", t / 1e6);
}

/* One event in its column. */
static void
ladder_row(FILE *f, long long t, int col, const char *text,
    const size_t *cols)
{
	const char	*texts[SCEN_NCOLS] = { NULL };
	char		 label[32];

	texts[col] = text;
	time_label(label, sizeof(label), t);
	ladder_cells(f, label, texts, cols);
}

/* A mark: "══ text" across the ladder, wrapped under its own start. */
static void
ladder_mark(FILE *f, long long t, const char *text, size_t width)
{
	char	**lines;
	int	  n, i;

	char	  label[32];

	time_label(label, sizeof(label), t);
	n = scen_text_wrap(text, width - TIME_W - 4, &lines);
	for (i = 0; i < n; i++) {
		fprintf(f, "%*s %s %s\n", TIME_W, i == 0 ? label : "",
		    i == 0 ? "══" : "  ", lines[i]);
		free(lines[i]);
	}
	free(lines);
}

static size_t
map_find(const struct strmap *m, const char *key)
{
	size_t	i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->key[i], key) == 0)
			return i;
	return m->n;
}

static const char *
map_get(const struct strmap *m, const char *key)
{
	size_t	i = map_find(m, key);

	return i < m->n ? m->value[i] : NULL;
}

/* key's value becomes v (a copy; NULL for none); its index. */
static size_t
map_set(struct strmap *m, const char *key, const char *v)
{
	size_t	i = map_find(m, key);

	if (i == m->n) {
		m->key = reallocarray(m->key, m->n + 1, sizeof(*m->key));
		m->value = reallocarray(m->value, m->n + 1,
		    sizeof(*m->value));
		if (m->key == NULL || m->value == NULL)
			err(1, "reallocarray");
		if ((m->key[i] = strdup(key)) == NULL)
			err(1, "strdup");
		m->value[i] = NULL;
		m->n++;
	}
	free(m->value[i]);
	m->value[i] = NULL;
	if (v != NULL && (m->value[i] = strdup(v)) == NULL)
		err(1, "strdup");
	return i;
}

static void
map_free(struct strmap *m)
{
	size_t	i;

	for (i = 0; i < m->n; i++) {
		free(m->key[i]);
		free(m->value[i]);
	}
	free(m->key);
	free(m->value);
	memset(m, 0, sizeof(*m));
}

static const char *
state_short(const char *s)
{
	return s != NULL && strcmp(s, "ESTABLISHED") == 0 ? "EST" :
	    s ? s : "?";
}

static int
is_client_side(const struct scen_event *ev)
{
	const char	*side = scen_event_get(ev, "side");

	return side != NULL && strcmp(side, "client") == 0;
}

/* "S :40112" or "C :40112": one socket, whichever recorder saw it. */
static void
socket_key(const struct scen_event *ev, char *buf, size_t len)
{
	char	c[128];

	snprintf(buf, len, "%s %s", is_client_side(ev) ? "C" : "S",
	    scen_conn_short(ev->conn, c, sizeof(c)));
}

/*
 * How a socket is named beside kernel events: in the client column by
 * its client's name when known (c1), else like the server's, ":PORT".
 */
static const char *
socket_label(const struct ladder *l, const struct scen_event *ev, char *buf,
    size_t len)
{
	const char	*name;

	if (is_client_side(ev) &&
	    (name = map_get(&l->names, ev->conn)) != NULL)
		snprintf(buf, len, "%s", name);
	else if (strcmp(ev->conn, SCEN_NOCONN) == 0)
		snprintf(buf, len, "listener");
	else if (strcmp(scen_conn_short(ev->conn, buf, len), ":0") == 0)
		buf[0] = '\0';		/* connect() before its port is bound */
	return buf;
}

/* A row in the column of the socket's side (in kernel mode). */
static void
side_row(struct ladder *l, const struct scen_event *ev, int client,
    const char *text)
{
	ladder_row(l->f, ev->time - l->t0, client && l->kernel ?
	    SCEN_COL_CLIENT : SCEN_COL_KERNEL, text, l->cols);
}

/*
 * One sample (the "listen" row at i and the "socket" rows of the same
 * time): a row for the queue when it changed, one for each socket whose
 * state or queues changed, one for each socket gone.  Beside kernel
 * events only what they do not tell: queues, and a state they did not
 * announce.  Returns the index after the listen row.
 */
static size_t
kernel_rows(struct ladder *l, const struct scen_log *log, size_t i)
{
	const struct scen_event	*ev = &log->ev[i];
	long long		 t = ev->time, q;
	const char		*qs, *rq, *sq, *state, *ks, *sh;
	char			 key[256], val[128], qv[64], lb[128];
	char			 line[512];
	unsigned char		*present;
	size_t			 j, k, end;
	int			 client;

	for (end = i + 1; end < log->n && log->ev[end].time == t; end++)
		;
	present = calloc(l->sampled.n + (end - i), 1);
	if (present == NULL)
		err(1, "calloc");
	qs = scen_event_get(ev, "queue");
	q = qs ? strtoll(qs, NULL, 10) : -1;
	if (q != l->queue) {
		snprintf(line, sizeof(line), "%squeue %lld of %s",
		    l->kernel ? SAMPLED : "", q,
		    scen_event_get(ev, "backlog") ?
		    scen_event_get(ev, "backlog") : "?");
		ladder_row(l->f, t - l->t0, SCEN_COL_KERNEL, line, l->cols);
		l->queue = q;
	}
	for (j = i; j < end; j++) {
		ev = &log->ev[j];
		if (strcmp(ev->lane, "kernel-sample") != 0 ||
		    strcmp(ev->event, "socket") != 0)
			continue;
		client = is_client_side(ev);
		socket_key(ev, key, sizeof(key));
		state = scen_event_get(ev, "state");
		rq = scen_event_get(ev, "recv_q");
		sq = scen_event_get(ev, "send_q");
		snprintf(qv, sizeof(qv), "%s%s%s%s",
		    rq && strcmp(rq, "0") ? " r" : "", rq && strcmp(rq, "0") ?
		    rq : "", sq && strcmp(sq, "0") ? " s" : "",
		    sq && strcmp(sq, "0") ? sq : "");
		snprintf(val, sizeof(val), "%s%s", state_short(state), qv);
		k = map_find(&l->sampled, key);
		if (k == l->sampled.n || l->sampled.value[k] == NULL ||
		    strcmp(l->sampled.value[k], val) != 0) {
			k = map_set(&l->sampled, key, val);
			ks = map_get(&l->kstate, key);
			sh = map_get(&l->shown_q, key);
			if (!l->kernel) {
				snprintf(line, sizeof(line), "%s %s", key, val);
				ladder_row(l->f, t - l->t0, SCEN_COL_KERNEL,
				    line, l->cols);
			} else if (ks == NULL || state == NULL ||
			    strcmp(ks, state) != 0 ||
			    strcmp(sh ? sh : "", qv) != 0) {
				snprintf(line, sizeof(line), SAMPLED "%s %s",
				    socket_label(l, ev, lb, sizeof(lb)), val);
				side_row(l, ev, client, line);
				map_set(&l->shown_q, key, qv);
			}
		}
		present[k] = 1;
	}
	for (k = 0; k < l->sampled.n; k++) {
		if (present[k] || l->sampled.value[k] == NULL)
			continue;
		client = l->sampled.key[k][0] == 'C';
		ks = map_get(&l->kstate, l->sampled.key[k]);
		if (!l->kernel) {
			snprintf(line, sizeof(line), "%s gone",
			    l->sampled.key[k]);
			ladder_row(l->f, t - l->t0, SCEN_COL_KERNEL, line,
			    l->cols);
		} else if (ks == NULL || strcmp(ks, "CLOSE") != 0) {
			/* gone without a word from the kernel's events */
			snprintf(line, sizeof(line), SAMPLED "%s gone",
			    l->sampled.key[k] + 2);
			ladder_row(l->f, t - l->t0, client ? SCEN_COL_CLIENT :
			    SCEN_COL_KERNEL, line, l->cols);
		}
		free(l->sampled.value[k]);
		l->sampled.value[k] = NULL;
		map_set(&l->shown_q, l->sampled.key[k], NULL);
	}
	free(present);
	return i + 1;	/* the socket rows are skipped one by one */
}

/*
 * One of the kernel's own events: a state change, an RST sent (with the
 * kernel's reason and the socket's state) or received, a SYN-ACK sent
 * again, a packet dropped (with its reason); or why there are none.
 */
static void
kernel_event_row(struct ladder *l, const struct scen_event *ev)
{
	const char	*reason = scen_event_get(ev, "reason");
	const char	*state = scen_event_get(ev, "state");
	const char	*detail = scen_event_get(ev, "detail");
	char		*buf = NULL, key[256], lb[128];
	size_t		 len = 0;
	FILE		*f;
	int		 client = is_client_side(ev);

	if ((f = open_memstream(&buf, &len)) == NULL)
		err(1, "open_memstream");
	if (strcmp(ev->event, "unavailable") == 0 ||
	    strcmp(ev->event, "partial") == 0 ||
	    strcmp(ev->event, "lost") == 0) {
		fprintf(f, "kernel events %s: %s", ev->event,
		    detail ? detail : "?");
		client = 0;
	} else {
		fprintf(f, "%s", client && l->kernel ? "k: " : "");
		if (*socket_label(l, ev, lb, sizeof(lb)) != '\0')
			fprintf(f, "%s ", lb);
		if (strcmp(ev->event, "state") == 0) {
			fprintf(f, "%s→%s",
			    state_short(scen_event_get(ev, "from")),
			    state_short(scen_event_get(ev, "to")));
			socket_key(ev, key, sizeof(key));
			map_set(&l->kstate, key, scen_event_get(ev, "to"));
		} else {
			fputs(ev->event, f);
			if (reason != NULL)
				fprintf(f, " %s", reason);
			if (state != NULL)
				fprintf(f, " (%s)", state_short(state));
			if (detail != NULL && *detail != '\0')
				fprintf(f, " %s", detail);
		}
	}
	side_row(l, ev, client, text_of(f, &buf));
	free(buf);
}

void
scen_ladder_write(FILE *f, const struct scen_log *log, size_t width,
    long long t0)
{
	struct ladder		 l;
	size_t			 i;
	const struct scen_event	*ev;
	const char		*name;
	char			*text;
	int			 col;

	if (width < LADDER_MIN)
		width = LADDER_MIN;
	memset(&l, 0, sizeof(l));
	l.f = f;
	l.t0 = t0;
	l.queue = -1;
	scen_ladder_columns(width, l.cols);
	for (i = 0; i < log->n; i++) {
		ev = &log->ev[i];
		if (strcmp(ev->lane, "kernel") == 0 &&
		    strcmp(ev->event, "unavailable") != 0 &&
		    strcmp(ev->event, "partial") != 0 &&
		    strcmp(ev->event, "lost") != 0)
			l.kernel = 1;
		else if (strcmp(ev->lane, "client") == 0 &&
		    strcmp(ev->conn, SCEN_NOCONN) != 0 &&
		    (name = scen_event_get(ev, "name")) != NULL)
			map_set(&l.names, ev->conn, name);
	}
	ladder_header(f, l.cols);
	for (i = 0; i < log->n;) {
		ev = &log->ev[i];
		if (strcmp(ev->lane, "kernel-sample") == 0) {
			if (strcmp(ev->event, "listen") == 0)
				i = kernel_rows(&l, log, i);
			else
				i++;
			continue;
		}
		if (strcmp(ev->lane, "kernel") == 0) {
			kernel_event_row(&l, ev);
			i++;
			continue;
		}
		text = scen_ladder_text(ev, &col);
		if (col == SCEN_COL_MARK)
			ladder_mark(f, ev->time - t0, text, width);
		else if (col != SCEN_COL_NONE)
			ladder_row(f, ev->time - t0, col, text, l.cols);
		free(text);
		i++;
	}
	map_free(&l.names);
	map_free(&l.sampled);
	map_free(&l.shown_q);
	map_free(&l.kstate);
}

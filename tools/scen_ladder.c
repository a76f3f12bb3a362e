/*
 * The ladder: the run's events in time order, one column per lane (client,
 * wire, server kernel, acceptd), marks as rules across.  Fits any width of
 * 40 columns or more; a text longer than its column wraps inside it, so
 * nothing is ever cut.
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

/* What the kernel sampler last showed of each socket, for its diffs. */
struct kernel_seen {
	char	**key, **value;
	size_t	  n;
	long long queue;
};

static void	ladder_header(FILE *, const size_t *);
static void	ladder_row(FILE *, long long, int, const char *,
		    const size_t *);
static void	ladder_mark(FILE *, long long, const char *, size_t);
static size_t	kernel_rows(FILE *, const struct scen_log *, size_t,
		    struct kernel_seen *, const size_t *, long long);
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
 * rows, which the ladder shows as differences (kernel_rows).
 */
char *
scen_ladder_text(const struct scen_event *ev, int *col)
{
	const char	*text = scen_event_get(ev, "text");
	const char	*name = scen_event_get(ev, "name");
	char		*buf = NULL, c[128];
	size_t		 len = 0;
	FILE		*f;

	if (strcmp(ev->lane, "kernel-sample") == 0) {
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
	} else if (strcmp(ev->lane, "kernel-state") == 0) {
		*col = SCEN_COL_KERNEL;
		fprintf(f, "%s ", scen_conn_short(ev->conn, c, sizeof(c)));
		generic_text(f, ev);
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

static void
seen_set(struct kernel_seen *s, size_t i, const char *key, const char *v)
{
	if (i == s->n) {
		s->key = reallocarray(s->key, s->n + 1, sizeof(*s->key));
		s->value = reallocarray(s->value, s->n + 1,
		    sizeof(*s->value));
		if (s->key == NULL || s->value == NULL)
			err(1, "reallocarray");
		if ((s->key[i] = strdup(key)) == NULL)
			err(1, "strdup");
		s->value[i] = NULL;
		s->n++;
	}
	free(s->value[i]);
	if ((s->value[i] = strdup(v)) == NULL)
		err(1, "strdup");
}

static size_t
seen_find(const struct kernel_seen *s, const char *key)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->key[i], key) == 0)
			return i;
	return s->n;
}

static void
seen_free(struct kernel_seen *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++) {
		free(s->key[i]);
		free(s->value[i]);
	}
	free(s->key);
	free(s->value);
}

static const char *
state_short(const char *s)
{
	return s != NULL && strcmp(s, "ESTABLISHED") == 0 ? "EST" :
	    s ? s : "?";
}

/*
 * One sample (the "listen" row at i and the "socket" rows of the same
 * time): a row for the queue when it changed, one for each socket whose
 * state or queues changed, one for each socket gone.  Returns the index
 * after the listen row.
 */
static size_t
kernel_rows(FILE *f, const struct scen_log *log, size_t i,
    struct kernel_seen *seen, const size_t *cols, long long t0)
{
	const struct scen_event	*ev = &log->ev[i];
	long long		 t = ev->time, q;
	const char		*qs, *rq, *sq, *side;
	char			 key[256], val[128], c[128], line[512];
	unsigned char		*present;
	size_t			 j, k, end;

	for (end = i + 1; end < log->n && log->ev[end].time == t; end++)
		;
	present = calloc(seen->n + (end - i), 1);
	if (present == NULL)
		err(1, "calloc");
	qs = scen_event_get(ev, "queue");
	q = qs ? strtoll(qs, NULL, 10) : -1;
	if (q != seen->queue) {
		snprintf(line, sizeof(line), "queue %lld of %s", q,
		    scen_event_get(ev, "backlog") ?
		    scen_event_get(ev, "backlog") : "?");
		ladder_row(f, t - t0, SCEN_COL_KERNEL, line, cols);
		seen->queue = q;
	}
	for (j = i; j < end; j++) {
		ev = &log->ev[j];
		if (strcmp(ev->lane, "kernel-sample") != 0 ||
		    strcmp(ev->event, "socket") != 0)
			continue;
		side = scen_event_get(ev, "side");
		snprintf(key, sizeof(key), "%s %s",
		    side && strcmp(side, "client") == 0 ? "C" : "S",
		    scen_conn_short(ev->conn, c, sizeof(c)));
		rq = scen_event_get(ev, "recv_q");
		sq = scen_event_get(ev, "send_q");
		snprintf(val, sizeof(val), "%s%s%s%s%s",
		    state_short(scen_event_get(ev, "state")),
		    rq && strcmp(rq, "0") ? " r" : "", rq && strcmp(rq, "0") ?
		    rq : "", sq && strcmp(sq, "0") ? " s" : "",
		    sq && strcmp(sq, "0") ? sq : "");
		k = seen_find(seen, key);
		if (k == seen->n || seen->value[k] == NULL ||
		    strcmp(seen->value[k], val) != 0) {
			snprintf(line, sizeof(line), "%s %s", key, val);
			ladder_row(f, t - t0, SCEN_COL_KERNEL, line, cols);
			seen_set(seen, k, key, val);
		}
		present[k] = 1;
	}
	for (k = 0; k < seen->n; k++)
		if (!present[k] && seen->value[k] != NULL) {
			snprintf(line, sizeof(line), "%s gone", seen->key[k]);
			ladder_row(f, t - t0, SCEN_COL_KERNEL, line, cols);
			free(seen->value[k]);
			seen->value[k] = NULL;
		}
	free(present);
	return i + 1;	/* the socket rows are skipped one by one */
}

void
scen_ladder_write(FILE *f, const struct scen_log *log, size_t width,
    long long t0)
{
	struct kernel_seen	 seen = { NULL, NULL, 0, -1 };
	size_t			 cols[SCEN_NCOLS], i;
	const struct scen_event	*ev;
	char			*text;
	int			 col;

	if (width < LADDER_MIN)
		width = LADDER_MIN;
	scen_ladder_columns(width, cols);
	ladder_header(f, cols);
	for (i = 0; i < log->n;) {
		ev = &log->ev[i];
		if (strcmp(ev->lane, "kernel-sample") == 0) {
			if (strcmp(ev->event, "listen") == 0)
				i = kernel_rows(f, log, i, &seen, cols, t0);
			else
				i++;
			continue;
		}
		text = scen_ladder_text(ev, &col);
		if (col == SCEN_COL_MARK)
			ladder_mark(f, ev->time - t0, text, width);
		else if (col != SCEN_COL_NONE)
			ladder_row(f, ev->time - t0, col, text, cols);
		free(text);
		i++;
	}
	seen_free(&seen);
}

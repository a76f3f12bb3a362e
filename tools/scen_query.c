/*
 * The checks' queries over a run's event log: count, first, order (per
 * connection, with a time window and a tolerance), a field's value in
 * some, the most, the first or the last row, and a counter's rise between
 * two snapshots.  Each prints a sentence and its evidence rows with
 * their column names; exit 0 when the claim holds, 1 when not, 2 for a
 * question that cannot be asked.
 */
#include <err.h>
#include <limits.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenlog.h"

#define MAXFILTERS	12
#define MAXSTEPS	12
#define SHOW_ROWS	8	/* evidence rows before "... N more" */
#define SHOW_CONNS	3	/* connections shown for an order */

enum { CMP_EQ, CMP_NE, CMP_GE, CMP_GT, CMP_LE, CMP_LT };

struct filter {
	const char	*key, *value;
	int		 op;		/* '=', '!' (not equal), '~' (ERE) */
	regex_t		 re;
	const char	*conn;		/* conn=@NAME: client NAME's */
};

struct step {
	const char	*lane;
	struct filter	 f[MAXFILTERS];
	int		 nf;
};

struct query {
	struct scen_log	 log;
	long long	 from, to;	/* the window, inclusive */
	long long	 t0;		/* shown as 0 ms */
};

static const char *const cmp_names[] = {
	"-eq", "-ne", "-ge", "-gt", "-le", "-lt"
};

static int	query_open(struct query *, const char *, const char *);
static int	step_parse(struct query *, struct step *, char **, int);
static int	step_match(const struct step *, const struct scen_event *);
static void	step_free(struct step *);
static void	step_print(FILE *, const struct step *);
static void	row_print(const struct query *, const struct scen_event *);
static int	in_window(const struct query *, const struct scen_event *);

/* "-eq" ... "-lt" as CMP_*; -1 for anything else. */
int
scen_cmp_parse(const char *s, int *op)
{
	size_t	i;

	for (i = 0; i < sizeof(cmp_names) / sizeof(cmp_names[0]); i++)
		if (strcmp(s, cmp_names[i]) == 0) {
			*op = i;
			return 0;
		}
	return -1;
}

int
scen_cmp(long long a, int op, long long b)
{
	switch (op) {
	case CMP_EQ:	return a == b;
	case CMP_NE:	return a != b;
	case CMP_GE:	return a >= b;
	case CMP_GT:	return a > b;
	case CMP_LE:	return a <= b;
	case CMP_LT:	return a < b;
	}
	return 0;
}

static long long
number(const char *s, const char *what)
{
	char		*end;
	long long	 v;

	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0')
		errx(2, "%s \"%s\" is not a whole number", what, s);
	return v;
}

static int
cmp_arg(const char *s)
{
	int	op;

	if (scen_cmp_parse(s, &op) == -1)
		errx(2, "bad comparison \"%s\" (use -eq -ne -ge -gt -le -lt)",
		    s);
	return op;
}

/* A mark's time by its name; "start" and "end" are marks too. */
static int
mark_time(const struct query *q, const char *name, long long *t)
{
	size_t		 i;
	const char	*n;

	for (i = 0; i < q->log.n; i++) {
		if (strcmp(q->log.ev[i].lane, "mark") != 0)
			continue;
		n = scen_event_get(&q->log.ev[i], "name");
		if (n != NULL && strcmp(n, name) == 0) {
			*t = q->log.ev[i].time;
			return 0;
		}
	}
	fprintf(stderr, "scenlog: no mark named \"%s\"; marks:", name);
	for (i = 0; i < q->log.n; i++)
		if (strcmp(q->log.ev[i].lane, "mark") == 0)
			fprintf(stderr, " %s",
			    scen_event_get(&q->log.ev[i], "name"));
	fputc('\n', stderr);
	return -1;
}

/* The log of dir, the window "FROM,TO" (mark names) or all of it. */
static int
query_open(struct query *q, const char *dir, const char *window)
{
	struct scen_run	 run;
	char		 path[4096], *w, *comma;
	const char	*s;

	memset(q, 0, sizeof(*q));
	snprintf(path, sizeof(path), "%s/events.tsv", dir);
	if (scen_log_read(&q->log, path) == -1)
		return -1;
	scen_log_derive_gone(&q->log);
	q->from = LLONG_MIN;
	q->to = LLONG_MAX;
	snprintf(path, sizeof(path), "%s/run.tsv", dir);
	if (access(path, R_OK) == 0 && scen_run_read(&run, path) == 0) {
		if ((s = scen_run_get(&run, "start_ns")) != NULL)
			q->t0 = strtoll(s, NULL, 10);
		scen_run_free(&run);
	}
	if (q->t0 == 0 && q->log.n > 0)
		q->t0 = q->log.ev[0].time;
	if (window == NULL || *window == '\0')
		return 0;
	if ((w = strdup(window)) == NULL)
		err(1, "strdup");
	if ((comma = strchr(w, ',')) == NULL) {
		warnx("window \"%s\": want FROM,TO (two mark names)", window);
		goto fail;
	}
	*comma = '\0';
	if (mark_time(q, w, &q->from) == -1 ||
	    mark_time(q, comma + 1, &q->to) == -1)
		goto fail;
	free(w);
	return 0;
fail:
	free(w);
	scen_log_free(&q->log);
	return -1;
}

static int
in_window(const struct query *q, const struct scen_event *ev)
{
	return ev->time >= q->from && ev->time <= q->to;
}

/*
 * A kernel sample holds until the next one: the one in force when the
 * window opens belongs to it, for questions about state (first, value).
 */
static long long
state_from(const struct query *q, const struct step *st)
{
	long long	t = q->from;
	size_t		i;

	if (strcmp(st->lane, "kernel-sample") != 0)
		return t;
	for (i = 0; i < q->log.n && q->log.ev[i].time < q->from; i++)
		if (strcmp(q->log.ev[i].lane, "kernel-sample") == 0 &&
		    strcmp(q->log.ev[i].event, "listen") == 0)
			t = q->log.ev[i].time;
	return t;
}

static int
in_state_window(const struct query *q, long long from,
    const struct scen_event *ev)
{
	return ev->time >= from && ev->time <= q->to;
}

/* The connection client NAME connected on; NULL before it did. */
static const char *
client_conn(const struct query *q, const char *name)
{
	const struct scen_event	*ev;
	const char		*n;
	size_t			 i;

	for (i = 0; i < q->log.n; i++) {
		ev = &q->log.ev[i];
		if (strcmp(ev->lane, "client") != 0 ||
		    strcmp(ev->conn, SCEN_NOCONN) == 0)
			continue;
		if ((n = scen_event_get(ev, "name")) != NULL &&
		    strcmp(n, name) == 0)
			return ev->conn;
	}
	return NULL;
}

/* LANE then KEY=VALUE, KEY!=VALUE or KEY~ERE filters. */
static int
step_parse(struct query *q, struct step *st, char **argv, int argc)
{
	struct filter	*f;
	char		*s, *op;
	int		 i, r;

	memset(st, 0, sizeof(*st));
	if (argc < 1)
		errx(2, "a query needs a lane (client, wire, kernel, "
		    "kernel-sample, app, control, mark)");
	st->lane = argv[0];
	for (i = 1; i < argc; i++) {
		if (st->nf == MAXFILTERS)
			errx(2, "more than %d filters", MAXFILTERS);
		f = &st->f[st->nf];
		if ((s = strdup(argv[i])) == NULL)
			err(1, "strdup");
		if ((op = strpbrk(s, "=~!")) == NULL || op == s)
			errx(2, "filter \"%s\": want KEY=VALUE, KEY!=VALUE "
			    "or KEY~ERE", argv[i]);
		f->op = *op == '!' ? '!' : *op;
		*op = '\0';
		f->key = s;
		f->value = op + (f->op == '!' ? 2 : 1);
		if (f->op == '!' && op[1] != '=')
			errx(2, "filter \"%s\": ! goes with =", argv[i]);
		if (f->op == '~' && (r = regcomp(&f->re, f->value,
		    REG_EXTENDED | REG_NOSUB)) != 0)
			errx(2, "filter \"%s\": bad regular expression",
			    argv[i]);
		if (strcmp(f->key, "conn") == 0 && f->value[0] == '@')
			f->conn = client_conn(q, f->value + 1);
		st->nf++;
	}
	return 0;
}

static void
step_free(struct step *st)
{
	int	i;

	for (i = 0; i < st->nf; i++) {
		if (st->f[i].op == '~')
			regfree(&st->f[i].re);
		free((char *)st->f[i].key);	/* the filter's copy */
	}
	st->nf = 0;
}

static int
filter_match(const struct filter *f, const struct scen_event *ev)
{
	const char	*v = scen_event_get(ev, f->key);
	const char	*want = f->value;

	if (f->value[0] == '@' && strcmp(f->key, "conn") == 0) {
		if (f->conn == NULL)
			return 0;
		want = f->conn;
	}
	switch (f->op) {
	case '=':
		return v != NULL && strcmp(v, want) == 0;
	case '!':
		return v == NULL || strcmp(v, want) != 0;
	default:
		return v != NULL && regexec(&f->re, v, 0, NULL, 0) == 0;
	}
}

static int
step_match(const struct step *st, const struct scen_event *ev)
{
	int	i;

	if (strcmp(ev->lane, st->lane) != 0)
		return 0;
	for (i = 0; i < st->nf; i++)
		if (!filter_match(&st->f[i], ev))
			return 0;
	return 1;
}

static void
step_print(FILE *f, const struct step *st)
{
	int	i;

	fprintf(f, "%s", st->lane);
	for (i = 0; i < st->nf; i++)
		fprintf(f, " %s%s%s", st->f[i].key, st->f[i].op == '!' ?
		    "!=" : st->f[i].op == '=' ? "=" : "~", st->f[i].value);
}

/* One evidence row: every column with its name. */
static void
row_print(const struct query *q, const struct scen_event *ev)
{
	int	i;

	printf("  time=%.3fms lane=%s conn=%s event=%s",
	    (ev->time - q->t0) / 1e6, ev->lane, ev->conn, ev->event);
	for (i = 0; i < ev->nfields; i++)
		printf(" %s=%s", ev->fields[i].key, ev->fields[i].value);
	putchar('\n');
}

/* What a lane held in the window, when a search came back empty. */
static void
lane_summary(const struct query *q, const char *lane)
{
	const char	*names[64];
	int		 counts[64], n = 0, i;
	size_t		 j;

	for (j = 0; j < q->log.n; j++) {
		if (!in_window(q, &q->log.ev[j]) ||
		    strcmp(q->log.ev[j].lane, lane) != 0)
			continue;
		for (i = 0; i < n; i++)
			if (strcmp(names[i], q->log.ev[j].event) == 0)
				break;
		if (i == n && n < 64) {
			names[n] = q->log.ev[j].event;
			counts[n++] = 0;
		}
		if (i < 64)
			counts[i]++;
	}
	printf("  %s events in the window:", lane);
	for (i = 0; i < n; i++)
		printf(" %s %d", names[i], counts[i]);
	printf("%s\n", n == 0 ? " none" : "");
}

static int
query_count(struct query *q, int argc, char **argv)
{
	struct step	st;
	long long	n = 0, want;
	size_t		i;
	int		op, shown = 0;

	if (argc < 3)
		errx(2, "usage: count LANE [FILTER...] CMP N");
	op = cmp_arg(argv[argc - 2]);
	want = number(argv[argc - 1], "count");
	step_parse(q, &st, argv, argc - 2);
	for (i = 0; i < q->log.n; i++)
		if (in_window(q, &q->log.ev[i]) &&
		    step_match(&st, &q->log.ev[i]))
			n++;
	printf("%lld rows of ", n);
	step_print(stdout, &st);
	printf(" (want %s %lld)\n", cmp_names[op], want);
	for (i = 0; i < q->log.n; i++) {
		if (!in_window(q, &q->log.ev[i]) ||
		    !step_match(&st, &q->log.ev[i]))
			continue;
		if (shown++ < SHOW_ROWS)
			row_print(q, &q->log.ev[i]);
	}
	if (shown > SHOW_ROWS)
		printf("  ... %d more\n", shown - SHOW_ROWS);
	step_free(&st);
	return !scen_cmp(n, op, want);
}

static int
query_first(struct query *q, int argc, char **argv)
{
	struct step	st;
	size_t		i;
	long long	from;

	step_parse(q, &st, argv, argc);
	from = state_from(q, &st);
	for (i = 0; i < q->log.n; i++)
		if (in_state_window(q, from, &q->log.ev[i]) &&
		    step_match(&st, &q->log.ev[i])) {
			row_print(q, &q->log.ev[i]);
			step_free(&st);
			return 0;
		}
	printf("no row of ");
	step_print(stdout, &st);
	printf("\n");
	lane_summary(q, st.lane);
	step_free(&st);
	return 1;
}

/* A field as a number; a missing field counts as 0 (a state not seen). */
static long long
field_number(const struct scen_event *ev, const char *key)
{
	const char	*v = scen_event_get(ev, key);

	return v == NULL ? 0 : strtoll(v, NULL, 10);
}

/*
 * value any|all|max|min|first|last LANE [FILTER...] FIELD CMP N: some row
 * (any), every row (all), or the chosen row has FIELD CMP N.
 */
static int
query_value(struct query *q, int argc, char **argv)
{
	struct step		 st;
	const struct scen_event	*pick = NULL, *ev;
	const char		*mode, *field;
	long long		 want, v, from;
	size_t			 i, rows = 0;
	int			 op, hold, r;

	if (argc < 5)
		errx(2, "usage: value any|all|max|min|first|last LANE "
		    "[FILTER...] FIELD CMP N");
	mode = argv[0];
	field = argv[argc - 3];
	op = cmp_arg(argv[argc - 2]);
	want = number(argv[argc - 1], "value");
	step_parse(q, &st, argv + 1, argc - 4);
	from = state_from(q, &st);
	for (i = 0; i < q->log.n; i++) {
		ev = &q->log.ev[i];
		if (!in_state_window(q, from, ev) || !step_match(&st, ev))
			continue;
		rows++;
		v = field_number(ev, field);
		hold = scen_cmp(v, op, want);
		if ((strcmp(mode, "any") == 0 && hold && pick == NULL) ||
		    (strcmp(mode, "all") == 0 && !hold && pick == NULL) ||
		    (strcmp(mode, "first") == 0 && pick == NULL) ||
		    strcmp(mode, "last") == 0 ||
		    (strcmp(mode, "max") == 0 && (pick == NULL ||
		    v > field_number(pick, field))) ||
		    (strcmp(mode, "min") == 0 && (pick == NULL ||
		    v < field_number(pick, field))))
			pick = ev;
	}
	if (strcmp(mode, "any") && strcmp(mode, "all") &&
	    strcmp(mode, "first") && strcmp(mode, "last") &&
	    strcmp(mode, "max") && strcmp(mode, "min"))
		errx(2, "value: mode \"%s\": any, all, max, min, first or "
		    "last", mode);
	if (rows == 0) {
		printf("no row of ");
		step_print(stdout, &st);
		printf(" in the window\n");
		r = 1;
		goto out;
	}
	if (strcmp(mode, "all") == 0) {
		printf("%s %s %s %lld in %s %zu rows of ",
		    field, cmp_names[op], pick ? "fails" : "holds", want,
		    pick ? "one of the" : "all", rows);
		step_print(stdout, &st);
		putchar('\n');
		if (pick != NULL)
			row_print(q, pick);
		r = pick != NULL;
		goto out;
	}
	if (strcmp(mode, "any") == 0 && pick == NULL) {
		printf("no row of ");
		step_print(stdout, &st);
		printf(" with %s %s %lld; values seen:", field, cmp_names[op],
		    want);
		v = LLONG_MIN;
		for (i = 0; i < q->log.n; i++) {
			ev = &q->log.ev[i];
			if (!in_state_window(q, from, ev) ||
			    !step_match(&st, ev) ||
			    field_number(ev, field) == v)
				continue;
			v = field_number(ev, field);
			printf(" %lld", v);
		}
		putchar('\n');
		r = 1;
		goto out;
	}
	v = field_number(pick, field);
	printf("%s %s = %lld in %zu rows of ", mode, field, v, rows);
	step_print(stdout, &st);
	printf(" (want %s %lld)\n", cmp_names[op], want);
	row_print(q, pick);
	r = !scen_cmp(v, op, want);
	goto out;
out:
	step_free(&st);
	return r;
}

/* A named column of a row as text; time_ms relative, time_ns as is. */
static void
column_print(const struct query *q, const struct scen_event *ev,
    const char *col)
{
	const char	*v;

	if (strcmp(col, "time_ms") == 0)
		printf("%.3f", (ev->time - q->t0) / 1e6);
	else if (strcmp(col, "time_ns") == 0)
		printf("%lld", ev->time);
	else if ((v = scen_event_get(ev, col)) != NULL)
		fputs(v, stdout);
}

/*
 * rows -c COL,COL... LANE [FILTER...]: the matching rows in the window as
 * CSV under a header of column names, for a scenario's own arithmetic.
 */
static int
query_rows(struct query *q, int argc, char **argv)
{
	struct step	 st;
	char		*cols = NULL, *c, *list, *save;
	size_t		 i;
	int		 ch, first;

	optind = 1;
	while ((ch = getopt(argc, argv, "+c:")) != -1) {
		if (ch != 'c')
			errx(2, "usage: rows -c COL,... LANE [FILTER...]");
		cols = optarg;
	}
	if (cols == NULL || optind >= argc)
		errx(2, "usage: rows -c COL,... LANE [FILTER...]");
	step_parse(q, &st, argv + optind, argc - optind);
	printf("%s\n", cols);
	for (i = 0; i < q->log.n; i++) {
		if (!in_window(q, &q->log.ev[i]) ||
		    !step_match(&st, &q->log.ev[i]))
			continue;
		if ((list = strdup(cols)) == NULL)
			err(1, "strdup");
		for (first = 1, save = list;
		    (c = strsep(&save, ",")) != NULL; first = 0) {
			if (!first)
				putchar(',');
			column_print(q, &q->log.ev[i], c);
		}
		putchar('\n');
		free(list);
	}
	step_free(&st);
	return 0;
}

/* A counters snapshot by name (kernel-sample event=counters). */
static const struct scen_event *
snapshot(const struct query *q, const char *name)
{
	const char	*n;
	size_t		 i;

	for (i = 0; i < q->log.n; i++)
		if (strcmp(q->log.ev[i].lane, "kernel-sample") == 0 &&
		    strcmp(q->log.ev[i].event, "counters") == 0 &&
		    (n = scen_event_get(&q->log.ev[i], "name")) != NULL &&
		    strcmp(n, name) == 0)
			return &q->log.ev[i];
	return NULL;
}

/* delta A B COUNTER CMP N: the counter's rise from snapshot A to B. */
static int
query_delta(struct query *q, int argc, char **argv)
{
	const struct scen_event	*a, *b;
	const char		*va, *vb;
	long long		 want, d;
	int			 op;

	if (argc != 5)
		errx(2, "usage: delta SNAPSHOT-A SNAPSHOT-B COUNTER CMP N");
	op = cmp_arg(argv[3]);
	want = number(argv[4], "delta");
	a = snapshot(q, argv[0]);
	b = snapshot(q, argv[1]);
	if (a == NULL || b == NULL) {
		printf("no counters snapshot \"%s\"\n", a ? argv[1] : argv[0]);
		return 1;
	}
	va = scen_event_get(a, argv[2]);
	vb = scen_event_get(b, argv[2]);
	if (va == NULL || vb == NULL) {
		printf("counter %s: not in the snapshots\n", argv[2]);
		return 1;
	}
	d = strtoll(vb, NULL, 10) - strtoll(va, NULL, 10);
	printf("%s rose by %lld from snapshot %s to %s (want %s %lld)\n",
	    argv[2], d, argv[0], argv[1], cmp_names[op], want);
	printf("  time=%.3fms %s=%s  time=%.3fms %s=%s\n",
	    (a->time - q->t0) / 1e6, argv[2], va, (b->time - q->t0) / 1e6,
	    argv[2], vb);
	return !scen_cmp(d, op, want);
}

struct order {
	struct step	 steps[MAXSTEPS];
	int		 nsteps;
	int		 any_conn;	/* -x: steps on any connections */
	long long	 tol, within;	/* ns */
	long long	 gap;		/* ns: each step at least this late */
};

/*
 * The steps in order from the step-1 row at first, on its connection
 * unless any_conn: each next row no earlier than the one before minus
 * the tolerance, never a row used already, all within `within` of the
 * first.  1 and the rows in chain when it holds; else 0 and the step
 * that failed in chain[0].
 */
static int
order_chain(const struct query *q, const struct order *o, size_t first,
    size_t *chain)
{
	const struct scen_event	*ev, *start = &q->log.ev[first];
	long long		 prev = start->time;
	size_t			 j;
	int			 k, u, used;

	chain[0] = first;
	for (k = 1; k < o->nsteps; k++) {
		for (j = 0; j < q->log.n; j++) {
			ev = &q->log.ev[j];
			if (!in_window(q, ev) || ev->time < prev - o->tol ||
			    (o->gap > 0 && ev->time < prev + o->gap) ||
			    (o->within > 0 && ev->time - start->time >
			    o->within))
				continue;
			if (!o->any_conn && strcmp(ev->conn, start->conn))
				continue;
			for (used = 0, u = 0; u < k; u++)
				used |= chain[u] == j;
			if (!used && step_match(&o->steps[k], ev))
				break;
		}
		if (j == q->log.n) {
			chain[0] = k;
			return 0;
		}
		chain[k] = j;
		prev = q->log.ev[j].time;
	}
	return 1;
}

static int
order_parse(struct query *q, struct order *o, int argc, char **argv)
{
	int	i, start;

	memset(o, 0, sizeof(*o));
	for (start = 0, i = 0; i <= argc; i++) {
		if (i < argc && strcmp(argv[i], "then") != 0)
			continue;
		if (o->nsteps == MAXSTEPS)
			errx(2, "order: more than %d steps", MAXSTEPS);
		if (i == start)
			errx(2, "order: an empty step (\"then\" twice?)");
		step_parse(q, &o->steps[o->nsteps++], argv + start,
		    i - start);
		start = i + 1;
	}
	if (o->nsteps < 2)
		errx(2, "order: at least two steps, joined by \"then\"");
	return 0;
}

/* Rows shown for one connection's chain, or where it stopped. */
static void
order_show(const struct query *q, const struct order *o, size_t first,
    const size_t *chain, int held)
{
	int	k;

	printf("  conn %s:\n", q->log.ev[first].conn);
	if (held) {
		for (k = 0; k < o->nsteps; k++)
			row_print(q, &q->log.ev[chain[k]]);
		return;
	}
	row_print(q, &q->log.ev[first]);
	printf("  ... then no ");
	step_print(stdout, &o->steps[chain[0]]);
	printf("%s\n", o->tol ? " (within the tolerance)" : "");
}

/*
 * order [-a | -n CMP N] [-x] [-G MS] [-t MS] [-W MS] STEP then STEP ...:
 * on how many connections the steps happen in this order.  Without -a or
 * -n, one is enough; -a: every connection that has the first step.  -x:
 * the steps may be on different connections (pin them with conn=@NAME);
 * -G: each step at least MS after the one before; -t: it may be up to MS
 * before it (clocks of two recorders); -W: all within MS of the first.
 */
static int
query_order(struct query *q, int argc, char **argv)
{
	struct order	 o;
	size_t		 chain[MAXSTEPS], i, j;
	char		**seen = NULL;
	long long	 want = 1;
	int		 op = CMP_GE, all = 0, ch, held, ok = 0, conns = 0;
	int		 shown_ok = 0, shown_bad = 0, dup;
	long long	 tol = 0, within = 0, gap = 0;
	int		 any_conn = 0;

	optind = 1;
	while ((ch = getopt(argc, argv, "+aG:n:t:W:x")) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 'G':
			gap = (long long)(strtod(optarg, NULL) * 1e6);
			break;
		case 'n':
			op = cmp_arg(optarg);
			if (optind >= argc)
				errx(2, "order -n: want CMP N");
			want = number(argv[optind++], "order -n");
			break;
		case 't':
			tol = (long long)(strtod(optarg, NULL) * 1e6);
			break;
		case 'W':
			within = (long long)(strtod(optarg, NULL) * 1e6);
			break;
		case 'x':
			any_conn = 1;
			break;
		default:
			errx(2, "usage: order [-a | -n CMP N] [-x] [-G MS] "
			    "[-t MS] [-W MS] LANE [FILTER...] then LANE "
			    "[FILTER...]");
		}
	}
	order_parse(q, &o, argc - optind, argv + optind);
	o.tol = tol;
	o.within = within;
	o.gap = gap;
	o.any_conn = any_conn;
	seen = calloc(q->log.n + 1, sizeof(*seen));
	if (seen == NULL)
		err(1, "calloc");
	for (i = 0; i < q->log.n; i++) {
		if (!in_window(q, &q->log.ev[i]) ||
		    !step_match(&o.steps[0], &q->log.ev[i]))
			continue;
		for (dup = 0, j = 0; j < (size_t)conns; j++)
			dup |= strcmp(seen[j], q->log.ev[i].conn) == 0;
		if (dup || (any_conn && conns > 0))
			continue;
		seen[conns++] = q->log.ev[i].conn;
		/* the first start on this connection that leads through */
		held = 0;
		for (j = i; j < q->log.n && !held; j++)
			if (in_window(q, &q->log.ev[j]) &&
			    (any_conn || strcmp(q->log.ev[j].conn,
			    q->log.ev[i].conn) == 0) &&
			    step_match(&o.steps[0], &q->log.ev[j]))
				if ((held = order_chain(q, &o, j, chain)))
					break;
		if (held)
			ok++;
		if (held ? shown_ok++ < SHOW_CONNS : shown_bad++ < SHOW_CONNS) {
			if (!held)
				order_chain(q, &o, i, chain);
			order_show(q, &o, held ? chain[0] : i, chain, held);
		}
	}
	free(seen);
	if (all) {
		op = CMP_EQ;
		want = conns;
	}
	printf("  the order held on %d of %d connection(s) that had the "
	    "first step (want %s %lld%s)\n", ok, conns, cmp_names[op], want,
	    all ? ": all" : "");
	if (conns == 0) {
		printf("  no row of ");
		step_print(stdout, &o.steps[0]);
		printf(" in the window\n");
	}
	for (i = 0; i < (size_t)o.nsteps; i++)
		step_free(&o.steps[i]);
	return conns > 0 && scen_cmp(ok, op, want) ? 0 : 1;
}

/*
 * scenlog query [-d DIR] [-w FROM,TO] count|first|order|value|delta|rows
 */
int
scen_query_main(int argc, char **argv)
{
	struct query	 q;
	const char	*dir = ".", *window = NULL, *what;
	int		 ch, r;

	optind = 1;
	while ((ch = getopt(argc, argv, "+d:w:")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'w':
			window = optarg;
			break;
		default:
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		errx(2, "query: count, first, order, value, delta or rows");
	if (query_open(&q, dir, window) == -1)
		return 2;
	what = argv[0];
	if (strcmp(what, "count") == 0)
		r = query_count(&q, argc - 1, argv + 1);
	else if (strcmp(what, "first") == 0)
		r = query_first(&q, argc - 1, argv + 1);
	else if (strcmp(what, "value") == 0)
		r = query_value(&q, argc - 1, argv + 1);
	else if (strcmp(what, "delta") == 0)
		r = query_delta(&q, argc - 1, argv + 1);
	else if (strcmp(what, "order") == 0)
		r = query_order(&q, argc, argv);
	else if (strcmp(what, "rows") == 0)
		r = query_rows(&q, argc, argv);
	else
		errx(2, "query \"%s\": count, first, order, value, delta or "
		    "rows", what);
	scen_log_free(&q.log);
	return r;
}

/*
 * scenlog, the scenario engine's data half: one event log per run
 * (DIR/events.tsv, described in tools/scenarios/EVENTS.md) and a run file
 * (DIR/run.tsv).  The shell orchestrates; this program samples the kernel,
 * ingests the wire and the trace, lays out the ladder, answers the checks'
 * queries and writes report.md.
 */
#ifndef SCENLOG_H
#define SCENLOG_H

#include <stddef.h>
#include <stdio.h>

#define SCEN_MAXFIELDS	32	/* key=value columns after the fixed four */
#define SCEN_NOCONN	"-"	/* an event that belongs to no connection */

struct scen_field {
	char	*key;
	char	*value;
};

/* One line of the event log, its strings pointing into buf. */
struct scen_event {
	long long		 time;		/* ns, CLOCK_MONOTONIC */
	char			*lane;
	char			*conn;		/* "CLIENT>SERVER" or "-" */
	char			*event;
	int			 nfields;
	struct scen_field	 fields[SCEN_MAXFIELDS];
	char			*buf;
	size_t			 order;		/* line number: ties keep it */
};

struct scen_log {
	struct scen_event	*ev;
	size_t			 n, cap;
};

/* The run file: "key<TAB>value" lines. */
struct scen_run {
	struct scen_field	*kv;
	size_t			 n;
};

/* scen_event.c: the log's lines, the run file, times */
int		 scen_event_parse(const char *, struct scen_event *);
void		 scen_event_free(struct scen_event *);
const char	*scen_event_get(const struct scen_event *, const char *);
void		 scen_event_write(FILE *, long long, const char *,
		    const char *, const char *, ...);
int		 scen_log_read(struct scen_log *, const char *);
int		 scen_log_add(struct scen_log *, const char *);
void		 scen_log_sort(struct scen_log *);
void		 scen_log_derive_gone(struct scen_log *);
void		 scen_log_free(struct scen_log *);
int		 scen_run_read(struct scen_run *, const char *);
const char	*scen_run_get(const struct scen_run *, const char *);
void		 scen_run_free(struct scen_run *);
long long	 scen_monotonic_ns(void);
long long	 scen_realtime_ns(void);
int		 scen_parse_seconds_ns(const char *, long long *);
const char	*scen_conn_short(const char *, char *, size_t);

/* scen_text.c: terminal columns of UTF-8 text, and wrapping */
size_t		 scen_text_width(const char *);
size_t		 scen_text_take(const char *, size_t, size_t *);
int		 scen_text_wrap(const char *, size_t, char ***);
void		 scen_text_pad(FILE *, const char *, size_t);

/* scen_ladder.c */
enum scen_column {
	SCEN_COL_CLIENT, SCEN_COL_WIRE, SCEN_COL_KERNEL, SCEN_COL_APP,
	SCEN_NCOLS,
	SCEN_COL_MARK = SCEN_NCOLS,	/* a rule across the whole ladder */
	SCEN_COL_NONE			/* not shown */
};
void		 scen_ladder_write(FILE *, const struct scen_log *, size_t,
		    long long);
size_t		 scen_ladder_width(void);
char		*scen_ladder_text(const struct scen_event *, int *);
void		 scen_ladder_columns(size_t, size_t *);

/* scen_query.c */
int		 scen_query_main(int, char **);
int		 scen_cmp_parse(const char *, int *);
int		 scen_cmp(long long, int, long long);

/* scen_sample.c */
int		 scen_sample_main(int, char **);
int		 scen_now_main(int, char **);
int		 scen_counters_main(int, char **);

/* scen_ingest.c */
int		 scen_ingest_wire(FILE *, FILE *, const char *, long long);
int		 scen_ingest_app(FILE *, FILE *, const char *, long long);
int		 scen_wire_line(const char *, const char *, long long, FILE *);
int		 scen_json_flat(char *, struct scen_field *, int);

/* scen_json.c */
int		 scen_json_leaves(const char *, struct scen_field **, size_t *);
int		 scen_json_main(int, char **);

/* scen_report.c */
int		 scen_report_main(int, char **);

#endif

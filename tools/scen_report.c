/*
 * report.md from a run's files alone: the run file, the config, the event
 * log (as a ladder), the checks' output and the scenario's explanation.
 * `tools/scenario report DIR` reruns the checks, then this.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenlog.h"

#define REPORT_WIDTH	120

static void
copy_file(FILE *out, const char *path, int demote)
{
	FILE	*f;
	char	*line = NULL;
	size_t	 cap = 0;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(out, "(%s: missing)\n", path);
		return;
	}
	while (getline(&line, &cap, f) != -1) {
		if (demote && line[0] == '#')
			fputc('#', out);	/* its headings go one down */
		fputs(line, out);
	}
	free(line);
	fclose(f);
}

/* PASS, FAIL and SKIP lines of checks.txt. */
static void
count_checks(const char *path, int *pass, int *fail, int *skip)
{
	FILE	*f;
	char	*line = NULL;
	size_t	 cap = 0;

	*pass = *fail = *skip = 0;
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (getline(&line, &cap, f) != -1) {
		if (strncmp(line, "PASS  ", 6) == 0)
			(*pass)++;
		else if (strncmp(line, "FAIL  ", 6) == 0)
			(*fail)++;
		else if (strncmp(line, "SKIP  ", 6) == 0)
			(*skip)++;
	}
	free(line);
	fclose(f);
}

static const char *
run_value(const struct scen_run *run, const char *key, const char *def)
{
	const char	*v = scen_run_get(run, key);

	return v != NULL && *v != '\0' ? v : def;
}

/*
 * What the scenario changed in its namespace (sysctls, queueing
 * disciplines), in order: the run file's "setting" rows.
 */
static void
report_settings(FILE *out, const struct scen_run *run)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < run->n; i++) {
		if (strcmp(run->kv[i].key, "setting") != 0)
			continue;
		if (n++ == 0)
			fprintf(out, "\nSet in the scenario's network namespace, "
			    "in this order:\n\n```\n");
		fprintf(out, "%s\n", run->kv[i].value);
	}
	if (n > 0)
		fprintf(out, "```\n");
	else
		fprintf(out, "\nNo sysctl or queueing discipline was changed.\n");
}

/*
 * Every RST the kernel sent and every packet it dropped, with the
 * kernel's own reason: the answer to "why this RST?" without reading the
 * ladder.  Nothing when the run has none (or no kernel events).
 */
static void
report_reasons(FILE *out, const struct scen_log *log, long long t0)
{
	const struct scen_event	*ev;
	const char		*side, *reason, *state;
	char			 c[128];
	size_t			 i;
	int			 n = 0;

	for (i = 0; i < log->n; i++) {
		ev = &log->ev[i];
		if (strcmp(ev->lane, "kernel") != 0 ||
		    (strcmp(ev->event, "rst-sent") != 0 &&
		    strcmp(ev->event, "drop") != 0))
			continue;
		if (n++ == 0)
			fprintf(out, "\n## The kernel's reasons\n\nEach RST "
			    "the kernel sent and each packet it dropped, with "
			    "the reason it gave (ms since start):\n\n```\n");
		side = scen_event_get(ev, "side");
		reason = scen_event_get(ev, "reason");
		state = scen_event_get(ev, "state");
		fprintf(out, "%9.1f  %-8s %s side, %s%s%s: %s\n",
		    (ev->time - t0) / 1e6, ev->event, side ? side : "?",
		    strcmp(ev->conn, SCEN_NOCONN) == 0 ? "the listener" :
		    scen_conn_short(ev->conn, c, sizeof(c)),
		    state ? " in " : "", state ? state : "",
		    reason ? reason : "?");
	}
	if (n > 0)
		fprintf(out, "```\n");
}

static void
report_write(FILE *out, const char *dir, const struct scen_run *run,
    const struct scen_log *log, size_t width)
{
	char		 path[4096];
	const char	*s;
	int		 pass, fail, skip, kernel;

	fprintf(out, "# Scenario %s\n\n", run_value(run, "name", "?"));
	fprintf(out, "Run %s on %s, %s, acceptd on %s.",
	    run_value(run, "date", "?"), run_value(run, "kernel", "?"),
	    strcmp(run_value(run, "namespace", ""), "private") == 0 ?
	    "in a private network namespace" : "on the host's loopback",
	    run_value(run, "server", "?"));
	if ((s = scen_run_get(run, "tools")) != NULL)
		fprintf(out, " Tools: %s.", s);
	if ((s = scen_run_get(run, "tcpdump_dropped")) != NULL)
		fprintf(out, " tcpdump dropped %s packets.", s);
	if ((s = scen_run_get(run, "sampler")) != NULL)
		fprintf(out, " Kernel sampler: %s.", s);
	s = scen_run_get(run, "kernel_events");
	kernel = s != NULL && strcmp(s, "yes") == 0;
	if (s != NULL)
		fprintf(out, " Kernel events: %s.", s);
	fprintf(out, "\n\n## Configuration\n\n```\n");
	snprintf(path, sizeof(path), "%s/acceptd.conf", dir);
	copy_file(out, path, 0);
	fprintf(out, "```\n");
	report_settings(out, run);
	fprintf(out, "\n## Ladder\n\nms since start; :PORT is the client's "
	    "port.");
	if (kernel)
		fprintf(out, "  The server-kernel column holds the kernel's own "
		    "events at their exact times; rows marked ≈ are sampled "
		    "every few ms (sock_diag): the accept queue, Recv-Q (r) "
		    "and Send-Q (s), and states no event announces.  \"k:\" "
		    "rows in the client column are the kernel's events for "
		    "the client's socket.");
	else
		fprintf(out, "  The server-kernel column is sampled every few "
		    "ms (sock_diag): S the server's sockets, C the client's, "
		    "r Recv-Q, s Send-Q.");
	fprintf(out, "\n\n```\n");
	s = scen_run_get(run, "start_ns");
	scen_ladder_write(out, log, width, s ? strtoll(s, NULL, 10) :
	    log->n ? log->ev[0].time : 0);
	fprintf(out, "```\n");
	report_reasons(out, log, s ? strtoll(s, NULL, 10) :
	    log->n ? log->ev[0].time : 0);
	snprintf(path, sizeof(path), "%s/checks.txt", dir);
	count_checks(path, &pass, &fail, &skip);
	fprintf(out, "\n## Checks: %d of %d passed", pass,
	    pass + fail);
	if (skip > 0)
		fprintf(out, ", %d skipped", skip);
	fprintf(out, "\n\n```\n");
	copy_file(out, path, 0);
	fprintf(out, "```\n\n");
	snprintf(path, sizeof(path), "%s/scenario.md", dir);
	copy_file(out, path, 1);
	fprintf(out, "\n## Artifacts\n\nevents.tsv (the event log, see "
	    "tools/scenarios/EVENTS.md), run.tsv, ladder.txt, checks.txt, "
	    "capture.pcap (when tcpdump ran), acceptd.conf, acceptd.log, "
	    "raw/.\n");
}

/* report [-w WIDTH] DIR: DIR/report.md rebuilt from DIR's files. */
int
scen_report_main(int argc, char **argv)
{
	struct scen_run	 run;
	struct scen_log	 log = { 0 };
	char		 path[4096], tmp[4096];
	size_t		 width = REPORT_WIDTH;
	FILE		*out;
	int		 ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "w:")) != -1) {
		if (ch != 'w')
			return 2;
		width = strtoul(optarg, NULL, 10);
	}
	if (optind != argc - 1)
		errx(2, "usage: report [-w WIDTH] DIR");
	snprintf(path, sizeof(path), "%s/run.tsv", argv[optind]);
	if (scen_run_read(&run, path) == -1)
		return 1;
	snprintf(path, sizeof(path), "%s/events.tsv", argv[optind]);
	if (scen_log_read(&log, path) == -1)
		return 1;
	snprintf(path, sizeof(path), "%s/report.md", argv[optind]);
	snprintf(tmp, sizeof(tmp), "%s/report.md.tmp", argv[optind]);
	if ((out = fopen(tmp, "w")) == NULL)
		err(1, "%s", tmp);
	report_write(out, argv[optind], &run, &log, width);
	if (fclose(out) != 0 || rename(tmp, path) == -1)
		err(1, "%s", path);
	scen_log_free(&log);
	scen_run_free(&run);
	return 0;
}

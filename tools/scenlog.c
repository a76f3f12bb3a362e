/*
 * scenlog: the scenario engine's data half (tools/scenlog.h).  One
 * command a call; tools/scenarios/lib.sh is its only regular caller.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenlog.h"

static int	cmd_clock(int, char **);
static int	cmd_ingest(int, char **);
static int	cmd_ladder(int, char **);

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*usage;
} commands[] = {
	{ "clock", cmd_clock, "clock" },
	{ "counters", scen_counters_main, "counters -n NAME" },
	{ "ingest-app", cmd_ingest, "ingest-app -r RUNFILE <trace.jsonl" },
	{ "ingest-wire", cmd_ingest,
	    "ingest-wire -r RUNFILE <tcpdump-text" },
	{ "json", scen_json_main, "json FILE [PATH [COL,COL...]]" },
	{ "ladder", cmd_ladder, "ladder [-w WIDTH] DIR" },
	{ "now", scen_now_main, "now [-o FILE] -p PORT queue | "
	    "count SIDE STATE | max SIDE STATE FIELD | state SIDE CONN; "
	    "now [-d DIR] counter NAME" },
	{ "query", scen_query_main, "query [-d DIR] [-w FROM,TO] "
	    "count|first|order|value|delta ..." },
	{ "report", scen_report_main, "report [-w WIDTH] DIR" },
	{ "sample", scen_sample_main, "sample -p PORT -o FILE [-i MS] "
	    "[-s STOPFILE]" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(void)
{
	size_t	i;

	fprintf(stderr, "usage: scenlog command [args]\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(stderr, "  %s\n", commands[i].usage);
	exit(2);
}

/* Wall clock minus monotonic, in ns: what converts recorders' stamps. */
static int
cmd_clock(int argc, char **argv)
{
	long long	r, m;

	(void)argc;
	(void)argv;
	m = scen_monotonic_ns();
	r = scen_realtime_ns();
	printf("%lld %lld\n", r - m, m);
	return 0;
}

static int
cmd_ingest(int argc, char **argv)
{
	struct scen_run	 run;
	const char	*runfile = NULL, *server, *off;
	int		 ch, r;

	optind = 1;
	while ((ch = getopt(argc, argv, "r:")) != -1) {
		if (ch != 'r')
			usage();
		runfile = optarg;
	}
	if (runfile == NULL)
		usage();
	if (scen_run_read(&run, runfile) == -1)
		return 1;
	if ((server = scen_run_get(&run, "server")) == NULL ||
	    (off = scen_run_get(&run, "clock_offset_ns")) == NULL)
		errx(1, "%s: no server or clock_offset_ns", runfile);
	if (strcmp(argv[0], "ingest-wire") == 0)
		r = scen_ingest_wire(stdin, stdout, server,
		    strtoll(off, NULL, 10));
	else
		r = scen_ingest_app(stdin, stdout, server,
		    strtoll(off, NULL, 10));
	scen_run_free(&run);
	return r;
}

/* The ladder of DIR at WIDTH, else COLUMNS, else the terminal's. */
static int
cmd_ladder(int argc, char **argv)
{
	struct scen_log	 log = { 0 };
	struct scen_run	 run;
	char		 path[4096];
	const char	*s;
	size_t		 width = 0;
	long long	 t0 = 0;
	int		 ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "w:")) != -1) {
		if (ch != 'w')
			usage();
		width = strtoul(optarg, NULL, 10);
	}
	if (optind != argc - 1)
		usage();
	if (width == 0)
		width = scen_ladder_width();
	snprintf(path, sizeof(path), "%s/events.tsv", argv[optind]);
	if (scen_log_read(&log, path) == -1)
		return 1;
	snprintf(path, sizeof(path), "%s/run.tsv", argv[optind]);
	if (access(path, R_OK) == 0 && scen_run_read(&run, path) == 0) {
		if ((s = scen_run_get(&run, "start_ns")) != NULL)
			t0 = strtoll(s, NULL, 10);
		scen_run_free(&run);
	}
	if (t0 == 0 && log.n > 0)
		t0 = log.ev[0].time;
	scen_ladder_write(stdout, &log, width, t0);
	scen_log_free(&log);
	return 0;
}

int
main(int argc, char **argv)
{
	size_t	i;

	if (argc < 2)
		usage();
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	warnx("unknown command \"%s\"", argv[1]);
	usage();
}

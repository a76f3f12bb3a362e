/*
 * acceptload's report at the end of a run: what the connects and requests
 * did, the rate and the latencies, as text or as one JSON object.
 */
#include <stdint.h>
#include <stdio.h>

#include "acceptload.h"
#include "json.h"

static double		 report_seconds(const struct load *);
static uint64_t		 report_request_failures(const struct load *);
static double		 report_rate(const struct load *);
static void		 report_format_us(uint64_t, char *, size_t);
static void		 report_latency_text(FILE *, const char *,
			    const struct loadstats *);
static void		 report_errors_text(FILE *, const char *,
			    const struct loaderrno *);
static void		 report_json_errors(FILE *, const struct loaderrno *);
static void		 report_json_latency(FILE *, const struct loadstats *);

void
report_text(const struct load *l, FILE *fp)
{
	fprintf(fp, "acceptload: %s to %s, %.3f s, concurrency %llu\n",
	    opts_mode_name(l->o.mode), l->target, report_seconds(l),
	    (unsigned long long)l->o.concurrency);
	fprintf(fp, "connects: %llu ok, %llu refused, %llu reset, "
	    "%llu timed out, %llu other errors\n",
	    (unsigned long long)l->connect_ok,
	    (unsigned long long)l->connect_refused,
	    (unsigned long long)l->connect_reset,
	    (unsigned long long)l->connect_timeout,
	    (unsigned long long)loaderrno_total(&l->connect_errors));
	report_errors_text(fp, "connect", &l->connect_errors);
	if (l->o.mode != LOAD_MODE_HOLD && l->o.mode != LOAD_MODE_CONNECT_CLOSE)
		fprintf(fp, "requests: %llu ok, %llu failed (%llu reset, "
		    "%llu timed out, %llu closed early, %llu bad replies)\n",
		    (unsigned long long)l->request_ok,
		    (unsigned long long)report_request_failures(l),
		    (unsigned long long)l->request_reset,
		    (unsigned long long)l->request_timeout,
		    (unsigned long long)l->request_eof,
		    (unsigned long long)l->request_bad);
	report_errors_text(fp, "request", &l->request_errors);
	if (l->o.mode == LOAD_MODE_HOLD || l->peer_eof + l->peer_reset > 0)
		fprintf(fp, "held: %llu at most; closed by peer: %llu, "
		    "reset by peer: %llu\n", (unsigned long long)l->held_max,
		    (unsigned long long)l->peer_eof,
		    (unsigned long long)l->peer_reset);
	fprintf(fp, "rate: %.1f %s/s\n", report_rate(l),
	    l->o.mode == LOAD_MODE_REQUEST ? "requests" : "connections");
	report_latency_text(fp, "connect", &l->connect_lat);
	if (opts_has_requests(&l->o))
		report_latency_text(fp, "request", &l->request_lat);
}

void
report_json(const struct load *l, FILE *fp)
{
	fprintf(fp, "{\"mode\":");
	json_string(fp, opts_mode_name(l->o.mode));
	fprintf(fp, ",\"target\":");
	json_string(fp, l->target);
	fprintf(fp, ",\"concurrency\":%llu,\"duration_s\":%.3f,"
	    "\"connects\":{\"ok\":%llu,\"refused\":%llu,\"reset\":%llu,"
	    "\"timeout\":%llu,\"errors\":",
	    (unsigned long long)l->o.concurrency, report_seconds(l),
	    (unsigned long long)l->connect_ok,
	    (unsigned long long)l->connect_refused,
	    (unsigned long long)l->connect_reset,
	    (unsigned long long)l->connect_timeout);
	report_json_errors(fp, &l->connect_errors);
	fprintf(fp, "},\"requests\":{\"ok\":%llu,\"errors\":%llu,"
	    "\"reset\":%llu,\"timeout\":%llu,\"eof\":%llu,\"bad\":%llu,"
	    "\"other\":", (unsigned long long)l->request_ok,
	    (unsigned long long)report_request_failures(l),
	    (unsigned long long)l->request_reset,
	    (unsigned long long)l->request_timeout,
	    (unsigned long long)l->request_eof,
	    (unsigned long long)l->request_bad);
	report_json_errors(fp, &l->request_errors);
	fprintf(fp, "},\"held\":{\"max\":%llu,\"peer_eof\":%llu,"
	    "\"peer_reset\":%llu},\"rate\":%.1f,\"connect_latency_us\":",
	    (unsigned long long)l->held_max, (unsigned long long)l->peer_eof,
	    (unsigned long long)l->peer_reset, report_rate(l));
	report_json_latency(fp, &l->connect_lat);
	fprintf(fp, ",\"request_latency_us\":");
	report_json_latency(fp, &l->request_lat);
	fprintf(fp, "}\n");
}

static double
report_seconds(const struct load *l)
{
	return (double)(l->t_end_us - l->t0_us) / 1e6;
}

static uint64_t
report_request_failures(const struct load *l)
{
	return l->request_reset + l->request_timeout + l->request_eof +
	    l->request_bad + loaderrno_total(&l->request_errors);
}

/* Requests per second in request mode, connections per second otherwise. */
static double
report_rate(const struct load *l)
{
	double		 s = report_seconds(l);
	uint64_t	 n;

	n = l->o.mode == LOAD_MODE_REQUEST ? l->request_ok : l->connect_ok;
	return s > 0 ? (double)n / s : 0.0;
}

static void
report_format_us(uint64_t us, char *buf, size_t len)
{
	if (us < 1000)
		snprintf(buf, len, "%lluus", (unsigned long long)us);
	else if (us < 1000000)
		snprintf(buf, len, "%.2fms", (double)us / 1e3);
	else
		snprintf(buf, len, "%.3fs", (double)us / 1e6);
}

/* One line of percentiles in readable units, then the coarse histogram. */
static void
report_latency_text(FILE *fp, const char *what, const struct loadstats *ls)
{
	uint64_t	 us[6];
	char		 b[6][32];
	size_t		 i;

	if (loadstats_count(ls) == 0) {
		fprintf(fp, "%s latency: no samples\n", what);
		return;
	}
	us[0] = loadstats_percentile(ls, 50);
	us[1] = loadstats_percentile(ls, 90);
	us[2] = loadstats_percentile(ls, 99);
	us[3] = loadstats_max(ls);
	us[4] = loadstats_min(ls);
	us[5] = (uint64_t)loadstats_mean(ls);
	for (i = 0; i < 6; i++)
		report_format_us(us[i], b[i], sizeof(b[i]));
	fprintf(fp, "%s latency: p50 %s  p90 %s  p99 %s  max %s  "
	    "(min %s, mean %s, %llu samples)\n", what, b[0], b[1], b[2], b[3],
	    b[4], b[5], (unsigned long long)loadstats_count(ls));
	loadstats_print_coarse(fp, ls, "  ");
}

static void
report_errors_text(FILE *fp, const char *what, const struct loaderrno *ec)
{
	size_t	 i;

	if (ec->used == 0)
		return;
	fprintf(fp, "%s errors:", what);
	for (i = 0; i < ec->used; i++)
		fprintf(fp, "%s %s %llu", i == 0 ? "" : ",",
		    loaderrno_name(ec->err[i]), (unsigned long long)ec->n[i]);
	fprintf(fp, "\n");
}

static void
report_json_errors(FILE *fp, const struct loaderrno *ec)
{
	size_t	 i;

	fputc('{', fp);
	for (i = 0; i < ec->used; i++)
		fprintf(fp, "%s\"%s\":%llu", i == 0 ? "" : ",",
		    loaderrno_name(ec->err[i]), (unsigned long long)ec->n[i]);
	fputc('}', fp);
}

static void
report_json_latency(FILE *fp, const struct loadstats *ls)
{
	uint64_t	 limit;
	size_t		 i;

	fprintf(fp, "{\"count\":%llu,\"min\":%llu,\"mean\":%.1f,\"p50\":%llu,"
	    "\"p90\":%llu,\"p99\":%llu,\"max\":%llu,\"histogram\":[",
	    (unsigned long long)loadstats_count(ls),
	    (unsigned long long)loadstats_min(ls), loadstats_mean(ls),
	    (unsigned long long)loadstats_percentile(ls, 50),
	    (unsigned long long)loadstats_percentile(ls, 90),
	    (unsigned long long)loadstats_percentile(ls, 99),
	    (unsigned long long)loadstats_max(ls));
	for (i = 0; i < LOADSTATS_COARSE; i++) {
		limit = loadstats_coarse_limit_ms(i);
		fprintf(fp, "%s{\"label\":\"%s\",\"le_ms\":", i == 0 ? "" : ",",
		    loadstats_coarse_label(i));
		if (limit == 0)
			fprintf(fp, "null");
		else
			fprintf(fp, "%llu", (unsigned long long)limit);
		fprintf(fp, ",\"count\":%llu}",
		    (unsigned long long)loadstats_coarse_count(ls, i));
	}
	fprintf(fp, "]}");
}

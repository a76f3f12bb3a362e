/*
 * Unit tests for tools/loadstats.c: percentiles on known distributions, the
 * precision bound, bucket edges, merge and the coarse retransmit histogram.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadstats.h"
#include "tap.h"

static struct loadstats	 ls, other, all;

/* True if got is at or above want and within one bucket width (1/64). */
static int
near(uint64_t got, uint64_t want)
{
	return got >= want && (got - want) * LOADSTATS_SUB <= want;
}

static void
test_empty(void)
{
	loadstats_init(&ls);
	is_int(loadstats_count(&ls), 0, "empty: count 0");
	is_int(loadstats_percentile(&ls, 50), 0, "empty: p50 0");
	is_int(loadstats_percentile(&ls, 100), 0, "empty: max percentile 0");
	is_int(loadstats_min(&ls), 0, "empty: min 0");
	is_int(loadstats_max(&ls), 0, "empty: max 0");
	ok(loadstats_mean(&ls) == 0.0, "empty: mean 0");
}

static void
test_single(void)
{
	loadstats_init(&ls);
	loadstats_record(&ls, 777777);
	is_int(loadstats_percentile(&ls, 50), 777777, "single: p50 exact");
	is_int(loadstats_percentile(&ls, 99), 777777, "single: p99 exact");
	is_int(loadstats_percentile(&ls, 0), 777777, "single: p0 exact");
	is_int(loadstats_min(&ls), 777777, "single: min");
	is_int(loadstats_max(&ls), 777777, "single: max");
	ok(loadstats_mean(&ls) == 777777.0, "single: mean");
}

static void
test_all_equal(void)
{
	int	 i;

	loadstats_init(&ls);
	for (i = 0; i < 1000; i++)
		loadstats_record(&ls, 12345);
	is_int(loadstats_count(&ls), 1000, "equal: count");
	is_int(loadstats_percentile(&ls, 50), 12345, "equal: p50");
	is_int(loadstats_percentile(&ls, 90), 12345, "equal: p90");
	is_int(loadstats_percentile(&ls, 99), 12345, "equal: p99");
	is_int(loadstats_percentile(&ls, 100), 12345, "equal: p100");
}

static void
test_uniform(void)
{
	uint64_t	 v;

	loadstats_init(&ls);
	for (v = 1; v <= 1000; v++)
		loadstats_record(&ls, v);
	is_int(loadstats_min(&ls), 1, "uniform: min exact");
	is_int(loadstats_max(&ls), 1000, "uniform: max exact");
	ok(loadstats_mean(&ls) == 500.5, "uniform: mean 500.5");
	v = loadstats_percentile(&ls, 50);
	if (!ok(near(v, 500), "uniform: p50 near 500"))
		tap_diag("p50 = %llu", (unsigned long long)v);
	v = loadstats_percentile(&ls, 90);
	if (!ok(near(v, 900), "uniform: p90 near 900"))
		tap_diag("p90 = %llu", (unsigned long long)v);
	v = loadstats_percentile(&ls, 99);
	if (!ok(near(v, 990), "uniform: p99 near 990"))
		tap_diag("p99 = %llu", (unsigned long long)v);
	is_int(loadstats_percentile(&ls, 100), 1000, "uniform: p100 = max");
	is_int(loadstats_percentile(&ls, 10), 100, "uniform: p10 exact "
	    "below 128");
}

/* Every value from 1 us to 100 s lands in a bucket at most 1/64 wide. */
static void
test_precision(void)
{
	uint64_t	 v, lo, hi, worst_v;
	double		 worst, width;
	size_t		 i;
	int		 inside;

	worst = 0.0;
	worst_v = 0;
	inside = 1;
	for (v = 1; v <= 100000000; v += v / 37 + 1) {
		i = loadstats_bucket_index(v);
		lo = loadstats_bucket_low(i);
		hi = loadstats_bucket_high(i);
		if (v < lo || v > hi)
			inside = 0;
		width = (double)(hi - lo) / (double)v;
		if (width > worst) {
			worst = width;
			worst_v = v;
		}
	}
	ok(inside, "precision: each value lies inside its bucket");
	if (!ok(worst <= 1.0 / LOADSTATS_SUB, "precision: buckets within "
	    "1/64 of the value up to 100 s"))
		tap_diag("worst %.4f at %llu", worst,
		    (unsigned long long)worst_v);

	/* A percentile with a far larger max: still within the bound. */
	loadstats_init(&ls);
	loadstats_record(&ls, 1234567);
	loadstats_record(&ls, 1234567);
	loadstats_record(&ls, 99000000);
	v = loadstats_percentile(&ls, 50);
	if (!ok(near(v, 1234567), "precision: p50 of 1.23 s near 1234567"))
		tap_diag("p50 = %llu", (unsigned long long)v);
	is_int(loadstats_max(&ls), 99000000, "precision: max exact");
}

static void
test_edges(void)
{
	size_t	 i;
	int	 contiguous, roundtrip;

	is_int(loadstats_bucket_index(0), 0, "edges: 0 in bucket 0");
	is_int(loadstats_bucket_index(63), 63, "edges: 63 exact");
	is_int(loadstats_bucket_index(64), 64, "edges: 64 exact");
	is_int(loadstats_bucket_index(127), 127, "edges: 127 exact");
	is_int(loadstats_bucket_index(128), 128, "edges: 128 starts a "
	    "2-wide bucket");
	is_int(loadstats_bucket_index(129), 128, "edges: 129 shares it");
	is_int(loadstats_bucket_index(130), 129, "edges: 130 the next");
	is_int(loadstats_bucket_index((uint64_t)1 << 27), LOADSTATS_BUCKETS - 1,
	    "edges: 2^27 clamps to the last bucket");
	is_int(loadstats_bucket_index(UINT64_MAX), LOADSTATS_BUCKETS - 1,
	    "edges: UINT64_MAX clamps to the last bucket");
	is_int(loadstats_bucket_high(LOADSTATS_BUCKETS - 1),
	    ((uint64_t)1 << 27) - 1, "edges: last bucket ends below 2^27");

	contiguous = roundtrip = 1;
	for (i = 0; i < LOADSTATS_BUCKETS; i++) {
		if (i + 1 < LOADSTATS_BUCKETS && loadstats_bucket_low(i + 1) !=
		    loadstats_bucket_high(i) + 1)
			contiguous = 0;
		if (loadstats_bucket_index(loadstats_bucket_low(i)) != i ||
		    loadstats_bucket_index(loadstats_bucket_high(i)) != i)
			roundtrip = 0;
	}
	ok(contiguous, "edges: buckets are contiguous");
	ok(roundtrip, "edges: low and high of each bucket map back to it");

	loadstats_init(&ls);
	loadstats_record(&ls, 500000000);
	is_int(loadstats_max(&ls), 500000000, "edges: 500 s max stays exact");
	is_int(loadstats_percentile(&ls, 99), 500000000,
	    "edges: 500 s percentile clamps to max");
}

static void
test_merge(void)
{
	uint64_t	 v;
	int		 same;
	double		 p;

	loadstats_init(&ls);
	loadstats_init(&other);
	loadstats_init(&all);
	for (v = 1; v <= 3000; v++) {
		loadstats_record(v % 3 ? &ls : &other, v * 97);
		loadstats_record(&all, v * 97);
	}
	loadstats_merge(&ls, &other);
	is_int(loadstats_count(&ls), 3000, "merge: count adds up");
	is_int(loadstats_min(&ls), 97, "merge: min");
	is_int(loadstats_max(&ls), 3000 * 97, "merge: max");
	ok(loadstats_mean(&ls) == loadstats_mean(&all), "merge: mean");
	same = 1;
	for (p = 1; p <= 100; p += 1)
		if (loadstats_percentile(&ls, p) !=
		    loadstats_percentile(&all, p))
			same = 0;
	ok(same, "merge: percentiles equal those of one recorder");

	loadstats_init(&other);
	loadstats_merge(&ls, &other);
	is_int(loadstats_min(&ls), 97, "merge: an empty one changes nothing");
	loadstats_init(&other);
	loadstats_merge(&other, &ls);
	is_int(loadstats_min(&other), 97, "merge: into an empty one takes min");
}

/* The line of the coarse printout that starts with label, or NULL. */
static const char *
coarse_line(const char *out, const char *label, char *line, size_t len)
{
	const char	*p, *end;
	char		 word[32];

	for (p = out; *p != '\0'; p = *end == '\0' ? end : end + 1) {
		end = strchr(p, '\n');
		if (end == NULL)
			end = p + strlen(p);
		if (sscanf(p, "%31s", word) == 1 && strcmp(word, label) == 0) {
			snprintf(line, len, "%.*s", (int)(end - p), p);
			return line;
		}
	}
	return NULL;
}

static void
test_coarse(void)
{
	char		 out[4096], line[256];
	unsigned long	 n;
	char		 label[32], bar[64];
	FILE		*fp;
	size_t		 got;

	is_int(loadstats_coarse_index(999), 0, "coarse: 999 us is <1ms");
	is_int(loadstats_coarse_index(1000), 1, "coarse: 1 ms is 1-10ms");
	is_int(loadstats_coarse_index(999999), 3, "coarse: 999999 us is "
	    "100ms-1s");
	is_int(loadstats_coarse_index(1000000), 4, "coarse: 1 s is 1-2s");
	is_int(loadstats_coarse_index(3000000), 5, "coarse: 3 s is 2-4s");
	is_int(loadstats_coarse_index(8000000), 7, "coarse: 8 s is >=8s");
	is_int(loadstats_coarse_limit_ms(4), 2000, "coarse: 1-2s ends at 2000");
	is_int(loadstats_coarse_limit_ms(7), 0, "coarse: >=8s has no end");
	is_str(loadstats_coarse_label(5), "2-4s", "coarse: label of 2-4s");

	loadstats_init(&ls);
	for (n = 0; n < 50; n++)
		loadstats_record(&ls, 200 + n);
	loadstats_record(&ls, 1000000);
	loadstats_record(&ls, 1020000);
	loadstats_record(&ls, 3000000);
	is_int(loadstats_coarse_count(&ls, 0), 50, "coarse: 50 in <1ms");
	is_int(loadstats_coarse_count(&ls, 4), 2, "coarse: 1 s samples in "
	    "1-2s");
	is_int(loadstats_coarse_count(&ls, 5), 1, "coarse: 3 s sample in 2-4s");
	is_int(loadstats_coarse_count(&ls, 6), 0, "coarse: 4-8s empty");

	fp = tmpfile();
	if (fp == NULL) {
		ok(0, "coarse: tmpfile for the printout");
		return;
	}
	loadstats_print_coarse(fp, &ls, "  ");
	rewind(fp);
	got = fread(out, 1, sizeof(out) - 1, fp);
	out[got] = '\0';
	fclose(fp);

	ok(coarse_line(out, "1-2s", line, sizeof(line)) != NULL &&
	    sscanf(line, "%31s %lu %63s", label, &n, bar) == 3 && n == 2 &&
	    bar[0] == '#', "coarse: printout shows 1-2s with 2 and a bar");
	ok(coarse_line(out, "2-4s", line, sizeof(line)) != NULL &&
	    sscanf(line, "%31s %lu %63s", label, &n, bar) == 3 && n == 1 &&
	    strcmp(bar, "#") == 0, "coarse: a lone 3 s sample gets one '#'");
	ok(coarse_line(out, "<1ms", line, sizeof(line)) != NULL &&
	    sscanf(line, "%31s %lu %63s", label, &n, bar) == 3 && n == 50 &&
	    strlen(bar) == 40, "coarse: the largest bucket gets the full bar");
	ok(coarse_line(out, "4-8s", line, sizeof(line)) != NULL &&
	    sscanf(line, "%31s %lu %63s", label, &n, bar) == 2 && n == 0,
	    "coarse: an empty bucket has no bar");
	if (tap_failed)
		tap_diag("printout:\n%s", out);
}

int
main(void)
{
	test_empty();
	test_single();
	test_all_equal();
	test_uniform();
	test_precision();
	test_edges();
	test_merge();
	test_coarse();
	return tap_done();
}

/*
 * Latency statistics for acceptload: a log-linear histogram with exact count,
 * sum, min and max, plus coarse buckets sized to show SYN retransmits.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "loadstats.h"

#define LOADSTATS_BAR_WIDTH	40

/* Upper limits of the coarse buckets in us; the last has none. */
static const uint64_t loadstats_coarse_limits[LOADSTATS_COARSE - 1] = {
	1000, 10000, 100000, 1000000, 2000000, 4000000, 8000000
};

static const char *loadstats_coarse_labels[LOADSTATS_COARSE] = {
	"<1ms", "1-10ms", "10-100ms", "100ms-1s", "1-2s", "2-4s", "4-8s",
	">=8s"
};

void
loadstats_init(struct loadstats *ls)
{
	memset(ls, 0, sizeof(*ls));
}

static unsigned int
loadstats_top_bit(uint64_t v)
{
	return 63 - (unsigned int)__builtin_clzll(v);
}

size_t
loadstats_bucket_index(uint64_t us)
{
	unsigned int	 e, shift;

	if (us < LOADSTATS_SUB)
		return us;
	e = loadstats_top_bit(us);
	if (e >= LOADSTATS_TOP_BIT)
		return LOADSTATS_BUCKETS - 1;
	shift = e - LOADSTATS_SUB_BITS;
	return LOADSTATS_SUB + (size_t)shift * LOADSTATS_SUB +
	    ((us >> shift) - LOADSTATS_SUB);
}

uint64_t
loadstats_bucket_low(size_t i)
{
	size_t	 shift, sub;

	if (i < LOADSTATS_SUB)
		return i;
	shift = (i - LOADSTATS_SUB) / LOADSTATS_SUB;
	sub = (i - LOADSTATS_SUB) % LOADSTATS_SUB;
	return (uint64_t)(LOADSTATS_SUB + sub) << shift;
}

uint64_t
loadstats_bucket_high(size_t i)
{
	size_t	 shift;

	if (i < LOADSTATS_SUB)
		return i;
	shift = (i - LOADSTATS_SUB) / LOADSTATS_SUB;
	return loadstats_bucket_low(i) + ((uint64_t)1 << shift) - 1;
}

size_t
loadstats_coarse_index(uint64_t us)
{
	size_t	 i;

	for (i = 0; i < LOADSTATS_COARSE - 1; i++)
		if (us < loadstats_coarse_limits[i])
			return i;
	return LOADSTATS_COARSE - 1;
}

void
loadstats_record(struct loadstats *ls, uint64_t us)
{
	if (ls->count == 0 || us < ls->min)
		ls->min = us;
	if (us > ls->max)
		ls->max = us;
	ls->count++;
	ls->sum += us;
	ls->bucket[loadstats_bucket_index(us)]++;
	ls->coarse[loadstats_coarse_index(us)]++;
}

void
loadstats_merge(struct loadstats *dst, const struct loadstats *src)
{
	size_t	 i;

	if (src->count == 0)
		return;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	for (i = 0; i < LOADSTATS_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	for (i = 0; i < LOADSTATS_COARSE; i++)
		dst->coarse[i] += src->coarse[i];
}

uint64_t
loadstats_count(const struct loadstats *ls)
{
	return ls->count;
}

uint64_t
loadstats_min(const struct loadstats *ls)
{
	return ls->min;
}

uint64_t
loadstats_max(const struct loadstats *ls)
{
	return ls->max;
}

double
loadstats_mean(const struct loadstats *ls)
{
	if (ls->count == 0)
		return 0.0;
	return (double)ls->sum / (double)ls->count;
}

/*
 * The value at or below which p percent of the samples fall, as the top of
 * its bucket (never under-reporting), clamped to the exact min and max.
 */
uint64_t
loadstats_percentile(const struct loadstats *ls, double p)
{
	uint64_t	 rank, seen, v;
	double		 want;
	size_t		 i;

	if (ls->count == 0)
		return 0;
	if (p < 0.0)
		p = 0.0;
	if (p > 100.0)
		p = 100.0;
	/* p * count first: 90 * 1000 / 100 is exact, 0.9 * 1000 is not. */
	want = p * (double)ls->count / 100.0;
	rank = (uint64_t)want;
	if ((double)rank < want)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > ls->count)
		rank = ls->count;
	seen = 0;
	for (i = 0; i < LOADSTATS_BUCKETS; i++) {
		seen += ls->bucket[i];
		if (seen >= rank)
			break;
	}
	v = loadstats_bucket_high(i < LOADSTATS_BUCKETS ? i :
	    LOADSTATS_BUCKETS - 1);
	if (v > ls->max)
		v = ls->max;
	if (v < ls->min)
		v = ls->min;
	return v;
}

uint64_t
loadstats_coarse_count(const struct loadstats *ls, size_t i)
{
	if (i >= LOADSTATS_COARSE)
		return 0;
	return ls->coarse[i];
}

const char *
loadstats_coarse_label(size_t i)
{
	if (i >= LOADSTATS_COARSE)
		return "?";
	return loadstats_coarse_labels[i];
}

uint64_t
loadstats_coarse_limit_ms(size_t i)
{
	if (i >= LOADSTATS_COARSE - 1)
		return 0;
	return loadstats_coarse_limits[i] / 1000;
}

/*
 * One line a bucket with its count and a bar scaled to the largest; any
 * non-empty bucket gets at least one '#', so a lone 1 s retransmit shows.
 */
void
loadstats_print_coarse(FILE *fp, const struct loadstats *ls,
    const char *indent)
{
	uint64_t	 most, n, width;
	size_t		 i;

	most = 0;
	for (i = 0; i < LOADSTATS_COARSE; i++)
		if (ls->coarse[i] > most)
			most = ls->coarse[i];
	for (i = 0; i < LOADSTATS_COARSE; i++) {
		n = ls->coarse[i];
		fprintf(fp, "%s%9s %10llu", indent, loadstats_coarse_labels[i],
		    (unsigned long long)n);
		width = most == 0 ? 0 : n * LOADSTATS_BAR_WIDTH / most;
		if (n > 0 && width == 0)
			width = 1;
		if (width > 0)
			fputc(' ', fp);
		while (width-- > 0)
			fputc('#', fp);
		fputc('\n', fp);
	}
}

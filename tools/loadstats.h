/*
 * Latency statistics for acceptload, kept apart from its I/O so they can be
 * tested alone: a fixed-size log-linear histogram of microseconds.
 */
#ifndef LOADSTATS_H
#define LOADSTATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Values below 2^SUB_BITS us are kept exactly; above, each power of two is
 * cut into 2^SUB_BITS buckets, so a bucket is at most 1/64 (1.6 %) of its
 * value wide.  The top power of two holds 2^27 us (134 s); larger values
 * land in the last bucket, and max stays exact.
 */
#define LOADSTATS_SUB_BITS	6
#define LOADSTATS_SUB		(1U << LOADSTATS_SUB_BITS)
#define LOADSTATS_TOP_BIT	27
#define LOADSTATS_BUCKETS	\
	(LOADSTATS_SUB * (LOADSTATS_TOP_BIT - LOADSTATS_SUB_BITS + 1))

/* The coarse view: <1ms 1-10ms 10-100ms 100ms-1s 1-2s 2-4s 4-8s >=8s. */
#define LOADSTATS_COARSE	8

struct loadstats {
	uint64_t	count;
	uint64_t	sum;
	uint64_t	min;
	uint64_t	max;
	uint64_t	coarse[LOADSTATS_COARSE];
	uint64_t	bucket[LOADSTATS_BUCKETS];
};

void		 loadstats_init(struct loadstats *);
void		 loadstats_record(struct loadstats *, uint64_t us);
void		 loadstats_merge(struct loadstats *, const struct loadstats *);

uint64_t	 loadstats_count(const struct loadstats *);
uint64_t	 loadstats_min(const struct loadstats *);	/* 0 if empty */
uint64_t	 loadstats_max(const struct loadstats *);
double		 loadstats_mean(const struct loadstats *);
uint64_t	 loadstats_percentile(const struct loadstats *, double p);

/* The fine buckets, for tests: the bucket of a value and its bounds. */
size_t		 loadstats_bucket_index(uint64_t us);
uint64_t	 loadstats_bucket_low(size_t);
uint64_t	 loadstats_bucket_high(size_t);

/* The coarse buckets: i in [0, LOADSTATS_COARSE). */
size_t		 loadstats_coarse_index(uint64_t us);
uint64_t	 loadstats_coarse_count(const struct loadstats *, size_t i);
const char	*loadstats_coarse_label(size_t i);
uint64_t	 loadstats_coarse_limit_ms(size_t i);	/* 0: no upper bound */
void		 loadstats_print_coarse(FILE *, const struct loadstats *,
		    const char *indent);

#endif

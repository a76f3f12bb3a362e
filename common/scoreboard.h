/*
 * Scoreboard: per-worker state and counters in shared memory, written by
 * each worker, read by the master at any moment without asking anyone.
 * Each slot has one writer, so counters are bumped with relaxed loads and
 * stores (no locked instructions on the accept path).
 */
#ifndef SCOREBOARD_H
#define SCOREBOARD_H

#include <stdatomic.h>
#include <stdint.h>

#include "conf.h"

enum worker_state {
	WORKER_EMPTY,		/* slot not in use */
	WORKER_STARTING,
	WORKER_ACCEPTING,
	WORKER_PAUSED,		/* told to stop accepting */
	WORKER_FULL,		/* at max-connections */
	WORKER_THROTTLED,	/* accept-rate or EMFILE backoff */
	WORKER_EXITING,		/* draining before exit */
	WORKER_NSTATES
};

typedef _Atomic uint64_t	sb_counter;

struct sb_worker {
	_Atomic int	pid;
	_Atomic int	state;		/* enum worker_state */
	_Atomic uint64_t generation;	/* last settings message applied */
	sb_counter	wakeups;	/* listener readiness events */
	sb_counter	accepts;
	sb_counter	empty_accepts;	/* wakeups that found nothing */
	sb_counter	active;		/* open connections now (a gauge) */
	sb_counter	closed;
	sb_counter	peer_eofs;
	sb_counter	resets;		/* ECONNRESET seen */
	sb_counter	bytes_in;
	sb_counter	bytes_out;
	sb_counter	trace_dropped;	/* trace lines lost to a full channel */
} __attribute__((aligned(128)));	/* no false sharing between workers */

struct scoreboard {
	_Atomic int		trace;		/* someone listens to trace */
	_Atomic uint64_t	rate_interval_ns; /* 1e9 / accept-rate; 0 off */
	_Atomic uint64_t	rate_next_ns;	/* next accept allowed (GCRA) */
	struct sb_worker	worker[CONF_WORKERS_MAX];
};

/* Map the scoreboard before the first fork; NULL with errno on failure. */
struct scoreboard	*scoreboard_map(void);
const char		*scoreboard_state_name(enum worker_state);

/* The whole daemon's accept-rate: take one token, or say when to retry. */
void	 scoreboard_set_rate(struct scoreboard *, int per_second);
void	 scoreboard_return_token(struct scoreboard *);
int	 scoreboard_take_token(struct scoreboard *, uint64_t now_ns,
	    uint64_t *retry_ns);

static inline void
sb_add(sb_counter *c, uint64_t n)
{
	atomic_store_explicit(c,
	    atomic_load_explicit(c, memory_order_relaxed) + n,
	    memory_order_relaxed);
}

static inline uint64_t
sb_get(sb_counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

#endif

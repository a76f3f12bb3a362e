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
	WORKER_RESPAWNING,	/* dead, waiting for its respawn timer: the
				   master sets it */
	WORKER_NSTATES
};

typedef _Atomic uint64_t	sb_counter;

/*
 * One entry per worker process: a retiring worker keeps its own while
 * its slot's successor runs, so there are twice as many as slots.
 */
#define SB_WORKERS	(2 * CONF_WORKERS_MAX)

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

/*
 * accept-rate tolerates lateness up to this much: a worker told to retry
 * in 0.3 ms sleeps on a millisecond timer and wakes when the scheduler
 * lets it, and the tokens that fell due meanwhile must still be there, or
 * the daemon never reaches its rate.  The price is a burst: over any
 * window of t seconds at most rate * t + 1 + rate * this accepts.
 */
#define SB_RATE_SLACK_NS	10000000ULL	/* 10 ms */

struct scoreboard {
	_Atomic int		trace;		/* someone listens to trace */
	_Atomic uint64_t	rate_interval_ns; /* 1e9 / accept-rate; 0 off */
	_Atomic uint64_t	rate_tolerance_ns; /* interval + slack */
	_Atomic uint64_t	rate_next_ns;	/* GCRA's theoretical arrival
						   time: "full" at or before
						   now, 0 after a reset */
	struct sb_worker	worker[SB_WORKERS];
};

/* Map the scoreboard before the first fork; NULL with errno on failure. */
struct scoreboard	*scoreboard_map(void);
const char		*scoreboard_state_name(enum worker_state);

/*
 * The whole daemon's accept-rate: take one token, or say in how many ns
 * one is due (1, or 0 with *retry_ns set).  A token taken for an accept
 * that found nothing goes back.  Setting the rate, even to the same value,
 * starts from a full burst.
 */
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

/*
 * The shared scoreboard and the daemon-wide accept-rate limiter.
 */
#include <sys/mman.h>

#include "scoreboard.h"

static const char *const state_names[WORKER_NSTATES] = {
	"empty", "starting", "accepting", "paused", "full", "throttled",
	"exiting", "respawning"
};

struct scoreboard *
scoreboard_map(void)
{
	void *p;

	p = mmap(NULL, sizeof(struct scoreboard), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	return p;	/* anonymous memory starts zeroed: all slots empty */
}

const char *
scoreboard_state_name(enum worker_state s)
{
	if ((unsigned int)s >= WORKER_NSTATES)
		return "unknown";
	return state_names[s];
}

void
scoreboard_set_rate(struct scoreboard *sb, int per_second)
{
	uint64_t interval = per_second > 0 ? 1000000000ULL / per_second : 0;

	atomic_store(&sb->rate_interval_ns, interval);
	atomic_store(&sb->rate_tolerance_ns, interval + SB_RATE_SLACK_NS);
	atomic_store(&sb->rate_next_ns, 0);
}

/*
 * GCRA, the token bucket kept as one timestamp, shared by all workers
 * without a lock.  Each accept moves the theoretical arrival time (TAT)
 * one interval on from itself, or from now if it lies in the past; the
 * accept is allowed while that leaves TAT at most the tolerance ahead of
 * now.  So k accepts between times a and b move TAT by k intervals, from
 * at least a to at most b + tolerance: k * interval <= b - a + tolerance.
 * Whoever moves TAT owns the token.
 */
int
scoreboard_take_token(struct scoreboard *sb, uint64_t now_ns,
    uint64_t *retry_ns)
{
	uint64_t interval, tolerance, tat, next;

	interval = atomic_load_explicit(&sb->rate_interval_ns,
	    memory_order_relaxed);
	if (interval == 0)
		return 1;
	tolerance = atomic_load_explicit(&sb->rate_tolerance_ns,
	    memory_order_relaxed);
	tat = atomic_load_explicit(&sb->rate_next_ns, memory_order_relaxed);
	do {
		next = (tat > now_ns ? tat : now_ns) + interval;
		if (next - now_ns > tolerance) {
			*retry_ns = next - now_ns - tolerance;
			return 0;
		}
	} while (!atomic_compare_exchange_weak_explicit(&sb->rate_next_ns,
	    &tat, next, memory_order_relaxed, memory_order_relaxed));
	return 1;
}

/*
 * An accept that found nothing gives its token back, unless the rate was
 * reset meanwhile (then there is nothing to give back).  TAT falling
 * behind now is harmless: taking starts from now, so the bucket never
 * holds more than the tolerance.
 */
void
scoreboard_return_token(struct scoreboard *sb)
{
	uint64_t interval, tat;

	interval = atomic_load_explicit(&sb->rate_interval_ns,
	    memory_order_relaxed);
	tat = atomic_load_explicit(&sb->rate_next_ns, memory_order_relaxed);
	do {
		if (interval == 0 || tat < interval)
			return;
	} while (!atomic_compare_exchange_weak_explicit(&sb->rate_next_ns,
	    &tat, tat - interval, memory_order_relaxed,
	    memory_order_relaxed));
}

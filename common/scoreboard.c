/*
 * The shared scoreboard and the daemon-wide accept-rate limiter.
 */
#include <sys/mman.h>

#include "scoreboard.h"

static const char *const state_names[WORKER_NSTATES] = {
	"empty", "starting", "accepting", "paused", "full", "throttled",
	"exiting"
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
	atomic_store(&sb->rate_next_ns, 0);
}

/*
 * One accept per interval for the whole daemon, shared by all workers
 * without a lock: whoever moves "next allowed" forward owns the token.
 */
int
scoreboard_take_token(struct scoreboard *sb, uint64_t now_ns,
    uint64_t *retry_ns)
{
	uint64_t interval, next;

	interval = atomic_load_explicit(&sb->rate_interval_ns,
	    memory_order_relaxed);
	if (interval == 0)
		return 1;
	next = atomic_load_explicit(&sb->rate_next_ns, memory_order_relaxed);
	do {
		if (next > now_ns) {
			*retry_ns = next - now_ns;
			return 0;
		}
	} while (!atomic_compare_exchange_weak_explicit(&sb->rate_next_ns,
	    &next, now_ns + interval, memory_order_relaxed,
	    memory_order_relaxed));
	return 1;
}

/*
 * An accept that found nothing gives its token back, unless the rate was
 * reset meanwhile (then there is nothing to give back).
 */
void
scoreboard_return_token(struct scoreboard *sb)
{
	uint64_t interval, next;

	interval = atomic_load_explicit(&sb->rate_interval_ns,
	    memory_order_relaxed);
	next = atomic_load_explicit(&sb->rate_next_ns, memory_order_relaxed);
	do {
		if (next < interval)
			return;
	} while (!atomic_compare_exchange_weak_explicit(&sb->rate_next_ns,
	    &next, next - interval, memory_order_relaxed,
	    memory_order_relaxed));
}

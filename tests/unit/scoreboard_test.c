/*
 * Unit tests for the scoreboard: state names, and the accept-rate limiter
 * driven by a simulated clock the way workers drive it (a refusal sleeps
 * on a millisecond timer, rounded up, and wakes late), then by forked
 * processes on the real clock.
 */
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scoreboard.h"
#include "tap.h"

#define MS		1000000ULL		/* ns */
#define SEC		1000000000ULL
#define SIM_WORKERS	4
#define NPROCS		2
#define PROC_RUN_NS	(100 * MS)

/* A worker in the simulation: when it wakes next. */
struct sim {
	struct scoreboard	*sb;
	uint64_t		 wake[SIM_WORKERS];
	int			 nworkers;
	uint64_t		 jitter_ms;	/* wake up to this much late */
	uint32_t		 seed;
};

static uint32_t		rand_next(uint32_t *);
static uint64_t		burst(int);
static uint64_t		sim_run(struct sim *, uint64_t, uint64_t);
static uint64_t		sim_rate(struct scoreboard *, int, int, uint64_t);
static void		test_names(void);
static void		test_unlimited(struct scoreboard *);
static void		test_standing_start(struct scoreboard *);
static void		test_return(struct scoreboard *);
static void		test_reset(struct scoreboard *);
static void		test_rates(struct scoreboard *);
static int		bound_holds(const uint64_t *, size_t, int);
static void		test_bound(struct scoreboard *, int);
static uint64_t		now_ns(void);
static void		test_processes(struct scoreboard *);

/* A small deterministic generator: the same run every time. */
static uint32_t
rand_next(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/* Accepts the limiter allows beyond rate * t, as scoreboard.h says. */
static uint64_t
burst(int rate)
{
	return 1 + (uint64_t)rate * SB_RATE_SLACK_NS / SEC;
}

/*
 * Runs the workers from start to end (ns): each takes tokens until told
 * to retry, then sleeps as worker.c does, the wait rounded up to whole
 * milliseconds, plus lateness.  Returns the tokens taken from start on.
 */
static uint64_t
sim_run(struct sim *s, uint64_t start, uint64_t end)
{
	uint64_t	now, retry, taken = 0;
	int		i, w;

	for (i = 0; i < s->nworkers; i++)
		s->wake[i] = start + i * 100000;	/* not in lockstep */
	for (;;) {
		for (w = 0, i = 1; i < s->nworkers; i++)
			if (s->wake[i] < s->wake[w])
				w = i;
		if ((now = s->wake[w]) >= end)
			return taken;
		while (scoreboard_take_token(s->sb, now, &retry))
			taken++;
		s->wake[w] = now + (retry + MS - 1) / MS * MS;
		if (s->jitter_ms > 0)
			s->wake[w] += rand_next(&s->seed) % (s->jitter_ms * MS);
	}
}

/* Accepts per second over 2 s of steady state, after 1 s to settle. */
static uint64_t
sim_rate(struct scoreboard *sb, int rate, int nworkers, uint64_t jitter_ms)
{
	struct sim	s;
	uint64_t	t0 = 1000 * SEC;

	memset(&s, 0, sizeof(s));
	s.sb = sb;
	s.nworkers = nworkers;
	s.jitter_ms = jitter_ms;
	s.seed = rate;
	scoreboard_set_rate(sb, rate);
	sim_run(&s, t0, t0 + SEC);
	return sim_run(&s, t0 + SEC, t0 + 3 * SEC) / 2;
}

static void
test_names(void)
{
	int	i, named = 1;

	for (i = 0; i < WORKER_NSTATES; i++)
		if (scoreboard_state_name(i) == NULL ||
		    strcmp(scoreboard_state_name(i), "unknown") == 0)
			named = 0;
	ok(named, "every worker state has a name");
	is_str(scoreboard_state_name(WORKER_ACCEPTING), "accepting",
	    "accepting");
	is_str(scoreboard_state_name(WORKER_RESPAWNING), "respawning",
	    "respawning, the last state");
	is_str(scoreboard_state_name(WORKER_NSTATES), "unknown",
	    "out of range: unknown");
}

static void
test_unlimited(struct scoreboard *sb)
{
	uint64_t	retry = 0;
	int		i, all = 1;

	scoreboard_set_rate(sb, 0);
	for (i = 0; i < 100000; i++)
		all &= scoreboard_take_token(sb, 5 * SEC, &retry);
	ok(all, "rate 0: 100000 tokens at one instant");
	scoreboard_return_token(sb);
	ok(scoreboard_take_token(sb, 0, &retry), "rate 0: returning is "
	    "harmless, taking still works");
}

/* From rest, the whole burst at once, then one token per interval. */
static void
test_standing_start(struct scoreboard *sb)
{
	static const int	 rates[] = { 1, 150, 1000, 1000000 };
	uint64_t		 now = 50 * SEC, retry, n, interval;
	unsigned int		 i;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		scoreboard_set_rate(sb, rates[i]);
		interval = SEC / rates[i];
		for (n = 0; scoreboard_take_token(sb, now, &retry); n++)
			;
		is_int(n, burst(rates[i]), "rate %d: a burst of %llu at "
		    "once", rates[i], (unsigned long long)burst(rates[i]));
		ok(retry > 0 && retry <= interval, "rate %d: retry in %llu ns, "
		    "within one interval", rates[i],
		    (unsigned long long)retry);
		ok(!scoreboard_take_token(sb, now + retry - 1, &retry),
		    "rate %d: nothing 1 ns before that", rates[i]);
		ok(scoreboard_take_token(sb, now + interval, &retry) &&
		    !scoreboard_take_token(sb, now + interval, &retry),
		    "rate %d: one token an interval later", rates[i]);
	}
}

static void
test_return(struct scoreboard *sb)
{
	uint64_t	now = 70 * SEC, retry, n;

	scoreboard_set_rate(sb, 1000);
	while (scoreboard_take_token(sb, now, &retry))
		;
	scoreboard_return_token(sb);
	ok(scoreboard_take_token(sb, now, &retry),
	    "a returned token can be taken again at once");
	ok(!scoreboard_take_token(sb, now, &retry), "but only that one");
	scoreboard_return_token(sb);
	scoreboard_return_token(sb);
	scoreboard_return_token(sb);
	for (n = 0; scoreboard_take_token(sb, now, &retry); n++)
		;
	is_int(n, 3, "three returned, three taken");

	/* Returns while the bucket is full never make it hold more. */
	now += SEC;
	for (n = 0; n < 50; n++)
		scoreboard_return_token(sb);
	for (n = 0; scoreboard_take_token(sb, now, &retry); n++)
		;
	is_int(n, burst(1000), "returning to a full bucket: still one burst");

	scoreboard_set_rate(sb, 1000);
	scoreboard_return_token(sb);
	for (n = 0; scoreboard_take_token(sb, now, &retry); n++)
		;
	is_int(n, burst(1000), "a return after a reset gives nothing extra");
}

static void
test_reset(struct scoreboard *sb)
{
	uint64_t	now = 90 * SEC, retry;

	scoreboard_set_rate(sb, 10);
	while (scoreboard_take_token(sb, now, &retry))
		;
	ok(retry > 50 * MS, "rate 10: empty, next token in %llu ms",
	    (unsigned long long)(retry / MS));
	scoreboard_set_rate(sb, 10);
	ok(scoreboard_take_token(sb, now, &retry),
	    "set_rate to the same rate: a token at once");
	scoreboard_set_rate(sb, 0);
	ok(scoreboard_take_token(sb, now, &retry) &&
	    scoreboard_take_token(sb, now, &retry), "set_rate 0: unlimited");
	scoreboard_set_rate(sb, 1000);
	ok(scoreboard_take_token(sb, now, &retry),
	    "set_rate 1000 after 0: limited again, from a full burst");
}

/* Within 1% of the rate asked for, however the callers come. */
static void
test_rates(struct scoreboard *sb)
{
	static const int	rates[] = { 1000, 10000, 100000, 1000000 };
	static const struct {
		int		 workers;
		uint64_t	 jitter_ms;
		const char	*how;
	} cases[] = {
		{ 1, 0, "1 worker, 1 ms timer" },
		{ 1, 5, "1 worker, woken up to 5 ms late" },
		{ SIM_WORKERS, 3, "4 workers, woken up to 3 ms late" },
	};
	uint64_t		got;
	unsigned int		i, j;

	for (j = 0; j < sizeof(cases) / sizeof(cases[0]); j++)
		for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
			got = sim_rate(sb, rates[i], cases[j].workers,
			    cases[j].jitter_ms);
			ok(got >= rates[i] * 0.99 && got <= rates[i] * 1.01,
			    "rate %d, %s: %llu/s", rates[i], cases[j].how,
			    (unsigned long long)got);
		}
}

/*
 * k accepts between the first at a and the last at b: at most
 * rate * (b - a) + burst, for every such window.  With g[i] in ns and
 * interval = 1e9 / rate: (j - i + 1) * interval <= g[j] - g[i] +
 * burst * interval, that is (j + 1) * interval - g[j] <= burst *
 * interval + min over i <= j of (i * interval - g[i]).
 */
static int
bound_holds(const uint64_t *g, size_t n, int rate)
{
	int64_t	interval = SEC / rate, slack, low = INT64_MAX, v;
	size_t	j;

	slack = interval + SB_RATE_SLACK_NS;	/* burst * interval */
	for (j = 0; j < n; j++) {
		v = (int64_t)j * interval - (int64_t)g[j];
		if (v < low)
			low = v;
		if (v + interval > slack + low) {
			tap_diag("%zu accepts over %llu ns", j + 1,
			    (unsigned long long)(g[j] - g[0]));
			return 0;
		}
	}
	return 1;
}

/*
 * Callers at random moments, each wanting a random number of accepts,
 * some finding nothing and giving the token back: record when each kept
 * token was taken, and check the bound over every window.
 */
static void
test_bound(struct scoreboard *sb, int rate)
{
	uint64_t	*g, now = 200 * SEC, retry, interval = SEC / rate;
	size_t		 n = 0, max = 4 * (size_t)rate + 100000;
	uint32_t	 seed = 7;
	int		 want;

	if ((g = calloc(max, sizeof(*g))) == NULL) {
		ok(0, "calloc: %s", strerror(errno));
		return;
	}
	scoreboard_set_rate(sb, rate);
	while (now < 203 * SEC && n < max) {
		/* Idle spells let the bucket fill again now and then. */
		if (rand_next(&seed) % 64 == 0)
			now += rand_next(&seed) % (20 * MS);
		else
			now += rand_next(&seed) % (3 * interval + 1);
		for (want = rand_next(&seed) % 64; want > 0 && n < max;
		    want--) {
			if (!scoreboard_take_token(sb, now, &retry))
				break;
			if (rand_next(&seed) % 10 == 0)
				scoreboard_return_token(sb);
			else
				g[n++] = now;
		}
	}
	ok(n > 2 * (size_t)rate, "rate %d: %zu accepts in 3 s of random "
	    "callers", rate, n);
	ok(bound_holds(g, n, rate), "rate %d: never more than rate * t + %llu "
	    "over any window", rate, (unsigned long long)burst(rate));
	free(g);
}

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

/*
 * The scoreboard is shared memory between processes: two children take
 * as fast as they can on the real clock, and together get no more than
 * the bound allows (the count goes back through the scoreboard itself).
 */
static void
test_processes(struct scoreboard *sb)
{
	uint64_t	start, end, retry, taken, total = 0;
	pid_t		pid[NPROCS];
	int		i, status, clean = 1, each = 1, rate = 100000;

	scoreboard_set_rate(sb, rate);
	start = now_ns();
	for (i = 0; i < NPROCS; i++) {
		if ((pid[i] = fork()) == -1) {
			ok(0, "fork: %s", strerror(errno));
			return;
		}
		if (pid[i] != 0)
			continue;
		taken = 0;
		while (now_ns() < start + PROC_RUN_NS)
			taken += scoreboard_take_token(sb, now_ns(), &retry);
		sb_add(&sb->worker[i].accepts, taken);
		_exit(0);
	}
	for (i = 0; i < NPROCS; i++)
		if (waitpid(pid[i], &status, 0) == -1 || !WIFEXITED(status))
			clean = 0;
	end = now_ns();
	for (i = 0; i < NPROCS; i++) {
		total += sb_get(&sb->worker[i].accepts);
		if (sb_get(&sb->worker[i].accepts) == 0)
			each = 0;
	}
	ok(clean, "%d processes took tokens for %llu ms", NPROCS,
	    (unsigned long long)(PROC_RUN_NS / MS));
	ok(total <= (end - start) * rate / SEC + burst(rate),
	    "together %llu, within rate * t + burst (%llu)",
	    (unsigned long long)total,
	    (unsigned long long)((end - start) * rate / SEC + burst(rate)));
	/* How many depends on the scheduler; that each got some does not. */
	ok(each, "each process got tokens");
}

int
main(void)
{
	struct scoreboard	*sb;

	if ((sb = scoreboard_map()) == NULL) {
		ok(0, "scoreboard_map: %s", strerror(errno));
		return tap_done();
	}
	test_names();
	test_unlimited(sb);
	test_standing_start(sb);
	test_return(sb);
	test_reset(sb);
	test_rates(sb);
	test_bound(sb, 1000);
	test_bound(sb, 100000);
	test_processes(sb);
	return tap_done();
}

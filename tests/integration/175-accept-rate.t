#!/usr/bin/env bash
# accept-rate with one worker and a queue that never runs dry (filled by
# acceptload while paused, then resumed): the daemon accepts no more than
# rate * t + burst (never, whatever the machine).  How close it comes to
# the rate is printed, not checked: that depends on the machine's load,
# and tests/unit/scoreboard_test.c proves the limiter reaches its rate.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh

ACCEPTLOAD=$TEST_BUILD/tools/acceptload
need_cmd jq
read -r somaxconn </proc/sys/net/core/somaxconn
[ "${somaxconn:-0}" -ge 4000 ] ||
    skip_all "net.core.somaxconn is $somaxconn: the queue must hold 4000"

plan 10

accepted()
{
	jctl '[.workers[].accepted] | add' status
}

queued()
{
	jctl .listen.queue status
}

# The accept count between two clock readings: "count before after" (ms).
sample()
{
	local before count
	before=$(now_ms)
	count=$(accepted)
	echo "$count $before $(now_ms)"
}

# measure RATE FILL WANT: pause, set the rate, queue FILL connections,
# resume, count WANT accepts, then lift the rate to empty the queue (5
# tests).  Nothing arrives after the fill, so a queue not empty at the end
# was never empty: the worker never waited for a connection.
measure()
{
	local rate=$1 fill=$2 want=$3 burst count longest shortest start
	local a a_before a_after b b_before b_after
	burst=$((1 + rate / 100))	# 1 + rate * 10 ms: SB_RATE_SLACK_NS
	if ! ctl pause >/dev/null || ! ctl set accept-rate "$rate" >/dev/null
	then
		t_abort "pause or set accept-rate $rate failed"
	fi
	# shellcheck disable=SC2034 # read by a wait_for condition below
	start=$(accepted)
	run_bounded 20 "$ACCEPTLOAD" -q -p "$PORT" -c 16 -n "$fill" \
	    connect-close >>"$T_DIR/load.log" 2>&1
	ok "rate $rate: $fill connections wait in the queue" \
	    wait_for '[ "$(queued)" -ge "$fill" ] 2>/dev/null' 5
	ctl resume >/dev/null || t_abort "resume failed"
	wait_for '[ "$(accepted)" -ge $((start + 100)) ] 2>/dev/null' 5
	read -r a a_before a_after < <(sample)
	ok "rate $rate: $want more accepted" \
	    wait_for '[ "$(accepted)" -ge $((a + want)) ] 2>/dev/null' 10
	read -r b b_before b_after < <(sample)
	count=$((b - a))
	# Every accept counted fell within the longest window (one ms more:
	# now_ms truncates), and the shortest fell within the measurement.
	longest=$((b_after - a_before + 1))
	shortest=$((b_before - a_after))
	[ "$shortest" -gt 0 ] || shortest=1
	diag "rate $rate: $count accepts in $shortest..$longest ms" \
	    "($((count * 1000 / longest))..$((count * 1000 / shortest))/s)"
	ok "rate $rate: no more than rate * t + burst:\
 $count <= $((rate * longest / 1000 + burst))" \
	    test "$count" -le $((rate * longest / 1000 + burst))
	# How close it comes to the rate depends on the machine's load: a
	# figure, not a check (tests/unit/scoreboard_test.c proves the rate
	# itself on a simulated clock).
	diag "rate $rate: reached $((count * 100000 / (rate * longest)))%"
	# A queue that ran dry only lowers the count: the cap holds either way.
	diag "rate $rate: $(queued) still queued at the end"
	ok "rate $rate: set accept-rate 0 accepts the rest at once" unlimit
}

unlimit()
{
	ctl set accept-rate 0 >/dev/null &&
	    wait_for '[ "$(queued)" = 0 ] 2>/dev/null' 3
}

ok "acceptd starts with 1 worker" start_acceptd "$(base_conf)
workers 1
backlog 4096
protocol discard" || t_abort "acceptd did not start"
is "$(jctl '"\(.workers | length) \(.listen.backlog)"' status)" "1 4096" \
    "one worker, room for 4096 in the queue"

measure 1000 2500 1500
measure 5000 3900 2000

done_testing

#!/usr/bin/env bash
# Out of file descriptors: the worker stops accepting for a while instead
# of spinning on a listener that stays ready, and takes the waiting
# clients once descriptors are free again.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh
need_cmd jq
need_cmd prlimit

plan 12

ok "acceptd starts with 1 worker" start_acceptd "$(base_conf)
workers 1
protocol echo
shutdown-timeout 1s" || t_abort "acceptd did not start"
wait_for '[ -n "$(worker_pid 0)" ]' 3
wpid=$(worker_pid 0)

# Room for exactly two more descriptors in the worker (the soft limit
# only, so that it can be raised again).
nfd=$(find "/proc/$wpid/fd" -mindepth 1 | wc -l)
soft=$(awk '/^Max open files/ { print $4 }' "/proc/$wpid/limits")
ok "the worker's descriptor limit lowered to $((nfd + 2))" \
    prlimit --nofile=$((nfd + 2)): --pid "$wpid"

for _ in 1 2 3 4 5; do hold_client; done
wait_for '[ "$(jctl ".workers[0].connections" status)" = 2 ]' 3
is "$(jctl '.workers[0].connections' status)" 2 "two clients accepted"
wait_for '[ "$(jctl .listen.queue sockets)" = 3 ]' 3
is "$(jctl .listen.queue sockets)" 3 "three wait in the accept queue"
wait_for 'grep -q "pausing accepting" "$ACCEPTD_LOG"' 3
like "$(cat "$ACCEPTD_LOG")" \
    "accept; pausing accepting for 100 ms: Too many open files" \
    "the log names EMFILE and the pause"

# Each pause ends in one more try: wait for three, and see how long they
# took.  Spinning would be thousands of tries a second; the pause allows ten.
w0=$(jctl '.workers[0].wakeups' status)
t0=$(now_ms)
wait_for '[ "$(jctl ".workers[0].wakeups" status)" -ge $((w0 + 3)) ]' 3
n=$(($(jctl '.workers[0].wakeups' status) - w0))
ms=$(($(now_ms) - t0 + 1))
ok "it tries again on its own ($n wake-ups)" test "$n" -ge 3
ok "no busy loop: $n wake-ups in $ms ms" test $((n * 1000 / ms)) -le 30
is "$(grep -c "pausing accepting" "$ACCEPTD_LOG")" 1 \
    "the error is logged once, not at every try"

ok "the limit back to $soft" prlimit --nofile="$soft": --pid "$wpid"
wait_for '[ "$(jctl ".workers[0].connections" status)" = 5 ]' 3
is "$(jctl '.workers[0].connections' status)" 5 \
    "the three waiting clients are accepted"
is "$(jctl .listen.queue sockets)" 0 "the queue is empty again"
wait_for 'grep -q "accepting again" "$ACCEPTD_LOG"' 10
like "$(cat "$ACCEPTD_LOG")" \
    "worker 0: accepting again after [0-9]+ accept errors \\(Too many open files\\)" \
    "the log says when it is over, and how many tries failed"

done_testing

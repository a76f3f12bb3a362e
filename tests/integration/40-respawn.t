#!/usr/bin/env bash
# kill -9 of a worker: the master logs it and forks a new one that serves.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh

plan 10

# One worker, so whatever answers after the kill is the new one.
ok "acceptd starts with 1 worker" start_acceptd "$(base_conf)
workers 1
protocol http" || t_abort "acceptd did not start"

wait_for '[ -n "$(worker_pid 0)" ]' 3
old=$(worker_pid 0)
ok "worker 0 is running" test -n "$old" ||
    t_abort "no worker 0 among: $(worker_titles)"

kill -KILL "$old"
t0=$(now_ms)
# The connection waits in the listen queue until the new worker accepts.
code=$(run_bounded 5 curl -s --max-time 2 -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$PORT/")
elapsed=$(($(now_ms) - t0))
is "$code" 200 "a request sent right after the kill is answered within 2 s"
diag "answered after $elapsed ms"

# The old pid must be reaped and the new worker titled.
wait_for '[ "$(worker_pids | wc -l)" -eq 1 ] && [ -n "$(worker_pid 0)" ] &&
    [ "$(worker_pid 0)" != "$old" ]' 2
new=$(worker_pid 0)
ok "worker 0 has a new pid" test -n "$new" -a "$new" != "$old" ||
    diag "old $old, now: $(worker_titles)"
is "$(worker_pids | wc -l | tr -d ' ')" 1 "still exactly 1 worker"
ok "the master lives on" alive "$ACCEPTD_PID"

# The log names the worker (by number or pid) and the signal.
logged()
{
	grep -E "worker 0|$old" "$ACCEPTD_LOG" |
	    grep -Eiq 'signal 9|sigkill|killed|signal kill'
}
if wait_for logged 2; then
	pass "log names the dead worker and the signal"
else
	fail "log names the dead worker and the signal"
	diag_file "$ACCEPTD_LOG"
fi

is "$(jctl '.workers[0] | "\(.restarts) \(.last_exit)"' status)" \
    "1 killed by signal 9 (Killed)" "status -j: restarts 1 and the last reason"
like "$(ctl status)" "worker 0 restarted 1 time; the last one killed by signal 9" \
    "status says it in words"

stop_acceptd TERM 5
is "$ACCEPTD_STATUS" 0 "SIGTERM: exits 0"

done_testing

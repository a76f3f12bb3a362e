#!/usr/bin/env bash
# Issue 9, "lose nothing": a retiring worker (stop, scale down, reload)
# serves every connection it accepted, even one whose first request has
# not arrived yet; a reuseport queue is not reset by a scale-down or a
# reload; the accept kind changes by reload under load without a failure.
# shellcheck disable=SC2016,SC2034,SC2119,SC2317
. tests/lib.sh

ACCEPTLOAD=$TEST_BUILD/tools/acceptload
need_cmd jq
[ -x "$ACCEPTLOAD" ] || bail_out "$ACCEPTLOAD not built"

plan 43

REQ='GET / HTTP/1.1\r\nHost: t\r\n\r\n'
URL=

# --- helpers ---------------------------------------------------------------

# N workers, all tracked, nobody retiring.
settled_at()
{
	tracked && [ "$(jctl '.workers | length' status)" = "$1" ] &&
	    [ "$(jctl '(.retiring // []) | length' status)" = 0 ] &&
	    [ "$(worker_pids | wc -l)" -eq "$1" ]
}

# Open connections of worker N (status -j).
conns_of()
{
	jctl ".workers[] | select(.id == $1) | .connections" status
}

# A worker has taken its retirement order: its title or status says so,
# or the daemon is already gone.
retiring_seen()
{
	local st
	alive "$ACCEPTD_PID" || return 0
	worker_titles | grep -q '(exiting)' && return 0
	st=$(jctl '((.retiring // []) | length), .workers[].state' status \
	    2>/dev/null)
	printf '%s\n' "$st" | grep -Eqx '[1-9][0-9]*|exiting'
}

# Open a silent connection on fd HELD (no request yet).
open_held()
{
	exec {HELD}<>"/dev/tcp/127.0.0.1/$PORT"
}

# Send the request on HELD now, read until the server closes (5 s at
# most), and keep the answer, CRs removed, in $T_DIR/$1.
ask_held()
{
	# In a subshell: a write to a reset socket kills it, not the test.
	(printf '%b' "$REQ" >&"$HELD") 2>/dev/null
	run_bounded 5 cat <&"$HELD" 2>/dev/null | tr -d '\r' >"$T_DIR/$1"
	exec {HELD}<&-
}

# A whole reply that announces the close.
check_reply()
{
	local f=$T_DIR/$1
	is "$(head -n 1 "$f")" "HTTP/1.1 200 OK" "$2: the request sent after it is answered 200"
	ok "$2: ... with Connection: close and the whole body" \
	    eval 'grep -qix "connection: close" "$f" && grep -qx "Hello, world" "$f"' ||
	    diag "got: $(head -c 300 "$f" | tr '\n' '|')"
}

# --- a connection with no request yet, on a worker told to go ------------

ok "stop: acceptd starts (1 worker)" start_acceptd "$(base_conf)
workers 1
protocol http
shutdown-timeout 5s" || t_abort "acceptd did not start"
open_held
wait_for '[ "$(conns_of 0)" = 1 ]' 3
is "$(conns_of 0)" 1 "stop: worker 0 has accepted the silent connection"
ok "stop: acceptctl stop exits 0" ctl stop
wait_for retiring_seen 3
ask_held stop.out
check_reply stop.out "stop"
ok "stop: then the daemon exits" wait_for '! alive "$ACCEPTD_PID"' 5
stop_acceptd TERM 1

ok "scale: acceptd starts (2 workers)" start_acceptd "$(base_conf)
workers 2
protocol http
shutdown-timeout 5s" || t_abort "acceptd did not start"
ctl pause 0 >/dev/null		# so that worker 1 takes it
open_held
wait_for '[ "$(conns_of 1)" = 1 ]' 3
is "$(conns_of 1)" 1 "scale: worker 1 has accepted the silent connection"
ctl resume 0 >/dev/null
ok "scale: scale 1 exits 0" ctl scale 1
wait_for retiring_seen 3
ask_held scale.out
check_reply scale.out "scale 2 -> 1"
ok "scale: worker 1 is gone after it" wait_for 'settled_at 1' 5
stop_acceptd TERM 5

two="$(base_conf)
protocol http
shutdown-timeout 5s
workers"
ok "reload: acceptd starts (2 workers)" start_acceptd "$two 2" ||
    t_abort "acceptd did not start"
ctl pause 0 >/dev/null
open_held
wait_for '[ "$(conns_of 1)" = 1 ]' 3
is "$(conns_of 1)" 1 "reload: worker 1 has accepted the silent connection"
ctl resume 0 >/dev/null
write_conf "$two 1"
ok "reload: reload of workers 1 exits 0" ctl reload
wait_for retiring_seen 3
ask_held reload.out
check_reply reload.out "reload to 1 worker"
ok "reload: worker 1 is gone after it" wait_for 'settled_at 1' 5
stop_acceptd TERM 5

kind="$(base_conf)
workers 1
protocol http
shutdown-timeout 5s
accept"
ok "accept switch: acceptd starts (1 worker, $EXCLUSIVE)" \
    start_acceptd "$kind $EXCLUSIVE" || t_abort "acceptd did not start"
open_held
wait_for '[ "$(conns_of 0)" = 1 ]' 3
is "$(conns_of 0)" 1 "accept switch: worker 0 has accepted the silent connection"
write_conf "$kind reuseport"
ok "accept switch: reload to accept reuseport exits 0" ctl reload
is "$(jctl .listen.accept status)" reuseport "accept switch: status says reuseport"
ask_held kind.out
is "$(head -n 1 "$T_DIR/kind.out")" "HTTP/1.1 200 OK" \
    "accept switch: the request sent after it is answered 200"
ok "accept switch: one worker, all tracked, in the end" wait_for 'settled_at 1' 5
stop_acceptd TERM 5

# --- reuseport: queued connections survive a scale-down or reload -------

# Start a client now: one request, Connection: close; "CODE EXIT" in
# $T_DIR/q.N when done.
QN=0
queue_client()
{
	QN=$((QN + 1))
	(
		code=$(curl -s -o /dev/null --max-time 15 -w '%{http_code}' \
		    -H 'Connection: close' "$URL")
		echo "$code $?" >"$T_DIR/q.$QN"
	) &
	t_bg $!
}

# 8 clients queued while paused, at least one in worker 1's queue (the
# kernel spreads by hash: add clients until so, 16 at most).
queue_clients()
{
	local i
	rm -f "$T_DIR"/q.*
	QN=0
	for i in 1 2 3 4 5 6 7 8; do
		queue_client
	done
	wait_for '[ "$(jctl .listen.queue status)" -ge 8 ]' 5
	while [ "$QN" -lt 16 ] && [ "$(jctl '.workers[] |
	    select(.id == 1) | .queue' status)" = 0 ]; do
		queue_client
		wait_for '[ "$(jctl .listen.queue status)" -ge $QN ]' 5
	done
	diag "$1: $QN clients queued, per worker: $(jctl '[.workers[].queue] | map(tostring) | join(" ")' status)"
}

# All clients done: how they ended, counted ("200 0" is a whole reply).
queue_results()
{
	wait_for '[ "$(ls "$T_DIR"/q.* 2>/dev/null | wc -l)" -ge $QN ]' 20
	cat "$T_DIR"/q.* 2>/dev/null | sort | uniq -c | awk '{ $1 = $1; print }' |
	    tr '\n' ';'
}

reuse="$(base_conf)
accept reuseport
protocol http
shutdown-timeout 3s"
ok "reuseport scale: acceptd starts (2 workers)" start_acceptd "$reuse
workers 2" || t_abort "acceptd did not start"
URL=http://127.0.0.1:$PORT/
ok "reuseport scale: pause exits 0" ctl pause
queue_clients "reuseport scale"
ok "reuseport scale: some wait in worker 1's queue" \
    test "$(jctl '.workers[] | select(.id == 1) | .queue' status)" -gt 0
ok "reuseport scale: scale 1 exits 0" ctl scale 1
ok "reuseport scale: resume exits 0" ctl resume
is "$(queue_results)" "$QN 200 0;" "reuseport scale: all $QN queued clients answered 200, none reset"
ok "reuseport scale: one worker afterwards, all tracked" wait_for 'settled_at 1' 5
stop_acceptd TERM 5

ok "reuseport reload: acceptd starts (2 workers, paused)" start_acceptd "$reuse
paused yes
workers 2" || t_abort "acceptd did not start"
queue_clients "reuseport reload"
ok "reuseport reload: some wait in worker 1's queue" \
    test "$(jctl '.workers[] | select(.id == 1) | .queue' status)" -gt 0
write_conf "$reuse
paused yes
workers 1"
ok "reuseport reload: reload of workers 1 exits 0" ctl reload
ok "reuseport reload: resume exits 0" ctl resume
is "$(queue_results)" "$QN 200 0;" "reuseport reload: all $QN queued clients answered 200, none reset"
ok "reuseport reload: one worker afterwards, all tracked" wait_for 'settled_at 1' 5
stop_acceptd TERM 5

# --- the accept kind changes by reload under load ------------------------

# acceptload's failures: requests that failed, and connects that were
# refused, reset, timed out or failed for a reason that is not the
# client's own shortage (ports, fds, buffers).
load_failures()
{
	jq -r '[.requests.errors, .connects.refused, .connects.reset,
	    .connects.timeout, ((.connects.errors // {}) | to_entries |
	    map(select(.key | test("^(EADDRNOTAVAIL|EMFILE|ENFILE|ENOBUFS|ENOMEM)$")
	    | not) | .value) | add // 0)] | add' "$1"
}

# Let the load make 500 more connections (2 s at most).
progress()
{
	local n
	n=$(passive_opens)
	wait_for '[ "$(passive_opens)" -ge $((n + 500)) ]' 2
}

switch="$(base_conf)
workers 2
backlog 1024
protocol http
shutdown-timeout 3s
accept"
ok "switch under load: acceptd starts (2 workers, shared)" \
    start_acceptd "$switch shared" || t_abort "acceptd did not start"
timeout -k 1 30 "$ACCEPTLOAD" -j -q -p "$PORT" -c 20 -d 20s -P http churn \
    >"$T_DIR/switch.json" 2>"$T_DIR/switch.err" &
load=$!
t_bg "$load"
progress
codes=
kinds=
for k in reuseport $EXCLUSIVE shared; do
	write_conf "$switch $k"
	ctl reload >/dev/null 2>&1
	codes="$codes $?"
	kinds="$kinds $(jctl .listen.accept status)"
	progress
done
kill -INT "$load" 2>/dev/null
wait "$load"
is "$codes" " 0 0 0" "switch under load: each reload exits 0"
is "$kinds" " reuseport $EXCLUSIVE shared" \
    "switch under load: status shows each new accept kind"
is "$(load_failures "$T_DIR/switch.json")" 0 "switch under load: no failed request" ||
    diag "$(jq -c '{connects, requests}' "$T_DIR/switch.json")"
diag "switch under load: $(jq -r '"\(.requests.ok) requests, \(.requests.errors) failed"' "$T_DIR/switch.json")"
grep -q . "$T_DIR/switch.err" && diag "acceptload: $(cat "$T_DIR/switch.err")"
ok "switch under load: 2 workers, all tracked, in the end" wait_for 'settled_at 2' 5
ok "switch under load: the log never says 'cannot change'" \
    eval '! grep -q "cannot change" "$ACCEPTD_LOG"'
stop_acceptd TERM 5

done_testing

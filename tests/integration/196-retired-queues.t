#!/usr/bin/env bash
# What a hostile review found in retiring (issue 9), each once lost
# connections: a reuseport socket whose worker is waiting to respawn is
# drained, not closed with its queue, on scale-down; a paused retiree
# keeps its queue past shutdown-timeout; a reload that switches accept
# and drops a slot leaves no respawn behind (no untracked worker).
# shellcheck disable=SC2016,SC2034,SC2119,SC2317
. tests/lib.sh

need_cmd jq
trap "" PIPE	# a reset client must fail a check, not kill the test

plan 11

N=12

# hold_queued: open N connections on fds 10.., no request yet.
hold_queued()
{
	local i
	for ((i = 0; i < N; i++)); do
		eval "exec $((10 + i))<>/dev/tcp/127.0.0.1/$PORT" || return 1
	done
}

# answered_all: send a GET on each held connection; count 200 replies.
answered_all()
{
	local i line ok=0
	for ((i = 0; i < N; i++)); do
		# >&N with a computed N is stdout to that descriptor, not
		# ">& file" (both outputs to a file) as SC2261 reads it.
		# shellcheck disable=SC2261
		printf 'GET / HTTP/1.1\r\nHost: t\r\n\r\n' >&$((10 + i)) \
		    2>/dev/null
		line=
		read -r -t 10 line <&$((10 + i))
		case $line in "HTTP/1.1 200"*) ok=$((ok + 1)) ;; esac
		eval "exec $((10 + i))<&-"
	done
	ANSWERED=$ok
	[ "$ok" -eq "$N" ]
}

slot1_pid()
{
	jctl '.workers[] | select(.id == 1) | .pid' status
}

# Kill worker 1 as soon as it runs, again and again: its respawn backoff
# grows past a second and it waits with pid 0.
crash_loop_slot1()
{
	local k p
	for k in 1 2 3 4 5 6; do
		wait_for '[ "$(slot1_pid)" != 0 ]' 10 || return 1
		p=$(slot1_pid)
		kill -9 "$p"
		wait_for '! alive '"$p" 5
	done
	wait_for '[ "$(jctl ".workers[1].state" status)" = respawning ]' 5
}

# --- a reuseport socket with no worker behind it, then scale 1 ------------
ok "no worker: acceptd starts (reuseport, 2 workers)" start_acceptd \
    "$(base_conf)
accept reuseport
workers 2" || t_abort "acceptd did not start"
ok "no worker: worker 1 waits to respawn" crash_loop_slot1
hold_queued
wait_for '[ "$(jctl ".workers[1].queue" status)" -gt 0 ]' 5 ||
    diag "nobody landed in worker 1's queue (queues: $(jctl -c \
    '[.workers[].queue]' status))"
ok "no worker: scale 1 exits 0" ctl scale 1
if answered_all; then
	pass "no worker: every queued client is answered 200"
else
	fail "no worker: every queued client is answered 200"
	diag "answered: $ANSWERED of $N"
fi
unlike "$(cat "$ACCEPTD_LOG")" "connections queued" \
    "no worker: no socket closed with a queue"
stop_acceptd TERM 5

# --- paused retiree, past shutdown-timeout ---------------------------------
ok "paused: acceptd starts (reuseport, 2 workers, shutdown-timeout 1s)" \
    start_acceptd "$(base_conf)
accept reuseport
workers 2
shutdown-timeout 1s" || t_abort "acceptd did not start"
ctl pause >/dev/null
hold_queued
wait_for '[ "$(jctl ".listen.queue" status)" -ge $N ]' 5
ok "paused: scale 1 exits 0" ctl scale 1
# The retiree's shutdown-timeout (1 s) must pass while it is paused: a
# timer, so time itself is the condition.
sleep 2
ok "paused: resume exits 0" ctl resume
if answered_all; then
	pass "paused: every queued client is answered 200"
else
	fail "paused: every queued client is answered 200"
	diag "answered: $ANSWERED of $N"
fi
stop_acceptd TERM 5

# --- an accept switch that drops a slot waiting to respawn -----------------
ok "switch: acceptd starts ($EXCLUSIVE, 2 workers)" start_acceptd \
    "$(base_conf)
accept $EXCLUSIVE
workers 2" || t_abort "acceptd did not start"
crash_loop_slot1 || diag "worker 1 never waited to respawn"
write_conf "$(base_conf)
accept reuseport
workers 1"
ctl reload >/dev/null
# Its respawn was due within about 3 s: wait past it, then look.
sleep 4
if tracked && [ "$(jctl '.workers | length' status)" = 1 ]; then
	pass "switch: one worker, every child of the master listed"
else
	fail "switch: one worker, every child of the master listed"
	diag_tracked
fi
stop_acceptd TERM 5

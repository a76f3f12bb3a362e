#!/usr/bin/env bash
# Several listen lines and a worker that is capped or throttled: every
# address gets its turn.  The listener served first goes last at the next
# arming; before, the first listen line took each free slot and token,
# and [::1]:P waited behind 127.0.0.1:P for as long as it had clients.
# max-connections 1 one slot at a time (drop frees it), the same under
# churn, and accept-rate with two workers in each accept kind: each
# address gets at least a third of the accepts.  Counts only, no timing.
# shellcheck disable=SC2016,SC2034,SC2119,SC2317
. tests/lib.sh

ACCEPTLOAD=$TEST_BUILD/tools/acceptload
need_cmd jq
trap "" PIPE	# a reset client must fail a check, not kill the test
ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/' ||
    skip_all "no IPv6 loopback (::1) here"

KINDS=("$EXCLUSIVE" reuseport)
[ "$EXCLUSIVE" = shared ] || KINDS=(exclusive shared reuseport)
plan $((12 + 7 * ${#KINDS[@]}))

V4="127.0.0.1:$PORT"
V6="[::1]:$PORT"

accepted()
{
	jctl '[.workers[].accepted] | add' status
}

# hold HOST FIRST COUNT: COUNT connections to HOST:PORT on fds FIRST..,
# no request: they wait in the kernel's queue until accepted.
hold()
{
	local i
	for ((i = $2; i < $2 + $3; i++)); do
		eval "exec $i<>/dev/tcp/$1/$PORT" || return 1
	done
}

# release FIRST COUNT: close what hold opened.
release()
{
	local i
	for ((i = $1; i < $1 + $2; i++)); do
		eval "exec $i<&-"
	done
}

quiet()
{
	"$@" >/dev/null
}

# fair A B DESC: A and B each at least a third of A + B, which is not 0.
fair()
{
	local a=$1 b=$2 total=$(($1 + $2))
	if [ "$total" -gt 0 ] && [ $((3 * a)) -ge "$total" ] &&
	    [ $((3 * b)) -ge "$total" ]; then
		pass "$3"
		return 0
	fi
	fail "$3"
	diag "$V4: $a, $V6: $b: each should have a third of $total"
	return 1
}

# --- max-connections 1: each freed slot goes to the other address --------

N=8		# waiting on each address
K=8		# accepts, one slot at a time

ok "slots: acceptd starts paused, 1 worker, max-connections 1" \
    start_acceptd "$(two_conf)
workers 1
max-connections 1
paused yes
shutdown-timeout 1s" || t_abort "acceptd did not start"
hold 127.0.0.1 10 "$N"
hold ::1 30 "$N"
ok "slots: $N wait on each address" wait_for \
    '[ "$(ss_queue "$V4") $(ss_queue "$V6")" = "$N $N" ]' 5
ok "slots: resume exits 0" quiet ctl resume
took=0
for ((k = 1; k <= K; k++)); do
	wait_for '[ "$(accepted)" = '"$k"' ]' 5 || break
	took=$k
	[ "$k" -lt "$K" ] || break
	ctl drop all >/dev/null || break
done
is "$took" "$K" "slots: $K accepted, one per freed slot"
q4=$(ss_queue "$V4")
q6=$(ss_queue "$V6")
is "$((2 * N - q4 - q6))" "$K" "slots: the queues lost $K between them"
fair $((N - q4)) $((N - q6)) "slots: both addresses had their turn"
diag "slots: $V4 $((N - q4)), $V6 $((N - q6)) of $K"
is "$(jctl '.workers[0].state' status)" full "slots: the worker is full"
release 10 "$N"
release 30 "$N"
stop_acceptd TERM 5
is "$ACCEPTD_STATUS" 0 "slots: stops with status 0"

# --- the same under churn: five clients on each address ------------------

ok "churn: acceptd starts, 1 worker, max-connections 1, 20 ms replies" \
    start_acceptd "$(two_conf)
workers 1
max-connections 1
response-delay 20ms
shutdown-timeout 1s" || t_abort "acceptd did not start"
run_bounded 30 "$ACCEPTLOAD" -q -j -p "$PORT" -h 127.0.0.1 -c 5 -d 3s \
    -T 20s churn >"$T_DIR/churn4.json" 2>>"$T_DIR/load.log" &
load4=$!
run_bounded 30 "$ACCEPTLOAD" -q -j -p "$PORT" -h ::1 -c 5 -d 3s \
    -T 20s churn >"$T_DIR/churn6.json" 2>>"$T_DIR/load.log" &
load6=$!
wait "$load4"
st4=$?
wait "$load6"
st6=$?
is "$st4 $st6" "0 0" "churn: both loads exit 0"
a4=$(jq -r '.requests.ok // 0' "$T_DIR/churn4.json" 2>/dev/null)
a6=$(jq -r '.requests.ok // 0' "$T_DIR/churn6.json" 2>/dev/null)
fair "${a4:-0}" "${a6:-0}" "churn: both addresses answered alike"
diag "churn: $V4 $a4, $V6 $a6 answered"
stop_acceptd TERM 5
is "$ACCEPTD_STATUS" 0 "churn: stops with status 0"

# --- accept-rate, two workers: each token goes round the addresses -------

F=24		# waiting on each address
R=20		# accept-rate
K=16		# accepts counted

for kind in "${KINDS[@]}"; do
	ok "rate $kind: acceptd starts paused, 2 workers, accept-rate $R" \
	    start_acceptd "$(two_conf)
accept $kind
workers 2
accept-rate $R
paused yes
shutdown-timeout 1s" || t_abort "acceptd did not start ($kind)"
	hold 127.0.0.1 10 "$F"
	hold ::1 40 "$F"
	ok "rate $kind: $F wait on each address" wait_for \
	    '[ "$(ss_queue "$V4") $(ss_queue "$V6")" = "$F $F" ]' 5
	ok "rate $kind: resume exits 0" quiet ctl resume
	ok "rate $kind: $K accepted" wait_for \
	    '[ "$(accepted)" -ge '"$K"' ] 2>/dev/null' 20
	ctl pause >/dev/null || t_abort "pause failed ($kind)"
	q4=$(ss_queue "$V4")
	q6=$(ss_queue "$V6")
	fair $((F - q4)) $((F - q6)) "rate $kind: both addresses had tokens"
	diag "rate $kind: $V4 $((F - q4)), $V6 $((F - q6))"
	n=$(accepted)
	sleep 0.3
	is "$(accepted) $(ss_queue "$V4") $(ss_queue "$V6")" "$n $q4 $q6" \
	    "rate $kind: paused, nobody accepts"
	release 10 "$F"
	release 40 "$F"
	stop_acceptd TERM 5
	is "$ACCEPTD_STATUS" 0 "rate $kind: stops with status 0"
done

done_testing

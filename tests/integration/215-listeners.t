#!/usr/bin/env bash
# Several listen lines (issue 12).  127.0.0.1:P and [::1]:P in each accept
# kind: both are served, status, sockets and the monitor show each queue,
# pause holds new connections in both kernel queues and resume serves
# them; reuseport gives every worker a socket per address, and a
# scale-down drains both queues of the worker it retires.  [::]:P beside
# 0.0.0.0:P (IPV6_V6ONLY is set); a second address that cannot be bound
# stops the start and leaves nothing listening; a reload that changes
# the listen lines keeps the running ones and says why.
# shellcheck disable=SC2016,SC2034,SC2119,SC2317
. tests/lib.sh

need_cmd jq
trap "" PIPE	# a reset client must fail a check, not kill the test
ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/' ||
    skip_all "no IPv6 loopback (::1) here"

plan 112

V4="127.0.0.1:$PORT"
V6="[::1]:$PORT"
N=3		# connections held on each address

# ctl_queue ADDR [COMMAND]: ADDR's queue as status -j (or sockets -j) says.
ctl_queue()
{
	jctl ".listeners[] | select(.address == \"$1\") | .queue" \
	    "${2:-status}"
}

# hold HOST FIRST: N connections to HOST:PORT on fds FIRST.., no request.
hold()
{
	local i
	for ((i = 0; i < N; i++)); do
		eval "exec $(($2 + i))<>/dev/tcp/$1/$PORT" || return 1
	done
}

# answered FIRST COUNT: a GET on each held fd from FIRST; all answered 200.
answered()
{
	local i line n=0
	for ((i = $1; i < $1 + $2; i++)); do
		# shellcheck disable=SC2261
		printf 'GET / HTTP/1.1\r\nHost: t\r\n\r\n' >&"$i" 2>/dev/null
		line=
		read -r -t 10 line <&"$i"
		case $line in "HTTP/1.1 200"*) n=$((n + 1)) ;; esac
		eval "exec $i<&-"
	done
	ANSWERED=$n
	[ "$n" -eq "$2" ]
}

quiet()
{
	"$@" >/dev/null
}

served()
{
	run_bounded 10 curl -s -g --max-time 5 "http://$1/"
}

# --- each accept kind --------------------------------------------------

one_kind()
{
	local kind=$1 socks json

	ok "$kind: acceptd starts on $V4 and $V6" start_acceptd "$(two_conf)
accept $kind
workers 2
shutdown-timeout 1s" || t_abort "acceptd did not start ($kind)"
	wait_for 'listening "$PORT" && [ "$(ss_listeners "$V6")" -gt 0 ]' 3
	is "$(served "$V4")" "Hello, world" "$kind: served on $V4"
	is "$(served "$V6")" "Hello, world" "$kind: served on $V6"

	# reuseport: a socket per worker and address; else one per address.
	socks=1
	[ "$kind" = reuseport ] && socks=2
	is "$(ss_listeners "$V4") $(ss_listeners "$V6")" "$socks $socks" \
	    "$kind: $socks listening socket(s) on each address (ss)"
	json=$(ctl -j status)
	is "$(printf '%s' "$json" | jq -r '[.listeners[].address] | join(" ")')" \
	    "$V4 $V6" "$kind: status -j lists both listeners"
	if [ "$kind" = reuseport ]; then
		is "$(printf '%s' "$json" | jq -r '[.workers[].queues | length] |
		    join(" ")')" "2 2" "$kind: each worker has a queue per address"
	else
		is "$(printf '%s' "$json" | jq -r '[.workers[] | has("queues")] |
		    join(" ")')" "false false" "$kind: workers have no queue of their own"
	fi

	ok "$kind: pause exits 0" quiet ctl pause
	hold 127.0.0.1 10
	hold ::1 20
	wait_for '[ "$(ss_queue "$V4")" = $N ] && [ "$(ss_queue "$V6")" = $N ]' 5
	is "$(ss_queue "$V4") $(ss_queue "$V6")" "$N $N" \
	    "$kind: paused, $N wait in each kernel queue (ss)"
	is "$(ctl_queue "$V4") $(ctl_queue "$V6") $(jctl .listen.queue status)" \
	    "$N $N $((2 * N))" "$kind: status -j: each listener's queue, and the sum"
	like "$(ctl status)" "listen 127\\.0\\.0\\.1:$PORT: accept queue $N of [0-9]+" \
	    "$kind: status names $V4's queue"
	like "$(ctl status)" "listen \\[::1\\]:$PORT: accept queue $N of [0-9]+" \
	    "$kind: status names $V6's queue"
	is "$(ctl_queue "$V4" sockets) $(ctl_queue "$V6" sockets)" "$N $N" \
	    "$kind: sockets -j: each listener's queue"
	is "$(jctl '.states.LISTEN' sockets)" "$((2 * socks))" \
	    "$kind: sockets -j counts every listening socket"
	is "$(jctl '[.connections[] | select(.side == "server" and
	    .state == "ESTABLISHED") | .local | test("^\\[")] | sort | join(" ")' \
	    sockets)" "false false false true true true" \
	    "$kind: sockets lists the waiting children of both addresses"
	is "$(jctl '[.workers[].accepted] | add' status)" 2 \
	    "$kind: nothing accepted while paused"

	ok "$kind: resume exits 0" quiet ctl resume
	if answered 10 "$N" && answered 20 "$N"; then
		pass "$kind: every held client on both addresses is answered"
	else
		fail "$kind: every held client on both addresses is answered"
	fi
	wait_for '[ "$(ctl_queue "$V4") $(ctl_queue "$V6")" = "0 0" ]' 3
	is "$(ctl_queue "$V4") $(ctl_queue "$V6")" "0 0" "$kind: both queues empty"
	stop_acceptd TERM 5
	is "$ACCEPTD_STATUS" 0 "$kind: stops with status 0"
}

for kind in $EXCLUSIVE shared reuseport; do
	one_kind "$kind"
done

# --- reuseport: a scale-down drains both of the retired worker's queues --

ok "scale: acceptd starts (reuseport, 2 workers)" start_acceptd "$(two_conf)
accept reuseport
workers 2
shutdown-timeout 1s" || t_abort "acceptd did not start"
wait_for '[ "$(ss_listeners "$V6")" = 2 ]' 3
ok "scale: pause exits 0" quiet ctl pause
N=8
hold 127.0.0.1 10
hold ::1 20
wait_for '[ "$(ss_queue "$V4")" = $N ] && [ "$(ss_queue "$V6")" = $N ]' 5
w1=$(jctl '.workers[] | select(.id == 1) | .queues | join(" ")' status)
diag "worker 1's queues before the scale-down: $w1"
ok "scale: scale 1 exits 0" quiet ctl scale 1
is "$(jctl '.retiring | length' status)" 1 "scale: worker 1 retires"
ok "scale: resume exits 0" quiet ctl resume
if answered 10 "$N" && answered 20 "$N"; then
	pass "scale: all $((2 * N)) queued clients answered, none reset"
else
	fail "scale: all $((2 * N)) queued clients answered, none reset"
	diag "answered $ANSWERED in the last group"
fi
wait_for '[ "$(jctl ".retiring | length" status)" = 0 ]' 5
is "$(ss_listeners "$V4") $(ss_listeners "$V6")" "1 1" \
    "scale: the retired worker's sockets are closed on both addresses"
unlike "$(cat "$ACCEPTD_LOG")" "connections queued: the kernel resets" \
    "scale: no queue closed with connections in it"
stop_acceptd TERM 5
N=3

# --- accept switches: the sockets that go are drained on both addresses --

# switch_conf KIND PAUSED
switch_conf()
{
	printf '%s\naccept %s\nworkers 2\npaused %s\nshutdown-timeout 3s\n' \
	    "$(two_conf)" "$1" "$2"
}

# switch FROM TO SOCKETS: paused on FROM, N held on each address; reload
# to TO (still paused), N more on each; reload unpaused: all answered, and
# in the end SOCKETS listening sockets per address.
switch()
{
	ok "switch $1 -> $2: acceptd starts" start_acceptd \
	    "$(switch_conf "$1" yes)" || t_abort "acceptd did not start"
	wait_for '[ "$(ss_listeners "$V6")" -gt 0 ]' 3
	hold 127.0.0.1 10
	hold ::1 20
	wait_for '[ "$(ss_queue "$V4")" = $N ] && [ "$(ss_queue "$V6")" = $N ]' 5
	write_conf "$(switch_conf "$2" yes)"
	ok "switch $1 -> $2: reload exits 0" quiet ctl reload
	is "$(jctl .listen.accept status)" "$2" "switch $1 -> $2: status says $2"
	hold 127.0.0.1 30
	hold ::1 40
	wait_for '[ "$(ss_queue "$V4")" = $((2 * N)) ] &&
	    [ "$(ss_queue "$V6")" = $((2 * N)) ]' 5
	is "$(ss_queue "$V4") $(ss_queue "$V6")" "$((2 * N)) $((2 * N))" \
	    "switch $1 -> $2: held before and after wait on both addresses"
	write_conf "$(switch_conf "$2" no)"
	ok "switch $1 -> $2: reload to paused no exits 0" quiet ctl reload
	if answered 10 "$N" && answered 20 "$N" && answered 30 "$N" &&
	    answered 40 "$N"; then
		pass "switch $1 -> $2: all $((4 * N)) answered, none reset"
	else
		fail "switch $1 -> $2: all $((4 * N)) answered, none reset"
	fi
	wait_for '[ "$(jctl ".retiring | length" status)" = 0 ] &&
	    [ "$(ss_listeners "$V4") $(ss_listeners "$V6")" = "$3 $3" ]' 8
	is "$(ss_listeners "$V4") $(ss_listeners "$V6")" "$3 $3" \
	    "switch $1 -> $2: $3 listening socket(s) per address in the end"
	unlike "$(cat "$ACCEPTD_LOG")" "connections queued: the kernel resets" \
	    "switch $1 -> $2: no queue closed with connections in it"
	stop_acceptd TERM 5
}

switch shared reuseport 2
switch reuseport "$EXCLUSIVE" 1

# --- [::]:P beside 0.0.0.0:P, a third address on another port -----------

P2=$(free_port)
while [ "$P2" = "$PORT" ]; do P2=$(free_port); done
MPORT=$(free_port)
while [ "$MPORT" = "$PORT" ] || [ "$MPORT" = "$P2" ]; do MPORT=$(free_port); done
three="listen [::]:$PORT
listen 0.0.0.0:$PORT
listen 127.0.0.1:$P2
control $T_DIR/ctl.sock
pidfile $T_DIR/acceptd.pid
workers 2
accept shared
monitor 127.0.0.1:$MPORT"
write_conf "$three"
is "$("$ACCEPTD" -n -f "$ACCEPTD_CONF" 2>&1)" "configuration OK" \
    "wildcards: acceptd -n accepts [::]:P beside 0.0.0.0:P"
ok "wildcards: acceptd starts on [::]:$PORT, 0.0.0.0:$PORT and :$P2" \
    start_acceptd "$three" || t_abort "acceptd did not start"
wait_for '[ "$(ss_listeners "[::]:$PORT")" = 1 ] &&
    [ "$(ss_listeners "127.0.0.1:$P2")" = 1 ]' 3
is "$(ss_listeners "0.0.0.0:$PORT") $(ss_listeners "[::]:$PORT")" "1 1" \
    "wildcards: one socket each (IPv6-only: no conflict)" ||
    diag "net.ipv6.bindv6only=$(sysctl -n net.ipv6.bindv6only 2>/dev/null)"
is "$(served "127.0.0.1:$PORT")" "Hello, world" "wildcards: IPv4 served"
is "$(served "[::1]:$PORT")" "Hello, world" "wildcards: IPv6 served"
is "$(served "127.0.0.1:$P2")" "Hello, world" "wildcards: the other port served"

is "$(jctl '[.workers[].accepted] | add' status)" 3 \
    "wildcards: the workers accepted all three"

# The trace says which address took each connection.
"$ACCEPTCTL" -s "$CTL_SOCK" trace >"$T_DIR/trace.txt" 2>&1 &
tpid=$!
t_bg "$tpid"
disown "$tpid"
wait_for 'head -n 1 "$T_DIR/trace.txt" | grep -q event' 5
traced_on()
{
	served "$1" >/dev/null
	grep -qF " accept on $2" "$T_DIR/trace.txt"
}
ok "trace: an IPv6 client's accept says 'accept on [::]:$PORT'" \
    wait_for 'traced_on "[::1]:$PORT" "[::]:$PORT"' 5 ||
    diag_file "$T_DIR/trace.txt"
ok "trace: the other port's says 'accept on 127.0.0.1:$P2'" \
    wait_for 'traced_on "127.0.0.1:$P2" "127.0.0.1:$P2"' 5 ||
    diag_file "$T_DIR/trace.txt"
kill_tree "$tpid"
is "$(jctl '.listen.address' status)" "[::]:$PORT, 0.0.0.0:$PORT, 127.0.0.1:$P2" \
    "status -j: listen.address joins the three"
is "$(jctl '.states.LISTEN' sockets)" 3 \
    "sockets -j: both ports' listening sockets (master_ports)"
is "$(ctl config | grep -c '^listen ')" 3 "config prints three listen lines"
is "$(jctl '.listen' config)" "[::]:$PORT, 0.0.0.0:$PORT, 127.0.0.1:$P2" \
    "config -j: one listen member, the addresses joined"
metrics=$(run_bounded 5 curl -s "http://127.0.0.1:$MPORT/metrics")
is "$(printf '%s\n' "$metrics" | grep -c '^acceptd_listen_queue_length{')" 3 \
    "metrics: a queue length per listen line"
like "$metrics" "^acceptd_listen_queue_limit\\{listen=\"127\\.0\\.0\\.1:$P2\"\\} [0-9]+" \
    "metrics: a queue limit labelled with its address"
is "$(run_bounded 5 curl -s "http://127.0.0.1:$MPORT/status.json" |
    jq -r '.listeners | length')" 3 "monitor: status.json lists the listeners"

# A reload that adds, drops or changes a listen line keeps the running ones.
write_conf "$(printf '%s\n' "$three" | grep -v "^listen 127.0.0.1:$P2")"
ok "reload: with a listen line removed, reload exits 0" quiet ctl reload
like "$(cat "$ACCEPTD_LOG")" "reload: listen cannot change while acceptd runs.*restart" \
    "reload: the log says listen cannot change, and to restart"
is "$(jctl '.listeners | length' status)" 3 "reload: still three listeners"
is "$(served "127.0.0.1:$P2")" "Hello, world" "reload: the dropped one still served"
write_conf "$three"
: >"$ACCEPTD_LOG"
ok "reload: the same lines again, reload exits 0" quiet ctl reload
unlike "$(cat "$ACCEPTD_LOG")" "cannot change" "reload: unchanged lines: no warning"
stop_acceptd TERM 5
is "$ACCEPTD_STATUS" 0 "wildcards: stops with status 0"

# --- a second address that cannot be bound --------------------------------

for kind in shared reuseport; do
	# timeout itself, not a subshell around it: kill_tree reaches nc.
	timeout -k 1 20 nc -l 127.0.0.1 "$P2" >/dev/null 2>&1 &
	blocker=$!
	t_bg "$blocker"
	disown "$blocker"
	wait_for 'listening "$P2"' 3
	write_conf "listen 127.0.0.1:$PORT
listen 127.0.0.1:$P2
control $T_DIR/ctl.sock
pidfile $T_DIR/acceptd.pid
accept $kind"
	out=$(run_bounded 10 "$ACCEPTD" -d -f "$ACCEPTD_CONF" 2>&1)
	is "$?" 1 "$kind: taken second address: acceptd exits 1"
	like "$out" "cannot listen on 127\\.0\\.0\\.1:$P2: Address already in use" \
	    "$kind: ...and names the address"
	ok "$kind: ...and leaves nothing listening on the first" eval \
	    '! listening "$PORT"'
	kill_tree "$blocker"
	wait_for '! listening "$P2"' 3
done

# --- the configuration -----------------------------------------------------

write_conf "listen 127.0.0.1:$PORT
listen *:$PORT"
out=$("$ACCEPTD" -n -f "$ACCEPTD_CONF" 2>&1)
is "$?" 1 "overlap: acceptd -n exits 1"
is "$out" "$ACCEPTD_CONF:2: listen: \"*:$PORT\" overlaps \"127.0.0.1:$PORT\": the wildcard address already takes port $PORT on every IPv4 address; keep one of the two" \
    "overlap: file:line and both addresses"

done_testing

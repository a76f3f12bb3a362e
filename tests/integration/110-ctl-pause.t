#!/usr/bin/env bash
# pause: the kernel completes handshakes nobody accepts, and acceptctl
# sockets shows the same queue and children as ss; resume drains it.
# pause 1 stops only worker 1.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh
need_cmd jq

plan 28

ss_queue()
{
	ss -Hltn "( sport = :$PORT )" | awk '{ print $2 }'
}

# "peer recv-q send-q" of each server-side ESTABLISHED socket, sorted.
ss_children()
{
	ss -Htn state established "( sport = :$PORT )" |
	    awk '{ print $4, $1, $2 }' | sort
}

ctl_children()
{
	printf '%s' "$1" | jq -r '.connections[] |
	    select(.side == "server" and .state == "ESTABLISHED") |
	    "\(.peer) \(.recv_q) \(.send_q)"' | sort
}

# A client that connects and stays, sending nothing, reading nothing.
holder()
{
	run_bounded 20 nc -d 127.0.0.1 "$PORT" >/dev/null 2>&1 &
	t_bg $!
}

ok "acceptd starts with 2 workers" start_acceptd "$(base_conf)
workers 2
protocol http
shutdown-timeout 1s" || t_abort "acceptd did not start"
url=http://127.0.0.1:$PORT/

ok "pause exits 0" ctl pause
is "$(jctl '[.workers[].state] | join(" ")' status)" "paused paused" \
    "every worker paused"

holder
holder
holder
wait_for '[ "$(ss_queue)" = 3 ]' 3
json=$(ctl -j sockets)
ssq=$(ss_queue)
ssc=$(ss_children)
is "$(printf '%s' "$json" | jq -r .listen.queue)" 3 "sockets -j: listen.queue is 3"
is "$ssq" 3 "ss: the listener's Recv-Q is 3"
is "$(printf '%s' "$json" | jq -r .states.ESTABLISHED)" 3 \
    "sockets -j: 3 ESTABLISHED on the server side"
is "$(printf '%s\n' "$ssc" | grep -c .)" 3 "ss: 3 ESTABLISHED on the server side"
is "$(ctl_children "$json")" "$ssc" \
    "sockets -j: the children's peers and queues are ss's" ||
    diag "ss -tan:" "$(ss -tan "( sport = :$PORT or dport = :$PORT )")"
is "$(printf '%s' "$json" | jq -r .client_states.ESTABLISHED)" 3 \
    "sockets -j: 3 ESTABLISHED on the client side"
like "$(ctl sockets)" "accept queue 3 of [0-9]+" "sockets: 'accept queue 3 of N'"
is "$(jctl .listen.queue status)" 3 "status -j: listen.queue is 3"
is "$(jctl '[.workers[].accepted] | add' status)" 0 "nothing accepted yet"

# A request made while paused waits in the queue and is served on resume.
run_bounded 10 curl -s --max-time 8 "$url" >"$T_DIR/curl.out" 2>&1 &
cpid=$!
t_bg "$cpid"
wait_for '[ "$(ss_queue)" = 4 ]' 3
is "$(jctl .listen.queue sockets)" 4 "a paused curl is the 4th in the queue"
ok "the curl is still waiting" alive "$cpid"

ok "resume exits 0" ctl resume
wait_for '[ "$(jctl .listen.queue sockets)" = 0 ]' 3
is "$(jctl .listen.queue sockets)" 0 "after resume: listen.queue is 0"
is "$(ss_queue)" 0 "ss agrees: Recv-Q 0"
wait "$cpid"
is "$?:$(cat "$T_DIR/curl.out")" "0:Hello, world" "the queued curl is answered"
wait_for '[ "$(jctl "[.workers[].connections] | add" status)" = 3 ]' 3
is "$(jctl '[.workers[].connections] | add' status)" 3 \
    "the 3 holding clients are accepted and open"
is "$(jctl '[.workers[].accepted] | add' status)" 4 "4 accepted in all"

# --- pause 1: only worker 1 ---
ok "pause 1 exits 0" ctl pause 1
is "$(jctl '[.workers[] | "\(.id):\(.state)"] | join(" ")' status)" \
    "0:accepting 1:paused" "status -j: worker 0 accepting, worker 1 paused"
w1=$(jctl '.workers[] | select(.id == 1) | .pid' status)
like "$(proc_title "$w1")" "worker 1 \(paused\)" "worker 1's title says paused"
before=$(jctl '.workers[] | select(.id == 1) | .accepted' status)
codes=$(run_bounded 10 curl -s -o /dev/null --max-time 5 -w '%{http_code} ' \
    -H 'Connection: close' "$url?[1-10]")
is "$codes" "$(printf '200 %.0s' 1 2 3 4 5 6 7 8 9 10)" \
    "10 requests while worker 1 is paused: all answered"
is "$(jctl '.workers[] | select(.id == 1) | .accepted' status)" "$before" \
    "worker 1 accepted none of them"
ok "resume 1 exits 0" ctl resume 1
is "$(jctl '[.workers[].state] | join(" ")' status)" "accepting accepting" \
    "after resume 1: both accepting"

stop_acceptd TERM 5
is "$ACCEPTD_STATUS" 0 "SIGTERM: exits 0"

done_testing

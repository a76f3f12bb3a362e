#!/usr/bin/env bash
# set close-mode never: clients that close leave the server's sockets in
# CLOSE_WAIT, one more each, as sockets and ss show; drop close-wait ends them.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh
need_cmd jq

plan 17

close_waits()
{
	jctl '.states.CLOSE_WAIT // 0' sockets
}

# A client that sends a line, half-closes (nc -N) and then waits for the
# server to close; its reply in $T_DIR/client.N, its pid in $client_pid.
half_closer()
{
	printf 'hello %s\n' "$1" |
	    timeout -k 1 20 nc -N 127.0.0.1 "$PORT" >"$T_DIR/client.$1" 2>&1 &
	client_pid=$!
	t_bg "$client_pid"
	disown "$client_pid"
}

ok "acceptd starts with protocol echo, close-mode graceful" \
    start_acceptd "$(base_conf)
workers 2
protocol echo
close-mode graceful
shutdown-timeout 1s" || t_abort "acceptd did not start"

# For contrast: graceful closes when the client does.
half_closer 0
wait_for '! alive "$client_pid"' 3
ok "graceful: the half-closing client gets its echo and the server's close" \
    eval '! alive "$client_pid" && [ "$(cat "$T_DIR/client.0")" = "hello 0" ]'
is "$(close_waits)" 0 "graceful: no CLOSE_WAIT"

ok "set close-mode never exits 0" ctl set close-mode never
half_closer 1
c1=$client_pid
wait_for '[ "$(close_waits)" = 1 ]' 3
is "$(close_waits)" 1 "never: one client closed, sockets -j CLOSE_WAIT 1"
is "$(conns close-wait "$PORT")" 1 "ss agrees: 1 CLOSE_WAIT"
# FIN_WAIT1 until the server's kernel ACKs the FIN, which it may delay.
wait_for '[ "$(jctl ".client_states.FIN_WAIT2 // 0" sockets)" = 1 ]' 10
is "$(jctl '.client_states.FIN_WAIT2 // 0' sockets)" 1 \
    "and the client's socket waits in FIN_WAIT2"
wait_for '[ "$(cat "$T_DIR/client.1")" = "hello 1" ]' 10
is "$(cat "$T_DIR/client.1")" "hello 1" "the client got its echo"

half_closer 2
c2=$client_pid
wait_for '[ "$(close_waits)" = 2 ]' 3
is "$(close_waits)" 2 "a second client: CLOSE_WAIT 2"
is "$(conns close-wait "$PORT")" 2 "ss agrees: 2 CLOSE_WAIT"
like "$(ctl sockets)" "CLOSE_WAIT 2" "sockets (text) says CLOSE_WAIT 2"
ok "both clients still wait for the server's FIN" \
    eval 'alive "$c1" && alive "$c2"'

out=$(ctl drop close-wait)
is "$?:$out" "0:dropped 2" "drop close-wait: 'dropped 2'"
wait_for '[ "$(close_waits)" = 0 ]' 3
is "$(close_waits)" 0 "after drop: CLOSE_WAIT 0"
is "$(conns close-wait "$PORT")" 0 "ss agrees: no CLOSE_WAIT"
wait_for 'no_alive "$c1" "$c2"' 3
ok "both clients saw the server's close and ended" no_alive "$c1" "$c2"

stop_acceptd TERM 5
is "$ACCEPTD_STATUS" 0 "SIGTERM: exits 0"

done_testing

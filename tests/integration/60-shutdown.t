#!/usr/bin/env bash
# SIGTERM/SIGINT: stop accepting, drain open connections up to
# shutdown-timeout, exit 0, remove pidfile and control socket.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh

plan 17

conf="$(base_conf)
workers 2
shutdown-timeout 2s"

# A client whose stdin is a FIFO we hold open on fd 3: it stays
# connected and silent until we write or close fd 3.
open_client()
{
	rm -f "$T_DIR/in"
	mkfifo "$T_DIR/in"
	exec 3<>"$T_DIR/in"
	nc -N 127.0.0.1 "$PORT" <"$T_DIR/in" >"$T_DIR/client.out" 2>&1 3>&- &
	client=$!
	t_bg "$client"
}

client_connected()
{
	[ -n "$(ss -Htn state established "( dport = :$PORT )")" ]
}

# --- an idle keep-alive connection ---
ok "acceptd starts (http, shutdown-timeout 2s)" start_acceptd "$conf
protocol http" || t_abort "acceptd did not start"
open_client
printf 'GET / HTTP/1.1\r\nHost: t\r\n\r\n' >&3
wait_for 'grep -q "Hello, world" "$T_DIR/client.out"' 3
ok "keep-alive client got its reply and stays connected" \
    test "$(conns established "$PORT")" -eq 1
kids=$(worker_pids)
t0=$(now_ms)
stop_acceptd TERM 4
elapsed=$(($(now_ms) - t0))
is "$ACCEPTD_STATUS" 0 "SIGTERM with an idle keep-alive connection: exits 0"
ok "... within shutdown-timeout (2 s) plus 1 s ($elapsed ms)" test "$elapsed" -le 3000
ok "pidfile removed" test ! -e "$T_DIR/acceptd.pid"
ok "control socket removed" test ! -e "$T_DIR/ctl.sock"
# shellcheck disable=SC2086
ok "workers gone" no_alive $kids
ok "the client's connection was closed" wait_for '! client_connected' 10
exec 3>&-

# --- an echo connection keeps being served while draining ---
ok "acceptd starts (echo, shutdown-timeout 2s)" start_acceptd "$conf
protocol echo" || t_abort "acceptd did not start"
open_client
printf 'one\n' >&3
wait_for 'grep -q one "$T_DIR/client.out"' 3
t0=$(now_ms)
kill -TERM "$ACCEPTD_PID"
# Wait until the TERM has been seen, or 1 s: "two" must be sent after it.
wait_for 'worker_titles | grep -q "(exiting)" || ! listening "$PORT"' 10
printf 'two\n' >&3
if wait_for 'grep -q two "$T_DIR/client.out"' 1.5; then
	pass "draining: an open echo connection is still served"
else
	fail "draining: an open echo connection is still served"
	diag "client got:" "$(cat "$T_DIR/client.out")"
fi
# Refused, or queued and never read: either way no echo within 1 s.
late=$(printf 'late\n' | run_bounded 1 nc -N 127.0.0.1 "$PORT" 2>/dev/null)
is "$late" "" "draining: a new connection is not served"
exec 3>&-	# nc sends FIN: the last connection ends, the drain is done
stop_acceptd TERM 3
elapsed=$(($(now_ms) - t0))
is "$ACCEPTD_STATUS" 0 "exits 0 once its last connection closed"
diag "exit $elapsed ms after SIGTERM"

# --- no connections at all: prompt ---
ok "acceptd starts (default shutdown-timeout 10s)" start_acceptd "$(base_conf)
workers 2" || t_abort "acceptd did not start"
t0=$(now_ms)
stop_acceptd TERM 1.5
elapsed=$(($(now_ms) - t0))
is "$ACCEPTD_STATUS" 0 "SIGTERM with no connections: exits 0 within 1.5 s ($elapsed ms)"

ok "acceptd starts again" start_acceptd "$(base_conf)
workers 2" || t_abort "acceptd did not start"
stop_acceptd INT 1.5
is "$ACCEPTD_STATUS" 0 "SIGINT with no connections: exits 0 within 1.5 s"
ok "pidfile removed after SIGINT" test ! -e "$T_DIR/acceptd.pid"

done_testing

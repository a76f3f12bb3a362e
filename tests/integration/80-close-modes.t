#!/usr/bin/env bash
# close-mode reset and never, and idle-timeout, as the client and ss see them.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh

plan 16

conf="$(base_conf)
workers 2
shutdown-timeout 1s"

# oneshot_client: send one request on a bash /dev/tcp socket, then read
# to the end with cat, which says "Connection reset by peer" (exit 1)
# when the end is an RST rather than a FIN.
oneshot_client()
{
	exec 4<>"/dev/tcp/127.0.0.1/$PORT" || return 1
	printf 'hello\n' >&4
	run_bounded 3 cat <&4 >"$T_DIR/c.out" 2>"$T_DIR/c.err"
	client_status=$?
	exec 4<&-
}

# --- close-mode reset ---
ok "acceptd starts (oneshot, close-mode reset)" start_acceptd "$conf
protocol oneshot
close-mode reset" || t_abort "acceptd did not start"
oneshot_client
ok "reset: the reply arrives before the reset" test -s "$T_DIR/c.out"
is "$client_status" 1 "reset: the client's read fails"
like "$(cat "$T_DIR/c.err")" "Connection reset by peer" "reset: with ECONNRESET"
is "$(conns time-wait "$PORT")" 0 "reset: no TIME_WAIT on the server side"
stop_acceptd TERM 3

# --- close-mode graceful, the same exchange, for contrast ---
ok "acceptd starts (oneshot, close-mode graceful)" start_acceptd "$conf
protocol oneshot
close-mode graceful" || t_abort "acceptd did not start"
oneshot_client
is "$client_status" 0 "graceful: the client reads to a clean EOF" ||
    diag "$(cat "$T_DIR/c.err")"
wait_for '[ "$(conns time-wait "$PORT")" -ge 1 ]' 10
ok "graceful: the server side closed first and sits in TIME_WAIT" \
    test "$(conns time-wait "$PORT")" -ge 1
stop_acceptd TERM 3

# --- close-mode never: the client closes, the server never does ---
ok "acceptd starts (http, close-mode never)" start_acceptd "$conf
protocol http
close-mode never" || t_abort "acceptd did not start"
body=$(run_bounded 5 curl -s --max-time 3 "http://127.0.0.1:$PORT/")
is "$body" "Hello, world" "never: the request is answered"
wait_for '[ "$(conns close-wait "$PORT")" -ge 1 ]' 10
is "$(conns close-wait "$PORT")" 1 "never: after curl closes, the server socket is in CLOSE_WAIT"
# Give it a second to (wrongly) close: it must not.
wait_for '[ "$(conns close-wait "$PORT")" -eq 0 ]' 1
is "$(conns close-wait "$PORT")" 1 "never: still CLOSE_WAIT 1 s later"
stop_acceptd TERM 3

# --- idle-timeout closes a silent client ---
ok "acceptd starts (echo, idle-timeout 1s)" start_acceptd "$conf
protocol echo
idle-timeout 1s" || t_abort "acceptd did not start"
exec 5<>"/dev/tcp/127.0.0.1/$PORT"
t0=$(now_ms)
wait_for '[ "$(conns established "$PORT")" -ge 1 ]' 10
wait_for '[ "$(conns established "$PORT")" -eq 0 ]' 15
elapsed=$(($(now_ms) - t0))
# Not sooner than the timeout (minus the clock's ms); later only by load.
ok "idle-timeout 1s: the server closed the silent client, not before 1 s ($elapsed ms)" \
    test "$elapsed" -ge 990 -a "$(conns established "$PORT")" -eq 0
read -r -t 1 -u 5 _
is "$?" 1 "idle-timeout: the client reads EOF"
exec 5<&-

stop_acceptd TERM 3
is "$ACCEPTD_STATUS" 0 "SIGTERM: exits 0"

done_testing

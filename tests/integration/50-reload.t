#!/usr/bin/env bash
# SIGHUP: a changed setting applies; a broken file changes nothing and
# says why; the listening socket is the same socket throughout.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh

plan 16

ok "acceptd starts with protocol http" start_acceptd "$(base_conf)
workers 2
protocol http" || t_abort "acceptd did not start"

url=http://127.0.0.1:$PORT/
body=$(run_bounded 5 curl -s --max-time 3 "$url")
is "$body" "Hello, world" "before reload: http"
ino=$(listen_inode "$PORT")
ok "listening socket found ($ino)" test -n "$ino"

echo_ok()
{
	[ "$(printf 'ping\n' | run_bounded 3 nc -N 127.0.0.1 "$PORT")" = ping ]
}

# --- a good change ---
write_conf "$(base_conf)
workers 2
protocol echo"
kill -HUP "$ACCEPTD_PID"
if wait_for echo_ok 3; then
	pass "after SIGHUP with protocol echo: echo round trip works"
else
	fail "after SIGHUP with protocol echo: echo round trip works"
	diag_file "$ACCEPTD_LOG"
fi
ok "the master is the same process" alive "$ACCEPTD_PID"
is "$(listen_inode "$PORT")" "$ino" "the listening socket stayed open (same inode)"
wait_for '[ "$(worker_pids | wc -l)" -eq 2 ]' 3
is "$(worker_pids | wc -l | tr -d ' ')" 2 "2 workers after the reload"

# --- a broken file: errors on lines 4 and 6 ---
write_conf "$(base_conf)
workers 0
protocol http
bogus-directive yes"
kill -HUP "$ACCEPTD_PID"
logged()
{
	grep -q "^.*$ACCEPTD_CONF:4: " "$ACCEPTD_LOG" &&
	    grep -q "^.*$ACCEPTD_CONF:6: " "$ACCEPTD_LOG"
}
if wait_for logged 3; then
	pass "broken reload: log has file:4: and file:6:"
else
	fail "broken reload: log has file:4: and file:6:"
	diag_file "$ACCEPTD_LOG"
fi
ok "broken reload: the master lives on" alive "$ACCEPTD_PID"
ok "broken reload: still echo, as before" echo_ok
body=$(run_bounded 5 curl -s --max-time 2 "$url" 2>/dev/null)
isnt_http=$([ "$body" = "Hello, world" ] && echo http || echo not-http)
is "$isnt_http" not-http "broken reload: protocol http (line 5) was not applied"
is "$(listen_inode "$PORT")" "$ino" "broken reload: the listening socket stayed open"
is "$(worker_pids | wc -l | tr -d ' ')" 2 "broken reload: still 2 workers"

stop_acceptd TERM 5
is "$ACCEPTD_STATUS" 0 "SIGTERM: exits 0"

# -v means debug even when the file says otherwise, and a reload of that
# file keeps it so.
ACCEPTD_FLAGS=-v
ok "acceptd -v starts with log-level warn in the file" start_acceptd \
    "$(base_conf)
workers 1
log-level warn" || t_abort "acceptd -v did not start"
kill -HUP "$ACCEPTD_PID"
wait_for 'grep -q "reload" "$ACCEPTD_LOG"' 3
kill -TERM "$(worker_pid 0)"
wait_for 'grep -q "worker 0 started as pid" "$ACCEPTD_LOG" &&
    [ "$(grep -c "worker 0 started as pid" "$ACCEPTD_LOG")" -ge 2 ]' 5
is "$(grep -c "worker 0 started as pid" "$ACCEPTD_LOG")" 2 \
    "after a reload, -v still logs debug lines (the respawn's)"
stop_acceptd TERM 5

done_testing

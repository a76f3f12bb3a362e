#!/usr/bin/env bash
# A second instance on the same pidfile or the same port refuses to start,
# names the conflict, and leaves the first one alone.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh

plan 14

ok "first acceptd starts" start_acceptd "$(base_conf)
workers 1" || t_abort "acceptd did not start"
first=$ACCEPTD_PID

# second NAME TEXT: run a second acceptd -d on config TEXT, at most 3 s
# (a second instance that wrongly starts is killed: exit 124).
second()
{
	printf '%s\n' "$2" >"$T_DIR/$1.conf"
	run_bounded 3 "$ACCEPTD" -d -f "$T_DIR/$1.conf" \
	    >"$T_DIR/$1.log" 2>&1 </dev/null
	second_status=$?
	second_out=$(cat "$T_DIR/$1.log")
}

# --- same pidfile, other port and control socket ---
other=$(free_port) || t_abort "no free port"
second pidfile "listen 127.0.0.1:$other
control $T_DIR/ctl2.sock
pidfile $T_DIR/acceptd.pid
workers 1"
is "$second_status" 1 "same pidfile: second instance exits 1"
like "$second_out" "$T_DIR/acceptd.pid" "same pidfile: the message names the pidfile"

# --- same port, other pidfile and control socket ---
second port "listen 127.0.0.1:$PORT
control $T_DIR/ctl3.sock
pidfile $T_DIR/acceptd3.pid
workers 1"
is "$second_status" 1 "same port: second instance exits 1"
like "$second_out" "127\\.0\\.0\\.1:$PORT" "same port: the message names the address"
ok "same port: it leaves no pidfile behind" test ! -e "$T_DIR/acceptd3.pid"

# --- the first is untouched ---
ok "the first instance still runs" alive "$first"
is "$(tr -d ' \n' <"$T_DIR/acceptd.pid" 2>/dev/null)" "$first" \
    "its pidfile still holds its pid"
ok "its control socket is still there" test -S "$T_DIR/ctl.sock"
body=$(run_bounded 5 curl -s --max-time 3 "http://127.0.0.1:$PORT/")
is "$body" "Hello, world" "it still serves"
stop_acceptd TERM 5
is "$ACCEPTD_STATUS" 0 "it exits 0 on SIGTERM"

# --- SO_REUSEPORT must not let a second instance share the port ---
ok "acceptd starts with accept reuseport" start_acceptd "$(base_conf)
workers 2
accept reuseport" || t_abort "acceptd did not start"
second reuseport "listen 127.0.0.1:$PORT
control $T_DIR/ctl4.sock
pidfile $T_DIR/acceptd4.pid
workers 2
accept reuseport"
is "$second_status" 1 "reuseport, same port: second instance exits 1"
like "$second_out" "127\\.0\\.0\\.1:$PORT" "reuseport, same port: the message names the address"

done_testing

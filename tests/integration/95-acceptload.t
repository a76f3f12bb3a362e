#!/usr/bin/env bash
# acceptload in each mode against the real acceptd: what the load tool
# counts must equal what the daemon's own counters say.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh

ACCEPTLOAD=$TEST_BUILD/tools/acceptload
need_cmd jq

plan 23

ok "acceptd starts (http, 2 workers, a backlog the load cannot overflow)" \
    start_acceptd "$(base_conf)
workers 2
backlog 1024
protocol http" || t_abort "acceptd did not start"

# Sum of one per-worker counter from status -j.
total()
{
	ctl -j workers | jq "[.workers[].$1] | add"
}

# Run acceptload with JSON output into $T_DIR/load.json.
load()
{
	run_bounded 30 "$ACCEPTLOAD" -j -q -p "$PORT" "$@" >"$T_DIR/load.json"
}

field()
{
	jq -r "$1" "$T_DIR/load.json"
}

settled()
{
	[ "$(total closed)" = "$(total accepted)" ]
}

# connect-close: every connect is one accept and one close.
before=$(total accepted)
ok "connect-close: acceptload runs" load -c 10 -n 500 connect-close
is "$(field .connects.ok)" 500 "connect-close: 500 connects succeed"
wait_for settled 5
is "$(( $(total accepted) - before ))" 500 \
    "connect-close: acceptd accepted 500"

# send-close: the bytes sent are the bytes acceptd read.
before=$(total accepted)
bytes=$(total bytes_in)
ok "send-close: acceptload runs" load -c 10 -n 200 -m 'GET / HTTP/1.1\r\n\r\n' \
    send-close
is "$(field .connects.ok)" 200 "send-close: 200 connects succeed"
wait_for settled 5
is "$(( $(total accepted) - before ))" 200 "send-close: acceptd accepted 200"
is "$(( $(total bytes_in) - bytes ))" $(( 200 * 18 )) \
    "send-close: acceptd read 200 requests of 18 bytes"

# request: keep-alive requests on few connections.
before=$(total accepted)
ok "request: acceptload runs" load -c 4 -n 1000 -P http request
is "$(field .requests.ok)" 1000 "request: 1000 requests answered"
wait_for settled 5
is "$(( $(total accepted) - before ))" "$(field .connects.ok)" \
    "request: acceptd accepted as many connections as acceptload opened"

# churn: one request per connection.
before=$(total accepted)
ok "churn: acceptload runs" load -c 8 -n 400 -P http churn
is "$(field .connects.ok)" 400 "churn: 400 connects succeed"
wait_for settled 5
is "$(( $(total accepted) - before ))" 400 "churn: acceptd accepted 400"

# hold: while held, acceptd counts them as open.
"$ACCEPTLOAD" -j -q -p "$PORT" -n 50 -d 5s hold >"$T_DIR/hold.json" &
hold=$!
T_BG_PIDS="$T_BG_PIDS $hold"
ok "hold: acceptd sees 50 open connections" \
    wait_for '[ "$(total connections)" = 50 ]' 5
kill -INT "$hold" 2>/dev/null
wait "$hold"
is "$(jq -r .connects.ok "$T_DIR/hold.json")" 50 "hold: acceptload held 50"

# Usage asked for goes to stdout with 0; a mistake to stderr with 1, and
# every message starts "acceptload:" however it was run.
out=$("$ACCEPTLOAD" -'?' 2>/dev/null); rc=$?
is "$rc" 0 "-?: exits 0"
like "$out" '^usage: acceptload' "-?: usage on stdout"
"$ACCEPTLOAD" --help >/dev/null 2>&1
is "$?" 0 "--help: exits 0"
out=$("$ACCEPTLOAD" -x -p "$PORT" churn 2>&1 >/dev/null); rc=$?
is "$rc" 1 "an unknown option exits 1"
like "$out" '^acceptload: unknown option -x' "... saying so with the one prefix"
# Nothing listens on a port just closed: no connection can succeed.
dead=$(free_port)
out=$("$ACCEPTLOAD" -q -p "$dead" -n 3 connect-close 2>&1); rc=$?
is "$rc" 1 "every connection failed: exits 1"
like "$out" 'acceptload: no connection to 127\.0\.0\.1:[0-9]+ succeeded' \
    "... and says so"

done_testing

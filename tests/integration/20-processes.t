#!/usr/bin/env bash
# The process tree and its titles, the pidfile, and HTTP with keep-alive.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh

plan 11

ok "acceptd starts with 3 workers" start_acceptd "$(base_conf)
workers 3
protocol http" || t_abort "acceptd did not start"

# Workers set their titles just after fork: give them a moment.
want="0 1 2"
worker_ids()
{
	worker_titles | sed -n \
	    's/^[0-9]* acceptd: worker \([0-9]*\) (accepting)$/\1/p' |
	    sort -n | tr '\n' ' ' | sed 's/ $//'
}
wait_for '[ "$(worker_ids)" = "$want" ]' 3
is "$(worker_ids)" "$want" "workers 0 1 2 titled 'acceptd: worker N (accepting)'" ||
    diag "children of $ACCEPTD_PID:" "$(worker_titles)"
is "$(worker_pids | wc -l | tr -d ' ')" 3 "exactly 3 children of the master"
like "$(proc_title "$ACCEPTD_PID")" "^acceptd: master" "master titled 'acceptd: master'"
is "$(tr -d ' \n' <"$T_DIR/acceptd.pid" 2>/dev/null)" "$ACCEPTD_PID" \
    "pidfile holds the master's pid"

url=http://127.0.0.1:$PORT/
body=$(run_bounded 5 curl -s --max-time 3 "$url")
is "$body" "Hello, world" "curl gets the body 'Hello, world'"
head=$(run_bounded 5 curl -s -i --max-time 3 "$url" | head -n 1 | tr -d '\r')
is "$head" "HTTP/1.1 200 OK" "status line is HTTP/1.1 200 OK"

# Two requests on one command line: keep-alive reuses the connection.
res=$(run_bounded 5 curl -s --max-time 3 -o /dev/null -o /dev/null \
    -w '%{http_code} %{num_connects}\n' "$url" "$url")
codes=$(printf '%s\n' "$res" | awk '{ printf "%s ", $1 }')
is "$codes" "200 200 " "both requests answered 200"
connects=$(printf '%s\n' "$res" | awk '{ n += $2 } END { print n + 0 }')
is "$connects" 1 "two requests, one connection (keep-alive)"

# Pipelined: both requests in one write, both answered in order.
req='GET / HTTP/1.1\r\nHost: t\r\n\r\n'
out=$(printf '%b' "$req$req" | run_bounded 5 nc -N 127.0.0.1 "$PORT" | tr -d '\r')
is "$(printf '%s\n' "$out" | grep -c '^HTTP/1.1 200 OK$')" 2 \
    "two pipelined requests get two 200 replies"

stop_acceptd TERM 5
is "$ACCEPTD_STATUS" 0 "SIGTERM: exits 0"

done_testing

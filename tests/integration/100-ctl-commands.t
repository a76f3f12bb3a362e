#!/usr/bin/env bash
# Every acceptctl command against a running acceptd, as text and as JSON
# (checked with jq against the shapes acceptctl(8) gives), and unique prefixes.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh
need_cmd jq

plan 108

# json_has JSON FILTER KEY...: every object FILTER selects, in every JSON
# text of JSON, has every KEY; and FILTER selects at least one.
json_has()
{
	local json=$1 filter=$2 k expr=true
	shift 2
	for k in "$@"; do
		expr="$expr and has(\"$k\")"
	done
	printf '%s\n' "$json" |
	    jq -e -s "[.[] | $filter | $expr] | length > 0 and all" \
	    >/dev/null 2>&1
}

# json_or_empty TEXT: what a -j command with nothing to say may print.
json_or_empty()
{
	[ -z "$1" ] || printf '%s\n' "$1" | jq -e . >/dev/null 2>&1
}

# ctl_check DESC CMD...: the command exits 0; its stdout is in $out.
ctl_check()
{
	local desc=$1 st
	shift
	out=$(ctl "$@" 2>"$T_DIR/ctl.err")
	st=$?
	is "$st" 0 "$desc" && return 0
	diag "acceptctl $*:" "$(cat "$T_DIR/ctl.err")"
	return 1
}

states()
{
	ctl -j status | jq -r '[.workers[].state] | join(" ")'
}

conf="$(base_conf)
workers 2
protocol http
shutdown-timeout 1s"
ok "acceptd starts with 2 workers" start_acceptd "$conf" ||
    t_abort "acceptd did not start"
url=http://127.0.0.1:$PORT/

# --- status and workers ---
ctl_check "status exits 0" status
like "$out" "^master pid $ACCEPTD_PID\b.*127\.0\.0\.1:$PORT" \
    "status names the master's pid and the listening address"
is "$(printf '%s\n' "$out" | grep -cE '^[01] +[0-9]+ +accepting ')" 2 \
    "status has one 'accepting' line per worker"
ctl_check "status -j exits 0" -j status
json=$out
ok "status -j has master, listen and workers" \
    json_has "$json" . master listen workers
ok "status -j: master has pid, uptime_s, stopping, generation" \
    json_has "$json" .master pid uptime_s stopping generation
ok "status -j: listen has address, accept, queue, backlog" \
    json_has "$json" .listen address accept queue backlog
is "$(printf '%s' "$json" | jq -r '.master.pid')" "$ACCEPTD_PID" \
    "status -j: master.pid is the master's pid"
is "$(printf '%s' "$json" | jq -r '.listen | "\(.address) \(.queue) \(.backlog|type)"')" \
    "127.0.0.1:$PORT 0 number" "status -j: listen address, queue 0, numeric backlog"
ok "status -j: every worker has id, pid, state, connections, accepted, wakeups, empty_accepts" \
    json_has "$json" '.workers[]' id pid state connections accepted \
    wakeups empty_accepts
is "$(printf '%s' "$json" | jq -r '[.workers[].pid] | sort | join(" ")')" \
    "$(worker_pids | tr '\n' ' ' | sed 's/ $//')" \
    "status -j: the workers' pids are the master's children"

ctl_check "workers exits 0" workers
like "$out" "closed.*eofs.*resets.*bytes-in.*bytes-out" \
    "workers shows closed, eofs, resets, bytes in and out"
ctl_check "workers -j exits 0" -j workers
ok "workers -j: each worker has the status keys and every counter" \
    json_has "$out" '.workers[]' id pid state connections accepted wakeups \
    empty_accepts closed peer_eofs resets bytes_in bytes_out

# --- pause and resume ---
ctl_check "pause exits 0" pause
like "$out" "^2 workers \\([a-z]+\\): 0 accepting, 2 paused$" \
    "pause prints the state it left in one line"
is "$(states)" "paused paused" "after pause: every worker paused"
ctl_check "resume exits 0" resume
is "$(states)" "accepting accepting" "after resume: every worker accepting"
ctl_check "-j pause exits 0" -j pause
ok "-j pause prints JSON or nothing" json_or_empty "$out"
is "$(printf '%s' "$out" | jq -c '{workers, paused, retiring}')" \
    '{"workers":2,"paused":2,"retiring":0}' \
    "-j pause: the state as JSON"
ctl_check "-j resume exits 0" -j resume
ok "-j resume prints JSON or nothing" json_or_empty "$out"
is "$(states)" "accepting accepting" "after -j pause, -j resume: accepting"

# --- set, every run-time directive, and config ---
# What every worker reports for directive $1 set to $2 (workers -j),
# "-" for directives the workers do not report.
worker_view()
{
	local field
	case $1 in
	max-connections)	field=max_connections ;;
	close-mode)		field=close_mode ;;
	paused|protocol|reading) field=$1 ;;
	*)			echo -; return ;;
	esac
	ctl -j workers | jq -r "[.workers[].$field | tostring] | unique |
	    join(\" \")"
}
for nv in "accept-batch 4" "max-connections 500" "accept-rate 1000" \
    "paused yes" "paused no" "protocol echo" "protocol http" \
    "close-mode reset" "close-mode graceful" "reading off" "reading on" \
    "response-delay 10ms" "idle-timeout 30s"; do
	# shellcheck disable=SC2086
	set -- $nv
	# set returns once the workers have applied it: no waiting here.
	want=$2
	[ "$2" = yes ] && want=true
	[ "$2" = no ] && want=false
	if ctl set "$1" "$2" >"$T_DIR/set.out" 2>&1 &&
	    ctl config | grep -qx -- "$nv" &&
	    { [ "$(worker_view "$1")" = - ] ||
	    [ "$(worker_view "$1")" = "$want" ]; }; then
		pass "set $nv: exits 0, config and every worker show it"
	else
		fail "set $nv: exits 0, config and every worker show it"
		diag "$(cat "$T_DIR/set.out")" "workers: $(worker_view "$1")" \
		    "config:" "$(ctl config)"
	fi
	if [ "$nv" = "protocol echo" ]; then
		is "$(printf 'ping\n' | run_bounded 3 nc -N 127.0.0.1 "$PORT")" \
		    ping "right after set protocol echo: a client gets its echo"
	fi
done
ctl_check "-j set accept-batch 16 exits 0" -j set accept-batch 16
ok "-j set prints JSON or nothing" json_or_empty "$out"
out=$(ctl set bogus 1 2>&1)
st=$?
is "$st" 1 "set of an unknown name exits 1"
like "$out" "max-connections" "and the message lists the names that can be set"
out=$(ctl set max-connections 0 2>&1)
is "$?" 1 "set max-connections 0 (out of range) exits 1"
ctl_check "set max-connections 7 1 (one worker) exits 0" set max-connections 7 1
is "$(ctl -j workers | jq -r '[.workers[].max_connections] | join(" ")')" \
    "500 7" "only worker 1 has max-connections 7"

ctl_check "config exits 0" config
printf '%s\n' "$out" >"$T_DIR/running.conf"
like "$out" "^listen 127\.0\.0\.1:$PORT$" "config names the listening address"
res=$(run_bounded 5 "$ACCEPTD" -n -f "$T_DIR/running.conf" 2>&1)
st=$?
is "$st:$res" "0:configuration OK" "acceptd -n accepts what config prints"
ctl_check "config -j exits 0" -j config
is "$(printf '%s' "$out" | jq -r '."listen" + " " + ."idle-timeout"')" \
    "127.0.0.1:$PORT 30s" "config -j: directives as keys"

# --- sockets and counters ---
ctl_check "sockets exits 0" sockets
like "$out" "accept queue 0 of [0-9]+" "sockets shows the accept queue"
ctl_check "sockets -j exits 0" -j sockets
json=$out
ok "sockets -j has listen, states, client_states, connections" \
    json_has "$json" . listen states client_states connections
ok "sockets -j: listen has queue and backlog" \
    json_has "$json" .listen queue backlog
ss_backlog=$(ss -Hltn "( sport = :$PORT )" | awk '{ print $3 }')
is "$(printf '%s' "$json" | jq -r '"\(.listen.queue) \(.listen.backlog) \(.states.LISTEN)"')" \
    "0 $ss_backlog 1" "sockets -j: queue 0, backlog as ss shows it, LISTEN 1"
ok "sockets -j: connections have side, state, recv_q, send_q, local, peer" \
    json_has "$json" '.connections[]' side state recv_q send_q local peer

ctl_check "counters exits 0" counters
want="ListenOverflows ListenDrops TCPReqQFullDrop TCPReqQFullDoCookies EmbryonicRsts TCPAbortOnData TCPAbortOnClose OutRsts"
missing=
for c in $want; do
	printf '%s\n' "$out" | grep -qE "^$c +[0-9]+ +-?[0-9]+" ||
	    missing="$missing $c"
done
is "$missing" "" "counters shows each counter with value and change"
ctl_check "counters -j exits 0" -j counters
ok "counters -j: each counter has value and delta" \
    json_has "$out" ".${want// / , .}" value delta

# --- trace, text then JSON ---
# A connection traced from accept to close: "worker conn" of the first
# (lines: time, "worker" N, conn, peer, event).
traced_conn()
{
	awk '$2 == "worker" { k = $3 " " $4; ev[k] = ev[k] " " $6 }
	    END { for (k in ev)
		if (ev[k] ~ /^ accept read( read)* write/ && ev[k] ~ / close$/) {
			print k
			exit
		} }' "$1"
}
# Requests until one shows up in full in the trace file (the stream
# starts only once the daemon has registered the tracer).
request_traced()
{
	run_bounded 3 curl -s -o /dev/null --max-time 2 "$url"
	[ -n "$(traced_conn "$1")" ]
}
run_bounded 10 "$ACCEPTCTL" -s "$CTL_SOCK" trace >"$T_DIR/trace.txt" 2>&1 &
tpid=$!
t_bg "$tpid"
if wait_for 'request_traced "$T_DIR/trace.txt"' 4; then
	pass "trace shows accept, read, write and close of one connection"
else
	fail "trace shows accept, read, write and close of one connection"
	diag_file "$T_DIR/trace.txt"
fi
# The first line may belong to a connection that began before the tracer.
like "$(grep -m 1 ' accept$' "$T_DIR/trace.txt")" \
    '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}  worker [0-9]+ +[0-9]+ +127\.0\.0\.1:[0-9]+ +accept$' \
    "trace lines: time with ms, worker, connection, peer, event"
kill -TERM "$tpid" 2>/dev/null
wait "$tpid" 2>/dev/null

run_bounded 10 "$ACCEPTCTL" -s "$CTL_SOCK" -j trace >"$T_DIR/trace.json" 2>&1 &
tpid=$!
t_bg "$tpid"
# Until one connection's whole life is in it (a close alone may belong to
# a connection that began before the tracer).
jtraced()
{
	run_bounded 3 curl -s -o /dev/null --max-time 2 "$url"
	[ "$(jq -r '.event' "$T_DIR/trace.json" 2>/dev/null | sort -u |
	    grep -cE '^(accept|read|write|close)$')" = 4 ]
}
wait_for jtraced 10
kill -TERM "$tpid" 2>/dev/null
wait "$tpid" 2>/dev/null
ok "trace -j: every worker's line is a JSON object with time, worker, conn, peer, event, detail" \
    json_has "$(grep '"source":"worker ' "$T_DIR/trace.json")" . time worker conn peer event detail ||
    diag_file "$T_DIR/trace.json"
is "$(jq -r '.event' "$T_DIR/trace.json" 2>/dev/null | sort -u |
    grep -E '^(accept|read|write|close)$' | tr '\n' ' ')" \
    "accept close read write " "trace -j: accept, read, write and close events"

# --- watch ---
t0=$(now_ms)
ctl_check "watch 100ms 2 exits 0" watch 100ms 2
elapsed=$(($(now_ms) - t0))
is "$(printf '%s\n' "$out" | grep -c '^master pid')" 2 \
    "watch 100ms 2 prints two status blocks"
ok "watch 100ms 2 takes under 3 s ($elapsed ms)" test "$elapsed" -lt 3000
ctl_check "-j watch 100ms 2 exits 0" -j watch 100ms 2
is "$(printf '%s\n' "$out" | jq -r 'select(has("master")) | .master.pid' 2>&1 |
    tr '\n' ' ')" "$ACCEPTD_PID $ACCEPTD_PID " \
    "-j watch 100ms 2: two JSON status objects"

# --- scale, drop, reload ---
nworkers()
{
	ctl -j status | jq -r '.workers | length'
}
ctl_check "scale 3 exits 0" scale 3
is "$(nworkers)" 3 "scale 3: status -j lists 3 workers"
ctl_check "-j scale 2 exits 0" -j scale 2
ok "-j scale prints JSON or nothing" json_or_empty "$out"
is "$(nworkers)" 2 "-j scale 2: status -j lists 2 workers"

ctl_check "drop close-wait exits 0" drop close-wait
like "$out" "^dropped 0$" "drop close-wait: 'dropped 0' when there are none"
ctl_check "-j drop all exits 0" -j drop all
is "$(printf '%s' "$out" | jq -r '.dropped | type')" number \
    "-j drop all: {\"dropped\": N}"

write_conf "$conf
max-connections 99"
ctl_check "reload exits 0" reload
is "$(ctl config | grep '^max-connections')" "max-connections 99" \
    "reload: the file's new max-connections is running"
write_conf "$conf
max-connections 0"
out=$(ctl reload 2>&1)
is "$?" 1 "reload of a bad file exits 1"
like "$out" "acceptd\.conf:[0-9]+:" "and says file:line: why"
is "$(ctl config | grep '^max-connections')" "max-connections 99" \
    "a bad reload changes nothing"
write_conf "$conf"
ctl_check "-j reload exits 0" -j reload
ok "-j reload prints JSON or nothing" json_or_empty "$out"

# --- help, version, prefixes, unknown commands ---
ctl_check "help exits 0" help
missing=
for c in status workers pause resume set config sockets counters trace \
    watch scale drop reload stop help version; do
	printf '%s\n' "$out" | grep -qw -- "$c" || missing="$missing $c"
done
is "$missing" "" "help lists every command"
ctl_check "-j help exits 0" -j help
ok "-j help prints JSON" eval 'printf "%s\n" "$out" | jq -e . >/dev/null 2>&1' ||
    diag "got:" "$(printf '%s\n' "$out" | head -n 3)"
ctl_check "version exits 0" version
like "$out" "^acceptd [0-9]+\.[0-9]+" "version: 'acceptd X.Y'"
ver=${out#acceptd }
is "$(ctl -j version | jq -r .version)" "$ver" "-j version: {\"version\": same}"

like "$(ctl sta)" "^master pid $ACCEPTD_PID" "'sta' is status"
like "$(ctl sock)" "accept queue" "'sock' is sockets"
is "$(ctl vers)" "acceptd $ver" "'vers' is version"
out=$(ctl frobnicate 2>&1)
is "$?" 1 "an unknown command exits 1"
like "$out" "valid commands are .*status" "and names the valid commands"

# --- stop, text then JSON ---
pid=$ACCEPTD_PID
ctl_check "stop exits 0" stop
if wait_for '! alive "$pid"' 5; then
	wait "$pid" 2>/dev/null
	is "$?" 0 "stop: the daemon exits 0"
else
	fail "stop: the daemon exits 0"
	diag "still running after 5 s"
fi
ok "stop: the control socket is gone" test ! -e "$CTL_SOCK"

ok "acceptd starts again" start_acceptd "$conf" ||
    t_abort "acceptd did not start"
pid=$ACCEPTD_PID
ctl_check "-j stop exits 0" -j stop
ok "-j stop prints JSON or nothing" json_or_empty "$out"
if wait_for '! alive "$pid"' 5; then
	wait "$pid" 2>/dev/null
	is "$?" 0 "-j stop: the daemon exits 0"
else
	fail "-j stop: the daemon exits 0"
fi
ACCEPTD_PID=

done_testing

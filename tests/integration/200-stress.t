#!/usr/bin/env bash
# Issue 9's storms under one-request-per-connection load (acceptload churn):
# scale 1/scale 4 cycles with accept exclusive, then reuseport; a reload
# storm switching workers and accept; kill -9 of workers.  Where nothing
# is killed no request may fail; after every storm each child of the
# master is one status lists, and the pool is back to its size.
# Figures (requests, failures) are printed as diagnostics.
# shellcheck disable=SC2016,SC2034,SC2119,SC2317
. tests/lib.sh

ACCEPTLOAD=$TEST_BUILD/tools/acceptload
need_cmd jq shuf
[ -x "$ACCEPTLOAD" ] || bail_out "$ACCEPTLOAD not built"

plan 21

# Between two control commands, at least this many connections (or 2 s).
STEP=${STRESS_STEP:-1000}

# --- helpers ---------------------------------------------------------------

# N workers, all accepting and tracked, nobody retiring.
settled_at()
{
	tracked && [ "$(jctl '[.workers[].state] | unique | join(" ")' \
	    status)" = accepting ] &&
	    [ "$(jctl '.workers | length' status)" = "$1" ] &&
	    [ "$(jctl '(.retiring // []) | length' status)" = 0 ] &&
	    [ "$(worker_pids | wc -l)" -eq "$1" ]
}

# Let the load make STEP more connections (2 s at most).
progress()
{
	local n
	n=$(passive_opens)
	wait_for '[ "$(passive_opens)" -ge $((n + STEP)) ]' 2
}

# start_storm NAME TEXT: acceptd on config TEXT, its log in NAME.log (a
# log per storm, kept with T_KEEP=1).
start_storm()
{
	ACCEPTD_LOG=$T_DIR/$1.log
	start_acceptd "$2"
}

# load_start NAME: acceptload churn, 50 at once, bounded by its own -d.
load_start()
{
	LOAD_NAME=$1
	timeout -k 1 40 "$ACCEPTLOAD" -j -q -p "$PORT" -c 50 -d 20s -P http \
	    churn >"$T_DIR/$1.json" 2>"$T_DIR/$1.err" &
	LOAD_PID=$!
	t_bg "$LOAD_PID"
	progress
}

# load_end [allowed]: stop the load, print its figures, and set
# LOAD_FAILED; failures not allowed bring the daemon's log.
load_end()
{
	local f=$T_DIR/$LOAD_NAME.json
	kill -INT "$LOAD_PID" 2>/dev/null
	wait "$LOAD_PID"
	LOAD_FAILED=$(load_failures "$f")
	diag "$LOAD_NAME: requests $(jq -r .requests.ok "$f" 2>/dev/null), failures ${LOAD_FAILED:-?}"
	if [ "${LOAD_FAILED:-x}" != 0 ]; then
		diag "$LOAD_NAME: $(jq -c '{connects, requests}' "$f" 2>/dev/null)"
		grep -q . "$T_DIR/$LOAD_NAME.err" &&
		    diag "acceptload: $(head -c 500 "$T_DIR/$LOAD_NAME.err")"
		[ "$1" = allowed ] || diag_file "$ACCEPTD_LOG"
	fi
}

# acceptload's failures: requests that failed, and connects that were
# refused, reset, timed out or failed for a reason that is not the
# client's own shortage (ports, fds, buffers).
load_failures()
{
	jq -r '[.requests.errors, .connects.refused, .connects.reset,
	    .connects.timeout, ((.connects.errors // {}) | to_entries |
	    map(select(.key | test("^(EADDRNOTAVAIL|EMFILE|ENFILE|ENOBUFS|ENOMEM)$")
	    | not) | .value) | add // 0)] | add' "$1" 2>/dev/null
}

conf_for()
{
	printf '%s\n' "$(base_conf)
backlog 1024
protocol http
idle-timeout 5s
shutdown-timeout 3s
workers $1
accept $2"
}

# After the load: tracked (retirees may still drain), then settled.
check_tracked()
{
	local name=$1 n=$2
	ok "$name: every child of the master is listed in status" \
	    wait_for tracked 5 || diag_tracked
	ok "$name: then $n workers accepting, nobody retiring, all tracked" \
	    wait_for "settled_at $n" 10 || diag_tracked
}

# --- scale cycles ----------------------------------------------------------

scale_storm()
{
	local kind=$1 i codes=
	ok "scale/$kind: acceptd starts (4 workers)" \
	    start_storm "scale-$kind" "$(conf_for 4 "$kind")" ||
	    t_abort "acceptd did not start"
	load_start "scale-$kind"
	for i in 1 2 3 4 5 6; do
		ctl scale 1 >/dev/null 2>&1
		codes="$codes $?"
		progress
		ctl scale 4 >/dev/null 2>&1
		codes="$codes $?"
		progress
	done
	load_end
	is "$codes" "$(printf ' 0%.0s' $(seq 12))" \
	    "scale/$kind: 6 cycles of scale 1 / scale 4 all exit 0"
	is "$LOAD_FAILED" 0 "scale/$kind: no request failed"
	check_tracked "scale/$kind" 4
	stop_acceptd TERM 5
}

scale_storm "$EXCLUSIVE"
scale_storm reuseport

# --- reload storm ----------------------------------------------------------

ok "reload storm: acceptd starts (4 workers, $EXCLUSIVE)" \
    start_storm reload-storm "$(conf_for 4 "$EXCLUSIVE")" ||
    t_abort "acceptd did not start"
load_start reload-storm
codes=
kinds=
want=
for step in 2:reuseport 4:shared 1:$EXCLUSIVE 3:reuseport 1:shared \
    4:$EXCLUSIVE 2:shared 4:reuseport; do
	write_conf "$(conf_for "${step%%:*}" "${step#*:}")"
	ctl reload >/dev/null 2>&1
	codes="$codes $?"
	kinds="$kinds $(jctl .listen.accept status)"
	want="$want ${step#*:}"
	progress
done
load_end
is "$codes" " 0 0 0 0 0 0 0 0" "reload storm: 8 reloads all exit 0"
is "$kinds" "$want" "reload storm: each applied its accept kind"
is "$LOAD_FAILED" 0 "reload storm: no request failed"
check_tracked "reload storm" 4
stop_acceptd TERM 5

# --- kill -9 of workers ----------------------------------------------------

ok "kills: acceptd starts (4 workers, $EXCLUSIVE)" \
    start_storm kills "$(conf_for 4 "$EXCLUSIVE")" ||
    t_abort "acceptd did not start"
load_start kills
killed=
for i in 1 2 3 4 5; do
	p=$(jctl '.workers[] | select(.pid > 0) | .pid' status | shuf -n 1)
	[ -n "$p" ] && kill -KILL "$p" && killed="$killed $p"
	progress
done
load_end allowed
diag "kills: killed$killed (failures are allowed here)"
is "$(echo "$killed" | wc -w | tr -d ' ')" 5 "kills: 5 workers killed under load"
check_tracked kills 4
is "$(run_bounded 5 curl -s --max-time 3 -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$PORT/")" 200 "kills: it serves afterwards"
stop_acceptd TERM 5

done_testing

#!/usr/bin/env bash
# scale 4 then scale 2: the workers follow (status and the process tree),
# and requests made all the while are all answered.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh
need_cmd jq

plan 14

status_pids()
{
	jctl '[.workers[].pid] | sort | join(" ")' status
}

children()
{
	worker_pids | tr '\n' ' ' | sed 's/ $//'
}

# One request per connection, each result a line in $T_DIR/codes, until
# $T_DIR/stop exists and at least 50 are done (at most 2000, 20 s).
request_loop()
{
	local i=0 code
	while [ "$i" -lt 2000 ]; do
		[ "$i" -ge 50 ] && [ -e "$T_DIR/stop" ] && break
		code=$(curl -s -o /dev/null --max-time 3 -w '%{http_code}' \
		    -H 'Connection: close' "$url") || code="$code curl-exit-$?"
		echo "$code" >>"$T_DIR/codes"
		i=$((i + 1))
	done
}

ok "acceptd starts with 2 workers" start_acceptd "$(base_conf)
workers 2
protocol http
shutdown-timeout 1s" || t_abort "acceptd did not start"
url=http://127.0.0.1:$PORT/
wait_for '[ "$(worker_pids | wc -l)" -eq 2 ]' 3
before=$(status_pids)

: >"$T_DIR/codes"
timeout -k 1 25 bash -c "$(declare -f request_loop); url=$url T_DIR=$T_DIR request_loop" &
lpid=$!
t_bg "$lpid"
wait_for '[ "$(grep -c . "$T_DIR/codes")" -ge 5 ]' 3

ok "scale 4 exits 0" ctl scale 4
is "$(jctl '[.workers[].id] | join(" ")' status)" "0 1 2 3" \
    "status -j: workers 0 1 2 3"
wait_for '[ "$(children)" = "$(status_pids)" ]' 3
is "$(children)" "$(status_pids)" "their pids are the master's 4 children"
four=$(status_pids)
ok "workers 0 and 1 are the same processes as before" \
    eval '[ "$(jctl "[.workers[] | select(.id < 2) | .pid] | sort | join(\" \")" status)" = "$before" ]'
is "$(jctl '[.workers[].state] | unique | join(" ")' status)" accepting \
    "all 4 accepting"
# Some requests while 4 run, before scaling down.
n=$(grep -c . "$T_DIR/codes")
wait_for '[ "$(grep -c . "$T_DIR/codes")" -ge $((n + 10)) ]' 3

ok "scale 2 exits 0" ctl scale 2
# Workers 2 and 3 stopped accepting before "ok"; they may still be
# listed as exiting while their last connections close.
is "$(jctl '[.workers[] | select(.state != "exiting") | .id] | join(" ")' \
    status)" "0 1" "status -j: workers 0 1 (besides any still exiting)"
wait_for '[ "$(jctl "[.workers[].id] | join(\" \")" status)" = "0 1" ]' 3
wait_for '[ "$(children)" = "$(status_pids)" ]' 3
is "$(children)" "$before" "the master's children are workers 0 and 1 again"
gone=$(echo "$four" | tr ' ' '\n' | grep -vxF -f <(echo "$before" | tr ' ' '\n'))
wait_for 'no_alive $gone' 3
# shellcheck disable=SC2086
ok "workers 2 and 3 have exited" no_alive $gone

touch "$T_DIR/stop"
wait "$lpid"
is "$?" 0 "the request loop ended in time"
n=$(grep -c . "$T_DIR/codes")
ok "at least 50 requests made while scaling ($n)" test "$n" -ge 50
bad=$(grep -vx 200 "$T_DIR/codes" | sort | uniq -c)
is "$bad" "" "every request answered 200"

stop_acceptd TERM 5
is "$ACCEPTD_STATUS" 0 "SIGTERM: exits 0"

done_testing

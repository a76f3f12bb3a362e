# purpose: reuseport with worker 1 paused: its share of new connections waits in its own queue while the others idle
# accept reuseport: one SO_REUSEPORT listening socket per worker, each with
# its own accept queue.  Worker 1 is paused, then 32 clients connect and
# hold: the kernel hashes each to one of the 4 sockets, blind to load, so
# about a quarter wait in worker 1's queue although the other three accept
# theirs at once and sit idle.  resume 1 drains the stuck queue.
# shellcheck shell=bash disable=SC2016,SC2034

RSW_WORKERS=4
RSW_CLIENTS=32

scenario_config()
{
	echo "workers $RSW_WORKERS"
	echo "accept reuseport"
	echo "protocol http"
	echo "backlog 64"
}

# rsw_workers FILE: a saved (or, with -, piped) status -j as one line per
# worker: id state accepted queue.
rsw_workers()
{
	"$SCENLOG" json "$1" workers id,state,accepted,queue 2>/dev/null
}

# rsw_settled: every client is either accepted or queued somewhere.
rsw_settled()
{
	local n
	n=$(ctl_quiet -j status 2>/dev/null | rsw_workers - |
	    awk -F'\t' '{ n += $3 + $4 } END { print n + 0 }')
	[ "${n:-0}" -ge "$RSW_CLIENTS" ]
}

rsw_w1_queue()
{
	ctl_quiet -j status 2>/dev/null | rsw_workers - |
	    awk -F'\t' '$1 == 1 { print $4 }'
}

# rsw_line FILE [paused]: the per-worker table on one line, for a mark.
rsw_line()
{
	rsw_workers "$1" | awk -F'\t' -v st="${2:-}" '
	    { printf "%sw%s%s accepted %s queue %s", (NR > 1 ? ", " : ""), $1,
		st ? " " $2 : "", $3, $4 }'
}

scenario_run()
{
	ctl pause 1
	mark connect "worker 1 paused; $RSW_CLIENTS clients connect and hold"
	# Paced: a burst of 32 handshakes overflows tcpdump's capture ring.
	client_load -c "$RSW_CLIENTS" -n "$RSW_CLIENTS" -r 300 -d 8s hold
	wait_for 'rsw_settled' 4
	wait_for '[ "$(live_count server ESTABLISHED)" -ge "$RSW_CLIENTS" ]' 2
	ctl_quiet -j status >"$OUT/rsw-paused.json" 2>/dev/null
	mark paused-result "while paused: $(rsw_line "$OUT/rsw-paused.json" state)"
	mark resume "resume 1: worker 1 polls its own socket again"
	ctl resume 1
	wait_for '[ "$(rsw_w1_queue)" = 0 ]' 3
	wait_for '[ "$(live_queue)" -eq 0 ]' 1
	ctl_quiet -j status >"$OUT/rsw-resumed.json" 2>/dev/null
	mark resumed-result "after resume: $(rsw_line "$OUT/rsw-resumed.json")"
	mark closing "clients close"
	kill -TERM "$LOAD_PID" 2>/dev/null
	wait_for '! alive "$LOAD_PID"' 3
	wait_for '[ "$(live_count server ESTABLISHED)" -eq 0 ]' 2
}

# rsw_value FILE WHAT: a number from a saved status -j, -1 when the file
# is missing or not JSON (the checks' arithmetic must not abort on it).
# WHAT: total (accepted + queued, all workers), queue1, accepted1,
# others_queue, others_accepting, others_min_accepted, queued (all).
rsw_value()
{
	local v
	v=$(rsw_workers "$1" | awk -F'\t' -v what="$2" '
	    { total += $3 + $4; queued += $4
	      if ($1 == 1) { q1 = $4; a1 = $3; next }
	      oq += $4; if ($2 == "accepting") oa++
	      if (min == "" || $3 < min) min = $3 }
	    END { if (NR == 0) { print -1; exit }
		  v["total"] = total; v["queue1"] = q1; v["accepted1"] = a1
		  v["others_queue"] = oq; v["others_accepting"] = oa + 0
		  v["others_min_accepted"] = min; v["queued"] = queued
		  print (what in v) ? v[what] + 0 : -1 }')
	echo "${v:--1}"
}

rsw_table()
{
	echo "per worker (state accepted/queued): $(rsw_workers "$1" |
	    awk -F'\t' '{ printf "%sw%s %s %s/%s", (NR > 1 ? ", " : ""), $1, $2, $3, $4 }')"
}

# rsw_expect FILE WHAT OP N DESC: a value of a saved status against a
# bound, with the per-worker table as evidence.
rsw_expect()
{
	local v
	v=$(rsw_value "$1" "$2")
	rsw_table "$1"
	expect "$v" "$3" "$4" "$5"
}

# rsw_trace_worker WORKER OP N: accept events of one worker in the window.
rsw_trace_worker()
{
	scn_q count app event=accept "worker=$1" "$2" "$3"
}

rsw_trace_others()
{
	scn_q count app event=accept worker!=1 "$1" "$2"
}

scenario_check()
{
	local p=$OUT/rsw-paused.json r=$OUT/rsw-resumed.json q1 others

	q1=$(rsw_value "$p" queue1)
	others=$((RSW_CLIENTS - q1))

	check "all $RSW_CLIENTS clients connected: accepted or queued" \
	    rsw_expect "$p" total -eq "$RSW_CLIENTS" "accepted + queued"
	check "worker 1 paused: a share of the clients waits in its own queue (>= 1)" \
	    rsw_expect "$p" queue1 -ge 1 "worker 1's queue"
	check "... about 1 in $RSW_WORKERS of them (expected $((RSW_CLIENTS / RSW_WORKERS)); <= 20 of $RSW_CLIENTS)" \
	    rsw_expect "$p" queue1 -le 20 "worker 1's queue"
	check "... and worker 1 accepted none of them" \
	    rsw_expect "$p" accepted1 -eq 0 "worker 1's accepts"
	check "the other workers' queues are empty: they accepted their share at once" \
	    rsw_expect "$p" others_queue -eq 0 "queued at the other workers"
	check "... and were idle, still accepting, with room for more" \
	    rsw_expect "$p" others_accepting -eq $((RSW_WORKERS - 1)) \
	    "other workers accepting"
	check "the hash used every socket: each other worker got at least one" \
	    rsw_expect "$p" others_min_accepted -ge 1 \
	    "fewest accepts of the other workers"

	window connect resume
	check "wire: the kernel completed all $RSW_CLIENTS handshakes (SYN-ACKs) while worker 1 was paused" \
	    wire_count server '^S\.$' -eq "$RSW_CLIENTS"
	check "kernel: all $RSW_CLIENTS server sockets went SYN_RECV→ESTABLISHED while worker 1 was paused, accepted or not" \
	    kernel_count state -eq "$RSW_CLIENTS" side=server from=SYN_RECV to=ESTABLISHED
	check "kernel: the listeners' accept queue (all sockets) held worker 1's share (sampled)" \
	    sample_queue -eq "$q1"
	check "kernel: all $RSW_CLIENTS children ESTABLISHED, accepted or not (sampled)" \
	    sample_count server ESTABLISHED -eq "$RSW_CLIENTS"
	check "acceptd: the other workers accepted the rest ($others) while worker 1 was paused" \
	    rsw_trace_others -eq "$others"
	check "acceptd: worker 1 accepted nothing while paused" \
	    rsw_trace_worker 1 -eq 0

	window resume closing
	check "after resume 1: worker 1 accepted exactly its queued $q1" \
	    rsw_trace_worker 1 -eq "$q1"
	check "... no other worker accepted any of them" \
	    rsw_trace_others -eq 0
	check "... and every queue is empty" \
	    rsw_expect "$r" queued -eq 0 "queued in all"
	check "the accept queue is empty again (sampled)" sample_queue_last -eq 0
}

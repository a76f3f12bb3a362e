# purpose: the seed's "connections full": max-connections 1; extra clients wait in the accept queue until one closes
# One worker, one connection at most.  c1 is accepted and stays open; c2
# and c3 connect anyway: the kernel completes their handshakes and queues
# them while the worker, "full", does not poll the listener.  c1 closes:
# acceptd accepts c2 at once; c2 closes: c3.
# shellcheck shell=bash disable=SC2016,SC2034

scenario_config()
{
	echo "workers 1"
	echo "max-connections 1"
	echo "protocol echo"
}

# mc_state: worker 0's state and connections now, as "STATE CONNS";
# each answer is kept in $OUT/status.csv for the checks.
mc_state()
{
	local s
	s=$(ctl_quiet -j status 2>/dev/null |
	    "$SCENLOG" json - workers state,connections 2>/dev/null |
	    head -n 1 | tr '\t' ' ') || s=
	echo "$EPOCHREALTIME,${s:-none}" >>"$OUT/status.csv"
	echo "${s:-none}"
}

# mc_handoff OLD NEW QUEUE: close OLD, then wait until acceptd has
# accepted NEW and the kernel shows QUEUE connections left in the queue.
mc_handoff()
{
	local port left=$3
	port=$(client_port "$2")
	client_close "$1"
	wait_for 'grep -q "\"peer\":\"127.0.0.1:$port\",\"event\":\"accept\"" "$RAW/app.jsonl"' 2
	wait_for '[ "$(live_queue)" -eq "$left" ]' 1
}

scenario_run()
{
	local s
	client_open c1
	wait_for '[ "$(live_trace_count accept)" -ge 1 ]' 2
	client_open c2
	client_open c3
	wait_for '[ "$(live_queue)" -eq 2 ]' 2
	wait_for '[ "$(live_count server ESTABLISHED)" -eq 3 ]' 1
	wait_for '[ "$(mc_state)" = "full 1" ]' 1
	s=$(tail -n 1 "$OUT/status.csv" | cut -d, -f2)
	note "status: $s"
	mark c1close "c1 closes: a slot is free"
	mc_handoff c1 c2 1
	mark c2close "c2 closes"
	mc_handoff c2 c3 0
	mark c3close "c3 closes"
	client_close c3
	wait_for '[ "$(live_trace_count close)" -ge 3 ]' 2
}

# mc_at_once OLD NEW MS: acceptd accepted NEW within MS ms after it
# closed OLD, and not before.
mc_at_once()
{
	scn_q order -x -W "$3" app event=close "conn=@$1" 'then' \
	    app event=accept "conn=@$2"
}

# mc_status_seen WANT: some status answer was WANT ("full 1").
mc_status_seen()
{
	local row
	row=$(grep -m 1 ",$1\$" "$OUT/status.csv" 2>/dev/null)
	[ -n "$row" ] || { echo "status never \"$1\"; seen: $(cut -d, -f2 "$OUT/status.csv" | sort -u | tr '\n' ';')"; return 1; }
	echo "  time,worker 0 state and connections (status -j):"
	echo "  $row"
}

scenario_check()
{
	check "all 3 clients' connect() succeeded" client_count connected -eq 3
	check "the kernel made each client's server socket ESTABLISHED before acceptd accepted it: c2 and c3 long before" \
	    kernel_q order -n -eq 3 kernel event=state side=server to=ESTABLISHED 'then' app event=accept
	window start c1close
	check "before c1 closes, acceptd accepted only c1" trace_count accept -eq 1
	check "c2 and c3 wait in the kernel's accept queue (sampled queue 2)" sample_queue -eq 2
	check "3 server-side sockets ESTABLISHED: 1 accepted, 2 queued (sampled)" \
	    sample_count server ESTABLISHED -eq 3
	check "-j status: worker 0 is \"full\" with 1 connection" mc_status_seen "full 1"
	window c1close c2close
	check "c1 closes: acceptd closes it, then accepts c2 at once" mc_at_once c1 c2 100
	check "the queue went down to 1 (sampled)" sample_queue -eq 1
	window c2close c3close
	check "c2 closes: acceptd accepts c3 at once" mc_at_once c2 c3 100
	check "the queue is empty: c3 was the last one waiting (sampled)" sample_queue -eq 0
	window c3close end
	check "at the end the queue is empty (sampled)" sample_queue_last -eq 0
	window
	check "3 accepts in all, one at a time" trace_count accept -eq 3
}

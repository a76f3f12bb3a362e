# purpose: paused: connect() succeeds, the accept queue grows, ESTABLISHED children wait
# Three clients connect while acceptd accepts nothing; the kernel completes
# every handshake and queues the children.  Then resume: three accepts.
# shellcheck shell=bash disable=SC2016,SC2034

scenario_config()
{
	echo "workers 1"
	echo "paused yes"
	echo "protocol oneshot"
	echo "backlog 16"
}

scenario_run()
{
	local c
	for c in c1 c2 c3; do
		client_open "$c"
	done
	wait_for '[ "$(live_queue)" -eq 3 ]' 2
	wait_for '[ "$(live_count server ESTABLISHED)" -eq 3 ]' 1
	mark resume "resume: acceptd may accept now"
	ctl resume
	wait_for '[ "$(live_trace_count accept)" -ge 3 ]' 2
	wait_for '[ "$(live_queue)" -eq 0 ]' 1
}

scenario_check()
{
	check "connect() returned success for all 3 clients, each before acceptd accepted it" \
	    scn_q order -n -eq 3 client event=connected 'then' app event=accept
	check "the kernel: each client's socket SYN_SENT→ESTABLISHED, each server child SYN_RECV→ESTABLISHED, before acceptd's accept" \
	    kernel_q order -n -eq 3 kernel event=state side=client from=SYN_SENT to=ESTABLISHED 'then' kernel event=state side=server from=SYN_RECV to=ESTABLISHED 'then' app event=accept
	window start resume
	check "while paused, the accept queue reached 3 (sampled)" sample_queue -ge 3
	check "while paused, 3 server-side children are ESTABLISHED (sampled)" \
	    sample_count server ESTABLISHED -eq 3
	check "while paused, acceptd accepted nothing" trace_count accept -eq 0
	check "while paused, the wire carried 3 complete handshakes (SYN, SYN-ACK, ACK)" \
	    wire_order -n -eq 3 'client:^S$' 'server:^S\.$' 'client:^\.$'
	check "... and 3 SYN-ACKs in all" wire_count server '^S\.$' -eq 3
	window resume end
	check "after resume, acceptd accepted the 3 queued connections" \
	    trace_count accept -eq 3
	check "after resume, the accept queue is empty again" sample_queue_last -eq 0
}

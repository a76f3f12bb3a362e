# purpose: backlog 2, paused: 3 connections queue, further SYNs are dropped and retransmitted; connect() takes seconds
# Three clients fill the accept queue (it holds backlog + 1).  Two more
# (acceptload connect-close) send SYNs that the kernel drops without a
# SYN-ACK, counting ListenOverflows; they retransmit after 1 s, are dropped
# again; then acceptd resumes, the queue drains, and the retransmit at
# about 3 s gets in: their connect() took about 3 s.
# shellcheck shell=bash disable=SC2016,SC2034
scenario_needs=root

BO_BACKLOG=2
BO_EXTRA=2

scenario_config()
{
	echo "workers 1"
	echo "paused yes"
	echo "protocol echo"
	echo "backlog $BO_BACKLOG"
}

scenario_run()
{
	local c want_drops=$((BO_EXTRA * 2))
	# The accept queue is full on SYN arrival here, so the RST of
	# tcp_abort_on_overflow (an ACK-time overflow) can not occur; 0 anyway.
	sysctl_ns net.ipv4.tcp_abort_on_overflow 0
	# newer kernels retransmit a SYN at linear 1 s intervals at first
	[ -r /proc/sys/net/ipv4/tcp_syn_linear_timeouts ] &&
	    note "tcp_syn_linear_timeouts=$(cat /proc/sys/net/ipv4/tcp_syn_linear_timeouts)"
	for c in c1 c2 c3; do
		client_open "$c"
	done
	wait_for '[ "$(live_queue)" -eq $((BO_BACKLOG + 1)) ]' 2
	mark overflow "$BO_EXTRA more clients: the queue is full"
	client_load -n "$BO_EXTRA" -c "$BO_EXTRA" -t 10s connect-close
	# each extra SYN dropped, then each first retransmit (about 1 s)
	wait_for '[ "$(live_counter ListenOverflows)" -ge "$want_drops" ]' 3
	note "ListenOverflows +$(live_counter ListenOverflows)"
	live_queue >/dev/null
	mark resume "resume: the queue drains"
	ctl resume
	wait_for '! alive "$LOAD_PID"' 6
	wait_for '[ "$(live_trace_count accept)" -ge $((BO_EXTRA + 3)) ]' 2
	wait_for '[ "$(live_queue)" -eq 0 ]' 1
}

# bo_queue_max OP N: the largest accept queue in the window satisfies OP N.
bo_queue_max()
{
	scn_q value max kernel-sample event=listen queue "$1" "$2"
}

# bo_backlog N: the kernel reports the effective backlog N.
bo_backlog()
{
	echo "the effective backlog min(listen backlog, somaxconn), from sock_diag:"
	scn_q value first kernel-sample event=listen backlog -eq "$1"
}

# bo_retrans LO HI: on every connection that sent a SYN, the next SYN
# came LO..HI ms after the first.
bo_retrans()
{
	scn_q order -a -G "$1" -W "$2" wire from=client flags=S 'then' \
	    wire from=client flags=S
}

# bo_load EXPR OP N WHAT: a value from acceptload's JSON report.
bo_load()
{
	local v
	v=$(jq -r "$1" "$OUT/load-1.json" 2>/dev/null)
	expect "${v:--1}" "$2" "$3" "$4"
}

bo_histogram()
{
	jq -r '.connect_latency_us.histogram[] | select(.count > 0) |
	    "  \(.label): \(.count)"' "$OUT/load-1.json" 2>/dev/null
	bo_load '[.connect_latency_us.histogram[] | select(.le_ms != null and
	    .le_ms <= 1000) | .count] | add' -eq 0 "connects faster than 1 s"
}

scenario_check()
{
	window start overflow
	check "the kernel's effective backlog is $BO_BACKLOG" bo_backlog "$BO_BACKLOG"
	check "3 clients connected with nobody accepting: the queue holds backlog + 1" \
	    sample_queue -eq $((BO_BACKLOG + 1))
	window overflow resume
	check "while full, the queue never grew past backlog + 1" \
	    bo_queue_max -eq $((BO_BACKLOG + 1))
	if have_wire; then
		check "the extra clients' SYNs went unanswered: no SYN-ACK" \
		    wire_count server '^S\.$' -eq 0
		check "... each SYN was sent and retransmitted: at least $((BO_EXTRA * 2)) SYNs" \
		    wire_count client '^S$' -ge $((BO_EXTRA * 2))
		check "the first retransmission came about 1 s after the SYN (initial RTO)" \
		    bo_retrans 900 1500
	fi
	window resume end
	if have_wire; then
		check "after resume a retransmitted SYN gets its SYN-ACK" \
		    wire_count server '^S\.$' -eq "$BO_EXTRA"
	fi
	check "acceptd accepted the 3 queued and the $BO_EXTRA late ones" \
	    trace_count accept -eq $((BO_EXTRA + 3))
	window
	check "TcpExt ListenOverflows counted each dropped SYN" \
	    counter ListenOverflows -ge $((BO_EXTRA * 2))
	check "... and ListenDrops with it" counter ListenDrops -ge $((BO_EXTRA * 2))
	check "acceptload: the $BO_EXTRA extra connects succeeded in the end" \
	    bo_load '.connects.ok' -eq "$BO_EXTRA" "connects ok"
	check "their connect latency was at least 1 s (min, us)" \
	    bo_load '.connect_latency_us.min' -ge 1000000 "min connect latency (us)"
	check "the histogram puts them past 1 s, where SYN retransmits land" \
	    bo_histogram
}

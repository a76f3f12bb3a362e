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

# bo_load PATH OP N WHAT: a value from acceptload's JSON report.
bo_load()
{
	local v
	v=$("$SCENLOG" json "$OUT/load-1.json" "$1" 2>/dev/null)
	expect "${v:--1}" "$2" "$3" "$4"
}

# The connect latency histogram's non-empty rows, and none below 1 s.
bo_histogram()
{
	local rows fast
	rows=$("$SCENLOG" json "$OUT/load-1.json" connect_latency_us.histogram \
	    label,le_ms,count 2>/dev/null)
	printf '%s\n' "$rows" | awk -F'\t' '$3 > 0 { print "  " $1 ": " $3 }'
	fast=$(printf '%s\n' "$rows" | awk -F'\t' '
	    $2 != "null" && $2 <= 1000 { n += $3 } END { print n + 0 }')
	[ -n "$rows" ] || fast=-1
	expect "$fast" -eq 0 "connects faster than 1 s"
}

scenario_check()
{
	check "the kernel: the 3 queued connections' server children were ESTABLISHED, each before acceptd's accept" \
	    kernel_q order -n -ge 3 kernel event=state side=server to=ESTABLISHED 'then' app event=accept
	window start overflow
	check "the kernel's effective backlog is $BO_BACKLOG" bo_backlog "$BO_BACKLOG"
	check "3 clients connected with nobody accepting: the queue holds backlog + 1 (sampled)" \
	    sample_queue -eq $((BO_BACKLOG + 1))
	window overflow resume
	check "while full, the queue never grew past backlog + 1 (sampled)" \
	    bo_queue_max -eq $((BO_BACKLOG + 1))
	check "the extra clients' SYNs went unanswered: no SYN-ACK" \
	    wire_count server '^S\.$' -eq 0
	check "... each SYN was sent and retransmitted: at least $((BO_EXTRA * 2)) SYNs" \
	    wire_count client '^S$' -ge $((BO_EXTRA * 2))
	check "the first retransmission came about 1 s after the SYN (initial RTO)" \
	    bo_retrans 900 1500
	check "the kernel reports nothing for the dropped SYNs: no drop, no SYN-ACK retransmit, no server socket (a SYN refused on a full accept queue is consumed silently: ListenOverflows and the wire are the evidence)" \
	    kernel_q count kernel side=server 'event~^(drop|synack-retransmit|state)$' -eq 0
	window resume end
	check "after resume a retransmitted SYN gets its SYN-ACK" \
	    wire_count server '^S\.$' -eq "$BO_EXTRA"
	check "... and only now the kernel makes their server sockets (→ESTABLISHED)" \
	    kernel_count state -eq "$BO_EXTRA" side=server to=ESTABLISHED
	check "acceptd accepted the 3 queued and the $BO_EXTRA late ones" \
	    trace_count accept -eq $((BO_EXTRA + 3))
	window
	check "TcpExt ListenOverflows counted each dropped SYN" \
	    counter ListenOverflows -ge $((BO_EXTRA * 2))
	check "... and ListenDrops with it" counter ListenDrops -ge $((BO_EXTRA * 2))
	check "acceptload: the $BO_EXTRA extra connects succeeded in the end" \
	    bo_load connects.ok -eq "$BO_EXTRA" "connects ok"
	check "their connect latency was at least 1 s (min, us)" \
	    bo_load connect_latency_us.min -ge 1000000 "min connect latency (us)"
	check "the histogram puts them past 1 s, where SYN retransmits land" \
	    bo_histogram
}

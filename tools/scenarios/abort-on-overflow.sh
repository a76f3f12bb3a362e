# purpose: tcp_abort_on_overflow=1: a full accept queue answers the handshake's final ACK with RST (=0: drops it)
# backlog 2, paused: the queue holds 3.  Two clients fill it to 2, then
# three connect at once over a slowed loopback (tbf), so that all three
# SYNs are answered while there is room and the final ACKs arrive after
# the first of them filled the queue.  Part 1, abort_on_overflow=1: the
# two late ACKs draw RST.  Part 2, =0 (the default): the late ACK is
# dropped, the server retransmits its SYN-ACK, and the client, "connected"
# all along, is served once there is room.
# shellcheck shell=bash disable=SC2016,SC2034
scenario_needs=root

scenario_config()
{
	echo "workers 1"
	echo "paused yes"
	echo "protocol echo"
	echo "backlog 2"
}

# The loopback as a slow FIFO link (tbf).  First it holds every packet:
# 8 bit/s, and two junk datagrams empty the bucket (one 62-byte packet
# passes, the next waits), so that the clients' SYNs queue up however
# slowly their processes start.  Then 10 kbit/s, about 60 ms a packet:
# the SYNs reach the listener together, then the SYN-ACKs, then the ACKs.
ao_junk()
{
	head -c "$1" /dev/zero >/dev/udp/127.0.0.1/9 2>/dev/null
}

ao_hold()
{
	tc_ns qdisc add dev lo root tbf rate 8bit burst 100 limit 100000 ||
	    note "tc tbf on lo failed: the ACKs may not arrive late"
	ao_junk 20
	ao_junk 20
	note "tc: loopback holds every packet"
}

# tbf does not dequeue again until a packet arrives: a datagram kicks it.
ao_release()
{
	tc_ns qdisc change dev lo root tbf rate 10kbit burst 100 limit 100000
	ao_junk 1
	note "tc: loopback released at 10 kbit/s (about 60 ms a packet)"
}

ao_slow_off()
{
	tc_ns qdisc del dev lo root 2>/dev/null && note "tc: loopback at full speed"
	return 0
}

# Whether client NAME's socket is ESTABLISHED in the kernel now.
ao_alive()
{
	[ "$(live_state client "$1")" = ESTABLISHED ]
}

# Three clients at once; wait until every ACK has met the queue.
ao_burst()
{
	local c overflows=$4
	ao_hold
	for c in "$1" "$2" "$3"; do
		client_open "$c" nowait
	done
	# Release before the first SYN retransmission (1 s).
	wait_for '[ "$(live_count client SYN_SENT)" -eq 3 ]' 0.8
	ao_release
	wait_for '[ "$(live_counter ListenOverflows)" -ge "$overflows" ]' 3
}

ao_part1()
{
	local c reset=()
	sysctl_ns net.ipv4.tcp_abort_on_overflow 1
	client_open c1
	client_open c2
	wait_for '[ "$(live_queue)" -eq 2 ]' 2
	counters_snapshot part1
	mark burst1 "abort_on_overflow=1: queue 2 of 3; c3, c4, c5 connect at once"
	ao_burst c3 c4 c5 2
	wait_for '[ "$(live_counter OutRsts)" -ge 2 ] &&
	    [ "$(live_count client ESTABLISHED)" -eq 3 ]' 2
	ao_slow_off
	for c in c3 c4 c5; do
		ao_alive "$c" || reset+=("$c")
	done
	note "reset by the server: ${reset[*]:-none}"
	mark use1 "the reset clients read (one) and write (the other)"
	[ "${#reset[@]}" -ge 1 ] && client_read "${reset[0]}" 0.3
	[ "${#reset[@]}" -ge 2 ] && client_send "${reset[1]}" 'hello\n'
	counters_snapshot part2
}

ao_part2()
{
	local c
	mark part2 "part 2: resume until empty, pause, abort_on_overflow=0"
	ctl resume
	wait_for '[ "$(live_queue)" -eq 0 ] && [ "$(live_trace_count accept)" -ge 3 ]' 2
	ctl pause
	sysctl_ns net.ipv4.tcp_abort_on_overflow 0
	client_open c6
	client_open c7
	wait_for '[ "$(live_queue)" -eq 2 ]' 2
	counters_snapshot burst2
	mark burst2 "abort_on_overflow=0: queue 2 of 3; c8, c9, c10 connect at once"
	ao_burst c8 c9 c10 4
	ao_slow_off
	# The dropped ACKs leave requests behind; their SYN-ACKs come again
	# after about 1 s, and the clients' answers overflow again.
	wait_for '[ "$(live_counter ListenOverflows)" -ge 6 ]' 3
	counters_snapshot resume2
	mark resume2 "resume: room again; the 'connected' clients send"
	ctl resume
	for c in c8 c9 c10; do
		client_send "$c" 'hi\n'
	done
	for c in c8 c9 c10; do
		client_read "$c" 0.3
	done
	wait_for '[ "$(live_trace_count accept)" -ge 8 ]' 2
}

scenario_run()
{
	ao_part1
	ao_part2
	ao_slow_off
}

# Some client port got two or more SYN-ACKs in the window: a retransmit.
ao_synack_again()
{
	wire_q order wire from=server flags=S. 'then' wire from=server flags=S.
}

# ao_echoes N: clients that read the 3-byte echo ("hi\n") back.
ao_echoes()
{
	scn_q count client event=open 'text~^read 3 B' -eq "$1"
}

scenario_check()
{
	window burst1 use1
	check "all 3 SYNs got a SYN-ACK: the queue (2 of 3) had room when they came" \
	    wire_count server '^S\.$' -eq 3
	check "connect() succeeded for all 3: each client sent its final ACK" \
	    client_count connected -eq 3
	check "the queue filled to backlog + 1 = 3" sample_queue -eq 3
	check "the 2 later ACKs found it full and were answered with RST" \
	    wire_order -n -eq 2 'client:^\.$' 'server:R'
	check "... exactly 2 RSTs from the server" wire_count server R -eq 2
	check "the kernel dropped each of those 2 ACKs: drop, reason TCP_LISTEN_OVERFLOW" \
	    kernel_count drop -eq 2 reason=TCP_LISTEN_OVERFLOW
	check "... and sent 2 RSTs from the listener: rst-sent, reason INVALID_SYN (tcp_check_req's embryonic reset; the peer is not known to the event)" \
	    kernel_count rst-sent -eq 2 side=server reason=INVALID_SYN
	check "... each RST on the wire after its rst-sent (the slowed link holds it up to 300 ms)" \
	    kernel_q order -x -t 0.1 -W 300 kernel event=rst-sent side=server reason=INVALID_SYN 'then' wire from=server 'flags~R'
	check "the 2 reset clients' kernels received them (rst-received) and went ESTABLISHED→CLOSE" \
	    kernel_q order -n -eq 2 kernel event=rst-received side=client 'then' kernel event=state side=client from=ESTABLISHED to=CLOSE
	check "ListenOverflows counts the 2 ACKs that found the queue full" \
	    counter_between part1 part2 ListenOverflows -eq 2
	check "ListenDrops counts them too (every overflow is also a drop)" \
	    counter_between part1 part2 ListenDrops -eq 2
	check "EmbryonicRsts counts the 2 RSTs (tcp_check_req's reset path)" \
	    counter_between part1 part2 EmbryonicRsts -eq 2
	check "OutRsts counts them too" counter_between part1 part2 OutRsts -eq 2
	window use1 part2
	check "a reset client's first read(): ECONNRESET, no data" \
	    client_detail reset 'read 0 B, then ECONNRESET'
	check "the other's first write(): ECONNRESET" \
	    client_detail send-failed 'reset by peer'

	window burst2 resume2
	check "abort_on_overflow=0: the server sends no RST" wire_count server R -eq 0
	check "... the kernel sent none (no rst-sent from the server's side)" \
	    kernel_count rst-sent -eq 0 side=server
	check "the late ACKs leave request sockets (SYN_RECV) behind (sampled: a request socket has no state events)" \
	    sample_seen server SYN_RECV
	check "... while their clients are ESTABLISHED: connect() returned" \
	    client_count connected -eq 3
	check "the kernel drops the late ACKs: drop, reason TCP_LISTEN_OVERFLOW, first and after each retransmit (>= 4)" \
	    kernel_count drop -ge 4 reason=TCP_LISTEN_OVERFLOW
	check "the server retransmits its SYN-ACK to a client it has no socket for (kernel: synack-retransmit)" \
	    kernel_count synack-retransmit -ge 1 side=server
	check "... seen on the wire: a second SYN-ACK to the same client" \
	    ao_synack_again
	check "each ACK that met the full queue (first and after the retransmit) counted" \
	    counter_between burst2 resume2 ListenOverflows -ge 4
	check "no EmbryonicRsts with =0" counter_between burst2 resume2 EmbryonicRsts -eq 0
	window resume2 end
	check "after resume the waiting clients' data completes the handshake: all 3 read their echo back" \
	    ao_echoes 3
	check "... their server sockets reach ESTABLISHED only now, after the resume (kernel events)" \
	    kernel_q order -x control event=ctl 'text~^resume' 'then' kernel event=state side=server to=ESTABLISHED
	check "... and acceptd accepted 3 + 2 more" trace_count accept -ge 5
}

# purpose: seed case 3: request then close() while paused: CLOSE_WAIT, FIN_WAIT2, then RST and EPIPE
# Part 1 (oneshot, the seed's server): the client sends 6 bytes and closes
# before acceptd accepts; after resume acceptd reads, replies, and the
# client's orphaned socket answers the reply with RST.  Part 2 (echo, 100000
# bytes, more than one 64 KiB read): the second write meets the RST: EPIPE.
# shellcheck shell=bash disable=SC2016,SC2034
scenario_needs=root

scenario_config()
{
	echo "workers 1"
	echo "paused yes"
	echo "protocol oneshot"
}

# send-close while paused, then wait until the kernel shows both halves.
send_close_paused()
{
	local name=$1 bytes=$2
	client_open "$name"
	client_send_bytes "$name" "$bytes"
	client_close "$name"
	wait_for '[ "$(live_count server CLOSE_WAIT)" -eq 1 ] &&
	    [ "$(live_count client FIN_WAIT2)" -eq 1 ]' 2
}

# resume, then wait until the server side of the connection is gone.
resume_until_gone()
{
	local closes=$3

	mark "$1" "$2"
	ctl resume
	wait_for '[ "$(live_count server CLOSE_WAIT)" -eq 0 ] &&
	    [ "$(live_count client FIN_WAIT2)" -eq 0 ]' 2
	wait_for '[ "$(live_trace_count close)" -ge "$closes" ]' 1
}

scenario_run()
{
	send_close_paused c1 6
	resume_until_gone resume1 "resume: oneshot reads, replies, closes" 1
	mark part2 "part 2: protocol echo, 100000 bytes, then close()"
	ctl pause
	ctl set protocol echo
	send_close_paused c2 100000
	resume_until_gone resume2 "resume: echo reads 64 KiB, writes, reads, writes" 2
}

# cba_before_accept LANE FILTER...: such a row on the connection, then
# acceptd's accept of it: the order by their times.
cba_before_accept()
{
	scn_q order "$@" 'then' app event=accept
}

scenario_check()
{
	window start part2
	check "the client's FIN arrives before any accept: the server's kernel moves the child ESTABLISHED→CLOSE_WAIT the instant it comes (within 1 ms of the FIN on the wire)" \
	    kernel_q order -t 0.1 -W 1 wire from=client 'flags~F' 'then' kernel \
	    event=state side=server from=ESTABLISHED to=CLOSE_WAIT
	check "... and that state change comes before acceptd's accept (by their times)" \
	    kernel_q order kernel event=state side=server to=CLOSE_WAIT 'then' app event=accept
	check "sampled before the accept: the child in CLOSE_WAIT with Recv-Q = 6 bytes + 1 (FIN)" \
	    cba_before_accept kernel-sample event=socket side=server state=CLOSE_WAIT recv_q=7
	check "the client's socket, orphaned by close(), reaches FIN_WAIT2 when its FIN is ACKed (kernel event) ..." \
	    kernel_q order kernel event=state side=client from=FIN_WAIT1 to=FIN_WAIT2 'then' kernel event=state side=client from=FIN_WAIT2 to=CLOSE
	check "... then lives on as a time-wait socket in FIN_WAIT2 (the event says CLOSE; sampled: FIN_WAIT2)" \
	    scn_q order kernel event=state side=client from=FIN_WAIT2 to=CLOSE 'then' kernel-sample event=socket side=client state=FIN_WAIT2
	check "on the wire: data, ACK, FIN, ACK, all before acceptd's accept" \
	    wire_q order wire from=client 'flags~D' 'then' wire from=server 'flags~^\.$' 'then' wire from=client 'flags~F' 'then' wire from=server 'flags~^\.$' 'then' app event=accept
	window start resume1
	check "while paused acceptd accepted nothing" trace_count accept -eq 0

	window resume1 part2
	check "after resume (oneshot): accept, read 6, write 6, close" \
	    trace_order accept 'read:^6$' 'write:^6$' close
	check "the reply reaches the client's orphaned socket, which answers RST" \
	    wire_order 'server:D' 'client:R'
	check "the seed's question, why the RST: the client's kernel sends it with reason TCP_TIMEWAIT_SOCKET, the socket in TIME_WAIT (a time-wait socket, no longer a full one)" \
	    kernel_seen rst-sent side=client reason=TCP_TIMEWAIT_SOCKET state=TIME_WAIT
	check "... in answer to the reply: the reply, then that rst-sent, then the RST on the wire" \
	    kernel_q order -t 0.1 wire from=server 'flags~D' 'then' kernel event=rst-sent side=client reason=TCP_TIMEWAIT_SOCKET 'then' wire from=client 'flags~R'
	check "the server's child receives it (rst-received) and goes CLOSE_WAIT→CLOSE" \
	    kernel_q order -t 0.1 kernel event=rst-received side=server 'then' kernel event=state side=server from=CLOSE_WAIT to=CLOSE
	check "the server sends no FIN: the RST closed its socket before close()" \
	    wire_count server F -eq 0
	check "... by their times: the server's socket CLOSE_WAIT→CLOSE, then acceptd's close()" \
	    kernel_q order kernel event=state side=server from=CLOSE_WAIT to=CLOSE 'then' app event=close

	window part2 end
	check "echo part: sampled before the accept, CLOSE_WAIT with Recv-Q = 100000 + 1" \
	    cba_before_accept kernel-sample event=socket side=server state=CLOSE_WAIT recv_q=100001
	window resume2 end
	check "after resume (echo): the first write succeeds, the client answers RST" \
	    wire_order 'server:D' 'client:R'
	check "... the kernel's reason again TCP_TIMEWAIT_SOCKET (TIME_WAIT)" \
	    kernel_seen rst-sent side=client reason=TCP_TIMEWAIT_SOCKET state=TIME_WAIT
	check "... and the next write fails with EPIPE" \
	    trace_order accept 'read:^65536$' write 'error:^write EPIPE'

	window
	check "every RST came from the client's side: none from the server's kernel" \
	    kernel_count rst-sent -eq 0 side=server
	check "the RSTs are counted in Tcp OutRsts (the namespace's own counter)" \
	    counter OutRsts -ge 2
	check "not in TCPAbortOnData: the orphan had become a FIN_WAIT2 timewait socket" \
	    counter TCPAbortOnData -eq 0
}

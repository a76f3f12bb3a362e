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

scenario_check()
{
	window start resume1
	check "client close() before accept: the server child is CLOSE_WAIT, Recv-Q = 6 bytes + 1 (FIN)" \
	    kernel_seen server CLOSE_WAIT 7
	check "... and the client's socket, orphaned by close(), sits in FIN_WAIT2" \
	    kernel_seen client FIN_WAIT2
	check "the kernel ACKed the data and the FIN; acceptd accepted nothing" \
	    trace_count accept -eq 0
	check "on the wire: data, ACK, FIN, ACK, all before any accept" \
	    wire_order 'client:D' 'server:^\.$' 'client:F' 'server:^\.$'

	window resume1 part2
	check "after resume (oneshot): accept, read 6, write 6, close" \
	    trace_order accept 'read:^6$' 'write:^6$' close
	check "the reply reaches the client's orphaned socket, which answers RST" \
	    wire_order 'server:D' 'client:R'
	check "the server sends no FIN: the RST closed its socket before close()" \
	    wire_count server F -eq 0

	window part2 resume2
	check "echo part: CLOSE_WAIT with Recv-Q = 100000 + 1 before accept" \
	    kernel_seen server CLOSE_WAIT 100001
	window resume2 end
	check "after resume (echo): the first write succeeds, the client answers RST" \
	    wire_order 'server:D' 'client:R'
	check "... and the next write fails with EPIPE" \
	    trace_order accept 'read:^65536$' write 'error:^write EPIPE'

	window
	check "the RSTs are counted in Tcp OutRsts (the namespace's own counter)" \
	    counter OutRsts -ge 2
	check "not in TCPAbortOnData: the orphan had become a FIN_WAIT2 timewait socket" \
	    counter TCPAbortOnData -eq 0
}

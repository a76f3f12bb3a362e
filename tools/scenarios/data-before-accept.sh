# purpose: paused: the client's data is ACKed before accept, waits in Recv-Q, is read at once after resume
# One client connects and sends 1000 bytes while acceptd accepts nothing:
# the server's kernel ACKs them and keeps them in the child's receive
# buffer.  After resume acceptd (oneshot) accepts and reads the 1000 bytes
# in the same breath, with no new packet from the client.
# shellcheck shell=bash disable=SC2016,SC2034

DBA_BYTES=1000

scenario_config()
{
	echo "workers 1"
	echo "paused yes"
	echo "protocol oneshot"
}

scenario_run()
{
	client_open c1
	client_send_bytes c1 "$DBA_BYTES"
	wait_for '[ "$(live_queue)" -eq 1 ]' 2
	wait_for 'dba_recvq_is "$DBA_BYTES"' 2
	mark resume "resume: acceptd may accept now"
	ctl resume
	wait_for '[ "$(live_trace_count close)" -ge 1 ]' 2
	client_read c1 1
	client_close c1
	wait_for '[ "$(live_count server ESTABLISHED)" -eq 0 ]' 1
}

# dba_recvq_is N: the server child's Recv-Q is N now (records a sample).
dba_recvq_is()
{
	[ "$(live_max server ESTABLISHED recv_q)" -eq "$1" ]
}

scenario_check()
{
	local ack=$((DBA_BYTES + 1))
	check "connect() and send() of $DBA_BYTES bytes both succeeded" \
	    client_seen c1 sent
	check "the kernel view, by time: the server child held the $DBA_BYTES bytes in its Recv-Q (sampled) before acceptd's accept" \
	    scn_q order kernel-sample event=socket side=server state=ESTABLISHED "recv_q=$DBA_BYTES" 'then' app event=accept
	check "the kernel: the child was ESTABLISHED (SYN_RECV→ESTABLISHED) before acceptd's accept" \
	    kernel_q order kernel event=state side=server from=SYN_RECV to=ESTABLISHED 'then' app event=accept
	check "on the wire: handshake, then the data, and the server's kernel ACKed all $DBA_BYTES bytes (ack $ack), all before acceptd's accept" \
	    wire_q order wire from=client 'flags~^S$' 'then' wire from=server 'flags~^S\.$' 'then' wire from=client 'flags~D' 'then' wire from=server flags=. "ack=$ack" 'then' app event=accept
	window start resume
	check "while paused, acceptd accepted nothing" trace_count accept -eq 0
	check "... and the child sat in the accept queue (sampled queue 1)" sample_queue -eq 1
	window resume end
	check "after resume: accept, read $DBA_BYTES, write $DBA_BYTES (oneshot), close" \
	    trace_order accept "read:^$DBA_BYTES\$" "write:^$DBA_BYTES\$" close
	check "the client sent no data after resume: the read came from the receive buffer" \
	    wire_count client D -eq 0
	check "the client got its $DBA_BYTES bytes back, then EOF" \
	    client_seen c1 eof
}

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

# dba_acked N: a pure ACK from the server acknowledging N bytes (relative
# ack N + 1) inside the window.
dba_acked()
{
	scn_need_wire || return 1
	scn_q first wire from=server flags=. "ack=$(($1 + 1))"
}

scenario_check()
{
	check "connect() and send() of $DBA_BYTES bytes both succeeded" \
	    client_seen c1 sent
	window start resume
	check "while paused, acceptd accepted nothing" trace_count accept -eq 0
	check "while paused, the server child is ESTABLISHED with Recv-Q = $DBA_BYTES (unread, in the kernel)" \
	    sample_seen server ESTABLISHED "$DBA_BYTES"
	check "... and it sits in the accept queue" sample_queue -eq 1
	if have_wire; then
		check "on the wire: handshake, then the data, before any accept" \
		    wire_order 'client:^S$' 'server:^S\.$' 'client:^\.$' 'client:D'
		check "the server's kernel ACKed all $DBA_BYTES bytes (ack $((DBA_BYTES + 1))) with nobody accepting" \
		    dba_acked "$DBA_BYTES"
	fi
	window resume end
	check "after resume: accept, read $DBA_BYTES, write $DBA_BYTES (oneshot), close" \
	    trace_order accept "read:^$DBA_BYTES\$" "write:^$DBA_BYTES\$" close
	check "the read followed the accept at once: the bytes were already there" \
	    trace_order -W 100 accept read
	if have_wire; then
		check "the client sent no data after resume: the read came from the receive buffer" \
		    wire_count client D -eq 0
	fi
	check "the client got its $DBA_BYTES bytes back, then EOF" \
	    client_seen c1 eof
}

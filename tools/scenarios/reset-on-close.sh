# purpose: close-mode reset: the server's close() sends RST instead of FIN: no TIME_WAIT, the client gets ECONNRESET
# protocol oneshot (read one request, reply, close).  Part 1, close-mode
# reset (SO_LINGER {1, 0}): the reply, then RST; the client reads the
# reply, then ECONNRESET; no TIME_WAIT anywhere.  Part 2, close-mode
# graceful, for contrast: the reply, then FIN; the client reads the reply,
# then EOF; the server, which closed first, holds TIME_WAIT.
# shellcheck shell=bash disable=SC2016,SC2034
scenario_needs=root

scenario_config()
{
	echo "workers 1"
	echo "protocol oneshot"
	echo "close-mode reset"
}

# One request: connect, send, read until EOF or RST.
rc_request()
{
	client_open "$1"
	client_send "$1" 'ping\n'
	client_read "$1" 1
}

scenario_run()
{
	counters_snapshot reset
	mark reset "close-mode reset: c1 sends a request"
	rc_request c1
	# c1 closes too, as c2 will: a FIN exchange would leave TIME_WAIT on
	# the side that closed first, so its absence below means something.
	client_close c1
	wait_for '[ "$(live_count server ESTABLISHED)" -eq 0 ] &&
	    [ "$(live_count client ESTABLISHED)" -eq 0 ] &&
	    [ "$(live_count client CLOSE_WAIT)" -eq 0 ]' 2
	counters_snapshot graceful
	mark graceful "close-mode graceful: c2 sends a request"
	ctl set close-mode graceful
	rc_request c2
	wait_for '[ "$(live_count client CLOSE_WAIT)" -eq 1 ]' 1
	client_close c2
	wait_for '[ "$(live_count server TIME_WAIT)" -eq 1 ] &&
	    [ "$(live_count client LAST_ACK)" -eq 0 ]' 2
	counters_snapshot end
}

scenario_check()
{
	window reset graceful
	check "acceptd: accept, read, write the reply, then reset-sent and close" \
	    trace_order accept read write reset-sent close
	check "on the wire: the reply, then RST from the server" \
	    wire_order 'server:D' 'server:R'
	check "... and no FIN from the server" wire_count server F -eq 0
	check "the kernel: close() with SO_LINGER {1, 0} takes the server's socket ESTABLISHED→CLOSE at once, no FIN_WAIT1" \
	    kernel_q order -t 0.1 kernel event=state side=server from=ESTABLISHED to=CLOSE 'then' kernel event=rst-sent side=server
	check "... and sends the RST with reason TCP_STATE, the socket already CLOSE (tcp_disconnect resets a synchronized connection it aborts)" \
	    kernel_seen rst-sent side=server reason=TCP_STATE state=CLOSE
	check "... never FIN_WAIT1" kernel_count state -eq 0 side=server to=FIN_WAIT1
	check "the client's kernel receives it (rst-received) and goes ESTABLISHED→CLOSE" \
	    kernel_q order -t 0.1 kernel event=rst-received side=client 'then' kernel event=state side=client from=ESTABLISHED to=CLOSE
	check "the client reads the reply, then ECONNRESET" \
	    client_detail reset 'read [1-9][0-9]* B, then ECONNRESET'
	check "no TIME_WAIT on the server side (sampled: a time-wait socket has no events)" \
	    sample_count_max server TIME_WAIT -eq 0
	check "... nor on the client side: the RST ends both at once" \
	    sample_count_max client TIME_WAIT -eq 0
	check "the RST is counted in Tcp OutRsts" counter_between reset graceful OutRsts -eq 1
	check "... and, oddly named, in TcpExt TCPAbortOnData (zero-linger close)" \
	    counter_between reset graceful TCPAbortOnData -eq 1
	check "not in TCPAbortOnClose (that one is close() with unread data)" \
	    counter_between reset graceful TCPAbortOnClose -eq 0

	window graceful end
	check "graceful: the reply, then FIN from the server" \
	    wire_order 'server:D' 'server:F'
	check "... and no RST at all" wire_count any R -eq 0
	check "... the kernel sent none (no rst-sent)" kernel_count rst-sent -eq 0
	check "the server's socket, closing first: ESTABLISHED→FIN_WAIT1→FIN_WAIT2, then →CLOSE as a time-wait socket takes its place" \
	    kernel_q order kernel event=state side=server from=ESTABLISHED to=FIN_WAIT1 'then' kernel event=state side=server from=FIN_WAIT1 to=FIN_WAIT2 'then' kernel event=state side=server from=FIN_WAIT2 to=CLOSE
	check "the client reads the reply, then EOF" \
	    client_detail eof 'read [1-9][0-9]* B, then EOF'
	check "the client's socket: ESTABLISHED→CLOSE_WAIT at the server's FIN, CLOSE_WAIT→LAST_ACK when it closes" \
	    kernel_q order kernel event=state side=client from=ESTABLISHED to=CLOSE_WAIT 'then' kernel event=state side=client from=CLOSE_WAIT to=LAST_ACK
	check "the server, which closed first, holds TIME_WAIT (sampled)" \
	    sample_count server TIME_WAIT -eq 1
	check "no RST counted" counter_between graceful end OutRsts -eq 0
}

# purpose: seed case 4: close() with no data before accept: normal close within tcp_fin_timeout, RST after it
# Part A: the client connects and closes while acceptd is paused; the
# server child waits in CLOSE_WAIT, the client's orphan in FIN_WAIT2.  On
# resume acceptd (oneshot) reads EOF and closes: FIN, ACK, the client ends
# in TIME_WAIT, no RST.  Part B: the same with tcp_fin_timeout 1 in the
# namespace; the FIN_WAIT2 orphan expires silently (no packet), and the
# server's FIN after resume reaches a port with no socket: RST.
# shellcheck shell=bash disable=SC2016,SC2034
scenario_needs=root

scenario_config()
{
	echo "workers 1"
	echo "paused yes"
	echo "protocol oneshot"
}

# cbae_close_paused NAME: connect and close() while paused, then wait
# until the kernel shows CLOSE_WAIT on the server side and FIN_WAIT2 on the
# client side.
cbae_close_paused()
{
	client_open "$1"
	client_close "$1"
	wait_for '[ "$(live_count server CLOSE_WAIT)" -eq 1 ] &&
	    [ "$(live_count client FIN_WAIT2)" -eq 1 ]' 2
}

scenario_run()
{
	sysctl_ns net.ipv4.tcp_fin_timeout 60
	cbae_close_paused c1
	mark resumeA "part A: resume within tcp_fin_timeout (60 s)"
	ctl resume
	wait_for '[ "$(live_count server CLOSE_WAIT)" -eq 0 ] &&
	    [ "$(live_count server LAST_ACK)" -eq 0 ] &&
	    [ "$(live_count client TIME_WAIT)" -eq 1 ]' 2
	wait_for '[ "$(live_trace_count close)" -ge 1 ]' 1

	mark partB "part B: tcp_fin_timeout 1, close(), wait past it"
	ctl pause
	sysctl_ns net.ipv4.tcp_fin_timeout 1
	cbae_close_paused c2
	mark fw2 "client FIN_WAIT2, server CLOSE_WAIT: now wait"
	wait_for '[ "$(live_count client FIN_WAIT2)" -eq 0 ]' 4
	mark resumeB "part B: resume past the timeout"
	ctl resume
	wait_for '[ "$(live_trace_count close)" -ge 2 ] &&
	    [ "$(live_count server LAST_ACK)" -eq 0 ] &&
	    [ "$(live_count server CLOSE_WAIT)" -eq 0 ]' 2
}

# cbae_states_last: the window's last kernel sample has the server child
# still in CLOSE_WAIT and no client socket in FIN_WAIT2.
cbae_states_last()
{
	scn_q value last kernel-sample event=listen server.CLOSE_WAIT -eq 1 &&
	    scn_q value last kernel-sample event=listen client.FIN_WAIT2 -eq 0
}

# cbae_fw2_life NAME LO HI: NAME's FIN_WAIT2 socket was gone between LO
# and HI ms after its close().
cbae_fw2_life()
{
	scn_q order -x -G "$2" -W "$3" client "name=$1" event=closed 'then' \
	    kernel-sample event=gone "conn=@$1" side=client state=FIN_WAIT2
}

scenario_check()
{
	window start partB
	check "A: client close() with no data, before accept: the server's child ESTABLISHED→CLOSE_WAIT (kernel event), before acceptd's accept" \
	    kernel_q order kernel event=state side=server from=ESTABLISHED to=CLOSE_WAIT 'then' app event=accept
	check "A: ... sampled before the accept: CLOSE_WAIT, Recv-Q 1 (the FIN)" \
	    scn_q order kernel-sample event=socket side=server state=CLOSE_WAIT recv_q=1 'then' app event=accept
	check "A: the client's orphan: FIN_WAIT1→FIN_WAIT2, then FIN_WAIT2→CLOSE at once: a time-wait socket takes its place" \
	    kernel_q order -W 5 kernel event=state side=client from=FIN_WAIT1 to=FIN_WAIT2 'then' kernel event=state side=client from=FIN_WAIT2 to=CLOSE
	window start resumeA
	check "A: ... which the sampler shows in FIN_WAIT2" sample_seen client FIN_WAIT2
	check "A: acceptd accepted nothing" trace_count accept -eq 0
	window resumeA partB
	check "A: after resume: accept, EOF, close" trace_order accept eof close
	check "A: on the wire the server's FIN, then the client's ACK: a normal close" \
	    wire_order 'server:F' 'client:^\.$'
	check "A: no RST on the wire" wire_count any R -eq 0
	check "A: ... and the kernel sent none (no rst-sent)" kernel_count rst-sent -eq 0
	check "A: the server's socket CLOSE_WAIT→LAST_ACK→CLOSE: its FIN was ACKed" \
	    kernel_q order kernel event=state side=server from=CLOSE_WAIT to=LAST_ACK 'then' kernel event=state side=server from=LAST_ACK to=CLOSE
	check "A: the client's time-wait socket goes to TIME_WAIT (no event for that: sampled)" \
	    sample_seen client TIME_WAIT

	window partB end
	check "B: again ESTABLISHED→CLOSE_WAIT before accept (kernel event)" \
	    kernel_q order kernel event=state side=server from=ESTABLISHED to=CLOSE_WAIT 'then' app event=accept
	window partB resumeB
	check "B: sampled before accept: CLOSE_WAIT, Recv-Q 1" \
	    sample_seen server CLOSE_WAIT 1
	check "B: the client's FIN_WAIT2 orphan expired about tcp_fin_timeout (1 s) after close() (sampled: a time-wait socket's end has no event)" \
	    cbae_fw2_life c2 900 2500
	window fw2 resumeB
	check "B: at resume the server child is still CLOSE_WAIT, the client's FIN_WAIT2 is gone" \
	    cbae_states_last
	check "B: the expiry sent nothing: no packet at all until resume" \
	    wire_count any . -eq 0
	check "B: ... and the kernel reported no RST and no state change" \
	    kernel_q count kernel event~'^(rst-sent|state)$' -eq 0
	window resumeB end
	check "B: after resume: accept, EOF, close, as in part A" \
	    trace_order accept eof close
	check "B: the server's FIN reaches a port with no socket and draws RST" \
	    wire_order 'server:F' 'client:R'
	check "B: the kernel's reason: NO_SOCKET (sent for no socket, hence no state)" \
	    kernel_seen rst-sent side=client reason=NO_SOCKET
	check "B: the server's socket: CLOSE_WAIT→LAST_ACK, then RST received, LAST_ACK→CLOSE" \
	    kernel_q order -t 0.1 kernel event=state side=server to=LAST_ACK 'then' kernel event=rst-sent side=client reason=NO_SOCKET 'then' kernel event=rst-received side=server 'then' kernel event=state side=server from=LAST_ACK to=CLOSE
	check "B: exactly one RST, and no ACK of the FIN" wire_count client . -eq 1
	window
	check "the RST is counted in Tcp OutRsts" counter OutRsts -ge 1
}

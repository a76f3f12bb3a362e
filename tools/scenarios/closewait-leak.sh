# purpose: close-mode never: each closed client leaves a CLOSE_WAIT socket behind; drop close-wait clears them
# Four clients in turn send a line, read the echo and close().  acceptd
# reads each EOF and, with close-mode never, keeps the socket: CLOSE_WAIT
# grows 1, 2, 3, 4 while the clients' orphans wait in FIN_WAIT2.  Then
# A fifth client connects and closes with `reading off`: acceptd never
# reads its FIN, so its CLOSE_WAIT socket shows Recv-Q 1.  Then
# `acceptctl drop close-wait` closes all five: five FINs, five ACKs, and
# the clients' side goes to TIME_WAIT.
# shellcheck shell=bash disable=SC2016,SC2034
scenario_needs=root

CW_N=4

scenario_config()
{
	echo "workers 1"
	echo "protocol echo"
	echo "close-mode never"
	echo "idle-timeout 60s"
}

scenario_run()
{
	local i
	# The orphans must outlive the run: 60 s is the kernel's default,
	# set here so the host's value does not matter.
	sysctl_ns net.ipv4.tcp_fin_timeout 60
	for i in $(seq 1 "$CW_N"); do
		mark "c$i" "c$i: request, reply, close()"
		client_open "c$i"
		client_send "c$i" 'ping\n'
		client_read "c$i" 0.2
		client_close "c$i"
		wait_for '[ "$(live_count server CLOSE_WAIT)" -eq "$i" ] &&
		    [ "$(live_count client FIN_WAIT2)" -eq "$i" ]' 2
	done
	i=$((CW_N + 1))
	mark unread "reading off: c$i connects and closes; its FIN stays unread"
	ctl set reading off
	client_open "c$i"
	client_close "c$i"
	wait_for '[ "$(live_count server CLOSE_WAIT)" -eq "$i" ] &&
	    [ "$(live_count client FIN_WAIT2)" -eq "$i" ]' 2
	mark drop "acceptctl drop close-wait"
	ctl drop close-wait
	wait_for '[ "$(live_count server CLOSE_WAIT)" -eq 0 ] &&
	    [ "$(live_count server LAST_ACK)" -eq 0 ] &&
	    [ "$(live_count client TIME_WAIT)" -eq "$i" ]' 2
}

# cw_echoes N: clients that read their 5-byte echo ("ping\n") back and
# only then closed.
cw_echoes()
{
	scn_q order -n -eq "$1" client event=open 'text~^read 5 B' 'then' \
	    client event=closed
}

scenario_check()
{
	local i next all=$((CW_N + 1))
	for i in $(seq 1 "$CW_N"); do
		next=c$((i + 1))
		[ "$i" -eq "$CW_N" ] && next=unread
		window "c$i" "$next"
		check "after client $i closed: $i server socket(s) in CLOSE_WAIT (sampled)" \
		    sample_count server CLOSE_WAIT -eq "$i"
		check "... the kernel moved client $i's server socket ESTABLISHED→CLOSE_WAIT at its FIN" \
		    kernel_q order -t 0.1 -W 1 wire from=client 'flags~F' 'then' kernel event=state side=server from=ESTABLISHED to=CLOSE_WAIT
	done
	window start unread
	check "each client read its 5-byte echo back, then closed" cw_echoes "$CW_N"
	check "acceptd read every EOF (read() returned 0) ..." trace_count eof -eq "$CW_N"
	check "... and closed nothing" trace_count close -eq 0
	check "... so no server socket left CLOSE_WAIT (kernel)" \
	    kernel_count state -eq 0 side=server from=CLOSE_WAIT
	check "the FIN was read, so Recv-Q is 0, not 1 (FIN consumed by read())" \
	    sample_seen server CLOSE_WAIT 0
	check "the clients' orphans: FIN_WAIT1→FIN_WAIT2, all $CW_N (kernel)" \
	    kernel_count state -eq "$CW_N" side=client from=FIN_WAIT1 to=FIN_WAIT2
	check "... and they wait there, as time-wait sockets, all $CW_N (sampled)" \
	    sample_count client FIN_WAIT2 -eq "$CW_N"
	check "on the wire only the clients sent FINs" wire_count server F -eq 0
	check "... $CW_N of them" wire_count client F -eq "$CW_N"

	window unread drop
	check "reading off: acceptd accepted c$all ..." trace_count accept -eq 1
	check "... but read nothing: no EOF seen" trace_count eof -eq 0
	check "... yet the kernel took its socket to CLOSE_WAIT all the same" \
	    kernel_count state -eq 1 side=server from=ESTABLISHED to=CLOSE_WAIT
	check "... where it shows Recv-Q 1: the unread FIN (sampled)" \
	    sample_seen server CLOSE_WAIT 1
	check "$all sockets in CLOSE_WAIT now (sampled)" sample_count server CLOSE_WAIT -eq "$all"

	window drop end
	check "drop close-wait closed the $all connections" trace_count drop -eq "$all"
	check "the server now sends its FINs, also where the FIN was unread" \
	    wire_count server F -eq "$all"
	check "the kernel: each server socket CLOSE_WAIT→LAST_ACK, then LAST_ACK→CLOSE when its FIN is ACKed" \
	    kernel_q order -n -eq "$all" kernel event=state side=server from=CLOSE_WAIT to=LAST_ACK 'then' kernel event=state side=server from=LAST_ACK to=CLOSE
	check "no RST: the orphans in FIN_WAIT2 accept the FIN" wire_count any R -eq 0
	check "... the kernel sent none (no rst-sent)" kernel_count rst-sent -eq 0
	check "each orphan ACKs the FIN" wire_order -a 'server:F' 'client:^\.$'
	check "the clients' sockets move to TIME_WAIT (sampled: a time-wait socket has no events)" \
	    sample_count client TIME_WAIT -eq "$all"
	check "no CLOSE_WAIT left" sample_count_last server CLOSE_WAIT -eq 0
	check "no FIN_WAIT2 left" sample_count_last client FIN_WAIT2 -eq 0
}

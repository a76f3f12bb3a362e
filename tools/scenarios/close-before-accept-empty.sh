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
	local row
	row=$(scn_listen_rows | tail -n 1)
	[ -n "$row" ] || { echo "no kernel sample in the window"; return 1; }
	printf '%s\n' "$row" | scn_show
	case " $(echo "$row" | cut -d, -f11) " in
	*" client.FIN_WAIT2="*) return 1 ;;
	*" server.CLOSE_WAIT=1 "*) return 0 ;;
	esac
	return 1
}

# cbae_fw2_life NAME LO HI: NAME's FIN_WAIT2 socket was gone between LO
# and HI ms after its close().
cbae_fw2_life()
{
	local port tclose tlast tgone
	port=$(awk -F, -v c="$1" '$2 == c && $3 == "connected" {
	    sub(/.*:/, "", $4); print $4; exit }' "$OUT/clients.csv")
	tclose=$(awk -F, -v c="$1" '$2 == c && $3 == "closed" { print $1; exit }' "$OUT/clients.csv")
	if [ -z "$port" ] || [ -z "$tclose" ]; then
		echo "$1: no port or no close()"
		return 1
	fi
	tlast=$(awk -F, -v p="127.0.0.1:$port" '$2 == "conn" && $3 == "client" &&
	    $4 == "FIN_WAIT2" && $7 == p { t = $1 } END { print t }' "$OUT/kernel.csv")
	[ -n "$tlast" ] || { echo "$1 (:$port): never seen in FIN_WAIT2"; return 1; }
	# the first sample after tlast without that socket
	tgone=$(awk -F, -v p="127.0.0.1:$port" -v a="$tlast" '
	    $1 > a && $2 == "listen" { if (t != "" && !seen) { print t; exit }
		t = $1; seen = 0 }
	    $1 > a && $2 == "conn" && $7 == p { seen = 1 }
	    END { if (t != "" && !seen) print t }' "$OUT/kernel.csv" | head -n 1)
	[ -n "$tgone" ] || { echo "$1 (:$port): FIN_WAIT2 never went away"; return 1; }
	awk -v c="$tclose" -v l="$tlast" -v g="$tgone" -v lo="$2" -v hi="$3" -v p="$port" 'BEGIN {
		l = (l - c) * 1000; g = (g - c) * 1000
		printf "client :%s after close(): FIN_WAIT2 last seen at +%.0f ms, gone at +%.0f ms (want gone in %d..%d ms)\n", p, l, g, lo, hi
		exit !(g >= lo && g <= hi)
	}'
}

scenario_check()
{
	window start resumeA
	check "A: client close() with no data before accept: server child CLOSE_WAIT, Recv-Q 1 (the FIN)" \
	    kernel_seen server CLOSE_WAIT 1
	check "A: ... and the client's orphaned socket in FIN_WAIT2" \
	    kernel_seen client FIN_WAIT2
	check "A: acceptd accepted nothing" trace_count accept -eq 0
	window resumeA partB
	check "A: after resume: accept, EOF, close" trace_order accept eof close
	if have_wire; then
		check "A: on the wire the server's FIN, then the client's ACK: a normal close" \
		    wire_order 'server:F' 'client:^\.$'
		check "A: no RST" wire_count any R -eq 0
	fi
	check "A: the client side ends in TIME_WAIT (it closed first)" \
	    kernel_seen client TIME_WAIT

	window partB resumeB
	check "B: again CLOSE_WAIT (Recv-Q 1) and FIN_WAIT2 before accept" \
	    kernel_seen server CLOSE_WAIT 1
	check "B: the client's FIN_WAIT2 orphan expired about tcp_fin_timeout (1 s) after close()" \
	    cbae_fw2_life c2 900 2500
	window fw2 resumeB
	check "B: at resume the server child is still CLOSE_WAIT, the client's FIN_WAIT2 is gone" \
	    cbae_states_last
	if have_wire; then
		check "B: the expiry sent nothing: no RST, no packet at all until resume" \
		    wire_count any . -eq 0
	fi
	window resumeB end
	check "B: after resume: accept, EOF, close, as in part A" \
	    trace_order accept eof close
	if have_wire; then
		check "B: the server's FIN reaches a port with no socket and draws RST" \
		    wire_order 'server:F' 'client:R'
		check "B: exactly one RST, and no ACK of the FIN" wire_count client . -eq 1
	fi
	window
	check "the RST is counted in Tcp OutRsts" counter OutRsts -ge 1
}

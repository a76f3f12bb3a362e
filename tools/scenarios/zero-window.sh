# purpose: reading off: the receive buffer fills, the window closes to 0, the client probes and its send blocks; reading on reopens it
# protocol discard, reading off.  One client writes ZW_BYTES; the server's
# receive buffer fills, its advertised window falls to 0, the client's
# persist timer sends zero-window probes at growing intervals and its
# write() blocks with its send buffer full.  Then `set reading on`: acceptd
# drains the buffer, the server announces the open window, the rest flows.
# shellcheck shell=bash disable=SC2016,SC2034
scenario_needs=root

ZW_BYTES=262144
ZW_HOLD_S=2.5

# The sysctls are set here, before acceptd starts: a listening socket takes
# its buffer size from tcp_rmem when it is created, and its children
# inherit it.  A new namespace copies the host's tcp_rmem, so without this
# the sizes would be the host's.
scenario_config()
{
	sysctl_ns net.ipv4.tcp_rmem "4096 65536 65536"
	sysctl_ns net.ipv4.tcp_wmem "4096 65536 65536"
	echo "workers 1"
	echo "protocol discard"
	echo "reading off"
}

# Recv-Q or Send-Q (FIELD) of SIDE's ESTABLISHED socket now.
zw_q()
{
	live_max "$1" ESTABLISHED "$2"
}

# An Ethernet-sized MTU, so that the window shrinks in visible steps,
# and a 10 Mbit/s pace, so that tcpdump keeps up with every packet.
zw_link()
{
	ip link set lo mtu 1500 && run_set setting "ip link set lo mtu 1500" &&
	    note "lo: mtu 1500"
	tc_ns qdisc add dev lo root tbf rate 10mbit burst 3000 limit 1000000 &&
	    note "lo: paced at 10 Mbit/s (tbf)"
}

scenario_run()
{
	# The kernel answers a segment outside the window (a probe) at most
	# once per tcp_invalid_ratelimit ms: the checks need its value.
	run_set tcp_invalid_ratelimit \
	    "$(cat /proc/sys/net/ipv4/tcp_invalid_ratelimit 2>/dev/null)"
	counters_snapshot zw-start
	zw_link
	client_open c1
	mark send "reading off: c1 writes $ZW_BYTES bytes"
	scn_client_cmd c1 sendn "$ZW_BYTES" 0.2
	wait_for '[ "$(zw_q server recv_q)" -gt 30000 ] &&
	    [ "$(zw_q client send_q)" -gt 30000 ]' 3
	mark full "buffers full; the client's write() blocks; it probes"
	wait_for 'false' "$ZW_HOLD_S"
	mark on "set reading on"
	ctl set reading on
	client_wait c1 sent 3
	wait_for '[ "$(zw_q server recv_q)" -eq 0 ] &&
	    [ "$(zw_q client send_q)" -eq 0 ]' 2
	tc_ns qdisc del dev lo root 2>/dev/null
	counters_snapshot zw-end
}

# A TcpExt counter's change over the run.
zw_counter()
{
	counter_between zw-start zw-end "$@"
}

# The window scale the server announced in its SYN-ACK.
zw_wscale()
{
	SCN_WIN='' scn_q rows -c wscale wire from=server flags=S. | sed -n 2p
}

# Server pure ACKs in the window as "time_ms,ack,win" rows.
zw_server_acks()
{
	scn_q rows -c time_ms,ack,win wire from=server flags=. | tail -n +2
}

zw_shrinks()
{
	local rows n
	scn_need_wire || return
	rows=$(zw_server_acks | awk -F, '
	    { print; if ($3 + 0 == 0) { zero = 1; exit } }
	    END { if (!zero) print "no win 0" }')
	n=$(printf '%s\n' "$rows" | awk -F, 'NR > 1 && $3 + 0 < p { d++ } { p = $3 + 0 }
	    END { print d + 0 }')
	echo "the server's window fell $n times on its way to 0 (want $1 $2);" \
	    "win is the raw field: times 2^$(zw_wscale) (its SYN-ACK's wscale):"
	echo "  time_ms,ack,win"
	printf '%s\n' "$rows" | tail -n 8 | sed 's/^/  /'
	printf '%s\n' "$rows" | grep -q 'no win 0' && return 1
	scn_cmp "$n" "$1" "$2"
}

# Client pure ACKs sent after the window closed: the probes.  Each gap
# must be at least 1.5 times the one before (exponential backoff).
zw_probes()
{
	scn_need_wire || return
	scn_q rows -c time_ms,from,flags,len,win wire | awk -F, -v want="$1" '
	    NR == 1 { next }
	    $2 == "server" && $5 == "0" { closed = 1 }
	    closed && $2 == "client" && $3 == "." && $4 == "0" {
		n++
		if (n > 1) { g = $1 - t; printf "  probe %d at %.1f ms, %.0f ms after the one before\n", n, $1, g
			if (n > 2 && g < 1.5 * pg) bad = 1; pg = g }
		else printf "  probe 1 at %.1f ms\n", $1
		t = $1 }
	    END { printf "%d probes (want >= %d)%s\n", n, want, bad ? ", gaps not growing" : ""
		  exit !(n >= want && !bad) }'
}

# zw_probe_table: each zero-window probe (a client pure ACK after the
# server's window closed), whether the server's kernel dropped it (its
# reason) and answered it (a pure ACK with win 0 within 50 ms), and, for
# one not answered, how long after the previous answer it came: the
# kernel answers out-of-window segments at most once per
# tcp_invalid_ratelimit ms.  A last line: "answered A unanswered U bad B"
# (B: probes not dropped as TCP_OLD_SEQUENCE, or unanswered although the
# limit had passed).
zw_probe_table()
{
	local limit
	limit=$(scn_run_value tcp_invalid_ratelimit)
	{
		scn_q rows -c time_ms,from,flags,len,win wire | tail -n +2 |
		    sed 's/^\([^,]*\),/\1,wire,/'
		scn_q rows -c time_ms,reason kernel event=drop side=server |
		    tail -n +2 | sed 's/^\([^,]*\),/\1,drop,/'
	} | sort -t, -k1,1g | awk -F, -v limit="${limit:-500}" '
	function settle() {
		if (!pending) return
		if (dropped != "TCP_OLD_SEQUENCE") bad++
		if (answered_at) {
			a++; last = answered_at
			printf "  probe %d at %.1f ms: drop %s, answered win 0 %.1f ms later\n", n, pt, dropped, answered_at - pt
		} else {
			u++
			since = last ? pt - last : -1
			if (since < 0 || since >= limit) bad++
			printf "  probe %d at %.1f ms: drop %s, not answered (%.0f ms after the last answer; the limit is %d ms)\n", n, pt, dropped, since, limit
		}
		pending = 0
	}
	$2 == "wire" && $3 == "server" && $6 == "0" && !closed { closed = 1; last = $1 }
	$2 == "wire" && closed && $3 == "client" && $4 == "." && $5 == "0" {
		settle(); n++; pending = 1; pt = $1; dropped = "none"; answered_at = 0; next }
	$2 == "drop" && pending && $1 - pt < 5 { dropped = $3 }
	$2 == "wire" && pending && $3 == "server" {
		if ($4 == "." && $6 == "0" && $1 - pt < 50 && !answered_at) answered_at = $1 }
	END { settle(); printf "answered %d unanswered %d bad %d\n", a, u, bad }'
}

# zw_answers N: at least N probes were answered with win 0, each probe
# was dropped (TCP_OLD_SEQUENCE: it carries an old sequence number on
# purpose), and every one not answered fell within the rate limit.
zw_answers()
{
	local t a bad
	scn_need_wire || return
	scn_need_kernel || return
	t=$(zw_probe_table)
	printf '%s\n' "$t" | sed '$d'
	read -r _ a _ _ _ bad < <(printf '%s\n' "$t" | tail -n 1)
	echo "$a probes answered (want >= $1); $bad not as the kernel's rules say"
	[ "${a:-0}" -ge "$1" ] && [ "${bad:-1}" -eq 0 ]
}

# zw_skipped: TCPACKSkippedSeq rose by the number of probes not answered
# while the window was closed (send..on; the counters are the run's).
zw_skipped()
{
	local u
	scn_need_wire || return
	scn_need_kernel || return
	u=$(SCN_WIN=send,on zw_probe_table | tail -n 1 | awk '{ print $4 }')
	echo "$u probe(s) not answered (rate limit)"
	zw_counter TCPACKSkippedSeq -eq "${u:--1}"
}

# SIDE's ESTABLISHED socket had FIELD (recv_q, send_q) above N.
zw_kq()
{
	scn_q value max kernel-sample event=socket "side=$1" state=ESTABLISHED \
	    "$2" -gt "$3"
}

# The first server packet after reading on: a pure ACK opening the window.
zw_update()
{
	local row
	scn_need_wire || return
	row=$(scn_q rows -c time_ms,flags,len,win wire from=server | sed -n 2p)
	echo "first server packet after reading on (time_ms,flags,len,win):"
	echo "  $row"
	printf '%s\n' "$row" | awk -F, '$2 == "." && $3 == 0 && $4 > 0 { ok = 1 } END { exit !ok }'
}

zw_bytes_read()
{
	local n
	n=$(scn_q rows -c detail app event=read | awk 'NR > 1 { s += $1 } END { print s + 0 }')
	echo "acceptd read $n bytes in all (want $1 $2)"
	scn_cmp "$n" "$1" "$2"
}

scenario_check()
{
	window send on
	check "the server's advertised window shrinks step by step to 0" zw_shrinks -ge 3
	check "the client sends zero-window probes, at growing intervals" zw_probes 3
	check "the server's kernel drops each probe (drop TCP_OLD_SEQUENCE: a probe reuses an acknowledged sequence number) and answers it with 'win 0', unless within tcp_invalid_ratelimit of its last answer" \
	    zw_answers 2
	check "the server's Recv-Q holds what nobody reads (> 30000 bytes)" \
	    zw_kq server recv_q 30000
	check "the client's Send-Q holds what it may not send (> 30000 bytes)" \
	    zw_kq client send_q 30000
	check "the client's write() has not returned" client_count sent -eq 0
	check "acceptd read nothing" trace_count read -eq 0
	window on end
	check "reading on: the server's first packet is a window update (pure ACK, win > 0)" \
	    zw_update
	check "... then the client's data flows again" wire_count client D -ge 1
	check "the client's write() of $ZW_BYTES bytes returns" client_seen c1 sent
	window
	check "acceptd read all $ZW_BYTES bytes" zw_bytes_read -eq "$ZW_BYTES"
	check "the kernel counts the closing of the window (TCPToZeroWindowAdv)" \
	    zw_counter TCPToZeroWindowAdv -ge 1
	check "... and its reopening (TCPFromZeroWindowAdv)" \
	    zw_counter TCPFromZeroWindowAdv -ge 1
	check "... and the client's window probes (TCPWinProbe)" \
	    zw_counter TCPWinProbe -ge 3
	check "... and the probes its rate limit left unanswered (TCPACKSkippedSeq)" \
	    zw_skipped
}

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

# Recv-Q or Send-Q (COLUMN) of SIDE's ESTABLISHED socket now.
zw_q()
{
	scn_live_jq --arg side "$1" \
	    "[.connections[] | select(.side == \$side and .state == \"ESTABLISHED\") | .$2] | max // -1"
}

# An Ethernet-sized MTU, so that the window shrinks in visible steps,
# and a 10 Mbit/s pace, so that tcpdump keeps up with every packet.
zw_link()
{
	ip link set lo mtu 1500 && note "lo: mtu 1500"
	tc qdisc add dev lo root tbf rate 10mbit burst 3000 limit 1000000 &&
	    note "lo: paced at 10 Mbit/s (tbf)"
}

# The namespace's TcpExt counters, as "name value" lines.
zw_netstat()
{
	awk '$1 == "TcpExt:" { if (!h) { split($0, k); h = 1; next }
	    split($0, v); for (i = 2; i in k; i++) print k[i], v[i] }' \
	    /proc/net/netstat >"$OUT/netstat-$1.txt"
}

scenario_run()
{
	zw_netstat start
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
	tc qdisc del dev lo root 2>/dev/null
	zw_netstat end
}

# A TcpExt counter's change over the run.
zw_counter()
{
	local a b
	a=$(awk -v n="$1" '$1 == n { print $2 }' "$OUT/netstat-start.txt" 2>/dev/null)
	b=$(awk -v n="$1" '$1 == n { print $2 }' "$OUT/netstat-end.txt" 2>/dev/null)
	if [ -z "$a" ] || [ -z "$b" ]; then
		echo "TcpExt $1: not in /proc/net/netstat"
		return 1
	fi
	echo "TcpExt $1 rose by $((b - a)) (want $2 $3)"
	scn_cmp "$((b - a))" "$2" "$3"
}

# The window scale the server announced in its SYN-ACK.
zw_wscale()
{
	tcpdump -r "$OUT/capture.pcap" -nn 2>/dev/null |
	    sed -n 's/.*Flags \[S\.\].*wscale \([0-9]*\).*/\1/p' | head -n 1
}

# Server pure ACKs in the window as "time,win" rows.
zw_server_acks()
{
	scn_wire_rows server '^\.$' | awk -F, '{ print $1 "," $8 }'
}

zw_shrinks()
{
	local rows n
	scn_need_wire || return 1
	rows=$(scn_wire_rows server '^\.$' | awk -F, '
	    { w = $8 + 0; print; if (w == 0) { zero = 1; exit } }
	    END { if (!zero) print "no win 0" }')
	n=$(printf '%s\n' "$rows" | awk -F, 'NR > 1 && $8 + 0 < p { d++ } { p = $8 + 0 }
	    END { print d + 0 }')
	echo "the server's window fell $n times on its way to 0 (want $1 $2);" \
	    "win is the raw field: times 2^$(zw_wscale) (its SYN-ACK's wscale):"
	printf '%s\n' "$rows" | tail -n 8 | scn_show
	printf '%s\n' "$rows" | grep -q 'no win 0' && return 1
	scn_cmp "$n" "$1" "$2"
}

# Client pure ACKs sent after the window closed: the probes.  Each gap
# must be at least 1.5 times the one before (exponential backoff).
zw_probes()
{
	local rows
	scn_need_wire || return 1
	rows=$(scn_rows "$OUT/wire.csv" | awk -F, -v port="$PORT" '
	    { n = split($2, s, "."); srv = (s[n] == port) }
	    srv && $8 == 0 { closed = 1 }
	    closed && !srv && $4 == "." && $7 == 0 { print }')
	printf '%s\n' "$rows" | awk -F, -v want="$1" '
	    NF { n++; if (n > 1) { g = $1 - t; printf "probe %d, %.0f ms after the one before\n", n, g * 1000
		 if (n > 2 && g < 1.5 * pg) bad = 1; pg = g } else print "probe 1"; t = $1 }
	    END { printf "%d probes (want >= %d)%s\n", n, want, bad ? ", gaps not growing" : ""
		  exit !(n >= want && !bad) }'
}

# SIDE's socket had COLUMN (5 recv_q, 6 send_q) above N in some sample.
zw_kq()
{
	local row
	row=$(scn_rows "$OUT/kernel.csv" | awk -F, -v s="$1" -v c="$2" -v n="$3" \
	    '$2 == "conn" && $3 == s && $(c) > n + 0' | sort -t, -k"$2" -n | tail -n 1)
	[ -n "$row" ] || { echo "no $1 socket with column $2 above $3"; return 1; }
	echo "time,kind,side,state,recv_q,send_q:"
	printf '%s\n' "$row" | cut -d, -f1-6 | scn_show
}

# The first server packet after reading on: a pure ACK opening the window.
zw_update()
{
	local row
	scn_need_wire || return 1
	row=$(scn_wire_rows server . | head -n 1)
	echo "first server packet after reading on:"
	printf '%s\n' "$row" | scn_show
	printf '%s\n' "$row" | awk -F, '$4 == "." && $7 == 0 && $8 > 0 { ok = 1 } END { exit !ok }'
}

zw_bytes_read()
{
	local n
	n=$(scn_rows "$OUT/app.csv" | awk -F, '$5 == "read" { s += $6 } END { print s + 0 }')
	echo "acceptd read $n bytes in all (want $1 $2)"
	scn_cmp "$n" "$1" "$2"
}

scenario_check()
{
	window send on
	check "the server's advertised window shrinks step by step to 0" zw_shrinks -ge 3
	check "the client sends zero-window probes, at growing intervals" zw_probes 3
	check "the server answers probes with 'win 0'" \
	    expect "$(zw_server_acks | awk -F, '$2 == 0' | wc -l)" -ge 2 "server ACKs with win 0"
	check "the server's Recv-Q holds what nobody reads (> 30000 bytes)" \
	    zw_kq server 5 30000
	check "the client's Send-Q holds what it may not send (> 30000 bytes)" \
	    zw_kq client 6 30000
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
}

# Shell helpers the tests (tests/lib.sh) and the scenarios
# (tools/scenarios/lib.sh) share.  Sourced by bash.
#
#   now_ms                     milliseconds, from the shell's own clock
#   wait_for 'CONDITION' SECS  poll until CONDITION holds: 0, or 1 when
#                              SECS run out (every WAIT_POLL_S seconds,
#                              default 0.05, and never more tries than
#                              that makes)
#   alive PID                  running, and not a zombie to be reaped
#   free_port                  a TCP port on 127.0.0.1 that nobody uses,
#                              below the ephemeral range (no outgoing
#                              connection takes it meanwhile); 1 if none
#   accept_exclusive ACCEPTD   0 when that build takes "accept exclusive";
#                              1 on a backend without an exclusive wake-up
#                              (kqueue), where acceptd -n refuses it
#
# CONDITION is evaluated inside wait_for, so it sees the caller's variables
# but not its positional parameters; the odd local names keep them from
# being shadowed.
# shellcheck shell=bash

now_ms()
{
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

wait_for()
{
	local _wf_cond=$1 _wf_poll=${WAIT_POLL_S:-0.05} _wf_ms _wf_end
	local _wf_tries=0 _wf_max
	_wf_ms=$(awk -v s="$2" 'BEGIN { printf "%d", s * 1000 }')
	_wf_max=$(awk -v s="$2" -v p="$_wf_poll" \
	    'BEGIN { printf "%d", s / p + 2 }')
	_wf_end=$(($(now_ms) + _wf_ms))
	while [ "$_wf_tries" -lt "$_wf_max" ]; do
		eval "$_wf_cond" && return 0
		[ "$(now_ms)" -ge "$_wf_end" ] && return 1
		_wf_tries=$((_wf_tries + 1))
		sleep "$_wf_poll"
	done
	return 1
}

alive()
{
	local st
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

free_port()
{
	local lo hi p tries=0
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range
	hi=$((lo - 1))
	lo=10000
	[ "$hi" -gt $((lo + 1000)) ] || { lo=61000; hi=65000; }
	while [ "$tries" -lt 100 ]; do
		p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
		if [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]; then
			echo "$p"
			return 0
		fi
		tries=$((tries + 1))
	done
	return 1
}

accept_exclusive()
{
	local f st
	f=$(mktemp "${TMPDIR:-/tmp}/acceptd-probe.XXXXXX") || return 1
	echo "accept exclusive" >"$f"
	"$1" -n -f "$f" >/dev/null 2>&1
	st=$?
	rm -f "$f"
	return "$st"
}

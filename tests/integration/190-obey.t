#!/usr/bin/env bash
# Issue 9, "obey exactly": one group of checks per numbered finding that
# the control path must get right (F1, F6, F7, F8, F9, F10, F11, F13).
# Each group starts its own daemon, so one finding's damage cannot hide or
# fake another's.
# shellcheck disable=SC2016,SC2034,SC2119,SC2317
. tests/lib.sh
need_cmd jq socat

plan 43

REQ='GET / HTTP/1.1\r\nHost: t\r\n\r\n'
REQ10='GET / HTTP/1.0\r\n\r\n'

# --- helpers ---------------------------------------------------------------

# Worker N's pid as status -j says.
status_pid()
{
	jctl ".workers[] | select(.id == $1) | .pid" status
}

# A field of /proc/PID/status.
proc_field()
{
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# Bit SIG of a hex signal mask is set.
sig_in_mask()
{
	[ -n "$1" ] && [ $(( (16#$1 >> ($2 - 1)) & 1 )) -eq 1 ]
}

# A worker's signal dispositions are a worker's: nothing blocked, SIGHUP
# never caught (no master handler in a worker) but ignored.  Prints what
# is wrong, nothing when all is well.
worker_signal_faults()
{
	local p blk cgt ign
	for p in $(worker_pids); do
		blk=$(proc_field "$p" SigBlk)
		cgt=$(proc_field "$p" SigCgt)
		ign=$(proc_field "$p" SigIgn)
		[ -n "$blk" ] || continue	# gone meanwhile
		[ $((16#$blk)) -eq 0 ] || echo "pid $p SigBlk $blk"
		sig_in_mask "$cgt" 1 && echo "pid $p SigCgt $cgt has SIGHUP"
		sig_in_mask "$ign" 1 || echo "pid $p SigIgn $ign lacks SIGHUP"
	done
}

# /proc/PID/cmdline with its NULs taken out.
cmdline()
{
	tr -d '\0' <"/proc/$1/cmdline" 2>/dev/null
}

# One request on a new connection; what comes back (3 s at most).
ask()
{
	printf '%b' "$1" | run_bounded 3 nc -N 127.0.0.1 "$PORT" 2>/dev/null
}

# --- F1: pipelined scale with a stopped, then killed worker --------------
# Two workers in one slot: the killed worker's exit must not count as the
# answer to STOP and then spawn a second replacement.

ok "F1: acceptd starts with 2 workers" start_acceptd "$(base_conf)
workers 2
protocol http
shutdown-timeout 2s" || t_abort "acceptd did not start"
wait_for '[ "$(worker_pids | wc -l)" -eq 2 ] && tracked' 3
w1=$(status_pid 1)
if [ -z "$w1" ] || [ "$w1" = 0 ]; then
	t_abort "no pid for worker 1"
fi
kill -STOP "$w1"

rm -f "$T_DIR/f1.in"
mkfifo "$T_DIR/f1.in"
exec 4<>"$T_DIR/f1.in"		# one control connection, held open
timeout -k 1 20 socat - "UNIX-CONNECT:$CTL_SOCK" <"$T_DIR/f1.in" \
    >"$T_DIR/f1.out" 2>&1 &
t_bg $!
printf 'scale 1\nscale 2\n' >&4
# Kill it once the master has taken "scale 1" in; if that is never seen,
# kill it anyway: the case is still worth checking.
wait_for 'ctl config | grep -qx "workers 1" ||
    [ "$(jctl "(.retiring // []) | length" status)" -gt 0 ] 2>/dev/null' 2
kill -KILL "$w1"
answers()
{
	grep -cE '^(ok|error)' "$T_DIR/f1.out"
}
if wait_for '[ "$(answers)" -ge 2 ]' 8; then
	pass "F1: both pipelined scale commands are answered"
else
	fail "F1: both pipelined scale commands are answered"
fi
diag "F1 answers: $(tr '\n' '|' <"$T_DIR/f1.out")"
exec 4>&-
ok "F1: every child of the master is listed in status" wait_for tracked 5 ||
    { diag_tracked; diag "titles:" "$(worker_titles)"; }
is "$(jctl '.workers | length' status)" 2 "F1: status lists exactly 2 workers"
ok "F1: pause exits 0" ctl pause
body=$(run_bounded 5 curl -s --max-time 1 "http://127.0.0.1:$PORT/")
st=$?
is "$st:$body" "28:" "F1: after pause a new request gets no reply (curl times out)"
is "$(jctl '[.workers[].state] | unique | join(" ")' status)" paused \
    "F1: every worker's state is paused"
stop_acceptd TERM 5

# --- F7: response-delay takes effect in order -----------------------------
# One worker, so both requests wait in the same delayed list.

ok "F7: acceptd starts (1 worker)" start_acceptd "$(base_conf)
workers 1
protocol http
shutdown-timeout 1s" || t_abort "acceptd did not start"
ok "F7: set response-delay 5s" ctl set response-delay 5s
exec {conn_a}<>"/dev/tcp/127.0.0.1/$PORT"
printf '%b' "$REQ" >&"$conn_a"
# A's request must be in the worker (and its reply scheduled) first.
wait_for '[ "$(jctl "[.workers[].bytes_in] | add" workers)" -gt 0 ]' 3
ok "F7: set response-delay 1s" ctl set response-delay 1s
exec {conn_b}<>"/dev/tcp/127.0.0.1/$PORT"
printf '%b' "$REQ" >&"$conn_b"
# Whichever reply comes first; a tie within one poll counts as A first.
first=
i=0
while [ -z "$first" ] && [ "$i" -lt 240 ]; do
	if read -r -t 0 -u "$conn_a"; then
		first=A
	elif read -r -t 0 -u "$conn_b"; then
		first=B
	else
		sleep 0.05
	fi
	i=$((i + 1))
done
is "$first" B "F7: B (after set response-delay 1s) is answered before A (5s)"
exec {conn_a}<&- {conn_b}<&-
stop_acceptd TERM 5

# --- F8: a worker waiting to respawn shows as respawning, pid 0 ----------

ok "F8: acceptd starts (1 worker)" start_acceptd "$(base_conf)
workers 1
protocol http" || t_abort "acceptd did not start"
wait_for '[ "$(status_pid 0)" -gt 0 ] 2>/dev/null' 3
: >"$T_DIR/f8.seen"

# Note worker 0's row while its pid is 0; true once it runs again.
w0_respawned()
{
	local row
	row=$(jctl '.workers[] | select(.id == 0) | "\(.pid) \(.state)"' \
	    status)
	case $row in
	"0 "*)	echo "$row" >>"$T_DIR/f8.seen"; return 1 ;;
	"$old "*|"") return 1 ;;
	esac
	return 0
}

# Kill each new worker as soon as it runs: each lives under 2 s, so the
# backoff doubles (100, 200, 400 ms ...) until a wait has been watched.
kills=0
while [ "$kills" -lt 8 ] && [ ! -s "$T_DIR/f8.seen" ]; do
	old=$(status_pid 0)
	if [ -z "$old" ] || [ "$old" -le 0 ]; then
		break
	fi
	kill -KILL "$old"
	kills=$((kills + 1))
	WAIT_POLL_S=0.02 wait_for w0_respawned 12 || break
done
diag "F8: $kills kills; rows seen while waiting: $(sort <"$T_DIR/f8.seen" | uniq -c | tr -s ' \n' ' ')"
ok "F8: the waiting window was seen (pid 0 in status)" test -s "$T_DIR/f8.seen"
is "$(awk '{ print $2 }' "$T_DIR/f8.seen" | sort -u | tr '\n' ' ')" \
    "respawning " "F8: while waiting to respawn its state is respawning"
wait_for '[ "$(jctl "[.workers[].state] | join(\" \")" status)" = accepting ]' 15
is "$(jctl '[.workers[].state] | join(" ")' status)" accepting \
    "F8: once the backoff is over it accepts again"
stop_acceptd TERM 5

# --- F9: the fd table is not pre-sized by max-connections ----------------

ok "F9: acceptd starts (2 workers, max-connections 1048576)" \
    start_acceptd "$(base_conf)
workers 2
max-connections 1048576" || t_abort "acceptd did not start"
wait_for '[ "$(jctl "[.workers[].state] | join(\" \")" status)" = "accepting accepting" ]' 3
is "$(ask "$REQ10" | head -n 1 | tr -d '\r')" "HTTP/1.1 200 OK" "F9: it serves"
rss=
for p in $(worker_pids); do
	rss="$rss $(proc_field "$p" VmRSS)"
done
diag "F9: workers' VmRSS (kB):$rss"
# Two figures, each under 16384 kB.
small()
{
	awk -v l="$1" 'BEGIN { n = split(l, a, " "); if (n != 2) exit 1
	    for (i = 1; i <= n; i++) if (a[i] + 0 >= 16384) exit 1 }'
}
ok "F9: each worker's VmRSS is under 16 MB" small "$rss"
stop_acceptd TERM 5

# --- F10: reload answers once every worker applied it --------------------

f10_conf()
{
	write_conf "$(base_conf)
workers 2
shutdown-timeout 1s
protocol $1"
}

# What one request gets back matches protocol $1.
f10_match()
{
	local got
	got=$(ask "$REQ10" | tr -d '\r' | head -n 1)
	case $1 in
	echo)	[ "$got" = "GET / HTTP/1.0" ] ;;
	http)	[ "${got#HTTP/1.1 200}" != "$got" ] ;;
	esac || { echo "protocol $1, got '$got'"; return 1; }
}

ok "F10: acceptd starts (2 workers, http)" start_acceptd "$(base_conf)
workers 2
shutdown-timeout 1s
protocol http" || t_abort "acceptd did not start"
wait_for '[ "$(worker_pids | wc -l)" -eq 2 ]' 3

# A stopped worker cannot apply it: reload must still be waiting.
w1=$(status_pid 1)
kill -STOP "$w1"
f10_conf echo
(ctl reload >"$T_DIR/f10.out" 2>&1; echo $? >"$T_DIR/f10.rc") &
t_bg $!
if wait_for '[ -s "$T_DIR/f10.rc" ]' 0.5; then
	fail "F10: reload does not answer while worker 1 is stopped"
	diag "answered: $(cat "$T_DIR/f10.out")"
else
	pass "F10: reload does not answer while worker 1 is stopped"
fi
kill -CONT "$w1"
wait_for '[ -s "$T_DIR/f10.rc" ]' 5
is "$(cat "$T_DIR/f10.rc" 2>/dev/null)" 0 "F10: ... and exits 0 once it is running again"

bad=
rounds=0
for proto in http echo http echo http echo http echo http echo; do
	f10_conf "$proto"
	rounds=$((rounds + 1))
	if ! ctl reload >/dev/null; then
		bad="$bad|round $rounds: reload failed"
		continue
	fi
	for n in 1 2 3; do
		why=$(f10_match "$proto") || bad="$bad|round $rounds.$n: $why"
	done
done
is "$bad" "" "F10: in $rounds reloads, each new connection right after ok speaks the new protocol"
stop_acceptd TERM 5

# --- F11: signals blocked across fork, unblocked in the worker ----------

ok "F11: acceptd starts (2 workers)" start_acceptd "$(base_conf)
workers 2
protocol http
shutdown-timeout 1s" || t_abort "acceptd did not start"
# N workers running and accepting: each past its start-up, where signals
# may still be blocked.
all_accepting()
{
	[ "$(worker_pids | wc -l)" -eq "$1" ] &&
	    [ "$(jctl '[.workers[].state] | unique | join(" ")' status)" = accepting ] &&
	    [ "$(jctl '.workers | length' status)" -eq "$1" ]
}
wait_for 'all_accepting 2' 3
is "$(worker_signal_faults)" "" \
    "F11: after start: workers block nothing, ignore SIGHUP, never catch it"
ok "F11: scale 4" ctl scale 4
ok "F11: 4 workers accepting" wait_for 'all_accepting 4' 3
is "$(worker_signal_faults)" "" "F11: after scale 4: the same for all 4"

# The storm: 50 SIGHUPs (each a reload of "workers 2") while scale 1 and
# scale 4 alternate 5 times.
(
	i=0
	while [ "$i" -lt 50 ]; do
		kill -HUP "$ACCEPTD_PID" 2>/dev/null || break
		sleep 0.02
		i=$((i + 1))
	done
) &
hups=$!
t_bg "$hups"
codes=
for i in 1 2 3 4 5; do
	ctl scale 1 >/dev/null 2>&1
	codes="$codes $?"
	ctl scale 4 >/dev/null 2>&1
	codes="$codes $?"
done
wait "$hups"
diag "F11: scale exit codes during the storm:$codes"
unlike "$codes" '(^| )(2|12[0-9]|13[0-9])( |$)' \
    "F11: during the storm every scale got an answer"
ok "F11: the master lives through the storm" alive "$ACCEPTD_PID"
# Back to calm: nobody retiring, as many workers as the config says, all
# accepting and tracked.
settled()
{
	local n
	n=$(ctl config | awk '$1 == "workers" { print $2 }')
	[ -n "$n" ] && tracked &&
	    [ "$(jctl '(.retiring // []) | length' status)" -eq 0 ] &&
	    all_accepting "$n"
}
wait_for settled 10
ok "F11: after the storm every child of the master is listed" \
    wait_for tracked 5 ||
    diag_tracked
is "$(jctl '.workers | length' status)" \
    "$(ctl config | awk '$1 == "workers" { print $2 }')" \
    "F11: status lists as many workers as the config says"
ok "F11: status answers" eval 'ctl status >/dev/null'
is "$(worker_signal_faults)" "" "F11: workers forked during the storm: the same"
stop_acceptd TERM 5

# --- F13: clean process titles, whatever the path of the binary ----------

deep=$T_DIR/a-directory-with-a-rather-long-name/and-then-another-one/bin
mkdir -p "$deep"
cp "$ACCEPTD" "$deep/acceptd"
orig_acceptd=$ACCEPTD
ACCEPTD=$deep/acceptd
diag "F13: binary path is ${#ACCEPTD} characters"
ok "F13: acceptd starts by a long path (2 workers)" start_acceptd "$(base_conf)
workers 2" || t_abort "acceptd did not start"
ACCEPTD=$orig_acceptd
titles_clean()
{
	[ "$(cmdline "$ACCEPTD_PID")" = "acceptd: master" ] || return 1
	[ "$(cmdline "$(status_pid 0)")" = "acceptd: worker 0 (accepting)" ] &&
	    [ "$(cmdline "$(status_pid 1)")" = "acceptd: worker 1 (accepting)" ]
}
wait_for titles_clean 3
is "$(cmdline "$ACCEPTD_PID")" "acceptd: master" \
    "F13: the master's cmdline is exactly 'acceptd: master'"
is "$(cmdline "$(status_pid 0)")|$(cmdline "$(status_pid 1)")" \
    "acceptd: worker 0 (accepting)|acceptd: worker 1 (accepting)" \
    "F13: the workers' are exactly 'acceptd: worker N (accepting)'"
stop_acceptd TERM 5

# --- F6: reload after daemonizing with a relative -f ---------------------
# Started without -d: it forks, its parent exits, it chdirs to /.  Its pid
# comes from the pidfile; t_cleanup stops it (T_ALL_DAEMONS) if we die.

abs_acceptd=$(cd "$(dirname "$ACCEPTD")" && pwd -P)/$(basename "$ACCEPTD")
mkdir -p "$T_DIR/f6"
printf '%s\n' "$(base_conf)
workers 1
protocol http
shutdown-timeout 1s" >"$T_DIR/f6/acceptd.conf"
(cd "$T_DIR/f6" && run_bounded 5 "$abs_acceptd" -f acceptd.conf \
    </dev/null >"$T_DIR/f6.log" 2>&1)
is "$?" 0 "F6: acceptd -f acceptd.conf (relative, daemonized) exits 0 in front"
wait_for '[ -s "$T_DIR/acceptd.pid" ] && alive "$(cat "$T_DIR/acceptd.pid")"' 3
dpid=$(tr -d ' \n' <"$T_DIR/acceptd.pid" 2>/dev/null)
[ -n "$dpid" ] && T_ALL_DAEMONS="$T_ALL_DAEMONS $dpid"
wait_for 'listening "$PORT"' 3
ok "F6: the daemon runs and listens (pid $dpid)" eval 'alive "$dpid" && listening "$PORT"' ||
    t_abort "daemonized acceptd did not start: $(cat "$T_DIR/f6.log")"
printf '%s\n' "$(base_conf)
workers 1
protocol echo
shutdown-timeout 1s" >"$T_DIR/f6/acceptd.conf"
out=$(ctl reload 2>&1)
st=$?
is "$st" 0 "F6: acceptctl reload exits 0"
unlike "$out" 'cannot open' "F6: ... and does not say 'cannot open'"
echo_ok()
{
	[ "$(printf 'ping\n' | run_bounded 3 nc -N 127.0.0.1 "$PORT")" = ping ]
}
ok "F6: the reloaded file applies (protocol echo)" wait_for echo_ok 3
ok "F6: acceptctl stop exits 0" ctl stop
ok "F6: the daemon exits, removing its pidfile" \
    wait_for '! alive "$dpid" && [ ! -e "$T_DIR/acceptd.pid" ]' 5

done_testing

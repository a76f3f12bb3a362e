#!/usr/bin/env bash
# acceptctl trace tells the kernel's own account (issue 11): the seed's
# case 3 (a client sends its request and closes before anyone accepts;
# the server answers late) shows the server's socket going to CLOSE_WAIT
# before the accept, and the client's RST after it with the kernel's
# reason, in time order among the workers' events.  Not root and no
# tracefs each say so in one line; the tracefs instance lives only while
# someone traces, and one left by a killed daemon is removed.
# shellcheck disable=SC2016,SC2034,SC2119
. tests/lib.sh

need_cmd jq
TRACEFS=/sys/kernel/tracing

# The first line of a trace: why the kernel's events are missing.
unavailable_line()
{
	local sock=$1 out=$2
	shift 2
	run_bounded 2 "$@" "${T_CTL:-$ACCEPTCTL}" -s "$sock" trace >"$out" 2>&1
	sed -n 2p "$out"
}

if [ "$(id -u)" -ne 0 ]; then
	plan 2
	ok "acceptd starts" start_acceptd "$(base_conf)
workers 1" || t_abort "acceptd did not start"
	like "$(unavailable_line "$CTL_SOCK" "$T_DIR/t.txt")" \
	    '^[0-9:.]+  kernel +kernel events unavailable: the daemon is not root \(tracefs needs root\)$' \
	    "not root: one line says the kernel's events are unavailable and why"
	stop_acceptd
	exit
fi
# As root the kernel's events are the point: tracefs missing is a failure.
[ -d "$TRACEFS/instances" ] ||
    bail_out "tracefs is not mounted at $TRACEFS (make check mounts it)"
command -v unshare >/dev/null 2>&1 || bail_out "unshare missing (util-linux)"
id nobody >/dev/null 2>&1 || bail_out "user nobody missing"

plan 18

# jq as a condition: its answer is not TAP.
jq_true()
{
	jq "$@" >/dev/null
}

instances()
{
	local d
	for d in "$TRACEFS/instances/acceptd.$1".*; do
		[ -d "$d" ] && echo "${d##*/}"
	done
	return 0
}

# A daemon killed while traced leaves its instance; the next one to trace
# removes it.
binaries_for_others
odir=$(mktemp -d "${TMPDIR:-/tmp}/acceptd-ke.XXXXXX") || bail_out "mktemp"
chmod 0777 "$odir"
oport=$(free_port)
printf 'listen 127.0.0.1:%s\nworkers 1\ncontrol %s/c.sock\npidfile %s/p.pid\n' \
    "$oport" "$odir" "$odir" >"$odir/a.conf"
"$OTHERS_ACCEPTD" -d -f "$odir/a.conf" 2>"$odir/log" &
opid=$!
t_bg "$opid"
wait_for '[ -S "$odir/c.sock" ]' 5
"$ACCEPTCTL" -s "$odir/c.sock" trace >/dev/null 2>&1 &
t_bg $!
ok "a tracer makes the daemon's own instance" \
    wait_for '[ -n "$(instances "$opid")" ]' 5
kill -KILL "$opid"
wait "$opid" 2>/dev/null
wait_for '[ -z "$(pgrep -f "$odir/a.conf")" ]' 5

ok "acceptd starts" start_acceptd "$(base_conf)
workers 1" || t_abort "acceptd did not start"
"$ACCEPTCTL" -s "$CTL_SOCK" -j trace >"$T_DIR/trace.json" 2>&1 &
jpid=$!
t_bg "$jpid"
"$ACCEPTCTL" -s "$CTL_SOCK" trace >"$T_DIR/trace.txt" 2>&1 &
tpid=$!
t_bg "$tpid"
wait_for '[ -n "$(instances "$ACCEPTD_PID")" ]' 5
is "$(instances "$ACCEPTD_PID" | wc -l)" 1 \
    "two tracers, one instance: acceptd.PID.N"
ok "the killed daemon's instance is gone" \
    wait_for '[ -z "$(instances "$opid")" ]' 5 || ls "$TRACEFS/instances" >&2

# The seed's case 3.
ctl pause >/dev/null
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET / HTTP/1.0\r\n\r\n' >&3
exec 3>&-
closewait='select(.source == "kernel" and .event == "state" and
    .local == "127.0.0.1:'"$PORT"'" and .to == "CLOSE_WAIT")'
ok "the server's socket reaches CLOSE_WAIT while nobody accepts" \
    wait_for '[ -n "$(jq -c "$closewait" "$T_DIR/trace.json")" ]' 5 ||
    diag_file "$T_DIR/trace.json"
ctl resume >/dev/null
rst='select(.source == "kernel" and .event == "rst-sent")'
ok "... then the late answer draws the client's RST" \
    wait_for '[ -n "$(jq -c "$rst" "$T_DIR/trace.json")" ]' 5 ||
    diag_file "$T_DIR/trace.json"
wait_for 'grep -q "rst-sent" "$T_DIR/trace.txt"' 5

cw=$(jq -c "$closewait" "$T_DIR/trace.json" | head -n 1)
client=$(jq -r .peer <<<"$cw")
is "$(jq -r '[.from, .to] | join(">")' <<<"$cw")" "ESTABLISHED>CLOSE_WAIT" \
    "state: from ESTABLISHED to CLOSE_WAIT ($cw)"
accept=$(jq -c --arg p "$client" \
    'select(.event == "accept" and .peer == $p)' "$T_DIR/trace.json")
ok "CLOSE_WAIT came before the worker's accept (times)" \
    jq_true -en --argjson a "$accept" --argjson k "$cw" '$k.time < $a.time'
r=$(jq -c "$rst" "$T_DIR/trace.json" | head -n 1)
is "$(jq -r '[.local, .peer, .reason, .state] | join(" ")' <<<"$r")" \
    "$client 127.0.0.1:$PORT TCP_TIMEWAIT_SOCKET TIME_WAIT" \
    "rst-sent by the client's socket, reason TCP_TIMEWAIT_SOCKET, in TIME_WAIT"
ok "... after the accept (times)" \
    jq_true -en --argjson a "$accept" --argjson k "$r" '$k.time > $a.time'
ok "rst-received by the server's socket, from the client" \
    jq_true -se --arg p "$client" 'any(.event == "rst-received" and
    .local == "127.0.0.1:'"$PORT"'" and .peer == $p)' "$T_DIR/trace.json"
ok "the stream is in time order" \
    jq_true -se 'map(.time) as $t | $t == ($t | sort)' "$T_DIR/trace.json"
like "$(grep rst-sent "$T_DIR/trace.txt")" \
    "^[0-9:.]+  kernel +127\\.0\\.0\\.1:[0-9]+>:$PORT +rst-sent reason=TCP_TIMEWAIT_SOCKET \\(state TIME_WAIT\\)$" \
    "text: 'kernel 127.0.0.1:C>:$PORT rst-sent reason=TCP_TIMEWAIT_SOCKET (state TIME_WAIT)'"
like "$(grep CLOSE_WAIT "$T_DIR/trace.txt" | head -n 1)" \
    "^[0-9:.]+  kernel +127\\.0\\.0\\.1:$PORT>:[0-9]+ +state ESTABLISHED>CLOSE_WAIT$" \
    "text: 'kernel 127.0.0.1:$PORT>:C state ESTABLISHED>CLOSE_WAIT'"

kill -TERM "$jpid" "$tpid" 2>/dev/null
ok "no tracer, no instance" \
    wait_for '[ -z "$(instances "$ACCEPTD_PID")" ]' 5
stop_acceptd

# Without tracefs (a mount namespace where it is an empty tmpfs).
nport=$(free_port)
printf 'listen 127.0.0.1:%s\nworkers 1\ncontrol %s/n.sock\npidfile %s/n.pid\n' \
    "$nport" "$odir" "$odir" >"$odir/n.conf"
unshare -m sh -c 'mount -t tmpfs none "$1" && exec "$2" -d -f "$3"' sh \
    "$TRACEFS" "$OTHERS_ACCEPTD" "$odir/n.conf" 2>"$odir/nlog" &
npid=$!
t_bg "$npid"
wait_for '[ -S "$odir/n.sock" ]' 5
like "$(unavailable_line "$odir/n.sock" "$odir/n.txt")" \
    "^[0-9:.]+  kernel +kernel events unavailable: tracefs is not mounted at $TRACEFS \\(mount -t tracefs nodev $TRACEFS\\)$" \
    "no tracefs: one line says so and how to mount it"
run_bounded 2 "$ACCEPTCTL" -s "$odir/n.sock" -j trace >"$odir/n.json" 2>&1
is "$(jq -r 'select(.source == "kernel") | .event' "$odir/n.json")" \
    "unavailable" "-j: {\"source\":\"kernel\",\"event\":\"unavailable\",...}"
kill -TERM "$npid"
wait "$npid" 2>/dev/null

# Not root.
uport=$(free_port)
printf 'listen 127.0.0.1:%s\nworkers 1\ncontrol %s/u.sock\npidfile %s/u.pid\n' \
    "$uport" "$odir" "$odir" >"$odir/u.conf"
setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups \
    "$OTHERS_ACCEPTD" -d -f "$odir/u.conf" 2>"$odir/ulog" &
upid=$!
t_bg "$upid"
wait_for '[ -S "$odir/u.sock" ]' 5
like "$(T_CTL=$OTHERS_ACCEPTCTL unavailable_line "$odir/u.sock" "$odir/u.txt" setpriv \
    --reuid=nobody --regid="$(id -gn nobody)" --clear-groups)" \
    '^[0-9:.]+  kernel +kernel events unavailable: the daemon is not root \(tracefs needs root\)$' \
    "not root: one line says so and why"
kill -TERM "$upid"
wait "$upid" 2>/dev/null
rm -rf "$odir"

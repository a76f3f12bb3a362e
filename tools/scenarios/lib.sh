# The scenario framework: starts acceptd, records three timelines (wire,
# kernel, acceptd), drives clients, checks.  Sourced by tools/scenario.
#
# A scenario is tools/scenarios/NAME.sh (sourced; bash) plus NAME.md (its
# explanation, pasted into the report).  NAME.sh has a "# purpose: ..."
# line, which `tools/scenario list` shows, and defines:
#
#   scenario_needs=root        optional: skipped when not root (namespace,
#                              sysctl or tcpdump needed); else runs anywhere
#   scenario_needs=exclusive   optional: skipped on a build whose event
#                              backend has no exclusive wake-up (kqueue)
#   scenario_config()          prints config lines added to the base config
#                              (listen, control, pidfile, shutdown-timeout)
#   scenario_run()             drives clients and acceptctl; NOT under set -e:
#                              a failed step shows up in the checks
#   scenario_check()           calls `check` for each expected observation
#
# Every recorder writes into one event log, $OUT/events.tsv (format:
# tools/scenarios/EVENTS.md): monotonic ns, lane, the connection as a full
# address pair, event, key=value fields.  $OUT/run.tsv is the run file.
# tools/scenlog does the data work: kernel sampling, wire and trace
# ingestion, the ladder, the queries below, report.md.  Time runs from
# `mark start` (recorders ready) to `mark end`.
#
# While running (scenario_run):
#   ctl ARGS...                acceptctl -s OURS ARGS; shown as "ctl> ARGS"
#   mark NAME [TEXT]           a named instant (window boundary, ladder rule)
#   note TEXT                  a free row in the ladder's client column
#   wait_for 'COND' SECONDS    eval COND every 20 ms until true (0) or the
#                              deadline (1); never a fixed sleep.  COND sees
#                              your variables, not your $1..$9
#   sysctl_ns NAME VALUE       set a net sysctl; only inside our namespace
#   tc_ns ARGS...              tc, as run_set records it: only inside it
#   PORT, OUT, CTL_SOCK        the daemon's port, output dir, control socket
# Clients (bash /dev/tcp in a background process, driven by command; each
# command waits up to 3 s for its result unless noted):
#   client_open NAME [nowait]  connect(); nowait returns at once
#   client_send NAME TEXT      write TEXT (printf %b escapes: 'GET /\r\n')
#   client_send_bytes NAME N   write N bytes of 'x'
#   client_read NAME [SECS]    read until EOF, RST or SECS (default 1)
#   client_close NAME          close(): no shutdown, no read (the seed's client)
#   client_wait NAME EVENT S   wait up to S seconds for one of its events:
#                              connect connected connect-failed sent
#                              send-failed eof open reset read-failed closed
#   client_port NAME           its local port
#   client_load ARGS...        acceptload -h 127.0.0.1 -p PORT -j ARGS, in the
#                              background (pid in LOAD_PID); its JSON report
#                              in $OUT/load-N.json
# Live kernel and trace views (for wait_for; straight from the kernel):
#   live_queue                 accept-queue length now
#   live_count SIDE STATE      sockets of SIDE (server|client) in STATE now
#   live_max SIDE STATE FIELD  the largest recv_q or send_q of those, or -1
#   live_state SIDE CLIENT     the state of client CLIENT's connection at
#                              SIDE now (ESTABLISHED, ...), or none
#   live_trace_count EVENT     acceptd's trace events so far with that name
#   live_kernel_count EVENT [ERE]  the kernel's events so far with that
#                              name (and a line matching ERE)
#   live_counter NAME          a kernel counter's rise since the run began
#   counters_snapshot NAME     the namespace's TCP counters, for
#                              counter_between
#
# Checking (scenario_check):
#   check DESCRIPTION QUERY... runs QUERY; PASS if it returns 0, SKIP if 3
#                              (a recorder that needs root, not root),
#                              else FAIL; what it printed is the evidence
#   window FROM TO             later queries see only FROM..TO (mark names,
#                              or start / end); `window` alone: everything
#   have_wire, have_kernel     true when the wire / the kernel's events
#                              were recorded
#   scn_q QUERY...             tools/scenlog query in the window (EVENTS.md)
# Queries: OP is a test(1) operator (-eq -ne -ge -gt -le -lt); each prints
# the row(s) that prove or refute it, every column named.  A query that
# needs the wire or the kernel's events FAILs without them as root (a tool
# missing there is a failure, never a pass) and SKIPs, saying why, when
# not root.
#   client_count EVENT OP N    client events named EVENT
#   client_seen NAME EVENT     client NAME had EVENT
#   client_detail EVENT ERE    some client's EVENT text matches ERE
#   wire_count FROM FLAGS OP N packets from FROM (client|server|any) whose
#                              tcpdump flags, with D appended when the packet
#                              carries data, match the ERE FLAGS: '^S$' SYN,
#                              '^S\.$' SYN-ACK, '^\.$' pure ACK, D data,
#                              F FIN, R RST
#   wire_seen FROM FLAGS       the first such packet
#   wire_order [OPT] FROM:FLAGS ...  such packets in this order on one
#                              connection; -a on every connection that has
#                              the first, -n OP N on N of them (scenlog
#                              query order's options)
#   wire_q QUERY...            any scn_q query that needs the wire
# The kernel's own events (lane kernel: state, rst-sent, rst-received,
# synack-retransmit, drop; fields side, from, to, reason, state):
#   kernel_seen EVENT [FILTER...]      the first such event, e.g.
#                              kernel_seen rst-sent side=client reason=NO_SOCKET
#   kernel_count EVENT OP N [FILTER...]  how many
#   kernel_q QUERY...          any scn_q query that needs the kernel's events
# The sampled kernel view (lane kernel-sample; queues, and states between
# events):
#   sample_queue OP N          some sample's accept queue satisfies OP N
#   sample_queue_last OP N     the window's last sample does
#   sample_count SIDE STATE OP N   some sample has that many in STATE
#   sample_count_max SIDE STATE OP N   the most any sample had does
#   sample_count_last SIDE STATE OP N  the window's last sample does
#   sample_seen SIDE STATE [RECVQ] some socket row in STATE (with Recv-Q)
#   trace_count EVENT OP N [DETAIL_ERE]  acceptd trace events
#   trace_seen EVENT [DETAIL_ERE]        the first such event
#   trace_order [OPT] EVENT[:DETAIL_ERE] ...  in this order, one connection
#   counter NAME OP N          kernel counter's rise over the whole run
#   counter_between A B NAME OP N  its rise between snapshots A and B
#   expect VALUE OP N WHAT     anything else
#
# Artifacts in $OUT: events.tsv, run.tsv, report.md, ladder.txt,
# checks.txt, capture.pcap, acceptd.conf, acceptd.log, scenario.md, raw/
# (what the recorders wrote in their own formats).
#
# The shortest scenario:
#   # purpose: paused: connect() succeeds before accept
#   scenario_config() { echo "paused yes"; }
#   scenario_run() { client_open c1; mark resume; ctl resume
#           wait_for '[ "$(live_trace_count accept)" -ge 1 ]' 2; }
#   scenario_check() { window start resume
#           check "no accept while paused" trace_count accept -eq 0; }
# Run it: tools/scenario run NAME (as root in its own network namespace).
# shellcheck shell=bash disable=SC2016,SC2034,SC2119,SC2120

SCN_TOP=${SCN_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# shellcheck source=tools/shell.sh
. "$SCN_TOP/tools/shell.sh"
WAIT_POLL_S=0.02	# scenarios watch the kernel closely
SCN_BUILD=${SCN_BUILD:-$SCN_TOP}
ACCEPTD=$SCN_BUILD/server/acceptd
ACCEPTCTL=$SCN_BUILD/tools/acceptctl
ACCEPTLOAD=$SCN_BUILD/tools/acceptload
SCENLOG=$SCN_BUILD/tools/scenlog
SCN_DIR=$SCN_TOP/tools/scenarios
SCN_SAMPLE_MS=5		# kernel sampling period
SCN_MAX_S=60		# no recorder outlives this

OUT=
PORT=
CTL_SOCK=
RAW=
EVENTS=
SCN_OFF=0			# wall clock minus monotonic, ns
SCN_PIDS=			# background processes to end at cleanup
SCN_TMP=			# the run's temporary folder, removed at cleanup
SCN_DAEMON=
SCN_WIRE=no
SCN_WIN=
SCN_FAILED=0
SCN_SKIPPED=0
SCN_CHECKS=0
SCN_LOADS=0
declare -A CLIENT_FD CLIENT_SEQ CLIENT_DIR

# --- small things ---------------------------------------------------------

scn_die()
{
	echo "scenario: $*" >&2
	exit 1
}

# scn_event LANE CONN EVENT [KEY=VALUE...]: one line of the event log,
# stamped now on the monotonic clock.
scn_event()
{
	local t=${EPOCHREALTIME/[.,]/} line f
	line="$((t * 1000 - SCN_OFF))	$1	$2	$3"
	shift 3
	for f in "$@"; do
		line+="	${f//[$'\t\n']/ }"
	done
	printf '%s\n' "$line" >>"$EVENTS"
}

# run_set KEY VALUE: a line of the run file (a later one wins).
run_set()
{
	printf '%s\t%s\n' "$1" "$2" >>"$OUT/run.tsv"
}

# In a network namespace of our own: not the one of the process that
# started us (tools/scenario re-executes itself under unshare -n, keeping
# its parent).  Asked of the kernel, never of the environment; when the
# kernel cannot tell, the answer is no, and sysctl_ns refuses.
in_namespace()
{
	local ours theirs
	ours=$(readlink "/proc/$BASHPID/ns/net" 2>/dev/null) || return 1
	theirs=$(readlink "/proc/$PPID/ns/net" 2>/dev/null) || return 1
	[ -n "$ours" ] && [ -n "$theirs" ] && [ "$ours" != "$theirs" ]
}

# Queueing disciplines on the namespace's loopback, recorded like the
# sysctls for report.md.
tc_ns()
{
	in_namespace || scn_die "tc $*: refused outside a private network namespace"
	tc "$@" || return 1
	run_set setting "tc $*"
}

sysctl_ns()
{
	in_namespace || scn_die "sysctl_ns $1: refused outside a private network namespace"
	echo "$2" >"/proc/sys/${1//.//}" || scn_die "sysctl_ns $1=$2 failed"
	run_set setting "sysctl $1=$2"
	note "sysctl $1=$2"
}

# --- the daemon -----------------------------------------------------------

# The control socket must fit sun_path (108 bytes): a long output path
# falls back to the run's temporary folder (SCN_TMP, removed at cleanup).
# scn_ctl_path [NAME]: $OUT/NAME.sock (ctl), or $SCN_TMP/NAME.sock.
scn_ctl_path()
{
	local p=$OUT/${1:-ctl}.sock
	[ "${#p}" -le 100 ] || p=$SCN_TMP/${1:-ctl}.sock
	echo "$p"
}

# scn_config_base PORT SOCK PIDFILE: what every scenario daemon's config
# starts with.
scn_config_base()
{
	echo "listen 127.0.0.1:$1"
	echo "control $2"
	echo "pidfile $3"
	echo "shutdown-timeout 1s"
}

scn_write_config()
{
	{
		echo "# written by tools/scenario for $SCN_NAME"
		scn_config_base "$PORT" "$CTL_SOCK" "$OUT/acceptd.pid"
		scenario_config
	} >"$OUT/acceptd.conf"
}

ctl_quiet()
{
	timeout 5 "$ACCEPTCTL" -s "$CTL_SOCK" "$@"
}

# ctl ARGS: an operator action, recorded for the ladder's acceptd column.
ctl()
{
	local st=0
	scn_event control - ctl "text=$*"
	ctl_quiet "$@" >>"$RAW/ctl.out" 2>&1 || st=$?
	[ "$st" -eq 0 ] || scn_event control - ctl-failed "text=$1" "status=$st"
	return "$st"
}

scn_start_daemon()
{
	"$ACCEPTD" -d -f "$OUT/acceptd.conf" >"$OUT/acceptd.log" 2>&1 &
	SCN_DAEMON=$!
	if ! wait_for 'ctl_quiet status >/dev/null 2>&1 || ! alive "$SCN_DAEMON"' 5 ||
	    ! alive "$SCN_DAEMON"; then
		sed 's/^/  acceptd: /' "$OUT/acceptd.log" >&2
		scn_die "acceptd did not answer on $CTL_SOCK within 5 s"
	fi
}

# scn_daemon_stop PID: SIGTERM to an acceptd master, SIGKILL to it and its
# workers if they linger; reaped.
scn_daemon_stop()
{
	local pid=$1 kids
	kids=$(pgrep -P "$pid" 2>/dev/null || true)
	kill -TERM "$pid" 2>/dev/null || true
	# shellcheck disable=SC2086
	wait_for '! alive "$pid"' 3 || kill -KILL "$pid" $kids 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for pid in $kids; do
		wait_for '! alive "$pid"' 1 || kill -KILL "$pid" 2>/dev/null || true
	done
}

# --- recorders ------------------------------------------------------------

# The cleanup registry: processes (scn_bg), the daemon, temporary
# folders (SCN_TMP).  scn_cleanup runs on exit, error and signals.
scn_bg()
{
	SCN_PIDS="$SCN_PIDS $1"
}

# Any of these processes still alive.
scn_any_alive()
{
	local p
	for p in "$@"; do
		alive "$p" && return 0
	done
	return 1
}

# Every process and the daemon get SIGTERM at once; what is left after
# 1.5 s, children included, SIGKILL; then the temporary folders go.
# Background tools run under timeout --foreground: without it timeout
# follows each signal it passes on with a SIGCONT, and a SIGCONT while
# LeakSanitizer stops the process at exit cancels the stop it waits for,
# so the process spins on for ever.
scn_cleanup()
{
	local p all kids=
	all="$SCN_PIDS $SCN_DAEMON"
	for p in $all; do
		alive "$p" && kids="$kids $(pgrep -P "$p" 2>/dev/null | tr '\n' ' ')"
	done
	# shellcheck disable=SC2086
	kill -TERM $all 2>/dev/null || true
	# shellcheck disable=SC2086
	wait_for '! scn_any_alive $all' 1.5 ||
	    kill -KILL $all $kids 2>/dev/null || true
	# shellcheck disable=SC2086
	wait $all 2>/dev/null || true
	# shellcheck disable=SC2086
	wait_for '! scn_any_alive $kids' 1 || kill -KILL $kids 2>/dev/null || true
	[ -z "$SCN_TMP" ] || rm -rf "$SCN_TMP"
	SCN_PIDS=
	SCN_DAEMON=
	SCN_TMP=
	return 0
}

# On the way out, whatever ended the run: clean up, and list what the run
# wrote as its own to empty next time.
scn_exit()
{
	scn_cleanup
	[ -z "${OUT:-}" ] || [ ! -d "$OUT" ] || scn_out_seal "$OUT"
}

# Wire: tcpdump writes the pcap packet by packet (-U; --immediate-mode, or
# libpcap holds packets back up to a second); the text form is made from
# the pcap afterwards, so nothing is parsed while it matters.
scn_wire_start()
{
	local why=
	command -v tcpdump >/dev/null 2>&1 || why="tcpdump not installed"
	[ "$(id -u)" -eq 0 ] || why="tcpdump needs root"
	if [ -n "$why" ]; then
		note "wire: not recorded ($why)"
		return 0
	fi
	# Headers only (-s 128) and a larger buffer: bursts of connections
	# otherwise overflow the capture and rows go missing.
	tcpdump -i lo -nn -tt -U --immediate-mode -s 128 -B 16384 -Z root \
	    -w "$OUT/capture.pcap" "tcp port $PORT" \
	    2>"$RAW/tcpdump.log" &
	scn_bg $!
	SCN_WIRE_PID=$!
	if wait_for 'grep -q "listening on" "$RAW/tcpdump.log"' 3; then
		SCN_WIRE=yes
	else
		note "wire: tcpdump did not start: $(tr '\n' ' ' <"$RAW/tcpdump.log" |
		    sed 's/^.*lib\.sh: line [0-9]*: //' | head -c 200)"
	fi
}

scn_wire_stop()
{
	[ "$SCN_WIRE" = yes ] || return 0
	kill -INT "$SCN_WIRE_PID" 2>/dev/null || true
	wait_for '! alive "$SCN_WIRE_PID"' 2 || kill -KILL "$SCN_WIRE_PID" 2>/dev/null || true
	wait "$SCN_WIRE_PID" 2>/dev/null || true
}

have_wire()
{
	[ "$SCN_WIRE" = yes ]
}

# The kernel lane: scenlog samples the port's sockets every 5 ms straight
# from the kernel (sock_diag), no round trip through the daemon.
scn_kernel_start()
{
	"$SCENLOG" sample -p "$PORT" -o "$EVENTS" -i "$SCN_SAMPLE_MS" \
	    -s "$RAW/stop" 2>"$RAW/sample.err" &
	scn_bg $!
	SCN_SAMPLER_PID=$!
}

scn_tracer_connected()
{
	local child
	child=$(pgrep -P "$SCN_TRACE_PID" 2>/dev/null | head -n 1)
	[ -n "$child" ] && ss -Hxp 2>/dev/null | grep -q "pid=$child,"
}

# The trace stream is subscribed once the master has read the command;
# a status round trip after acceptctl's socket is up makes sure of that.
scn_app_start()
{
	timeout --foreground "$SCN_MAX_S" "$ACCEPTCTL" -s "$CTL_SOCK" -j trace \
	    >"$RAW/app.jsonl" 2>"$RAW/trace.err" &
	SCN_TRACE_PID=$!
	scn_bg $!
	# $! is timeout's pid; the socket is its child's.
	wait_for 'scn_tracer_connected || ! alive "$SCN_TRACE_PID"' 2 || true
	ctl_quiet status >/dev/null 2>&1 || true
	alive "$SCN_TRACE_PID" || note "trace: acceptctl trace exited: $(head -c 200 "$RAW/trace.err")"
}

# The trace holds each line a while (50 ms, more when lines come late)
# to send them in time order while the kernel is traced: stopping at the
# end mark would lose the last ones.  acceptctl mark puts a line of our
# own after the end; once it is in, every line before it is too.
# Ingestion leaves it out.
SCN_SETTLE='mark end of run'

scn_trace_settle()
{
	alive "$SCN_TRACE_PID" || return 0
	# shellcheck disable=SC2086 # the command's words
	ctl_quiet $SCN_SETTLE >/dev/null 2>&1 || return 0
	wait_for 'grep -qF "\"detail\":\"$SCN_SETTLE\"" "$RAW/app.jsonl"' 3 ||
	    note "trace: the last lines may be missing (no $SCN_SETTLE in 3 s)"
}

scn_recorders_stop()
{
	: >"$RAW/stop"
	wait_for '! alive "$SCN_SAMPLER_PID"' 2 || kill "$SCN_SAMPLER_PID" 2>/dev/null || true
	wait "$SCN_SAMPLER_PID" 2>/dev/null || true
	scn_wire_stop
}

# --- marks, notes, live views -----------------------------------------------

mark()
{
	scn_event mark - mark "name=$1" "text=${2:-$1}"
}

note()
{
	scn_event client - note "text=$*"
}

# Live views answer -1 when the kernel does not, so that numeric
# conditions stay well-formed.  Each also records its sample: what a
# scenario waited for is on record before its next mark.
live_queue()
{
	"$SCENLOG" now -o "$EVENTS" -p "$PORT" queue 2>/dev/null || echo -1
}

live_count()
{
	"$SCENLOG" now -o "$EVENTS" -p "$PORT" count "$1" "$2" 2>/dev/null || echo -1
}

live_max()
{
	"$SCENLOG" now -o "$EVENTS" -p "$PORT" max "$1" "$2" "$3" 2>/dev/null || echo -1
}

# live_state SIDE CLIENT: the TCP state of client CLIENT's connection at
# SIDE now, or none.
live_state()
{
	local conn
	conn=$(cat "$RAW/client-$2/conn" 2>/dev/null) || { echo none; return 0; }
	"$SCENLOG" now -o "$EVENTS" -p "$PORT" state "$1" "$conn" 2>/dev/null ||
	    echo none
}

live_trace_count()
{
	grep -v '"source":"kernel"' "$RAW/app.jsonl" |
	    grep -c "\"event\":\"$1\"" || true
}

live_kernel_count()
{
	grep '"source":"kernel"' "$RAW/app.jsonl" |
	    grep "\"event\":\"$1\"" | grep -cE -- "${2:-.}" || true
}

# --- clients --------------------------------------------------------------

# scn_client_event NAME EVENT TEXT, on its connection once connected.
scn_client_event()
{
	local conn=-
	[ -s "$RAW/client-$1/conn" ] && conn=$(cat "$RAW/client-$1/conn")
	scn_event client "$conn" "$2" "name=$1" "text=$3"
}

# The client process: connect, then obey one command a line from its fifo,
# writing "SEQ" to done after each so the caller can wait for it.
scn_client_main()
{
	local name=$1 dir=$2 seq cmd arg st n port ino
	exec 4<>"$dir/fifo"
	scn_client_event "$name" connect "connect()"
	if ! { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>"$dir/err"; then
		scn_client_event "$name" connect-failed \
		    "connect: $(sed -n 's/.*connect: //p' "$dir/err" | head -n 1)"
		echo 0 >"$dir/done"
		exit 0
	fi
	ino=$(readlink "/proc/$BASHPID/fd/3" | tr -dc 0-9)
	port=$(ss -Htne "( dport = :$PORT )" | awk -v i="ino:$ino" \
	    '$0 ~ i" " || $0 ~ i"$" { n = split($4, a, ":"); print a[n]; exit }')
	echo "$port" >"$dir/port"
	echo "127.0.0.1:$port>127.0.0.1:$PORT" >"$dir/conn"
	scn_client_event "$name" connected "connected :$port"
	echo 0 >"$dir/done"
	while read -r seq cmd arg <&4; do
		case $cmd in
		send)
			if printf '%b' "$arg" >&3 2>"$dir/err"; then
				n=$(printf '%b' "$arg" | wc -c)
				scn_client_event "$name" sent "send $n B"
			else
				scn_client_event "$name" send-failed "send: $(cat "$dir/err")"
			fi ;;
		sendn)
			if head -c "$arg" /dev/zero | tr '\0' x >&3 2>"$dir/err"; then
				scn_client_event "$name" sent "send $arg B"
			else
				scn_client_event "$name" send-failed "send: $(cat "$dir/err")"
			fi ;;
		read)
			st=0
			timeout "$arg" cat <&3 >"$dir/in" 2>"$dir/err" || st=$?
			n=$(wc -c <"$dir/in")
			if [ "$st" -eq 0 ]; then
				scn_client_event "$name" eof "read $n B, then EOF"
			elif [ "$st" -eq 124 ]; then
				scn_client_event "$name" open "read $n B, still open"
			elif grep -q 'reset' "$dir/err"; then
				scn_client_event "$name" reset "read $n B, then ECONNRESET"
			else
				scn_client_event "$name" read-failed "read $n B: $(cat "$dir/err")"
			fi ;;
		close)
			exec 3>&-
			scn_client_event "$name" closed "close()"
			echo "$seq" >"$dir/done"
			exit 0 ;;
		esac
		echo "$seq" >"$dir/done"
	done
}

scn_client_cmd()
{
	local name=$1 cmd=$2 arg=${3:-} wait=${4:-3} seq
	[ -n "${CLIENT_FD[$name]:-}" ] || { note "$name: no such client"; return 1; }
	seq=$(( ${CLIENT_SEQ[$name]} + 1 ))
	CLIENT_SEQ[$name]=$seq
	printf '%s %s %s\n' "$seq" "$cmd" "$arg" >&"${CLIENT_FD[$name]}"
	wait_for '[ "$(cat "${CLIENT_DIR[$name]}/done" 2>/dev/null)" = "$seq" ]' "$wait"
}

client_open()
{
	local name=$1 dir=$RAW/client-$1 fd
	mkdir -p "$dir"
	mkfifo "$dir/fifo"
	exec {fd}<>"$dir/fifo"
	CLIENT_FD[$name]=$fd
	CLIENT_SEQ[$name]=0
	CLIENT_DIR[$name]=$dir
	scn_client_main "$name" "$dir" {fd}>&- &
	scn_bg $!
	[ "${2:-}" = nowait ] && return 0
	wait_for '[ -s "$dir/done" ]' 3
}

client_send()		{ scn_client_cmd "$1" send "$2"; }
client_send_bytes()	{ scn_client_cmd "$1" sendn "$2"; }
client_close()		{ scn_client_cmd "$1" close; }

client_read()
{
	local s=${2:-1}
	scn_client_cmd "$1" read "$s" "$(awk -v s="$s" 'BEGIN { print s + 2 }')"
}

client_wait()
{
	wait_for "grep -q '	client	[^	]*	$2	name=$1	' \"\$EVENTS\"" "$3"
}

client_port()
{
	cat "${CLIENT_DIR[$1]}/port" 2>/dev/null
}

client_load()
{
	SCN_LOADS=$((SCN_LOADS + 1))
	note "acceptload $*"
	timeout --foreground "$SCN_MAX_S" "$ACCEPTLOAD" -h 127.0.0.1 -p "$PORT" -j "$@" \
	    >"$OUT/load-$SCN_LOADS.json" 2>"$RAW/load-$SCN_LOADS.err" &
	scn_bg $!
	LOAD_PID=$!
}

# --- the recorders' own formats into events ------------------------------

scn_ingest()
{
	local dropped
	if have_wire; then
		tcpdump -r "$OUT/capture.pcap" -nn -tt 2>/dev/null |
		    "$SCENLOG" ingest-wire -r "$OUT/run.tsv" >>"$EVENTS"
		dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' \
		    "$RAW/tcpdump.log")
		run_set tcpdump_dropped "${dropped:-unknown}"
	fi
	grep -vF "\"event\":\"control\",\"detail\":\"$SCN_SETTLE\"" \
	    "$RAW/app.jsonl" | "$SCENLOG" ingest-app -r "$OUT/run.tsv" >>"$EVENTS"
	run_set kernel_events "$(scn_kernel_why)"
}

# yes when acceptctl trace carried the kernel's events, "partial: WHAT
# IS MISSING" when some of them, else "no: WHY".
scn_kernel_why()
{
	awk -F'\t' '$2 == "kernel" && $4 != "unavailable" && $4 != "partial" { n++ }
	    $2 == "kernel" && ($4 == "unavailable" || $4 == "partial") {
		kind = $4
		for (i = 5; i <= NF; i++)
			if ($i ~ /^detail=/) why = substr($i, 8) }
	    END {
		if (n > 0 && kind == "partial") print "partial: " why
		else if (n > 0) print "yes"
		else if (why != "") print "no: " why
		else print "no: acceptctl trace carried no kernel event" \
		    " (an acceptd without them?)" }' "$EVENTS"
}

# --- checks ---------------------------------------------------------------

window()
{
	SCN_WIN=
	[ $# -eq 0 ] || SCN_WIN=$1,$2
}

# scn_q QUERY...: tools/scenlog query over this run, in the window.
scn_q()
{
	"$SCENLOG" query -d "$OUT" ${SCN_WIN:+-w "$SCN_WIN"} "$@"
}

check()
{
	local desc=$1 ev st=0 verdict
	shift
	ev=$("$@" 2>&1) || st=$?
	SCN_CHECKS=$((SCN_CHECKS + 1))
	if [ "$st" -eq 0 ]; then
		verdict=PASS
	elif [ "$st" -eq 3 ]; then
		verdict=SKIP
		SCN_SKIPPED=$((SCN_SKIPPED + 1))
	else
		verdict=FAIL
		SCN_FAILED=$((SCN_FAILED + 1))
	fi
	{
		printf '%s  %s\n' "$verdict" "$desc"
		printf '%s\n' "$ev" | sed 's/^/      /'
	} | tee -a "$OUT/checks.txt"
}

# scn_cmp VALUE OP N: test(1), with OP limited to the integer operators.
scn_cmp()
{
	case $2 in
	-eq|-ne|-ge|-gt|-le|-lt) ;;
	*) echo "bad comparison operator \"$2\" (use -eq -ne -ge -gt -le -lt)"; return 2 ;;
	esac
	test "$1" "$2" "$3" 2>/dev/null
}

expect()
{
	echo "$4 = $1 (want $2 $3)"
	scn_cmp "$1" "$2" "$3"
}

client_count()
{
	scn_q count client "event=$1" "$2" "$3"
}

client_seen()
{
	scn_q first client "name=$1" "event=$2"
}

client_detail()
{
	scn_q first client "event=$1" "text~$2"
}

# scn_missing WHAT WHY: a recorder that did not run.  As root (in our
# own namespace) that fails the check; not root it skips it (status 3).
scn_missing()
{
	if [ "$(scn_run_value namespace)" = private ]; then
		echo "no $1, and this run was root: $2"
		return 1
	fi
	echo "skipped (not root): no $1: $2"
	return 3
}

scn_need_wire()
{
	have_wire && return 0
	scn_missing "wire capture" "$(scn_wire_note)"
}

# Why tcpdump did not run, from the note scn_wire_start left.
scn_wire_note()
{
	local n
	n=$(awk -F'\t' '$2 == "client" && $4 == "note" {
		for (i = 5; i <= NF; i++)
			if ($i ~ /^text=wire: /) { print substr($i, 12); exit } }' \
	    "$EVENTS" 2>/dev/null)
	echo "${n:-tcpdump did not run}"
}

have_kernel()
{
	[ "$(scn_run_value kernel_events)" = yes ]
}

# Some of the kernel's events came (not all kinds: partial): the checks
# run on what came, and as root the run fails for what did not.
scn_need_kernel()
{
	case $(scn_run_value kernel_events) in yes|partial*) return 0 ;; esac
	scn_kernel_recorded
}

# All of the kernel's events were recorded: the run's own check as root.
scn_kernel_recorded()
{
	local k
	have_kernel && return 0
	k=$(scn_run_value kernel_events)
	case ${k:=no: this run recorded none} in
	partial*) scn_missing "kernel events of every kind" "${k#partial: }" ;;
	*)	scn_missing "kernel events" "${k#no: }" ;;
	esac
}

kernel_q()
{
	scn_need_kernel || return
	scn_q "$@"
}

kernel_seen()
{
	local ev=$1
	shift
	kernel_q first kernel "event=$ev" "$@"
}

kernel_count()
{
	local ev=$1 op=$2 n=$3
	shift 3
	kernel_q count kernel "event=$ev" "$@" "$op" "$n"
}

# scn_from FROM: the filter for packets from FROM (none for "any").
scn_from()
{
	[ "$1" = any ] || echo "from=$1"
}

# wire_q QUERY...: any scn_q query that needs the wire.
wire_q()
{
	scn_need_wire || return
	scn_q "$@"
}

wire_count()
{
	scn_need_wire || return
	# shellcheck disable=SC2046
	scn_q count wire $(scn_from "$1") "flags~$2" "$3" "$4"
}

wire_seen()
{
	scn_need_wire || return
	# shellcheck disable=SC2046
	scn_q first wire $(scn_from "$1") "flags~$2"
}

# scn_order_opts ARGS: how many of ARGS are options of scenlog's order.
scn_order_opts()
{
	local n=0
	while [ $# -gt 0 ]; do
		case $1 in
		-a|-x)		n=$((n + 1)); shift ;;
		-G|-t|-W)	n=$((n + 2)); shift 2 ;;
		-n)		n=$((n + 3)); shift 3 ;;
		*)		break ;;
		esac
	done
	echo "$n"
}

wire_order()
{
	local n spec args=()
	scn_need_wire || return
	n=$(scn_order_opts "$@")
	args=("${@:1:n}")
	shift "$n"
	for spec in "$@"; do
		[ "${#args[@]}" -gt "$n" ] && args+=('then')
		args+=(wire)
		[ "${spec%%:*}" = any ] || args+=("from=${spec%%:*}")
		args+=("flags~${spec#*:}")
	done
	scn_q order "${args[@]}"
}

sample_queue()
{
	scn_q value any kernel-sample event=listen queue "$1" "$2"
}

sample_queue_last()
{
	scn_q value last kernel-sample event=listen queue "$1" "$2"
}

sample_count()
{
	scn_q value any kernel-sample event=listen "$1.$2" "$3" "$4"
}

sample_count_max()
{
	scn_q value max kernel-sample event=listen "$1.$2" "$3" "$4"
}

sample_count_last()
{
	scn_q value last kernel-sample event=listen "$1.$2" "$3" "$4"
}

sample_seen()
{
	scn_q first kernel-sample event=socket "side=$1" "state=$2" \
	    ${3:+"recv_q=$3"}
}

trace_count()
{
	scn_q count app "event=$1" ${4:+"detail~$4"} "$2" "$3"
}

trace_seen()
{
	scn_q first app "event=$1" ${2:+"detail~$2"}
}

# trace_order [OPT] EV[:ERE] ...: on one connection, in this order.
trace_order()
{
	local n spec args=()
	n=$(scn_order_opts "$@")
	args=("${@:1:n}")
	shift "$n"
	for spec in "$@"; do
		[ "${#args[@]}" -gt "$n" ] && args+=('then')
		args+=(app "event=${spec%%:*}")
		[ "${spec%%:*}" = "$spec" ] || args+=("detail~${spec#*:}")
	done
	scn_q order "${args[@]}"
}

live_counter()
{
	"$SCENLOG" now -d "$OUT" counter "$1" 2>/dev/null || echo -1
}

counters_snapshot()
{
	"$SCENLOG" counters -n "$1" >>"$EVENTS"
}

counter_between()
{
	SCN_WIN='' scn_q delta "$1" "$2" "$3" "$4" "$5"
}

counter()
{
	counter_between start end "$1" "$2" "$3"
}

# --- output folders ---------------------------------------------------------

SCN_MARKER=.scenario-out	# in every folder a run wrote: it may be emptied

# scn_out_claim DIR: DIR ready for a run: made when missing, refused when
# it holds anything a run did not write.  The marker lists what the last
# run wrote (scn_out_seal): only those are emptied, and anything else in
# DIR (a file the user added since, a dangling link) makes it refuse, so
# nothing of the user's is ever deleted.
scn_out_claim()
{
	local dir=$1 f
	[ ! -e "$dir" ] || [ -d "$dir" ] ||
	    { echo "scenario: $dir is not a folder" >&2; exit 2; }
	mkdir -p "$dir" || exit 2
	f=$(find "$dir" -mindepth 1 -maxdepth 1 ! -name "$SCN_MARKER" \
	    -printf '%f\n' | while IFS= read -r f; do
		grep -qxF -- "$f" "$dir/$SCN_MARKER" 2>/dev/null ||
		    { printf '%s\n' "$f"; break; }
	done)
	if [ -n "$f" ]; then
		echo "scenario: $dir holds files no scenario run wrote" \
		    "($f); choose another -o DIR, or empty it" >&2
		exit 2
	fi
	find "$dir" -mindepth 1 -maxdepth 1 ! -name "$SCN_MARKER" \
	    -exec rm -rf {} +
	scn_out_seal "$dir"
}

# scn_out_seal DIR [NAME...]: the marker lists what DIR holds now (and the
# NAMEs a run is about to write there): what a later run may empty.
scn_out_seal()
{
	local dir=$1
	shift
	{
		echo "# written by tools/scenario; a later run empties these:"
		find "$dir" -mindepth 1 -maxdepth 1 ! -name "$SCN_MARKER" \
		    ! -name "$SCN_MARKER.new" -printf '%f\n'
		[ $# -eq 0 ] || printf '%s\n' "$@"
	} >"$dir/$SCN_MARKER.new" && mv "$dir/$SCN_MARKER.new" "$dir/$SCN_MARKER"
}

# --- one run --------------------------------------------------------------

scn_result()
{
	echo "$1" >"$OUT/result"
}

scn_report()
{
	"$SCENLOG" report "$OUT"
}

# scn_run NAME OUTDIR: the whole run, inside the namespace when root.
scn_run()
{
	local off t
	SCN_NAME=$1
	OUT=$2
	scn_out_claim "$OUT"
	mkdir -p "$OUT/raw"
	OUT=$(cd "$OUT" && pwd)
	RAW=$OUT/raw
	EVENTS=$OUT/events.tsv
	read -r off t < <("$SCENLOG" clock) || scn_die "$SCENLOG clock failed"
	SCN_OFF=$off
	: >"$EVENTS"
	: >"$RAW/app.jsonl"
	cp "$SCN_DIR/$SCN_NAME.md" "$OUT/scenario.md"
	PORT=$(free_port) || scn_die "no free port found in 100 tries"
	trap scn_exit EXIT
	SCN_TMP=$(mktemp -d "${SCN_TMPROOT:-${TMPDIR:-/tmp}}/scenario.XXXXXX") ||
	    scn_die "mktemp failed"
	CTL_SOCK=$(scn_ctl_path)
	run_set name "$SCN_NAME"
	run_set port "$PORT"
	run_set server "127.0.0.1:$PORT"
	run_set namespace "$(in_namespace && echo private || echo host)"
	run_set date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	run_set kernel "$(uname -sr)"
	run_set clock_offset_ns "$SCN_OFF"
	scn_write_config
	scn_wire_start
	run_set wire "$SCN_WIRE"
	run_set tools "tcpdump=$SCN_WIRE sampler=scenlog trace=acceptctl"
	counters_snapshot start
	scn_start_daemon
	scn_app_start
	scn_kernel_start
	t=${EPOCHREALTIME/[.,]/}
	run_set start_ns "$((t * 1000 - SCN_OFF))"
	mark start
	scenario_run || note "scenario_run returned $?"
	counters_snapshot end
	mark end
	scn_trace_settle
	scn_recorders_stop
	scn_cleanup
	# From here on only files are written; sealed whatever the checks say.
	trap 'scn_out_seal "$OUT"' EXIT
	run_set sampler "$(tail -n 1 "$RAW/sample.err")"
	scn_ingest
	"$SCENLOG" ladder -w 120 "$OUT" >"$OUT/ladder.txt"
	"$SCENLOG" ladder "$OUT"
	echo
	scn_checks
}

# scn_run_value KEY: the run file's value for KEY (the last one written).
scn_run_value()
{
	awk -F'\t' -v k="$1" '$1 == k { v = $2 } END { print v }' "$OUT/run.tsv"
}


# scn_rerun NAME DIR: the checks of a finished run, from its files.
scn_rerun()
{
	SCN_NAME=$1
	OUT=$(cd "$2" && pwd)
	RAW=$OUT/raw
	EVENTS=$OUT/events.tsv
	PORT=$(scn_run_value port)
	SCN_WIRE=$(scn_run_value wire)
	"$SCENLOG" ladder -w 120 "$OUT" >"$OUT/ladder.txt"
	scn_checks
}

# No "lost" line in the trace, from acceptd or from the kernel.
scn_trace_complete()
{
	local st=0
	scn_q count app event=lost -eq 0 || st=1
	scn_q count kernel event=lost -eq 0 || st=1
	return "$st"
}

# The checks over the run's files, then report.md and the result.
scn_checks()
{
	local skipped=
	: >"$OUT/checks.txt"
	SCN_CHECKS=0
	SCN_FAILED=0
	SCN_SKIPPED=0
	window
	# As root a missing recorder fails the run, first thing, saying
	# what is missing; its checks fail too, none passes by being skipped.
	# Not root, they are skipped with the reason.
	if [ "$(scn_run_value namespace)" = private ]; then
		have_wire || check "as root, the wire was recorded (tcpdump)" \
		    scn_need_wire
		have_kernel || check "as root, the kernel's events were recorded (tracefs, through acceptctl trace)" \
		    scn_kernel_recorded
	fi
	# Lines the trace lost (the kernel's buffer full, a reader or a
	# worker's channel behind) make its counts and orders untrustworthy.
	if awk -F'\t' '($2 == "app" || $2 == "kernel") && $4 == "lost" { f = 1 }
	    END { exit !f }' "$EVENTS"; then
		check "the trace lost no lines (acceptd's and the kernel's)" \
		    scn_trace_complete
	fi
	scenario_check
	window
	scn_report
	echo
	[ "$SCN_SKIPPED" -eq 0 ] || skipped=", $SCN_SKIPPED skipped"
	if [ "$SCN_FAILED" -eq 0 ] && [ "$SCN_CHECKS" -gt "$SCN_SKIPPED" ]; then
		echo "$SCN_NAME: all $((SCN_CHECKS - SCN_SKIPPED)) checks passed$skipped ($OUT/report.md)"
		scn_result pass
		return 0
	fi
	echo "$SCN_NAME: $SCN_FAILED of $SCN_CHECKS checks FAILED$skipped"
	awk '/^(PASS|FAIL|SKIP)  / { f = /^FAIL/ } f' "$OUT/checks.txt" |
	    head -n 40 | sed 's/^/  /'
	echo "$SCN_NAME: artifacts kept in $OUT (report.md, ladder.txt, events.tsv)"
	scn_result fail
	return 1
}

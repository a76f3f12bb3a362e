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
# Time runs from `mark start` (recorders ready) to `mark end`; all times are
# epoch seconds with microseconds (bash EPOCHREALTIME, tcpdump -tt, acceptd's
# CLOCK_REALTIME), shown as ms since start.  Connections are named by the
# client's port everywhere (:40112).
#
# While running (scenario_run):
#   ctl ARGS...                acceptctl -s OURS ARGS; shown as "ctl> ARGS"
#   mark NAME [TEXT]           a named instant (window boundary, ladder rule)
#   note TEXT                  a free row in the ladder's client column
#   wait_for 'COND' SECONDS    eval COND every 20 ms until true (0) or the
#                              deadline (1); never a fixed sleep.  COND sees
#                              your variables, not your $1..$9
#   sysctl_ns NAME VALUE       set a net sysctl; only inside our namespace
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
# Live kernel and trace views (for wait_for; each also records a sample):
#   live_queue                 accept-queue length now
#   live_count SIDE STATE      sockets of SIDE (server|client) in STATE now
#   live_trace_count EVENT     trace events so far with that name
#   live_counter NAME          a kernel counter's rise since acceptd started
# Kernel counters at a moment, for counter_between:
#   counters_snapshot NAME     acceptctl -j counters into counters-NAME.json
#
# Checking (scenario_check):
#   check DESCRIPTION QUERY... runs QUERY; PASS if it returns 0, else FAIL;
#                              what it printed is the evidence
#   window FROM TO             later queries see only FROM..TO (mark names,
#                              or start / end); `window` alone: everything
#   have_wire                  true when the wire was recorded
# Queries: OP is a test(1) operator (-eq -ne -ge -gt -le -lt); each prints
# the row(s) that prove or refute it.
#   client_count EVENT OP N    client events named EVENT
#   client_seen NAME EVENT     client NAME had EVENT
#   client_detail EVENT ERE    some client's EVENT row matches ERE
#   wire_count FROM FLAGS OP N packets from FROM (client|server|any) whose
#                              tcpdump flags, with D appended when the packet
#                              carries data, match the ERE FLAGS: '^S$' SYN,
#                              '^S\.$' SYN-ACK, '^\.$' pure ACK, D data,
#                              F FIN, R RST
#   wire_seen FROM FLAGS       the first such packet
#   wire_order FROM:FLAGS ...  such packets occur in this order
#   kernel_queue OP N          some sample's accept queue satisfies OP N
#   kernel_queue_last OP N     the window's last sample does
#   kernel_count SIDE STATE OP N   some sample has that many in STATE
#   kernel_count_max SIDE STATE OP N   the most any sample had does
#   kernel_count_last SIDE STATE OP N  the window's last sample does
#   kernel_seen SIDE STATE [RECVQ] some connection row in STATE (with Recv-Q)
#   trace_count EVENT OP N [DETAIL_ERE]  acceptd trace events
#   trace_seen EVENT [DETAIL_ERE]        the first such event
#   trace_order EVENT[:DETAIL_ERE] ...   these occur in order, one conn
#   counter NAME OP N          kernel counter delta since acceptd started
#   counter_between A B NAME OP N  its rise between snapshots A and B
#   expect VALUE OP N WHAT     anything else
#
# Artifacts in $OUT: report.md, ladder.txt, checks.txt, capture.pcap,
# counters.json (acceptctl -j counters at the end), acceptd.conf,
# acceptd.log, raw/ (what the recorders wrote), and the CSVs queries read
# (write your own query with awk -F, over them; scn_rows FILE gives the
# rows inside the window):
#   wire.csv     time,src,dst,flags,seq,ack,len,win      (tcpdump -tt)
#   kernel.csv   time,kind,side,state,recv_q,send_q,local,peer,queue,
#                backlog,states: per change one kind=listen row (queue,
#                backlog, states="server.ESTABLISHED=3 client.FIN_WAIT2=1")
#                then one kind=conn row per socket
#   app.csv      time,worker,conn,peer,event,detail      (acceptctl trace)
#   clients.csv  time,client,event,detail
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
SCN_DIR=$SCN_TOP/tools/scenarios
SCN_SAMPLE_S=0.03	# kernel sampling period
SCN_MAX_S=60		# no recorder outlives this

OUT=
PORT=
CTL_SOCK=
RAW=
SCN_T0=
SCN_PIDS=			# background processes to end at cleanup
SCN_DAEMON=
SCN_WIRE=no
SCN_WIN_FROM=0
SCN_WIN_TO=9999999999
SCN_FAILED=0
SCN_CHECKS=0
SCN_LOADS=0
declare -A CLIENT_FD CLIENT_SEQ CLIENT_DIR

# --- small things ---------------------------------------------------------

scn_die()
{
	echo "scenario: $*" >&2
	exit 1
}

in_namespace()
{
	[ "${SCENARIO_NETNS:-}" = 1 ]
}

sysctl_ns()
{
	in_namespace || scn_die "sysctl_ns $1: refused outside a private network namespace"
	echo "$2" >"/proc/sys/${1//.//}" || scn_die "sysctl_ns $1=$2 failed"
	note "sysctl $1=$2"
}

# --- the daemon -----------------------------------------------------------

# The control socket must fit sun_path (108 bytes): a long output path
# falls back to a private temporary folder.
# scn_ctl_path [NAME]: $OUT/NAME.sock (ctl), or one in /tmp when that is
# too long for a socket's address.
scn_ctl_path()
{
	local p=$OUT/${1:-ctl}.sock
	if [ "${#p}" -gt 100 ]; then
		p=$(mktemp -d /tmp/scenario-ctl.XXXXXX)/ctl.sock
	fi
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
	echo "$EPOCHREALTIME,ctl> $*" >>"$RAW/ctl.csv"
	ctl_quiet "$@" >>"$RAW/ctl.out" 2>&1 || st=$?
	[ "$st" -eq 0 ] || echo "$EPOCHREALTIME,ctl> $1 failed ($st)" >>"$RAW/ctl.csv"
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

scn_stop_daemon()
{
	[ -n "$SCN_DAEMON" ] || return 0
	scn_daemon_stop "$SCN_DAEMON"
	SCN_DAEMON=
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

scn_bg()
{
	SCN_PIDS="$SCN_PIDS $1"
}

# scn_end PID: SIGTERM once, then SIGKILL to PID and its children if it
# has not gone within a second.  Background tools run under timeout
# --foreground: without it timeout follows each signal it passes on with
# a SIGCONT, and a SIGCONT while LeakSanitizer stops the process at exit
# cancels the stop it waits for, so the process spins on for ever.
scn_end()
{
	local pid=$1 kids
	alive "$pid" || return 0
	kids=$(pgrep -P "$pid" 2>/dev/null | tr "\n" " ")
	kill -TERM "$pid" 2>/dev/null || true
	wait_for '! alive "$pid"' 1 && return 0
	# shellcheck disable=SC2086
	kill -KILL $kids "$pid" 2>/dev/null || true
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
		echo "$EPOCHREALTIME,client,wire: not recorded ($why)" >>"$RAW/notes.csv"
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
		echo "$EPOCHREALTIME,client,wire: tcpdump did not start" >>"$RAW/notes.csv"
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

# One kernel sample, kept only when it differs from the one before.  It
# is stamped when the answer is in, so that a state never shows up in the
# ladder before the packet that caused it (it may lag by a few ms).
scn_sample()
{
	local file=$1 prev=${2:-} cur
	cur=$(ctl_quiet -j sockets 2>/dev/null) || return 1
	[ "$cur" = "$prev" ] && { printf '%s' "$cur"; return 0; }
	printf '{"t":"%s","s":%s}\n' "$EPOCHREALTIME" "$cur" >>"$file"
	printf '%s' "$cur"
}

scn_sampler()
{
	local prev='' end
	end=$(( ${EPOCHREALTIME%.*} + SCN_MAX_S ))
	while [ ! -e "$RAW/stop" ] && [ "${EPOCHREALTIME%.*}" -lt "$end" ]; do
		prev=$(scn_sample "$RAW/kernel.sampler.jsonl" "$prev") || true
		sleep "$SCN_SAMPLE_S"
	done
}

scn_kernel_start()
{
	scn_sampler &
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
	alive "$SCN_TRACE_PID" || echo "$EPOCHREALTIME,client,trace: acceptctl trace exited: $(head -c 200 "$RAW/trace.err")" >>"$RAW/notes.csv"
}

scn_recorders_stop()
{
	: >"$RAW/stop"
	wait_for '! alive "$SCN_SAMPLER_PID"' 2 || kill "$SCN_SAMPLER_PID" 2>/dev/null || true
	scn_end "$SCN_TRACE_PID"
	scn_wire_stop
}

# --- marks, notes, live views -----------------------------------------------

mark()
{
	echo "$EPOCHREALTIME,$1,${2:-$1}" >>"$RAW/marks.csv"
}

note()
{
	echo "$EPOCHREALTIME,client,$*" >>"$RAW/notes.csv"
}

# Live views answer -1 when the daemon does not, so that numeric
# conditions stay well-formed.
scn_live_jq()
{
	local s v
	s=$(scn_sample "$RAW/kernel.live.jsonl") || s=
	v=$(printf '%s' "$s" | jq -r "$@" 2>/dev/null) || v=
	echo "${v:--1}"
}

live_queue()
{
	scn_live_jq '.listen.queue'
}

live_count()
{
	scn_live_jq --arg side "$1" --arg st "$2" \
	    '[.connections[] | select(.side == $side and .state == $st)] | length'
}

live_trace_count()
{
	grep -c "\"event\":\"$1\"" "$RAW/app.jsonl" || true
}

# --- clients --------------------------------------------------------------

scn_client_event()
{
	echo "$EPOCHREALTIME,$1,$2,$3" >>"$RAW/clients.csv"
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
	scn_client_event "$name" connected "connected:$port"
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
	wait_for "grep -q '^[0-9.]*,$1,$2,' \"\$RAW/clients.csv\"" "$3"
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

# --- timelines to CSV -----------------------------------------------------

scn_wire_csv()
{
	echo "time,src,dst,flags,seq,ack,len,win" >"$OUT/wire.csv"
	have_wire || return 0
	tcpdump -r "$OUT/capture.pcap" -nn -tt 2>/dev/null | awk '
	function field(name,   r) {
		if (match($0, name " [^,]*")) {
			r = substr($0, RSTART + length(name) + 1, RLENGTH - length(name) - 1)
			return r
		}
		return ""
	}
	$2 == "IP" || $2 == "IP6" {
		src = $3; dst = $5; sub(/:$/, "", dst)
		fl = $0; sub(/.*Flags \[/, "", fl); sub(/\].*/, "", fl)
		printf "%s,%s,%s,%s,%s,%s,%s,%s\n", $1, src, dst, fl,
		    field("seq"), field("ack"), field("length"), field("win")
	}' >>"$OUT/wire.csv"
}

# Kernel samples, sorted and with repeats removed, as CSV: for each change
# one "listen" row then one "conn" row per connection.
scn_kernel_csv()
{
	echo "time,kind,side,state,recv_q,send_q,local,peer,queue,backlog,states" \
	    >"$OUT/kernel.csv"
	cat "$RAW"/kernel.*.jsonl 2>/dev/null | sort | jq -r -s '
	    map({t, q: .s.listen.queue, b: .s.listen.backlog,
		 st: ([.s.states | to_entries[] | "server.\(.key)=\(.value)"] +
		      [(.s.client_states // {}) | to_entries[] | "client.\(.key)=\(.value)"]
		      | join(" ")),
		 c: (.s.connections | sort_by(.side, .peer, .local))})
	    | reduce .[] as $x ({prev: null, out: []};
		if .prev != null and ($x | del(.t)) == .prev then .
		else .prev = ($x | del(.t)) | .out += [$x] end)
	    | .out[]
	    | ([.t, "listen", "", "", "", "", "", "", .q, .b, .st] | join(",")),
	      (.t as $t | .c[] | [$t, "conn", .side, .state, .recv_q, .send_q,
		.local, .peer, "", "", ""] | map(tostring) | join(","))
	' >>"$OUT/kernel.csv" 2>"$RAW/kernel.err" || true
}

scn_app_csv()
{
	echo "time,worker,conn,peer,event,detail" >"$OUT/app.csv"
	sed -n 's/^{"time":\([0-9.]*\),/{"time":"\1",/p' "$RAW/app.jsonl" |
	    jq -r '[.time, .worker, .conn, .peer, .event,
		(.detail | gsub(","; ";"))] | map(tostring) | join(",")' \
	    >>"$OUT/app.csv" 2>"$RAW/app.err" || true
}

scn_clients_csv()
{
	echo "time,client,event,detail" >"$OUT/clients.csv"
	sort "$RAW/clients.csv" 2>/dev/null >>"$OUT/clients.csv" || true
}

# --- the ladder -----------------------------------------------------------

# Every source as "time<TAB>column<TAB>text", merged in time order.
scn_events()
{
	local port=$PORT
	awk -F, 'NR > 1 { print $1 "\tc\t" $2 " " $4 }' "$OUT/clients.csv"
	scn_time_text c 2 "$RAW/notes.csv"
	awk -F, 'NR > 1 {
		n = split($2, s, "."); sp = s[n]; n = split($3, d, "."); dp = d[n]
		dir = (sp == port) ? "S>:" dp : ":" sp ">S"
		txt = dir " [" $4 "]"
		if ($7 > 0) txt = txt " " $5 " (" $7 ")"
		else if ($4 == ".") txt = txt " ack " $6
		if ($8 == "0" && $4 !~ /R/) txt = txt " win 0"
		print $1 "\tw\t" txt
	}' port="$port" "$OUT/wire.csv"
	scn_kernel_events
	awk -F, 'NR > 1 { n = split($4, p, ":"); d = ($6 != "") ? " " $6 : ""
		print $1 "\ta\tw" $2 " :" p[n] " " $5 d }' "$OUT/app.csv"
	scn_time_text a 1 "$RAW/ctl.csv"
	scn_time_text m 2 "$RAW/marks.csv"
}

# scn_time_text COLUMN SKIP FILE: "time,f2,..,text" rows whose text may
# hold commas; SKIP fields (time included) come before the text.
scn_time_text()
{
	[ -f "$3" ] || return 0
	awk -v col="$1" -v skip="$2" '{
		r = $0; t = substr(r, 1, index(r, ",") - 1)
		for (i = 0; i < skip; i++) r = substr(r, index(r, ",") + 1)
		print t "\t" col "\t" r
	}' "$3"
}

# Kernel rows for the ladder: the queue when it changes, and each
# connection whose state or queues changed (or that went away).
scn_kernel_events()
{
	awk -F, '
	function short(s) { return s == "ESTABLISHED" ? "EST" : s }
	function port(a,   n, p) { n = split(a, p, ":"); return p[n] }
	function flush(   k) {
		if (t == "") return
		if (q != lastq) print t "\tk\tqueue " q " of " b
		lastq = q
		for (k in cur)
			if (!(k in prev) || prev[k] != cur[k]) print t "\tk\t" k " " cur[k]
		for (k in prev)
			if (!(k in cur)) print t "\tk\t" k " gone"
		delete prev
		for (k in cur) prev[k] = cur[k]
		delete cur
	}
	NR == 1 { next }
	$1 != t { flush(); t = $1 }
	$2 == "listen" { q = $9; b = $10 }
	$2 == "conn" && $4 != "LISTEN" {
		key = ($3 == "server") ? "S:" port($8) : "C:" port($7)
		v = short($4)
		if ($5 > 0) v = v " r" $5
		if ($6 > 0) v = v " s" $6
		cur[key] = v
	}
	END { flush() }' "$OUT/kernel.csv"
}

# Columns sized for 120: only the last one may run over, a little.
scn_ladder()
{
	scn_events | sort -s -t"$(printf '\t')" -k1,1g | awk -F'\t' -v t0="$SCN_T0" '
	function cut(s, w) { return length(s) > w ? substr(s, 1, w - 1) "~" : s }
	function row(tm, c, w, k, a) {
		printf "%6s | %-18s| %-33s| %-26s| %s\n", tm, cut(c, 18),
		    cut(w, 33), cut(k, 26), cut(a, 28)
	}
	BEGIN { row("ms", "client", "wire", "server kernel", "acceptd")
		s = sprintf("%120s", ""); gsub(/ /, "-", s); print s }
	{
		tm = sprintf("%.1f", ($1 - t0) * 1000)
		if ($2 == "m") { printf "%6s ====== %s ======\n", tm, $3; next }
		c = w = k = a = ""
		if ($2 == "c") c = $3; else if ($2 == "w") w = $3
		else if ($2 == "k") k = $3; else a = $3
		row(tm, c, w, k, a)
	}'
}

# --- checks ---------------------------------------------------------------

window()
{
	SCN_WIN_FROM=0
	SCN_WIN_TO=9999999999
	[ $# -eq 0 ] && return 0
	SCN_WIN_FROM=$(scn_mark_time "$1")
	SCN_WIN_TO=$(scn_mark_time "$2")
}

scn_mark_time()
{
	local t
	t=$(awk -F, -v m="$1" '$2 == m { print $1; exit }' "$RAW/marks.csv")
	[ -n "$t" ] || scn_die "window: no mark named \"$1\" (marks: $(cut -d, -f2 "$RAW/marks.csv" | tr '\n' ' '))"
	echo "$t"
}

check()
{
	local desc=$1 ev st=0 verdict
	shift
	ev=$("$@" 2>&1) || st=$?
	SCN_CHECKS=$((SCN_CHECKS + 1))
	if [ "$st" -eq 0 ]; then
		verdict=PASS
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

# Rows of a CSV inside the window, the header left out.
scn_rows()
{
	awk -F, -v a="$SCN_WIN_FROM" -v b="$SCN_WIN_TO" \
	    'NR > 1 && $1 >= a && $1 <= b' "$1"
}

# Shown rows: time made relative, at most 8.
scn_show()
{
	awk -F, -v OFS=, -v t0="$SCN_T0" 'NR <= 8 {
		$1 = sprintf("%.1f ms", ($1 - t0) * 1000); print "  " $0 }
	    NR == 9 { print "  ..." }'
}

# scn_count ROWS OP N WHAT: how many ROWS against OP N, the rows shown.
scn_count()
{
	local n
	n=$(printf '%s' "$1" | grep -c . || true)
	echo "$n $4 (want $2 $3)"
	[ -n "$1" ] && printf '%s\n' "$1" | scn_show
	scn_cmp "$n" "$2" "$3"
}

# scn_found ROW MISSING: the row as evidence, or MISSING and a failure.
scn_found()
{
	[ -n "$1" ] || { echo "$2"; return 1; }
	printf '%s\n' "$1" | scn_show
}

client_count()
{
	scn_count "$(scn_rows "$OUT/clients.csv" | awk -F, -v e="$1" '$3 == e')" \
	    "$2" "$3" "client events \"$1\""
}

client_seen()
{
	scn_found "$(scn_rows "$OUT/clients.csv" | awk -F, -v c="$1" -v e="$2" \
	    '$2 == c && $3 == e { print; exit }')" \
	    "client $1: no \"$2\" event"
}

client_detail()
{
	scn_found "$(scn_rows "$OUT/clients.csv" | awk -F, -v e="$1" -v d="$2" \
	    '$3 == e && $0 ~ d { print; exit }')" \
	    "no client event $1 matching /$2/"
}

scn_need_wire()
{
	have_wire && return 0
	echo "no wire capture (tcpdump not run)"
	return 1
}

# Packets from FROM whose flags (with D added when the packet carries
# data) match the ERE FLAGS.
scn_wire_rows()
{
	scn_rows "$OUT/wire.csv" | awk -F, -v from="$1" -v fl="$2" -v port="$PORT" '{
		n = split($2, s, "."); side = (s[n] == port) ? "server" : "client"
		f = $4; if ($7 > 0) f = f "D"
		if ((from == "any" || from == side) && f ~ fl) print
	}'
}

wire_count()
{
	scn_need_wire || return 1
	scn_count "$(scn_wire_rows "$1" "$2")" "$3" "$4" \
	    "packets from $1 with flags ~ /$2/"
}

wire_seen()
{
	scn_need_wire || return 1
	scn_found "$(scn_wire_rows "$1" "$2" | head -n 1)" \
	    "no packet from $1 with flags ~ /$2/"
}

wire_order()
{
	local spec after=0 row
	scn_need_wire || return 1
	for spec in "$@"; do
		row=$(scn_wire_rows "${spec%%:*}" "${spec#*:}" |
		    awk -F, -v a="$after" '$1 > a { print; exit }')
		[ -n "$row" ] || { echo "no $spec after the rows above"; return 1; }
		printf '%s\n' "$row" | scn_show
		after=${row%%,*}
	done
}

# Listen rows (one per kernel sample) inside the window.
scn_listen_rows()
{
	scn_rows "$OUT/kernel.csv" | awk -F, '$2 == "listen"'
}

kernel_queue()
{
	local q row
	while IFS=, read -r q row; do
		if scn_cmp "$q" "$1" "$2"; then
			echo "accept queue $q of $(echo "$row" | cut -d, -f10):"
			printf '%s\n' "$row" | scn_show
			return 0
		fi
	done < <(scn_listen_rows | awk -F, '{ print $9 "," $0 }')
	echo "no sample with accept queue $1 $2; queues seen: $(scn_listen_rows | cut -d, -f9 | uniq | tr '\n' ' ')"
	return 1
}

kernel_queue_last()
{
	local row q
	row=$(scn_listen_rows | tail -n 1)
	[ -n "$row" ] || { echo "no kernel sample in the window"; return 1; }
	q=$(echo "$row" | cut -d, -f9)
	echo "last sample: accept queue $q (want $1 $2)"
	printf '%s\n' "$row" | scn_show
	scn_cmp "$q" "$1" "$2"
}

# Each kernel sample in the window as "N,ROW": N sockets of SIDE in STATE.
scn_state_rows()
{
	scn_listen_rows | awk -F, -v k="$1.$2" '{
		m = split($11, a, " "); v = 0
		for (i = 1; i <= m; i++) {
			split(a[i], kv, "="); if (kv[1] == k) v = kv[2]
		}
		print v "," $0 }'
}

kernel_count()
{
	local n row
	while IFS=, read -r n row; do
		if scn_cmp "$n" "$3" "$4"; then
			echo "$1 sockets in $2 ($3 $4):"
			printf '%s\n' "$row" | scn_show
			return 0
		fi
	done < <(scn_state_rows "$1" "$2")
	echo "no sample with $1 $2 count $3 $4; samples:"
	scn_listen_rows | scn_show
	return 1
}

kernel_count_max()
{
	local n
	n=$(scn_state_rows "$1" "$2" | cut -d, -f1 | sort -n | tail -n 1)
	echo "at most ${n:-0} $1 socket(s) in $2 in any sample (want $3 $4)"
	scn_cmp "${n:-0}" "$3" "$4"
}

kernel_count_last()
{
	local n row
	IFS=, read -r n row < <(scn_state_rows "$1" "$2" | tail -n 1)
	[ -n "$row" ] || { echo "no kernel sample in the window"; return 1; }
	echo "last sample: $1 $2 = $n (want $3 $4)"
	printf '%s\n' "$row" | scn_show
	scn_cmp "$n" "$3" "$4"
}

kernel_seen()
{
	local row
	row=$(scn_rows "$OUT/kernel.csv" | awk -F, -v side="$1" -v st="$2" -v rq="${3:-}" \
	    '$2 == "conn" && $3 == side && $4 == st && (rq == "" || $5 == rq) { print; exit }')
	if [ -z "$row" ]; then
		echo "no $1 socket in $2${3:+ with Recv-Q $3}; seen:"
		scn_rows "$OUT/kernel.csv" | awk -F, -v side="$1" '$2 == "conn" && $3 == side' |
		    cut -d, -f1,3-6 | sort -t, -k2 -u | scn_show
		return 1
	fi
	echo "time,kind,side,state,recv_q,send_q,local,peer:"
	printf '%s\n' "$row" | cut -d, -f1-8 | scn_show
}

scn_trace_rows()
{
	scn_rows "$OUT/app.csv" | awk -F, -v e="$1" -v d="${2:-}" \
	    '$5 == e && (d == "" || $6 ~ d)'
}

trace_count()
{
	scn_count "$(scn_trace_rows "$1" "${4:-}")" "$2" "$3" \
	    "trace events \"$1\"${4:+ ~ /$4/}"
}

trace_seen()
{
	scn_found "$(scn_trace_rows "$1" "${2:-}" | head -n 1)" \
	    "no trace event \"$1\"${2:+ ~ /$2/}; events: $(scn_rows "$OUT/app.csv" | cut -d, -f5 | sort | uniq -c | tr '\n' ' ')"
}

# trace_order EV[:ERE] ...: on one connection (that of the first event
# found), the events in this order.
trace_order()
{
	local spec after=0 conn='' row ev re
	for spec in "$@"; do
		ev=${spec%%:*}
		re=
		[ "$ev" = "$spec" ] || re=${spec#*:}
		row=$(scn_trace_rows "$ev" "$re" | awk -F, -v a="$after" -v c="$conn" \
		    '$1 >= a && (c == "" || $2 "/" $3 == c) { print; exit }')
		if [ -z "$row" ]; then
			echo "no \"$spec\" after the rows above${conn:+ on conn $conn}"
			return 1
		fi
		printf '%s\n' "$row" | scn_show
		after=${row%%,*}
		conn=$(echo "$row" | awk -F, '{ print $2 "/" $3 }')
	done
}

live_counter()
{
	local v
	v=$(ctl_quiet -j counters 2>/dev/null |
	    jq -r --arg n "$1" '.[$n].delta // empty' 2>/dev/null)
	echo "${v:--1}"
}

counters_snapshot()
{
	ctl_quiet -j counters >"$OUT/counters-$1.json" 2>/dev/null
}

counter_between()
{
	local a b
	a=$(jq -r --arg n "$3" '.[$n].delta' "$OUT/counters-$1.json" 2>/dev/null)
	b=$(jq -r --arg n "$3" '.[$n].delta' "$OUT/counters-$2.json" 2>/dev/null)
	case $a$b in
	''|*null*|*[!0-9-]*) echo "no counter snapshot $1 or $2"; return 1 ;;
	esac
	echo "$3 rose by $((b - a)) between $1 and $2 (want $4 $5)"
	scn_cmp "$((b - a))" "$4" "$5"
}

counter()
{
	local d
	d=$(jq -r --arg n "$1" '.[$n].delta // empty' "$OUT/counters.json" 2>/dev/null)
	[ -n "$d" ] || { echo "counter $1: not in counters.json"; return 1; }
	echo "$1 rose by $d since acceptd started (want $2 $3)"
	scn_cmp "$d" "$2" "$3"
}

# --- one run --------------------------------------------------------------

scn_cleanup()
{
	local p
	for p in $SCN_PIDS; do
		scn_end "$p"
	done
	scn_stop_daemon
	SCN_PIDS=
}

scn_result()
{
	echo "$1" >"$OUT/result"
}

scn_report()
{
	{
		echo "# Scenario $SCN_NAME"
		echo
		echo "Run $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(uname -sr)," \
		    "$(in_namespace && echo "in a private network namespace" || echo "on the host's loopback")," \
		    "acceptd on 127.0.0.1:$PORT."
		echo
		echo "## Configuration"
		echo
		echo '```'
		cat "$OUT/acceptd.conf"
		echo '```'
		echo
		echo "## Ladder (ms since start; :PORT is the client's port)"
		echo
		echo '```'
		cat "$OUT/ladder.txt"
		echo '```'
		echo
		echo "## Checks: $((SCN_CHECKS - SCN_FAILED)) of $SCN_CHECKS passed"
		echo
		echo '```'
		cat "$OUT/checks.txt"
		echo '```'
		echo
		sed "s/^#/##/" "$SCN_DIR/$SCN_NAME.md"
		echo
		echo "## Artifacts"
		echo
		echo "wire.csv, kernel.csv, app.csv, clients.csv, capture.pcap" \
		    "(when tcpdump ran), counters.json, acceptd.conf, acceptd.log, raw/."
	} >"$OUT/report.md"
}

# scn_run NAME OUTDIR: the whole run, inside the namespace when root.
scn_run()
{
	SCN_NAME=$1
	OUT=$2
	rm -rf "$OUT"
	mkdir -p "$OUT/raw"
	OUT=$(cd "$OUT" && pwd)
	RAW=$OUT/raw
	: >"$RAW/clients.csv"
	: >"$RAW/app.jsonl"
	: >"$RAW/marks.csv"
	PORT=$(free_port) || scn_die "no free port found in 100 tries"
	CTL_SOCK=$(scn_ctl_path)
	trap scn_cleanup EXIT
	scn_write_config
	scn_wire_start
	scn_start_daemon
	scn_app_start
	scn_kernel_start
	mark start
	SCN_T0=$(cut -d, -f1 "$RAW/marks.csv")
	scenario_run || note "scenario_run returned $?"
	scn_sample "$RAW/kernel.live.jsonl" >/dev/null || true
	ctl_quiet -j counters >"$OUT/counters.json" 2>/dev/null || true
	mark end
	scn_recorders_stop
	scn_cleanup
	trap - EXIT
	scn_wire_csv
	scn_kernel_csv
	scn_app_csv
	scn_clients_csv
	scn_ladder >"$OUT/ladder.txt"
	cat "$OUT/ladder.txt"
	echo
	: >"$OUT/checks.txt"
	scenario_check
	window
	scn_report
	echo
	if [ "$SCN_FAILED" -eq 0 ] && [ "$SCN_CHECKS" -gt 0 ]; then
		echo "$SCN_NAME: all $SCN_CHECKS checks passed ($OUT/report.md)"
		scn_result pass
		return 0
	fi
	echo "$SCN_NAME: $SCN_FAILED of $SCN_CHECKS checks FAILED ($OUT/report.md)"
	scn_result fail
	return 1
}

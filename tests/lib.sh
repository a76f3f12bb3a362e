# Shared by the integration tests: TAP output, a temporary folder, a free
# port, and the real acceptd started, watched and always stopped.  Sourced.
#
# TAP:      plan N | skip_all WHY | ok DESC CMD... | is GOT WANT DESC |
#           like GOT ERE DESC | unlike GOT ERE DESC | pass/fail DESC |
#           skip N WHY | diag MSG... | done_testing | bail_out WHY | t_abort WHY
# Daemon:   base_conf | write_conf TEXT | start_acceptd TEXT |
#           stop_acceptd [SIGNAL [SECONDS]] | run_bounded SECONDS CMD...
# Waiting:  wait_for 'SHELL CONDITION' SECONDS (every 50 ms, bounded)
#           (with alive, now_ms and free_port: from tools/shell.sh)
# Control:  ctl ARGS... (acceptctl on this test's daemon, bounded) |
#           jctl FILTER ARGS... (jq -r FILTER over what ctl -j ARGS says)
# Sockets:  free_port | listen_inode PORT | conns STATE PORT |
#           ss_queue ADDR | ss_listeners ADDR | two_conf ($V4 and $V6) |
#           worker_pids | proc_title PID | alive PID | now_ms
# Workers:  children | tracked (every child listed by status -j) |
#           diag_tracked | passive_opens (the kernel's Tcp PassiveOpens)
#
# Run from the top of the tree; TEST_BUILD (default .) names the build
# whose binaries are tested (.san for the sanitizer build).
#
# Conditions for wait_for are single-quoted on purpose: evaluated later.
# shellcheck shell=bash disable=SC2016,SC2034,SC2119,SC2120

# shellcheck source=tools/shell.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tools/shell.sh"	# wait_for, alive...

TEST_BUILD=${TEST_BUILD:-.}
ACCEPTD=$TEST_BUILD/server/acceptd
ACCEPTCTL=$TEST_BUILD/tools/acceptctl

T_COUNT=0
T_FAILED=0
T_PLANNED=
T_DIR=
T_BIN=
T_BG_PIDS=
ACCEPTD_PID=
ACCEPTD_STATUS=
T_ALL_DAEMONS=

# --- TAP ---------------------------------------------------------------

plan()
{
	T_PLANNED=$1
	echo "1..$1"
}

skip_all()
{
	echo "1..0 # SKIP $*"
	exit 0
}

# On stderr, as Test::More's diag: prove shows it even when not verbose,
# so a failure says why in what prove prints.
diag()
{
	printf '%s\n' "$@" | sed 's/^/# /' >&2
}

# Indented file contents as diagnostics, the last lines only.
diag_file()
{
	[ -s "$1" ] || { diag "($1 is empty)"; return 0; }
	diag "--- $1 (last 20 lines):"
	tail -n 20 "$1" | sed 's/^/#   /'
}

t_result()
{
	T_COUNT=$((T_COUNT + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_COUNT - $2"
		return 0
	fi
	T_FAILED=$((T_FAILED + 1))
	echo "not ok $T_COUNT - $2"
	echo "#   Failed test $T_COUNT: $2" >&2
	return 1
}

pass()	{ t_result 0 "$1"; }
fail()	{ t_result 1 "$1"; }

# ok DESC CMD [ARG...]: passes when CMD exits 0.  CMD runs in this shell,
# so it may set variables.
ok()
{
	local desc=$1 st
	shift
	"$@"
	st=$?
	t_result "$st" "$desc" && return 0
	diag "command failed (exit $st): $*"
	return 1
}

is()
{
	if [ "$1" = "$2" ]; then
		t_result 0 "$3"
		return 0
	fi
	t_result 1 "$3"
	diag "got:  '$1'" "want: '$2'"
	return 1
}

like()
{
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		t_result 0 "$3"
		return 0
	fi
	t_result 1 "$3"
	diag "got:" "$1" "want a match for: $2"
	return 1
}

unlike()
{
	if ! printf '%s\n' "$1" | grep -Eq -- "$2"; then
		t_result 0 "$3"
		return 0
	fi
	t_result 1 "$3"
	diag "got:" "$1" "want no match for: $2"
	return 1
}

skip()
{
	local i=0
	while [ "$i" -lt "$1" ]; do
		T_COUNT=$((T_COUNT + 1))
		echo "ok $T_COUNT # skip $2"
		i=$((i + 1))
	done
}

done_testing()
{
	[ -n "$T_PLANNED" ] || echo "1..$T_COUNT"
	if [ -n "$T_PLANNED" ] && [ "$T_PLANNED" -ne "$T_COUNT" ]; then
		diag "planned $T_PLANNED tests, ran $T_COUNT"
		[ "$T_FAILED" -gt 0 ] || T_FAILED=1
	fi
	[ "$T_FAILED" -gt 254 ] && T_FAILED=254
	exit "$T_FAILED"
}

# Stop the whole prove run: the harness itself cannot go on.
bail_out()
{
	echo "Bail out! $*"
	exit 255
}

# This file cannot go on (usually: the daemon did not start); the tests
# not run show up as a plan mismatch.
t_abort()
{
	diag "giving up: $*"
	[ -n "$ACCEPTD_LOG" ] && diag_file "$ACCEPTD_LOG"
	exit 1
}

need_cmd()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
		    skip_all "$c not installed (make deps installs it)"
	done
}

# --- time and waiting ----------------------------------------------------

# run_bounded SECONDS CMD...: CMD killed if it outlives SECONDS (exit 124).
run_bounded()
{
	local s=$1
	shift
	timeout -k 1 "$s" "$@"
}

# --- processes -----------------------------------------------------------

proc_title()
{
	ps -o args= -p "$1" 2>/dev/null
}

# Children of the master: its workers, one pid a line, sorted.
worker_pids()
{
	pgrep -P "${1:-$ACCEPTD_PID}" 2>/dev/null | sort -n
}

# "pid title" for each worker.
worker_titles()
{
	local p
	for p in $(worker_pids "$@"); do
		echo "$p $(proc_title "$p")"
	done
}

# The pid of worker N (by its title), or nothing.
worker_pid()
{
	worker_titles | awk -v n="$1" \
	    '$2 == "acceptd:" && $3 == "worker" && $4 == n { print $1 }'
}

# kill_tree PID: SIGKILL to PID's children, then PID.  Background jobs run
# under timeout(1); killing only timeout would leave its child running.
kill_tree()
{
	local kids
	kids=$(pgrep -P "$1" 2>/dev/null | tr "\n" " ")
	# shellcheck disable=SC2086
	kill -KILL $kids "$1" 2>/dev/null
}

# binaries_for_others: copies of acceptd and acceptctl that another user
# can run, in OTHERS_ACCEPTD and OTHERS_ACCEPTCTL, whatever T_DIR's mode.
# The tree itself may be out of their reach (a clone in a 0700 folder such
# as mktemp -d makes).
binaries_for_others()
{
	T_BIN=$(mktemp -d "${TMPDIR:-/tmp}/acceptd-bin.XXXXXX") ||
	    bail_out "mktemp failed"
	chmod 0755 "$T_BIN"
	cp "$ACCEPTD" "$ACCEPTCTL" "$T_BIN/"
	OTHERS_ACCEPTD=$T_BIN/${ACCEPTD##*/}
	OTHERS_ACCEPTCTL=$T_BIN/${ACCEPTCTL##*/}
}

t_bg()
{
	T_BG_PIDS="$T_BG_PIDS $1"
}

# --- sockets -------------------------------------------------------------

# hold_client: a client that connects to $PORT and stays (20 s at most);
# its pid (timeout's, which passes SIGTERM on to nc) in HOLDER_PID.
# Disowned: killing it is no news.
hold_client()
{
	timeout -k 1 20 nc -d 127.0.0.1 "$PORT" >/dev/null 2>&1 &
	HOLDER_PID=$!
	t_bg "$HOLDER_PID"
	disown "$HOLDER_PID"
}

# Socket inode of the listener on PORT: the same number means the very
# same socket.
listen_inode()
{
	ss -Htlne "( sport = :$1 )" | grep -o 'ino:[0-9]*' | head -n 1
}

# Number of server-side sockets of PORT in STATE (ss state name).
conns()
{
	ss -Htn state "$1" "( sport = :$2 )" | grep -c .
}

# Two listen addresses, $V4 and $V6 (the test sets them): their config
# lines, and each address's sockets as the kernel lists them.
two_conf()
{
	printf 'listen %s\nlisten %s\ncontrol %s\npidfile %s\n' "$V4" "$V6" \
	    "$T_DIR/ctl.sock" "$T_DIR/acceptd.pid"
}

# ss_queue ADDR: the kernel's accept queue of ADDR, over all its sockets.
ss_queue()
{
	ss -Hltn "( sport = :${1##*:} )" |
	    awk -v a="$1" '$4 == a { q += $2 } END { print q + 0 }'
}

# ss_listeners ADDR: how many listening sockets ADDR has.
ss_listeners()
{
	ss -Hltn "( sport = :${1##*:} )" | awk -v a="$1" '$4 == a' | grep -c .
}

# --- the daemon ----------------------------------------------------------

# The lines every test needs: its port, and control socket and pidfile in
# its own folder.
base_conf()
{
	printf 'listen 127.0.0.1:%s\ncontrol %s\npidfile %s\n' \
	    "$PORT" "$T_DIR/ctl.sock" "$T_DIR/acceptd.pid"
}

write_conf()
{
	printf '%s\n' "$1" >"$ACCEPTD_CONF"
}

listening()
{
	[ -n "$(ss -Htln "( sport = :$1 )")" ]
}

# start_acceptd TEXT: write TEXT as the config, start acceptd -d on it in
# the background (stderr in $ACCEPTD_LOG) and wait, at most 5 s, until it
# listens.  Readiness comes from ss, not from a probe connection, which
# would itself be a client (and a CLOSE_WAIT under close-mode never).
start_acceptd()
{
	: "${ACCEPTD_FLAGS:=}"
	write_conf "$1"
	: >"$ACCEPTD_LOG"
	# shellcheck disable=SC2086
	"$ACCEPTD" -d $ACCEPTD_FLAGS -f "$ACCEPTD_CONF" >"$T_DIR/stdout" \
	    2>>"$ACCEPTD_LOG" &
	ACCEPTD_PID=$!
	T_ALL_DAEMONS="$T_ALL_DAEMONS $ACCEPTD_PID"
	if wait_for 'listening "$PORT" || ! alive "$ACCEPTD_PID"' 5 &&
	    alive "$ACCEPTD_PID" && listening "$PORT"; then
		return 0
	fi
	diag "acceptd (pid $ACCEPTD_PID) is not listening on $PORT after 5 s"
	diag_file "$ACCEPTD_LOG"
	return 1
}

# stop_acceptd [SIGNAL [SECONDS]]: signal the master (TERM), wait for it
# to exit; ACCEPTD_STATUS is its exit status, or "timeout" (then it was
# killed).  Workers left behind are reported and killed.
stop_acceptd()
{
	local sig=${1:-TERM} secs=${2:-5} kids rc=0 p
	ACCEPTD_STATUS=
	[ -n "$ACCEPTD_PID" ] || return 1
	kids=$(worker_pids)
	kill "-$sig" "$ACCEPTD_PID" 2>/dev/null
	if wait_for '! alive "$ACCEPTD_PID"' "$secs"; then
		wait "$ACCEPTD_PID" 2>/dev/null
		ACCEPTD_STATUS=$?
	else
		ACCEPTD_STATUS=timeout
		kill -KILL "$ACCEPTD_PID" 2>/dev/null
		wait "$ACCEPTD_PID" 2>/dev/null
		rc=1
	fi
	# shellcheck disable=SC2086
	if [ -n "$kids" ] && ! wait_for 'no_alive $kids' 2; then
		diag "workers still running after the master exited:" $kids
		for p in $kids; do kill -KILL "$p" 2>/dev/null; done
		rc=1
	fi
	ACCEPTD_PID=
	return $rc
}

no_alive()
{
	local p
	for p in "$@"; do
		alive "$p" && return 1
	done
	return 0
}

# Sanitizer reports in any log fail the file even when every test passed.
t_sanitizer_check()
{
	local f
	for f in "$T_DIR"/*.log; do
		[ -f "$f" ] || continue
		if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
			echo "# sanitizer report in $f:"
			sed 's/^/#   /' "$f" | head -n 60
			return 1
		fi
	done
	return 0
}

t_cleanup()
{
	local st=$? p kids
	trap - EXIT
	for p in $T_BG_PIDS; do
		kill_tree "$p"
	done
	for p in $T_ALL_DAEMONS; do
		alive "$p" || continue
		kids=$(pgrep -P "$p" 2>/dev/null | tr "\n" " ")
		kill -TERM "$p" 2>/dev/null
		# shellcheck disable=SC2086
		wait_for '! alive "$p"' 3 || kill -KILL "$p" $kids 2>/dev/null
		# shellcheck disable=SC2086
		wait_for 'no_alive $kids' 2 || kill -KILL $kids 2>/dev/null
	done
	if [ -n "$T_DIR" ] && [ -d "$T_DIR" ]; then
		t_sanitizer_check || { [ "$st" -ne 0 ] || st=1; }
		if [ "$st" -ne 0 ] || [ "$T_FAILED" -gt 0 ]; then
			echo "# $0 failed: its files are kept in $T_DIR" >&2
		elif [ -n "$T_KEEP" ]; then
			echo "# kept $T_DIR"
		else
			rm -rf "$T_DIR"
		fi
	fi
	[ -z "$T_BIN" ] || rm -rf "$T_BIN"
	exit "$st"
}

# --- set-up on sourcing --------------------------------------------------

[ -f tests/lib.sh ] || bail_out "run the tests from the top of the tree"
# --- control ------------------------------------------------------------

ctl()
{
	run_bounded 5 "$ACCEPTCTL" -s "$CTL_SOCK" "$@"
}

jctl()
{
	local filter=$1

	shift
	ctl -j "$@" | jq -r "$filter"
}

need_cmd ss curl nc timeout pgrep awk
[ -x "$ACCEPTD" ] || bail_out "$ACCEPTD not built (run make, or set TEST_BUILD)"

# The accept kind for one socket polled by every worker, woken as few as
# the backend can: exclusive, or shared on a backend without an exclusive
# wake-up (kqueue), which refuses exclusive.  Tests that switch between
# kinds use it; what only exclusive shows is checked by the scenarios.
if accept_exclusive "$ACCEPTD"; then
	EXCLUSIVE=exclusive
else
	EXCLUSIVE=shared
	diag "this build has no exclusive wake-up: accept shared stands in for exclusive"
fi

T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/acceptd-test.XXXXXX") ||
    bail_out "mktemp failed"
trap t_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
ACCEPTD_CONF=$T_DIR/acceptd.conf
ACCEPTD_LOG=$T_DIR/acceptd.log
CTL_SOCK=$T_DIR/ctl.sock
PORT=$(free_port)
[ -n "$PORT" ] || bail_out "no free port"

# --- workers tracked: every child of the master is in status -j ---------

# The master's live children (a zombie is gone, whether reaped or not),
# sorted, on one line.
children()
{
	local p
	for p in $(worker_pids); do
		alive "$p" && echo "$p"
	done | tr '\n' ' ' | sed 's/ $//'
}

# Every child of the master is listed in status -j, as a worker or as a
# retiring one (pid 0, a worker waiting to respawn, left out), and
# nothing else is.  What was compared stays for diag_tracked.
tracked()
{
	local c l
	c=$(children)
	TRACK_JSON=$(ctl -j status)
	l=$(printf '%s\n' "$TRACK_JSON" | jq -r '[.workers[].pid,
	    (.retiring // [])[].pid] | map(select(. != 0)) | sort |
	    map(tostring) | join(" ")')
	TRACK_SEEN="children: $c; listed: $l"
	[ -n "$c" ] && [ "$c" = "$l" ]
}

# What the last tracked() compared, for a diagnostic.
diag_tracked()
{
	diag "$TRACK_SEEN" "status: $(printf '%s\n' "$TRACK_JSON" |
	    jq -c '{workers: [.workers[] | {id, pid, state}],
	    retiring: (.retiring // [])}' 2>/dev/null)"
}

# Connections the kernel completed for a listener (Tcp PassiveOpens):
# paces the reloads by the load's progress, nothing is asserted on it.
passive_opens()
{
	awk '$1 == "Tcp:" { if (!n++) { for (i = 2; i <= NF; i++)
	    if ($i == "PassiveOpens") c = i } else print $c }' /proc/net/snmp
}

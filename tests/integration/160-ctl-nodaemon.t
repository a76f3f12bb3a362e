#!/usr/bin/env bash
# No daemon to talk to: acceptctl exits 2 and names the socket it tried.
# And the default socket path: acceptctl finds acceptd by acceptd's rule.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh

plan 20

# noreach DESC CMD...: CMD exits 2; its stderr is in $err.
noreach()
{
	local desc=$1 st
	shift
	err=$(run_bounded 5 "$@" 2>&1 >/dev/null)
	st=$?
	is "$st" 2 "$desc"
}

noreach "-s /nonexistent/x.sock status: exit 2" \
    "$ACCEPTCTL" -s /nonexistent/x.sock status
like "$err" "/nonexistent/x\.sock" "the message names the socket path"
like "$err" "acceptd -f" "and suggests starting acceptd"
noreach "the same with -j: exit 2" "$ACCEPTCTL" -j -s /nonexistent/x.sock status
noreach "a command that changes things: exit 2" \
    "$ACCEPTCTL" -s /nonexistent/x.sock pause

: >"$T_DIR/plain"
noreach "a path that is a plain file: exit 2" "$ACCEPTCTL" -s "$T_DIR/plain" status
like "$err" "$T_DIR/plain" "the message names it"

# acceptd refuses to take over a control path that is not a socket.
printf 'precious\n' >"$T_DIR/plain"
printf 'listen 127.0.0.1:%s\ncontrol %s\npidfile %s\nworkers 1\n' \
    "$PORT" "$T_DIR/plain" "$T_DIR/plain.pid" >"$T_DIR/plain.conf"
out=$(run_bounded 3 "$ACCEPTD" -d -f "$T_DIR/plain.conf" 2>&1 </dev/null)
is "$?" 1 "acceptd with control on a plain file: exits 1"
like "$out" "$T_DIR/plain.*not a socket" "and says the path is not a socket"
is "$(cat "$T_DIR/plain")" precious "the file is left alone"

# A socket left behind by a daemon that was killed: nobody listens on it.
ok "acceptd starts" start_acceptd "$(base_conf)
workers 1" || t_abort "acceptd did not start"
kids=$(worker_pids)
disown "$ACCEPTD_PID"	# its death by SIGKILL is no news
# shellcheck disable=SC2086
kill -KILL "$ACCEPTD_PID" $kids
wait_for '! alive "$ACCEPTD_PID"' 3
ACCEPTD_PID=
ok "the killed daemon left its socket" test -S "$T_DIR/ctl.sock"
noreach "a stale socket: exit 2" "$ACCEPTCTL" -s "$T_DIR/ctl.sock" status
like "$err" "$T_DIR/ctl\.sock.*(refused|Connection)" \
    "the message names it and says why"

# --- the default path, with no -s: as nobody, whose rule is testable ---
if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
	skip 6 "needs root and user nobody to try the default path as another user"
	done_testing
fi
as_nobody=(setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups)
chmod 0711 "$T_DIR"
binaries_for_others
xdg=$T_DIR/xdg
mkdir -m 0700 "$xdg"
chown nobody "$xdg"
noreach "nobody, no -s, no daemon: exit 2" \
    "${as_nobody[@]}" env XDG_RUNTIME_DIR="$xdg" "$OTHERS_ACCEPTCTL" status
like "$err" "$xdg/acceptd/acceptd\.sock" \
    "the message names \$XDG_RUNTIME_DIR/acceptd/acceptd.sock"

printf 'listen 127.0.0.1:%s\nworkers 1\nshutdown-timeout 1s\n' "$PORT" \
    >"$T_DIR/nobody.conf"
"${as_nobody[@]}" env XDG_RUNTIME_DIR="$xdg" "$OTHERS_ACCEPTD" -d -f "$T_DIR/nobody.conf" \
    >/dev/null 2>"$T_DIR/nobody.log" &
npid=$!
t_bg "$npid"
wait_for 'test -S "$xdg/acceptd/acceptd.sock" || ! alive "$npid"' 5
ok "acceptd as nobody puts its socket at the default path" \
    test -S "$xdg/acceptd/acceptd.sock" || diag_file "$T_DIR/nobody.log"
out=$(run_bounded 5 "${as_nobody[@]}" env XDG_RUNTIME_DIR="$xdg" "$OTHERS_ACCEPTCTL" status 2>&1)
st=$?
is "$st" 0 "acceptctl as nobody, no -s, finds it"
like "$out" "^master pid $npid\b" "and talks to that daemon"
run_bounded 5 "${as_nobody[@]}" env XDG_RUNTIME_DIR="$xdg" "$OTHERS_ACCEPTCTL" stop >/dev/null 2>&1
if wait_for '! alive "$npid"' 5; then
	wait "$npid"
	is "$?" 0 "stop: that daemon exits 0"
else
	fail "stop: that daemon exits 0"
	kill -TERM "$npid" 2>/dev/null
fi
chmod 0700 "$T_DIR"

done_testing

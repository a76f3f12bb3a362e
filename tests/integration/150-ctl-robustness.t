#!/usr/bin/env bash
# The control socket under abuse: its mode, another uid, the raw line
# protocol, a 1 MiB line, binary junk, 200 clients at once, and a tracer
# that never reads.  Through all of it the daemon answers and serves.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh
need_cmd jq socat

plan 41

# raw: the lines of stdin sent as they are; the daemon's answer on stdout.
raw()
{
	run_bounded 5 socat -t 2 - "UNIX-CONNECT:$CTL_SOCK"
}

served()
{
	[ "$(run_bounded 5 curl -s --max-time 3 "$url")" = "Hello, world" ]
}

answers()
{
	local out
	out=$(ctl version 2>&1) && [ "${out#acceptd }" != "$out" ]
}

ok "acceptd starts with 2 workers" start_acceptd "$(base_conf)
workers 2
protocol http
shutdown-timeout 1s" || t_abort "acceptd did not start"
url=http://127.0.0.1:$PORT/
version=$(ctl version)

# --- permissions ---
is "$(stat -c '%a %U' "$CTL_SOCK")" "600 $(id -un)" \
    "the control socket has mode 0600 and the daemon's owner"

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	as_nobody()
	{
		run_bounded 5 setpriv --reuid=nobody --regid="$(id -gn nobody)" \
		    --clear-groups "$@"
	}
	binaries_for_others
	out=$(as_nobody "$OTHERS_ACCEPTCTL" -s "$CTL_SOCK" status 2>&1)
	st=$?
	is "$st" 2 "nobody, socket as created: acceptctl cannot connect (exit 2)"
	like "$out" "permission denied \\(a folder on the way is closed to uid [0-9]+\\); run acceptctl as the daemon's user or root" \
	    "and says a folder on the way is closed, and what to do"
	# The folder open, the socket still 0600: the socket's owner is named.
	chmod 0711 "$T_DIR"
	out=$(as_nobody "$OTHERS_ACCEPTCTL" -s "$CTL_SOCK" status 2>&1)
	st=$?
	is "$st" 2 "nobody, socket 0600: acceptctl cannot connect (exit 2)"
	like "$out" "permission denied: the daemon runs as uid $(id -u) \\($(id -un)\\); run acceptctl as that user or root" \
	    "and names the daemon's user and what to do"
	# Open the socket too, to reach the daemon's own check.
	chmod 0666 "$CTL_SOCK"
	# Read only: the refusal must come unasked.
	out=$(as_nobody socat -u "UNIX-CONNECT:$CTL_SOCK" - 2>&1)
	st=$?
	is "$st:${out%% (*}" "0:error: permission denied" \
	    "nobody through an open socket: 'error: permission denied (...)', then closed"
	out=$(as_nobody "$OTHERS_ACCEPTCTL" -s "$CTL_SOCK" status 2>&1)
	st=$?
	is "$st" 1 "nobody's acceptctl: refused by the daemon (exit 1)"
	like "$out" "permission denied" "and says 'permission denied'"
	chmod 0600 "$CTL_SOCK"
	chmod 0700 "$T_DIR"
	ok "root is still answered" answers
else
	skip 8 "needs root and user nobody to connect from another uid"
fi

# --- the raw protocol ---
out=$(printf 'status\nfoo\n\n-j version\nversion extra\nwatch\nsta\n' | raw)
is "$(printf '%s\n' "$out" | grep -cE '^(ok|error: .+)$')" 7 \
    "seven lines in, seven answers (ok or error: ...)"
like "$out" "^error: watch is acceptctl's own" \
    "watch sent to the daemon: an error saying it is acceptctl's"
like "$(printf '%s\n' "$out" | sed -n 2p)" "^worker " \
    "status: table lines before ok"
like "$out" 'error: unknown command "foo"; valid commands are status, workers' \
    "an unknown command: error naming the valid commands"
like "$out" '^\{"version":"[0-9.]+"\}$' "-j version: one JSON line"
is "$(printf '%s\n' "$out" | tail -n 1)" ok "the last command (sta) answered ok"
is "$(printf '%s\n' "$out" | grep -c '^master pid')" 2 \
    "'sta' after errors is still status"

# --- a 1 MiB line ---
out=$({ head -c 1048576 /dev/zero | tr '\0' a; printf '\nversion\n'; } | raw)
like "$(printf '%s\n' "$out" | head -n 1)" "^error: .*(long|limit)" \
    "a 1 MiB line: the answer is an error about its length"
is "$(printf '%s\n' "$out" | tail -n 2 | tr '\n' ' ')" "$version ok " \
    "the same connection then answers version" ||
    diag "$(printf '%s\n' "$out" | cut -c 1-100)"
is "$(printf '%s\n' "$out" | grep -c .)" 3 "one error for the long line, no more"

# --- binary junk: no letters, so no line can be a command ---
head -c 4096 /dev/urandom | tr -d 'A-Za-z' >"$T_DIR/junk"
njunk=$(($(tr -dc '\n' <"$T_DIR/junk" | wc -c) + 1))
out=$({ cat "$T_DIR/junk"; printf '\nversion\n'; } | raw | LC_ALL=C tr -d '\r')
is "$(printf '%s\n' "$out" | LC_ALL=C grep -ac '^error: ')" "$njunk" \
    "binary junk: each of its $njunk lines gets an error"
is "$(printf '%s\n' "$out" | tail -n 2 | tr '\n' ' ')" "$version ok " \
    "then version is answered"
ok "the daemon is up" alive "$ACCEPTD_PID"
ok "and serves" served

# --- 200 clients at once ---
mkdir "$T_DIR/cl"
cpids=
for i in $(seq 1 200); do
	timeout -k 1 15 socat -u "UNIX-CONNECT:$CTL_SOCK" \
	    "CREATE:$T_DIR/cl/$i" 2>/dev/null &
	cpids="$cpids $!"
	t_bg $!
	disown $!
done
refused()
{
	grep -l '^error: ' "$T_DIR"/cl/* 2>/dev/null | wc -l
}
# live [held]: clients still connected; with "held", only those not told
# they are refused.
live()
{
	local p i=0 n=0
	for p in $cpids; do
		i=$((i + 1))
		alive "$p" || continue
		[ -n "$1" ] && grep -q '^error: ' "$T_DIR/cl/$i" 2>/dev/null &&
		    continue
		n=$((n + 1))
	done
	echo "$n"
}
wait_for '[ "$(refused)" -ge 1 ] && [ $(($(refused) + $(live held))) -eq 200 ]' 10
nref=$(refused)
nheld=$(live held)
ok "200 clients: the daemon refuses some ($nref) with an error" test "$nref" -ge 1
ok "and holds the others ($nheld) open" test "$nheld" -ge 1 -a \
    $((nref + nheld)) -eq 200
wait_for '[ "$(live)" -eq "$nheld" ]' 5
is "$(live)" "$nheld" "the refused ones are closed by the daemon"
like "$(grep -h '^error: ' "$T_DIR"/cl/* | sort -u)" "^error: [a-z]" \
    "the refusal says why: $(grep -h '^error: ' "$T_DIR"/cl/* | sort -u | head -n 1)"
out=$(ctl status 2>&1)
st=$?
is "$st" 1 "while full, one more acceptctl is refused (exit 1)"
like "$out" "too many|busy|limit" "with a message that says so"
ok "meanwhile the workers serve" served
# shellcheck disable=SC2086
kill -TERM $cpids 2>/dev/null
# shellcheck disable=SC2086
wait_for 'no_alive $cpids' 5
wait_for answers 3
ok "the 200 gone: a normal command works" answers
ok "the daemon is up" alive "$ACCEPTD_PID"

# --- a tracer that never reads, while traffic flows ---
# socat -u only writes to the socket; the fifo holds its stdin open.
mkfifo "$T_DIR/tracer.in"
timeout -k 1 20 socat -u "OPEN:$T_DIR/tracer.in" \
    "UNIX-CONNECT:$CTL_SOCK" 2>/dev/null &
tracer=$!
t_bg "$tracer"
exec 7>"$T_DIR/tracer.in"
printf 'trace\n' >&7
# 16000 keep-alive requests: about 1.5 MB of trace nobody reads.
for i in 1 2; do
	run_bounded 20 curl -s -o /dev/null --max-time 15 -w '%{http_code}\n' \
	    "$url?[1-8000]" >"$T_DIR/load.$i" 2>&1 &
	t_bg $!
	eval "load$i=\$!"
done
wait_for '[ "$(cat "$T_DIR"/load.* | grep -c .)" -ge 4000 ]' 10
t0=$(now_ms)
out=$(ctl -j status)
st=$?
elapsed=$(($(now_ms) - t0))
is "$st" 0 "under load, with a tracer not reading: status answers"
ok "within 1 s ($elapsed ms)" test "$elapsed" -lt 1000
# shellcheck disable=SC2154
wait "$load1"
st1=$?
# shellcheck disable=SC2154
wait "$load2"
is "$st1 $?" "0 0" "both load clients finish"
is "$(cat "$T_DIR"/load.* | sort | uniq -c | awk '{ print $1, $2 }')" \
    "16000 200" "all 16000 requests answered 200"
ok "the daemon is up" alive "$ACCEPTD_PID"
ok "it answers the next well-formed command" answers
ok "and serves" served
grep -q 'not reading' "$ACCEPTD_LOG" &&
    diag "the daemon cut the tracer: $(grep 'not reading' "$ACCEPTD_LOG")"
exec 7>&-
wait "$tracer" 2>/dev/null

stop_acceptd TERM 5
is "$ACCEPTD_STATUS" 0 "SIGTERM: exits 0"

done_testing

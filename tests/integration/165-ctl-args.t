#!/usr/bin/env bash
# acceptctl's command line: an argument holding a line break or a blank,
# or empty, is refused before anything is sent (finding 5: a newline used
# to smuggle in "stop"); an ambiguous prefix is refused naming what it
# could mean (finding 12: "re" used to run resume); exact names and
# unique prefixes still work.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh
need_cmd jq socat

plan 51

# raw: the lines of stdin sent as they are; the daemon's answer on stdout.
raw()
{
	run_bounded 5 socat -t 2 - "UNIX-CONNECT:$CTL_SOCK"
}

states()
{
	ctl -j status | jq -r '[.workers[].state] | join(" ")'
}

served()
{
	[ "$(run_bounded 5 curl -s --max-time 3 "$url")" = "Hello, world" ]
}

# refused DESC WANT ARGS...: acceptctl ARGS exits 1 with a message matching
# WANT, on the daemon's socket and on one where nobody listens (exit 1,
# not 2: it never tried to connect); the daemon runs, unchanged.
refused()
{
	local desc=$1 want=$2 out st
	shift 2
	out=$(ctl "$@" 2>&1)
	st=$?
	is "$st" 1 "$desc: exit 1" || diag "$out"
	like "$out" "$want" "$desc: says why"
	out=$(run_bounded 5 "$ACCEPTCTL" -s "$T_DIR/nobody.sock" "$@" 2>&1)
	is "$?" 1 "$desc: refused before connecting" || diag "$out"
	ok "$desc: the daemon runs, its config unchanged" unchanged
}

unchanged()
{
	alive "$ACCEPTD_PID" && [ "$(ctl config)" = "$config" ]
}

ok "acceptd starts with 2 workers" start_acceptd "$(base_conf)
workers 2
protocol http
shutdown-timeout 1s" || t_abort "acceptd did not start"
url=http://127.0.0.1:$PORT/
config=$(ctl config)

# --- arguments ---
refused "a newline in an argument (finding 5)" \
    '^acceptctl: set: argument 2 holds a newline at byte 5;' \
    set protocol "$(printf 'echo\nstop')"
refused "a carriage return" \
    '^acceptctl: set: argument 2 holds a carriage return at byte 5' \
    set protocol "$(printf 'echo\rstop')"
refused "a space" '^acceptctl: set: argument 1 holds a space at byte 9' \
    set 'protocol echo' http
refused "a tab" '^acceptctl: pause: argument 1 holds a tab at byte 2' \
    pause "$(printf '0\t1')"
refused "a trailing newline" \
    '^acceptctl: pause: argument 1 holds a newline at byte 2' \
    pause $'0\n'
refused "an empty argument" '^acceptctl: set: argument 2 is empty' \
    set protocol ''
ok "after all that: the workers serve" served

# --- prefixes ---
ok "pause exits 0" ctl pause
is "$(states)" "paused paused" "paused"
config=$(ctl config)
refused "re (finding 12)" \
    '^acceptctl: ambiguous command "re": reload, resume$' re
is "$(states)" "paused paused" "re ran nothing: still paused"
out=$(ctl -j st 2>&1)
st=$?
is "$st:$out" \
    '1:acceptctl: ambiguous command "st": status, stop' \
    "-j st: exit 1, naming status and stop"
like "$(ctl res 2>&1; echo "exit $?")" "accepting, 0 paused"$'\n'"exit 0$" \
    "res is resume"
is "$(states)" "accepting accepting" "res resumed"
like "$(ctl sta)" "^master pid $ACCEPTD_PID\b" "sta is status"
like "$(ctl resume 2>&1; echo "exit $?")" "exit 0$" "resume by its full name"
like "$(ctl set protocol http 2>&1; echo "exit $?")" "exit 0$" \
    "set by its full name, one-word arguments"
out=$(ctl rel 2>&1)
like "$?:$out" "^0:[0-9]+ workers" "rel is reload"
out=$(ctl frob$'\t\r' 2>&1)
is "$?:$out" '1:acceptctl: unknown command "frob\011\015"; valid commands are status, workers, pause, resume, set, config, sockets, counters, trace, watch, scale, drop, reload, mark, stop, help, version' \
    "an unknown command: shown escaped, with the valid ones"

# --- the same over the raw socket ---
ok "pause exits 0" ctl pause
out=$(printf 're\nst\nsta\n' | raw)
like "$(printf '%s\n' "$out" | sed -n 1p)" \
    '^error: ambiguous command "re": reload, resume$' \
    "raw re: error naming reload and resume"
like "$out" '^error: ambiguous command "st": status, stop$' \
    "raw st: error naming status and stop"
is "$(states)" "paused paused" "raw re: still paused"
like "$out" "^master pid $ACCEPTD_PID\b" "raw sta: status"
is "$(printf '%s\n' "$out" | tail -n 1)" ok "raw sta: ends with ok"
ok "resume exits 0" ctl resume
out=$(printf 'fo\ro\t"x\n' | raw)
like "$out" '^error: unknown command "fo\\015o"; valid commands are status' \
    "raw junk: a CR inside the word comes back escaped"

# --- sto: last, it stops the daemon ---
pid=$ACCEPTD_PID
is "$(ctl sto 2>&1; echo "exit $?")" "exit 0" "sto is stop"
if wait_for '! alive "$pid"' 5; then
	wait "$pid" 2>/dev/null
	pass "sto: the daemon exits"
else
	fail "sto: the daemon exits"
fi
ACCEPTD_PID=

done_testing

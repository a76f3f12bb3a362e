#!/usr/bin/env bash
# acceptctl trace reads like a log (issue 12): a header naming the
# columns, wall-clock times with milliseconds, control actions as events
# of their own, and a last line with exit 2 when the daemon goes away.
# shellcheck disable=SC2016,SC2034,SC2119
. tests/lib.sh

need_cmd jq

plan 10

ok "acceptd starts" start_acceptd "$(base_conf)
workers 1
shutdown-timeout 1s" || t_abort "acceptd did not start"

"$ACCEPTCTL" -s "$CTL_SOCK" trace >"$T_DIR/trace.txt" 2>"$T_DIR/trace.err" &
tpid=$!
t_bg "$tpid"
"$ACCEPTCTL" -s "$CTL_SOCK" -j trace >"$T_DIR/trace.json" 2>/dev/null &
jpid=$!
t_bg "$jpid"
wait_for '[ -s "$T_DIR/trace.txt" ]' 10
like "$(head -n 1 "$T_DIR/trace.txt")" '^time +who +conn +peer +event$' \
    "the first line names the columns"

# An action is traced once it took effect; a refused one is not.
traced_action()
{
	ctl pause >/dev/null
	ctl resume >/dev/null
	grep -qE ' control +resume$' "$T_DIR/trace.txt"
}
ok "pause and resume are traced" wait_for traced_action 10 ||
    diag_file "$T_DIR/trace.txt"
like "$(grep -m 1 ' control ' "$T_DIR/trace.txt")" \
    '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}  control +pause$' \
    "... as 'time  control  pause'"
ctl set protocol nonsense >/dev/null 2>&1
ctl set close-mode reset >/dev/null
wait_for 'grep -qE "control +set close-mode reset" "$T_DIR/trace.txt"' 10
unlike "$(cat "$T_DIR/trace.txt")" 'nonsense' "a refused set is not traced"
ctl mark checkpoint one >/dev/null
ok "mark TEXT: a line of one's own in the trace" \
    wait_for 'grep -qE " control +mark checkpoint one$" "$T_DIR/trace.txt"' 10 ||
    diag_file "$T_DIR/trace.txt"
is "$(jq -r 'select(.source == "control") | .detail' "$T_DIR/trace.json" |
    head -n 1)" "pause" "-j: {\"source\":\"control\",\"event\":\"control\",\"detail\":\"pause\"}"

# The daemon goes away: a last line, exit 2.
stop_acceptd TERM 10
wait_for '! alive '"$tpid" 10
wait "$tpid"
is "$?" 2 "the daemon gone: trace exits 2"
like "$(cat "$T_DIR/trace.err")" "acceptd at .* went away; trace ended" \
    "... with a last line saying so"
wait "$jpid"
is "$?" 2 "-j trace too"

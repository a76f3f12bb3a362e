#!/usr/bin/env bash
# acceptctl watch on a terminal fits it (issue 12): in a 30-row tmux pane
# with 100 connections the header and status stay, the socket list is cut
# with "... N more", nothing scrolls; when the daemon goes, its message
# stays on screen and the exit status is 2.
# shellcheck disable=SC2016,SC2034,SC2119
. tests/lib.sh

need_cmd tmux
ACCEPTLOAD=$TEST_BUILD/tools/acceptload

plan 9

TM=(tmux -L "acceptd-test-$$" -f /dev/null)
cleanup_tmux() { "${TM[@]}" kill-server 2>/dev/null; }
trap 'cleanup_tmux' EXIT

ok "acceptd starts" start_acceptd "$(base_conf)
workers 2
shutdown-timeout 1s" || t_abort "acceptd did not start"
"$ACCEPTLOAD" -q -p "$PORT" -n 100 -d 30s hold >/dev/null 2>&1 &
t_bg $!
ok "100 connections held" \
    wait_for '[ "$(jctl "[.workers[].connections] | add" status)" = 100 ]' 10

# The pane's shell keeps watch's exit status in a file.
"${TM[@]}" new-session -d -x 100 -y 30 -s watch \
    "$(printf '%q ' "$ACCEPTCTL" -s "$CTL_SOCK" watch 200ms); echo \$? >$(printf '%q' "$T_DIR/watch.status"); sleep 60"
screen()
{
	"${TM[@]}" capture-pane -p -t watch
}
wait_for 'screen | grep -q "more$"' 10
shot=$(screen)
like "$(printf '%s\n' "$shot" | head -n 1)" \
    '^acceptctl watch, [0-9:]+, every 200ms' "the header is the first line"
like "$shot" $'\nmaster pid [0-9]+, up' "... the status follows it"
like "$shot" $'\n1 +[0-9]+ +accepting' "... with every worker"
like "$(printf '%s\n' "$shot" | sed '/^$/d' | tail -n 1)" \
    '^… [0-9]+ more$' "the rest of the socket list is one '… N more' line"
is "$(printf '%s\n' "$shot" | awk 'length > 100' | wc -l)" 0 \
    "no line is wider than the pane"

# The daemon goes: its last frame and the message stay.
stop_acceptd TERM 10
wait_for '[ -s "$T_DIR/watch.status" ]' 15
like "$(screen)" "acceptctl: acceptd closed the connection at" \
    "the daemon gone: the message is on screen"
is "$(cat "$T_DIR/watch.status" 2>/dev/null)" 2 "... and watch exits 2" ||
    diag "$(screen | tail -n 5)"

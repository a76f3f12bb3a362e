#!/usr/bin/env bash
# log-file (issue 12): the master and the workers write to it, each
# connection's accept and close at debug; a reload opens it again, so a
# file moved away by logrotate is left for a new one; daemonized, acceptd
# says on the terminal where its log goes.
# shellcheck disable=SC2016,SC2034,SC2119
. tests/lib.sh

need_cmd curl jq

plan 9

LOG=$T_DIR/acceptd-file.log
ok "acceptd starts with log-file and log-level debug" start_acceptd \
    "$(base_conf)
workers 2
log-level debug
log-file $LOG" || t_abort "acceptd did not start"
run_bounded 5 curl -s -o /dev/null "http://127.0.0.1:$PORT/"
ok "a connection's accept and close are in the file" wait_for \
    'grep -qE "worker [0-9]: connection [0-9]+ from 127\.0\.0\.1:[0-9]+ closed after [0-9]+ ms" "$LOG"' 10
like "$(cat "$LOG")" "listening on 127\\.0\\.0\\.1:$PORT" \
    "the master's lines are in it too"

# logrotate: move the file away, reload; everyone writes to a new one.
mv "$LOG" "$LOG.1"
ctl reload >/dev/null
is "$?" 0 "reload exits 0"
old=$(jctl '.workers[0].pid' status)
kept=$(jctl '.workers[1].pid' status)	# runs on from before the reload
kill -KILL "$old"
ok "the respawn is logged in the new file" \
    wait_for '[ -f "$LOG" ] && grep -q "pid $old) killed by signal 9" "$LOG"' 10
wait_for '[ "$(jctl ".workers[0].state" status)" = accepting ]' 10
served_by_kept()
{
	run_bounded 5 curl -s -o /dev/null "http://127.0.0.1:$PORT/"
	grep -q "acceptd\[$kept\]: worker 1: connection .* closed after" "$LOG"
}
ok "a worker that ran before the reload writes to the new file" \
    wait_for served_by_kept 10
unlike "$(cat "$LOG.1")" "killed by signal 9" "the old file got nothing after"
stop_acceptd TERM 5

# Daemonized, the terminal is told where the log goes.
write_conf "$(base_conf)
log-file $LOG"
"$ACCEPTD" -f "$ACCEPTD_CONF" 2>"$T_DIR/front.err"
wait_for '[ -s "$T_DIR/acceptd.pid" ]' 5
like "$(cat "$T_DIR/front.err")" "running in the background; logging to $LOG" \
    "in the background: the terminal is told the log file"
pid=$(cat "$T_DIR/acceptd.pid" 2>/dev/null)
[ -n "$pid" ] && kill -TERM "$pid"
wait_for '! alive '"${pid:-0}" 10
write_conf "$(base_conf)"
"$ACCEPTD" -f "$ACCEPTD_CONF" 2>"$T_DIR/front.err"
wait_for '[ -s "$T_DIR/acceptd.pid" ]' 5
like "$(cat "$T_DIR/front.err")" "logging to syslog|no syslog socket \\(/dev/log\\): its log is lost; set log-file" \
    "without log-file: syslog, or a warning that there is none"
pid=$(cat "$T_DIR/acceptd.pid" 2>/dev/null)
[ -n "$pid" ] && kill -TERM "$pid"
wait_for '! alive '"${pid:-0}" 10

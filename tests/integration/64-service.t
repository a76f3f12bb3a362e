#!/usr/bin/env bash
# Running as a service (issue 12): with $NOTIFY_SOCKET set, acceptd says
# READY=1 once its first workers are ready, RELOADING=1 and READY=1
# around a reload, STOPPING=1 when it stops (systemd's Type=notify); the
# unit and the rc.d script are valid and make install puts them in place.
# shellcheck disable=SC2016,SC2034,SC2119
. tests/lib.sh

need_cmd socat jq

plan 11

NS=$T_DIR/notify.sock
socat -u "UNIX-RECV:$NS" - >"$T_DIR/notify.out" 2>/dev/null &
t_bg $!
disown $!	# killed at the end: no news
wait_for '[ -S "$NS" ]' 5
export NOTIFY_SOCKET=$NS
ok "acceptd starts with NOTIFY_SOCKET set" start_acceptd "$(base_conf)
workers 3"
unset NOTIFY_SOCKET
ok "it says READY=1" wait_for 'grep -q "READY=1" "$T_DIR/notify.out"' 10
is "$(jctl '[.workers[].state] | map(select(. == "accepting")) | length' \
    status)" 3 "... with every worker ready (all 3 accepting)"
ctl reload >/dev/null
ok "a reload: RELOADING=1, then READY=1 again" \
    wait_for 'grep -q "READY=1RELOADING=1READY=1" "$T_DIR/notify.out"' 10
stop_acceptd TERM 10
is "$ACCEPTD_STATUS" 0 "SIGTERM: exits 0"
like "$(cat "$T_DIR/notify.out")" "STOPPING=1$" "... after STOPPING=1"

# The unit, with the paths filled in as make install does, for binaries
# that exist: systemd's own check (where systemd-analyze is).
unit=$T_DIR/unit
mkdir -p "$unit/sbin" "$unit/etc"
cp "$ACCEPTD" "$unit/sbin/acceptd"
: >"$unit/etc/acceptd.conf"
sed "s|@PREFIX@|$unit|g" conf/acceptd.service >"$unit/acceptd.service"
if command -v systemd-analyze >/dev/null 2>&1; then
	out=$(systemd-analyze verify --man=no "$unit/acceptd.service" 2>&1)
	is "$?:$out" "0:" "systemd-analyze verify: the unit is valid"
else
	skip 1 "systemd-analyze is not installed"
fi
like "$(grep -E '^(Type|ExecStart|ExecReload)=' "$unit/acceptd.service" | tr '\n' ' ')" \
    "Type=notify.*ExecStart=$unit/sbin/acceptd -d -f $unit/etc/acceptd.conf.*ExecReload=/bin/kill -HUP" \
    "the unit: Type=notify, acceptd -d on the installed config, reload by SIGHUP"
sh -n conf/acceptd.rc
is "$?" 0 "the rc.d script is valid sh"
# Where make install puts them (a dry run: nothing is built or written).
plan_out=$(make -n install DESTDIR=/nonexistent PREFIX=/usr/local 2>&1)
like "$plan_out" "/nonexistent/usr/local/lib/systemd/system/acceptd.service" \
    "make install: the unit in PREFIX/lib/systemd/system (Linux)"
unlike "$(head -n 1 conf/acceptd.conf)" "make run" \
    "the sample config's first line does not talk about make run"

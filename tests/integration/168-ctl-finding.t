#!/usr/bin/env bash
# How acceptctl finds the daemon: -s, else the config file's control
# (-f), else $ACCEPTD_SOCKET, else the default; -V and acceptd -V print
# the version without a daemon (issue 12).
# shellcheck disable=SC2016,SC2034,SC2119
. tests/lib.sh

plan 11

version=$(sed -n 's/^#define ACCEPTD_VERSION[[:space:]]*"\(.*\)"/\1/p' \
    common/ctlproto.h)
is "$("$ACCEPTCTL" -V)" "acceptctl $version" "acceptctl -V, no daemon"
is "$("$ACCEPTD" -V)" "acceptd $version" "acceptd -V"

ok "acceptd starts" start_acceptd "$(base_conf)
workers 1" || t_abort "acceptd did not start"

# Every other way is tried from a folder where the default finds nothing.
nowhere=$T_DIR/nowhere
mkdir -p "$nowhere"
export XDG_RUNTIME_DIR=$nowhere
unset ACCEPTD_SOCKET

run_bounded 5 "$ACCEPTCTL" -f "$ACCEPTD_CONF" status >/dev/null
is "$?" 0 "-f CONFIG: the socket its control names"
ACCEPTD_SOCKET=$CTL_SOCK run_bounded 5 "$ACCEPTCTL" status >/dev/null
is "$?" 0 "\$ACCEPTD_SOCKET"
ACCEPTD_SOCKET=$nowhere/none run_bounded 5 "$ACCEPTCTL" -s "$CTL_SOCK" \
    status >/dev/null
is "$?" 0 "-s wins over \$ACCEPTD_SOCKET"
ACCEPTD_SOCKET=$nowhere/none run_bounded 5 "$ACCEPTCTL" -f "$ACCEPTD_CONF" \
    status >/dev/null
is "$?" 0 "-f wins over \$ACCEPTD_SOCKET"
out=$(run_bounded 5 "$ACCEPTCTL" -s "$CTL_SOCK" -f "$ACCEPTD_CONF" status \
    2>&1)
is "$?" 1 "-s and -f together: refused (exit 1)"
like "$out" "give one" "... saying to give one"
printf 'listen nowhere\n' >"$T_DIR/bad.conf"
out=$(run_bounded 5 "$ACCEPTCTL" -f "$T_DIR/bad.conf" status 2>&1)
is "$?" 1 "-f with a bad file: exit 1"
like "$out" "bad.conf:1: " "... with the file's own errors"

stop_acceptd

#!/usr/bin/env bash
# acceptd's command line: -n on good and bad files, -nv round trip,
# unknown flags, a missing file.  Nothing is started.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh

plan 18

good=$T_DIR/good.conf
cat >"$good" <<CONF
# a comment, then a blank line

$(base_conf)
workers 3
backlog 64
protocol echo
idle-timeout 5s
CONF

out=$(run_bounded 5 "$ACCEPTD" -n -f "$good" 2>&1)
st=$?
is "$st" 0 "-n on a good file exits 0"
is "$out" "configuration OK" "-n on a good file prints 'configuration OK'"

# Errors on lines 2, 4, 6 and 7; line 5 is fine.  All must be reported.
bad=$T_DIR/bad.conf
cat >"$bad" <<CONF
listen 127.0.0.1:$PORT
no-such-directive 1
# fine
workers 0
protocol http
protocol echo
backlog
CONF
out=$(run_bounded 5 "$ACCEPTD" -n -f "$bad" 2>&1)
st=$?
is "$st" 1 "-n on a bad file exits 1"
like "$out" "^$bad:2: .*no-such-directive" "unknown directive reported as file:2: naming it"
like "$out" "^$bad:4: .*workers" "out-of-range value reported as file:4: naming the directive"
like "$out" "^$bad:6: .*protocol" "duplicate directive reported as file:6:"
like "$out" "^$bad:7: .*backlog" "missing value reported as file:7:"
unlike "$out" "^$bad:(1|3|5):" "good lines draw no error"
unlike "$out" "configuration OK" "a bad file is not called OK"

# -nv prints the effective config; that output parses again, and
# printing it again gives the same text (a fixed point).
printed=$T_DIR/printed.conf
run_bounded 5 "$ACCEPTD" -nv -f "$good" >"$printed" 2>"$T_DIR/nv.err"
is "$?" 0 "-nv on a good file exits 0"
like "$(cat "$printed")" "^workers 3$" "-nv shows a value set in the file (workers 3)"
like "$(cat "$printed")" "^shutdown-timeout " "-nv shows a default not in the file (shutdown-timeout)"
out=$(run_bounded 5 "$ACCEPTD" -n -f "$printed" 2>&1)
is "$out" "configuration OK" "-nv output parses again with -n" ||
    diag_file "$printed"
run_bounded 5 "$ACCEPTD" -nv -f "$printed" >"$T_DIR/printed2.conf" 2>/dev/null
ok "-nv of -nv output is the same text" cmp -s "$printed" "$T_DIR/printed2.conf"

out=$(run_bounded 5 "$ACCEPTD" -Z 2>&1 >/dev/null)
st=$?
is "$st" 1 "unknown flag exits 1"
like "$out" "[Uu]sage" "unknown flag prints usage on stderr"

missing=$T_DIR/does-not-exist.conf
out=$(run_bounded 5 "$ACCEPTD" -n -f "$missing" 2>&1)
st=$?
if [ "$st" -eq 1 ] && printf '%s\n' "$out" | grep -qF "$missing"; then
	pass "missing file: exit 1 and the message names the path"
else
	fail "missing file: exit 1 and the message names the path"
	diag "exit $st, output:" "$out"
fi

if [ -f conf/acceptd.conf ]; then
	out=$(run_bounded 5 "$ACCEPTD" -n -f conf/acceptd.conf 2>&1)
	is "$out" "configuration OK" "the shipped conf/acceptd.conf passes -n"
else
	skip 1 "no conf/acceptd.conf yet"
fi

done_testing

#!/usr/bin/env bash
# Every scenario of tools/scenarios/ through `tools/scenario run all`: one
# TAP line each (ok, not ok, or ok # skip with the reason).
set -u

build=$(cd "${TEST_BUILD:-.}" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/acceptd-scenarios.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 255
}
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$build/server/acceptd" ]; then
	echo "1..0 # SKIP $build/server/acceptd not built"
	exit 0
fi
names=$(tools/scenario list | awk '{ print $1 }')
echo "1..$(printf '%s\n' "$names" | grep -c .)"

# The runner bounds each scenario itself (60 s); the whole set stays far
# below that.  Its own plan line comes last; ours is above.
SCN_BUILD=$build tools/scenario run all -o "$tmp/out" >"$tmp/all.out" 2>&1
status=$?
failed=0
while read -r line; do
	case $line in
	"ok "*)	echo "$line" ;;
	"not ok "*)
		echo "$line"
		failed=1
		name=$(echo "$line" | awk '{ print $5 }')
		grep -A 8 '^FAIL' "$tmp/out/$name/checks.txt" 2>/dev/null | sed 's/^/# /'
		tail -n 5 "$tmp/out/$name.log" 2>/dev/null | sed 's/^/#   log: /' ;;
	esac
done <"$tmp/all.out"
# Sanitizer reports in a daemon's log fail the file even when all passed.
if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp"/out/*/acceptd.log 2>/dev/null; then
	echo "# sanitizer report in a scenario's acceptd.log (above)"
	failed=1
fi
[ "$status" -eq 0 ] || failed=1
exit "$failed"

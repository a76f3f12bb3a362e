#!/usr/bin/env bash
# Every scenario of tools/scenarios/ through `tools/scenario run all`: one
# TAP line each (ok, not ok, or ok # skip with the reason).  A scenario
# that fails says why on stderr (which prove shows): its FAIL checks with
# their evidence, the end of its log, and where its artifacts are kept.
set -u

build=$(cd "${TEST_BUILD:-.}" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/acceptd-scenarios.XXXXXX") || {
	echo "Bail out! mktemp failed"
	exit 255
}
failed=0
# Kept when anything failed, so the reports can be read.
trap '[ "$failed" -ne 0 ] || rm -rf "$tmp"' EXIT

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
while read -r line; do
	case $line in
	"ok "*)	echo "$line" ;;
	"not ok "*)
		echo "$line"
		failed=1
		name=$(echo "$line" | awk '{ print $5 }')
		{
			echo "#   Failed: $name"
			awk '/^(PASS|FAIL|SKIP)  / { f = /^FAIL/ } f' \
			    "$tmp/out/$name/checks.txt" 2>/dev/null |
			    head -n 60 | sed 's/^/#   /'
			tail -n 5 "$tmp/out/$name.log" 2>/dev/null |
			    sed 's/^/#   log: /'
			echo "#   report: $tmp/out/$name/report.md"
		} >&2 ;;
	esac
done <"$tmp/all.out"
# Sanitizer reports in a daemon's log fail the file even when all passed.
if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp"/out/*/*.log 2>/dev/null >"$tmp/san"; then
	sed 's/^/# sanitizer report in /' "$tmp/san" >&2
	failed=1
fi
[ "$status" -eq 0 ] || failed=1
[ "$failed" -eq 0 ] || echo "# $0 failed: the runs are kept in $tmp/out" >&2
exit "$failed"

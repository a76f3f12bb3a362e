#!/usr/bin/env bash
# tools/scenario itself: a copied run re-checked from its files alone;
# without its kernel events it fails as root and skips those checks when
# not root; an output folder holding someone else's files refused, never
# emptied;
# SIGINT stops `run all` within 3 s, leaving no process, namespace or
# temporary folder.
# shellcheck disable=SC2016
. tests/lib.sh

SCN_BUILD=$(cd "$TEST_BUILD" && pwd)
export SCN_BUILD
[ -x "$SCN_BUILD/tools/scenlog" ] || skip_all "$SCN_BUILD/tools/scenlog not built"

plan 21

# A DIR with a file of the user's: refused (2), the file kept.
mkdir "$T_DIR/mine"
echo keep >"$T_DIR/mine/notes.txt"
tools/scenario run max-connections -o "$T_DIR/mine" >"$T_DIR/refuse.out" 2>&1
is "$?" 2 "run -o DIR: a folder holding files it did not write is refused"
is "$(cat "$T_DIR/mine/notes.txt")" keep "... and the user's file is still there"
like "$(cat "$T_DIR/refuse.out")" "notes\.txt" "... and the message names it"

# A run, copied, the original removed: the checks again from the copy.
run_bounded 60 tools/scenario run max-connections -o "$T_DIR/run" \
    >"$T_DIR/run.out" 2>&1
is "$?" 0 "max-connections passes" ||
    grep -A 8 '^FAIL' "$T_DIR/run/checks.txt" | sed 's/^/# /'
want=$(grep -c '^PASS' "$T_DIR/run/checks.txt")
cp -a "$T_DIR/run" "$T_DIR/copy"
rm -rf "$T_DIR/run"
run_bounded 30 tools/scenario report "$T_DIR/copy" >"$T_DIR/report.out" 2>&1
is "$?" 0 "report DIR: the copied run's checks pass again from its files"
is "$(grep -c '^PASS' "$T_DIR/copy/checks.txt")" "$want" \
    "... all $want of them"
like "$(head -n 3 "$T_DIR/copy/report.md")" "^# Scenario max-connections" \
    "... and report.md is rebuilt"
run_bounded 60 tools/scenario run max-connections -o "$T_DIR/copy" \
    >"$T_DIR/again.out" 2>&1
is "$?" 0 "a folder an earlier run wrote is emptied and used again"
like "$(cat "$T_DIR/copy/report.md")" \
    "No sysctl or queueing discipline was changed" \
    "report.md says what the scenario set in its namespace (here nothing)"
# Its kernel events gone: as root that fails the run, saying what is
# missing; not root the checks that need them are skipped, with the reason.
cp -a "$T_DIR/copy" "$T_DIR/nokernel"
awk -F'\t' '$2 != "kernel"' "$T_DIR/copy/events.tsv" >"$T_DIR/nokernel/events.tsv"
printf 'kernel_events\tno: tracefs is not mounted\nnamespace\tprivate\n' \
    >>"$T_DIR/nokernel/run.tsv"
run_bounded 30 tools/scenario report "$T_DIR/nokernel" >"$T_DIR/nokernel.out" 2>&1
is "$?" 1 "as root, a run without the kernel's events fails"
like "$(grep -A 1 '^FAIL' "$T_DIR/nokernel/checks.txt" | head -n 2 | tr '\n' ' ')" \
    "^FAIL  as root, the kernel's events were recorded.*tracefs is not mounted" \
    "... and its first FAIL says what is missing and why"
like "$(cat "$T_DIR/nokernel.out")" "artifacts kept in $T_DIR/nokernel" \
    "... and where its artifacts are"
printf 'namespace\thost\n' >>"$T_DIR/nokernel/run.tsv"
run_bounded 30 tools/scenario report "$T_DIR/nokernel" >"$T_DIR/nokernel.out" 2>&1
is "$?" 0 "not root: the same run passes ..."
like "$(grep -A 1 '^SKIP' "$T_DIR/nokernel/checks.txt")" \
    "skipped \(not root\): no kernel events: tracefs is not mounted" \
    "... its kernel checks skipped, with the reason"
unlike "$(cat "$T_DIR/nokernel/checks.txt")" "^FAIL" "... and none failed"
echo "my notes" >"$T_DIR/copy/notes.txt"
run_bounded 60 tools/scenario run max-connections -o "$T_DIR/copy" \
    >"$T_DIR/again2.out" 2>&1
is "$?" 2 "a file added to a run's folder since: the next run refuses it"
is "$(cat "$T_DIR/copy/notes.txt" 2>/dev/null)" "my notes" "... and keeps it"

# SIGINT to `run all` a few seconds in.  Job control gives it a process
# group of its own and, unlike a plain background job, SIGINT unignored;
# env --default-signal unignores it also when this test itself started
# with SIGINT ignored (run in the background by a script), which no trap
# could undo.
mkdir "$T_DIR/tmp"
set -m
TMPDIR=$T_DIR/tmp env --default-signal=INT tools/scenario run all \
    -o "$T_DIR/all" >"$T_DIR/all.out" 2>&1 &
runner=$!
set +m
wait_for '[ -n "$(pgrep -f "acceptd -d -f $T_DIR/all/")" ]' 10
sleep 1
# the run's private namespaces: those of its processes but ours
self_net=$(readlink /proc/self/ns/net)
nets=$(for p in $(pgrep -f "$T_DIR/all/"); do
	readlink "/proc/$p/ns/net"
done | sort -u | grep -vxF "$self_net")
t0=$(now_ms)
kill -INT "$runner"
wait_for '! alive "$runner"' 5
took=$(($(now_ms) - t0))
wait "$runner" 2>/dev/null
ok "SIGINT: run all stops within 3 s (took $took ms)" [ "$took" -le 3000 ]
left=$(pgrep -af "$T_DIR/all/")
is "$left" "" "... no process of the run is left"
left=$(ls -A "$T_DIR/tmp")
is "$left" "" "... no temporary folder"
if [ "$(id -u)" -eq 0 ]; then
	gone=yes
	[ -n "$nets" ] || gone="no namespace seen while it ran"
	for ns in $nets; do
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/ns/net" 2>/dev/null)" = "$ns" ] &&
			    gone="no: $ns is still used by ${p#/proc/}"
		done
	done
	is "$gone" yes "... and no network namespace of it"
else
	skip 1 "not root: no namespace to look for"
fi
done_testing

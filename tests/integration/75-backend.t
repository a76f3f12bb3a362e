#!/usr/bin/env bash
# The event backend: the start-up line names it, and a backend without an
# exclusive wake-up (kqueue: make EV=kqueue) refuses "accept exclusive" at
# start, with -n and on reload, naming itself and the alternatives, and
# takes "shared" as its default.  On epoll, exclusive is the default.
# shellcheck disable=SC2016
. tests/lib.sh

plan 9

ok "acceptd starts (2 workers, default accept)" start_acceptd "$(base_conf)
workers 2" || t_abort "acceptd did not start"
backend=$(sed -n 's/.* \([a-z]*\) backend$/\1/p' "$ACCEPTD_LOG" | head -n 1)
like "$backend" '^(epoll|kqueue)$' "the start-up line names the backend ($backend)"
if [ "$EXCLUSIVE" = exclusive ]; then
	is "$(jctl .listen.accept status)" exclusive "default accept: exclusive"
	write_conf "$(base_conf)
workers 2
accept shared"
	ok "reload to accept shared exits 0" ctl reload
	is "$(jctl .listen.accept status)" shared "status says shared"
	write_conf "$(base_conf)
workers 2
accept exclusive"
	ok "reload to accept exclusive exits 0" ctl reload
	is "$(jctl .listen.accept status)" exclusive "status says exclusive"
	stop_acceptd TERM 5
	skip 2 "the $backend backend has an exclusive wake-up: nothing refused"
	done_testing
	# done_testing exits; this exit only says so to the reader.
	# shellcheck disable=SC2317
	exit
fi
is "$(jctl .listen.accept status)" shared \
    "default accept on $backend: shared"
write_conf "$(base_conf)
workers 2
accept exclusive"
out=$(ctl reload 2>&1)
is "$?" 1 "reload to accept exclusive is refused (exit 1)"
like "$out" "exclusive.*$backend.*shared.*reuseport" \
    "the refusal names the backend and the alternatives"
is "$(jctl .listen.accept status)" shared "nothing changed: still shared"
stop_acceptd TERM 5

printf 'accept exclusive\n' >"$T_DIR/exclusive.conf"
out=$("$ACCEPTD" -n -f "$T_DIR/exclusive.conf" 2>&1)
is "$?" 1 "acceptd -n refuses accept exclusive (exit 1)"
like "$out" "exclusive.conf: accept exclusive is not available on the $backend backend.*use accept shared or accept reuseport" \
    "its message names the file, the backend and the alternatives"
printf '%s\naccept exclusive\n' "$(base_conf)" >"$T_DIR/start.conf"
run_bounded 3 "$ACCEPTD" -d -f "$T_DIR/start.conf" >"$T_DIR/start.log" 2>&1 </dev/null
is "$?" 1 "and so does a start (exit 1, nothing started)"
done_testing

#!/usr/bin/env bash
# set max-connections 1 with one worker: a second client waits in the
# accept queue and is accepted as soon as the first one closes.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh
need_cmd jq

plan 14

ok "acceptd starts with 1 worker, protocol echo" start_acceptd "$(base_conf)
workers 1
protocol echo
shutdown-timeout 1s" || t_abort "acceptd did not start"

ok "set max-connections 1 exits 0" ctl set max-connections 1
is "$(jctl '.workers[0].max_connections' workers)" 1 \
    "workers -j: max_connections 1"

hold_client
first=$HOLDER_PID
wait_for '[ "$(jctl ".workers[0].connections" status)" = 1 ]' 3
is "$(jctl '.workers[0].connections' status)" 1 "the first client is accepted"
wait_for '[ "$(jctl ".workers[0].state" status)" = full ]' 10
is "$(jctl '.workers[0].state' status)" full "the worker says it is full"

hold_client
second=$HOLDER_PID
wait_for '[ "$(jctl .listen.queue sockets)" = 1 ]' 3
is "$(jctl .listen.queue sockets)" 1 "the second client waits in the accept queue"
is "$(jctl '.workers[0] | "\(.connections) \(.accepted)"' status)" "1 1" \
    "still one connection, one accepted"
is "$(ss -Hltn "( sport = :$PORT )" | awk '{ print $2 }')" 1 \
    "ss agrees: Recv-Q 1"

t0=$(now_ms)
kill -TERM "$first"
wait_for '[ "$(jctl ".workers[0].accepted" status)" = 2 ]' 3
elapsed=$(($(now_ms) - t0))
is "$(jctl '.workers[0].accepted' status)" 2 \
    "the first closes: the second is accepted"
ok "within 1 s of the close ($elapsed ms)" test "$elapsed" -lt 1000
is "$(jctl .listen.queue sockets)" 0 "the queue is empty again"
ok "the second client is still connected" alive "$second"

ok "set max-connections 1024 exits 0" ctl set max-connections 1024
hold_client
wait_for '[ "$(jctl ".workers[0].connections" status)" = 2 ]' 3
is "$(jctl '.workers[0].connections' status)" 2 \
    "with the cap raised, a third client is accepted at once"

done_testing

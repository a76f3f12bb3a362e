#!/usr/bin/env bash
# echo, oneshot and discard over real sockets, one daemon each.
# shellcheck disable=SC2016,SC2119,SC2317
. tests/lib.sh

plan 12

# --- echo ---
ok "acceptd starts with protocol echo" start_acceptd "$(base_conf)
workers 2
protocol echo" || t_abort "acceptd did not start"

out=$(printf 'ping\n' | run_bounded 5 nc -N 127.0.0.1 "$PORT")
is "$out" "ping" "echo: a line comes back"

# Larger than one read and than the socket buffers' first fill.
head -c 300000 /dev/urandom | base64 >"$T_DIR/big.in"
run_bounded 10 nc -N 127.0.0.1 "$PORT" <"$T_DIR/big.in" >"$T_DIR/big.out"
st=$?
is "$st" 0 "echo: 400 kB round trip ends (server closes after the client's FIN)"
ok "echo: 400 kB come back byte for byte" cmp -s "$T_DIR/big.in" "$T_DIR/big.out"

stop_acceptd TERM 5

# --- oneshot ---
ok "acceptd starts with protocol oneshot" start_acceptd "$(base_conf)
workers 2
protocol oneshot" || t_abort "acceptd did not start"

# nc without -N keeps its write side open after stdin ends: only the
# server's close can end this (timeout would exit 124).
out=$(printf 'hello\n' | run_bounded 5 nc 127.0.0.1 "$PORT")
st=$?
is "$st" 0 "oneshot: the server closes after its reply"
like "$out" "." "oneshot: a reply arrives"
like "$out" "hello" "oneshot: the reply carries the request back"

stop_acceptd TERM 5

# --- discard ---
ok "acceptd starts with protocol discard" start_acceptd "$(base_conf)
workers 2
protocol discard" || t_abort "acceptd did not start"

# 16 MB is more than loopback buffers hold: this only ends if the
# server keeps reading.
head -c 16000000 /dev/zero >"$T_DIR/zero.in"
run_bounded 10 nc -N 127.0.0.1 "$PORT" <"$T_DIR/zero.in" >"$T_DIR/zero.out"
st=$?
out=$(wc -c <"$T_DIR/zero.out")
is "$st" 0 "discard: 16 MB sent and the connection closed after the client's FIN"
is "$((out))" 0 "discard: nothing comes back"

stop_acceptd TERM 5
is "$ACCEPTD_STATUS" 0 "SIGTERM: exits 0"

done_testing

#!/usr/bin/env bash
# Once a reuseport group forms, acceptd turns on net.ipv4.tcp_migrate_req
# (in its own network namespace), so a listening socket that closes hands
# its queue to the others instead of resetting it, and says so; not before
# (accept exclusive or shared never touches it).  In a namespace of the test's own.
# shellcheck disable=SC2016,SC2034,SC2119
. tests/lib.sh

[ "$(id -u)" -eq 0 ] || skip_all "needs root for a network namespace"
[ -e /proc/sys/net/ipv4/tcp_migrate_req ] ||
    skip_all "this kernel has no net.ipv4.tcp_migrate_req (Linux 5.14)"
command -v ip >/dev/null 2>&1 || bail_out "ip missing (iproute2)"

plan 4

NS=acceptd-migrate-$$
ip netns add "$NS" || bail_out "ip netns add $NS"
trap 'st=$?; ip netns del "$NS" 2>/dev/null; (exit $st); t_cleanup' EXIT
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.tcp_migrate_req=0

migrate()
{
	ip netns exec "$NS" cat /proc/sys/net/ipv4/tcp_migrate_req
}

write_conf "$(base_conf)
accept $EXCLUSIVE
workers 2"
ip netns exec "$NS" "$ACCEPTD" -d -f "$ACCEPTD_CONF" 2>"$ACCEPTD_LOG" &
ACCEPTD_PID=$!
T_ALL_DAEMONS="$T_ALL_DAEMONS $ACCEPTD_PID"
ok "acceptd starts in its namespace ($EXCLUSIVE)" \
    wait_for '[ -S "$T_DIR/ctl.sock" ]' 5 || diag_file "$ACCEPTD_LOG"
is "$(migrate)" 0 "accept $EXCLUSIVE: tcp_migrate_req left as it was"

sed -i 's/^accept .*/accept reuseport/' "$ACCEPTD_CONF"
ctl reload >/dev/null
ok "a reload to reuseport turns tcp_migrate_req on" \
    wait_for '[ "$(migrate)" = 1 ]' 5
like "$(cat "$ACCEPTD_LOG")" \
    "set net.ipv4.tcp_migrate_req to 1: a listening socket that closes hands its queue" \
    "... and says so"
stop_acceptd

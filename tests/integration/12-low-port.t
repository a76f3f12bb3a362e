#!/usr/bin/env bash
# Started by a user without privilege on a port below 1024, acceptd says
# why it cannot listen and names the remedies (issue 12).
# shellcheck disable=SC2016,SC2034,SC2119
. tests/lib.sh

if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
	skip_all "needs root and user nobody to start acceptd unprivileged"
fi
# A namespace, whose lowest unprivileged port is its own (not the host's
# net.ipv4.ip_unprivileged_port_start, which a container may lower).
command -v unshare >/dev/null 2>&1 || bail_out "unshare missing (util-linux)"

plan 3

binaries_for_others
dir=$(mktemp -d "${TMPDIR:-/tmp}/acceptd-lp.XXXXXX") || bail_out "mktemp"
chmod 0777 "$dir"
printf 'listen 127.0.0.1:81\ncontrol %s/c.sock\npidfile %s/p.pid\n' \
    "$dir" "$dir" >"$dir/a.conf"
out=$(run_bounded 10 unshare -n sh -c '
	sysctl -qw net.ipv4.ip_unprivileged_port_start=1024 &&
	ip link set lo up &&
	exec setpriv --reuid=nobody --regid="$(id -gn nobody)" \
	    --clear-groups "$0" -d -f "$1"' "$OTHERS_ACCEPTD" "$dir/a.conf" 2>&1)
is "$?" 1 "nobody on port 81: exit 1"
like "$out" "cannot listen on 127\\.0\\.0\\.1:81: Permission denied" \
    "... saying the bind was refused"
like "$out" "use a port of 1024 or more, give acceptd CAP_NET_BIND_SERVICE, or start it as root with \"user\"" \
    "... and naming the remedies"
rm -rf "$dir"

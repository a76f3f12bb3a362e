#!/usr/bin/env bash
# The monitor listener: /metrics passes promtool and a real Prometheus
# scrapes it, /status.json, the live page rendered by headless Chromium,
# junk, slow, oversized and too many clients on the monitor port, and a
# reload that opens, moves and closes it.
# shellcheck disable=SC2016,SC2317
. tests/lib.sh
need_cmd jq

plan 48

MPORT=$(free_port)
while [ "$MPORT" = "$PORT" ]; do MPORT=$(free_port); done
murl=http://127.0.0.1:$MPORT

# As root (CI) a missing tool fails the check; otherwise it is skipped.
# have TOOL PACKAGE N: 0 if TOOL is there, else says so for N tests.
have()
{
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" -eq 0 ]; then
		fail "$1 is installed (Debian package $2; make deps)"
		skip $(($3 - 1)) "$1 missing"
	else
		skip "$3" "$1 not installed (Debian package $2), not root"
	fi
	return 1
}

quiet()
{
	"$@" >/dev/null
}

# code PATH [CURL ARGS]: the status code of a request to the monitor.
code()
{
	local path=$1
	shift
	run_bounded 5 curl -s -o /dev/null -w '%{http_code}' "$@" "$murl$path"
}

# raw TEXT: send TEXT as it is, half-close, print the status line.
raw()
{
	printf '%b' "$1" | run_bounded 8 nc -N 127.0.0.1 "$MPORT" 2>/dev/null |
	    head -n 1 | tr -d '\r'
}

# metric NAME: the value of the metric's first series.
metric()
{
	run_bounded 5 curl -s "$murl/metrics" |
	    awk -v n="$1" 'index($0, n "{") == 1 || $1 == n { print $2; exit }'
}

conf="$(base_conf)
workers 2
monitor 127.0.0.1:$MPORT"
ok "acceptd starts with a monitor" start_acceptd "$conf" ||
    t_abort "acceptd did not start"
ok "the monitor listens" wait_for 'listening "$MPORT"' 5

# --- the three pages ---
is "$(code /metrics)" 200 "GET /metrics is 200"
like "$(run_bounded 5 curl -s -D - -o /dev/null "$murl/metrics" | tr -d '\r')" \
    '^Content-Type: text/plain; version=0\.0\.4' \
    "/metrics is the text exposition format 0.0.4"
m=$(run_bounded 5 curl -s "$murl/metrics")
for f in acceptd_listen_queue_length acceptd_listen_queue_limit \
    acceptd_worker_accepts_total acceptd_worker_wakeups_total \
    acceptd_worker_empty_accepts_total acceptd_worker_connections \
    acceptd_worker_state acceptd_tcp_sockets \
    acceptd_kernel_listen_overflows_total; do
	n=$(printf '%s\n' "$m" | grep -c "^# TYPE $f ")
	[ "$n" = 1 ] || { fail "one TYPE line for $f (got $n)"; continue; }
	pass "$f has one TYPE line"
done
like "$m" '^acceptd_worker_state\{worker="1",state="accepting"\} 1$' \
    "worker 1 is accepting, as a 0/1 series per state"
is "$(jq -r '.listen.address, (.workers | length), (.states | has("LISTEN")),
    (.counters | has("ListenOverflows"))' < <(run_bounded 5 curl -s \
    "$murl/status.json") | tr '\n' ' ')" "127.0.0.1:$PORT 2 true true " \
    "/status.json is status -j with the socket states and counters"
page=$(run_bounded 5 curl -s "$murl/")
like "$page" 'accept queue' "/ is the live page"
unlike "$page" '(src|href)="?(https?:)?//' "the page loads nothing from elsewhere"

if have promtool prometheus 1; then
	out=$(run_bounded 5 curl -s "$murl/metrics" | promtool check metrics 2>&1)
	st=$?
	is "$st:$out" "0:" "promtool check metrics finds nothing to say"
fi

# --- pause, three clients, the queue reads 3 ---
ok "pause" quiet ctl pause
hold_client; hold_client; hold_client
ok "the queue gauge reads 3" wait_for '[ "$(metric acceptd_listen_queue_length)" = 3 ]' 5
is "$(metric acceptd_tcp_sockets'{state="ESTABLISHED"}')" 3 \
    "acceptd_tcp_sockets{state=\"ESTABLISHED\"} reads 3"
run_bounded 5 curl -s "$murl/metrics" >"$T_DIR/metrics-paused.txt"

# --- a real Prometheus scrapes it ---
if have prometheus prometheus 2; then
	PPORT=$(free_port)
	cat >"$T_DIR/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  evaluation_interval: 1s
	scrape_configs:
	  - job_name: acceptd
	    static_configs:
	      - targets: ['127.0.0.1:$MPORT']
	EOF
	# timeout itself, not a subshell: a signal to $! reaches Prometheus.
	timeout -k 1 90 prometheus --config.file="$T_DIR/prometheus.yml" \
	    --storage.tsdb.path="$T_DIR/tsdb" --log.level=warn \
	    --web.listen-address="127.0.0.1:$PPORT" >"$T_DIR/prometheus.out" 2>&1 &
	prom=$!
	t_bg "$prom"
	q="http://127.0.0.1:$PPORT/api/v1/query?query=acceptd_listen_queue_length"
	prom_queue() {
		run_bounded 3 curl -s "$q" |
		    jq -r '.data.result[0].value[1] // empty' 2>/dev/null
	}
	ok "Prometheus's API answers the queue with 3" \
	    wait_for '[ "$(prom_queue)" = 3 ]' 30 ||
	    diag_file "$T_DIR/prometheus.out"
	up=$(run_bounded 3 curl -s "http://127.0.0.1:$PPORT/api/v1/query?query=up" |
	    jq -r '.data.result[0].value[1] // empty')
	is "$up" 1 "and its target is up"
	kill -TERM "$prom" 2>/dev/null
	wait "$prom" 2>/dev/null
fi

# --- the live page in a real browser ---
if have chromium chromium 2; then
	dom=$(HOME=$T_DIR run_bounded 60 chromium --headless --no-sandbox \
	    --disable-gpu --user-data-dir="$T_DIR/chromium" --dump-dom \
	    --virtual-time-budget=3000 "$murl/" 2>"$T_DIR/chromium.err")
	like "$dom" 'accept queue 3 of [0-9]+' \
	    "the rendered page says accept queue 3 of the limit"
	like "$dom" '>paused<' "and shows the workers paused"
fi

# --- what the monitor refuses ---
is "$(code / -X POST)" 405 "POST is 405"
is "$(code /metrics -X DELETE)" 405 "DELETE is 405"
is "$(code /nowhere)" 404 "an unknown path is 404"
like "$(run_bounded 5 curl -s -I "$murl/metrics" | tr -d '\r')" \
    'Content-Length: [1-9]' "HEAD gives the headers"
is "$(raw 'GARBAGE\r\n\r\n')" "HTTP/1.1 400 Bad Request" "junk is 400"
is "$(raw 'GET / HTTP/9.9\r\n\r\n')" "HTTP/1.1 400 Bad Request" \
    "an unknown version is 400"
long=$(head -c 5000 /dev/zero | tr '\0' a)
is "$(raw "GET /$long HTTP/1.1\r\n\r\n")" \
    "HTTP/1.1 431 Request Header Fields Too Large" "a 5000-byte line is 431"
is "$(raw "GET / HTTP/1.1\r\nX: $long\r\n\r\n")" \
    "HTTP/1.1 431 Request Header Fields Too Large" "a 5000-byte head is 431"
head -c 20000 /dev/urandom | run_bounded 8 nc -N 127.0.0.1 "$MPORT" \
    >/dev/null 2>&1
is "$(code /metrics)" 200 "random bytes, and the monitor still answers"

# A request head that never ends: told 408 and closed after 5 s.
t0=$(now_ms)
exec 5<>"/dev/tcp/127.0.0.1/$MPORT"
printf 'GET /metrics HTTP/1.1\r\n' >&5
slow=$(run_bounded 10 head -n 1 <&5 | tr -d '\r')
t1=$(now_ms)
exec 5>&-
is "$slow" "HTTP/1.1 408 Request Timeout" "a slow request is 408"
ok "after about 5 s ($((t1 - t0)) ms)" \
    test $((t1 - t0)) -ge 4500 -a $((t1 - t0)) -lt 8500

# Forty idle clients: beyond 32 the monitor says 503; then it recovers.
for i in $(seq 40); do
	timeout -k 1 10 nc -d 127.0.0.1 "$MPORT" >/dev/null 2>&1 &
	t_bg $!
done
ok "a client beyond the bound is refused with 503" \
    wait_for '[ "$(code /metrics)" = 503 ]' 5
ok "and served once the idle ones are timed out" \
    wait_for '[ "$(code /metrics)" = 200 ]' 10
ok "resume" quiet ctl resume
is "$(run_bounded 5 curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$PORT/")" 200 "the daemon keeps serving its port"

# --- reload closes, opens and moves the monitor ---
write_conf "$(base_conf)
workers 2"
ok "reload without monitor" quiet ctl reload
ok "the monitor is closed" wait_for '! listening "$MPORT"' 5
MPORT2=$(free_port)
while [ "$MPORT2" = "$PORT" ] || [ "$MPORT2" = "$MPORT" ]; do
	MPORT2=$(free_port)
done
write_conf "$(base_conf)
workers 2
monitor 127.0.0.1:$MPORT2"
ok "reload with monitor on another port" quiet ctl reload
ok "the monitor is open there" wait_for 'listening "$MPORT2"' 5
like "$(ctl config)" "^monitor 127\.0\.0\.1:$MPORT2$" "config shows it"

# --- a monitor address in use fails at start, on the terminal ---
printf '%s\n' "listen 127.0.0.1:$(free_port)" "control $T_DIR/b.sock" \
    "pidfile $T_DIR/b.pid" "monitor 127.0.0.1:$PORT" >"$T_DIR/b.conf"
out=$(run_bounded 10 "$ACCEPTD" -d -f "$T_DIR/b.conf" 2>&1)
st=$?
is "$st" 1 "a second acceptd whose monitor address is taken exits 1"
like "$out" "monitor: cannot listen on 127\.0\.0\.1:$PORT" "and says why"

ok "acceptd stops" stop_acceptd
done_testing

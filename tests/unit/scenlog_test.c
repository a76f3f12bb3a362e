/*
 * Unit tests for tools/scenlog's parts: the event line, tcpdump's and the
 * trace's text (acceptd's events and the kernel's), text width and
 * wrapping, the ladder at 80 and 120 columns with wide characters, the
 * ladder beside the kernel's events, the checks' queries, and the JSON
 * reader.
 */
#include <err.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenlog.h"
#include "tap.h"

#define SRV	"127.0.0.1:8080"
#define C1	"127.0.0.1:40001>" SRV
#define C2	"127.0.0.1:40002>" SRV

static char	dir[] = "/tmp/scenlog-test.XXXXXX";

static void
test_event_line(void)
{
	struct scen_event	ev;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*f;

	is_int(scen_event_parse("5\twire\t" C1 "\tpacket\tfrom=client\t"
	    "flags=S\n", &ev), 0, "event: a wire line parses");
	is_int(ev.time, 5, "event: time");
	is_str(ev.conn, C1, "event: the connection as a full address pair");
	is_str(scen_event_get(&ev, "flags"), "S", "event: a named field");
	ok(scen_event_get(&ev, "seq") == NULL, "event: a missing field");
	scen_event_free(&ev);
	is_int(scen_event_parse("# comment\n", &ev), 1, "event: a comment");
	is_int(scen_event_parse("x\twire\t-\tpacket\n", &ev), -1,
	    "event: a time that is not a number");
	is_int(scen_event_parse("1\twire\t-\tpacket\tnoequals\n", &ev), -1,
	    "event: a field without =");
	if ((f = open_memstream(&buf, &len)) == NULL)
		err(1, "open_memstream");
	scen_event_write(f, 7, "mark", NULL, "mark", "name", "a",
	    "text", "tab\there", "skipped", NULL, NULL);
	fclose(f);
	is_str(buf, "7\tmark\t-\tmark\tname=a\ttext=tab here\n",
	    "event: writing makes tabs spaces, drops NULL values");
	free(buf);
}

static void
test_times(void)
{
	long long	ns;

	ok(scen_parse_seconds_ns("1795988815.837986", &ns) == 0 &&
	    ns == 1795988815837986000LL, "time: tcpdump's stamp, exact");
	ok(scen_parse_seconds_ns("12", &ns) == 0 && ns == 12000000000LL,
	    "time: whole seconds");
	ok(scen_parse_seconds_ns("1.5x", &ns) == -1, "time: junk refused");
}

static char *
wire(const char *line)
{
	static char	 out[1024];
	FILE		*f;

	out[0] = '\0';
	if ((f = fmemopen(out, sizeof(out), "w")) == NULL)
		err(1, "fmemopen");
	if (scen_wire_line(line, SRV, 1000000000LL, f) == -1)
		fputs("not a packet", f);
	fclose(f);
	return out;
}

static void
test_wire(void)
{
	is_str(wire("2.000001 IP 127.0.0.1.40001 > 127.0.0.1.8080: Flags [S], "
	    "seq 63, win 65495, options [mss 65495,sackOK,nop,wscale 10], "
	    "length 0\n"),
	    "1000001000\twire\t" C1 "\tpacket\tfrom=client\tflags=S\t"
	    "seq=63\twin=65495\tlen=0\twscale=10\n",
	    "wire: a client SYN, time made monotonic, wscale read");
	is_str(wire("2.5 IP 127.0.0.1.8080 > 127.0.0.1.40001: Flags [P.], "
	    "seq 1:7, ack 7, win 64, length 6\n"),
	    "1500000000\twire\t" C1 "\tpacket\tfrom=server\tflags=P.D\t"
	    "seq=1:7\tack=7\twin=64\tlen=6\n",
	    "wire: server data, the same connection, D for data");
	is_str(wire("2.5 IP6 ::1.40001 > ::1.8080: Flags [R], seq 1, "
	    "win 0, length 0\n"),
	    "1500000000\twire\t[::1]:40001>[::1]:8080\tpacket\t"
	    "from=client\tflags=R\tseq=1\twin=0\tlen=0\n",
	    "wire: IPv6 addresses in brackets");
	is_str(wire("reading from file x.pcap\n"), "not a packet",
	    "wire: tcpdump's chatter is not a packet");
}

static void
test_json_flat(void)
{
	struct scen_field	f[8];
	char			line[] = "{\"time\":1.5,\"peer\":\"a\\\"b\","
	    "\"n\":null,\"detail\":\"x y\"}";

	is_int(scen_json_flat(line, f, 8), 4, "json: four members");
	is_str(f[0].value, "1.5", "json: a number as its text");
	is_str(f[1].value, "a\"b", "json: an escaped quote");
	is_str(f[3].value, "x y", "json: the last member");
}

static void
test_app(void)
{
	char	 in[] = "{\"time\":2.000001,\"worker\":0,\"conn\":1,"
	    "\"peer\":\"127.0.0.1:40001\",\"event\":\"read\","
	    "\"detail\":\"6\"}\nnot json\n";
	char	 out[512] = "";
	FILE	*fi, *fo;

	if ((fi = fmemopen(in, strlen(in), "r")) == NULL ||
	    (fo = fmemopen(out, sizeof(out), "w")) == NULL)
		err(1, "fmemopen");
	scen_ingest_app(fi, fo, SRV, 1000000000LL);
	fclose(fi);
	fclose(fo);
	is_str(out, "1000001000\tapp\t" C1 "\tread\tworker=0\tid=1\t"
	    "detail=6\n", "trace: a JSON line into an app event on its "
	    "connection; junk skipped");
}

/* The trace's JSON lines through ingest-app, as one string. */
static char *
ingest(const char *in)
{
	static char	 out[2048];
	FILE		*fi, *fo;

	out[0] = '\0';
	if ((fi = fmemopen((char *)in, strlen(in), "r")) == NULL ||
	    (fo = fmemopen(out, sizeof(out), "w")) == NULL)
		err(1, "fmemopen");
	scen_ingest_app(fi, fo, SRV, 1000000000LL);
	fclose(fi);
	fclose(fo);
	return out;
}

static void
test_kernel_ingest(void)
{
	is_str(ingest("{\"time\":2.5,\"source\":\"kernel\",\"event\":"
	    "\"state\",\"local\":\"127.0.0.1:8080\",\"peer\":"
	    "\"127.0.0.1:40001\",\"from\":\"ESTABLISHED\",\"to\":"
	    "\"CLOSE_WAIT\"}\n"),
	    "1500000000\tkernel\t" C1 "\tstate\tside=server\t"
	    "from=ESTABLISHED\tto=CLOSE_WAIT\n",
	    "kernel: the server's socket (local is the server's port), the "
	    "connection client first");
	is_str(ingest("{\"time\":2.5,\"source\":\"kernel\",\"event\":"
	    "\"rst-sent\",\"local\":\"127.0.0.1:40001\",\"peer\":"
	    "\"127.0.0.1:8080\",\"reason\":\"TCP_TIMEWAIT_SOCKET\","
	    "\"state\":\"TIME_WAIT\"}\n"),
	    "1500000000\tkernel\t" C1 "\trst-sent\tside=client\t"
	    "reason=TCP_TIMEWAIT_SOCKET\tstate=TIME_WAIT\n",
	    "kernel: the client's socket, the same connection, its reason "
	    "and state");
	is_str(ingest("{\"time\":2.5,\"source\":\"kernel\",\"event\":"
	    "\"drop\",\"local\":\"127.0.0.1:8080\",\"peer\":\"-\","
	    "\"reason\":\"TCP_LISTEN_OVERFLOW\"}\n"
	    "{\"time\":2.5,\"source\":\"kernel\",\"event\":\"rst-sent\","
	    "\"local\":\"127.0.0.1:8080\",\"peer\":\"0.0.0.0:0\","
	    "\"reason\":\"INVALID_SYN\",\"state\":\"LISTEN\"}\n"),
	    "1500000000\tkernel\t-\tdrop\tside=server\t"
	    "reason=TCP_LISTEN_OVERFLOW\tlocal=127.0.0.1:8080\n"
	    "1500000000\tkernel\t-\trst-sent\tside=server\t"
	    "reason=INVALID_SYN\tstate=LISTEN\tlocal=127.0.0.1:8080\n",
	    "kernel: the listener's own events belong to no connection");
	is_str(ingest("{\"time\":2.5,\"source\":\"kernel\",\"event\":"
	    "\"unavailable\",\"detail\":\"not root\"}\n"
	    "{\"time\":2.5,\"source\":\"worker 0\",\"worker\":0,"
	    "\"event\":\"drop\",\"peer\":\"127.0.0.1:40001\"}\n"),
	    "1500000000\tkernel\t-\tunavailable\tdetail=not root\n"
	    "1500000000\tapp\t" C1 "\tdrop\tsource=worker 0\tworker=0\n",
	    "kernel: why there are none; acceptd's own drop stays in the "
	    "app lane");
}

static void
test_text(void)
{
	char	**lines;
	int	  n, i, okay = 1;

	is_int(scen_text_width("abc"), 3, "width: ASCII");
	is_int(scen_text_width("│ ─┼"), 4, "width: box drawing, one each");
	is_int(scen_text_width("한국어"), 6, "width: Hangul, two each");
	is_int(scen_text_take("한국어", 3, NULL), 3,
	    "take: whole wide characters only");
	n = scen_text_wrap("one two three four", 9, &lines);
	is_int(n, 3, "wrap: at spaces");
	is_str(lines[0], "one two", "wrap: first line");
	is_str(lines[1], "three", "wrap: a word that does not fit waits");
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	n = scen_text_wrap("서버가연결을받지않았다", 7, &lines);
	for (i = 0; i < n; i++) {
		okay &= scen_text_width(lines[i]) <= 7;
		free(lines[i]);
	}
	free(lines);
	ok(okay && n == 4, "wrap: wide text without spaces, never over");
}

/*
 * The ladder's lines: each within width; every text whole once the
 * layout (spaces, rules, line ends) is taken out.
 */
/* Everything but the text: spaces, the column rules, line ends. */
static void
squeeze(char *s)
{
	char	*w = s;

	while (*s != '\0') {
		if (*s == ' ' || *s == '\n')
			s++;
		else if (strncmp(s, "│", strlen("│")) == 0)
			s += strlen("│");
		else
			*w++ = *s++;
	}
	*w = '\0';
}

static void
test_ladder(size_t width)
{
	struct scen_log	 log = { 0 };
	char		*buf = NULL, *line, *p, *words;
	size_t		 len = 0, w, over = 0;
	FILE		*f;
	int		 lost = 0;
	const char	*texts[] = { "acceptctl", "tcp_fin_timeout=1",
	    "CLOSE_WAIT", "연결", "EPIPE", "1:100001(100000)win0",
	    "r100001", "wrappedunderitself" };
	size_t		 i;

	scen_log_add(&log, "0\tmark\t-\tmark\tname=start\ttext=start");
	scen_log_add(&log, "1000000\tclient\t" C1 "\tnote\ttext=sysctl "
	    "net.ipv4.tcp_fin_timeout=1 then acceptctl pause, 연결 대기");
	scen_log_add(&log, "2000000\twire\t" C1 "\tpacket\tfrom=server\t"
	    "flags=P.D\tseq=1:100001\tlen=100000\twin=0");
	scen_log_add(&log, "3000000\tkernel-sample\t-\tlisten\tqueue=1\t"
	    "backlog=128\tserver.ESTABLISHED=1");
	scen_log_add(&log, "3000000\tkernel-sample\t" C1 "\tsocket\t"
	    "side=server\tstate=CLOSE_WAIT\trecv_q=100001\tsend_q=0");
	scen_log_add(&log, "4000000\tapp\t" C1 "\terror\tworker=0\t"
	    "detail=write EPIPE (the peer reset the connection)");
	scen_log_add(&log, "5000000\tmark\t-\tmark\tname=m\ttext=a long "
	    "rule that goes on and on and on past any width, a mark's text "
	    "with │ box drawing and 한국어 in it, wrapped under itself");
	scen_log_sort(&log);
	if ((f = open_memstream(&buf, &len)) == NULL)
		err(1, "open_memstream");
	scen_ladder_write(f, &log, width, 0);
	fclose(f);
	if ((words = strdup(buf)) == NULL)
		err(1, "strdup");
	squeeze(words);
	for (p = buf; (line = strsep(&p, "\n")) != NULL;)
		if ((w = scen_text_width(line)) > width) {
			over++;
			tap_diag("%zu columns: %s", w, line);
		}
	ok(over == 0, "ladder at %zu: no line wider than %zu columns", width,
	    width);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (strstr(words, texts[i]) == NULL) {
			lost++;
			tap_diag("\"%s\" not in the ladder", texts[i]);
		}
	ok(lost == 0 && strstr(words, "~") == NULL,
	    "ladder at %zu: nothing cut", width);
	free(words);
	free(buf);
	scen_log_free(&log);
}

/* The column (0 client .. 3 acceptd) of the ladder line holding text. */
static int
column_of(const char *ladder, const char *text)
{
	const char	*hit, *bol;
	int		 col = -1;

	if ((hit = strstr(ladder, text)) == NULL)
		return -2;
	for (bol = hit; bol > ladder && bol[-1] != '\n'; bol--)
		;
	for (; bol < hit; bol++)
		if (strncmp(bol, "│", strlen("│")) == 0)
			col++;
	return col;
}

static void
test_ladder_kernel(void)
{
	struct scen_log	 log = { 0 };
	char		*buf = NULL, *p;
	size_t		 len = 0;
	FILE		*f;
	int		 failed = tap_failed;

	scen_log_add(&log, "0\tmark\t-\tmark\tname=start\ttext=start");
	scen_log_add(&log, "1000000\tclient\t" C1 "\tconnected\tname=c1\t"
	    "text=connected");
	scen_log_add(&log, "1100000\tkernel\t127.0.0.1:0>" SRV "\tstate\t"
	    "side=client\tfrom=CLOSE\tto=SYN_SENT");
	scen_log_add(&log, "2000000\tkernel\t" C1 "\tstate\tside=server\t"
	    "from=ESTABLISHED\tto=CLOSE_WAIT");
	scen_log_add(&log, "2100000\tkernel\t" C1 "\tstate\tside=client\t"
	    "from=FIN_WAIT2\tto=CLOSE");
	/* the sample: the server's state as the event said, with Recv-Q;
	 * the client's time-wait socket in a state no event announced */
	scen_log_add(&log, "3000000\tkernel-sample\t-\tlisten\tqueue=1\t"
	    "backlog=128");
	scen_log_add(&log, "3000000\tkernel-sample\t" C1 "\tsocket\t"
	    "side=server\tstate=CLOSE_WAIT\trecv_q=7\tsend_q=0");
	scen_log_add(&log, "3000000\tkernel-sample\t" C1 "\tsocket\t"
	    "side=client\tstate=FIN_WAIT2\trecv_q=0\tsend_q=0");
	scen_log_add(&log, "4000000\tkernel-sample\t-\tlisten\tqueue=1\t"
	    "backlog=128");
	scen_log_add(&log, "4000000\tkernel-sample\t" C1 "\tsocket\t"
	    "side=server\tstate=CLOSE_WAIT\trecv_q=7\tsend_q=0");
	scen_log_add(&log, "5000000\tkernel\t" C1 "\trst-sent\t"
	    "side=client\treason=TCP_TIMEWAIT_SOCKET\tstate=TIME_WAIT");
	scen_log_add(&log, "5100000\tkernel\t" C1 "\tstate\tside=server\t"
	    "from=CLOSE_WAIT\tto=CLOSE");
	scen_log_add(&log, "6000000\tkernel-sample\t-\tlisten\tqueue=0\t"
	    "backlog=128");
	scen_log_sort(&log);
	if ((f = open_memstream(&buf, &len)) == NULL)
		err(1, "open_memstream");
	scen_ladder_write(f, &log, 160, 0);
	fclose(f);
	is_int(column_of(buf, ":40001 EST→CLOSE_WAIT"), 2,
	    "ladder+kernel: the server's state change in the server-kernel "
	    "column");
	is_int(column_of(buf, "k: c1 FIN_WAIT2→CLOSE"), 0,
	    "ladder+kernel: the client's, by its name, in the client column");
	is_int(column_of(buf, "k: CLOSE→SYN_SENT"), 0,
	    "ladder+kernel: connect() before the port is bound: no :0");
	ok(column_of(buf, "k: c1 rst-sent") == 0 &&
	    column_of(buf, "TCP_TIMEWAIT_SOCKET (TIME_WAIT)") == 0,
	    "ladder+kernel: an RST with its reason and state");
	is_int(column_of(buf, "≈ queue 1 of 128"), 2,
	    "ladder+kernel: the sampled queue beside the events, marked");
	is_int(column_of(buf, "≈ :40001 CLOSE_WAIT r7"), 2,
	    "ladder+kernel: a sampled Recv-Q beside the events");
	is_int(column_of(buf, "≈ c1 FIN_WAIT2"), 0,
	    "ladder+kernel: a sampled state no event announced (time-wait)");
	p = strstr(buf, "r7");
	ok(strstr(buf, "S :40001") == NULL && strstr(buf, "gone") == NULL &&
	    p != NULL && strstr(p + 1, "r7") == NULL,
	    "ladder+kernel: no sampled row the events already tell");
	if (tap_failed > failed)
		tap_diag("the ladder:\n%s", buf);
	free(buf);
	scen_log_free(&log);
}

static void
write_events(void)
{
	char	 path[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/events.tsv", dir);
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	fputs("0\tmark\t-\tmark\tname=start\n"
	    "10\twire\t" C1 "\tpacket\tfrom=client\tflags=S\n"
	    "20\twire\t" C2 "\tpacket\tfrom=client\tflags=S\n"
	    "30\twire\t" C1 "\tpacket\tfrom=server\tflags=S.\n"
	    "40\twire\t" C1 "\tpacket\tfrom=client\tflags=.\n"
	    "50\tmark\t-\tmark\tname=mid\n"
	    /* equal times: the same microsecond in two recorders */
	    "60\twire\t" C2 "\tpacket\tfrom=client\tflags=.\n"
	    "60\twire\t" C2 "\tpacket\tfrom=server\tflags=S.\n"
	    "70\tclient\t" C2 "\tconnected\tname=c2\n"
	    "80\tkernel-sample\t-\tlisten\tqueue=2\tserver.ESTABLISHED=2\n"
	    "80\tkernel-sample\t" C1 "\tsocket\tside=client\t"
	    "state=FIN_WAIT2\n"
	    "90\tkernel-sample\t-\tlisten\tqueue=0\n"
	    "95\tkernel-sample\t-\tcounters\tname=a\tOutRsts=3\n"
	    "96\tkernel-sample\t-\tcounters\tname=b\tOutRsts=5\n"
	    "100\tmark\t-\tmark\tname=end\n", f);
	fclose(f);
}

/* A query's exit status; its output goes to a file, not into TAP. */
static int
query(const char *first, ...)
{
	char		*argv[32], path[256];
	va_list		 ap;
	int		 argc = 0, saved, saved_err, fd, r;

	argv[argc++] = "query";
	argv[argc++] = "-d";
	argv[argc++] = dir;
	va_start(ap, first);
	for (argv[argc++] = (char *)first; (argv[argc] = va_arg(ap,
	    char *)) != NULL; argc++)
		;
	va_end(ap);
	snprintf(path, sizeof(path), "%s/out", dir);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	saved_err = dup(STDERR_FILENO);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		err(1, "%s", path);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	r = scen_query_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved);
	close(saved_err);
	return r;
}

static void
test_query(void)
{
	char	cmd[300];

	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	write_events();
	is_int(query("count", "wire", "from=client", "flags~^S$", "-eq", "2",
	    NULL), 0, "count: two SYNs");
	is_int(query("-w", "start,mid", "count", "wire", "flags=S.", "-eq",
	    "1", NULL), 0, "count: within a window of marks");
	is_int(query("first", "wire", "flags=R", NULL), 1,
	    "first: no RST is a failure");
	is_int(query("order", "-n", "-eq", "2", "wire", "from=client",
	    "flags=S", "then", "wire", "from=server", "flags=S.", "then",
	    "wire", "from=client", "flags=.", NULL), 0,
	    "order: two complete handshakes, each on its own connection, "
	    "equal times accepted");
	is_int(query("order", "-a", "wire", "flags=S", "then", "wire",
	    "flags=S.", NULL), 0, "order -a: every SYN answered");
	is_int(query("-w", "start,mid", "order", "-a", "wire", "flags=S",
	    "then", "wire", "flags=S.", NULL), 1,
	    "order -a: not so before mid (one SYN unanswered)");
	is_int(query("order", "-W", "0.000015", "wire", "flags=S", "then",
	    "wire", "flags=.", NULL), 1,
	    "order -W: not within 15 ns of the SYN");
	is_int(query("order", "-x", "wire", "conn=@c2", "flags=S", "then",
	    "wire", "conn=" C1, "flags=.", NULL), 0,
	    "order -x: across connections, one named by its client");
	is_int(query("value", "any", "kernel-sample", "event=listen",
	    "queue", "-eq", "2", NULL), 0, "value any: a queue of 2");
	is_int(query("value", "last", "kernel-sample", "event=listen",
	    "server.ESTABLISHED", "-eq", "0", NULL), 0,
	    "value last: a state not listed counts 0");
	is_int(query("value", "max", "kernel-sample", "event=listen",
	    "queue", "-le", "1", NULL), 1, "value max: 2 is not <= 1");
	is_int(query("order", "-x", "-G", "0.000005", "-W", "0.0001",
	    "wire", "conn=" C1, "flags=.", "then", "kernel-sample",
	    "event=gone", "conn=" C1, "state=FIN_WAIT2", NULL), 0,
	    "gone: derived from the first sample without the socket");
	is_int(query("delta", "a", "b", "OutRsts", "-eq", "2", NULL), 0,
	    "delta: a counter's rise between snapshots");
	is_int(query("-w", "start,nosuch", "count", "wire", "-eq", "0",
	    NULL), 2, "window: an unknown mark cannot be asked");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
}

/* scenlog json's answer to FILE's text, as one string, and its status. */
static int
json(const char *text, const char *a, const char *b, char *out,
    size_t outlen)
{
	char	 path[256], outpath[256], *argv[5];
	int	 argc = 0, saved, saved_err, fd, r;
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/j.json", dir);
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	fputs(text, f);
	fclose(f);
	argv[argc++] = "json";
	argv[argc++] = path;
	if (a != NULL)
		argv[argc++] = (char *)a;
	if (b != NULL)
		argv[argc++] = (char *)b;
	argv[argc] = NULL;
	snprintf(outpath, sizeof(outpath), "%s/j.out", dir);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	saved_err = dup(STDERR_FILENO);
	if ((fd = open(outpath, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1)
		err(1, "%s", outpath);
	dup2(fd, STDOUT_FILENO);
	if ((f = fopen("/dev/null", "w")) != NULL) {
		dup2(fileno(f), STDERR_FILENO);	/* "not JSON" is expected */
		fclose(f);
	}
	r = scen_json_main(argc, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved);
	close(saved_err);
	n = pread(fd, out, outlen - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return r;
}

static void
test_json(void)
{
	const char	*status = "{\"listen\":{\"queue\":7},\"workers\":["
	    "{\"id\":0,\"state\":\"accepting\",\"queue\":0},"
	    "{\"id\":1,\"state\":\"pa\\\"used\",\"queue\":7,"
	    "\"last\":null}],\"h\":[]}";
	char		 out[512], cmd[300];

	/* a fresh folder from the template (an earlier test filled it in) */
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	is_int(json(status, "listen.queue", NULL, out, sizeof(out)), 0,
	    "json: a leaf by its path");
	is_str(out, "7\n", "json: ... its value");
	json(status, "workers.1.state", NULL, out, sizeof(out));
	is_str(out, "pa\"used\n", "json: an array element's member, "
	    "unescaped");
	json(status, "workers", "id,state,queue,nosuch", out, sizeof(out));
	is_str(out, "0\taccepting\t0\t\n1\tpa\"used\t7\t\n",
	    "json: an array of objects as rows of the members asked for");
	is_int(json(status, "workers.2.id", NULL, out, sizeof(out)), 1,
	    "json: a path not there is 1");
	is_int(json("{\"a\":[1,2}", NULL, NULL, out, sizeof(out)), 2,
	    "json: not JSON is 2");
	is_int(json("{\"a\":1} x", NULL, NULL, out, sizeof(out)), 2,
	    "json: trailing junk is not JSON either");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
}

/* report.md of a run with kernel events: its reasons listed, its checks
 * counted with the skipped ones. */
static void
test_report(void)
{
	char	 path[300], cmd[300], *argv[3], *text = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	FILE	*f;

	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	snprintf(path, sizeof(path), "%s/events.tsv", dir);
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	fputs("0\tmark\t-\tmark\tname=start\n"
	    "1500000\tkernel\t" C1 "\trst-sent\tside=client\t"
	    "reason=TCP_TIMEWAIT_SOCKET\tstate=TIME_WAIT\n"
	    "2500000\tkernel\t-\tdrop\tside=server\t"
	    "reason=TCP_LISTEN_OVERFLOW\tlocal=" SRV "\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/run.tsv", dir);
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	fputs("name\tt\nstart_ns\t0\nkernel_events\tyes\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/checks.txt", dir);
	if ((f = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	fputs("PASS  a\nSKIP  b\n      skipped (not root): no wire\n", f);
	fclose(f);
	argv[0] = "report";
	argv[1] = dir;
	argv[2] = NULL;
	is_int(scen_report_main(2, argv), 0, "report: written");
	snprintf(path, sizeof(path), "%s/report.md", dir);
	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	n = getdelim(&text, &cap, '\0', f);
	fclose(f);
	ok(n > 0 && strstr(text, "1.5  rst-sent client side, :40001 in "
	    "TIME_WAIT: TCP_TIMEWAIT_SOCKET") != NULL && strstr(text,
	    "2.5  drop     server side, the listener: TCP_LISTEN_OVERFLOW")
	    != NULL, "report: the kernel's reasons, each RST and drop");
	ok(n > 0 && strstr(text, "## Checks: 1 of 1 passed, 1 skipped") !=
	    NULL, "report: skipped checks counted apart");
	ok(n > 0 && strstr(text, "Kernel events: yes.") != NULL &&
	    strstr(text, "k:") != NULL, "report: says the kernel's events "
	    "were there, and its legend explains k: and ≈");
	free(text);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
}

int
main(void)
{
	test_event_line();
	test_times();
	test_wire();
	test_json_flat();
	test_app();
	test_text();
	test_ladder(80);
	test_ladder(120);
	test_ladder(40);
	test_ladder_kernel();
	test_kernel_ingest();
	test_query();
	test_json();
	test_report();
	return tap_done();
}

/*
 * Unit tests for the HTTP/1.1 request parser and the fixed replies:
 * good heads at every split point, pipelining, each refusal, the size
 * limit, and random mutations that must stay in bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "../tap.h"

#define FUZZ_ROUNDS	20000
#define FUZZ_SEED	20240601u

#define PIPE_GET	"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
#define PIPE_POST	"POST /b HTTP/1.1\r\nHost: x\r\n" \
			"Content-Length: 5\r\n\r\n"
#define PIPE_HEAD	"HEAD /c HTTP/1.1\r\nHost: x\r\n" \
			"Connection: close\r\n\r\n"

static enum http_status	parse_str(const char *, struct http_request *);
static enum http_status	parse_exact(const char *, size_t,
			    struct http_request *);
static void		test_get(void);
static void		test_splits(const char *, const char *);
static void		test_pipeline(void);
static void		test_post(void);
static void		test_connection(void);
static void		test_head_and_lf(void);
static void		test_bad(void);
static void		test_content_length(void);
static void		test_value_bytes(void);
static void		test_partial_errors(void);
static void		build_head(char *, size_t);
static void		test_limit(void);
static void		test_responses(void);
static int		fuzz_ok_is_stable(const char *, size_t,
			    const struct http_request *);
static void		test_fuzz(void);

/* Parse a copy of exactly n bytes on the heap, so ASan sees any overread. */
static enum http_status
parse_exact(const char *s, size_t n, struct http_request *req)
{
	enum http_status	 status;
	char			*copy;

	if ((copy = malloc(n > 0 ? n : 1)) == NULL)
		abort();
	memcpy(copy, s, n);
	status = http_parse(copy, n, req);
	free(copy);
	return status;
}

static enum http_status
parse_str(const char *s, struct http_request *req)
{
	return parse_exact(s, strlen(s), req);
}

static void
test_get(void)
{
	static const char	 get[] = "GET /index.html HTTP/1.1\r\n"
	    "Host: localhost\r\nUser-Agent: t/1.0\r\nAccept: */*\r\n\r\n";
	struct http_request	 req;

	memset(&req, 0xa5, sizeof(req));
	is_int(parse_str(get, &req), HTTP_OK, "GET: complete head is OK");
	is_int(req.header_length, sizeof(get) - 1, "GET: header_length");
	is_int(req.content_length, 0, "GET: no body");
	is_int(req.keep_alive, 1, "GET: 1.1 keeps alive by default");
	is_int(req.head, 0, "GET: not HEAD");
	is_int(req.minor, 1, "GET: minor 1");
	is_int(http_parse(NULL, 0, &req), HTTP_INCOMPLETE,
	    "empty buffer is incomplete");
	is_int(parse_str("\r\n\r\nGET / HTTP/1.1\r\n\r\n", &req), HTTP_OK,
	    "leading empty lines skipped");
	is_int(req.header_length, 22, "leading empty lines counted");
}

/* Every proper prefix is incomplete; the whole gives the same lengths. */
static void
test_splits(const char *what, const char *s)
{
	struct http_request	 whole, part;
	size_t			 n = strlen(s), i, bad = 0;
	enum http_status	 status;

	is_int(parse_str(s, &whole), HTTP_OK, "%s: whole is OK", what);
	for (i = 0; i < n; i++) {
		status = parse_exact(s, i, &part);
		if (status != HTTP_INCOMPLETE && bad++ == 0)
			tap_diag("prefix %zu gave %d", i, status);
	}
	is_int(bad, 0, "%s: all %zu prefixes incomplete", what, n);
	is_int(parse_str(s, &part), HTTP_OK, "%s: OK again", what);
	ok(part.header_length == whole.header_length &&
	    part.content_length == whole.content_length &&
	    part.keep_alive == whole.keep_alive,
	    "%s: same lengths after the splits", what);
}

static void
test_pipeline(void)
{
	static const char	 buf[] = PIPE_GET PIPE_POST "hello" PIPE_HEAD;
	static const size_t	 want[3] = {
		sizeof(PIPE_GET) - 1,
		sizeof(PIPE_POST) - 1,
		sizeof(PIPE_HEAD) - 1,
	};
	struct http_request	 req;
	size_t			 off = 0, n = sizeof(buf) - 1;
	int			 i, good = 0;

	for (i = 0; i < 3; i++) {
		if (http_parse(buf + off, n - off, &req) != HTTP_OK)
			break;
		if (req.header_length == want[i])
			good++;
		off += req.header_length + req.content_length;
	}
	is_int(good, 3, "pipeline: three requests, right head lengths");
	is_int(off, n, "pipeline: consumed exactly the buffer");
	ok(req.head == 1 && req.keep_alive == 0,
	    "pipeline: last is HEAD with close");
}

static void
test_post(void)
{
	static const char	 post[] = "POST /form HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 11\r\n\r\n";
	struct http_request	 req;
	char			 buf[256];

	snprintf(buf, sizeof(buf), "%shello world", post);
	is_int(parse_str(buf, &req), HTTP_OK, "POST: OK");
	is_int(req.header_length, sizeof(post) - 1, "POST: header_length");
	is_int(req.content_length, 11, "POST: content_length");
	is_int(parse_str("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &req),
	    HTTP_OK, "POST with Content-Length 0");
	is_int(req.content_length, 0, "POST: zero length");
}

static void
test_connection(void)
{
	struct http_request	 req;

	is_int(parse_str("GET / HTTP/1.0\r\nHost: x\r\n\r\n", &req), HTTP_OK,
	    "1.0: OK");
	ok(req.minor == 0 && req.keep_alive == 0, "1.0: closes by default");
	is_int(parse_str("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	    &req), HTTP_OK, "1.0 keep-alive: OK");
	is_int(req.keep_alive, 1, "1.0 with keep-alive keeps alive");
	parse_str("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &req);
	is_int(req.keep_alive, 0, "1.1 Connection: close");
	parse_str("GET / HTTP/1.1\r\nConnection: foo, Close\r\n\r\n", &req);
	is_int(req.keep_alive, 0, "1.1 Connection: foo, Close");
	parse_str("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", &req);
	is_int(req.keep_alive, 1, "\"closed\" is not close");
	parse_str("GET / HTTP/1.0\r\nConnection: keep-alive\r\n"
	    "Connection: close\r\n\r\n", &req);
	is_int(req.keep_alive, 0, "close wins over keep-alive");
	parse_str("GET / HTTP/1.0\r\nconnection:,, KEEP-ALIVE ,\r\n\r\n", &req);
	is_int(req.keep_alive, 1, "odd list spacing still keep-alive");
	is_int(parse_str("GET / HTTP/1.2\r\n\r\n", &req), HTTP_OK,
	    "HTTP/1.2 served as 1.1");
	is_int(req.minor, 1, "HTTP/1.2: minor 1");
}

static void
test_head_and_lf(void)
{
	struct http_request	 req;

	is_int(parse_str("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", &req), HTTP_OK,
	    "HEAD: OK");
	is_int(req.head, 1, "HEAD: head set");
	parse_str("HEADER / HTTP/1.1\r\n\r\n", &req);
	is_int(req.head, 0, "HEADER is not HEAD");
	is_int(parse_str("GET / HTTP/1.1\nHost: x\nContent-Length: 2\n\nab",
	    &req), HTTP_OK, "LF-only lines: OK");
	ok(req.header_length == 42 && req.content_length == 2,
	    "LF-only lines: lengths");
	is_int(parse_str("GET / HTTP/1.1\r\nHost: x\n\r\n", &req), HTTP_OK,
	    "mixed CRLF and LF: OK");
}

static void
test_bad(void)
{
	static const struct {
		const char		*text;
		enum http_status	 want;
		const char		*what;
	} cases[] = {
		{ "GET /\r\n\r\n", HTTP_BAD_REQUEST, "missing version" },
		{ "GET / HTTP/1.1 \r\n\r\n", HTTP_BAD_REQUEST,
		    "trailing space" },
		{ "GET / HTTP/1\r\n\r\n", HTTP_BAD_REQUEST, "short version" },
		{ "GET / HTTP/11.1\r\n\r\n", HTTP_BAD_REQUEST, "long version" },
		{ "GET / HTTP/x.1\r\n\r\n", HTTP_BAD_REQUEST, "bad version" },
		{ "GET / http/1.1\r\n\r\n", HTTP_BAD_REQUEST,
		    "lower-case version" },
		{ "GET /a b HTTP/1.1\r\n\r\n", HTTP_BAD_REQUEST,
		    "space in target" },
		{ "GET  / HTTP/1.1\r\n\r\n", HTTP_BAD_REQUEST, "double space" },
		{ "GET /\x01 HTTP/1.1\r\n\r\n", HTTP_BAD_REQUEST,
		    "control char in target" },
		{ "G\x7fT / HTTP/1.1\r\n\r\n", HTTP_BAD_REQUEST,
		    "DEL in method" },
		{ " / HTTP/1.1\r\n\r\n", HTTP_BAD_REQUEST, "empty method" },
		{ "GET\t/ HTTP/1.1\r\n\r\n", HTTP_BAD_REQUEST,
		    "tab separator" },
		{ "GET / HTTP/1.1\r\r\n\r\n", HTTP_BAD_REQUEST, "CR CR LF" },
		{ "\rGET / HTTP/1.1\r\n\r\n", HTTP_BAD_REQUEST, "bare CR" },
		{ "GET / HTTP/2.0\r\n\r\n", HTTP_VERSION_NOT_SUPPORTED,
		    "HTTP/2.0" },
		{ "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		    HTTP_VERSION_NOT_SUPPORTED, "h2 preface" },
		{ "GET / HTTP/0.9\r\n\r\n", HTTP_VERSION_NOT_SUPPORTED,
		    "HTTP/0.9" },
		{ "GET / HTTP/1.1\r\nHost : x\r\n\r\n", HTTP_BAD_REQUEST,
		    "space before colon" },
		{ "GET / HTTP/1.1\r\nX-A: 1\r\n  more\r\n\r\n",
		    HTTP_BAD_REQUEST, "obs-fold" },
		{ "GET / HTTP/1.1\r\n\tX: 1\r\n\r\n", HTTP_BAD_REQUEST,
		    "whitespace after the request line" },
		{ "GET / HTTP/1.1\r\nNoColon\r\n\r\n", HTTP_BAD_REQUEST,
		    "header without colon" },
		{ "GET / HTTP/1.1\r\n: x\r\n\r\n", HTTP_BAD_REQUEST,
		    "empty header name" },
		{ "GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n", HTTP_BAD_REQUEST,
		    "control char in value" },
		{ "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", HTTP_BAD_REQUEST,
		    "CR inside value" },
		{ "GET / HTTP/1.1\r\nX: a\tb\t\r\n\r\n", HTTP_OK,
		    "HTAB in value is fine" },
		{ "GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n", HTTP_OK,
		    "obs-text in value is fine" },
		{ "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
		    HTTP_NOT_IMPLEMENTED, "Transfer-Encoding" },
		{ "POST / HTTP/1.1\r\nContent-Length: 3\r\n"
		    "transfer-encoding: gzip, chunked\r\n\r\n",
		    HTTP_NOT_IMPLEMENTED, "Transfer-Encoding with length" },
	};
	struct http_request	 req;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(parse_str(cases[i].text, &req), cases[i].want, "%s",
		    cases[i].what);
}

static void
test_content_length(void)
{
	static const char	*bad[] = {
		"abc", "-1", "+1", "1 2", "", "5, 6", "5,", ",5", "0x10",
		"99999999999999999999999", "18446744073709551615",
	};
	struct http_request	 req;
	char			 buf[256];
	size_t			 i, wrong = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf),
		    "POST / HTTP/1.1\r\nContent-Length: %s\r\n\r\n", bad[i]);
		if (parse_str(buf, &req) != HTTP_BAD_REQUEST && wrong++ == 0)
			tap_diag("Content-Length \"%s\" accepted", bad[i]);
	}
	is_int(wrong, 0, "bad Content-Length values are 400");
	is_int(parse_str("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\n", &req), HTTP_BAD_REQUEST,
	    "conflicting Content-Length lines are 400");
	is_int(parse_str("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
	    "content-length:5 \r\n\r\n", &req), HTTP_OK,
	    "repeated identical Content-Length lines");
	is_int(req.content_length, 5, "repeated: length 5");
	is_int(parse_str("POST / HTTP/1.1\r\nContent-Length: 7 , 7\r\n\r\n",
	    &req), HTTP_OK, "identical list in one line");
	is_int(req.content_length, 7, "list: length 7");
	is_int(parse_str("POST / HTTP/1.1\r\nContent-Length: 1000000000000"
	    "\r\n\r\n", &req), HTTP_OK, "large but sane length");
	ok(req.content_length == 1000000000000ULL, "large length kept");
}

/* Every control byte at every offset of a long value, and the good ones. */
static void
test_value_bytes(void)
{
	static const char	 head[] = "GET / HTTP/1.1\r\nX: ";
	struct http_request	 req;
	char			 buf[64];
	size_t			 at, wrong = 0, n;
	int			 c;
	enum http_status	 want;

	for (c = 0; c < 256; c++) {
		if (c == '\r' || c == '\n')
			continue;
		for (at = 0; at < 20; at++) {
			n = sizeof(head) - 1;
			memcpy(buf, head, n);
			memset(buf + n, 'v', 20);
			buf[n + at] = c;
			memcpy(buf + n + 20, "v\r\n\r\n", 5);
			n += 25;
			want = (c < 0x20 && c != '\t') || c == 0x7f ?
			    HTTP_BAD_REQUEST : HTTP_OK;
			if (parse_exact(buf, n, &req) != want && wrong++ == 0)
				tap_diag("byte 0x%02x at %zu", c, at);
		}
	}
	is_int(wrong, 0, "each byte at each offset of a value judged right");
}

/* Garbage is refused before the line ends, not after 8 KiB. */
static void
test_partial_errors(void)
{
	struct http_request	 req;

	is_int(parse_str("GET /a\x01", &req), HTTP_BAD_REQUEST,
	    "partial: control char in target");
	is_int(parse_str("GET / HTTP/1.1\r\nHo st", &req), HTTP_BAD_REQUEST,
	    "partial: space in header name");
	is_int(parse_str("GET / HTTP/1.1\r\nHost: x\r\n x", &req),
	    HTTP_BAD_REQUEST, "partial: obs-fold");
	is_int(parse_str("GET / HTTP/1.1\r\nHost: x\r\n\r", &req),
	    HTTP_INCOMPLETE, "partial: CR of the final CRLF");
	is_int(parse_str("GET / HTTP/1.1\r\nContent-Length: 12", &req),
	    HTTP_INCOMPLETE, "partial: value not yet judged");
}

/* A GET head of exactly total bytes: one header line padded to fit. */
static void
build_head(char *buf, size_t total)
{
	static const char	 line[] = "GET / HTTP/1.1\r\nX: ";
	size_t			 fixed = sizeof(line) - 1 + 4;

	memcpy(buf, line, sizeof(line) - 1);
	memset(buf + sizeof(line) - 1, 'p', total - fixed);
	memcpy(buf + total - 4, "\r\n\r\n", 4);
}

static void
test_limit(void)
{
	struct http_request	 req;
	char			*buf;

	if ((buf = malloc(HTTP_HEADER_MAX + 2)) == NULL)
		abort();
	build_head(buf, HTTP_HEADER_MAX);
	is_int(parse_exact(buf, HTTP_HEADER_MAX, &req), HTTP_OK,
	    "head of exactly the limit");
	is_int(req.header_length, HTTP_HEADER_MAX, "limit: header_length");
	is_int(parse_exact(buf, HTTP_HEADER_MAX - 1, &req), HTTP_INCOMPLETE,
	    "one short of the limit: incomplete");

	build_head(buf, HTTP_HEADER_MAX + 1);
	is_int(parse_exact(buf, HTTP_HEADER_MAX + 1, &req),
	    HTTP_HEADERS_TOO_LARGE, "one byte over the limit is 431");
	is_int(parse_exact(buf, HTTP_HEADER_MAX, &req),
	    HTTP_HEADERS_TOO_LARGE, "431 as soon as the limit is read");

	memset(buf, 'a', HTTP_HEADER_MAX + 2);
	memcpy(buf, "GET /", 5);
	is_int(parse_exact(buf, HTTP_HEADER_MAX - 1, &req), HTTP_INCOMPLETE,
	    "long target under the limit: incomplete");
	is_int(parse_exact(buf, HTTP_HEADER_MAX + 2, &req),
	    HTTP_HEADERS_TOO_LARGE, "no line end within 8 KiB is 431");
	memset(buf, '\n', HTTP_HEADER_MAX);
	is_int(parse_exact(buf, HTTP_HEADER_MAX, &req),
	    HTTP_HEADERS_TOO_LARGE, "8 KiB of empty lines is 431");
	free(buf);
}

/* Every reply: right length, right Connection, Content-Length = body. */
static void
test_responses(void)
{
	static const enum http_status	 codes[] = {
		HTTP_OK, HTTP_BAD_REQUEST, HTTP_HEADERS_TOO_LARGE,
		HTTP_NOT_IMPLEMENTED, HTTP_VERSION_NOT_SUPPORTED,
	};
	const char	*r, *cl, *body;
	size_t		 i, len, hlen;
	int		 keep, good, want_keep;
	char		 status_line[16];

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		for (keep = 0; keep <= 1; keep++) {
			good = 1;
			r = http_response(codes[i], keep, 0, &len);
			if (r == NULL || len != strlen(r))
				good = 0;
			snprintf(status_line, sizeof(status_line),
			    "HTTP/1.1 %d ", codes[i]);
			if (good && strncmp(r, status_line,
			    strlen(status_line)) != 0)
				good = 0;
			want_keep = keep && codes[i] == HTTP_OK;
			if (good && strstr(r, want_keep ?
			    "\r\nConnection: keep-alive\r\n" :
			    "\r\nConnection: close\r\n") == NULL)
				good = 0;
			if (good &&
			    strstr(r, "\r\nServer: acceptd\r\n") == NULL)
				good = 0;
			if (good && strstr(r, "Date:") != NULL)
				good = 0;
			body = good ? strstr(r, "\r\n\r\n") : NULL;
			cl = good ? strstr(r, "\r\nContent-Length: ") : NULL;
			if (body == NULL || cl == NULL ||
			    strtoul(cl + 18, NULL, 10) != strlen(body + 4))
				good = 0;
			ok(good, "reply %d keep_alive %d: consistent",
			    codes[i], keep);
			hlen = body != NULL ? (size_t)(body + 4 - r) : 0;
			r = http_response(codes[i], keep, 1, &len);
			is_int(len, hlen,
			    "reply %d keep_alive %d HEAD: no body",
			    codes[i], keep);
		}
	}
	r = http_response(HTTP_OK, 1, 0, &len);
	ok(len >= 13 && memcmp(r + len - 13, "Hello, world\n", 13) == 0,
	    "200 body is Hello, world");
	r = http_response(HTTP_INCOMPLETE, 1, 0, &len);
	ok(r == NULL && len == 0, "no reply for HTTP_INCOMPLETE");
}

/* Within the buffer, the same on the head alone, incomplete one short. */
static int
fuzz_ok_is_stable(const char *buf, size_t n, const struct http_request *req)
{
	struct http_request	 again;
	size_t			 k = req->header_length;

	if (k == 0 || k > n)
		return 0;
	if (parse_exact(buf, k, &again) != HTTP_OK ||
	    again.header_length != k ||
	    again.content_length != req->content_length)
		return 0;
	return parse_exact(buf, k - 1, &again) == HTTP_INCOMPLETE;
}

/*
 * Random byte flips, inserts, deletes and cuts on good requests.  The
 * statuses must stay in the enum, an OK must be inside the buffer, and
 * an OK must already be OK on the head alone and incomplete just before.
 */
static void
test_fuzz(void)
{
	static const char	*seeds[] = {
		"GET /index.html HTTP/1.1\r\nHost: localhost\r\n"
		    "Accept: */*\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
		    "Connection: keep-alive, close\r\n\r\nbody",
		"HEAD / HTTP/1.0\nConnection: Keep-Alive\n\n",
		"\r\nGET /a?b=c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
	};
	static const char	 alphabet[] = "\r\n :,\t0123456789GETHP/.-aZ";
	struct http_request	 req;
	char			 buf[512];
	size_t			 n, at;
	enum http_status	 status;
	int			 i, edits, seen_ok = 0;
	int			 bad_status = 0, bad_ok = 0;

	srandom(FUZZ_SEED);
	for (i = 0; i < FUZZ_ROUNDS; i++) {
		n = strlen(seeds[i % 4]);
		memcpy(buf, seeds[i % 4], n);
		for (edits = 1 + random() % 3; edits > 0; edits--) {
			at = n > 0 ? (size_t)random() % n : 0;
			switch (random() % 5) {
			case 0:
				if (n > 0)
					buf[at] = random() & 0xff;
				break;
			case 1:
				if (n > 0)
					buf[at] = alphabet[random() %
					    (sizeof(alphabet) - 1)];
				break;
			case 2:
				if (n + 1 >= sizeof(buf))
					break;
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = alphabet[random() %
				    (sizeof(alphabet) - 1)];
				n++;
				break;
			case 3:
				if (n > 0) {
					memmove(buf + at, buf + at + 1,
					    n - at - 1);
					n--;
				}
				break;
			default:
				n = at;
				break;
			}
		}
		status = parse_exact(buf, n, &req);
		switch (status) {
		case HTTP_INCOMPLETE:
		case HTTP_BAD_REQUEST:
		case HTTP_HEADERS_TOO_LARGE:
		case HTTP_NOT_IMPLEMENTED:
		case HTTP_VERSION_NOT_SUPPORTED:
			break;
		case HTTP_OK:
			seen_ok++;
			if (!fuzz_ok_is_stable(buf, n, &req) &&
			    bad_ok++ == 0)
				tap_diag("round %d: bad OK", i);
			break;
		default:
			if (bad_status++ == 0)
				tap_diag("round %d: status %d", i, status);
			break;
		}
	}
	is_int(bad_status, 0, "fuzz: %d rounds, only known statuses",
	    FUZZ_ROUNDS);
	is_int(bad_ok, 0, "fuzz: every OK is within the buffer and stable");
	ok(seen_ok > 0, "fuzz: some mutations still parse (%d)", seen_ok);
}

int
main(void)
{
	test_get();
	test_splits("GET", "GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
	test_splits("POST", "POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\n");
	test_splits("LF", "\nGET / HTTP/1.0\nConnection: keep-alive\n\n");
	test_pipeline();
	test_post();
	test_connection();
	test_head_and_lf();
	test_bad();
	test_content_length();
	test_value_bytes();
	test_partial_errors();
	test_limit();
	test_responses();
	test_fuzz();
	return tap_done();
}

/*
 * HTTP/1.1 request heads (RFC 9112) parsed in one pass without allocation,
 * and the fixed replies of the "http" protocol.
 */
#include <stdint.h>
#include <string.h>

#include "http.h"

/* What the header fields seen so far say; copied to the caller on success. */
struct http_head {
	size_t	content_length;
	int	has_length;
	int	chunked;	/* any Transfer-Encoding at all */
	int	close;
	int	keep_alive;
	int	head;
	int	minor;
};

static enum http_status	http_request_line(const char *, size_t, int,
			    struct http_head *);
static enum http_status	http_version(const char *, size_t, int,
			    struct http_head *);
static enum http_status	http_header_line(const char *, size_t, int,
			    struct http_head *);
static enum http_status	http_field(const char *, size_t, const char *,
			    size_t, struct http_head *);
static int		http_name_is(const char *, size_t, const char *,
			    size_t);
static enum http_status	http_content_length(const char *, size_t,
			    struct http_head *);
static void		http_connection(const char *, size_t,
			    struct http_head *);
static int		http_value_valid(const char *, const char *);
static int		http_bytes_valid(const char *, const char *);
static enum http_status	http_partial(const char *, size_t, int,
			    struct http_head *);
static enum http_status	http_finish(size_t, struct http_head *,
			    struct http_request *);

/*
 * RFC 9110 tchar: the bytes of methods and field names.  A table because
 * it is looked up for every byte of every field name.
 */
static const unsigned char http_tchar[256] = {
	/* 0x00 */ 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,
	/* 0x10 */ 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,
	/* 0x20 */ 0,1,0,1,1,1,1,1, 0,0,1,1,0,1,1,0,
	/* 0x30 */ 1,1,1,1,1,1,1,1, 1,1,0,0,0,0,0,0,
	/* 0x40 */ 0,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,
	/* 0x50 */ 1,1,1,1,1,1,1,1, 1,1,1,0,0,0,1,1,
	/* 0x60 */ 1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,
	/* 0x70 */ 1,1,1,1,1,1,1,1, 1,1,1,0,1,0,1,0,
};

/* Keeps header_length + content_length from overflowing in the caller. */
#define HTTP_LENGTH_MAX	(SIZE_MAX - HTTP_HEADER_MAX)

#define HTTP_IS_OWS(c)	((c) == ' ' || (c) == '\t')

/* Field values: SP, HTAB, VCHAR and obs-text; every other control is bad. */
static inline int
http_value_char(unsigned char c)
{
	return (c >= 0x20 && c != 0x7f) || c == '\t';
}

/* Request targets: no spaces, no controls; obs-text is let through. */
static inline int
http_target_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f;
}

/*
 * Values are most of a head's bytes, so they are checked eight at a time:
 * a word with no byte below 0x20 and none equal to 0x7f is good as it is;
 * only a word that has one (usually an HTAB) is looked at byte by byte.
 */
static int
http_value_valid(const char *p, const char *end)
{
	const uint64_t	 ones = 0x0101010101010101ULL;
	const uint64_t	 highs = 0x8080808080808080ULL;
	uint64_t	 w, del;

	for (; end - p >= 8; p += 8) {
		memcpy(&w, p, sizeof(w));
		del = w ^ (ones * 0x7f);
		if ((((w - ones * 0x20) & ~w) | ((del - ones) & ~del)) &
		    highs) {
			if (!http_bytes_valid(p, p + 8))
				return 0;
		}
	}
	return http_bytes_valid(p, end);
}

static int
http_bytes_valid(const char *p, const char *end)
{
	for (; p < end; p++)
		if (!http_value_char(*p))
			return 0;
	return 1;
}

enum http_status
http_parse(const char *buf, size_t len, struct http_request *req)
{
	struct http_head	 h = { 0 };
	const char		*p = buf, *end, *nl, *eol;
	enum http_status	 status;
	int			 started = 0;

	/* With len 0, buf may be NULL, which memchr must never be given. */
	if (len == 0)
		return HTTP_INCOMPLETE;
	/* Only the first HTTP_HEADER_MAX bytes can hold an acceptable head. */
	end = buf + (len < HTTP_HEADER_MAX ? len : HTTP_HEADER_MAX);
	while ((nl = memchr(p, '\n', end - p)) != NULL) {
		/* RFC 9112 §2.2: a bare LF ends a line as well as CRLF. */
		eol = nl;
		if (eol > p && eol[-1] == '\r')
			eol--;
		if (eol == p) {
			/* Empty lines before the request line are skipped. */
			if (started)
				return http_finish(nl + 1 - buf, &h, req);
		} else {
			if (started)
				status = http_header_line(p, eol - p, 1, &h);
			else
				status = http_request_line(p, eol - p, 1, &h);
			if (status != HTTP_OK)
				return status;
			started = 1;
		}
		p = nl + 1;
	}
	status = http_partial(p, end - p, started, &h);
	if (status == HTTP_INCOMPLETE && len >= HTTP_HEADER_MAX)
		return HTTP_HEADERS_TOO_LARGE;
	return status;
}

/*
 * The unfinished last line is checked as far as it goes, so that garbage
 * is refused at once instead of waiting for HTTP_HEADER_MAX bytes.
 */
static enum http_status
http_partial(const char *p, size_t n, int started, struct http_head *h)
{
	/* A CR at the very end may be half of a CRLF. */
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n == 0)
		return HTTP_INCOMPLETE;
	if (started)
		return http_header_line(p, n, 0, h);
	return http_request_line(p, n, 0, h);
}

static enum http_status
http_finish(size_t header_length, struct http_head *h,
    struct http_request *req)
{
	/* We cannot find the end of a chunked body, so we cannot go on. */
	if (h->chunked)
		return HTTP_NOT_IMPLEMENTED;
	req->header_length = header_length;
	req->content_length = h->has_length ? h->content_length : 0;
	if (h->minor >= 1)
		req->keep_alive = !h->close;
	else
		req->keep_alive = h->keep_alive && !h->close;
	req->head = h->head;
	req->minor = h->minor;
	return HTTP_OK;
}

/*
 * METHOD SP TARGET SP HTTP/1.x, without the line end.  With complete 0 the
 * line may go on; a good prefix then gives HTTP_INCOMPLETE.
 */
static enum http_status
http_request_line(const char *p, size_t n, int complete, struct http_head *h)
{
	const char	*end = p + n, *start = p;

	while (p < end && http_tchar[(unsigned char)*p])
		p++;
	if (p == end)
		return complete ? HTTP_BAD_REQUEST : HTTP_INCOMPLETE;
	if (*p != ' ' || p == start)
		return HTTP_BAD_REQUEST;
	h->head = p - start == 4 && memcmp(start, "HEAD", 4) == 0;

	start = ++p;
	while (p < end && http_target_char(*p))
		p++;
	if (p == end)
		return complete ? HTTP_BAD_REQUEST : HTTP_INCOMPLETE;
	if (*p != ' ' || p == start)
		return HTTP_BAD_REQUEST;
	p++;
	return http_version(p, end - p, complete, h);
}

/*
 * "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3).  Another major
 * version is 505; a later 1.x minor is served as 1.1 (RFC 9110 §2.5).
 */
static enum http_status
http_version(const char *p, size_t n, int complete, struct http_head *h)
{
	static const char	 form[] = "HTTP/9.9";
	const size_t		 size = sizeof(form) - 1;
	size_t			 i;

	if (n > size)
		return HTTP_BAD_REQUEST;
	for (i = 0; i < n; i++) {
		if (form[i] == '9') {
			if (p[i] < '0' || p[i] > '9')
				return HTTP_BAD_REQUEST;
		} else if (p[i] != form[i])
			return HTTP_BAD_REQUEST;
	}
	if (!complete)
		return HTTP_INCOMPLETE;
	if (n < size)
		return HTTP_BAD_REQUEST;
	if (p[5] != '1')
		return HTTP_VERSION_NOT_SUPPORTED;
	h->minor = p[7] == '0' ? 0 : 1;
	return HTTP_OK;
}

/*
 * name ":" OWS value OWS.  Whitespace before the colon and obs-fold (a line
 * starting with whitespace) are refused, as RFC 9112 §5.1 and §5.2 allow.
 */
static enum http_status
http_header_line(const char *p, size_t n, int complete, struct http_head *h)
{
	const char	*end = p + n, *name = p, *value;
	size_t		 name_length;

	while (p < end && http_tchar[(unsigned char)*p])
		p++;
	if (p == end)
		return complete ? HTTP_BAD_REQUEST : HTTP_INCOMPLETE;
	if (*p != ':' || p == name)
		return HTTP_BAD_REQUEST;
	name_length = p - name;
	p++;
	while (p < end && HTTP_IS_OWS(*p))
		p++;
	value = p;
	if (!http_value_valid(p, end))
		return HTTP_BAD_REQUEST;
	if (!complete)
		return HTTP_INCOMPLETE;
	while (end > value && HTTP_IS_OWS(end[-1]))
		end--;
	return http_field(name, name_length, value, end - value, h);
}

/* Only the few names we act on are compared; the rest pass unlooked-at. */
static enum http_status
http_field(const char *name, size_t name_length, const char *value,
    size_t length, struct http_head *h)
{
	if (http_name_is(name, name_length, "connection", 10))
		http_connection(value, length, h);
	else if (http_name_is(name, name_length, "content-length", 14))
		return http_content_length(value, length, h);
	else if (http_name_is(name, name_length, "transfer-encoding", 17))
		h->chunked = 1;
	return HTTP_OK;
}

/*
 * Case-insensitive match against a lower-case name of letters and '-'.
 * OR-ing 0x20 is exact here: the only other byte it maps onto a letter or
 * '-' is the upper-case letter or CR, and CR is never in a token or value.
 */
static int
http_name_is(const char *p, size_t n, const char *lower, size_t lower_length)
{
	size_t	i;

	if (n != lower_length)
		return 0;
	for (i = 0; i < n; i++)
		if ((p[i] | 0x20) != lower[i])
			return 0;
	return 1;
}

/*
 * 1*DIGIT, or a list of identical ones ("5, 5"), possibly over several
 * lines; anything else could desynchronise us from the client (RFC 9112
 * §6.3), so it is 400.
 */
static enum http_status
http_content_length(const char *p, size_t n, struct http_head *h)
{
	const char	*end = p + n;
	size_t		 value;
	unsigned int	 digit;
	int		 digits;

	for (;;) {
		value = 0;
		for (digits = 0; p < end && *p >= '0' && *p <= '9'; digits++) {
			digit = *p++ - '0';
			if (value > (HTTP_LENGTH_MAX - digit) / 10)
				return HTTP_BAD_REQUEST;
			value = value * 10 + digit;
		}
		if (digits == 0)
			return HTTP_BAD_REQUEST;
		if (h->has_length && h->content_length != value)
			return HTTP_BAD_REQUEST;
		h->has_length = 1;
		h->content_length = value;
		while (p < end && HTTP_IS_OWS(*p))
			p++;
		if (p == end)
			return HTTP_OK;
		if (*p++ != ',')
			return HTTP_BAD_REQUEST;
		while (p < end && HTTP_IS_OWS(*p))
			p++;
	}
}

/* A comma list of options; "close" wins over "keep-alive". */
static void
http_connection(const char *p, size_t n, struct http_head *h)
{
	const char	*end = p + n, *token, *token_end;

	while (p < end) {
		while (p < end && (HTTP_IS_OWS(*p) || *p == ','))
			p++;
		token = p;
		while (p < end && *p != ',')
			p++;
		token_end = p;
		while (token_end > token && HTTP_IS_OWS(token_end[-1]))
			token_end--;
		if (http_name_is(token, token_end - token, "close", 5))
			h->close = 1;
		else if (http_name_is(token, token_end - token,
		    "keep-alive", 10))
			h->keep_alive = 1;
	}
}

/*
 * The replies are constant byte strings: there is deliberately no Date
 * header, so nothing changes between requests and a reply is copied from
 * static storage (pipelined ones into one buffer), never formatted.  Content-Length is
 * written out by hand; the unit test checks it against the body.
 */
#define HTTP_REPLY_HEAD(code, reason, connection, length)		\
	"HTTP/1.1 " #code " " reason "\r\n"				\
	"Server: acceptd\r\n"						\
	"Content-Type: text/plain\r\n"					\
	"Content-Length: " #length "\r\n"				\
	"Connection: " connection "\r\n"				\
	"\r\n"

#define HTTP_REPLY(code, reason, connection, length, body) {		\
	HTTP_REPLY_HEAD(code, reason, connection, length) body,		\
	sizeof(HTTP_REPLY_HEAD(code, reason, connection, length) body) - 1, \
	sizeof(body) - 1						\
}

struct http_reply {
	const char	*text;
	size_t		 length;	/* all of it */
	size_t		 body;		/* the tail left off for HEAD */
};

static const struct http_reply http_ok_keep_alive =
    HTTP_REPLY(200, "OK", "keep-alive", 13, "Hello, world\n");
static const struct http_reply http_ok_close =
    HTTP_REPLY(200, "OK", "close", 13, "Hello, world\n");
static const struct http_reply http_bad_request =
    HTTP_REPLY(400, "Bad Request", "close", 12, "Bad Request\n");
static const struct http_reply http_too_large =
    HTTP_REPLY(431, "Request Header Fields Too Large", "close", 32,
    "Request Header Fields Too Large\n");
static const struct http_reply http_not_implemented =
    HTTP_REPLY(501, "Not Implemented", "close", 16, "Not Implemented\n");
static const struct http_reply http_bad_version =
    HTTP_REPLY(505, "HTTP Version Not Supported", "close", 27,
    "HTTP Version Not Supported\n");

const char *
http_response(enum http_status status, int keep_alive, int head, size_t *len)
{
	const struct http_reply	*r;

	switch (status) {
	case HTTP_OK:
		r = keep_alive ? &http_ok_keep_alive : &http_ok_close;
		break;
	case HTTP_BAD_REQUEST:
		r = &http_bad_request;
		break;
	case HTTP_HEADERS_TOO_LARGE:
		r = &http_too_large;
		break;
	case HTTP_NOT_IMPLEMENTED:
		r = &http_not_implemented;
		break;
	case HTTP_VERSION_NOT_SUPPORTED:
		r = &http_bad_version;
		break;
	default:
		*len = 0;
		return NULL;
	}
	*len = head ? r->length - r->body : r->length;
	return r->text;
}

/*
 * HTTP/1.1 for the "http" protocol: a stateless request-head parser and the
 * fixed replies.  Nothing is kept between calls, so an idle connection
 * needs no buffer: the caller parses again once more bytes have come.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

/* What http_parse found; the error values are the reply's status code. */
enum http_status {
	HTTP_INCOMPLETE = 0,
	HTTP_OK = 200,
	HTTP_BAD_REQUEST = 400,
	HTTP_HEADERS_TOO_LARGE = 431,
	HTTP_NOT_IMPLEMENTED = 501,
	HTTP_VERSION_NOT_SUPPORTED = 505
};

struct http_request {
	size_t	header_length;	/* bytes up to and including the blank line */
	size_t	content_length;	/* body bytes that follow, to be skipped */
	int	keep_alive;	/* 1.1: unless close; 1.0: if keep-alive */
	int	head;		/* method was HEAD: no body in the reply */
	int	minor;		/* HTTP/1.minor, 0 or 1 */
};

/* A request head (with any empty lines before it) longer than this is 431. */
#define HTTP_HEADER_MAX	8192

/*
 * Parse the request head at the start of buf (len bytes, not NUL-terminated).
 * HTTP_OK: *req is filled, and the next request starts at
 * header_length + content_length.  HTTP_INCOMPLETE: nothing wrong so far,
 * call again with more bytes.  Anything else: answer with http_response for
 * that status and close.  *req is only written on HTTP_OK.
 */
enum http_status	 http_parse(const char *buf, size_t len,
			    struct http_request *req);

/*
 * The whole reply for a status (200 or one of the errors), in static storage
 * that is never freed; *len is its length.  Errors always say
 * "Connection: close", whatever keep_alive says.  With head, the body is
 * left off.  NULL (and *len 0) for HTTP_INCOMPLETE or an unknown status.
 */
const char		*http_response(enum http_status status, int keep_alive,
			    int head, size_t *len);

#endif /* HTTP_H */

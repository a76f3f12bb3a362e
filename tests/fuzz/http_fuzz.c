/*
 * libFuzzer target for the HTTP request-head parser.  Besides not
 * crashing, it holds http.h's promises: a head found is inside the bytes
 * and parses the same from exactly its own bytes; a shorter read of a
 * good or unfinished head is only ever "incomplete", since the worker
 * parses again as bytes arrive and must not refuse a slow client; every
 * answer has a reply.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what, size_t len)
{
	if (!cond) {
		fprintf(stderr, "http_parse of %zu bytes: %s\n", len, what);
		abort();
	}
}

static void
check_reply(enum http_status st, const struct http_request *req)
{
	size_t	len;

	if (st == HTTP_INCOMPLETE)
		return;
	check(http_response(st, req->keep_alive, req->head, &len) != NULL &&
	    len > 0, "a status without a reply", 0);
}

/* Reads of n bytes, for n below need, must wait for more. */
static void
check_prefixes(const char *buf, size_t need)
{
	struct http_request	req;
	size_t			n[] = { need - 1, need / 2, need / 3, 1 };
	size_t			i;

	for (i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		if (n[i] < need)
			check(http_parse(buf, n[i], &req) == HTTP_INCOMPLETE,
			    "refused a prefix of an acceptable stream", n[i]);
}

static void
check_ok(const char *buf, size_t len, const struct http_request *req)
{
	struct http_request	again;

	check(req->header_length > 0 && req->header_length <= len &&
	    req->header_length <= HTTP_HEADER_MAX, "head length", len);
	check(req->content_length <= SIZE_MAX - req->header_length,
	    "head and body lengths overflow", len);
	check(req->minor == 0 || req->minor == 1, "HTTP minor version", len);
	check(http_parse(buf, req->header_length, &again) == HTTP_OK &&
	    again.header_length == req->header_length &&
	    again.content_length == req->content_length &&
	    again.keep_alive == req->keep_alive && again.head == req->head &&
	    again.minor == req->minor,
	    "the head alone parses otherwise", req->header_length);
	check_prefixes(buf, req->header_length);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*buf = (const char *)data;
	struct http_request	 req = { 0 };
	enum http_status	 st;

	st = http_parse(buf, size, &req);
	switch (st) {
	case HTTP_OK:
		check_ok(buf, size, &req);
		break;
	case HTTP_INCOMPLETE:
		check_prefixes(buf, size);
		break;
	case HTTP_BAD_REQUEST:
	case HTTP_HEADERS_TOO_LARGE:
	case HTTP_NOT_IMPLEMENTED:
	case HTTP_VERSION_NOT_SUPPORTED:
		break;
	default:
		check(0, "an unknown status", size);
	}
	check_reply(st, &req);
	return 0;
}

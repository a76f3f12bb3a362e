/*
 * Unit tests for the text forms shared by the daemon and the tools:
 * common/json.c (string escaping) and common/sockaddr.c (addresses).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sockaddr.h"
#include "tap.h"

static char *
json(const char *s)
{
	static char	 out[256];
	FILE		*f;

	if ((f = fmemopen(out, sizeof(out), "w")) == NULL)
		return "fmemopen failed";
	json_string(f, s);
	fclose(f);
	return out;
}

static void
test_json(void)
{
	is_str(json(""), "\"\"", "json: empty string");
	is_str(json("plain text"), "\"plain text\"", "json: plain text as is");
	is_str(json("a\"b\\c"), "\"a\\\"b\\\\c\"", "json: quote and backslash");
	is_str(json("\n\t\x01\x1f"), "\"\\u000a\\u0009\\u0001\\u001f\"",
	    "json: control characters as \\u00XX");
	is_str(json("\x7f\xc3\xa9"), "\"\x7f\xc3\xa9\"",
	    "json: DEL and UTF-8 bytes as they are");
}

static const char *
addr(int family, const char *host, unsigned short port)
{
	static char		 out[SOCKADDR_STRLEN];
	union sockaddr_any	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa.sa_family = family;
	if (family == AF_INET) {
		inet_pton(AF_INET, host, &sa.sin.sin_addr);
		sa.sin.sin_port = htons(port);
	} else if (family == AF_INET6) {
		inet_pton(AF_INET6, host, &sa.sin6.sin6_addr);
		sa.sin6.sin6_port = htons(port);
	}
	sockaddr_format(&sa, out, sizeof(out));
	return out;
}

static void
test_sockaddr(void)
{
	union sockaddr_any	sa;
	char			small[8];
	int			n;

	is_str(addr(AF_INET, "127.0.0.1", 8080), "127.0.0.1:8080", "IPv4");
	is_str(addr(AF_INET6, "::1", 443), "[::1]:443", "IPv6 in brackets");
	is_str(addr(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535),
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
	    "a long IPv6 address fits SOCKADDR_STRLEN");
	is_str(addr(AF_UNIX, "", 0), "-", "another family: -");

	memset(&sa, 0, sizeof(sa));
	sa.sin.sin_family = AF_INET;
	sa.sin.sin_port = htons(54321);
	is_int(sockaddr_port(&sa), 54321, "port of IPv4");
	sa.sin6.sin6_family = AF_INET6;
	sa.sin6.sin6_port = htons(8080);
	is_int(sockaddr_port(&sa), 8080, "port of IPv6");
	sa.sa.sa_family = AF_UNIX;
	is_int(sockaddr_port(&sa), 0, "port of another family: 0");

	sa.sin.sin_family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", &sa.sin.sin_addr);
	sa.sin.sin_port = htons(80);
	n = sockaddr_format(&sa, small, sizeof(small));
	is_int(n, 11, "short buffer: returns the length needed");
	is_str(small, "10.0.0.", "short buffer: cut and terminated");
}

int
main(void)
{
	test_json();
	test_sockaddr();
	return tap_done();
}

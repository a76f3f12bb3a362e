/*
 * Unit tests for common/expo.c, the Prometheus text exposition writer:
 * HELP and TYPE once per family, label values escaped, names checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"
#include "tap.h"

static char	 buf[4096];

static FILE *
open_buf(void)
{
	memset(buf, 0, sizeof(buf));
	return fmemopen(buf, sizeof(buf), "w");
}

static int
count(const char *text, const char *what)
{
	const char	*p;
	int		 n = 0;

	for (p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

static void
test_family(void)
{
	struct expo	 e;
	FILE		*f = open_buf();

	expo_init(&e, f);
	is_int(expo_family(&e, "acceptd_worker_accepts_total", EXPO_COUNTER,
	    "Connections accepted."), 0, "family: first start");
	is_int(expo_sample(&e, "acceptd_worker_accepts_total", 7, "worker",
	    "0", NULL), 0, "family: sample");
	is_int(expo_sample(&e, "acceptd_worker_accepts_total", 9, "worker",
	    "1", NULL), 0, "family: second sample");
	is_int(expo_family(&e, "acceptd_worker_accepts_total", EXPO_COUNTER,
	    "again"), -1, "family: started twice is refused");
	is_int(expo_family(&e, "acceptd_listen_queue_length", EXPO_GAUGE,
	    "Queue."), 0, "family: a second family");
	is_int(expo_sample(&e, "acceptd_worker_accepts_total", 1, NULL), -1,
	    "family: a sample of an earlier family is refused");
	is_int(expo_sample(&e, "acceptd_listen_queue_length", 3, NULL), 0,
	    "family: sample without labels");
	fclose(f);
	is_str(buf,
	    "# HELP acceptd_worker_accepts_total Connections accepted.\n"
	    "# TYPE acceptd_worker_accepts_total counter\n"
	    "acceptd_worker_accepts_total{worker=\"0\"} 7\n"
	    "acceptd_worker_accepts_total{worker=\"1\"} 9\n"
	    "# HELP acceptd_listen_queue_length Queue.\n"
	    "# TYPE acceptd_listen_queue_length gauge\n"
	    "acceptd_listen_queue_length 3\n", "family: the exposition");
	is_int(count(buf, "# HELP acceptd_worker_accepts_total"), 1,
	    "family: one HELP per metric");
	is_int(count(buf, "# TYPE acceptd_worker_accepts_total"), 1,
	    "family: one TYPE per metric");
	is_int(e.errors, 2, "family: the refused calls are counted");
}

static void
test_escaping(void)
{
	struct expo	 e;
	FILE		*f = open_buf();

	expo_init(&e, f);
	expo_family(&e, "m", EXPO_GAUGE, "back\\slash \"quoted\"\nnext");
	expo_sample(&e, "m", 1, "listen", "[::1]:80", "a", "q\"b\\s\nn",
	    NULL);
	fclose(f);
	is_str(buf,
	    "# HELP m back\\\\slash \"quoted\"\\nnext\n"
	    "# TYPE m gauge\n"
	    "m{listen=\"[::1]:80\",a=\"q\\\"b\\\\s\\nn\"} 1\n",
	    "escaping: HELP (backslash, newline) and label values (also '\"')");
	is_int(e.errors, 0, "escaping: nothing refused");
}

static void
test_names(void)
{
	struct expo	 e;
	FILE		*f = open_buf();

	ok(expo_valid_name("acceptd_up", 0), "names: plain");
	ok(expo_valid_name("a:b_c9", 0), "names: colon in a metric name");
	ok(!expo_valid_name("a:b", 1), "names: no colon in a label name");
	ok(!expo_valid_name("9lives", 0), "names: no leading digit");
	ok(!expo_valid_name("a-b", 0), "names: no dash");
	ok(!expo_valid_name("", 0), "names: not empty");
	expo_init(&e, f);
	is_int(expo_family(&e, "bad-name", EXPO_GAUGE, "x"), -1,
	    "names: invalid family refused");
	expo_family(&e, "ok_name", EXPO_GAUGE, "x");
	is_int(expo_sample(&e, "ok_name", 1, "bad label", "v", NULL), -1,
	    "names: invalid label refused");
	is_int(expo_sample(&e, "ok_name", 1, "__name__", "v", NULL), -1,
	    "names: reserved label refused");
	fclose(f);
	is_int(count(buf, "ok_name{"), 0, "names: nothing written for them");
}

int
main(void)
{
	test_family();
	test_escaping();
	test_names();
	return tap_done();
}

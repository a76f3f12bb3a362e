/*
 * libFuzzer target for the master <-> worker message decoder.  A message
 * it accepts must be whole and bounded (its payload NUL-terminated inside
 * the payload array), and must come through a real channel unchanged:
 * sent again with chan_send and read with chan_recv.  The raw bytes are
 * also sent as one datagram, so chan_recv's own path (a datagram longer
 * than a message included) must agree with chan_decode.
 */
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	fds[2] = { -1, -1 };

static void
check(int cond, const char *what, size_t size)
{
	if (!cond) {
		fprintf(stderr, "channel message of %zu bytes: %s\n", size,
		    what);
		abort();
	}
}

static void
check_decoded(const struct chan_msg *msg, size_t size)
{
	check(msg->type > 0 && msg->type < CHAN_NTYPES, "type out of range",
	    size);
	check(msg->len <= CHAN_PAYLOAD_MAX, "payload longer than the maximum",
	    size);
	check(size == offsetof(struct chan_msg, payload) + msg->len,
	    "length field and size disagree", size);
	check(msg->payload[msg->len] == '\0', "payload not terminated", size);
	check(strcmp(chan_type_name(msg->type), "unknown") != 0,
	    "a type without a name", size);
}

/* What chan_send writes, chan_recv must read back the same. */
static void
check_resent(const struct chan_msg *msg, size_t size)
{
	struct chan_msg	got;

	check(chan_send(fds[0], msg->type, msg->seq, msg->payload) == 0,
	    "chan_send failed", size);
	check(chan_recv(fds[1], &got) == 1, "chan_recv refused chan_send's "
	    "message", size);
	check(got.type == msg->type && got.seq == msg->seq &&
	    strcmp(got.payload, msg->payload) == 0, "changed in transit",
	    size);
}

/* The raw bytes as one datagram: chan_recv agrees with chan_decode. */
static void
check_received(const uint8_t *data, size_t size, int decoded,
    const struct chan_msg *msg)
{
	struct chan_msg	got;
	int		r;

	if (send(fds[0], data, size, 0) != (ssize_t)size)
		err(1, "send");
	errno = 0;
	r = chan_recv(fds[1], &got);
	if (size == 0) {	/* an empty datagram reads as the peer gone */
		check(r == 0, "an empty datagram", size);
		return;
	}
	check(r == decoded, "chan_recv and chan_decode disagree", size);
	if (r == 1)
		check(got.type == msg->type && got.seq == msg->seq &&
		    got.len == msg->len && memcmp(got.payload, msg->payload,
		    msg->len + 1) == 0, "chan_recv read otherwise", size);
	else
		check(errno == EBADMSG, "refused without EBADMSG", size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chan_msg	msg;
	int		r;

	if (fds[0] == -1 && socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) == -1)
		err(1, "socketpair");
	errno = 0;
	r = chan_decode(data, size, &msg);
	check(r == 1 || (r == -1 && errno == EBADMSG), "neither 1 nor "
	    "-1 with EBADMSG", size);
	if (r == 1) {
		check_decoded(&msg, size);
		check_resent(&msg, size);
	}
	check_received(data, size, r, &msg);
	return 0;
}

/*
 * libFuzzer target for the master <-> worker message decoder and the
 * stream framing around it.  A message chan_decode accepts must be whole
 * and bounded (its payload NUL-terminated inside the payload array), and
 * must come through a real channel unchanged: sent again with chan_send
 * and read with chan_recv.  The raw bytes are also written into a fresh
 * channel, so chan_recv's framing must agree with chan_decode: a valid
 * message read back the same and nothing left, a short one waited for
 * (EAGAIN), a bad length refused with EBADMSG and the channel then closed,
 * a longer input read as its first frame.
 */
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"

#define HEADER	offsetof(struct chan_msg, payload)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

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
	check(size == HEADER + msg->len, "length field and size disagree",
	    size);
	check(msg->payload[msg->len] == '\0', "payload not terminated", size);
	check(strcmp(chan_type_name(msg->type), "unknown") != 0,
	    "a type without a name", size);
}

static void
channel_open(int fds[2])
{
	if (chan_pair(fds) == -1)
		err(1, "chan_pair");
}

static void
channel_close(int fds[2])
{
	close(fds[0]);
	close(fds[1]);
}

/* What chan_send writes, chan_recv must read back the same. */
static void
check_resent(const struct chan_msg *msg, size_t size)
{
	struct chan_msg	got;
	int		fds[2];

	channel_open(fds);
	check(chan_send(fds[0], msg->type, msg->seq, msg->payload) == 0,
	    "chan_send failed", size);
	check(chan_recv(fds[1], &got) == 1, "chan_recv refused chan_send's "
	    "message", size);
	check(got.type == msg->type && got.seq == msg->seq &&
	    strcmp(got.payload, msg->payload) == 0, "changed in transit",
	    size);
	channel_close(fds);
}

/* The raw bytes written into the stream: chan_recv's framing. */
static void
check_received(const uint8_t *data, size_t size, int decoded,
    const struct chan_msg *msg)
{
	struct chan_msg	got, first;
	uint16_t	len = 0;
	int		fds[2], r;

	channel_open(fds);
	if (size > 0 && write(fds[0], data, size) != (ssize_t)size)
		err(1, "write");
	errno = 0;
	r = chan_recv(fds[1], &got);
	if (size >= HEADER)
		memcpy(&len, data + offsetof(struct chan_msg, len), sizeof(len));
	if (decoded == 1) {
		check(r == 1 && got.type == msg->type && got.seq == msg->seq &&
		    got.len == msg->len && memcmp(got.payload, msg->payload,
		    msg->len + 1) == 0, "chan_recv read otherwise", size);
		check(chan_recv(fds[1], &got) == -1 && errno == EAGAIN,
		    "bytes left after a whole message", size);
	} else if (size < HEADER || (len <= CHAN_PAYLOAD_MAX &&
	    size < HEADER + len))
		check(r == -1 && errno == EAGAIN, "a short frame not waited "
		    "for", size);
	else if (len > CHAN_PAYLOAD_MAX) {
		check(r == -1 && errno == EBADMSG, "a bad length not refused",
		    size);
		check(chan_recv(fds[1], &got) == 0, "the channel not closed "
		    "after a bad length", size);
	} else {
		/* Longer than its frame: the first frame, as decoded alone. */
		if (chan_decode(data, HEADER + len, &first) == 1)
			check(r == 1 && got.type == first.type &&
			    got.seq == first.seq &&
			    strcmp(got.payload, first.payload) == 0,
			    "the first frame read otherwise", size);
		else
			check(r == -1 && errno == EBADMSG, "a bad first frame "
			    "not refused", size);
	}
	channel_close(fds);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chan_msg	msg;
	int		r;

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

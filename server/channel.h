/*
 * Master <-> worker channel: one stream socketpair per worker (macOS has no
 * AF_UNIX SOCK_SEQPACKET), framed by the header's length.  A message is a
 * fixed header and up to CHAN_PAYLOAD_MAX bytes of text.
 */
#ifndef CHANNEL_H
#define CHANNEL_H

#include <stddef.h>
#include <stdint.h>

enum chan_type {
	/* master -> worker; each answered by CHAN_ACK or CHAN_NAK, same seq */
	CHAN_SET = 1,		/* "name value": a run-time directive */
	CHAN_DROP,		/* "close-wait", "idle" or "all" */
	CHAN_STOP,		/* stop accepting, drain, exit */
	/* worker -> master */
	CHAN_ACK,		/* payload: optional text (e.g. "3 dropped") */
	CHAN_NAK,		/* payload: the error */
	CHAN_TRACE,		/* payload: one trace line */
	CHAN_NTYPES
};

#define CHAN_PAYLOAD_MAX	1000

struct chan_msg {
	uint16_t	type;
	uint16_t	len;
	uint32_t	seq;
	char		payload[CHAN_PAYLOAD_MAX + 1];	/* NUL-terminated */
};

/* Both ends non-blocking and close-on-exec, with no bytes in transit. */
int	chan_pair(int fds[2]);
/*
 * Send one message, all or nothing as the caller sees it: -1 with errno
 * (EAGAIN when the peer is behind) means not sent.  What a short write left
 * over goes out first on the next call.
 */
int	chan_send(int fd, enum chan_type, uint32_t seq, const char *payload);
/*
 * Receive one message into msg: 1 got one, 0 the peer closed, -1 error
 * (EAGAIN: no whole message now; EBADMSG: malformed and discarded, or,
 * when its length field is out of bounds, the stream cannot be followed
 * any further and the next call reports the channel closed).
 */
int	chan_recv(int fd, struct chan_msg *msg);
/*
 * Check one whole message of n bytes and copy it into msg (buf may be
 * msg), its payload NUL-terminated: 1, or -1 with errno EBADMSG when its
 * size, length field or type is wrong.  chan_recv uses it on every frame.
 */
int	chan_decode(const void *buf, size_t n, struct chan_msg *msg);
const char	*chan_type_name(enum chan_type);

#endif

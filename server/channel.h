/*
 * Master <-> worker channel: one SOCK_SEQPACKET socketpair per worker, so
 * every send is one whole message.  A message is a fixed header and up to
 * CHAN_PAYLOAD_MAX bytes of text.
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

int	chan_pair(int fds[2]);
/* Send one message; -1 with errno (EAGAIN when the peer is behind). */
int	chan_send(int fd, enum chan_type, uint32_t seq, const char *payload);
/*
 * Receive one message into msg: 1 got one, 0 the peer closed, -1 error
 * (EAGAIN: nothing now; EBADMSG: malformed, already discarded).
 */
int	chan_recv(int fd, struct chan_msg *msg);
/*
 * Check one received datagram of n bytes and copy it into msg (buf may be
 * msg), its payload NUL-terminated: 1, or -1 with errno EBADMSG when its
 * size, length field or type is wrong.  chan_recv uses it on every message.
 */
int	chan_decode(const void *buf, size_t n, struct chan_msg *msg);
const char	*chan_type_name(enum chan_type);

#endif

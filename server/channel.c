/*
 * Framed messages over a SOCK_SEQPACKET socketpair; sizes are checked on
 * both ends, so a short or oversized datagram is refused, never guessed at.
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>

#include "channel.h"

#define CHAN_HEADER	offsetof(struct chan_msg, payload)

static const char *const type_names[CHAN_NTYPES] = {
	"none", "set", "drop", "stop", "ack", "nak", "trace"
};

int
chan_pair(int fds[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, fds);
}

int
chan_send(int fd, enum chan_type type, uint32_t seq, const char *payload)
{
	struct chan_msg	msg;
	size_t		len = payload == NULL ? 0 : strlen(payload);

	if (len > CHAN_PAYLOAD_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	msg.type = type;
	msg.len = len;
	msg.seq = seq;
	memcpy(msg.payload, payload == NULL ? "" : payload, len);
	if (send(fd, &msg, CHAN_HEADER + len, MSG_NOSIGNAL) == -1)
		return -1;
	return 0;
}

int
chan_recv(int fd, struct chan_msg *msg)
{
	ssize_t n;

	/* MSG_TRUNC: n is the datagram's true size, so a long one shows. */
	n = recv(fd, msg, sizeof(*msg) - 1, MSG_TRUNC);
	if (n == 0)
		return 0;
	if (n == -1)
		return -1;
	return chan_decode(msg, (size_t)n, msg);
}

/*
 * Nothing of buf is read before n is known to fit a message, so a caller
 * may pass a datagram's true size even when only the start of it was kept.
 * The bound is the payload's, not the struct's: its padding would let a
 * length of up to 1003 through, and the NUL land past payload[].
 */
int
chan_decode(const void *buf, size_t n, struct chan_msg *msg)
{
	if (n < CHAN_HEADER || n > CHAN_HEADER + CHAN_PAYLOAD_MAX) {
		errno = EBADMSG;
		return -1;
	}
	memmove(msg, buf, n);	/* buf may be msg itself */
	if (n != CHAN_HEADER + msg->len || msg->type == 0 ||
	    msg->type >= CHAN_NTYPES) {
		errno = EBADMSG;
		return -1;
	}
	msg->payload[msg->len] = '\0';
	return 1;
}

const char *
chan_type_name(enum chan_type type)
{
	if ((unsigned int)type >= CHAN_NTYPES)
		return "unknown";
	return type_names[type];
}

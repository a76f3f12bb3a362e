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

	n = recv(fd, msg, sizeof(*msg) - 1, MSG_TRUNC);
	if (n == 0)
		return 0;
	if (n == -1)
		return -1;
	if ((size_t)n < CHAN_HEADER || (size_t)n > sizeof(*msg) - 1 ||
	    (size_t)n != CHAN_HEADER + msg->len || msg->type == 0 ||
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

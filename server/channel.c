/*
 * Framed messages over a stream socketpair: each frame is a header whose
 * length field says how much payload follows.  Sizes are checked on both
 * ends, so a short or oversized frame is refused, never guessed at.
 */
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "os.h"

#define CHAN_HEADER	offsetof(struct chan_msg, payload)
#define CHAN_FRAME_MAX	(CHAN_HEADER + CHAN_PAYLOAD_MAX)

/*
 * Bytes in transit on one end: a frame read in part, a frame written in
 * part.  Kept by descriptor; an entry made by another process (a worker
 * inherits the master's table) or before chan_pair reused the number is
 * stale and starts empty.
 */
struct chan_end {
	pid_t		 pid;
	int		 broken;	/* a malformed frame was read */
	size_t		 in_len;
	size_t		 out_off, out_len;
	unsigned char	 in[CHAN_FRAME_MAX];
	unsigned char	 out[CHAN_FRAME_MAX];
};

static struct chan_end	**chan_ends;
static int		  chan_nends;

static struct chan_end	*chan_end_get(int);
static void		 chan_end_reset(int);
static int		 chan_flush(int, struct chan_end *);

static const char *const type_names[CHAN_NTYPES] = {
	"none", "set", "drop", "stop", "ack", "nak", "trace"
};

static struct chan_end *
chan_end_get(int fd)
{
	struct chan_end	**ends;
	int		  n;

	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	if (fd >= chan_nends) {
		n = chan_nends > 0 ? chan_nends : 16;
		while (n <= fd)
			n = n > INT_MAX / 2 ? INT_MAX : n * 2;
		if ((ends = reallocarray(chan_ends, n, sizeof(*ends))) == NULL)
			return NULL;
		memset(ends + chan_nends, 0,
		    (size_t)(n - chan_nends) * sizeof(*ends));
		chan_ends = ends;
		chan_nends = n;
	}
	if (chan_ends[fd] == NULL &&
	    (chan_ends[fd] = calloc(1, sizeof(*chan_ends[fd]))) == NULL)
		return NULL;
	if (chan_ends[fd]->pid != getpid()) {
		memset(chan_ends[fd], 0, sizeof(*chan_ends[fd]));
		chan_ends[fd]->pid = getpid();
	}
	return chan_ends[fd];
}

static void
chan_end_reset(int fd)
{
	if (fd >= 0 && fd < chan_nends && chan_ends[fd] != NULL)
		chan_ends[fd]->pid = 0;
}

/*
 * Room for bursts of trace lines (a worker drops them when the channel is
 * full): 1 MiB a direction where the host allows it (net.core.wmem_max).
 */
#define CHAN_SNDBUF	(1024 * 1024)

int
chan_pair(int fds[2])
{
	int	size = CHAN_SNDBUF;

	if (os_socketpair(AF_UNIX, SOCK_STREAM, fds, OS_NONBLOCK) == -1)
		return -1;
	(void)setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	(void)setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	chan_end_reset(fds[0]);
	chan_end_reset(fds[1]);
	return 0;
}

/* 0 when nothing is left over, else -1 with errno (EAGAIN: later). */
static int
chan_flush(int fd, struct chan_end *e)
{
	ssize_t	 n;

	while (e->out_off < e->out_len) {
		n = send(fd, e->out + e->out_off, e->out_len - e->out_off,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		e->out_off += n;
	}
	e->out_off = e->out_len = 0;
	return 0;
}

/* Whether a frame sent in part waits for the socket to take the rest. */
int
chan_pending(int fd)
{
	return fd >= 0 && fd < chan_nends && chan_ends[fd] != NULL &&
	    chan_ends[fd]->pid == getpid() &&
	    chan_ends[fd]->out_off < chan_ends[fd]->out_len;
}

/* The socket is writable: send the rest.  0, or -1 (EAGAIN: again). */
int
chan_resume(int fd)
{
	struct chan_end *e;

	if (!chan_pending(fd) || (e = chan_end_get(fd)) == NULL)
		return 0;
	return chan_flush(fd, e);
}

int
chan_send(int fd, enum chan_type type, uint32_t seq, const char *payload)
{
	struct chan_end	*e;
	struct chan_msg	 msg;
	size_t		 len = payload == NULL ? 0 : strlen(payload);
	ssize_t		 n;

	if (len > CHAN_PAYLOAD_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((e = chan_end_get(fd)) == NULL || chan_flush(fd, e) == -1)
		return -1;
	memset(&msg, 0, CHAN_HEADER);
	msg.type = type;
	msg.len = len;
	msg.seq = seq;
	memcpy(msg.payload, payload == NULL ? "" : payload, len);
	while ((n = send(fd, &msg, CHAN_HEADER + len, MSG_NOSIGNAL)) == -1 &&
	    errno == EINTR)
		;
	if (n == -1)
		return -1;
	/*
	 * Sent in part: the rest is the channel's to finish; the caller
	 * waits for the socket to be writable (chan_pending, chan_resume).
	 */
	if ((size_t)n < CHAN_HEADER + len) {
		e->out_len = CHAN_HEADER + len - n;
		e->out_off = 0;
		memcpy(e->out, (char *)&msg + n, e->out_len);
		if (chan_flush(fd, e) == -1 && errno != EAGAIN)
			return -1;
	}
	return 0;
}

/*
 * Reads what the socket has, up to the end of the frame under way, so a
 * frame's bytes never mix with the next one's in the buffer.
 */
int
chan_recv(int fd, struct chan_msg *msg)
{
	struct chan_end	*e;
	struct chan_msg	 hdr;
	size_t		 want;
	ssize_t		 n;

	if ((e = chan_end_get(fd)) == NULL)
		return -1;
	if (e->broken)
		return 0;
	for (;;) {
		want = CHAN_HEADER;
		if (e->in_len >= CHAN_HEADER) {
			memcpy(&hdr, e->in, CHAN_HEADER);
			if (hdr.len > CHAN_PAYLOAD_MAX) {
				e->broken = 1;
				errno = EBADMSG;
				return -1;
			}
			want = CHAN_HEADER + hdr.len;
		}
		if (e->in_len == want)
			break;
		n = recv(fd, e->in + e->in_len, want - e->in_len, 0);
		if (n == 0)
			return 0;	/* a frame cut short is lost with it */
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		e->in_len += n;
	}
	e->in_len = 0;
	return chan_decode(e->in, want, msg);
}

/*
 * Nothing of buf is read before n is known to fit a message.  The bound
 * is the payload's, not the struct's: its padding would let a length of up
 * to 1003 through, and the NUL land past payload[].
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

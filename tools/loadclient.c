/*
 * One client connection of acceptload, from connect to close: it connects,
 * then holds, closes, or sends requests and reads their replies (HTTP by
 * Content-Length, echo byte for byte), and counts each outcome in the load.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "acceptload.h"
#include "os.h"

#define CLIENT_HDR_MAX	4096	/* bytes of one HTTP response header */

static void	 client_set_state(struct client *, enum client_state);
static void	 client_watch(struct client *, int);
static void	 client_arm_timer(struct client *, uint64_t);
static void	 client_timeout(struct ev_loop *, struct ev_timer *, void *);
static void	 client_io(struct ev_loop *, int, int, void *);
static void	 client_connect_ready(struct client *);
static void	 client_connected(struct client *);
static void	 client_fail(struct client *, int);
static void	 client_request_send(struct client *);
static void	 client_request_done(struct client *);
static void	 client_request_bad(struct client *);
static void	 client_response_read(struct client *);
static size_t	 client_response_buffer(struct client *, char **);
static int	 client_http_consume(struct client *, size_t);
static char	*client_http_header_end(char *, size_t);
static int	 client_http_parse_header(struct client *, char *, char *);
static int	 client_echo_consume(struct client *, const char *, size_t);
static void	 client_drain(struct client *);

/* Where bytes go that need no keeping: bodies, echoes, held data. */
static char	 client_scratch[65536];

void
client_init(struct client *c, struct load *l)
{
	c->load = l;
	c->fd = -1;
	ev_timer_init(&c->timer, client_timeout, c);
	if (l->o.proto == LOAD_PROTO_HTTP && opts_has_requests(&l->o) &&
	    (c->hdr = malloc(CLIENT_HDR_MAX)) == NULL)
		err(1, "header buffers");
}

void
client_free(struct client *c)
{
	free(c->hdr);
}

/* Count a start and connect a free slot, unless the socket is refused. */
void
client_open(struct load *l)
{
	struct client	*c;
	int		 fd, e, one = 1;

	l->started++;
	fd = os_socket(l->addr.ss_family, SOCK_STREAM, 0, OS_NONBLOCK);
	if (fd == -1) {
		e = errno;
		loaderrno_add(&l->connect_errors, e);
		load_holdoff(l, e);
		return;
	}
	c = &l->clients[l->free_slots[--l->nfree]];
	c->fd = fd;
	client_set_state(c, CLIENT_CONNECTING);
	if (l->o.mode != LOAD_MODE_HOLD)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->start_us = load_now_us();
	if (connect(fd, (struct sockaddr *)&l->addr, l->addrlen) == 0) {
		client_connected(c);
		return;
	}
	if (errno != EINPROGRESS) {
		client_fail(c, errno);
		return;
	}
	client_watch(c, EV_WRITE);
	client_arm_timer(c, l->o.connect_timeout_ms);
}

void
client_request_start(struct client *c)
{
	c->sent = 0;
	c->got = 0;
	c->body_left = 0;
	c->in_body = 0;
	c->close_after = 0;
	c->start_us = load_now_us();
	client_set_state(c, CLIENT_SENDING);
	client_arm_timer(c, c->load->o.request_timeout_ms);
	client_request_send(c);
}

/* Close the socket, if any, and give the slot back. */
void
client_close(struct client *c)
{
	struct load	*l = c->load;

	if (c->state == CLIENT_FREE)
		return;
	ev_timer_stop(l->loop, &c->timer);
	if (c->fd != -1) {
		ev_forget(l->loop, c->fd);	/* ours alone: close drops it */
		close(c->fd);
		c->fd = -1;
	}
	client_set_state(c, CLIENT_FREE);
	l->free_slots[l->nfree++] = (size_t)(c - l->clients);
}

/* The load counts connecting and held clients and lists the idle ones. */
static void
client_set_state(struct client *c, enum client_state state)
{
	struct load	*l = c->load;

	if (c->state == CLIENT_CONNECTING)
		l->connecting--;
	else if (c->state == CLIENT_HELD)
		l->held--;
	else if (c->state == CLIENT_IDLE)
		TAILQ_REMOVE(&l->idle, c, idle_entry);
	c->state = state;
	if (state == CLIENT_CONNECTING)
		l->connecting++;
	else if (state == CLIENT_HELD) {
		if (++l->held > l->held_max)
			l->held_max = l->held;
	} else if (state == CLIENT_IDLE)
		TAILQ_INSERT_TAIL(&l->idle, c, idle_entry);
}

static void
client_watch(struct client *c, int events)
{
	if (ev_set(c->load->loop, c->fd, events, client_io, c) == -1)
		err(1, "ev_set fd %d", c->fd);
}

static void
client_arm_timer(struct client *c, uint64_t ms)
{
	struct load	*l = c->load;

	ev_timer_stop(l->loop, &c->timer);
	if (ms == 0)
		return;
	ev_timer_start(l->loop, &c->timer, ms);
}

static void
client_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct client	*c = arg;

	(void)loop;
	(void)t;
	client_fail(c, ETIMEDOUT);
}

static void
client_io(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct client	*c = arg;

	(void)loop;
	(void)fd;
	(void)events;
	switch (c->state) {
	case CLIENT_CONNECTING:
		client_connect_ready(c);
		break;
	case CLIENT_SENDING:
		client_request_send(c);
		break;
	case CLIENT_READING:
		client_response_read(c);
		break;
	case CLIENT_IDLE:
	case CLIENT_HELD:
		client_drain(c);
		break;
	case CLIENT_FREE:
		break;
	}
}

static void
client_connect_ready(struct client *c)
{
	socklen_t	 len;
	int		 e = 0;

	len = sizeof(e);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		e = errno;
	if (e != 0)
		client_fail(c, e);
	else
		client_connected(c);
}

static void
client_connected(struct client *c)
{
	struct load	*l = c->load;

	l->connect_ok++;
	loadstats_record(&l->connect_lat, load_now_us() - c->start_us);
	ev_timer_stop(l->loop, &c->timer);
	switch (l->o.mode) {
	case LOAD_MODE_HOLD:
		client_set_state(c, CLIENT_HELD);
		client_watch(c, EV_READ);
		break;
	case LOAD_MODE_CONNECT_CLOSE:
		client_close(c);
		break;
	default:
		/* The request was counted when the connection started. */
		client_request_start(c);
		break;
	}
}

/* The connection ends in failure, counted by its phase and errno. */
static void
client_fail(struct client *c, int e)
{
	struct load	*l = c->load;

	if (c->state == CLIENT_CONNECTING) {
		if (e == ECONNREFUSED)
			l->connect_refused++;
		else if (e == ECONNRESET)
			l->connect_reset++;
		else if (e == ETIMEDOUT)
			l->connect_timeout++;
		else
			loaderrno_add(&l->connect_errors, e);
		load_holdoff(l, e);
	} else if (e == ECONNRESET)
		l->request_reset++;
	else if (e == ETIMEDOUT)
		l->request_timeout++;
	else
		loaderrno_add(&l->request_errors, e);
	client_close(c);
}

static void
client_request_send(struct client *c)
{
	struct load	*l = c->load;
	ssize_t		 n;

	while (c->sent < l->request_len) {
		n = send(c->fd, l->request + c->sent, l->request_len - c->sent,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			client_watch(c, EV_WRITE);
			return;
		}
		if (n == -1) {
			client_fail(c, errno);
			return;
		}
		c->sent += (size_t)n;
	}
	if (l->o.mode == LOAD_MODE_SEND_CLOSE) {
		/* Nothing to wait for: the write is the request. */
		l->request_ok++;
		client_close(c);
		return;
	}
	client_set_state(c, CLIENT_READING);
	client_watch(c, EV_READ);
}

/* One request done: go on with the next on this connection, or close. */
static void
client_request_done(struct client *c)
{
	struct load	*l = c->load;

	l->request_ok++;
	loadstats_record(&l->request_lat, load_now_us() - c->start_us);
	ev_timer_stop(l->loop, &c->timer);
	if (l->o.mode != LOAD_MODE_REQUEST || c->close_after) {
		client_close(c);
		return;
	}
	if (l->stopping || l->started >= l->o.count) {
		client_close(c);
		return;
	}
	if (load_may_start(l, load_now_us())) {
		l->started++;
		client_request_start(c);
		return;
	}
	/* Watch for the peer closing while the pacer holds us back. */
	client_set_state(c, CLIENT_IDLE);
	client_watch(c, EV_READ);
}

static void
client_request_bad(struct client *c)
{
	c->load->request_bad++;
	client_close(c);
}

static void
client_response_read(struct client *c)
{
	char	*buf;
	size_t	 want;
	ssize_t	 n;
	int	 r;

	for (;;) {
		want = client_response_buffer(c, &buf);
		n = recv(c->fd, buf, want, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == -1) {
			client_fail(c, errno);
			return;
		}
		if (n == 0) {
			c->load->request_eof++;
			client_close(c);
			return;
		}
		r = c->load->o.proto == LOAD_PROTO_HTTP ?
		    client_http_consume(c, (size_t)n) :
		    client_echo_consume(c, buf, (size_t)n);
		if (r == -1) {
			client_request_bad(c);
			return;
		}
		if (r == 1) {
			client_request_done(c);
			return;
		}
	}
}

/* Where the next read goes, and at most how much, so we never over-read. */
static size_t
client_response_buffer(struct client *c, char **buf)
{
	struct load	*l = c->load;
	uint64_t	 want;

	if (l->o.proto == LOAD_PROTO_HTTP && !c->in_body) {
		*buf = c->hdr + c->got;
		return CLIENT_HDR_MAX - c->got;
	}
	*buf = client_scratch;
	want = l->o.proto == LOAD_PROTO_HTTP ? c->body_left :
	    l->request_len - c->got;
	return want < sizeof(client_scratch) ? want : sizeof(client_scratch);
}

/* Returns 1 when the response is complete, 0 for more, -1 if bad. */
static int
client_http_consume(struct client *c, size_t n)
{
	char	*end;
	size_t	 extra;

	if (c->in_body) {
		c->body_left -= n;
		return c->body_left == 0;
	}
	c->got += n;
	if ((end = client_http_header_end(c->hdr, c->got)) == NULL)
		return c->got == CLIENT_HDR_MAX ? -1 : 0;
	extra = c->got - (size_t)(end - c->hdr);
	if (client_http_parse_header(c, c->hdr, end) == -1 ||
	    extra > c->body_left)
		return -1;
	c->in_body = 1;
	c->body_left -= extra;
	return c->body_left == 0;
}

/* The byte after the response header, or NULL while it is incomplete. */
static char *
client_http_header_end(char *buf, size_t len)
{
	size_t	 i;

	for (i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' &&
		    buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return buf + i + 1;
	return NULL;
}

/*
 * Parse the status line and the two headers that matter; a missing
 * Content-Length means an empty body.  Returns -1 on a malformed header.
 */
static int
client_http_parse_header(struct client *c, char *hdr, char *end)
{
	char		*line, *eol, *v;
	unsigned int	 status;

	end[-2] = '\0';
	if (sscanf(hdr, "HTTP/1.%*1[01] %3u", &status) != 1)
		return -1;
	c->body_left = 0;
	for (line = strstr(hdr, "\r\n"); line != NULL; line = eol) {
		line += 2;
		if ((eol = strstr(line, "\r\n")) != NULL)
			*eol = '\0';
		if ((v = strchr(line, ':')) == NULL)
			continue;
		*v++ = '\0';
		v += strspn(v, " \t");
		if (strcasecmp(line, "Content-Length") == 0) {
			if (!isdigit((unsigned char)*v))
				return -1;
			c->body_left = strtoull(v, NULL, 10);
		} else if (strcasecmp(line, "Connection") == 0 &&
		    strcasestr(v, "close") != NULL)
			c->close_after = 1;
	}
	return status >= 200 && status < 300 ? 0 : -1;
}

/* Returns 1 when all was echoed, 0 for more, -1 on a wrong byte. */
static int
client_echo_consume(struct client *c, const char *buf, size_t n)
{
	struct load	*l = c->load;

	if (memcmp(buf, l->request + c->got, n) != 0)
		return -1;
	c->got += n;
	return c->got == l->request_len;
}

/* Held or idle: discard what arrives, note the peer's FIN or RST. */
static void
client_drain(struct client *c)
{
	struct load	*l = c->load;
	ssize_t		 n;

	for (;;) {
		n = recv(c->fd, client_scratch, sizeof(client_scratch), 0);
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == 0)
			l->peer_eof++;
		else if (errno == ECONNRESET)
			l->peer_reset++;
		else
			loaderrno_add(&l->request_errors, errno);
		client_close(c);
		return;
	}
}

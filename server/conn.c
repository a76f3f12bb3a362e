/*
 * Connections: read, answer by protocol, close by close-mode.  Functions
 * that may free the connection return -1 when they did, so callers stop.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "os.h"
#include "worker.h"

static void	conn_io(struct ev_loop *, int, int, void *);
static int	conn_read(struct conn *);
static int	conn_flush(struct conn *);
static int	conn_reply(struct conn *, const char *, size_t);
static int	conn_peer_eof(struct conn *);
static int	conn_error(struct conn *, const char *);
static int	conn_is_idle(const struct conn *);
static int	conn_in_close_wait(const struct conn *);

/* log-level debug: each connection's accept and close, with peer and age. */
static void
conn_log(const struct conn *c, const char *why)
{
	char peer[SOCKADDR_STRLEN];

	sockaddr_format(&c->peer, peer, sizeof(peer));
	if (why == NULL)
		log_debug("connection %u from %s accepted", c->id, peer);
	else
		log_debug("connection %u from %s closed after %llu ms (%s)",
		    c->id, peer, (unsigned long long)(ev_now(c->worker->loop) -
		    c->opened_ms), why);
}

/*
 * A connection accepted from listening socket lfd.  With several listen
 * addresses the trace says which took it.
 */
void
conn_open(struct worker *w, int fd, const union sockaddr_any *peer, int lfd)
{
	union sockaddr_any	 local;
	socklen_t		 len = sizeof(local);
	struct conn		*c;
	char			 addr[SOCKADDR_STRLEN];

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("connection from accept");
		close(fd);
		return;
	}
	c->fd = fd;
	c->id = ++w->next_id;
	c->worker = w;
	c->peer = *peer;
	c->protocol = w->set.protocol;
	c->opened_ms = c->active_ms = ev_now(w->loop);
	TAILQ_INSERT_TAIL(&w->conns, c, lru);
	w->nconns++;
	sb_add(&w->me->accepts, 1);
	atomic_store_explicit(&w->me->active, w->nconns, memory_order_relaxed);
	if (w->nlfd > 1 && atomic_load_explicit(&w->sb->trace,
	    memory_order_relaxed) && getsockname(lfd, &local.sa, &len) == 0 &&
	    sockaddr_format(&local, addr, sizeof(addr)) != -1)
		worker_trace(w, c, "accept on %s", addr);
	else
		WORKER_TRACE(w, c, "accept");
	if (log_enabled(LOGLEVEL_DEBUG))
		conn_log(c, NULL);
	if (!ev_timer_armed(&w->idle_timer) && w->set.idle_timeout_ms > 0)
		ev_timer_start(w->loop, &w->idle_timer,
		    w->set.idle_timeout_ms);
	conn_update_interest(c);
}

/* Close now: the last thing that happens to a connection. */
void
conn_free(struct conn *c, const char *why)
{
	struct worker *w = c->worker;

	WORKER_TRACE(w, c, "close%s%s", why ? " " : "", why ? why : "");
	if (log_enabled(LOGLEVEL_DEBUG))
		conn_log(c, why != NULL ? why : "error");
	ev_forget(w->loop, c->fd);	/* accepted here: nobody shares it */
	close(c->fd);
	TAILQ_REMOVE(&w->conns, c, lru);
	if (c->flags & CONN_DELAYED)
		TAILQ_REMOVE(&w->delayed, c, delayq);
	free(c->in);
	free(c->out);
	free(c);
	w->nconns--;
	sb_add(&w->me->closed, 1);
	atomic_store_explicit(&w->me->active, w->nconns, memory_order_relaxed);
	if (w->state == WORKER_FULL || w->stopping)
		worker_update(w);
}

/*
 * The server ends the connection (request said close, oneshot answered,
 * idle, drop), the way close-mode says.  Returns -1 if c was freed.
 */
int
conn_shut(struct conn *c, const char *why)
{
	struct worker	*w = c->worker;
	struct linger	 lg = { 1, 0 };

	switch (w->set.close_mode) {
	case CLOSE_RESET:
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		WORKER_TRACE(w, c, "reset-sent");
		break;
	case CLOSE_HALF:
		if (c->flags & (CONN_EOF | CONN_HALF))
			break;
		shutdown(c->fd, SHUT_WR);
		WORKER_TRACE(w, c, "fin-sent %s", why);
		c->flags |= CONN_HALF;
		conn_update_interest(c);
		return 0;
	case CLOSE_GRACEFUL:
	case CLOSE_NEVER:
		break;
	}
	conn_free(c, why);
	return -1;
}

/* What the connection waits for now, told to the loop if it changed. */
void
conn_update_interest(struct conn *c)
{
	struct worker	*w = c->worker;
	int		 want = 0;

	if (c->flags & CONN_DELAYED)
		want = 0;
	else if (c->out_len > 0)
		want = EV_WRITE;
	else if (w->set.reading && ((c->flags & CONN_HALF) ||
	    !(c->flags & (CONN_EOF | CONN_DONE))))
		want = EV_READ;
	if (ev_get(w->loop, c->fd) != want &&
	    ev_set(w->loop, c->fd, want, conn_io, c) == -1)
		log_warn("interest on connection %u", c->id);
}

static void
conn_touch(struct conn *c)
{
	struct worker *w = c->worker;

	c->active_ms = ev_now(w->loop);
	if (TAILQ_NEXT(c, lru) != NULL) {
		TAILQ_REMOVE(&w->conns, c, lru);
		TAILQ_INSERT_TAIL(&w->conns, c, lru);
	}
}

static void
conn_io(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct conn *c = arg;

	(void)loop;
	(void)fd;
	if (events & EV_WRITE) {
		if (conn_flush(c) == -1)
			return;
	}
	if (events & (EV_READ | EV_EOF | EV_ERROR))
		conn_read(c);
}

/* Keep the unsent tail of a reply; the loop tells us when to send it. */
static int
conn_hold(struct conn *c, const char *data, size_t len)
{
	char *p;

	if ((p = realloc(c->out, c->out_len + len)) == NULL) {
		log_warn("reply buffer for connection %u", c->id);
		conn_free(c, "out of memory");
		return -1;
	}
	memcpy(p + c->out_len, data, len);
	c->out = p;
	c->out_len += len;
	return 0;
}

/*
 * Held replies are kept by due time, whatever response-delay was when
 * each was held, so a shorter delay set later is not stuck behind one.
 */
static void
conn_delay(struct conn *c)
{
	struct worker	*w = c->worker;
	struct conn	*before;

	c->flags |= CONN_DELAYED;
	c->due_ms = ev_now(w->loop) + w->set.response_delay_ms;
	before = TAILQ_LAST(&w->delayed, conn_list);
	while (before != NULL && before->due_ms > c->due_ms)
		before = TAILQ_PREV(before, conn_list, delayq);
	if (before == NULL)
		TAILQ_INSERT_HEAD(&w->delayed, c, delayq);
	else
		TAILQ_INSERT_AFTER(&w->delayed, before, c, delayq);
	if (TAILQ_FIRST(&w->delayed) == c)
		ev_timer_start(w->loop, &w->delay_timer,
		    w->set.response_delay_ms);
}

/* Send a reply now if nothing is queued before it, else queue it. */
static int
conn_reply(struct conn *c, const char *data, size_t len)
{
	struct worker	*w = c->worker;
	ssize_t		 n = 0;

	if (len == 0)
		return 0;
	c->flags |= CONN_SERVED;
	if (w->set.response_delay_ms > 0 || c->out_len > 0) {
		if (conn_hold(c, data, len) == -1)
			return -1;
		if (w->set.response_delay_ms > 0 && !(c->flags & CONN_DELAYED))
			conn_delay(c);
		conn_update_interest(c);
		return 0;
	}
	n = send(c->fd, data, len, MSG_NOSIGNAL);
	if (n == -1 && errno != EAGAIN)
		return conn_error(c, "write");
	if (n > 0) {
		sb_add(&w->me->bytes_out, n);
		WORKER_TRACE(w, c, "write %zd", n);
	}
	if ((size_t)n == len)
		return 0;
	if (n == -1)
		n = 0;
	if (conn_hold(c, data + n, len - n) == -1)
		return -1;
	conn_update_interest(c);
	return 0;
}

/*
 * After a reply: once nothing is held, end the connection if it was to
 * end after this reply; otherwise wait for what comes next.
 */
static int
conn_settle(struct conn *c, const char *why)
{
	struct worker *w = c->worker;

	if (c->out_len == 0 && ((c->flags & CONN_CLOSE_AFTER) ||
	    (w->stopping && c->protocol == PROTO_HTTP && conn_is_idle(c))))
		return conn_shut(c, why);
	conn_update_interest(c);
	return 0;
}

/* Write what is held; once it is all gone, close if asked to. */
static int
conn_flush(struct conn *c)
{
	struct worker	*w = c->worker;
	ssize_t		 n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno != EAGAIN)
				return conn_error(c, "write");
			/* Called from a timer too: say what to wait for. */
			conn_update_interest(c);
			return 0;
		}
		sb_add(&w->me->bytes_out, n);
		WORKER_TRACE(w, c, "write %zd", n);
		c->out_off += n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	return conn_settle(c, "done");
}

/* A read or write failed: ECONNRESET and EPIPE are what the peer did. */
static int
conn_error(struct conn *c, const char *op)
{
	struct worker	*w = c->worker;
	int		 e = errno;

	if (e == ECONNRESET)
		sb_add(&w->me->resets, 1);
	WORKER_TRACE(w, c, "error %s %s", op, e == ECONNRESET ? "ECONNRESET" :
	    e == EPIPE ? "EPIPE" : strerror(e));
	if (e != ECONNRESET && e != EPIPE)
		log_debug("%s on connection %u: %s", op, c->id, strerror(e));
	conn_free(c, NULL);
	return -1;
}

/*
 * HTTP: answer every complete request in buf; keep a partial one for the
 * next read.  Replies for a pipelined batch go out in one write.
 */
static int
conn_http(struct conn *c, char *buf, size_t len)
{
	struct worker		*w = c->worker;
	struct http_request	 req;
	enum http_status	 st;
	const char		*resp;
	size_t			 off = 0, out = 0, rlen, n;

	while (off < len) {
		if (c->skip > 0) {
			n = len - off < c->skip ? len - off : c->skip;
			c->skip -= n;
			off += n;
			continue;
		}
		st = http_parse(buf + off, len - off, &req);
		if (st == HTTP_INCOMPLETE)
			break;
		if (w->stopping)
			req.keep_alive = 0;	/* say so in this reply */
		if (st != HTTP_OK) {
			resp = http_response(st, 0, 0, &rlen);
			req.keep_alive = 0;
		} else
			resp = http_response(st, req.keep_alive, req.head,
			    &rlen);
		if (out + rlen > sizeof(w->wbuf)) {
			if (conn_reply(c, w->wbuf, out) == -1)
				return -1;
			out = 0;
		}
		memcpy(w->wbuf + out, resp, rlen);
		out += rlen;
		if (!req.keep_alive) {
			c->flags |= CONN_CLOSE_AFTER | CONN_DONE;
			off = len;
			break;
		}
		off += req.header_length;
		c->skip = req.content_length;
	}
	if (off < len) {
		if (c->in == NULL &&
		    (c->in = malloc(HTTP_HEADER_MAX)) == NULL) {
			conn_free(c, "out of memory");
			return -1;
		}
		memmove(c->in, buf + off, len - off);
		c->in_len = len - off;
	} else {
		free(c->in);
		c->in = NULL;
		c->in_len = 0;
	}
	if (conn_reply(c, w->wbuf, out) == -1)
		return -1;
	return conn_settle(c, "request said close");
}

static int
conn_dispatch(struct conn *c, char *buf, size_t len)
{
	switch (c->protocol) {
	case PROTO_HTTP:
		return conn_http(c, buf, len);
	case PROTO_ECHO:
		return conn_reply(c, buf, len);
	case PROTO_ONESHOT:
		c->flags |= CONN_DONE | CONN_CLOSE_AFTER;
		if (conn_reply(c, buf, len) == -1)
			return -1;
		return conn_settle(c, "oneshot answered");
	case PROTO_DISCARD:
		return 0;
	}
	return 0;
}

static int
conn_read(struct conn *c)
{
	struct worker	*w = c->worker;
	char		*buf = w->rbuf;
	size_t		 room = sizeof(w->rbuf), have = 0;
	ssize_t		 n;

	if (c->in != NULL) {		/* continue a partial request */
		buf = c->in;
		have = c->in_len;
		room = HTTP_HEADER_MAX - have;
	}
	n = recv(c->fd, buf + have, room, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return conn_error(c, "read");
	}
	if (n == 0)
		return conn_peer_eof(c);
	sb_add(&w->me->bytes_in, n);
	WORKER_TRACE(w, c, "read %zd", n);
	conn_touch(c);
	if (c->flags & CONN_HALF)
		return 0;	/* after our FIN, only their FIN matters */
	return conn_dispatch(c, buf, have + n);
}

static int
conn_peer_eof(struct conn *c)
{
	struct worker *w = c->worker;

	sb_add(&w->me->peer_eofs, 1);
	WORKER_TRACE(w, c, "eof");
	c->flags |= CONN_EOF;
	if (c->flags & CONN_HALF) {
		conn_free(c, "after both FINs");
		return -1;
	}
	if (w->set.close_mode == CLOSE_NEVER) {
		/* The classic leak: the socket sits in CLOSE_WAIT. */
		conn_update_interest(c);
		return 0;
	}
	if (c->out_len > 0) {
		c->flags |= CONN_CLOSE_AFTER;
		conn_update_interest(c);
		return 0;
	}
	return conn_shut(c, "peer closed");
}

/* The idle timer: close every connection quiet for idle-timeout. */
void
conn_idle_expire(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct worker	*w = arg;
	struct conn	*c;
	uint64_t	 now = ev_now(loop), idle = w->set.idle_timeout_ms;

	while (idle > 0 && (c = TAILQ_FIRST(&w->conns)) != NULL &&
	    c->active_ms + idle <= now) {
		WORKER_TRACE(w, c, "timeout");
		if (conn_shut(c, "idle") == 0)
			conn_touch(c);	/* half: give their FIN a while */
	}
	if (idle > 0 && (c = TAILQ_FIRST(&w->conns)) != NULL)
		ev_timer_start(loop, t, c->active_ms + idle - now);
}

/* The delay timer: send every reply whose response-delay is over. */
void
conn_delay_expire(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct worker	*w = arg;
	struct conn	*c;
	uint64_t	 now = ev_now(loop);

	while ((c = TAILQ_FIRST(&w->delayed)) != NULL && c->due_ms <= now) {
		TAILQ_REMOVE(&w->delayed, c, delayq);
		c->flags &= ~CONN_DELAYED;
		conn_flush(c);
	}
	if ((c = TAILQ_FIRST(&w->delayed)) != NULL)
		ev_timer_start(loop, t, c->due_ms - now);
}

/* Between requests, nothing owed. */
static int
conn_is_idle(const struct conn *c)
{
	return c->in == NULL && c->out_len == 0 && c->skip == 0 &&
	    !(c->flags & CONN_DELAYED);
}

/* The kernel's word, not ours: with reading off we never see the FIN. */
static int
conn_in_close_wait(const struct conn *c)
{
	return os_tcp_close_wait(c->fd) == 1;
}

/* acceptctl drop: close-wait, idle or all; how many were closed. */
int
conn_drop(struct worker *w, const char *what)
{
	struct conn	*c, *next;
	int		 n = 0, all = strcmp(what, "all") == 0;
	int		 idle = strcmp(what, "idle") == 0;

	for (c = TAILQ_FIRST(&w->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, lru);
		if (all || (idle ? conn_is_idle(c) : conn_in_close_wait(c))) {
			WORKER_TRACE(w, c, "drop");
			conn_shut(c, "dropped");
			n++;
		}
	}
	return n;
}

/*
 * The worker is retiring: an HTTP connection between requests that has
 * been answered closes now, as any keep-alive may; every other one is
 * served, the one whose first request is still on its way included, and
 * closes after its reply (conn_settle), which says "Connection: close".
 */
void
conn_drain(struct worker *w)
{
	struct conn *c, *next;

	for (c = TAILQ_FIRST(&w->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, lru);
		if (c->protocol != PROTO_HTTP)
			continue;
		if (conn_is_idle(c) && (c->flags & CONN_SERVED))
			conn_shut(c, "shutting down");
	}
}

void
conn_close_all(struct worker *w, const char *why)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&w->conns)) != NULL)
		conn_free(c, why);
}

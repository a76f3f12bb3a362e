/*
 * A worker: its own event loop, created after fork, competing with the
 * other workers for accept(), and obeying the master's channel.
 */
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "os.h"
#include "worker.h"

#define EMFILE_BACKOFF_MS	100

static struct worker	 worker;	/* big buffers: not on the stack */

static void	worker_poll_listeners(struct worker *, int);
static void	worker_accept(struct ev_loop *, int, int, void *);
static void	worker_last_look(struct worker *);
static void	worker_channel(struct ev_loop *, int, int, void *);
static void	worker_unthrottle(struct ev_loop *, struct ev_timer *, void *);
static void	worker_stop_expire(struct ev_loop *, struct ev_timer *, void *);
static void	worker_linger_end(struct ev_loop *, struct ev_timer *, void *);
static void	worker_stop(struct worker *, int linger);
static void	worker_close_listener(struct worker *);
static void	worker_flush_replies(struct worker *);

static void
worker_set_state(struct worker *w, enum worker_state state)
{
	if (w->state == state)
		return;
	w->state = state;
	atomic_store_explicit(&w->me->state, state, memory_order_relaxed);
	title_set("worker %d (%s)", w->id, scoreboard_state_name(state));
}

/*
 * Decide whether this worker polls its listeners now: not when paused,
 * stopping, throttled or full.  A full worker leaves the listeners to the
 * others, and their queues to the kernel.  A retiring worker whose sockets
 * were retired with it still takes what reaches them, as told.  Every
 * listen address alike: pause, caps and rate are the worker's.
 */
void
worker_update(struct worker *w)
{
	enum worker_state	state;
	int			want;

	if (w->set.paused)
		state = WORKER_PAUSED;
	else if (w->nconns >= (uint32_t)w->set.max_connections)
		state = WORKER_FULL;
	else if (ev_timer_armed(&w->accept_timer))
		state = WORKER_THROTTLED;	/* by accept-rate or EMFILE */
	else
		state = WORKER_ACCEPTING;
	want = state == WORKER_ACCEPTING && (!w->stopping || w->lingering);
	if (w->stopping)
		state = WORKER_EXITING;
	worker_set_state(w, state);
	if (w->nlfd == 0)
		return;
	if (want && w->lingering && w->linger_over &&
	    !ev_timer_armed(&w->linger_timer))
		ev_timer_start(w->loop, &w->linger_timer, 0);	/* finish */
	if (want == w->listening)
		return;
	worker_poll_listeners(w, want);
	w->listening = want;
}

/*
 * A listener that is ready when armed is reported after those armed
 * before it (epoll and kqueue alike).  A capped or throttled worker is
 * armed again for each slot or token, and the first listener's callback
 * takes it: the others' find the worker full.  So the listener served
 * first since the last arming goes last this time, and every address
 * gets its turn.
 */
static void
worker_poll_listeners(struct worker *w, int want)
{
	int	i, n;

	if (want && w->lfd_served >= 0) {
		w->lfd_first = (w->lfd_served + 1) % w->nlfd;
		w->lfd_served = -1;
	}
	for (n = 0; n < w->nlfd; n++) {
		i = (w->lfd_first + n) % w->nlfd;
		if (ev_set(w->loop, w->lfd[i], want ? EV_READ | (w->exclusive ?
		    EV_EXCLUSIVE : 0) : 0, worker_accept, w) == -1)
			fatal("worker %d: poll listener", w->id);
	}
}

/* Throttled is the accept timer armed; its end polls the listener again. */
static void
worker_throttle(struct worker *w, uint64_t ms)
{
	ev_timer_start(w->loop, &w->accept_timer, ms);
}

static void
worker_unthrottle(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct worker *w = arg;

	(void)loop;
	(void)t;
	worker_update(w);
}

/* Take one token of the daemon's accept-rate, or throttle until due. */
static int
worker_may_accept(struct worker *w)
{
	struct timespec	ts;
	uint64_t	now, retry;

	if (w->set.accept_rate == 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (scoreboard_take_token(w->sb, now, &retry))
		return 1;
	worker_throttle(w, (retry + 999999) / 1000000);
	return 0;
}

/*
 * Errors that belong to one connection, not to the listener: an interrupt,
 * a client gone before accept, or (Linux, accept(2)) a network error
 * pending on the new socket.  The next connection may be fine.
 */
static int
worker_accept_retry(int error)
{
	switch (error) {
	case EINTR:
	case ECONNABORTED:
	case EPERM:		/* a firewall rule refused it */
	case EPROTO:
	case ENOPROTOOPT:
	case ENETDOWN:
	case ENETUNREACH:
	case EHOSTDOWN:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
#ifdef ENONET
	case ENONET:
#endif
		return 1;
	default:
		return 0;
	}
}

/* The error was logged once; say how it ended rather than every retry. */
static void
worker_accept_recovered(struct worker *w)
{
	log_warnx("accepting again after %lu accept errors (%s)",
	    w->accept_errors, strerror(w->accept_errno));
	w->accept_errno = 0;
	w->accept_errors = 0;
}

/*
 * A batch, but with several listeners no more than one listener's share
 * of the free slots: near max-connections, the other listeners' callbacks
 * in the same round still find some.
 */
static int
worker_accept_limit(const struct worker *w)
{
	uint32_t	max = (uint32_t)w->set.max_connections, share;

	if (w->nlfd < 2 || w->nconns >= max)
		return w->set.accept_batch;
	share = (max - w->nconns + w->nlfd - 1) / w->nlfd;
	return share < (uint32_t)w->set.accept_batch ? (int)share :
	    w->set.accept_batch;
}

/* Which of the worker's listeners fd is, for its turn. */
static int
worker_listener_index(const struct worker *w, int fd)
{
	int	i;

	for (i = 0; i < w->nlfd; i++)
		if (w->lfd[i] == fd)
			return i;
	return 0;
}

/*
 * Accept up to a batch from fd (events 0: a retired socket's last look);
 * 1 when its queue was found empty.
 */
static int
worker_accept_batch(struct worker *w, int fd, int events)
{
	union sockaddr_any	 peer;
	socklen_t		 len;
	int			 i, cfd, limit;

	if (events != 0)
		sb_add(&w->me->wakeups, 1);
	limit = worker_accept_limit(w);
	for (i = 0; i < limit; i++) {
		if (w->nconns >= (uint32_t)w->set.max_connections ||
		    !worker_may_accept(w))
			break;
		len = sizeof(peer);
		cfd = os_accept(fd, &peer.sa, &len, OS_NONBLOCK);
		if (cfd != -1) {
			if (w->accept_errno != 0)
				worker_accept_recovered(w);
			if (w->lfd_served < 0)
				w->lfd_served = worker_listener_index(w, fd);
			conn_open(w, cfd, &peer, fd);
			continue;
		}
		if (w->set.accept_rate > 0)
			scoreboard_return_token(w->sb);
		if (worker_accept_retry(errno))
			continue;
		if (errno == EAGAIN) {
			if (i == 0 && events != 0)
				sb_add(&w->me->empty_accepts, 1);
			return 1;
		}
		/*
		 * Out of descriptors or memory, or something unexpected: the
		 * listener stays ready, and spinning on it helps nobody.
		 */
		if (errno != w->accept_errno) {
			w->accept_errno = errno;
			log_warn("accept; pausing accepting for %d ms",
			    EMFILE_BACKOFF_MS);
		}
		w->accept_errors++;
		worker_throttle(w, EMFILE_BACKOFF_MS);
		break;
	}
	return 0;
}

static void
worker_accept(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct worker *w = arg;

	(void)loop;
	if (worker_accept_batch(w, fd, events) && w->lingering &&
	    w->linger_over)
		worker_last_look(w);
	worker_update(w);
}

/*
 * Retired sockets, linger over: take what is queued on each, and close
 * them once every one was found empty.  Otherwise (full, throttled, a
 * batch's end) the rest waits for the next look.
 */
static void
worker_last_look(struct worker *w)
{
	int i, empty = 1;

	for (i = 0; i < w->nlfd; i++)
		if (!worker_accept_batch(w, w->lfd[i], 0))
			empty = 0;
	if (empty)
		worker_close_listener(w);
}

void
worker_trace(struct worker *w, const struct conn *c, const char *fmt, ...)
{
	char		line[CHAN_PAYLOAD_MAX], peer[SOCKADDR_STRLEN];
	struct timespec	ts;
	va_list		ap;
	int		n;

	clock_gettime(CLOCK_REALTIME, &ts);
	sockaddr_format(&c->peer, peer, sizeof(peer));
	n = snprintf(line, sizeof(line), "%lld.%06ld %d %u %s ",
	    (long long)ts.tv_sec, ts.tv_nsec / 1000, w->id, c->id, peer);
	if (n < 0 || (size_t)n >= sizeof(line) || w->nreplies > 0) {
		sb_add(&w->me->trace_dropped, 1);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (chan_send(w->chan, CHAN_TRACE, 0, line) == 0) {
		if (chan_pending(w->chan))	/* sent in part */
			worker_flush_replies(w);
	} else
		sb_add(&w->me->trace_dropped, 1);
}

static int
worker_drop(struct worker *w, const char *what, char *reply, size_t len)
{
	if (strcmp(what, "all") != 0 && strcmp(what, "idle") != 0 &&
	    strcmp(what, "close-wait") != 0) {
		snprintf(reply, len, "drop: \"%.64s\" is not one of "
		    "close-wait, idle, all", what);
		return -1;
	}
	snprintf(reply, len, "%d", conn_drop(w, what));
	return 0;
}

/* A run-time directive from the master; the same words as the file. */
static int
worker_set(struct worker *w, char *line, char *reply, size_t len)
{
	struct settings	 old = w->set;
	struct conn	*c;
	char		*value;

	if ((value = strchr(line, ' ')) == NULL) {
		snprintf(reply, len, "set: expected \"name value\"");
		return -1;
	}
	*value++ = '\0';
	if (strcmp(line, "log-file") == 0) {	/* reopened on reload */
		if (log_set_file(value) == -1)
			log_warn("log-file %s", value);
		reply[0] = '\0';
		return 0;
	}
	if (conf_set_settings(&w->set, line, value, reply, len) == -1)
		return -1;
	if (w->set.reading != old.reading)
		TAILQ_FOREACH(c, &w->conns, lru)
			conn_update_interest(c);
	if (w->set.idle_timeout_ms != old.idle_timeout_ms) {
		ev_timer_stop(w->loop, &w->idle_timer);
		if (w->set.idle_timeout_ms > 0 && w->nconns > 0)
			conn_idle_expire(w->loop, &w->idle_timer, w);
	}
	reply[0] = '\0';
	return 0;
}

static int
worker_command(struct worker *w, struct chan_msg *m, char *reply, size_t len)
{
	int linger;

	reply[0] = '\0';
	switch (m->type) {
	case CHAN_SET:
		return worker_set(w, m->payload, reply, len);
	case CHAN_DROP:
		return worker_drop(w, m->payload, reply, len);
	case CHAN_STOP:
		/* the master's shutdown-timeout now, reloads included */
		w->shutdown_timeout_ms = strtoul(m->payload, NULL, 10);
		linger = strstr(m->payload, "linger") != NULL;
		if (w->stopping && w->lingering && !linger)
			worker_close_listener(w);	/* acceptd stops */
		worker_stop(w, linger);
		return 0;
	default:
		snprintf(reply, len, "unexpected message %s",
		    chan_type_name(m->type));
		return -1;
	}
}

/*
 * Answers to the master are never dropped: when trace lines have filled
 * the channel, they wait here (and trace lines wait for them).
 */
static void
worker_flush_replies(struct worker *w)
{
	struct chan_msg	*m;
	int		 i;

	if (chan_resume(w->chan) == -1 && errno != EAGAIN)
		log_warn("answer to the master");
	for (i = 0; i < w->nreplies; i++) {
		m = &w->replies[i];
		if (chan_send(w->chan, m->type, m->seq, m->payload) == -1) {
			if (errno != EAGAIN)
				log_warn("answer to the master");
			else
				break;
		}
	}
	memmove(w->replies, w->replies + i,
	    (w->nreplies - i) * sizeof(w->replies[0]));
	w->nreplies -= i;
	if (ev_set(w->loop, w->chan, EV_READ | (w->nreplies ||
	    chan_pending(w->chan) ? EV_WRITE : 0),
	    worker_channel, w) == -1)
		fatal("poll channel");
}

static void
worker_reply(struct worker *w, enum chan_type type, uint32_t seq,
    const char *text)
{
	struct chan_msg *m;

	if (w->nreplies == 0 && chan_send(w->chan, type, seq, text) == 0) {
		if (chan_pending(w->chan))	/* sent in part */
			worker_flush_replies(w);
		return;
	}
	if (w->nreplies == 0 && errno != EAGAIN) {
		log_warn("answer to the master");
		return;
	}
	if (w->nreplies == WORKER_REPLIES_MAX) {
		log_warnx("%d answers to the master unsent; dropping one",
		    w->nreplies);
		return;
	}
	m = &w->replies[w->nreplies++];
	m->type = type;
	m->seq = seq;
	strlcpy(m->payload, text, sizeof(m->payload));
	worker_flush_replies(w);
}

static void
worker_channel(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct worker	*w = arg;
	struct chan_msg	 m;
	char		 reply[CHAN_PAYLOAD_MAX];
	int		 r, ok;

	(void)loop;
	(void)events;
	while ((r = chan_recv(fd, &m)) == 1) {
		ok = worker_command(w, &m, reply, sizeof(reply)) == 0;
		atomic_store_explicit(&w->me->generation, m.seq,
		    memory_order_relaxed);
		worker_update(w);
		worker_reply(w, ok ? CHAN_ACK : CHAN_NAK, m.seq, reply);
	}
	if (events & EV_WRITE)
		worker_flush_replies(w);
	if (r == 0 || (r == -1 && errno != EAGAIN && errno != EBADMSG)) {
		/* The master is gone: finish what we have and leave. */
		ev_set(w->loop, fd, 0, NULL, NULL);
		worker_stop(w, 0);
	}
}

static void
worker_close_listener(struct worker *w)
{
	w->lingering = 0;
	worker_update(w);		/* the listeners leave the loop */
	while (w->nlfd > 0)
		close(w->lfd[--w->nlfd]);
	ev_timer_stop(w->loop, &w->linger_timer);
}

/*
 * Stop accepting, close what is idle, give the rest shutdown-timeout.
 * With linger, the socket was retired with this worker: new connections
 * already go elsewhere, and those on their way to it are still accepted
 * for a while, then until it is empty (unless paused: then they wait).
 */
static void
worker_stop(struct worker *w, int linger)
{
	if (w->stopping)
		return;
	w->stopping = 1;
	if (linger && w->nlfd > 0) {
		w->lingering = 1;
		ev_timer_start(w->loop, &w->linger_timer, WORKER_LINGER_MS);
		worker_update(w);
	} else if (w->nlfd > 0)
		worker_close_listener(w);
	conn_drain(w);
	ev_timer_start(w->loop, &w->stop_timer, w->shutdown_timeout_ms);
}

/* Linger over, or a kick once accepting is allowed again: look at last. */
static void
worker_linger_end(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct worker *w = arg;

	(void)loop;
	(void)t;
	w->linger_over = 1;
	if (w->nlfd > 0 && w->state == WORKER_EXITING && w->listening)
		worker_last_look(w);
	worker_update(w);
}

static void
worker_stop_expire(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct worker	*w = arg;

	(void)loop;
	(void)t;
	if (w->nconns > 0)
		log_info("shutdown-timeout: closing %u connections", w->nconns);
	conn_close_all(w, "shutdown-timeout");
	/*
	 * A retired socket still lingered on (paused, or not yet empty)
	 * stays: shutdown-timeout bounds connections, not a queue that
	 * would be reset.
	 */
}

/* The master forked us with every signal blocked: ours first, then open. */
static void
worker_signals(void)
{
	struct sigaction	sa;
	sigset_t		none;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);	/* the master tells us when */
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void
worker_main(int id, int sbi, const struct conf *conf,
    const struct settings *set, struct scoreboard *sb)
{
	struct worker	*w = &worker;
	char		 prefix[32];

	worker_signals();
	snprintf(prefix, sizeof(prefix), "worker %d: ", id);
	log_set_prefix(prefix);
	w->id = id;
	for (w->nlfd = 0; w->nlfd < conf->nlisten; w->nlfd++)
		w->lfd[w->nlfd] = WORKER_LISTEN_FD + w->nlfd;
	w->lfd_served = -1;
	w->chan = WORKER_CHANNEL_FD;
	w->exclusive = conf->accept == ACCEPT_EXCLUSIVE;
	w->set = *set;
	w->shutdown_timeout_ms = conf->shutdown_timeout_ms;
	w->sb = sb;
	w->me = &sb->worker[sbi];
	w->state = WORKER_STARTING;
	TAILQ_INIT(&w->conns);
	TAILQ_INIT(&w->delayed);
	/* The loop's tables grow with use: max-connections is only a cap. */
	if ((w->loop = ev_loop_new(64)) == NULL)
		fatal("event loop");
	ev_timer_init(&w->idle_timer, conn_idle_expire, w);
	ev_timer_init(&w->delay_timer, conn_delay_expire, w);
	ev_timer_init(&w->accept_timer, worker_unthrottle, w);
	ev_timer_init(&w->stop_timer, worker_stop_expire, w);
	ev_timer_init(&w->linger_timer, worker_linger_end, w);
	if (ev_set(w->loop, w->chan, EV_READ, worker_channel, w) == -1)
		fatal("poll channel");
	atomic_store(&w->me->pid, getpid());
	worker_update(w);
	worker_reply(w, CHAN_ACK, 0, "ready");
	log_debug("started (%s backend)", ev_backend_name());
	while (!w->stopping || w->nconns > 0 || w->nlfd > 0) {
		if (ev_run_once(w->loop, -1) == -1 && errno != EINTR)
			fatal("event loop");
	}
	ev_loop_free(w->loop);
	exit(0);
}

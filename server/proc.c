/*
 * Worker processes as the master sees them: fork with signals blocked,
 * one channel each, requests matched to answers by sequence number, and
 * the reaping that notices a process gone.  Completed requests are posted
 * to a zero timer, so their callbacks run from the loop and never inside
 * proc_reap or a channel read.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acceptd.h"
#include "log.h"
#include "os.h"
#include "proc.h"

struct proc_wait {
	struct proc	*proc;
	uint32_t	 seq;		/* 0: its "ready" */
};

struct proc_req {
	proc_done_cb		*done;
	void			*arg;
	int			 started;
	int			 pending;
	int			 failed;
	long long		 total;
	char			 error[256];
	struct proc_wait	*waits;
	int			 nwaits;
	int			 capwaits;
	struct ev_timer		 timer;
	TAILQ_ENTRY(proc_req)	 entry;
};

TAILQ_HEAD(proc_req_list, proc_req);

struct proc_list		 procs = TAILQ_HEAD_INITIALIZER(procs);
static struct proc_req_list	 reqs = TAILQ_HEAD_INITIALIZER(reqs);
static struct proc_req_list	 posted = TAILQ_HEAD_INITIALIZER(posted);
static struct ev_loop		*proc_loop;
static void			(*proc_exited)(struct proc *, int);
static void			(*proc_trace)(const char *);
static struct ev_timer		 post_timer;
static uint32_t			 proc_seq;

static void	proc_channel(struct ev_loop *, int, int, void *);
static void	proc_channel_interest(struct proc *);
static void	proc_run_posted(struct ev_loop *, struct ev_timer *, void *);
static void	proc_req_timeout(struct ev_loop *, struct ev_timer *, void *);
static void	proc_req_resolve(struct proc *, uint32_t, int, int,
		    const char *);

void
proc_init(struct ev_loop *loop, void (*exited)(struct proc *, int))
{
	proc_loop = loop;
	proc_exited = exited;
	ev_timer_init(&post_timer, proc_run_posted, NULL);
}

void
proc_set_trace(void (*trace)(const char *))
{
	proc_trace = trace;
}

/*
 * In the child: the channel becomes fd 3, the listener's sockets fds 4,
 * 5, ... (one for each listen address), and nothing else the master
 * holds stays open.  Each is first copied above every target, so that no
 * dup2 closes one still to be moved.  Signals are still blocked; the
 * worker unblocks them once its own handlers are in place.
 */
static void __attribute__((noreturn))
proc_child(int slot, int sb, const struct listener *l, int chan,
    void (*child)(int, int))
{
	int fds[1 + CONF_LISTEN_MAX], top, i, n = 1 + l->nfd;

	log_closelog();
	fds[0] = chan;
	top = WORKER_LISTEN_FD + l->nfd;
	if (chan >= top)
		top = chan + 1;
	for (i = 0; i < l->nfd; i++) {
		fds[1 + i] = l->fd[i];
		if (l->fd[i] >= top)
			top = l->fd[i] + 1;
	}
	for (i = 0; i < n; i++)
		if ((fds[i] = fcntl(fds[i], F_DUPFD, top)) == -1)
			fatal("worker %d: arranging descriptors", slot);
	for (i = 0; i < n; i++)
		if (dup2(fds[i], WORKER_CHANNEL_FD + i) == -1)
			fatal("worker %d: arranging descriptors", slot);
	os_closefrom(WORKER_LISTEN_FD + l->nfd);
	child(slot, sb);
	_exit(1);
}

struct proc *
proc_spawn(int slot, int sb, struct listener *l, void (*child)(int, int))
{
	struct proc	*p;
	sigset_t	 all, old;
	int		 fds[2], saved;
	pid_t		 pid;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if (chan_pair(fds) == -1) {
		free(p);
		return NULL;
	}
	/* A signal between fork and the worker's handlers must wait. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == 0) {
		free(p);		/* the master's record, not the child's */
		proc_child(slot, sb, l, fds[1], child);
	}
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(fds[1]);
	if (pid == -1) {
		close(fds[0]);
		free(p);
		errno = saved;
		return NULL;
	}
	p->pid = pid;
	p->slot = slot;
	p->sb = sb;
	p->chan = fds[0];
	p->listener = l;
	p->started_ms = ev_clock_ms();
	if (ev_set(proc_loop, p->chan, EV_READ, proc_channel, p) == -1)
		fatal("poll channel of worker %d", slot);
	TAILQ_INSERT_TAIL(&procs, p, entry);
	return p;
}

static void
proc_close_channel(struct proc *p)
{
	if (p->chan == -1)
		return;
	ev_set(proc_loop, p->chan, 0, NULL, NULL);
	close(p->chan);
	p->chan = -1;
}

void
proc_reap(void)
{
	struct proc	*p;
	int		 status;
	pid_t		 pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(p, &procs, entry)
			if (p->pid == pid)
				break;
		if (p == NULL)
			continue;
		proc_close_channel(p);
		TAILQ_REMOVE(&procs, p, entry);
		proc_req_resolve(p, 0, 0, 1, NULL);
		proc_exited(p, status);
		free(p);
	}
}

int
proc_count(void)
{
	struct proc	*p;
	int		 n = 0;

	TAILQ_FOREACH(p, &procs, entry)
		n++;
	return n;
}

struct proc *
proc_of_slot(int slot)
{
	struct proc *p;

	TAILQ_FOREACH(p, &procs, entry)
		if (p->slot == slot && !p->retiring)
			return p;
	return NULL;
}

/* Read always; write too while a frame waits to go out in full. */
static void
proc_channel_interest(struct proc *p)
{
	int want = EV_READ | (chan_pending(p->chan) ? EV_WRITE : 0);

	if (p->chan != -1 && ev_get(proc_loop, p->chan) != want &&
	    ev_set(proc_loop, p->chan, want, proc_channel, p) == -1)
		log_warn("worker %d: channel", p->slot);
}

/* Answers and trace lines from one worker. */
static void
proc_channel(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct proc	*p = arg;
	struct chan_msg	 m;
	int		 r;

	(void)loop;
	if ((events & EV_WRITE) && chan_resume(fd) == 0)
		proc_channel_interest(p);	/* all out: reading only */
	while ((r = chan_recv(fd, &m)) == 1 || (r == -1 && errno == EBADMSG)) {
		if (r == -1) {
			log_warnx("worker %d sent a malformed message", p->slot);
			continue;
		}
		switch (m.type) {
		case CHAN_TRACE:
			if (proc_trace != NULL)
				proc_trace(m.payload);
			break;
		case CHAN_ACK:
		case CHAN_NAK:
			if (m.type == CHAN_NAK)
				log_debug("worker %d: %s", p->slot, m.payload);
			if (m.seq == 0 && m.type == CHAN_ACK)
				p->ready = 1;
			proc_req_resolve(p, m.seq, m.type == CHAN_ACK, 0,
			    m.payload);
			break;
		default:
			log_warnx("worker %d sent an unexpected %s message",
			    p->slot, chan_type_name(m.type));
		}
	}
	if (r == 0)		/* it is going; reaped on SIGCHLD */
		proc_close_channel(p);
}

/* Requests */

struct proc_req *
proc_req_new(proc_done_cb *done, void *arg)
{
	struct proc_req *req;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		return NULL;
	req->done = done;
	req->arg = arg;
	ev_timer_init(&req->timer, proc_req_timeout, req);
	TAILQ_INSERT_TAIL(&reqs, req, entry);
	return req;
}

void
proc_req_fail(struct proc_req *req, const char *fmt, ...)
{
	char	msg[256];
	va_list	ap;

	req->failed++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (req->error[0] != '\0')
		strlcat(req->error, "; ", sizeof(req->error));
	strlcat(req->error, msg, sizeof(req->error));
}

static void
proc_req_wait(struct proc_req *req, struct proc *p, uint32_t seq)
{
	struct proc_wait	*w;
	int			 cap;

	if (req->nwaits == req->capwaits) {
		cap = req->capwaits ? req->capwaits * 2 : 8;
		if ((w = reallocarray(req->waits, cap, sizeof(*w))) == NULL) {
			proc_req_fail(req, "worker %d: out of memory", p->slot);
			return;
		}
		req->waits = w;
		req->capwaits = cap;
	}
	req->waits[req->nwaits].proc = p;
	req->waits[req->nwaits].seq = seq;
	req->nwaits++;
	req->pending++;
}

uint32_t
proc_req_send(struct proc_req *req, struct proc *p, enum chan_type type,
    const char *payload)
{
	uint32_t seq = ++proc_seq;

	if (seq == 0)		/* 0 is "ready" */
		seq = ++proc_seq;
	if (p->chan == -1 || chan_send(p->chan, type, seq, payload) == -1) {
		if (p->chan != -1)
			log_warn("worker %d: %s message", p->slot,
			    chan_type_name(type));
		if (req != NULL)
			proc_req_fail(req, "worker %d could not be told "
			    "(see the log)", p->slot);
		return 0;
	}
	proc_channel_interest(p);	/* the rest of a frame sent in part */
	if (req != NULL)
		proc_req_wait(req, p, seq);
	return seq;
}

void
proc_req_ready(struct proc_req *req, struct proc *p)
{
	if (req != NULL && !p->ready)
		proc_req_wait(req, p, 0);
}

static void
proc_req_post(struct proc_req *req)
{
	ev_timer_stop(proc_loop, &req->timer);
	TAILQ_REMOVE(&reqs, req, entry);
	TAILQ_INSERT_TAIL(&posted, req, entry);
	if (!ev_timer_armed(&post_timer))
		ev_timer_start(proc_loop, &post_timer, 0);
}

void
proc_req_start(struct proc_req *req, unsigned int timeout_ms)
{
	req->started = 1;
	if (req->pending == 0)
		proc_req_post(req);
	else
		ev_timer_start(proc_loop, &req->timer, timeout_ms);
}

void
proc_req_forget(struct proc_req *req)
{
	req->done = NULL;
}

/* The sequence number of the last message sent to any worker. */
uint32_t
proc_generation(void)
{
	return proc_seq;
}

const char *
proc_req_error(const struct proc_req *req)
{
	return req->failed ? req->error : NULL;
}

long long
proc_req_total(const struct proc_req *req)
{
	return req->total;
}

/*
 * p answered seq (ok or not), or exited (gone: every wait on it ends).
 * A worker that exits has done what STOP asked; anything else it owed,
 * "ready" included, it has not.
 */
static void
proc_req_resolve(struct proc *p, uint32_t seq, int ok, int gone,
    const char *text)
{
	struct proc_req		*req, *next;
	struct proc_wait	*w;
	int			 i;

	for (req = TAILQ_FIRST(&reqs); req != NULL; req = next) {
		next = TAILQ_NEXT(req, entry);
		for (i = 0; i < req->nwaits; i++) {
			w = &req->waits[i];
			if (w->proc != p || (!gone && w->seq != seq))
				continue;
			if (gone && w->seq == 0)
				proc_req_fail(req, "worker %d exited before "
				    "it was ready", p->slot);
			else if (gone && !p->retiring)
				proc_req_fail(req, "worker %d exited before "
				    "answering", p->slot);
			else if (!gone && !ok)
				proc_req_fail(req, "worker %d: %.200s",
				    p->slot, text);
			else if (!gone)
				req->total += strtoll(text, NULL, 10);
			*w = req->waits[--req->nwaits];
			req->pending--;
			i--;
		}
		if (req->started && req->pending == 0)
			proc_req_post(req);
	}
}

static void
proc_req_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct proc_req	*req = arg;
	int		 i;

	(void)loop;
	(void)t;
	for (i = 0; i < req->nwaits; i++)
		proc_req_fail(req, "worker %d did not answer in time",
		    req->waits[i].proc->slot);
	req->nwaits = req->pending = 0;
	proc_req_post(req);
}

static void
proc_run_posted(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct proc_req *req;

	(void)loop;
	(void)t;
	(void)arg;
	while ((req = TAILQ_FIRST(&posted)) != NULL) {
		TAILQ_REMOVE(&posted, req, entry);
		if (req->done != NULL)
			req->done(req, req->arg);
		free(req->waits);
		free(req);
	}
}

/*
 * The control socket: a line protocol on a UNIX stream socket, usable by
 * hand with socat.  Each command's answer is zero or more lines, then
 * "ok" or "error: ...".  A line starting with "-j " asks for JSON.  Nothing
 * a client does (silence, junk, not reading) can block the master.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define LIBBSD_OPENBSD_VIS	1	/* the OpenBSD flavour of vis(3) */
#include <vis.h>

#include "control.h"
#include "json.h"
#include "log.h"
#include "master.h"

#define CTL_CLIENTS_MAX	64
#define CTL_REFUSED_MAX	256		/* refused clients not yet closed */
#define CTL_REFUSED_MS	1000		/* how long one may take to read why */
#define CTL_OUT_MAX	(1024 * 1024)	/* a reader this far behind is cut */
#define CTL_ACK_MS	3000		/* workers answer within this */
#define CTL_ARGS_MAX	8
#define CTL_BACKOFF_MS	100		/* after EMFILE on accept */
#define CTL_SHOWN	32		/* bytes of an unknown command echoed */

static TAILQ_HEAD(, ctl_client)	 clients = TAILQ_HEAD_INITIALIZER(clients);
static int			 nclients, nrefused, ntracers;
static int			 ctl_fd = -1;
static char			 ctl_path[sizeof(
				    ((struct sockaddr_un *)0)->sun_path)];
static struct ev_loop		*ctl_loop;
static struct ev_timer		 ctl_accept_timer;

static void	ctl_accept(struct ev_loop *, int, int, void *);
static void	ctl_accept_again(struct ev_loop *, struct ev_timer *, void *);
static void	ctl_refused_expire(struct ev_loop *, struct ev_timer *, void *);
static void	ctl_io(struct ev_loop *, int, int, void *);
static void	ctl_close(struct ctl_client *);
static void	ctl_process(struct ctl_client *);
static void	ctl_run(struct ctl_client *, int, char **);

/*
 * Create the socket before daemonizing, so a conflict is said on the
 * terminal: a live daemon on the path is refused, a stale socket removed,
 * anything that is not a socket left alone.
 */
int
control_init(const char *path, char *why, size_t len)
{
	struct sockaddr_un	sun;
	struct stat		st;
	mode_t			old;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		snprintf(why, len, "control socket %s: path too long", path);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(why, len, "control socket %s exists and is "
			    "not a socket; refusing to replace it", path);
			return -1;
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd != -1 && connect(fd, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0) {
			close(fd);
			snprintf(why, len, "control socket %s is in use by a "
			    "running acceptd", path);
			return -1;
		}
		if (fd != -1)
			close(fd);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(why, len, "control socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		snprintf(why, len, "control socket %s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, 0600) == -1 || listen(fd, 16) == -1) {
		snprintf(why, len, "control socket %s: %s", path,
		    strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	ctl_fd = fd;
	strlcpy(ctl_path, path, sizeof(ctl_path));
	return 0;
}

void
control_start(struct ev_loop *loop)
{
	ctl_loop = loop;
	ctl_cmd_init();
	ev_timer_init(&ctl_accept_timer, ctl_accept_again, NULL);
	if (ev_set(loop, ctl_fd, EV_READ, ctl_accept, NULL) == -1)
		fatal("poll control socket");
}

void
control_cleanup(void)
{
	struct ctl_client *c;

	while ((c = TAILQ_FIRST(&clients)) != NULL)
		ctl_close(c);
	if (ctl_fd != -1) {
		close(ctl_fd);
		unlink(ctl_path);
		ctl_fd = -1;
	}
}

/* Output */

static void
ctl_flush(struct ctl_client *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno != EAGAIN)
				c->dead = 1;
			break;
		}
		c->out_off += n;
	}
	if (c->dead)
		return;
	if (c->out_off == c->out_len) {
		free(c->out);
		c->out = NULL;
		c->out_cap = c->out_len = c->out_off = 0;
		if (c->closing) {
			c->dead = 1;
			return;
		}
	}
	ev_set(ctl_loop, c->fd, (c->wait == NULL && !c->closing ? EV_READ :
	    0) | (c->out_len > 0 ? EV_WRITE : 0), ctl_io, c);
}

/* Queue bytes for a client; one too far behind is dropped, not waited on. */
static void
ctl_write(struct ctl_client *c, const char *data, size_t len)
{
	char	*p;
	size_t	 cap;

	if (c->dead)
		return;
	if (c->out_len - c->out_off + len > CTL_OUT_MAX) {
		log_warnx("control client not reading; disconnecting it");
		c->dead = 1;
		return;
	}
	if (c->out_off > 0) {		/* keep only what is unsent */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	/* Grows by doubling: trace is a stream. */
	if (c->out_len + len > c->out_cap) {
		cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + len)
			cap *= 2;
		if ((p = realloc(c->out, cap)) == NULL) {
			c->dead = 1;
			return;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

void
ctl_printf(struct ctl_client *c, const char *fmt, ...)
{
	char	 buf[1024], *big = NULL;
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf)) {
		va_start(ap, fmt);
		n = vasprintf(&big, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
	}
	ctl_write(c, big ? big : buf, n);
	free(big);
}

void
ctl_done(struct ctl_client *c, const char *error)
{
	if (error != NULL)
		ctl_printf(c, "error: %s\n", error);
	else
		ctl_printf(c, "ok\n");
	ctl_flush(c);
}

/* Commands build their body in a memstream, then hand it over at once. */
FILE *
ctl_body(char **buf, size_t *len)
{
	FILE *f;

	*buf = NULL;
	if ((f = open_memstream(buf, len)) == NULL)
		log_warn("control: memstream");
	return f;
}

/* The memstream's buffer and size are only final after fclose. */
void
ctl_send_body(struct ctl_client *c, FILE *f, char **buf, size_t *len)
{
	fclose(f);
	ctl_write(c, *buf, *len);
	free(*buf);
}

/* Connections */

/*
 * A refused client is told why at once, but closed only once its first
 * line has been read: closing with its command unread would reset the
 * connection and lose the reason on the way.
 */
static void
ctl_accept(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct ctl_client	*c;
	const char		*refused;
	uid_t			 uid;
	gid_t			 gid;
	int			 cfd;

	(void)events;
	(void)arg;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1) {
		refused = NULL;
		uid = (uid_t)-1;
		if (getpeereid(cfd, &uid, &gid) == -1 ||
		    (uid != 0 && uid != geteuid())) {
			log_warnx("control: refused uid %d (only uid %d and "
			    "root may control acceptd)", (int)uid,
			    (int)geteuid());
			refused = "permission denied (run acceptctl as the "
			    "daemon's user or root)";
		} else if (nclients - nrefused >= CTL_CLIENTS_MAX)
			refused = "too many control clients";
		if ((refused != NULL && nrefused >= CTL_REFUSED_MAX) ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			close(cfd);
			continue;
		}
		c->fd = cfd;
		TAILQ_INSERT_TAIL(&clients, c, entry);
		nclients++;
		if (refused != NULL) {
			c->refused = refused;
			nrefused++;
			ctl_printf(c, "error: %s\n", refused);
			ev_timer_init(&c->refused_timer, ctl_refused_expire, c);
			ev_timer_start(loop, &c->refused_timer, CTL_REFUSED_MS);
		}
		ctl_flush(c);
		if (c->dead)
			ctl_close(c);
	}
	if (errno == EMFILE || errno == ENFILE) {
		/* Out of descriptors: listen again later, do not spin. */
		log_warn("control: accept");
		ev_set(loop, fd, 0, NULL, NULL);
		ev_timer_start(loop, &ctl_accept_timer, CTL_BACKOFF_MS);
	}
}

static void
ctl_refused_expire(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	ctl_close(arg);
}

static void
ctl_accept_again(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	if (ctl_fd != -1 && ev_set(loop, ctl_fd, EV_READ, ctl_accept,
	    NULL) == -1)
		log_warn("control: poll socket");
}

static void
ctl_close(struct ctl_client *c)
{
	if (c->wait != NULL) {
		c->wait->client = NULL;	/* the workers' answers go nowhere */
		c->wait = NULL;
	}
	if (c->trace && --ntracers == 0)
		atomic_store(&master.sb->trace, 0);
	if (c->refused != NULL) {
		nrefused--;
		ev_timer_stop(ctl_loop, &c->refused_timer);
	}
	ev_set(ctl_loop, c->fd, 0, NULL, NULL);
	close(c->fd);
	TAILQ_REMOVE(&clients, c, entry);
	nclients--;
	free(c->out);
	free(c);
}

static void
ctl_io(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct ctl_client	*c = arg;
	ssize_t			 n;

	(void)loop;
	if (events & EV_WRITE)
		ctl_flush(c);
	else {
		n = recv(fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			c->dead = 1;
		else if (n > 0) {
			c->in_len += n;
			ctl_process(c);
		}
	}
	if (c->dead)
		ctl_close(c);
}

/* Split off and run each complete line; lines longer than the max fail. */
static void
ctl_process(struct ctl_client *c)
{
	char	*nl, *argv[CTL_ARGS_MAX + 1], *p, *line;
	size_t	 used;
	int	 argc;

	if (c->refused != NULL) {	/* it has been told; now it may go */
		c->in_len = 0;
		c->closing = 1;
		ctl_flush(c);
		return;
	}
	while (c->wait == NULL && !c->trace && !c->closing && !c->dead &&
	    (nl = memchr(c->in, '\n', c->in_len)) != NULL) {
		*nl = '\0';
		used = nl - c->in + 1;
		line = c->in;
		if (c->discarding) {
			c->discarding = 0;
			ctl_done(c, "line too long (the limit is 4096 bytes)");
		} else {
			if (nl > c->in && nl[-1] == '\r')
				nl[-1] = '\0';
			c->json = 0;
			argc = 0;
			while ((p = strsep(&line, " \t")) != NULL) {
				if (*p == '\0')
					continue;
				if (argc == 0 && !c->json &&
				    strcmp(p, "-j") == 0) {
					c->json = 1;
					continue;
				}
				if (argc == CTL_ARGS_MAX)
					break;
				argv[argc++] = p;
			}
			argv[argc] = NULL;
			if (argc > 0)
				ctl_run(c, argc, argv);
			else
				ctl_done(c, "empty command; try \"help\"");
		}
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
	}
	if (c->in_len == sizeof(c->in)) {
		c->discarding = 1;	/* keep discarding to the newline */
		c->in_len = 0;
	}
}

/* Dispatch */

/* A command of common/ctlproto.c by name or prefix, and what runs it. */
static const struct ctl_handler *
ctl_lookup(const char *word, const struct ctlproto_cmd **cmd, char *why,
    size_t len)
{
	size_t	i, n = strlen(word);
	char	list[256], shown[4 * CTL_SHOWN + 1];

	if ((*cmd = ctlproto_find(word)) == NULL) {
		ctlproto_names(list, sizeof(list));
		/* Junk is shown escaped, and only its start. */
		strvisx(shown, word, n < CTL_SHOWN ? n : CTL_SHOWN,
		    VIS_SAFE | VIS_OCTAL);
		snprintf(why, len, "unknown command \"%s\"; valid commands "
		    "are %s", shown, list);
		return NULL;
	}
	for (i = 0; i < ctl_nhandlers; i++)
		if (strcmp((*cmd)->name, ctl_handlers[i].name) == 0)
			return &ctl_handlers[i];
	snprintf(why, len, "%s is acceptctl's own (it asks for status and "
	    "sockets)", (*cmd)->name);
	return NULL;
}

static void
ctl_run(struct ctl_client *c, int argc, char **argv)
{
	const struct ctl_handler	*h;
	const struct ctlproto_cmd	*cmd;
	char				 why[512];

	if ((h = ctl_lookup(argv[0], &cmd, why, sizeof(why))) == NULL) {
		ctl_done(c, why);
		return;
	}
	if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
		snprintf(why, sizeof(why), "usage: %s", cmd->usage);
		ctl_done(c, why);
		return;
	}
	argv[0] = (char *)cmd->name;	/* a prefix becomes the name */
	h->run(c, argc, argv);
}

/* Waiting for the workers */

static LIST_HEAD(, ctl_wait)	waits = LIST_HEAD_INITIALIZER(waits);

static void	ctl_wait_timeout(struct ev_loop *, struct ev_timer *, void *);

struct ctl_wait *
ctl_wait_new(struct ctl_client *c, enum chan_type type)
{
	struct ctl_wait *w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		ctl_done(c, "out of memory");
		return NULL;
	}
	w->client = c;
	w->type = type;
	ev_timer_init(&w->timer, ctl_wait_timeout, w);
	LIST_INSERT_HEAD(&waits, w, entry);
	return w;
}

static void
ctl_wait_fail(struct ctl_wait *w, const char *fmt, int id, const char *text)
{
	char msg[256];

	w->failed++;
	snprintf(msg, sizeof(msg), fmt, id, text);
	if (w->error[0] != '\0')
		strlcat(w->error, "; ", sizeof(w->error));
	strlcat(w->error, msg, sizeof(w->error));
}

/* The worker owes an answer to message seq; seq 0: its "ready". */
void
ctl_wait_expect(struct ctl_wait *w, struct slot *s, uint32_t seq)
{
	w->seq[s->id] = seq;
	w->waiting[s->id] = 1;
	w->pending++;
}

/* A message went to the worker (seq), or could not (0): wait or fail. */
void
ctl_wait_sent(struct slot *s, uint32_t seq, void *wait)
{
	struct ctl_wait *w = wait;

	if (seq == 0)
		ctl_wait_fail(w, "worker %d %s", s->id,
		    "could not be told (see the log)");
	else
		ctl_wait_expect(w, s, seq);
}

void
ctl_wait_send(struct ctl_wait *w, struct slot *s, const char *payload)
{
	ctl_wait_sent(s, master_send(s, w->type, payload), w);
}

/*
 * Answer the client.  When the answer comes later than the command (from
 * a worker's message or the timer), also go on with the lines the client
 * sent meanwhile; inside the command, ctl_process is still running.
 */
static void
ctl_wait_finish(struct ctl_wait *w, int later)
{
	struct ctl_client	*c = w->client;

	ev_timer_stop(ctl_loop, &w->timer);
	LIST_REMOVE(w, entry);
	if (c != NULL) {
		c->wait = NULL;
		if (w->type == CHAN_DROP && w->failed == 0)
			ctl_printf(c, c->json ? "{\"dropped\":%lld}\n" :
			    "dropped %lld\n", w->total);
		ctl_done(c, w->failed ? w->error : NULL);
	}
	free(w);
	if (c == NULL || !later)
		return;
	if (!c->dead)
		ctl_process(c);
	if (c->dead)
		ctl_close(c);
}

/* Every worker named has been asked (or failed): answer now or later. */
void
ctl_wait_arm(struct ctl_wait *w)
{
	if (w->pending == 0) {
		ctl_wait_finish(w, 0);
		return;
	}
	w->client->wait = w;
	ctl_flush(w->client);	/* stop reading until answered */
	ev_timer_start(ctl_loop, &w->timer, CTL_ACK_MS);
}

static void
ctl_wait_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct ctl_wait	*w = arg;
	int		 i;

	(void)loop;
	(void)t;
	for (i = 0; i < CONF_WORKERS_MAX; i++)
		if (w->waiting[i])
			ctl_wait_fail(w, "worker %d %s", i,
			    "did not answer in time");
	ctl_wait_finish(w, 1);
}

static void
ctl_wait_answer(struct slot *s, uint32_t seq, int ok, const char *text)
{
	struct ctl_wait	*w, *next;

	for (w = LIST_FIRST(&waits); w != NULL; w = next) {
		next = LIST_NEXT(w, entry);
		if (!w->waiting[s->id] || w->seq[s->id] != seq)
			continue;
		w->waiting[s->id] = 0;
		w->pending--;
		if (!ok)
			ctl_wait_fail(w, "worker %d: %.200s", s->id, text);
		else if (w->type == CHAN_DROP)
			w->total += strtoll(text, NULL, 10);
		if (w->pending == 0)
			ctl_wait_finish(w, 1);
	}
}

void
control_worker_gone(struct slot *s)
{
	struct ctl_wait	*w, *next;

	for (w = LIST_FIRST(&waits); w != NULL; w = next) {
		next = LIST_NEXT(w, entry);
		if (!w->waiting[s->id])
			continue;
		if (w->seq[s->id] == 0 && s->retiring && s->wanted)
			continue;	/* its successor will say "ready" */
		w->waiting[s->id] = 0;
		w->pending--;
		/*
		 * A worker told to stop has done what it was asked; one that
		 * owed "ready" (seq 0) or any other answer has not.
		 */
		if (w->seq[s->id] == 0)
			ctl_wait_fail(w, "worker %d %s", s->id,
			    "exited before it was ready");
		else if (w->type != CHAN_STOP)
			ctl_wait_fail(w, "worker %d %s", s->id,
			    "exited before answering");
		if (w->pending == 0)
			ctl_wait_finish(w, 1);
	}
}

/* From now on the client gets every trace line; tracing costs only then. */
void
ctl_trace_start(struct ctl_client *c)
{
	c->trace = 1;
	if (ntracers++ == 0)
		atomic_store(&master.sb->trace, 1);
}

/* Trace lines from the workers, fanned out to whoever listens. */
static void
ctl_trace_line(const char *line)
{
	struct ctl_client	*c, *next;
	char			 t[32], peer[64], event[32];
	char			 rest[CHAN_PAYLOAD_MAX];
	char			*buf = NULL;
	size_t			 len;
	int			 worker, n;
	unsigned int		 conn;
	FILE			*f;

	for (c = TAILQ_FIRST(&clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!c->trace)
			continue;
		if (!c->json) {
			ctl_printf(c, "%s\n", line);
		} else {
			rest[0] = '\0';
			n = sscanf(line, "%31s %d %u %63s %31s %999[^\n]", t,
			    &worker, &conn, peer, event, rest);
			if (n < 5 || (f = ctl_body(&buf, &len)) == NULL)
				continue;
			fprintf(f, "{\"time\":%s,\"worker\":%d,\"conn\":%u,"
			    "\"peer\":", t, worker, conn);
			json_string(f, peer);
			fprintf(f, ",\"event\":");
			json_string(f, event);
			fprintf(f, ",\"detail\":");
			json_string(f, rest);
			fprintf(f, "}\n");
			ctl_send_body(c, f, &buf, &len);
		}
		ctl_flush(c);
		if (c->dead)
			ctl_close(c);
	}
}

/*
 * What the workers send the master, all of it for the control side:
 * answers to commands and trace lines.
 */
void
control_channel(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct slot	*s = arg;
	struct chan_msg	 m;
	int		 r;

	(void)events;
	while ((r = chan_recv(fd, &m)) == 1 || (r == -1 && errno == EBADMSG)) {
		if (r == -1) {
			log_warnx("worker %d sent a malformed message", s->id);
			continue;
		}
		switch (m.type) {
		case CHAN_TRACE:
			ctl_trace_line(m.payload);
			break;
		case CHAN_ACK:
		case CHAN_NAK:
			if (m.type == CHAN_NAK && m.seq != 0)
				log_debug("worker %d: %s", s->id, m.payload);
			ctl_wait_answer(s, m.seq, m.type == CHAN_ACK,
			    m.payload);
			break;
		default:
			log_warnx("worker %d sent an unexpected %s message",
			    s->id, chan_type_name(m.type));
		}
	}
	if (r == 0)
		ev_set(loop, fd, 0, NULL, NULL);	/* reaped on SIGCHLD */
}

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

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kview.h"
#include "log.h"
#include "master.h"

#define CTL_LINE_MAX	4096
#define CTL_CLIENTS_MAX	64
#define CTL_REFUSED_MAX	256		/* refused clients awaiting their close */
#define CTL_REFUSED_MS	1000		/* how long one may take to read why */
#define CTL_OUT_MAX	(1024 * 1024)	/* a reader this far behind is cut */
#define CTL_ACK_MS	3000		/* workers answer within this */
#define CTL_ARGS_MAX	8
#define CTL_BACKOFF_MS	100		/* after EMFILE on accept */

struct ctl_client {
	int			 fd;
	int			 json;		/* current command wants JSON */
	int			 trace;		/* streaming trace lines */
	int			 discarding;	/* rest of an overlong line */
	int			 closing;	/* close once output is sent */
	int			 dead;		/* close at the end of this event */
	const char		*refused;	/* told why; closed after a line */
	struct ev_timer		 refused_timer;
	size_t			 in_len;
	char			 in[CTL_LINE_MAX];
	char			*out;
	size_t			 out_len;
	size_t			 out_off;
	struct ctl_wait		*wait;		/* answer held for workers */
	TAILQ_ENTRY(ctl_client)	 entry;
};

/* A command that answers only once the workers it named have. */
struct ctl_wait {
	struct ctl_client	*client;
	enum chan_type		 type;
	int			 pending;
	int			 failed;
	long long		 total;		/* drop: connections closed */
	char			 error[256];
	uint32_t		 seq[CONF_WORKERS_MAX];	/* 0: not waiting */
	uint8_t			 waiting[CONF_WORKERS_MAX];
	struct ev_timer		 timer;
};

struct ctl_cmd {
	const char	*name;
	int		 min_args;
	int		 max_args;
	void		(*run)(struct ctl_client *, int, char **);
	const char	*usage;
};

static TAILQ_HEAD(, ctl_client)	 clients = TAILQ_HEAD_INITIALIZER(clients);
static int			 nclients, nrefused, ntracers;
static int			 ctl_fd = -1;
static char			 ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static struct ev_loop		*ctl_loop;
static struct kview_counters	 counters_at_start;
static struct ev_timer		 ctl_accept_timer;

static void	ctl_accept(struct ev_loop *, int, int, void *);
static void	ctl_accept_again(struct ev_loop *, struct ev_timer *, void *);
static void	ctl_refused_expire(struct ev_loop *, struct ev_timer *, void *);
static void	ctl_io(struct ev_loop *, int, int, void *);
static void	ctl_close(struct ctl_client *);
static void	ctl_process(struct ctl_client *);
static void	ctl_run(struct ctl_client *, int, char **);

static void	cmd_status(struct ctl_client *, int, char **);
static void	cmd_workers(struct ctl_client *, int, char **);
static void	cmd_pause(struct ctl_client *, int, char **);
static void	cmd_set(struct ctl_client *, int, char **);
static void	cmd_config(struct ctl_client *, int, char **);
static void	cmd_sockets(struct ctl_client *, int, char **);
static void	cmd_counters(struct ctl_client *, int, char **);
static void	cmd_trace(struct ctl_client *, int, char **);
static void	cmd_scale(struct ctl_client *, int, char **);
static void	cmd_drop(struct ctl_client *, int, char **);
static void	cmd_reload(struct ctl_client *, int, char **);
static void	cmd_stop(struct ctl_client *, int, char **);
static void	cmd_help(struct ctl_client *, int, char **);
static void	cmd_version(struct ctl_client *, int, char **);

static const struct ctl_cmd ctl_cmds[] = {
	{ "status",	0, 0, cmd_status,   "status" },
	{ "workers",	0, 0, cmd_workers,  "workers" },
	{ "pause",	0, 1, cmd_pause,    "pause [WORKER]" },
	{ "resume",	0, 1, cmd_pause,    "resume [WORKER]" },
	{ "set",	2, 3, cmd_set,      "set NAME VALUE [WORKER]" },
	{ "config",	0, 0, cmd_config,   "config" },
	{ "sockets",	0, 0, cmd_sockets,  "sockets" },
	{ "counters",	0, 0, cmd_counters, "counters" },
	{ "trace",	0, 0, cmd_trace,    "trace" },
	{ "scale",	1, 1, cmd_scale,    "scale N" },
	{ "drop",	1, 1, cmd_drop,     "drop close-wait|idle|all" },
	{ "reload",	0, 0, cmd_reload,   "reload" },
	{ "stop",	0, 0, cmd_stop,     "stop" },
	{ "help",	0, 0, cmd_help,     "help" },
	{ "version",	0, 0, cmd_version,  "version" },
};
#define CTL_NCMDS	(sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

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
	master.started_ms = ev_clock_ms();
	kview_counters(&counters_at_start);
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
		c->out_len = c->out_off = 0;
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
	char *p;

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
	if ((p = realloc(c->out, c->out_len + len)) == NULL) {
		c->dead = 1;
		return;
	}
	memcpy(p + c->out_len, data, len);
	c->out = p;
	c->out_len += len;
}

static void __attribute__((format(printf, 2, 3)))
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

static void
ctl_done(struct ctl_client *c, const char *error)
{
	if (error != NULL)
		ctl_printf(c, "error: %s\n", error);
	else
		ctl_printf(c, "ok\n");
	ctl_flush(c);
}

/* Print a string as a JSON string. */
static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* Commands build their body in a memstream, then hand it over at once. */
static FILE *
ctl_body(char **buf, size_t *len)
{
	FILE *f;

	*buf = NULL;
	if ((f = open_memstream(buf, len)) == NULL)
		log_warn("control: memstream");
	return f;
}

/* The memstream's buffer and size are only final after fclose. */
static void
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
	uid_t			 uid = (uid_t)-1;
	gid_t			 gid;
	int			 cfd;

	(void)events;
	(void)arg;
	while ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1) {
		refused = NULL;
		if (getpeereid(cfd, &uid, &gid) == -1 ||
		    (uid != 0 && uid != geteuid())) {
			log_warnx("control: refused uid %d", (int)uid);
			refused = "permission denied";
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

/*
 * A command by name or prefix; a prefix means the first command in the
 * table that begins with it, and the table lists queries first ("st" is
 * status, "sto" is stop).
 */
static const struct ctl_cmd *
ctl_lookup(const char *word, char *why, size_t len)
{
	size_t	i, n = strlen(word);
	char	list[256] = "";

	for (i = 0; i < CTL_NCMDS; i++)
		if (strcmp(word, ctl_cmds[i].name) == 0)
			return &ctl_cmds[i];
	for (i = 0; i < CTL_NCMDS; i++)
		if (strncmp(word, ctl_cmds[i].name, n) == 0)
			return &ctl_cmds[i];
	for (i = 0; i < CTL_NCMDS; i++) {
		if (i > 0)
			strlcat(list, ", ", sizeof(list));
		strlcat(list, ctl_cmds[i].name, sizeof(list));
	}
	snprintf(why, len, "unknown command \"%.64s\"; valid commands are %s",
	    word, list);
	return NULL;
}

static void
ctl_run(struct ctl_client *c, int argc, char **argv)
{
	const struct ctl_cmd	*cmd;
	char			 why[512];

	if ((cmd = ctl_lookup(argv[0], why, sizeof(why))) == NULL) {
		ctl_done(c, why);
		return;
	}
	if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
		snprintf(why, sizeof(why), "usage: %s", cmd->usage);
		ctl_done(c, why);
		return;
	}
	argv[0] = (char *)cmd->name;	/* a prefix becomes the name */
	cmd->run(c, argc, argv);
}

/* A worker number given by the user: running, and below "workers". */
static struct slot *
ctl_worker_arg(struct ctl_client *c, const char *arg)
{
	const char	*errstr;
	char		 why[128];
	long long	 id;

	id = strtonum(arg, 0, CONF_WORKERS_MAX - 1, &errstr);
	if (errstr != NULL || !master.slot[id].wanted) {
		snprintf(why, sizeof(why), "no worker \"%.32s\" (workers are "
		    "0..%d)", arg, master.conf.workers - 1);
		ctl_done(c, why);
		return NULL;
	}
	return &master.slot[id];
}

/* Waiting for the workers */

static LIST_HEAD(, ctl_wait_entry)	waits = LIST_HEAD_INITIALIZER(waits);
struct ctl_wait_entry {
	struct ctl_wait		 w;
	LIST_ENTRY(ctl_wait_entry) entry;
};

static void	ctl_wait_timeout(struct ev_loop *, struct ev_timer *, void *);

static struct ctl_wait *
ctl_wait_new(struct ctl_client *c, enum chan_type type)
{
	struct ctl_wait_entry *e;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		ctl_done(c, "out of memory");
		return NULL;
	}
	e->w.client = c;
	e->w.type = type;
	ev_timer_init(&e->w.timer, ctl_wait_timeout, e);
	LIST_INSERT_HEAD(&waits, e, entry);
	return &e->w;
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

/* Send a message to a worker and count it as owed an answer. */
static void
ctl_wait_send(struct ctl_wait *w, struct slot *s, const char *payload)
{
	uint32_t seq;

	if ((seq = master_send(s, w->type, payload)) == 0) {
		ctl_wait_fail(w, "worker %d %s", s->id, "is not running");
		return;
	}
	w->seq[s->id] = seq;
	w->waiting[s->id] = 1;
	w->pending++;
}

/* A worker just forked owes its "ready". */
static void
ctl_wait_ready(struct ctl_wait *w, struct slot *s)
{
	w->seq[s->id] = 0;
	w->waiting[s->id] = 1;
	w->pending++;
}

/*
 * Answer the client.  When the answer comes later than the command (from
 * a worker's message or the timer), also go on with the lines the client
 * sent meanwhile; inside the command, ctl_process is still running.
 */
static void
ctl_wait_finish(struct ctl_wait_entry *e, int later)
{
	struct ctl_wait		*w = &e->w;
	struct ctl_client	*c = w->client;

	ev_timer_stop(ctl_loop, &w->timer);
	LIST_REMOVE(e, entry);
	if (c != NULL) {
		c->wait = NULL;
		if (w->type == CHAN_DROP && w->failed == 0)
			ctl_printf(c, c->json ? "{\"dropped\":%lld}\n" :
			    "dropped %lld\n", w->total);
		ctl_done(c, w->failed ? w->error : NULL);
	}
	free(e);
	if (c == NULL || !later)
		return;
	if (!c->dead)
		ctl_process(c);
	if (c->dead)
		ctl_close(c);
}

/* Every worker named has been asked (or failed): answer now or later. */
static void
ctl_wait_arm(struct ctl_wait *w)
{
	struct ctl_wait_entry *e = (struct ctl_wait_entry *)w;

	if (w->pending == 0) {
		ctl_wait_finish(e, 0);
		return;
	}
	w->client->wait = w;
	ctl_flush(w->client);	/* stop reading until answered */
	ev_timer_start(ctl_loop, &w->timer, CTL_ACK_MS);
}

static void
ctl_wait_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct ctl_wait_entry	*e = arg;
	int			 i;

	(void)loop;
	(void)t;
	for (i = 0; i < CONF_WORKERS_MAX; i++)
		if (e->w.waiting[i])
			ctl_wait_fail(&e->w, "worker %d %s", i,
			    "did not answer in time");
	ctl_wait_finish(e, 1);
}

static void
ctl_wait_answer(struct slot *s, uint32_t seq, int ok, const char *text)
{
	struct ctl_wait_entry	*e, *next;
	struct ctl_wait		*w;

	for (e = LIST_FIRST(&waits); e != NULL; e = next) {
		next = LIST_NEXT(e, entry);
		w = &e->w;
		if (!w->waiting[s->id] || w->seq[s->id] != seq)
			continue;
		w->waiting[s->id] = 0;
		w->pending--;
		if (!ok)
			ctl_wait_fail(w, "worker %d: %.200s", s->id, text);
		else if (w->type == CHAN_DROP)
			w->total += strtoll(text, NULL, 10);
		if (w->pending == 0)
			ctl_wait_finish(e, 1);
	}
}

void
control_worker_gone(struct slot *s)
{
	struct ctl_wait_entry	*e, *next;
	struct ctl_wait		*w;

	for (e = LIST_FIRST(&waits); e != NULL; e = next) {
		next = LIST_NEXT(e, entry);
		w = &e->w;
		if (!w->waiting[s->id])
			continue;
		if (w->seq[s->id] == 0 && s->retiring && s->wanted)
			continue;	/* its successor will say "ready" */
		w->waiting[s->id] = 0;
		w->pending--;
		/* A worker told to stop has done what it was asked. */
		if (w->type != CHAN_STOP)
			ctl_wait_fail(w, "worker %d %s", s->id,
			    "exited before answering");
		if (w->pending == 0)
			ctl_wait_finish(e, 1);
	}
}

/* Trace lines from the workers, fanned out to whoever listens. */
static void
ctl_trace_line(const char *line)
{
	struct ctl_client	*c, *next;
	char			 t[32], peer[64], event[32], rest[CHAN_PAYLOAD_MAX];
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
			json_str(f, peer);
			fprintf(f, ",\"event\":");
			json_str(f, event);
			fprintf(f, ",\"detail\":");
			json_str(f, rest);
			fprintf(f, "}\n");
			ctl_send_body(c, f, &buf, &len);
		}
		ctl_flush(c);
		if (c->dead)
			ctl_close(c);
	}
}

/* What the workers send the master: answers and trace lines. */
void
master_channel(struct ev_loop *loop, int fd, int events, void *arg)
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

/* Commands */

/* The accept queue as the kernel has it: one listener, or one per worker. */
static void
ctl_listen_queue(struct slot *only, unsigned int *queue, unsigned int *limit)
{
	unsigned int	q, l;
	int		i;

	*queue = *limit = 0;
	if (master.listen_fd != -1) {
		kview_listen_queue(master.listen_fd, queue, limit);
		return;
	}
	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		if (master.slot[i].listen_fd == -1 ||
		    (only != NULL && only != &master.slot[i]) ||
		    kview_listen_queue(master.slot[i].listen_fd, &q, &l) == -1)
			continue;
		*queue += q;
		*limit += l;
	}
}

static int
ctl_listed(const struct slot *s)
{
	return s->wanted || s->pid != 0;
}

/* The kernel's count of the worker going to sleep; 0 where unknown. */
static unsigned long long
ctl_sleeps(const struct slot *s)
{
	unsigned long long n;

	if (s->pid == 0 || kview_process_sleeps(s->pid, &n) == -1)
		return 0;
	return n;
}

static void
ctl_status_json(FILE *f, int all)
{
	struct sb_worker	*w;
	struct slot		*s;
	unsigned int		 q, l;
	int			 i, first = 1;

	ctl_listen_queue(NULL, &q, &l);
	fprintf(f, "{\"master\":{\"pid\":%d,\"uptime_s\":%llu,\"stopping\":%s,"
	    "\"generation\":%u},\"listen\":{\"address\":", (int)getpid(),
	    (unsigned long long)(ev_clock_ms() - master.started_ms) / 1000,
	    master.stopping ? "true" : "false", master.seq);
	json_str(f, master.conf.listen);
	fprintf(f, ",\"accept\":\"%s\",\"queue\":%u,\"backlog\":%u},"
	    "\"workers\":[", conf_accept_name(master.conf.accept), q, l);
	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		s = &master.slot[i];
		if (!ctl_listed(s))
			continue;
		w = &master.sb->worker[i];
		fprintf(f, "%s{\"id\":%d,\"pid\":%d,\"state\":\"%s\","
		    "\"connections\":%llu,\"accepted\":%llu,\"wakeups\":%llu,"
		    "\"empty_accepts\":%llu,\"sleeps\":%llu", first ? "" : ",", i,
		    (int)s->pid, scoreboard_state_name(atomic_load(&w->state)),
		    (unsigned long long)sb_get(&w->active),
		    (unsigned long long)sb_get(&w->accepts),
		    (unsigned long long)sb_get(&w->wakeups),
		    (unsigned long long)sb_get(&w->empty_accepts),
		    ctl_sleeps(s));
		first = 0;
		if (master.listen_fd == -1) {
			ctl_listen_queue(s, &q, &l);
			fprintf(f, ",\"queue\":%u", q);
		}
		if (all)
			fprintf(f, ",\"closed\":%llu,\"peer_eofs\":%llu,"
			    "\"resets\":%llu,\"bytes_in\":%llu,"
			    "\"bytes_out\":%llu,\"trace_dropped\":%llu,"
			    "\"generation\":%llu,\"paused\":%s,"
			    "\"max_connections\":%d,\"close_mode\":\"%s\","
			    "\"reading\":\"%s\",\"protocol\":\"%s\"",
			    (unsigned long long)sb_get(&w->closed),
			    (unsigned long long)sb_get(&w->peer_eofs),
			    (unsigned long long)sb_get(&w->resets),
			    (unsigned long long)sb_get(&w->bytes_in),
			    (unsigned long long)sb_get(&w->bytes_out),
			    (unsigned long long)sb_get(&w->trace_dropped),
			    (unsigned long long)atomic_load(&w->generation),
			    s->set.paused ? "true" : "false",
			    s->set.max_connections,
			    conf_close_name(s->set.close_mode),
			    s->set.reading ? "on" : "off",
			    conf_protocol_name(s->set.protocol));
		fprintf(f, "}");
	}
	fprintf(f, "]}\n");
}

static void
ctl_status_text(FILE *f, int all)
{
	struct sb_worker	*w;
	struct slot		*s;
	unsigned int		 q, l;
	int			 i;

	ctl_listen_queue(NULL, &q, &l);
	fprintf(f, "master pid %d, up %llus%s; listening on %s (%s), "
	    "accept queue %u of %u\n", (int)getpid(),
	    (unsigned long long)(ev_clock_ms() - master.started_ms) / 1000,
	    master.stopping ? ", stopping" : "", master.conf.listen,
	    conf_accept_name(master.conf.accept), q, l);
	fprintf(f, "%-6s %-7s %-10s %6s %9s %9s %7s %9s", "worker", "pid",
	    "state", "conns", "accepted", "wakeups", "empty", "sleeps");
	if (all)
		fprintf(f, " %9s %7s %7s %11s %11s", "closed", "eofs",
		    "resets", "bytes-in", "bytes-out");
	fprintf(f, "\n");
	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		s = &master.slot[i];
		if (!ctl_listed(s))
			continue;
		w = &master.sb->worker[i];
		fprintf(f, "%-6d %-7d %-10s %6llu %9llu %9llu %7llu %9llu", i,
		    (int)s->pid, scoreboard_state_name(atomic_load(&w->state)),
		    (unsigned long long)sb_get(&w->active),
		    (unsigned long long)sb_get(&w->accepts),
		    (unsigned long long)sb_get(&w->wakeups),
		    (unsigned long long)sb_get(&w->empty_accepts),
		    ctl_sleeps(s));
		if (all)
			fprintf(f, " %9llu %7llu %7llu %11llu %11llu",
			    (unsigned long long)sb_get(&w->closed),
			    (unsigned long long)sb_get(&w->peer_eofs),
			    (unsigned long long)sb_get(&w->resets),
			    (unsigned long long)sb_get(&w->bytes_in),
			    (unsigned long long)sb_get(&w->bytes_out));
		fprintf(f, "\n");
	}
}

static void
ctl_status_common(struct ctl_client *c, int all)
{
	char	*buf;
	size_t	 len;
	FILE	*f;

	if ((f = ctl_body(&buf, &len)) == NULL) {
		ctl_done(c, "out of memory");
		return;
	}
	if (c->json)
		ctl_status_json(f, all);
	else
		ctl_status_text(f, all);
	ctl_send_body(c, f, &buf, &len);
	ctl_done(c, NULL);
}

static void
cmd_status(struct ctl_client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ctl_status_common(c, 0);
}

static void
cmd_workers(struct ctl_client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ctl_status_common(c, 1);
}

/* pause/resume [WORKER] */
static void
cmd_pause(struct ctl_client *c, int argc, char **argv)
{
	struct ctl_wait	*w;
	struct slot	*only = NULL;
	int		 pause = strcmp(argv[0], "pause") == 0, i;

	if (argc == 2 && (only = ctl_worker_arg(c, argv[1])) == NULL)
		return;
	if ((w = ctl_wait_new(c, pause ? CHAN_PAUSE : CHAN_RESUME)) == NULL)
		return;
	if (only == NULL)
		master.conf.set.paused = pause;
	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		if (only != NULL && only != &master.slot[i])
			continue;
		master.slot[i].set.paused = pause;
		if (master.slot[i].pid != 0)
			ctl_wait_send(w, &master.slot[i], NULL);
	}
	ctl_wait_arm(w);
}

static void
ctl_runtime_names(char *buf, size_t len)
{
	const char	*name;
	int		 i;

	buf[0] = '\0';
	for (i = 0; (name = conf_runtime_name(i)) != NULL; i++) {
		if (i > 0)
			strlcat(buf, ", ", len);
		strlcat(buf, name, len);
	}
}

/* set NAME VALUE [WORKER]: checked here first, so errors come at once. */
static void
cmd_set(struct ctl_client *c, int argc, char **argv)
{
	struct settings	 check = master.conf.set;
	struct ctl_wait	*w;
	struct slot	*only = NULL;
	char		 why[512], names[256], line[CHAN_PAYLOAD_MAX];
	int		 i;

	if (!conf_is_runtime(argv[1])) {
		ctl_runtime_names(names, sizeof(names));
		snprintf(why, sizeof(why), "\"%.64s\" cannot be set at run "
		    "time; these can: %s", argv[1], names);
		ctl_done(c, why);
		return;
	}
	if (conf_set_settings(&check, argv[1], argv[2], why,
	    sizeof(why)) == -1) {
		ctl_done(c, why);
		return;
	}
	if (argc == 4) {
		if (strcmp(argv[1], "accept-rate") == 0) {
			ctl_done(c, "accept-rate is for the whole daemon; "
			    "leave out the worker");
			return;
		}
		if ((only = ctl_worker_arg(c, argv[3])) == NULL)
			return;
	}
	if ((w = ctl_wait_new(c, CHAN_SET)) == NULL)
		return;
	if (only == NULL) {
		if (check.accept_rate != master.conf.set.accept_rate)
			scoreboard_set_rate(master.sb, check.accept_rate);
		master.conf.set = check;
	}
	snprintf(line, sizeof(line), "%s %s", argv[1], argv[2]);
	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		if (only != NULL && only != &master.slot[i])
			continue;
		conf_set_settings(&master.slot[i].set, argv[1], argv[2], why,
		    sizeof(why));
		if (master.slot[i].pid != 0)
			ctl_wait_send(w, &master.slot[i], line);
	}
	ctl_wait_arm(w);
}

static void
cmd_config(struct ctl_client *c, int argc, char **argv)
{
	char	*buf, *text = NULL, *line, *p, *value;
	size_t	 len, tlen;
	FILE	*f, *t;
	int	 first = 1;

	(void)argc;
	(void)argv;
	if ((f = ctl_body(&buf, &len)) == NULL ||
	    (t = open_memstream(&text, &tlen)) == NULL) {
		if (f != NULL)
			ctl_send_body(c, f, &buf, &len);
		ctl_done(c, "out of memory");
		return;
	}
	conf_print(t, &master.conf);
	fclose(t);
	if (!c->json)
		fputs(text, f);
	else {
		fputc('{', f);
		for (p = text; (line = strsep(&p, "\n")) != NULL;) {
			if ((value = strchr(line, ' ')) == NULL)
				continue;
			*value++ = '\0';
			fprintf(f, "%s", first ? "" : ",");
			json_str(f, line);
			fputc(':', f);
			json_str(f, value);
			first = 0;
		}
		fputs("}\n", f);
	}
	free(text);
	ctl_send_body(c, f, &buf, &len);
	ctl_done(c, NULL);
}

struct ctl_sockets {
	FILE		*conns;
	int		 json;
	int		 n;
	unsigned int	 server[KV_NSTATES];
	unsigned int	 client[KV_NSTATES];
};

static void
ctl_socket_one(const struct kview_socket *k, void *arg)
{
	struct ctl_sockets	*cs = arg;
	char			 local[80], peer[80];
	const char		*side = k->side ? "client" : "server";

	if (k->state <= 0 || k->state >= KV_NSTATES)
		return;
	(k->side ? cs->client : cs->server)[k->state]++;
	sockaddr_format((const union sockaddr_any *)&k->local, local,
	    sizeof(local));
	sockaddr_format((const union sockaddr_any *)&k->peer, peer,
	    sizeof(peer));
	if (cs->json)
		fprintf(cs->conns, "%s{\"side\":\"%s\",\"state\":\"%s\","
		    "\"recv_q\":%u,\"send_q\":%u,\"local\":\"%s\","
		    "\"peer\":\"%s\"}", cs->n ? "," : "", side,
		    kview_state_name(k->state), k->rqueue, k->wqueue, local,
		    peer);
	else
		fprintf(cs->conns, "%-6s %-12s %7u %7u  %-22s %s\n", side,
		    kview_state_name(k->state), k->rqueue, k->wqueue, local,
		    peer);
	cs->n++;
}

static void
ctl_state_counts(FILE *f, const unsigned int *count, int json)
{
	int i, first = 1;

	for (i = 1; i < KV_NSTATES; i++) {
		if (count[i] == 0)
			continue;
		if (json)
			fprintf(f, "%s\"%s\":%u", first ? "" : ",",
			    kview_state_name(i), count[i]);
		else
			fprintf(f, "%s%s %u", first ? "" : ", ",
			    kview_state_name(i), count[i]);
		first = 0;
	}
	if (first && !json)
		fprintf(f, "none");
}

static void
cmd_sockets(struct ctl_client *c, int argc, char **argv)
{
	struct ctl_sockets	 cs;
	const struct sockaddr_in *sin;
	char			*buf, *cbuf = NULL, why[256];
	size_t			 len, clen;
	unsigned int		 q, l;
	FILE			*f;

	(void)argc;
	(void)argv;
	memset(&cs, 0, sizeof(cs));
	cs.json = c->json;
	sin = (const struct sockaddr_in *)&master.conf.listen_addr;
	if ((cs.conns = open_memstream(&cbuf, &clen)) == NULL) {
		ctl_done(c, "out of memory");
		return;
	}
	if (kview_sockets(ntohs(sin->sin_port), ctl_socket_one, &cs) == -1) {
		fclose(cs.conns);
		free(cbuf);
		snprintf(why, sizeof(why), "socket list: %s", strerror(errno));
		ctl_done(c, why);
		return;
	}
	fclose(cs.conns);
	if ((f = ctl_body(&buf, &len)) == NULL) {
		free(cbuf);
		ctl_done(c, "out of memory");
		return;
	}
	ctl_listen_queue(NULL, &q, &l);
	if (c->json) {
		fprintf(f, "{\"listen\":{\"address\":");
		json_str(f, master.conf.listen);
		fprintf(f, ",\"queue\":%u,\"backlog\":%u},\"states\":{", q, l);
		ctl_state_counts(f, cs.server, 1);
		fprintf(f, "},\"client_states\":{");
		ctl_state_counts(f, cs.client, 1);
		fprintf(f, "},\"connections\":[%s]}\n", cbuf);
	} else {
		fprintf(f, "listen %s: accept queue %u of %u\n",
		    master.conf.listen, q, l);
		fprintf(f, "server side: ");
		ctl_state_counts(f, cs.server, 0);
		fprintf(f, "\nclient side: ");
		ctl_state_counts(f, cs.client, 0);
		fprintf(f, "\n%-6s %-12s %7s %7s  %-22s %s\n%s", "side",
		    "state", "recv-q", "send-q", "local", "peer", cbuf);
	}
	free(cbuf);
	ctl_send_body(c, f, &buf, &len);
	ctl_done(c, NULL);
}

static void
cmd_counters(struct ctl_client *c, int argc, char **argv)
{
	struct kview_counters	 now;
	const struct kview_counter_name *n;
	unsigned long long	 v, v0;
	int			 i;
	char			*buf, why[256];
	size_t			 len;
	FILE			*f;

	(void)argc;
	(void)argv;
	if (kview_counters(&now) == -1) {
		snprintf(why, sizeof(why), "kernel counters: %s",
		    strerror(errno));
		ctl_done(c, why);
		return;
	}
	if ((f = ctl_body(&buf, &len)) == NULL) {
		ctl_done(c, "out of memory");
		return;
	}
	if (c->json)
		fputc('{', f);
	else
		fprintf(f, "%-22s %12s %12s\n", "counter", "value",
		    "since-start");
	for (i = 0; i < KVIEW_NCOUNTERS; i++) {
		n = &kview_counter_names[i];
		v = *(const unsigned long long *)((const char *)&now +
		    n->offset);
		v0 = *(const unsigned long long *)((const char *)
		    &counters_at_start + n->offset);
		if (c->json)
			fprintf(f, "%s\"%s\":{\"value\":%llu,\"delta\":%llu}",
			    i == 0 ? "" : ",", n->name, v,
			    v - v0);
		else
			fprintf(f, "%-22s %12llu %12llu\n", n->name, v, v - v0);
	}
	if (c->json)
		fputs("}\n", f);
	ctl_send_body(c, f, &buf, &len);
	ctl_done(c, NULL);
}

/* trace: "ok", then one line per event until the client goes away. */
static void
cmd_trace(struct ctl_client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ctl_done(c, NULL);
	c->trace = 1;
	if (ntracers++ == 0)
		atomic_store(&master.sb->trace, 1);
}

static void
cmd_scale(struct ctl_client *c, int argc, char **argv)
{
	struct ctl_wait	*w;
	struct slot	*s;
	const char	*errstr;
	char		 why[128];
	int		 n, i, before[CONF_WORKERS_MAX];

	(void)argc;
	n = strtonum(argv[1], 1, CONF_WORKERS_MAX, &errstr);
	if (errstr != NULL) {
		snprintf(why, sizeof(why), "scale: \"%.32s\" is %s (1..%d)",
		    argv[1], errstr, CONF_WORKERS_MAX);
		ctl_done(c, why);
		return;
	}
	if (master.stopping) {
		ctl_done(c, "stopping");
		return;
	}
	if ((w = ctl_wait_new(c, CHAN_STOP)) == NULL)
		return;
	for (i = 0; i < CONF_WORKERS_MAX; i++)
		before[i] = master.slot[i].pid;
	master_scale(n);
	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		s = &master.slot[i];
		/*
		 * New ones owe "ready" (so does one still draining that is
		 * wanted again: it is replaced once it exits); retired ones
		 * the answer to their STOP: they stopped accepting.
		 */
		if ((before[i] == 0 && s->pid != 0) ||
		    (s->wanted && s->retiring))
			ctl_wait_ready(w, s);
		else if (before[i] != 0 && !s->wanted && s->stop_seq != 0) {
			w->seq[i] = s->stop_seq;
			w->waiting[i] = 1;
			w->pending++;
		}
	}
	ctl_wait_arm(w);
}

static void
cmd_drop(struct ctl_client *c, int argc, char **argv)
{
	struct ctl_wait	*w;
	int		 i;

	(void)argc;
	if (strcmp(argv[1], "close-wait") != 0 && strcmp(argv[1], "idle") != 0 &&
	    strcmp(argv[1], "all") != 0) {
		ctl_done(c, "usage: drop close-wait|idle|all");
		return;
	}
	if ((w = ctl_wait_new(c, CHAN_DROP)) == NULL)
		return;
	for (i = 0; i < CONF_WORKERS_MAX; i++)
		if (master.slot[i].pid != 0)
			ctl_wait_send(w, &master.slot[i], argv[1]);
	ctl_wait_arm(w);
}

static void
cmd_reload(struct ctl_client *c, int argc, char **argv)
{
	char why[512];

	(void)argc;
	(void)argv;
	ctl_done(c, master_reload(why, sizeof(why)) == -1 ? why : NULL);
}

static void
cmd_stop(struct ctl_client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ctl_done(c, NULL);
	c->closing = 1;
	master_stop();
}

static void
cmd_help(struct ctl_client *c, int argc, char **argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	if (c->json) {
		ctl_printf(c, "{\"commands\":[");
		for (i = 0; i < CTL_NCMDS; i++)
			ctl_printf(c, "%s\"%s\"", i ? "," : "",
			    ctl_cmds[i].usage);
		ctl_printf(c, ",\"watch [INTERVAL [COUNT]]\"]}\n");
	} else {
		ctl_printf(c, "commands (a prefix picks the first that "
		    "matches; \"-j\" before one asks for JSON):\n");
		for (i = 0; i < CTL_NCMDS; i++)
			ctl_printf(c, "  %s\n", ctl_cmds[i].usage);
		ctl_printf(c, "  watch [INTERVAL [COUNT]]   (acceptctl: "
		    "status and sockets again and again)\n");
	}
	ctl_done(c, NULL);
}

static void
cmd_version(struct ctl_client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (c->json)
		ctl_printf(c, "{\"version\":\"%s\"}\n", ACCEPTD_VERSION);
	else
		ctl_printf(c, "acceptd %s\n", ACCEPTD_VERSION);
	ctl_done(c, NULL);
}

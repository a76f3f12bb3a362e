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
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "json.h"
#include "log.h"
#include "master.h"
#include "os.h"

#define CTL_CLIENTS_MAX	64
#define CTL_REFUSED_MAX	256		/* refused clients not yet closed */
#define CTL_REFUSED_MS	1000		/* how long one may take to read why */
#define CTL_OUT_MAX	(1024 * 1024)	/* a reader this far behind is cut */
#define CTL_TRACE_BEHIND (4 * CTL_OUT_MAX) /* a tracer this far loses lines */
#define CTL_STREAM_LOW	(64 * 1024)	/* a long answer is made this far ahead */
#define CTL_ACK_MS	3000		/* workers answer within this */
#define CTL_ARGS_MAX	8
#define CTL_BACKOFF_MS	100		/* after EMFILE on accept */

static TAILQ_HEAD(, ctl_client)	 clients = TAILQ_HEAD_INITIALIZER(clients);
static int			 nclients, nrefused;
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
static void	ctl_stream_fill(struct ctl_client *, int);
static void	ctl_trace_one(struct ctl_client *, const char *, char **,
		    size_t *);

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
		fd = os_socket(AF_UNIX, SOCK_STREAM, 0, 0);
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
	fd = os_socket(AF_UNIX, SOCK_STREAM, 0, OS_NONBLOCK);
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
	ctl_trace_init(loop);
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
	ev_set(ctl_loop, c->fd, (c->req == NULL && c->more == NULL &&
	    !c->closing ? EV_READ : 0) |
	    (c->out_len > 0 || c->more != NULL ? EV_WRITE : 0), ctl_io, c);
}

/* Queue bytes for a client; one too far behind is dropped, not waited on. */
static void
ctl_write(struct ctl_client *c, const char *data, size_t len)
{
	char	*p;
	size_t	 cap;

	if (c->dead)
		return;
	if (c->out_len - c->out_off + len > (c->trace ? 2 * CTL_TRACE_BEHIND :
	    CTL_OUT_MAX)) {
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
	if (c->action[0] != '\0' && error == NULL)
		ctl_trace_action(c->action);
	c->action[0] = '\0';
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

/*
 * A long answer (sockets) is made piece by piece as the client reads it,
 * so its length has no bound and the master holds little of it.  more()
 * adds a piece and returns 1, or returns 0 once it has added the last;
 * with stop set it only frees what it holds.  "ok" follows the last.
 * Later (from the client's write event) the lines that came meanwhile
 * run too; at first, ctl_process is still running them.
 */
static void
ctl_stream_fill(struct ctl_client *c, int later)
{
	while (c->more != NULL && !c->dead &&
	    c->out_len - c->out_off < CTL_STREAM_LOW) {
		if (c->more(c, c->more_arg, 0) == 0) {
			c->more = NULL;
			ctl_done(c, NULL);
			if (later && !c->dead)
				ctl_process(c);
			return;
		}
	}
	ctl_flush(c);
}

void
ctl_stream(struct ctl_client *c, int (*more)(struct ctl_client *, void *,
    int), void *arg)
{
	c->more = more;
	c->more_arg = arg;
	ctl_stream_fill(c, 0);
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
	while ((cfd = os_accept(fd, NULL, NULL, OS_NONBLOCK)) != -1) {
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
	if (c->req != NULL)		/* the workers' answers go nowhere */
		proc_req_forget(c->req);
	if (c->more != NULL)
		c->more(c, c->more_arg, 1);
	ctl_trace_stop(c);
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
	if (events & EV_WRITE) {
		ctl_flush(c);
		if (c->more != NULL && !c->dead)
			ctl_stream_fill(c, 1);
	} else {
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
	char	*nl, *argv[CTL_ARGS_MAX + 1];
	size_t	 used;
	int	 argc;

	if (c->refused != NULL) {	/* it has been told; now it may go */
		c->in_len = 0;
		c->closing = 1;
		ctl_flush(c);
		return;
	}
	while (c->req == NULL && c->more == NULL && !c->trace &&
	    !c->closing && !c->dead &&
	    (nl = memchr(c->in, '\n', c->in_len)) != NULL) {
		*nl = '\0';
		used = nl - c->in + 1;
		if (c->discarding) {
			c->discarding = 0;
			ctl_done(c, "line too long (the limit is 4096 bytes)");
		} else if ((argc = ctlproto_split(c->in, argv, CTL_ARGS_MAX,
		    &c->json)) > 0)
			ctl_run(c, argc, argv);
		else if (argc == 0)
			ctl_done(c, "empty command; try \"help\"");
		else
			ctl_done(c, "too many words (a command takes at most "
			    "7 arguments)");
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
	size_t i;

	if ((*cmd = ctlproto_lookup(word, why, len)) == NULL)
		return NULL;
	for (i = 0; i < ctl_nhandlers; i++)
		if (strcmp((*cmd)->name, ctl_handlers[i].name) == 0)
			return &ctl_handlers[i];
	snprintf(why, len, "%s is acceptctl's own (it asks for status and "
	    "sockets)", (*cmd)->name);
	return NULL;
}

/* The commands that change the daemon are traced once they took effect. */
static void
ctl_note_action(struct ctl_client *c, int argc, char **argv)
{
	static const char *const actions[] = { "pause", "resume", "set",
	    "scale", "drop", "reload", "stop", "mark" };
	size_t	i;
	int	j;

	c->action[0] = '\0';
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(argv[0], actions[i]) == 0)
			break;
	if (i == sizeof(actions) / sizeof(actions[0]))
		return;
	for (j = 0; j < argc; j++) {
		if (j > 0)
			strlcat(c->action, " ", sizeof(c->action));
		strlcat(c->action, argv[j], sizeof(c->action));
	}
}

static void
ctl_run(struct ctl_client *c, int argc, char **argv)
{
	const struct ctl_handler	*h;
	const struct ctlproto_cmd	*cmd;
	char				 why[CTLPROTO_WHY_MAX];

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
	ctl_note_action(c, argc, argv);
	h->run(c, argc, argv);
}

/* Waiting for the workers */

static void
ctl_req_done(struct proc_req *req, void *arg)
{
	struct ctl_client *c = arg;

	c->req = NULL;
	if (c->answer != NULL)
		c->answer(c, req);
	else
		ctl_done(c, proc_req_error(req));
	if (!c->dead)		/* the lines sent meanwhile */
		ctl_process(c);
	if (c->dead)
		ctl_close(c);
}

/*
 * A request whose answer goes to c once every worker named has answered;
 * answer() writes it (NULL: "ok" or the error).  NULL if out of memory,
 * and c has been told.
 */
struct proc_req *
ctl_req_new(struct ctl_client *c,
    void (*answer)(struct ctl_client *, struct proc_req *))
{
	struct proc_req *req;

	if ((req = proc_req_new(ctl_req_done, c)) == NULL) {
		ctl_done(c, "out of memory");
		return NULL;
	}
	c->answer = answer;
	return req;
}

/* Every message is sent: stop reading c's lines until the answer. */
void
ctl_req_wait(struct ctl_client *c, struct proc_req *req)
{
	c->req = req;
	ctl_flush(c);
	proc_req_start(req, CTL_ACK_MS);
}

/*
 * A trace line (control_trace.c) to one client, or with NULL to each.  A
 * reader more than CTL_TRACE_BEHIND behind loses lines instead of being
 * cut off, and is told how many once it has caught up.
 */
void
ctl_trace_send(struct ctl_client *only, const char *line)
{
	struct ctl_client	*c, *next;
	char			*buf = NULL, lost[128];
	size_t			 len;

	for (c = TAILQ_FIRST(&clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (!c->trace || (only != NULL && c != only))
			continue;
		if (c->out_len - c->out_off > CTL_TRACE_BEHIND) {
			c->trace_lost++;
			continue;
		}
		if (c->trace_lost > 0 &&
		    c->out_len - c->out_off < CTL_TRACE_BEHIND / 2) {
			/* Stamped as the line after the gap: in order. */
			snprintf(lost, sizeof(lost), "%.*s - - - lost %llu trace "
			    "lines: this reader fell behind",
			    (int)strcspn(line, " "), line,
			    (unsigned long long)c->trace_lost);
			c->trace_lost = 0;
			ctl_trace_one(c, lost, &buf, &len);
		}
		ctl_trace_one(c, line, &buf, &len);
		ctl_flush(c);
		if (c->dead && only == NULL)	/* else its own caller's */
			ctl_close(c);
	}
}

static void
ctl_trace_one(struct ctl_client *c, const char *line, char **buf,
    size_t *len)
{
	FILE	*f;

	if (!c->json)
		ctl_printf(c, "%s\n", line);
	else if ((f = ctl_body(buf, len)) != NULL) {
		if (ctl_trace_json(f, line) == -1)
			*len = 0;
		ctl_send_body(c, f, buf, len);
	}
}

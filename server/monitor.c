/*
 * The monitor listener: read-only HTTP/1.1 in the master's loop for
 * /metrics, /status.json and the live page.  Nothing a client does can
 * block the master: requests, clients, replies and time are bounded, and
 * every socket is non-blocking.  One request per connection.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "monitor.h"
#include "os.h"

#define MON_CLIENTS_MAX	32
#define MON_REQUEST_MAX	4096		/* a longer head is 431 */
#define MON_READ_MS	5000		/* to send the request head */
#define MON_WRITE_MS	10000		/* to take the whole reply */
#define MON_LINGER_MS	1000		/* to close after our FIN */
#define MON_BODY_MAX	(4 * 1024 * 1024)
#define MON_BACKOFF_MS	100		/* after EMFILE on accept */

enum mon_phase { MON_READING, MON_WRITING, MON_LINGERING };

struct mon_client {
	int			 fd;
	enum mon_phase		 phase;
	size_t			 in_len;
	char			 in[MON_REQUEST_MAX];
	char			*out;
	size_t			 out_len;
	size_t			 out_off;
	struct ev_timer		 timer;
	TAILQ_ENTRY(mon_client)	 entry;
};

static TAILQ_HEAD(, mon_client)	 clients =
				    TAILQ_HEAD_INITIALIZER(clients);
static int			 nclients;
static int			 mon_fd = -1;
static struct ev_loop		*mon_loop;
static struct ev_timer		 mon_accept_timer;

static int	mon_bind(const struct conf *, char *, size_t);
static void	mon_listen(void);
static void	mon_unlisten(void);
static void	mon_accept(struct ev_loop *, int, int, void *);
static void	mon_accept_again(struct ev_loop *, struct ev_timer *,
		    void *);
static void	mon_refuse(int);
static void	mon_io(struct ev_loop *, int, int, void *);
static void	mon_expire(struct ev_loop *, struct ev_timer *, void *);
static void	mon_read(struct mon_client *);
static void	mon_request(struct mon_client *);
static int	mon_request_line(char *, const char **, char **, int *);
static void	mon_route(struct mon_client *, const char *, int);
static void	mon_reply(struct mon_client *, int, const char *,
		    const char *, size_t, int, const char *);
static void	mon_error(struct mon_client *, int, const char *,
		    const char *);
static void	mon_flush(struct mon_client *);
static void	mon_drain(struct mon_client *);
static void	mon_close(struct mon_client *);

int
monitor_open(const struct conf *conf, char *why, size_t len)
{
	if (conf->monitor[0] == '\0')
		return 0;
	if ((mon_fd = mon_bind(conf, why, len)) == -1)
		return -1;
	return 0;
}

void
monitor_start(struct ev_loop *loop)
{
	mon_loop = loop;
	ev_timer_init(&mon_accept_timer, mon_accept_again, NULL);
	mon_listen();
}

void
monitor_reload(struct conf *cur, const struct conf *new)
{
	char	why[512], again[512];
	int	fd;

	if (strcmp(cur->monitor, new->monitor) == 0)
		return;
	if (new->monitor[0] == '\0') {
		log_info("reload: monitor on %s closed", cur->monitor);
		mon_unlisten();
		cur->monitor[0] = '\0';
		return;
	}
	fd = mon_bind(new, why, sizeof(why));
	if (fd == -1 && errno == EADDRINUSE && mon_fd != -1) {
		/* The same port on another address: let the old one go. */
		mon_unlisten();
		fd = mon_bind(new, why, sizeof(why));
		if (fd == -1 && (mon_fd = mon_bind(cur, again,
		    sizeof(again))) == -1)
			cur->monitor[0] = '\0';
		mon_listen();
	}
	if (fd == -1) {
		log_warnx("reload: %s; monitor %s", why, cur->monitor[0] ?
		    "stays on the previous address" : "is off");
		return;
	}
	log_info("reload: monitor on %s%s%s", new->monitor,
	    cur->monitor[0] ? ", was " : "", cur->monitor);
	mon_unlisten();
	mon_fd = fd;
	mon_listen();
	memcpy(cur->monitor, new->monitor, sizeof(cur->monitor));
	cur->monitor_addr = new->monitor_addr;
	cur->monitor_len = new->monitor_len;
}

/* Listener */

static int
mon_bind(const struct conf *conf, char *why, size_t len)
{
	int	fd, on = 1, saved;

	fd = os_socket(conf->monitor_addr.ss_family, SOCK_STREAM, 0,
	    OS_NONBLOCK);
	if (fd == -1) {
		saved = errno;
		snprintf(why, len, "monitor: socket for %s: %s", conf->monitor,
		    strerror(errno));
		errno = saved;
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (conf->monitor_addr.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	if (bind(fd, (const struct sockaddr *)&conf->monitor_addr,
	    conf->monitor_len) == -1 || listen(fd, 64) == -1) {
		saved = errno;
		snprintf(why, len, "monitor: cannot listen on %s: %s%s",
		    conf->monitor, strerror(errno), errno == EADDRINUSE ?
		    " (another program has it; change monitor)" : "");
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static void
mon_listen(void)
{
	if (mon_fd == -1 || mon_loop == NULL)
		return;
	if (ev_set(mon_loop, mon_fd, EV_READ, mon_accept, NULL) == -1)
		fatal("monitor: poll listener");
}

/* Clients already served finish on their own deadlines. */
static void
mon_unlisten(void)
{
	if (mon_fd == -1)
		return;
	ev_timer_stop(mon_loop, &mon_accept_timer);
	ev_set(mon_loop, mon_fd, 0, NULL, NULL);
	close(mon_fd);
	mon_fd = -1;
}

static void
mon_accept(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct mon_client	*c;
	int			 cfd;

	(void)events;
	(void)arg;
	while ((cfd = os_accept(fd, NULL, NULL, OS_NONBLOCK)) != -1) {
		if (nclients >= MON_CLIENTS_MAX) {
			mon_refuse(cfd);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(cfd);
			continue;
		}
		c->fd = cfd;
		c->phase = MON_READING;
		if (ev_set(loop, cfd, EV_READ, mon_io, c) == -1) {
			log_warn("monitor: poll client");
			close(cfd);
			free(c);
			continue;
		}
		TAILQ_INSERT_TAIL(&clients, c, entry);
		nclients++;
		ev_timer_init(&c->timer, mon_expire, c);
		ev_timer_start(loop, &c->timer, MON_READ_MS);
	}
	if (errno == EMFILE || errno == ENFILE) {
		/* Out of descriptors: listen again later, do not spin. */
		log_warn("monitor: accept");
		ev_set(loop, fd, 0, NULL, NULL);
		ev_timer_start(loop, &mon_accept_timer, MON_BACKOFF_MS);
	}
}

static void
mon_accept_again(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	(void)arg;
	mon_listen();
}

/* One try to say why, never a wait. */
static void
mon_refuse(int fd)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 26\r\n"
	    "Retry-After: 1\r\nConnection: close\r\n\r\n"
	    "too many monitor clients\r\n";

	(void)send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

/* Clients */

static void
mon_io(struct ev_loop *loop, int fd, int events, void *arg)
{
	struct mon_client *c = arg;

	(void)loop;
	(void)fd;
	(void)events;
	switch (c->phase) {
	case MON_READING:
		mon_read(c);
		break;
	case MON_WRITING:
		mon_flush(c);
		break;
	case MON_LINGERING:
		mon_drain(c);
		break;
	}
}

/* Too slow: a request head not sent in time is told so, at most. */
static void
mon_expire(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	static const char slow[] = "HTTP/1.1 408 Request Timeout\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 17\r\n"
	    "Connection: close\r\n\r\nrequest timeout\r\n";
	struct mon_client *c = arg;

	(void)loop;
	(void)t;
	if (c->phase == MON_READING)
		(void)send(c->fd, slow, sizeof(slow) - 1,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	mon_close(c);
}

static void
mon_read(struct mon_client *c)
{
	ssize_t n;

	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		mon_close(c);
		return;
	}
	c->in_len += n;
	mon_request(c);
}

/*
 * Answer as soon as the request line says enough (400, 405), else once
 * the head is complete; what the client sends after is read and dropped.
 */
static void
mon_request(struct mon_client *c)
{
	char		 line[MON_REQUEST_MAX + 1], *target, *nl;
	const char	*why;
	size_t		 len;
	int		 head;

	if ((nl = memchr(c->in, '\n', c->in_len)) == NULL) {
		if (c->in_len == sizeof(c->in))
			mon_error(c, 431, "Request Header Fields Too Large",
			    "request line longer than 4096 bytes");
		return;
	}
	len = nl - c->in;
	memcpy(line, c->in, len);
	line[len] = '\0';
	if (len > 0 && line[len - 1] == '\r')
		line[len - 1] = '\0';
	switch (mon_request_line(line, &why, &target, &head)) {
	case 400:
		mon_error(c, 400, "Bad Request", why);
		return;
	case 405:
		mon_error(c, 405, "Method Not Allowed", why);
		return;
	}
	if (memmem(c->in, c->in_len, "\n\r\n", 3) == NULL &&
	    memmem(c->in, c->in_len, "\n\n", 2) == NULL) {
		if (c->in_len == sizeof(c->in))
			mon_error(c, 431, "Request Header Fields Too Large",
			    "request head longer than 4096 bytes");
		return;
	}
	mon_route(c, target, head);
}

/*
 * "METHOD /path HTTP/1.x": 0 with the path (query cut off) and whether
 * it is HEAD, or the status to answer with and why.
 */
static int
mon_request_line(char *line, const char **why, char **target, int *head)
{
	char	*method, *version, *p;

	method = line;
	if ((p = strchr(line, ' ')) == NULL) {
		*why = "not an HTTP request line";
		return 400;
	}
	*p++ = '\0';
	*target = p;
	if ((version = strchr(p, ' ')) == NULL) {
		*why = "not an HTTP request line";
		return 400;
	}
	*version++ = '\0';
	if (strncmp(version, "HTTP/1.", 7) != 0 || version[7] < '0' ||
	    version[7] > '9' || version[8] != '\0') {
		*why = "not HTTP/1.x";
		return 400;
	}
	if ((*target)[0] != '/') {
		*why = "the path must start with /";
		return 400;
	}
	for (p = method; *p != '\0'; p++)
		if (*p < 'A' || *p > 'Z') {
			*why = "not an HTTP method";
			return 400;
		}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		*why = "the monitor is read-only: GET or HEAD";
		return 405;
	}
	*head = strcmp(method, "HEAD") == 0;
	(*target)[strcspn(*target, "?#")] = '\0';
	return 0;
}

static void
mon_route(struct mon_client *c, const char *path, int head)
{
	char	*body = NULL;
	size_t	 len = 0;
	FILE	*f;

	if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
		mon_reply(c, 200, "OK", "text/html; charset=utf-8",
		    strlen(monitor_page), head, monitor_page);
		return;
	}
	if (strcmp(path, "/metrics") != 0 &&
	    strcmp(path, "/status.json") != 0) {
		mon_error(c, 404, "Not Found",
		    "not here; try /, /metrics or /status.json");
		return;
	}
	if ((f = open_memstream(&body, &len)) == NULL) {
		mon_error(c, 500, "Internal Server Error", "out of memory");
		return;
	}
	if (strcmp(path, "/metrics") == 0)
		metrics_write(f);
	else
		ctl_status_json(f, 0, 1);
	if (fclose(f) != 0 || len > MON_BODY_MAX)
		mon_error(c, 500, "Internal Server Error",
		    "reply too large or out of memory");
	else if (strcmp(path, "/metrics") == 0)
		mon_reply(c, 200, "OK", "text/plain; version=0.0.4; "
		    "charset=utf-8", len, head, body);
	else
		mon_reply(c, 200, "OK", "application/json", len, head, body);
	free(body);
}

static void
mon_error(struct mon_client *c, int status, const char *reason,
    const char *why)
{
	char	body[256];
	int	n;

	n = snprintf(body, sizeof(body), "%d %s: %s\n", status, reason, why);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = 0;
	mon_reply(c, status, reason, "text/plain; charset=utf-8", n, 0, body);
}

/* The whole reply is made at once, then written as the client takes it. */
static void
mon_reply(struct mon_client *c, int status, const char *reason,
    const char *type, size_t len, int head, const char *body)
{
	FILE *f;

	if ((f = open_memstream(&c->out, &c->out_len)) == NULL) {
		mon_close(c);
		return;
	}
	fprintf(f, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n%sConnection: close\r\n\r\n",
	    status, reason, type, len,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!head)
		fwrite(body, 1, len, f);
	if (fclose(f) != 0) {
		mon_close(c);
		return;
	}
	c->phase = MON_WRITING;
	c->out_off = 0;
	ev_timer_start(mon_loop, &c->timer, MON_WRITE_MS);
	mon_flush(c);
}

static void
mon_flush(struct mon_client *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n == -1) {
			mon_close(c);
			return;
		}
		c->out_off += n;
	}
	if (c->out_off < c->out_len) {
		if (ev_set(mon_loop, c->fd, EV_WRITE, mon_io, c) == -1)
			mon_close(c);
		return;
	}
	/* All sent: FIN, then read until the client's, so no RST eats it. */
	free(c->out);
	c->out = NULL;
	c->phase = MON_LINGERING;
	shutdown(c->fd, SHUT_WR);
	ev_timer_start(mon_loop, &c->timer, MON_LINGER_MS);
	if (ev_set(mon_loop, c->fd, EV_READ, mon_io, c) == -1)
		mon_close(c);
}

static void
mon_drain(struct mon_client *c)
{
	char	buf[4096];
	ssize_t	n = 0;
	int	i;

	for (i = 0; i < 16; i++)	/* a fast sender waits its turn */
		if ((n = recv(c->fd, buf, sizeof(buf), 0)) <= 0)
			break;
	if (i < 16 && (n == 0 || (errno != EAGAIN && errno != EINTR)))
		mon_close(c);
}

static void
mon_close(struct mon_client *c)
{
	ev_timer_stop(mon_loop, &c->timer);
	ev_set(mon_loop, c->fd, 0, NULL, NULL);
	close(c->fd);
	TAILQ_REMOVE(&clients, c, entry);
	nclients--;
	free(c->out);
	free(c);
}

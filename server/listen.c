/*
 * Listening sockets: one shared by every worker, or one per worker slot
 * with SO_REUSEPORT, each with its own accept queue; with several listen
 * addresses, a struct listener holds one socket for each, and each
 * address has its own reuseport group.  Its sockets open, retire and
 * close together, so every group has the same order.
 *
 * A socket that must go (a slot scaled away, an accept-kind switch) would
 * reset the connections queued on it when closed, and a reuseport socket
 * keeps receiving new ones until then.  So it is first retired: the
 * group's selector (listen_steer, per OS) sends new connections only to
 * the sockets that stay, a worker drains what reached the retired one,
 * and the master closes it when its last user is gone.  The master is
 * always the last to close, so it knows the group's order: the kernel
 * appends a socket at listen() and fills the hole a closed one leaves
 * with the last.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acceptd.h"
#include "kview.h"
#include "log.h"
#include "os.h"

/* Every slot's socket, and one for each draining worker, and a shared. */
#define GROUP_MAX	(CONF_WORKERS_MAX + SB_WORKERS + 1)

static LIST_HEAD(, listener)	 listeners = LIST_HEAD_INITIALIZER(listeners);
static struct listener		*group[GROUP_MAX];	/* kernel order */
static int			 ngroup;
static char			 listen_name[CONF_LISTEN_MAX][128];
static int			 migrating = -1;	/* -1: not asked yet */

static void	listen_steer_group(void);
static void	listen_migrate_once(void);

/* Once a reuseport group forms: may a closed socket hand on its queue? */
static void
listen_migrate_once(void)
{
	int set;

	migrating = listen_migrate(&set);
	if (set)
		log_info("set net.ipv4.tcp_migrate_req to 1: a listening socket "
		    "that closes hands its queue to the others of its "
		    "reuseport group instead of resetting it");
	else if (!migrating)
		log_warnx("net.ipv4.tcp_migrate_req is off and cannot be set "
		    "here: retiring a reuseport socket under load may reset a "
		    "few queued connections");
}

/* What to do about a failed bind, said after the error. */
static const char *
listen_remedy(int error, const struct conf_listen *cl)
{
	unsigned int port = sockaddr_port(
	    (const union sockaddr_any *)&cl->addr);

	if (error == EADDRINUSE)
		return " (another acceptd or another server has it)";
	if (error == EACCES && port < 1024)
		return " (ports below 1024 need privilege: use a port of 1024 "
		    "or more, give acceptd CAP_NET_BIND_SERVICE, or start it "
		    "as root with \"user\" to drop to)";
	return "";
}

/*
 * IPV6_V6ONLY is set, whatever the system's default (net.ipv6.bindv6only,
 * the BSDs' net.inet6.ip6.v6only): [::]:P takes IPv6 only, and 0.0.0.0:P
 * can be listed beside it.
 */
static int
listen_socket(const struct conf_listen *cl, int reuseport, char *err,
    size_t len)
{
	int fd, on = 1;

	fd = os_socket(cl->addr.ss_family, SOCK_STREAM, 0, OS_NONBLOCK);
	if (fd == -1) {
		snprintf(err, len, "socket for %s: %s", cl->text,
		    strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (reuseport && listen_reuseport(fd, 1) == -1) ||
	    (cl->addr.ss_family == AF_INET6 && setsockopt(fd,
	    IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)) {
		snprintf(err, len, "setsockopt on %s: %s", cl->text,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)&cl->addr, cl->len) == -1) {
		snprintf(err, len, "cannot listen on %s: %s%s", cl->text,
		    strerror(errno), listen_remedy(errno, cl));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Out of its groups now, even if a child forked a moment ago still holds
 * the descriptor until its closefrom.
 */
static void
listen_close(int fd)
{
	shutdown(fd, SHUT_RDWR);
	close(fd);
}

/* SO_REUSEPORT (or the platform's balancing kind) on each socket of l. */
static int
listener_reuseport(struct listener *l, int on)
{
	int i, r = 0;

	for (i = 0; i < l->nfd; i++)
		if (listen_reuseport(l->fd[i], on) == -1)
			r = -1;
	return r;
}

/*
 * A shared socket opened while reuseport sockets are bound, or one that
 * reuseport sockets are about to join, needs SO_REUSEPORT too; the kernel
 * then makes the group around it, first in order.
 */
static void
listen_join_shared(void)
{
	struct listener *l;

	if (ngroup > 0)
		return;
	LIST_FOREACH(l, &listeners, entry)
		if (l->reuseport && !l->in_group) {
			l->in_group = 1;
			group[ngroup++] = l;
		}
}

/* Each address's socket, bound and listening, into l; -1 with err. */
static int
listener_bind_all(struct listener *l, const struct conf *conf, char *err,
    size_t len)
{
	int i, fd;

	for (i = 0; i < conf->nlisten; i++) {
		if ((fd = listen_socket(&conf->listen[i], l->reuseport, err,
		    len)) == -1)
			goto fail;
		if (listen(fd, conf->backlog) == -1) {
			snprintf(err, len, "listen on %s: %s",
			    conf->listen[i].text, strerror(errno));
			close(fd);
			goto fail;
		}
		l->fd[l->nfd++] = fd;
		strlcpy(listen_name[i], conf->listen[i].text,
		    sizeof(listen_name[i]));
	}
	return 0;
fail:
	/* Each was the last of its group: closing it moves no other. */
	while (l->nfd > 0)
		listen_close(l->fd[--l->nfd]);
	return -1;
}

/*
 * A listening socket for each listen address, for one slot (per_slot:
 * accept reuseport) or for all workers.  NULL with the reason in err.
 */
struct listener *
listener_open(const struct conf *conf, int per_slot, char *err, size_t len)
{
	struct listener	*l;
	int		 reuseport = per_slot;

	if (!LIST_EMPTY(&listeners))	/* beside sockets that go later */
		reuseport = 1;
	if (reuseport)
		LIST_FOREACH(l, &listeners, entry)
			if (!l->reuseport && listener_reuseport(l, 1) == 0)
				l->reuseport = 1;
	if (reuseport && ngroup >= GROUP_MAX - 1) {
		snprintf(err, len, "%d listening sockets already share each "
		    "address; no more until draining workers finish", ngroup);
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, len, "listening sockets: %s", strerror(errno));
		return NULL;
	}
	l->per_slot = per_slot;
	l->reuseport = reuseport;
	if (reuseport && migrating == -1)
		listen_migrate_once();
	if (listener_bind_all(l, conf, err, len) == -1) {
		free(l);
		return NULL;
	}
	if (reuseport) {
		listen_join_shared();
		l->in_group = 1;
		group[ngroup++] = l;
	}
	LIST_INSERT_HEAD(&listeners, l, entry);
	listen_steer_group();
	return l;
}

/*
 * SO_REUSEPORT lets a second process of the same user join our group
 * silently; a plain bind first makes "port in use" an error as it
 * should be.  Each address alone: listener_open binds them all.
 */
int
listen_probe(const struct conf *conf, char *err, size_t len)
{
	int i, fd;

	for (i = 0; i < conf->nlisten; i++) {
		if ((fd = listen_socket(&conf->listen[i], 0, err, len)) == -1)
			return -1;
		close(fd);
	}
	return 0;
}

void
listener_hold(struct listener *l)
{
	l->users++;
}

/* New connections go to the other sockets from now on. */
void
listener_retire(struct listener *l)
{
	if (l->retiring)
		return;
	l->retiring = 1;
	listen_steer_group();
}

/* Steer each address's group alike: their orders are the same. */
static void
listen_steer_all(const int *keep, int n)
{
	int i;

	for (i = 0; i < group[0]->nfd; i++)
		if (listen_steer(group[0]->fd[i], keep, n) == -1) {
			log_warn("steering new connections on %s away from "
			    "retired sockets", listen_name[i]);
			return;
		}
}

/*
 * Before l leaves the group, steer by indices that name the same sockets
 * before and after: not l's, and not the last, which the kernel moves
 * into l's place.  (If only the last stays, the old program serves the
 * moment in between.)
 */
static void
listen_steer_around(int i)
{
	int	keep[GROUP_MAX];
	int	j, n = 0;

	for (j = 0; j < ngroup; j++)
		if (j != i && j != ngroup - 1 && !group[j]->retiring)
			keep[n++] = j;
	if (n > 0)
		listen_steer_all(keep, n);
}

static void
listen_leave_group(struct listener *l)
{
	int i;

	for (i = 0; i < ngroup; i++)
		if (group[i] == l) {
			listen_steer_around(i);
			group[i] = group[--ngroup];
			break;
		}
}

/*
 * The last user is gone: close it, saying what a close would reset.
 * Each socket is shut down before it is closed (listen_close), where the
 * group's order says it is gone.
 */
void
listener_release(struct listener *l)
{
	unsigned int	queue, limit;
	int		i;

	if (--l->users > 0)
		return;
	for (i = 0; i < l->nfd; i++) {
		if (kview_listen_queue(l->fd[i], &queue, &limit) == -1 ||
		    queue == 0)
			continue;
		if (migrating == 1 && l->in_group && ngroup > 1)
			log_info("closing a listening socket on %s with %u "
			    "connections queued: the kernel moves them to "
			    "another socket of its group", listen_name[i],
			    queue);
		else
			log_warnx("closing a listening socket on %s with %u "
			    "connections queued: the kernel resets them",
			    listen_name[i], queue);
	}
	if (l->in_group)
		listen_leave_group(l);
	for (i = 0; i < l->nfd; i++)
		listen_close(l->fd[i]);
	LIST_REMOVE(l, entry);
	free(l);
	/* Alone again: the port is ours only, as a plain bind makes it. */
	if ((l = LIST_FIRST(&listeners)) != NULL &&
	    LIST_NEXT(l, entry) == NULL && !l->per_slot && l->reuseport) {
		listener_reuseport(l, 0);
		l->reuseport = 0;
	}
	listen_steer_group();
}

/* The group's members that stay get every new connection. */
static void
listen_steer_group(void)
{
	int	keep[GROUP_MAX];
	int	i, n = 0, retiring = 0;

	for (i = 0; i < ngroup; i++) {
		if (group[i]->retiring)
			retiring++;
		else
			keep[n++] = i;
	}
	if (ngroup == 0)
		return;
	listen_steer_all(retiring > 0 && n > 0 ? keep : NULL, n);
}

void
listener_set_backlog(int backlog)
{
	struct listener	*l;
	int		 i;

	LIST_FOREACH(l, &listeners, entry)
		for (i = 0; i < l->nfd; i++)
			if (listen(l->fd[i], backlog) == -1)
				log_warn("backlog %d on %s", backlog,
				    listen_name[i]);
}

/*
 * The queue of listen address i, over every socket it has (the shared
 * one, or each slot's), and its limit over those that stay.
 */
void
listener_queue(int i, unsigned int *queue, unsigned int *limit)
{
	struct listener	*l;
	unsigned int	 q, lim;

	*queue = *limit = 0;
	LIST_FOREACH(l, &listeners, entry)
		if (i < l->nfd &&
		    kview_listen_queue(l->fd[i], &q, &lim) == 0) {
			*queue += q;
			if (!l->retiring)
				*limit += lim;
		}
}

/* Every listener's queue, added up: what waits for accept() now. */
void
listener_queues(unsigned int *queue, unsigned int *limit)
{
	unsigned int	q, lim;
	int		i;

	*queue = *limit = 0;
	for (i = 0; i < CONF_LISTEN_MAX; i++) {
		listener_queue(i, &q, &lim);
		*queue += q;
		*limit += lim;
	}
}

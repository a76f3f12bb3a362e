/*
 * acceptd: what the daemon's files share.  The master (master.c) owns the
 * listening sockets and the workers; each worker (worker.c) accepts and
 * serves connections (conn.c) on its own event loop.
 */
#ifndef ACCEPTD_H
#define ACCEPTD_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdatomic.h>
#include <stdint.h>

#include "channel.h"
#include "conf.h"
#include "ctlproto.h"	/* ACCEPTD_VERSION */
#include "ev.h"
#include "scoreboard.h"
#include "sockaddr.h"

#define WORKER_CHANNEL_FD	3
#define WORKER_LISTEN_FD	4	/* a worker's sockets: 4, 5, ... */

/*
 * Listening sockets, one for each listen address (fd[i] for conf's
 * listen[i]), and who uses them (listen.c).  Retired: new connections go
 * elsewhere; they close when the last user lets go.
 */
struct listener {
	int			 fd[CONF_LISTEN_MAX];
	int			 nfd;
	int			 users;		/* slots and processes */
	int			 per_slot;	/* accept reuseport's own */
	int			 reuseport;	/* SO_REUSEPORT is set on it */
	int			 in_group;	/* the kernel's reuseport group */
	int			 retiring;
	LIST_ENTRY(listener)	 entry;
};

/* listen.c */
struct listener	*listener_open(const struct conf *, int per_slot, char *err,
		    size_t);
int		 listen_probe(const struct conf *, char *err, size_t);
void		 listener_hold(struct listener *);
void		 listener_retire(struct listener *);
void		 listener_release(struct listener *);
void		 listener_set_backlog(int);
void		 listener_queues(unsigned int *queue, unsigned int *limit);
void		 listener_queue(int i, unsigned int *queue, unsigned int *limit);
/* listen_linux.c, listen_bsd.c: keep NULL removes any steering */
int		 listen_steer(int fd, const int *keep, int n);
int		 listen_reuseport(int fd, int on);
const char	*listen_reuseport_note(void);	/* NULL: it balances */
int		 listen_migrate(int *set);	/* 1: a closed socket's queue
						   goes to the group */

/* notify.c: "READY=1", "RELOADING=1", "STOPPING=1" */
void	notify_send(const char *state);

/* title.c */
void	title_init(int argc, char **argv, char **envp);
void	title_set(const char *, ...) __attribute__((format(printf, 1, 2)));

/* worker.c */
void	worker_main(int slot, int sb, const struct conf *,
	    const struct settings *, struct scoreboard *)
	    __attribute__((noreturn));

/* master.c */
void		 master_init(struct conf *, const char *path, int verbose);
struct ev_loop	*master_start(int foreground);
int		 master_run(void);

/* control.c */
int	control_init(const char *path, char *why, size_t);
void	control_start(struct ev_loop *);
void	control_cleanup(void);

#endif

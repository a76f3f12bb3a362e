/*
 * The master's state and its public functions (master.c): slots, the
 * listeners they use, scale, settings, reload, stop.  control.c reads the
 * state to answer queries and changes it only through these functions;
 * the master never calls control.c (acceptd.c starts both).
 */
#ifndef MASTER_H
#define MASTER_H

#include <sys/types.h>

#include "acceptd.h"
#include "proc.h"

struct os_pidfile;

/* A worker's place: id, settings, and the process now serving it. */
struct slot {
	int		 id;
	int		 wanted;	/* below "workers" */
	int		 sb;		/* scoreboard entry; -1: none yet */
	struct listener	*listener;	/* reuseport: its own socket */
	unsigned int	 backoff_ms;
	unsigned int	 restarts;	/* after its worker died */
	char		 last_exit[96];	/* how the last one died */
	struct ev_timer	 respawn;
	struct settings	 set;		/* this worker's settings */
};

struct master {
	struct conf	 conf;		/* running config, as in a file */
	const char	*path;		/* absolute */
	int		 verbose;	/* -v: debug whatever the file says */
	struct ev_loop	*loop;
	struct scoreboard *sb;
	struct os_pidfile *pidfh;
	struct listener	*shared;	/* NULL with accept reuseport */
	int		 signal_pipe;
	int		 stopping;
	uint64_t	 started_ms;
	struct ev_timer	 kill_timer;
	struct slot	 slot[CONF_WORKERS_MAX];
	uint8_t		 sb_used[SB_WORKERS];
};

extern struct master	master;

/*
 * Each change names the request (proc.h) that waits for the workers'
 * answers, or NULL: nobody waits.
 */
void	master_scale(int, struct proc_req *);
void	master_setting(const char *name, const char *value, int only_slot,
	    struct proc_req *);
int	master_reload(char *why, size_t, struct proc_req *);
void	master_stop(void);
void	master_abort(const char *why) __attribute__((noreturn));
/* What this build cannot do (accept exclusive without the wake-up): -1. */
int	master_conf_check(const struct conf *, char *why, size_t);
/*
 * The ports the daemon listens on (host order, each once), into ports:
 * how many.  Kernel views and kernel events choose their sockets by these.
 */
int	master_ports(unsigned short *ports, int max);


#endif

/*
 * The master's state, shared by master.c (processes, signals, reload) and
 * control.c (the control socket, which drives the same functions).
 */
#ifndef MASTER_H
#define MASTER_H

#include <sys/types.h>

#include "acceptd.h"

struct pidfh;

struct slot {
	int		 id;
	pid_t		 pid;		/* 0: no process now */
	int		 chan;		/* master's end, -1 when none */
	int		 listen_fd;	/* reuseport: this slot's own socket */
	int		 wanted;	/* below "workers": keep one running */
	int		 retiring;	/* told to stop by scale, not gone */
	uint32_t	 stop_seq;	/* of that STOP message */
	uint64_t	 started_ms;
	unsigned int	 backoff_ms;
	struct ev_timer	 respawn;
	struct settings	 set;		/* this worker's settings */
};

struct master {
	struct conf	 conf;		/* running config, as in a file */
	const char	*path;
	int		 verbose;	/* -v: debug whatever the file says */
	struct ev_loop	*loop;
	struct scoreboard *sb;
	struct pidfh	*pidfh;
	int		 listen_fd;	/* shared listener; -1 with reuseport */
	int		 signal_pipe;
	int		 stopping;
	uint32_t	 seq;		/* of the last channel message sent */
	uint64_t	 started_ms;
	struct ev_timer	 kill_timer;
	struct slot	 slot[CONF_WORKERS_MAX];
};

extern struct master	master;

/* master.c */
int		 master_live_workers(void);
uint32_t	 master_send(struct slot *, enum chan_type, const char *);
void		 master_scale(int);
void		 master_set_backlog(void);
void		 master_setting(const char *name, const char *value,
		    struct slot *only, void (*)(struct slot *, uint32_t, void *),
		    void *);
int		 master_reload(char *why, size_t);
void		 master_stop(void);

/* control.c */
int	control_init(const char *path, char *why, size_t);
void	control_start(struct ev_loop *);
void	control_cleanup(void);
void	control_worker_gone(struct slot *);
void	control_channel(struct ev_loop *, int, int, void *);

#endif

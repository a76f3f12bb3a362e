/*
 * Worker processes as the master sees them (proc.c): forking, the
 * channel to each, requests answered by sequence number, and noticing a
 * process gone.  A request's completion is posted and run from the loop,
 * never from inside the reaping that ended it.
 *
 * Who calls whom: master.c and control.c call proc.c; proc.c calls back
 * only through the functions it was given (proc_init, proc_set_trace,
 * proc_req_new).
 */
#ifndef PROC_H
#define PROC_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>

#include "channel.h"
#include "ev.h"

struct listener;
struct scoreboard;

struct proc {
	pid_t			 pid;
	int			 slot;		/* the slot it serves or served */
	int			 sb;		/* its scoreboard entry */
	int			 chan;		/* master's end; -1 once closed */
	int			 ready;		/* it said so */
	int			 retiring;	/* told to stop; drains, exits */
	struct listener		*listener;	/* the sockets it accepts on */
	uint64_t		 started_ms;
	TAILQ_ENTRY(proc)	 entry;
};

TAILQ_HEAD(proc_list, proc);

/*
 * exited(p, status): p is gone (status as from waitpid), freed after;
 * the master's.  trace(line): one trace line from a worker; control's.
 */
void		 proc_init(struct ev_loop *, void (*exited)(struct proc *,
		    int));
void		 proc_set_trace(void (*trace)(const char *));
extern struct proc_list	procs;		/* every live child, oldest first */

/*
 * Fork a worker for slot on scoreboard entry sb: in the child, child()
 * runs with the channel as fd 3 and the listener's sockets as fds 4, 5,
 * ... (acceptd.h), and never returns.  NULL with errno on failure.
 */
struct proc	*proc_spawn(int slot, int sb, struct listener *,
		    void (*child)(int slot, int sb));
/* After SIGCHLD: reap every child that exited. */
void		 proc_reap(void);
int		 proc_count(void);
struct proc	*proc_of_slot(int slot);	/* its current, not retiring */

/*
 * A request to several workers (set, drop, stop, or waiting for new ones
 * to be ready).  done(req, arg) runs from the loop once every worker asked
 * has answered, exited or timed out; the request is freed after it.
 */
struct proc_req;
typedef void	proc_done_cb(struct proc_req *, void *arg);

struct proc_req	*proc_req_new(proc_done_cb *, void *arg);
/* Send one message to p; with req NULL, only send.  0 if it failed. */
uint32_t	 proc_req_send(struct proc_req *, struct proc *,
		    enum chan_type, const char *payload);
void		 proc_req_ready(struct proc_req *, struct proc *);
void		 proc_req_fail(struct proc_req *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* Every message has been sent: done runs when all answered. */
void		 proc_req_start(struct proc_req *, unsigned int timeout_ms);
/* The one waiting is gone: finish without calling it. */
void		 proc_req_forget(struct proc_req *);
uint32_t	 proc_generation(void);
const char	*proc_req_error(const struct proc_req *);	/* NULL: ok */
long long	 proc_req_total(const struct proc_req *);	/* drop's */

#endif

/*
 * Inside a worker: its state (worker.c) and its connections (conn.c).
 * Nothing here is known to the master.
 */
#ifndef WORKER_H
#define WORKER_H

#include <sys/queue.h>

#include <stdatomic.h>
#include <stdint.h>

#include "acceptd.h"

#define WORKER_RBUF		(64 * 1024)	/* one read buffer per worker */
#define WORKER_REPLIES_MAX	32	/* answers held for a full channel */
#define WORKER_LINGER_MS	1000	/* a retired socket's late arrivals */

/* Connection flags. */
#define CONN_EOF		0x01	/* the peer's FIN was read */
#define CONN_CLOSE_AFTER	0x02	/* close once the output is sent */
#define CONN_DELAYED		0x04	/* reply held for response-delay */
#define CONN_HALF		0x08	/* our FIN sent, waiting for theirs */
#define CONN_DONE		0x10	/* oneshot: request read, no more */
#define CONN_SERVED		0x20	/* has had a reply */

/*
 * A connection costs this struct and nothing else while idle: input and
 * output buffers exist only while a request is partial or a reply unsent.
 */
struct conn {
	int			 fd;
	uint32_t		 id;
	struct worker		*worker;
	TAILQ_ENTRY(conn)	 lru;		/* oldest activity first */
	TAILQ_ENTRY(conn)	 delayq;	/* while CONN_DELAYED */
	uint64_t		 opened_ms;	/* accepted, for the log */
	uint64_t		 active_ms;	/* for idle-timeout */
	uint64_t		 due_ms;	/* a delayed reply goes out */
	uint64_t		 skip;		/* body bytes to discard */
	char			*in;		/* partial request */
	char			*out;		/* unsent reply */
	uint32_t		 in_len;
	uint32_t		 out_len;
	uint32_t		 out_off;
	uint8_t			 protocol;	/* enum protocol */
	uint8_t			 flags;
	union sockaddr_any	 peer;
};

TAILQ_HEAD(conn_list, conn);

struct worker {
	int			 id;		/* its slot */
	int			 lfd[CONF_LISTEN_MAX];	/* one per address */
	int			 nlfd;		/* 0 once closed */
	int			 lfd_first;	/* armed first next time */
	int			 lfd_served;	/* served first since, or -1 */
	int			 chan;
	int			 exclusive;	/* EV_EXCLUSIVE listeners */
	int			 listening;	/* listeners are in the loop */
	int			 stopping;
	int			 lingering;	/* retired socket: still accept */
	int			 linger_over;	/* ...until it is empty */
	int			 accept_errno;	/* logged, until it clears */
	unsigned long		 accept_errors;	/* since it was logged */
	enum worker_state	 state;
	struct settings		 set;		/* this worker's own settings */
	unsigned int		 shutdown_timeout_ms;
	struct ev_loop		*loop;
	struct scoreboard	*sb;
	struct sb_worker	*me;
	uint32_t		 nconns;
	uint32_t		 next_id;
	struct conn_list	 conns;		/* by last activity */
	struct conn_list	 delayed;	/* by due time */
	struct ev_timer		 idle_timer;
	struct ev_timer		 delay_timer;
	struct ev_timer		 accept_timer;	/* end of a throttle */
	struct ev_timer		 stop_timer;	/* shutdown-timeout */
	struct ev_timer		 linger_timer;
	struct chan_msg		 replies[WORKER_REPLIES_MAX];	/* unsent */
	int			 nreplies;
	char			 rbuf[WORKER_RBUF];
	char			 wbuf[WORKER_RBUF];
};

/* worker.c */
void	worker_update(struct worker *);
void	worker_trace(struct worker *, const struct conn *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

#define WORKER_TRACE(w, c, ...) do {					\
	if (atomic_load_explicit(&(w)->sb->trace, memory_order_relaxed)) \
		worker_trace((w), (c), __VA_ARGS__);			\
} while (0)

/* conn.c */
void	conn_open(struct worker *, int fd, const union sockaddr_any *,
	    int lfd);
void	conn_free(struct conn *, const char *why);
int	conn_shut(struct conn *, const char *why);
void	conn_idle_expire(struct ev_loop *, struct ev_timer *, void *);
void	conn_delay_expire(struct ev_loop *, struct ev_timer *, void *);
void	conn_update_interest(struct conn *);
int	conn_drop(struct worker *, const char *what);
void	conn_drain(struct worker *);
void	conn_close_all(struct worker *, const char *why);

#endif

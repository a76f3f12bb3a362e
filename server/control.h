/*
 * Between the control socket (control.c: clients, lines, waiting for the
 * workers) and its commands (control_cmd.c).
 */
#ifndef CONTROL_H
#define CONTROL_H

#include <sys/queue.h>

#include <stdio.h>

#include "channel.h"
#include "conf.h"
#include "ctlproto.h"
#include "ev.h"

#define CTL_LINE_MAX	4096

struct ctl_client {
	int			 fd;
	int			 json;		/* current command wants JSON */
	int			 trace;		/* streaming trace lines */
	int			 discarding;	/* rest of an overlong line */
	int			 closing;	/* close once output is sent */
	int			 dead;		/* close after this event */
	const char		*refused;	/* told why, then closed */
	struct ev_timer		 refused_timer;
	size_t			 in_len;
	char			 in[CTL_LINE_MAX];
	char			*out;
	size_t			 out_cap;
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
	uint32_t		 seq[CONF_WORKERS_MAX];	/* 0: "ready" */
	uint8_t			 waiting[CONF_WORKERS_MAX];
	struct ev_timer		 timer;
	LIST_ENTRY(ctl_wait)	 entry;
};

/* What runs each command of common/ctlproto.c but acceptctl's own. */
struct ctl_handler {
	const char	*name;
	void		(*run)(struct ctl_client *, int, char **);
};

extern const struct ctl_handler	ctl_handlers[];
extern const size_t		ctl_nhandlers;

/* control.c: answering a client */
void	ctl_printf(struct ctl_client *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	ctl_done(struct ctl_client *, const char *error);
FILE	*ctl_body(char **, size_t *);
void	ctl_send_body(struct ctl_client *, FILE *, char **, size_t *);
void	ctl_trace_start(struct ctl_client *);

/* control.c: commands that answer once the workers have */
struct slot;
struct ctl_wait	*ctl_wait_new(struct ctl_client *, enum chan_type);
void		 ctl_wait_send(struct ctl_wait *, struct slot *, const char *);
void		 ctl_wait_sent(struct slot *, uint32_t seq, void *wait);
void		 ctl_wait_expect(struct ctl_wait *, struct slot *, uint32_t);
void		 ctl_wait_arm(struct ctl_wait *);

/* control_cmd.c */
void	ctl_cmd_init(void);

#endif

/*
 * Between the control socket (control.c: clients, lines, waiting for the
 * workers' answers through proc.c) and its commands (control_cmd.c).
 */
#ifndef CONTROL_H
#define CONTROL_H

#include <sys/queue.h>

#include <stdio.h>

#include "channel.h"
#include "conf.h"
#include "ctlproto.h"
#include "ev.h"
#include "proc.h"

#define CTL_LINE_MAX	4096

struct ctl_client {
	int			 fd;
	int			 json;		/* current command wants JSON */
	int			 trace;		/* streaming trace lines */
	unsigned long long	 trace_lost;	/* lines it was too slow for */
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
	struct proc_req		*req;		/* answer held for workers */
	void			(*answer)(struct ctl_client *,
				    struct proc_req *);
	char			 action[256];	/* traced once done */
	int			(*more)(struct ctl_client *, void *, int);
	void			*more_arg;	/* a long answer's state */
	TAILQ_ENTRY(ctl_client)	 entry;
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
void	ctl_trace_send(struct ctl_client *, const char *line);
void	ctl_stream(struct ctl_client *, int (*)(struct ctl_client *, void *,
	    int), void *);

/* control.c: commands that answer once the workers have */
struct proc_req	*ctl_req_new(struct ctl_client *,
		    void (*answer)(struct ctl_client *, struct proc_req *));
void		 ctl_req_wait(struct ctl_client *, struct proc_req *);

/* control_trace.c: the trace stream */
void	ctl_trace_init(struct ev_loop *);
void	ctl_trace_start(struct ctl_client *);
void	ctl_trace_stop(struct ctl_client *);
void	ctl_trace_action(const char *);
int	ctl_trace_json(FILE *, const char *line);

/* control_cmd.c */
void	ctl_cmd_init(void);
/* status -j as acceptctl gets it; with kernel set, as the monitor does */
void	ctl_status_json(FILE *, int all, int kernel);

#endif

/*
 * The monitor listener (monitor.c): read-only HTTP in the master for
 * /metrics (metrics.c), /status.json and the live page (monitor_page.c).
 */
#ifndef MONITOR_H
#define MONITOR_H

#include <stddef.h>
#include <stdio.h>

#include "conf.h"
#include "ev.h"

/*
 * Bind conf's monitor address, if it has one: before daemonizing, so a
 * failure is said on the terminal.  0, or -1 with why.
 */
int	monitor_open(const struct conf *, char *why, size_t);
/* Serve it from the master's loop. */
void	monitor_start(struct ev_loop *);
/*
 * A reload: open, move or close the listener as new says.  cur's monitor
 * follows what is open; a new address that cannot be bound keeps the old.
 */
void	monitor_reload(struct conf *cur, const struct conf *new);

/* metrics.c: the Prometheus exposition of the master's state */
void	metrics_write(FILE *);

/* monitor_page.c: the live page, one self-contained HTML file */
extern const char	monitor_page[];

#endif

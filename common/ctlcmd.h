/*
 * The control protocol's commands, as both ends know them: acceptd runs
 * them, acceptctl checks a command line before it connects and knows how
 * the answer comes.  A prefix picks the first command that begins with it;
 * the table lists queries first, so "st" is status and "sto" is stop.
 */
#ifndef CTLCMD_H
#define CTLCMD_H

#include <stddef.h>

enum ctlcmd_reply {
	CTLCMD_ONCE,		/* lines, then "ok" or "error: ..." */
	CTLCMD_STREAM,		/* "ok", then lines until the client leaves */
	CTLCMD_LOCAL,		/* acceptctl's own, made of other commands */
};

struct ctlcmd {
	const char		*name;
	int			 min_args;
	int			 max_args;
	enum ctlcmd_reply	 reply;
	const char		*usage;
};

extern const struct ctlcmd	ctlcmd_table[];
extern const size_t		ctlcmd_count;

const struct ctlcmd	*ctlcmd_find(const char *word);	/* NULL: none */
void			 ctlcmd_names(char *buf, size_t len);	/* "a, b, c" */

#endif

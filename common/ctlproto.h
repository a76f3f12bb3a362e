/*
 * The control protocol's commands, as both ends know them: acceptd runs
 * them, acceptctl checks a command line before it connects and knows how
 * the answer comes.  A prefix picks the first command in the table that
 * begins with it, so the order matters: "st" is status, "sto" stop, "re"
 * resume.
 */
#ifndef CTLPROTO_H
#define CTLPROTO_H

#include <stddef.h>

enum ctlproto_reply {
	CTLPROTO_ONCE,		/* lines, then "ok" or "error: ..." */
	CTLPROTO_STREAM,	/* "ok", then lines until the client leaves */
	CTLPROTO_LOCAL,		/* acceptctl's own, made of other commands */
};

struct ctlproto_cmd {
	const char		*name;
	int			 min_args;
	int			 max_args;
	enum ctlproto_reply	 reply;
	const char		*usage;
};

extern const struct ctlproto_cmd	ctlproto_cmds[];
extern const size_t			ctlproto_ncmds;

/* By name or prefix; NULL if none. */
const struct ctlproto_cmd	*ctlproto_find(const char *word);
/* "status, workers, ...", for error messages. */
void				 ctlproto_names(char *buf, size_t len);

#endif

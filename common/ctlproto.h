/*
 * The control protocol's commands and line syntax, as both ends know them:
 * acceptd splits and runs lines, acceptctl checks a command line before it
 * connects and knows how the answer comes.  A command may be shortened to
 * a prefix that begins no other command: "sta" is status and "sto" stop,
 * but "st" is refused as ambiguous, so no prefix depends on table order.
 */
#ifndef CTLPROTO_H
#define CTLPROTO_H

#include <stddef.h>

/* The daemon's and the tools' version, the same on both ends. */
#define ACCEPTD_VERSION		"0.1"

/* Room for any message ctlproto_lookup writes. */
#define CTLPROTO_WHY_MAX	512

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

/*
 * The command word names: its exact name, else the one command it is a
 * prefix of.  Otherwise NULL, and why (len bytes, CTLPROTO_WHY_MAX holds
 * it all) says so in full, fit for "error: " or a terminal:
 *	unknown command "X"; valid commands are status, workers, ...
 *	ambiguous command "re": reload, resume
 * X is at most its first 32 bytes, escaped with vis(3) so that no control
 * character, space or quote of the word reaches the reader.
 */
const struct ctlproto_cmd	*ctlproto_lookup(const char *word, char *why,
				    size_t len);
/* "status, workers, ...", for error messages. */
void				 ctlproto_names(char *buf, size_t len);

/*
 * Split one control line (its newline already gone) in place into words at
 * spaces and tabs; one trailing '\r' is dropped first.  A first word "-j"
 * asks for JSON: *json is 1 then, else 0, and "-j" is not a word.  argv
 * needs room for max + 1 pointers: argv[argc] is NULL.  Returns argc, 0
 * for a line of nothing but blanks, or -1 when it has more than max words.
 */
int				 ctlproto_split(char *line, char **argv,
				    int max, int *json);

#endif

/* The control commands and line syntax both ends share; see ctlproto.h. */
#include <stdio.h>
#include <string.h>
#define LIBBSD_OPENBSD_VIS	1	/* the OpenBSD flavour of vis(3) */
#include <vis.h>

#include "conf.h"
#include "ctlproto.h"

#define CTLPROTO_SHOWN	32		/* bytes of a refused word echoed */
#define CTLPROTO_BLANKS	" \t"

static void	 ctlproto_refuse(const char *, size_t, char *, size_t);
static void	 ctlproto_matches(const char *, char *, size_t);

const struct ctlproto_cmd ctlproto_cmds[] = {
	{ "status",	0, 0, CTLPROTO_ONCE,   "status" },
	{ "workers",	0, 0, CTLPROTO_ONCE,   "workers" },
	{ "pause",	0, 1, CTLPROTO_ONCE,   "pause [WORKER]" },
	{ "resume",	0, 1, CTLPROTO_ONCE,   "resume [WORKER]" },
	{ "set",	2, 3, CTLPROTO_ONCE,   "set NAME VALUE [WORKER]" },
	{ "config",	0, 0, CTLPROTO_ONCE,   "config" },
	{ "sockets",	0, 0, CTLPROTO_ONCE,   "sockets" },
	{ "counters",	0, 0, CTLPROTO_ONCE,   "counters" },
	{ "trace",	0, 0, CTLPROTO_STREAM, "trace" },
	{ "watch",	0, 2, CTLPROTO_LOCAL,  "watch [INTERVAL [COUNT]]" },
	{ "scale",	1, 1, CTLPROTO_ONCE,   "scale N" },
	{ "drop",	1, 1, CTLPROTO_ONCE,   "drop close-wait|idle|all" },
	{ "reload",	0, 0, CTLPROTO_ONCE,   "reload" },
	{ "mark",	1, 7, CTLPROTO_ONCE,   "mark TEXT" },
	{ "stop",	0, 0, CTLPROTO_ONCE,   "stop" },
	{ "help",	0, 0, CTLPROTO_ONCE,   "help" },
	{ "version",	0, 0, CTLPROTO_ONCE,   "version" },
};
const size_t ctlproto_ncmds = sizeof(ctlproto_cmds) /
    sizeof(ctlproto_cmds[0]);

const struct ctlproto_cmd *
ctlproto_lookup(const char *word, char *why, size_t len)
{
	const struct ctlproto_cmd	*match = NULL;
	size_t				 i, n = strlen(word), nmatch = 0;

	for (i = 0; i < ctlproto_ncmds; i++)
		if (strcmp(word, ctlproto_cmds[i].name) == 0)
			return &ctlproto_cmds[i];
	for (i = 0; n > 0 && i < ctlproto_ncmds; i++)
		if (strncmp(word, ctlproto_cmds[i].name, n) == 0) {
			match = &ctlproto_cmds[i];
			nmatch++;
		}
	if (nmatch == 1)
		return match;
	ctlproto_refuse(word, nmatch, why, len);
	return NULL;
}

/*
 * The word comes from anyone who can type: only its start is shown, and
 * escaped, white space and quotes included, because VIS_SAFE would let a
 * carriage return, backspace or bell through to the reader's terminal.
 */
static void
ctlproto_refuse(const char *word, size_t nmatch, char *why, size_t len)
{
	char	shown[4 * CTLPROTO_SHOWN + 1], list[256];

	strvisx(shown, word, strnlen(word, CTLPROTO_SHOWN),
	    VIS_OCTAL | VIS_WHITE | VIS_DQ);
	if (nmatch == 0) {
		ctlproto_names(list, sizeof(list));
		snprintf(why, len, "unknown command \"%s\"; valid commands "
		    "are %s", shown, list);
	} else {
		ctlproto_matches(word, list, sizeof(list));
		snprintf(why, len, "ambiguous command \"%s\": %s", shown,
		    list);
	}
}

/* The commands word is a prefix of, in alphabetical order. */
static void
ctlproto_matches(const char *word, char *buf, size_t len)
{
	const char	*last = "", *next, *name;
	size_t		 i, n = strlen(word);

	if (len > 0)
		buf[0] = '\0';
	for (;;) {
		next = NULL;
		for (i = 0; i < ctlproto_ncmds; i++) {
			name = ctlproto_cmds[i].name;
			if (strncmp(word, name, n) == 0 &&
			    strcmp(name, last) > 0 &&
			    (next == NULL || strcmp(name, next) < 0))
				next = name;
		}
		if (next == NULL)
			return;
		if (*last != '\0')
			strlcat(buf, ", ", len);
		strlcat(buf, next, len);
		last = next;
	}
}

void
ctlproto_names(char *buf, size_t len)
{
	size_t i;

	if (len > 0)
		buf[0] = '\0';
	for (i = 0; i < ctlproto_ncmds; i++) {
		if (i > 0)
			strlcat(buf, ", ", len);
		strlcat(buf, ctlproto_cmds[i].name, len);
	}
}

int
ctlproto_split(char *line, char **argv, int max, int *json)
{
	size_t	 n = strlen(line);
	char	*p = line, *word;
	int	 argc = 0;

	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	*json = 0;
	while ((word = conf_word(&p, CTLPROTO_BLANKS)) != NULL) {
		if (argc == 0 && !*json && strcmp(word, "-j") == 0) {
			*json = 1;
			continue;
		}
		if (argc == max)
			return -1;
		argv[argc++] = word;
	}
	argv[argc] = NULL;
	return argc;
}

/* The control commands both ends share; see ctlproto.h. */
#include <stdio.h>
#include <string.h>

#include "ctlproto.h"

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
	{ "stop",	0, 0, CTLPROTO_ONCE,   "stop" },
	{ "help",	0, 0, CTLPROTO_ONCE,   "help" },
	{ "version",	0, 0, CTLPROTO_ONCE,   "version" },
};
const size_t ctlproto_ncmds = sizeof(ctlproto_cmds) /
    sizeof(ctlproto_cmds[0]);

const struct ctlproto_cmd *
ctlproto_find(const char *word)
{
	size_t i, n = strlen(word);

	if (n == 0)
		return NULL;
	for (i = 0; i < ctlproto_ncmds; i++)
		if (strcmp(word, ctlproto_cmds[i].name) == 0)
			return &ctlproto_cmds[i];
	for (i = 0; i < ctlproto_ncmds; i++)
		if (strncmp(word, ctlproto_cmds[i].name, n) == 0)
			return &ctlproto_cmds[i];
	return NULL;
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

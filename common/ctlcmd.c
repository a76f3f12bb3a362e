/* The control commands both ends share; see ctlcmd.h. */
#include <stdio.h>
#include <string.h>

#include "ctlcmd.h"

const struct ctlcmd ctlcmd_table[] = {
	{ "status",	0, 0, CTLCMD_ONCE,   "status" },
	{ "workers",	0, 0, CTLCMD_ONCE,   "workers" },
	{ "pause",	0, 1, CTLCMD_ONCE,   "pause [WORKER]" },
	{ "resume",	0, 1, CTLCMD_ONCE,   "resume [WORKER]" },
	{ "set",	2, 3, CTLCMD_ONCE,   "set NAME VALUE [WORKER]" },
	{ "config",	0, 0, CTLCMD_ONCE,   "config" },
	{ "sockets",	0, 0, CTLCMD_ONCE,   "sockets" },
	{ "counters",	0, 0, CTLCMD_ONCE,   "counters" },
	{ "trace",	0, 0, CTLCMD_STREAM, "trace" },
	{ "watch",	0, 2, CTLCMD_LOCAL,  "watch [INTERVAL [COUNT]]" },
	{ "scale",	1, 1, CTLCMD_ONCE,   "scale N" },
	{ "drop",	1, 1, CTLCMD_ONCE,   "drop close-wait|idle|all" },
	{ "reload",	0, 0, CTLCMD_ONCE,   "reload" },
	{ "stop",	0, 0, CTLCMD_ONCE,   "stop" },
	{ "help",	0, 0, CTLCMD_ONCE,   "help" },
	{ "version",	0, 0, CTLCMD_ONCE,   "version" },
};
const size_t ctlcmd_count = sizeof(ctlcmd_table) / sizeof(ctlcmd_table[0]);

const struct ctlcmd *
ctlcmd_find(const char *word)
{
	size_t i, n = strlen(word);

	if (n == 0)
		return NULL;
	for (i = 0; i < ctlcmd_count; i++)
		if (strcmp(word, ctlcmd_table[i].name) == 0)
			return &ctlcmd_table[i];
	for (i = 0; i < ctlcmd_count; i++)
		if (strncmp(word, ctlcmd_table[i].name, n) == 0)
			return &ctlcmd_table[i];
	return NULL;
}

void
ctlcmd_names(char *buf, size_t len)
{
	size_t i;

	if (len > 0)
		buf[0] = '\0';
	for (i = 0; i < ctlcmd_count; i++) {
		if (i > 0)
			strlcat(buf, ", ", len);
		strlcat(buf, ctlcmd_table[i].name, len);
	}
}

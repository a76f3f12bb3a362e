/*
 * Process titles ("acceptd: worker 2 (paused)") through libbsd's
 * setproctitle.  libbsd leaves a '.' in the original argument area, a mark
 * for Linux to show a title longer than it; for a title that fits, the
 * mark is junk at its end ("acceptd: master      ."): the rest of the
 * area is cleared.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "acceptd.h"

static char	*args_start, *args_nul;	/* the original argument area */

void
title_init(int argc, char **argv, char **envp)
{
	if (argc > 0) {
		args_start = argv[0];
		args_nul = argv[argc - 1] + strlen(argv[argc - 1]);
	}
	setproctitle_init(argc, argv, envp);
}

void
title_set(const char *fmt, ...)
{
	char	title[256];
	size_t	len;
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(title, sizeof(title), fmt, ap);
	va_end(ap);
	setproctitle("%s", title);
	len = strlen(args_start);
	if (args_nul != NULL && len < (size_t)(args_nul - args_start))
		memset(args_start + len, '\0', args_nul - args_start - len);
}

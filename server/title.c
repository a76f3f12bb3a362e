/*
 * Process titles ("acceptd: worker 2 (paused)"): formatted here, shown by
 * the per-OS layer (os.h), which knows how ps finds them.
 */
#include <stdarg.h>
#include <stdio.h>

#include "acceptd.h"
#include "os.h"

void
title_init(int argc, char **argv, char **envp)
{
	os_title_init(argc, argv, envp);
}

void
title_set(const char *fmt, ...)
{
	char	title[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(title, sizeof(title), fmt, ap);
	va_end(ap);
	os_title_set(title);
}

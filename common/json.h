/*
 * The little JSON the daemon and the tools write: objects are built with
 * fprintf; only strings need care.
 */
#ifndef JSON_H
#define JSON_H

#include <stdio.h>

void	json_string(FILE *, const char *);	/* quoted and escaped */

#endif

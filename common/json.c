/*
 * JSON strings: quote, backslash and control characters escaped; other
 * bytes go out as they are (the text is ours or already printable).
 */
#include <stdio.h>

#include "json.h"

void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/*
 * Prometheus text exposition: HELP and TYPE once per family, samples
 * with escaped label values.  Only the writer's own checks live here;
 * what the metrics mean is server/metrics.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "expo.h"

static void	expo_escape(FILE *, const char *, int label);

void
expo_init(struct expo *e, FILE *f)
{
	memset(e, 0, sizeof(*e));
	e->f = f;
}

int
expo_valid_name(const char *s, int label)
{
	const char	*p;

	if (s == NULL || *s == '\0' || strlen(s) >= EXPO_NAME_MAX)
		return 0;
	for (p = s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    *p == '_' || (*p == ':' && !label))
			continue;
		if (*p >= '0' && *p <= '9' && p != s)
			continue;
		return 0;
	}
	return 1;
}

/* HELP text escapes backslash and newline; label values also '"'. */
static void
expo_escape(FILE *f, const char *s, int label)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && label)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

int
expo_family(struct expo *e, const char *name, enum expo_type type,
    const char *help)
{
	int	i;

	if (!expo_valid_name(name, 0) || e->nfamilies == EXPO_FAMILIES_MAX) {
		e->errors++;
		return -1;
	}
	for (i = 0; i < e->nfamilies; i++)
		if (strcmp(e->family[i], name) == 0) {
			e->errors++;
			return -1;
		}
	strlcpy(e->family[e->nfamilies++], name, EXPO_NAME_MAX);
	fprintf(e->f, "# HELP %s ", name);
	expo_escape(e->f, help, 0);
	fprintf(e->f, "\n# TYPE %s %s\n", name,
	    type == EXPO_COUNTER ? "counter" : "gauge");
	return 0;
}

int
expo_sample(struct expo *e, const char *name, unsigned long long value, ...)
{
	const char	*label, *lvalue;
	va_list		 ap;
	int		 n = 0;

	if (e->nfamilies == 0 ||
	    strcmp(e->family[e->nfamilies - 1], name) != 0) {
		e->errors++;
		return -1;
	}
	va_start(ap, value);
	while ((label = va_arg(ap, const char *)) != NULL) {
		lvalue = va_arg(ap, const char *);
		if (!expo_valid_name(label, 1) ||
		    strncmp(label, "__", 2) == 0 || lvalue == NULL) {
			va_end(ap);
			e->errors++;
			return -1;
		}
	}
	va_end(ap);
	fputs(name, e->f);
	va_start(ap, value);
	while ((label = va_arg(ap, const char *)) != NULL) {
		lvalue = va_arg(ap, const char *);
		fprintf(e->f, "%s%s=\"", n++ == 0 ? "{" : ",", label);
		expo_escape(e->f, lvalue, 1);
		fputc('"', e->f);
	}
	va_end(ap);
	fprintf(e->f, "%s %llu\n", n > 0 ? "}" : "", value);
	return 0;
}

/*
 * scenlog json: values out of the JSON the scenarios save (acceptctl -j
 * status, acceptload -j), so that their checks need no jq.  The document
 * is flattened into leaves named by path: keys joined with ".", array
 * elements by their index ("workers.1.queue", "connects.ok").
 *
 *   json FILE                  every leaf, "PATH<TAB>VALUE" (FILE - is
 *                              the standard input)
 *   json FILE PATH             one leaf's value
 *   json FILE PATH COL,COL...  PATH an array of objects: one line per
 *                              element, those members tab-separated
 *
 * Strings come unescaped, null as "null".  Exit 1 when PATH is not there,
 * 2 when the file is not JSON.
 */
#include <ctype.h>
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "scenlog.h"

#define JSON_DEPTH	32

struct flat {
	struct scen_field *leaf;	/* key: the leaf's path */
	size_t		 n, cap;
	const char	*p;		/* the parser's place in the text */
	int		 depth;
};

static int	parse_value(struct flat *, const char *);

static void
skip_space(struct flat *fl)
{
	while (isspace((unsigned char)*fl->p))
		fl->p++;
}

static void
leaf_add(struct flat *fl, const char *path, char *value)
{
	if (fl->n == fl->cap) {
		fl->cap = fl->cap ? fl->cap * 2 : 64;
		if ((fl->leaf = reallocarray(fl->leaf, fl->cap,
		    sizeof(*fl->leaf))) == NULL)
			err(1, "reallocarray");
	}
	if ((fl->leaf[fl->n].key = strdup(path)) == NULL)
		err(1, "strdup");
	fl->leaf[fl->n++].value = value;
}

/* A string at fl->p (past its quote), unescaped into a new buffer. */
static char *
parse_string(struct flat *fl)
{
	const char	*p = fl->p;
	char		*out, *w;
	unsigned int	 u;

	if ((out = malloc(strlen(p) + 1)) == NULL)
		err(1, "malloc");
	for (w = out; *p != '"'; p++) {
		if (*p == '\0' || (unsigned char)*p < 0x20)
			goto bad;
		if (*p != '\\') {
			*w++ = *p;
			continue;
		}
		switch (*++p) {
		case 'n': case 't': case 'r': case 'b': case 'f':
			*w++ = ' ';
			break;
		case 'u':
			if (sscanf(p + 1, "%4x", &u) != 1)
				goto bad;
			*w++ = u >= 0x20 && u < 0x7f ? (char)u : '?';
			p += 4;
			break;
		case '"': case '\\': case '/':
			*w++ = *p;
			break;
		default:
			goto bad;
		}
	}
	*w = '\0';
	fl->p = p + 1;
	return out;
bad:
	free(out);
	return NULL;
}

static char *
path_join(const char *path, const char *key)
{
	char	*s;

	if (asprintf(&s, "%s%s%s", path, *path ? "." : "", key) == -1)
		err(1, "asprintf");
	return s;
}

static int
parse_container(struct flat *fl, const char *path, char close)
{
	char	*key, *sub, idx[24];
	size_t	 i = 0;
	int	 r;

	if (++fl->depth > JSON_DEPTH)
		return -1;
	fl->p++;
	skip_space(fl);
	if (*fl->p == close) {
		fl->p++;
		fl->depth--;
		return 0;
	}
	for (;; i++) {
		skip_space(fl);
		if (close == '}') {
			if (*fl->p++ != '"' || (key = parse_string(fl)) == NULL)
				return -1;
			skip_space(fl);
			if (*fl->p++ != ':') {
				free(key);
				return -1;
			}
		} else {
			snprintf(idx, sizeof(idx), "%zu", i);
			if ((key = strdup(idx)) == NULL)
				err(1, "strdup");
		}
		sub = path_join(path, key);
		free(key);
		r = parse_value(fl, sub);
		free(sub);
		if (r == -1)
			return -1;
		skip_space(fl);
		if (*fl->p == ',') {
			fl->p++;
			continue;
		}
		if (*fl->p++ != close)
			return -1;
		fl->depth--;
		return 0;
	}
}

static int
parse_value(struct flat *fl, const char *path)
{
	const char	*start;
	char		*v;

	skip_space(fl);
	switch (*fl->p) {
	case '{':
		return parse_container(fl, path, '}');
	case '[':
		return parse_container(fl, path, ']');
	case '"':
		fl->p++;
		if ((v = parse_string(fl)) == NULL)
			return -1;
		leaf_add(fl, path, v);
		return 0;
	}
	start = fl->p;
	while (*fl->p != '\0' && strchr(",}] \t\r\n", *fl->p) == NULL)
		fl->p++;
	if (fl->p == start)
		return -1;
	if ((v = strndup(start, fl->p - start)) == NULL)
		err(1, "strndup");
	leaf_add(fl, path, v);
	return 0;
}

/* The whole of a file, NUL-terminated; NULL (said why) if unreadable. */
static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0, n;
	char	 chunk[8192];

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "r")) == NULL) {
		warn("%s", path);
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if ((buf = realloc(buf, len + n + 1)) == NULL)
			err(1, "realloc");
		memcpy(buf + len, chunk, n);
		len += n;
	}
	if (f != stdin)
		fclose(f);
	if (buf == NULL && (buf = strdup("")) == NULL)
		err(1, "strdup");
	buf[len] = '\0';
	return buf;
}

/* A JSON text as leaves (key: path), the caller's to free; -1 when it is
 * not JSON. */
int
scen_json_leaves(const char *text, struct scen_field **out, size_t *n)
{
	struct flat	fl = { 0 };
	size_t		i;

	fl.p = text;
	if (parse_value(&fl, "") == -1 || (skip_space(&fl), *fl.p != '\0')) {
		for (i = 0; i < fl.n; i++) {
			free(fl.leaf[i].key);
			free(fl.leaf[i].value);
		}
		free(fl.leaf);
		return -1;
	}
	*out = fl.leaf;
	*n = fl.n;
	return 0;
}

/* The value of member col of element PATH.N, or NULL. */
static const char *
member(const struct scen_field *lf, size_t n, const char *prefix,
    const char *col)
{
	size_t	i, pl = strlen(prefix);

	for (i = 0; i < n; i++)
		if (strncmp(lf[i].key, prefix, pl) == 0 &&
		    strcmp(lf[i].key + pl, col) == 0)
			return lf[i].value;
	return NULL;
}

/* json FILE [PATH [COL,...]] */
int
scen_json_main(int argc, char **argv)
{
	struct scen_field	*lf;
	char			*text, prefix[512], *cols, *c, *save;
	const char		*v;
	size_t			 n, i, row, pl;
	int			 r = 1, found, first;

	if (argc < 2 || argc > 4)
		errx(2, "usage: json FILE [PATH [COL,COL...]]");
	if ((text = slurp(argv[1])) == NULL)
		return 2;
	if (scen_json_leaves(text, &lf, &n) == -1) {
		warnx("%s: not JSON", argv[1]);
		free(text);
		return 2;
	}
	if (argc == 2) {
		for (i = 0; i < n; i++)
			printf("%s\t%s\n", lf[i].key, lf[i].value);
		r = 0;
	} else if (argc == 3) {
		for (i = 0; i < n; i++)
			if (strcmp(lf[i].key, argv[2]) == 0) {
				printf("%s\n", lf[i].value);
				r = 0;
				break;
			}
	} else {
		for (row = 0;; row++) {
			snprintf(prefix, sizeof(prefix), "%s.%zu.", argv[2],
			    row);
			pl = strlen(prefix);
			for (found = 0, i = 0; i < n && !found; i++)
				found = strncmp(lf[i].key, prefix, pl) == 0;
			if (!found)
				break;
			if ((cols = strdup(argv[3])) == NULL)
				err(1, "strdup");
			for (first = 1, save = cols;
			    (c = strsep(&save, ",")) != NULL; first = 0) {
				v = member(lf, n, prefix, c);
				printf("%s%s", first ? "" : "\t", v ? v : "");
			}
			putchar('\n');
			free(cols);
			r = 0;
		}
	}
	for (i = 0; i < n; i++) {
		free(lf[i].key);
		free(lf[i].value);
	}
	free(lf);
	free(text);
	return r;
}

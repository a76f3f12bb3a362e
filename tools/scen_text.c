/*
 * Terminal columns of UTF-8 text: the ladder counts characters, not bytes,
 * so box-drawing arrows and Korean notes line up.  East Asian wide
 * characters take two columns; bytes that are not UTF-8 take one each.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "scenlog.h"

static size_t	decode(const unsigned char *, unsigned int *);
static int	cp_width(unsigned int);

/* Bytes of the character at s (at least 1), its code point in *cp. */
static size_t
decode(const unsigned char *s, unsigned int *cp)
{
	size_t	n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		*cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		*cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		*cp = s[0] & 0x07;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	return n;
}

/* The wide ranges of Unicode's East Asian Width, coarsely. */
static int
cp_width(unsigned int cp)
{
	if ((cp >= 0x1100 && cp <= 0x115f) ||
	    (cp >= 0x2e80 && cp <= 0xa4cf && cp != 0x303f) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) ||
	    (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) ||
	    (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) ||
	    (cp >= 0x1f300 && cp <= 0x1f64f) ||
	    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
	    (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

size_t
scen_text_width(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned int		 cp;
	size_t			 w = 0;

	while (*p != '\0') {
		p += decode(p, &cp);
		w += cp_width(cp);
	}
	return w;
}

/*
 * How many bytes of s fit in cols columns, whole characters only; the
 * columns they take in *used.
 */
size_t
scen_text_take(const char *s, size_t cols, size_t *used)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned int		 cp;
	size_t			 n, w = 0;
	int			 cw;

	while (*p != '\0') {
		n = decode(p, &cp);
		cw = cp_width(cp);
		if (w + cw > cols)
			break;
		w += cw;
		p += n;
	}
	if (used != NULL)
		*used = w;
	return p - (const unsigned char *)s;
}

static char *
dup_n(const char *s, size_t n)
{
	char	*d;

	if ((d = strndup(s, n)) == NULL)
		err(1, "strndup");
	return d;
}

/*
 * s cut into lines of at most width columns, at a space where one falls
 * in the line, else between characters; nothing is dropped but the
 * spaces a break falls on.  Returns the count; *lines and each line are
 * the caller's to free.
 */
int
scen_text_wrap(const char *s, size_t width, char ***lines)
{
	size_t	 fit, cut, len;
	int	 n = 0;

	*lines = NULL;
	if (width < 2)
		width = 2;
	do {
		len = strlen(s);
		fit = scen_text_take(s, width, NULL);
		if (fit == 0 && len > 0)
			fit = 1;	/* a character wider than the column */
		cut = fit;
		if (fit < len && s[fit] != ' ') {
			while (cut > 0 && s[cut - 1] != ' ')
				cut--;
			if (cut == 0)
				cut = fit;
		}
		*lines = reallocarray(*lines, n + 1, sizeof(**lines));
		if (*lines == NULL)
			err(1, "reallocarray");
		len = cut;
		while (len > 0 && s[len - 1] == ' ')
			len--;
		(*lines)[n++] = dup_n(s, len);
		s += cut;
		while (*s == ' ')
			s++;
	} while (*s != '\0');
	return n;
}

/* s, then spaces up to width columns. */
void
scen_text_pad(FILE *f, const char *s, size_t width)
{
	size_t	w = scen_text_width(s);

	fputs(s, f);
	for (; w < width; w++)
		fputc(' ', f);
}

/*
 * libFuzzer target for the control protocol's line parser: the input is
 * what a client writes, cut at newlines as the daemon does, each line
 * split and its command looked up.  Words must be real words, a lookup
 * must match only by name or unique prefix, and a refusal must come back
 * as one clean line: no control character, whole, NUL-terminated even in
 * a short buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

#define ARGS_MAX	8	/* as the daemon's control.c */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond, const char *what, const char *word)
{
	if (!cond) {
		fprintf(stderr, "control line: %s (word \"%s\")\n", what,
		    word);
		abort();
	}
}

static size_t
prefix_matches(const char *word)
{
	size_t	i, n = strlen(word), count = 0;

	for (i = 0; i < ctlproto_ncmds; i++)
		if (n > 0 && strncmp(word, ctlproto_cmds[i].name, n) == 0)
			count++;
	return count;
}

static void
check_why(const char *why, const char *word)
{
	size_t	i, len = strlen(why);

	check(strncmp(why, "unknown command \"", 17) == 0 ||
	    strncmp(why, "ambiguous command \"", 19) == 0,
	    "a refusal says neither unknown nor ambiguous", word);
	check(len < CTLPROTO_WHY_MAX - 1, "a refusal fills the buffer", word);
	for (i = 0; i < len; i++)
		check((unsigned char)why[i] >= 0x20 && why[i] != 0x7f,
		    "a control character in a refusal", word);
}

/* A buffer of exactly len bytes, so that ASan sees a write past it. */
static void
check_short_buffer(const char *word, size_t len)
{
	char	*why;

	if ((why = malloc(len == 0 ? 1 : len)) == NULL)
		abort();
	why[0] = 'z';
	if (ctlproto_lookup(word, why, len) == NULL)
		check(len == 0 ? why[0] == 'z' : strlen(why) < len,
		    "a short buffer overrun or not terminated", word);
	free(why);
}

static void
check_lookup(const char *word, size_t small)
{
	const struct ctlproto_cmd	*cmd;
	char				 why[CTLPROTO_WHY_MAX];
	size_t				 n = strlen(word);

	cmd = ctlproto_lookup(word, why, sizeof(why));
	if (cmd != NULL) {
		check(strncmp(word, cmd->name, n) == 0,
		    "a command found that the word does not begin", word);
		check(strcmp(word, cmd->name) == 0 ||
		    prefix_matches(word) == 1,
		    "an ambiguous prefix accepted", word);
	} else {
		check(prefix_matches(word) != 1, "a unique prefix refused",
		    word);
		check_why(why, word);
	}
	check_short_buffer(word, small);
}

static void
check_line(char *line, size_t small)
{
	char	*start = line, *end = line + strlen(line), *argv[ARGS_MAX + 1];
	int	 argc, json = -1, i;

	argc = ctlproto_split(line, argv, ARGS_MAX, &json);
	check(argc >= -1 && argc <= ARGS_MAX, "argc out of range", "");
	check(json == 0 || json == 1, "json neither 0 nor 1", "");
	if (argc == -1)
		return;
	check(argv[argc] == NULL, "argv not NULL-terminated", "");
	for (i = 0; i < argc; i++) {
		check(argv[i] >= start && argv[i] < end, "a word outside the "
		    "line", "");
		check(argv[i][0] != '\0' && strpbrk(argv[i], " \t") == NULL,
		    "a word empty or holding a blank", argv[i]);
	}
	if (argc > 0)
		check_lookup(argv[0], small);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text, *line, *next;
	size_t	 small;

	if (size == 0)
		return 0;
	/* The first byte sizes a deliberately short message buffer. */
	small = data[0] % 64;
	if ((text = malloc(size)) == NULL)
		abort();
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		check_line(line, small);
	}
	free(text);
	return 0;
}

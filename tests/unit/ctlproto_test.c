/*
 * Unit tests for common/ctlproto.c: a command word by name or unique
 * prefix, the refusals and their escaping, and the split of a control line.
 */
#include <stdio.h>
#include <string.h>

#include "ctlproto.h"
#include "tap.h"

static char	why[CTLPROTO_WHY_MAX];

/* The command word names, or "NULL: why". */
static const char *
lookup(const char *word)
{
	static char			 out[CTLPROTO_WHY_MAX + 8];
	const struct ctlproto_cmd	*cmd;

	why[0] = '\0';
	if ((cmd = ctlproto_lookup(word, why, sizeof(why))) != NULL)
		return cmd->name;
	snprintf(out, sizeof(out), "NULL: %s", why);
	return out;
}

static void
test_lookup(void)
{
	size_t	i;
	int	exact = 1;

	for (i = 0; i < ctlproto_ncmds; i++)
		if (strcmp(lookup(ctlproto_cmds[i].name),
		    ctlproto_cmds[i].name) != 0)
			exact = 0;
	ok(exact, "every command by its own name");
	is_str(lookup("sta"), "status", "sta: status");
	is_str(lookup("sto"), "stop", "sto: stop");
	is_str(lookup("res"), "resume", "res: resume");
	is_str(lookup("rel"), "reload", "rel: reload");
	is_str(lookup("p"), "pause", "p: the only command with p");
	is_str(lookup("v"), "version", "v: version");
	is_str(lookup("wa"), "watch", "wa: watch");
	is_str(lookup("sc"), "scale", "sc: scale");
	is_str(lookup("re"), "NULL: ambiguous command \"re\": reload, resume",
	    "re: ambiguous, reload and resume named");
	is_str(lookup("st"), "NULL: ambiguous command \"st\": status, stop",
	    "st: ambiguous, status and stop");
	is_str(lookup("s"), "NULL: ambiguous command \"s\": scale, set, "
	    "sockets, status, stop", "s: every match, in alphabetical order");
	is_str(lookup("w"), "NULL: ambiguous command \"w\": watch, workers",
	    "w: alphabetical, not table order");
	is_str(lookup("co"), "NULL: ambiguous command \"co\": config, counters",
	    "co: config, counters");
	ok(strncmp(lookup("frob"), "NULL: unknown command \"frob\"; valid "
	    "commands are status, workers, pause, ", 57) == 0,
	    "frob: unknown, with the valid commands in table order");
	ok(strstr(why, "version") != NULL && why[strlen(why) - 1] == 'n',
	    "the list ends with the last command, version");
	is_str(lookup("statusx"), "NULL: unknown command \"statusx\"; valid "
	    "commands are status, workers, pause, resume, set, config, "
	    "sockets, counters, trace, watch, scale, drop, reload, mark, stop, "
	    "help, version", "a command and more: unknown, the whole message");
	ok(strncmp(lookup(""), "NULL: unknown command \"\"", 24) == 0,
	    "the empty word: unknown, not ambiguous");
	ok(strncmp(lookup("Status"), "NULL: unknown", 13) == 0,
	    "names are case-sensitive");
}

static void
test_escaping(void)
{
	char	 word[100];
	size_t	 i;
	int	 clean = 1;

	ok(strncmp(lookup("a\nb\rc\td e\"f\\g\x01\x7f\xff"),
	    "NULL: unknown command \"a\\012b\\015c\\011d\\040e\\042f\\134g"
	    "\\001\\177\\377\"; ", 60) == 0,
	    "controls, blanks, quote, backslash and high bytes in octal");
	for (i = 0; why[i] != '\0'; i++)
		if ((unsigned char)why[i] < 0x20 || why[i] == 0x7f)
			clean = 0;
	ok(clean, "the message holds no control character");

	memset(word, 'x', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	word[32] = '\n';
	lookup(word);
	ok(strncmp(why, "unknown command \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\""
	    "; ", 52) == 0, "only the first 32 bytes are shown");
	memset(word, '\n', 40);
	word[40] = '\0';
	lookup(word);
	ok(strlen(why) < sizeof(why) && strstr(why, "version") != NULL,
	    "32 escaped newlines and the list fit CTLPROTO_WHY_MAX");

	why[0] = 'z';
	ok(ctlproto_lookup("re", why, 10) == NULL && strcmp(why,
	    "ambiguous") == 0, "a short buffer: cut and terminated");
	why[0] = 'z';
	ok(ctlproto_lookup("re", why, 0) == NULL && why[0] == 'z',
	    "a zero-length buffer is not written");
}

/* The words of line as "argc json: w1|w2|...". */
static const char *
split(const char *line, int max)
{
	static char	 out[512];
	char		 buf[512], *argv[10];
	int		 argc, json = -1, i;

	strlcpy(buf, line, sizeof(buf));
	argc = ctlproto_split(buf, argv, max, &json);
	snprintf(out, sizeof(out), "%d %d:", argc, json);
	for (i = 0; i < argc; i++) {
		strlcat(out, i ? "|" : " ", sizeof(out));
		strlcat(out, argv[i], sizeof(out));
	}
	if (argc >= 0 && argv[argc] != NULL)
		strlcat(out, " (argv not NULL-terminated)", sizeof(out));
	return out;
}

static void
test_split(void)
{
	is_str(split("status", 8), "1 0: status", "one word");
	is_str(split("set max-connections 10 1", 8),
	    "4 0: set|max-connections|10|1", "four words");
	is_str(split("  \tset\t\tprotocol  echo \t", 8),
	    "3 0: set|protocol|echo", "runs of spaces and tabs, both ends");
	is_str(split("status\r", 8), "1 0: status", "a trailing CR dropped");
	is_str(split("status\r\r", 8), "1 0: status\r",
	    "only one trailing CR dropped");
	is_str(split("sta\rtus", 8), "1 0: sta\rtus",
	    "a CR inside a word stays in it");
	is_str(split("-j status", 8), "1 1: status", "-j first: JSON");
	is_str(split("\t-j\tstatus", 8), "1 1: status", "-j after a tab");
	is_str(split("-j", 8), "0 1:", "-j alone: JSON, no words");
	is_str(split("-j -j status", 8), "2 1: -j|status",
	    "a second -j is a word");
	is_str(split("status -j", 8), "2 0: status|-j",
	    "-j after the command is an argument");
	is_str(split("-jstatus", 8), "1 0: -jstatus", "-jstatus is one word");
	is_str(split("", 8), "0 0:", "empty line: 0");
	is_str(split(" \t \t", 8), "0 0:", "blanks only: 0");
	is_str(split("\r", 8), "0 0:", "a lone CR: 0");
	is_str(split("a b c d e f g h", 8), "8 0: a|b|c|d|e|f|g|h",
	    "max words: all of them");
	is_str(split("a b c d e f g h i", 8), "-1 0:", "one more than max: -1");
	is_str(split("-j a b c d e f g h", 8), "8 1: a|b|c|d|e|f|g|h",
	    "-j does not count toward max");
	is_str(split("a b c d e f g h  ", 8), "8 0: a|b|c|d|e|f|g|h",
	    "trailing blanks after max words are not a word");
	is_str(split("status", 0), "-1 0:", "max 0: any word is too many");
	is_str(split("", 0), "0 0:", "max 0: an empty line is fine");
}

int
main(void)
{
	test_lookup();
	test_escaping();
	test_split();
	return tap_done();
}

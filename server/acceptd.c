/*
 * acceptd: flags, configuration check, then the master takes over.
 */
#include <err.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acceptd.h"
#include "log.h"
#include "master.h"

#ifndef ACCEPTD_CONF
#define ACCEPTD_CONF	"/usr/local/etc/acceptd.conf"
#endif

extern char **environ;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: acceptd [-dnVv] [-f file]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct conf	 conf;
	const char	*path = ACCEPTD_CONF;
	char		 cwd[PATH_MAX], why[512], *abs = NULL;
	int		 status;
	int		 ch, foreground = 0, check = 0, verbose = 0;

	title_init(argc, argv, environ);
	while ((ch = getopt(argc, argv, "df:nVv")) != -1) {
		switch (ch) {
		case 'd':
			foreground = 1;
			break;
		case 'f':
			path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("acceptd %s\n", ACCEPTD_VERSION);
			exit(0);
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	conf_defaults(&conf);
	if (conf_load(path, &conf, stderr) > 0)
		exit(1);
	if (master_conf_check(&conf, why, sizeof(why)) == -1)
		errx(1, "%s: %s", path, why);
	if (check) {
		if (verbose)
			conf_print(stdout, &conf);
		fprintf(stderr, "configuration OK\n");
		exit(0);
	}
	log_init(1, conf.log_level, "");
	/* daemon() moves to /: a reload must still find the file. */
	if (path[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    asprintf(&abs, "%s/%s", cwd, path) == -1)
			err(1, "%s: making the path absolute", path);
		path = abs;
	}
	master_init(&conf, path, verbose);
	if (control_init(conf.control, why, sizeof(why)) == -1)
		master_abort(why);
	control_start(master_start(foreground));
	status = master_run();
	control_cleanup();
	return status;
}

/*
 * libFuzzer target for acceptd.conf(5): any bytes as a config file, and
 * for one that loads, the promise of conf.h that what conf_print writes
 * parses again and prints the same.  conf_load wants a path, so each
 * input is written to a memfd and opened again through /proc/self/fd.
 */
#include <sys/mman.h>

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct memfile {
	int	fd;
	char	path[64];
};

static struct memfile	 input, printed;
static FILE		*errs;

static void
memfile_open(struct memfile *m, const char *name)
{
	if ((m->fd = memfd_create(name, MFD_CLOEXEC)) == -1)
		err(1, "memfd_create");
	snprintf(m->path, sizeof(m->path), "/proc/self/fd/%d", m->fd);
}

static void
memfile_fill(struct memfile *m, const void *data, size_t n)
{
	if (ftruncate(m->fd, 0) == -1 ||
	    pwrite(m->fd, data, n, 0) != (ssize_t)n)
		err(1, "%s", m->path);
}

/* conf_print's text, malloc'd; *n its length. */
static char *
print_conf(const struct conf *conf, size_t *n)
{
	char	*text = NULL;
	FILE	*f;

	if ((f = open_memstream(&text, n)) == NULL)
		err(1, "open_memstream");
	conf_print(f, conf);
	if (fclose(f) == EOF)
		err(1, "conf_print");
	return text;
}

static void
check_round_trip(const struct conf *conf)
{
	struct conf	 again;
	char		*first, *second;
	size_t		 n1, n2;

	first = print_conf(conf, &n1);
	memfile_fill(&printed, first, n1);
	conf_defaults(&again);
	if (conf_load(printed.path, &again, stderr) != 0) {
		fprintf(stderr, "printed config does not parse:\n%s", first);
		abort();
	}
	second = print_conf(&again, &n2);
	if (n1 != n2 || memcmp(first, second, n1) != 0) {
		fprintf(stderr, "printed twice, differs:\n%s---\n%s", first,
		    second);
		abort();
	}
	free(first);
	free(second);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	conf;

	if (errs == NULL) {
		memfile_open(&input, "conf-input");
		memfile_open(&printed, "conf-printed");
		/* Errors are formatted, as for a user, then thrown away. */
		if ((errs = fopen("/dev/null", "w")) == NULL)
			err(1, "/dev/null");
	}
	memfile_fill(&input, data, size);
	conf_defaults(&conf);
	if (conf_load(input.path, &conf, errs) == 0)
		check_round_trip(&conf);
	return 0;
}

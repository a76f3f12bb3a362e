/*
 * Per-OS calls with nothing but POSIX and what every BSD and macOS have:
 * accept, pipe and socketpair followed by fcntl, closefrom by a loop, a
 * pidfile locked with flock, process titles written over the argument area
 * (as nginx does), and CLOSE_WAIT told by peeking at the receive queue.
 * The BSDs and macOS build this file; PORTABLE=1 builds it on Linux.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os.h"

#define OS_PIDFILE_TRIES	50	/* 10 ms apart: the holder writes soon */

struct os_pidfile {
	int	 fd;
	char	*path;
};

extern char	**environ;

static char	*title_area;		/* argv and environ strings, moved */
static size_t	 title_size;
static char	 title_prog[64];

static int	os_fd_flags(int, int);
static int	os_pidfile_read(const char *, pid_t *);
static char	*os_title_area_end(char *, char **, int);

const char *
os_variant(void)
{
	return "portable";
}

/* Non-blocking (on request) and close-on-exec; closes fd on failure. */
static int
os_fd_flags(int fd, int flags)
{
	int	 fl, saved;

	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		goto fail;
	if (flags & OS_NONBLOCK) {
		if ((fl = fcntl(fd, F_GETFL)) == -1 ||
		    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
			goto fail;
	}
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Between accept and fcntl another thread could fork and exec: there are
 * none here.  A listener's O_NONBLOCK is not inherited on Linux (it is on
 * the BSDs), so it is set either way.
 */
int
os_accept(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	int	 cfd;

	if ((cfd = accept(fd, sa, len)) == -1)
		return -1;
	if (os_fd_flags(cfd, flags) == -1)
		return -1;
	return cfd;
}

int
os_socket(int domain, int type, int protocol, int flags)
{
	int	 fd;

	if ((fd = socket(domain, type, protocol)) == -1)
		return -1;
	if (os_fd_flags(fd, flags) == -1)
		return -1;
	return fd;
}

/* Both ends of a new pair flagged, or both closed. */
static int
os_pair_flags(int fds[2], int flags)
{
	if (os_fd_flags(fds[0], flags) == -1) {
		close(fds[1]);
		return -1;
	}
	if (os_fd_flags(fds[1], flags) == -1) {
		close(fds[0]);
		return -1;
	}
	return 0;
}

int
os_socketpair(int domain, int type, int fds[2], int flags)
{
	if (socketpair(domain, type, 0, fds) == -1)
		return -1;
	return os_pair_flags(fds, flags);
}

int
os_pipe(int fds[2], int flags)
{
	if (pipe(fds) == -1)
		return -1;
	return os_pair_flags(fds, flags);
}

/*
 * Up to the highest descriptor /dev/fd lists (macOS, Linux, FreeBSD with
 * fdescfs), else up to the limit, which may be large: a close each.
 */
void
os_closefrom(int lowfd)
{
	struct dirent	*d;
	DIR		*dir;
	long		 fd, max = -1;

	if ((dir = opendir("/dev/fd")) != NULL) {
		while ((d = readdir(dir)) != NULL)
			if ((fd = strtol(d->d_name, NULL, 10)) > max)
				max = fd;
		closedir(dir);
		if (max < 3)	/* no fdescfs: only 0, 1 and 2 shown */
			max = -1;
	}
	if (max == -1 && ((max = sysconf(_SC_OPEN_MAX)) == -1 ||
	    max > INT_MAX))
		max = 65536;
	for (fd = lowfd; fd <= max; fd++)
		(void)close((int)fd);
}

/*
 * flock, not fcntl locks: those belong to a process and would be lost
 * when daemon() forks; a flock belongs to the open file.
 */
struct os_pidfile *
os_pidfile_open(const char *path, mode_t mode, pid_t *other)
{
	struct os_pidfile	*pf;
	int			 fd, saved;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_NONBLOCK, mode)) == -1)
		return NULL;
	if (os_fd_flags(fd, 0) == -1)
		return NULL;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		saved = errno;
		close(fd);
		if (saved == EWOULDBLOCK) {
			if (other != NULL && os_pidfile_read(path, other) == -1)
				*other = -1;
			saved = EEXIST;
		}
		errno = saved;
		return NULL;
	}
	if (ftruncate(fd, 0) == -1 || (pf = calloc(1, sizeof(*pf))) == NULL ||
	    (pf->path = strdup(path)) == NULL) {
		saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
		return NULL;
	}
	pf->fd = fd;
	return pf;
}

/* The holder may not have written its pid yet: wait a little for it. */
static int
os_pidfile_read(const char *path, pid_t *pid)
{
	char		 buf[32], *end;
	long		 n;
	ssize_t		 len;
	int		 fd, i;

	for (i = 0; i < OS_PIDFILE_TRIES; i++) {
		if ((fd = open(path, O_RDONLY)) == -1)
			return -1;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len > 0) {
			buf[len] = '\0';
			n = strtol(buf, &end, 10);
			if (n > 0 && (*end == '\n' || *end == '\0')) {
				*pid = (pid_t)n;
				return 0;
			}
		}
		usleep(10 * 1000);
	}
	return -1;
}

int
os_pidfile_write(struct os_pidfile *pf)
{
	char	 buf[32];
	int	 len;

	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(pf->fd, 0) == -1 ||
	    pwrite(pf->fd, buf, len, 0) != len)
		return -1;
	return 0;
}

void
os_pidfile_remove(struct os_pidfile *pf)
{
	if (pf == NULL)
		return;
	unlink(pf->path);
	close(pf->fd);
	free(pf->path);
	free(pf);
}

/* The end of the strings laid out one after another from argv[0]. */
static char *
os_title_area_end(char *end, char **strs, int n)
{
	int	 i;

	for (i = 0; (n < 0 || i < n) && strs[i] != NULL; i++)
		if (strs[i] == end)
			end = strs[i] + strlen(strs[i]) + 1;
	return end;
}

/*
 * The arguments and the environment sit one after another; ps reads the
 * title from there.  Both are copied away first (getopt and getenv keep
 * working), then the whole area is the title's.  On failure titles stay.
 */
void
os_title_init(int argc, char **argv, char **envp)
{
	char	**env, *start, *end, *base;
	int	  i, n;

	if (argc <= 0 || argv[0] == NULL)
		return;
	start = argv[0];
	end = start + strlen(start) + 1;
	end = os_title_area_end(end, argv + 1, argc - 1);
	end = os_title_area_end(end, envp, -1);
	for (n = 0; envp[n] != NULL; n++)
		;
	if ((env = calloc(n + 1, sizeof(*env))) == NULL)
		return;
	for (i = 0; i < n; i++)
		if ((env[i] = strdup(envp[i])) == NULL)
			return;
	for (i = 0; i < argc; i++)
		if ((argv[i] = strdup(argv[i])) == NULL)
			return;
	base = strrchr(argv[0], '/');
	snprintf(title_prog, sizeof(title_prog), "%s",
	    base != NULL ? base + 1 : argv[0]);
	environ = env;
	title_area = start;
	title_size = end - start;
}

void
os_title_set(const char *title)
{
	int	 len;

	if (title_area == NULL || title_size < 2)
		return;
	len = snprintf(title_area, title_size, "%s: %s", title_prog, title);
	if (len >= 0 && (size_t)len < title_size)
		memset(title_area + len, '\0', title_size - len);
}

/*
 * Without the kernel's word, a peek: 0 bytes means the FIN has arrived and
 * nothing is left to read.  A FIN behind unread data is not seen.
 */
int
os_tcp_close_wait(int fd)
{
	char	 c;
	ssize_t	 n;

	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0)
		return 1;
	if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
		return -1;
	return 0;
}

/*
 * Per-OS calls on Linux: accept4, pipe2 and socket flags in one call each,
 * libbsd for closefrom, pidfiles and process titles, TCP_INFO for the state
 * of a connection.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <fcntl.h>
#include <libutil.h>
#include <string.h>
#include <unistd.h>

#include "os.h"

/* pidfile_open's handle, under our name. */
struct os_pidfile {
	struct pidfh	*pfh;
};

static char	*args_start, *args_nul;	/* the original argument area */

const char *
os_variant(void)
{
	return "linux";
}

static int
os_sock_flags(int flags)
{
	return SOCK_CLOEXEC | ((flags & OS_NONBLOCK) ? SOCK_NONBLOCK : 0);
}

int
os_accept(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	return accept4(fd, sa, len, os_sock_flags(flags));
}

int
os_socket(int domain, int type, int protocol, int flags)
{
	return socket(domain, type | os_sock_flags(flags), protocol);
}

int
os_socketpair(int domain, int type, int fds[2], int flags)
{
	return socketpair(domain, type | os_sock_flags(flags), 0, fds);
}

int
os_pipe(int fds[2], int flags)
{
	return pipe2(fds, O_CLOEXEC | ((flags & OS_NONBLOCK) ? O_NONBLOCK : 0));
}

void
os_closefrom(int lowfd)
{
	closefrom(lowfd);
}

/* The handle is never freed: the process exits soon after a remove. */
struct os_pidfile *
os_pidfile_open(const char *path, mode_t mode, pid_t *other)
{
	static struct os_pidfile	 pf;

	if ((pf.pfh = pidfile_open(path, mode, other)) == NULL)
		return NULL;
	return &pf;
}

int
os_pidfile_write(struct os_pidfile *pf)
{
	return pidfile_write(pf->pfh);
}

void
os_pidfile_remove(struct os_pidfile *pf)
{
	if (pf != NULL)
		pidfile_remove(pf->pfh);
}

/*
 * libbsd's setproctitle needs setproctitle_init first on Linux.  It leaves
 * a '.' in the original argument area, a mark for Linux to show a title
 * longer than it; for a title that fits, the mark is junk at its end
 * ("acceptd: master      ."): the rest of the area is cleared.
 */
void
os_title_init(int argc, char **argv, char **envp)
{
	if (argc > 0) {
		args_start = argv[0];
		args_nul = argv[argc - 1] + strlen(argv[argc - 1]);
	}
	setproctitle_init(argc, argv, envp);
}

void
os_title_set(const char *title)
{
	size_t	len;

	setproctitle("%s", title);
	if (args_start == NULL)
		return;
	len = strlen(args_start);
	if (args_nul != NULL && len < (size_t)(args_nul - args_start))
		memset(args_start + len, '\0', args_nul - args_start - len);
}

int
os_tcp_close_wait(int fd)
{
	struct tcp_info	ti;
	socklen_t	len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return -1;
	return ti.tcpi_state == TCP_CLOSE_WAIT;
}

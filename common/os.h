/*
 * The system calls that differ between Linux, the BSDs and macOS, behind one
 * interface: os_linux.c uses Linux's (accept4, pipe2, SOCK_CLOEXEC, libbsd),
 * os_portable.c only POSIX and what every BSD has.  PORTABLE=1 builds the
 * latter on Linux too, so the fallbacks are compiled and tested here.
 */
#ifndef OS_H
#define OS_H

#include <sys/types.h>
#include <sys/socket.h>

struct os_pidfile;

const char	*os_variant(void);	/* "linux" or "portable" */

/* Descriptors come back non-blocking (OS_NONBLOCK) and close-on-exec. */
#define OS_NONBLOCK	0x01
int		 os_accept(int fd, struct sockaddr *, socklen_t *, int flags);
int		 os_socket(int domain, int type, int protocol, int flags);
int		 os_socketpair(int domain, int type, int fds[2], int flags);
int		 os_pipe(int fds[2], int flags);
/* Close every descriptor from lowfd up. */
void		 os_closefrom(int lowfd);

/*
 * A locked pidfile: NULL with errno EEXIST and *other set when another
 * process holds it.  Write after daemonizing; remove on exit.
 */
struct os_pidfile *os_pidfile_open(const char *path, mode_t, pid_t *other);
int		 os_pidfile_write(struct os_pidfile *);
void		 os_pidfile_remove(struct os_pidfile *);

/* Process titles as ps shows them: "acceptd: TITLE". */
void		 os_title_init(int argc, char **argv, char **envp);
void		 os_title_set(const char *title);

/*
 * Whether the peer's FIN has arrived on a connection we have not closed
 * (CLOSE_WAIT): 1 or 0, or -1 with errno when it cannot be told.
 */
int		 os_tcp_close_wait(int fd);

/*
 * Where root's runtime directory (acceptd/) goes: /run on Linux; the BSDs
 * and macOS have only /var/run.
 */
#ifdef __linux__
#define OS_RUN_DIR	"/run"
#else
#define OS_RUN_DIR	"/var/run"
#endif

#endif

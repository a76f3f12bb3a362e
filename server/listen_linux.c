/*
 * Reuseport on Linux: SO_REUSEPORT balances new connections over the
 * group's sockets by the connection's hash.  Steering a group: a classic
 * BPF program attached to it picks the socket for each new connection by
 * its index in the group, at random among the indices given.
 */
#include <sys/socket.h>
#include <linux/filter.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "acceptd.h"

#define MIGRATE_SYSCTL	"/proc/sys/net/ipv4/tcp_migrate_req"

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF	51
#endif
#ifndef SO_DETACH_REUSEPORT_BPF
#define SO_DETACH_REUSEPORT_BPF		68
#endif

int
listen_reuseport(int fd, int on)
{
	return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
}

const char *
listen_reuseport_note(void)
{
	return NULL;
}

/*
 * net.ipv4.tcp_migrate_req (Linux 5.14): a listening socket that closes
 * hands the connections queued on it to another socket of its reuseport
 * group instead of resetting them.  Steering by index cannot be exact at
 * the instant a close reorders the group (the kernel moves the last
 * socket into the hole, and an index past the end falls back to a hash
 * over every socket, retired ones too); migration makes that instant lose
 * nothing.  Turned on here when off and we may (root): 1 when on, with
 * *set telling whether we did; 0 when off.
 */
int
listen_migrate(int *set)
{
	char	c = '0';
	int	fd;

	*set = 0;
	if ((fd = open(MIGRATE_SYSCTL, O_RDWR | O_CLOEXEC)) == -1 &&
	    (fd = open(MIGRATE_SYSCTL, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (read(fd, &c, 1) == 1 && c == '1') {
		close(fd);
		return 1;
	}
	if (pwrite(fd, "1\n", 2, 0) == 2)
		*set = 1;
	close(fd);
	return *set;
}

int
listen_steer(int fd, const int *keep, int n)
{
	struct sock_filter	*code;
	struct sock_fprog	 prog;
	int			 i, len = 3 + 2 * n, zero = 0, r;

	if (keep == NULL) {
		if (setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &zero,
		    sizeof(zero)) == -1 && errno != ENOENT)
			return -1;
		return 0;
	}
	if ((code = calloc(len, sizeof(*code))) == NULL)
		return -1;
	/* A = random % n; then A = keep[A] by a jump table. */
	code[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    (unsigned int)(SKF_AD_OFF + SKF_AD_RANDOM));
	code[1] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n);
	for (i = 0; i < n; i++) {
		code[2 + 2 * i] = (struct sock_filter)BPF_JUMP(BPF_JMP |
		    BPF_JEQ | BPF_K, i, 0, 1);
		code[3 + 2 * i] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		    keep[i]);
	}
	code[len - 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, keep[0]);
	prog.len = len;
	prog.filter = code;
	r = setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
	    sizeof(prog));
	free(code);
	return r;
}

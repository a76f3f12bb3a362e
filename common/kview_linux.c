/*
 * Kernel view on Linux: the accept queue from TCP_INFO, sockets from a
 * NETLINK_SOCK_DIAG dump (what ss does), TCP counters from /proc/net.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kview.h"

/* The kernel never builds a dump datagram larger than 32 KiB. */
#define KVIEW_NLBUF	32768
#define KVIEW_NLTIMEOUT	2	/* seconds; a dump answers at once */

/* Every state but TCP_BOUND_INACTIVE (13): bound, never listened. */
#define KVIEW_ALLSTATES	(((1u << KV_NSTATES) - 1) & ~1u)

/*
 * The port filter in the kernel's bytecode (diag_filter): per port two
 * tests (local port, peer port), each a test op and an operand op, and a
 * jump op after every test but the last.
 */
#define KVIEW_BC_TEST	(2 * sizeof(struct inet_diag_bc_op))
#define KVIEW_BC_JUMP	sizeof(struct inet_diag_bc_op)
#define KVIEW_BC_OPS	(2 * KVIEW_PORTS_MAX * 3)

struct kview_request {
	struct nlmsghdr		nlh;
	struct inet_diag_req_v2	req;
	struct nlattr		bc_attr;	/* INET_DIAG_REQ_BYTECODE */
	struct inet_diag_bc_op	bc[KVIEW_BC_OPS];
};

/* The ports asked for, to tell the server side from the client side. */
struct kview_ports {
	const unsigned short	*port;
	int			 n;
};

static int	diag_open(void);
static size_t	diag_filter(struct inet_diag_bc_op *, const unsigned short *,
		    int);
static int	diag_request(int, int, unsigned int,
		    const struct inet_diag_bc_op *, size_t);
static int	diag_receive(int, unsigned int, const struct kview_ports *,
		    void (*)(const struct kview_socket *, void *), void *);
static int	diag_message(const struct nlmsghdr *,
		    const struct kview_ports *,
		    void (*)(const struct kview_socket *, void *), void *);
static int	diag_has_port(const struct kview_ports *, unsigned short);
static void	diag_addr(struct sockaddr_storage *, int, const __be32 *,
		    __be16, unsigned int);
static int	counters_file(const char *, const char *,
		    struct kview_counters *, unsigned int *);
static void	counters_match(char *, char *, struct kview_counters *,
		    unsigned int *);

int
kview_available(void)
{
	return 1;
}

int
kview_listen_queue(int listen_fd, unsigned int *queue, unsigned int *limit)
{
	struct tcp_info	ti;
	socklen_t	len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(listen_fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return -1;
	/* On any other socket these two fields mean something else. */
	if (ti.tcpi_state != KV_LISTEN) {
		errno = EINVAL;
		return -1;
	}
	*queue = ti.tcpi_unacked;
	*limit = ti.tcpi_sacked;
	return 0;
}

int
kview_sockets_ports(const unsigned short *ports, int nports,
    void (*fn)(const struct kview_socket *, void *), void *arg)
{
	static const int	 families[] = { AF_INET, AF_INET6 };
	struct inet_diag_bc_op	 bc[KVIEW_BC_OPS];
	struct kview_ports	 want = { ports, nports };
	size_t			 bclen;
	unsigned int		 i;
	int			 fd, n, total = 0, saved;

	if (ports == NULL || nports < 1 || nports > KVIEW_PORTS_MAX ||
	    fn == NULL) {
		errno = EINVAL;
		return -1;
	}
	for (n = 0; n < nports; n++)
		if (ports[n] == 0) {
			errno = EINVAL;
			return -1;
		}
	bclen = diag_filter(bc, ports, nports);
	/* A fresh socket per call: an error mid-dump leaves nothing behind. */
	if ((fd = diag_open()) == -1)
		return -1;
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		if (diag_request(fd, families[i], i + 1, bc, bclen) == -1 ||
		    (n = diag_receive(fd, i + 1, &want, fn, arg)) == -1) {
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		total += n;
	}
	close(fd);
	return total;
}

static int
diag_open(void)
{
	struct timeval	tv = { KVIEW_NLTIMEOUT, 0 };
	int		fd, saved;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd == -1)
		return -1;
	/* The master must never hang here, whatever the kernel does. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * "sport = P or dport = P" for every port P, as bytecode the kernel runs
 * on each socket (inet_diag_bc_run): an op jumps ahead by "yes" bytes when
 * its test holds and by "no" bytes when not; landing exactly on the end
 * accepts the socket, landing past it (4 bytes past, by convention)
 * rejects it.  The kernel's audit accepts a "no" target only where the
 * chain of "yes" jumps from the start also lands, so "yes" always goes to
 * the next op: a test that holds falls onto a jump op whose "no" leaves
 * for the end, and one that fails skips that jump to the next test.  The
 * last test has no jump after it: its "yes" reaches the end, its "no"
 * lands past it.  A test's operand op carries the port in "no".
 */
static size_t
diag_filter(struct inet_diag_bc_op *bc, const unsigned short *ports,
    int nports)
{
	size_t	ntests = 2 * (size_t)nports, len, i, k = 0;

	len = ntests * KVIEW_BC_TEST + (ntests - 1) * KVIEW_BC_JUMP;
	memset(bc, 0, len);
	for (i = 0; i < ntests; i++) {
		bc[k].code = i % 2 == 0 ? INET_DIAG_BC_S_EQ : INET_DIAG_BC_D_EQ;
		bc[k].yes = KVIEW_BC_TEST;
		bc[k].no = KVIEW_BC_TEST + KVIEW_BC_JUMP;
		bc[k + 1].no = ports[i / 2];
		k += 2;
		if (i == ntests - 1)
			break;
		bc[k].code = INET_DIAG_BC_JMP;
		bc[k].yes = KVIEW_BC_JUMP;
		bc[k].no = len - k * sizeof(bc[0]);
		k++;
	}
	return len;
}

static int
diag_request(int fd, int family, unsigned int seq,
    const struct inet_diag_bc_op *bc, size_t bclen)
{
	struct kview_request	r;
	struct sockaddr_nl	kernel;
	size_t			len;

	memset(&kernel, 0, sizeof(kernel));
	kernel.nl_family = AF_NETLINK;
	memset(&r, 0, sizeof(r));
	len = offsetof(struct kview_request, bc) + bclen;
	r.nlh.nlmsg_len = len;
	r.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	r.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	r.nlh.nlmsg_seq = seq;
	r.req.sdiag_family = family;
	r.req.sdiag_protocol = IPPROTO_TCP;
	r.req.idiag_states = KVIEW_ALLSTATES;
	r.bc_attr.nla_len = NLA_HDRLEN + bclen;
	r.bc_attr.nla_type = INET_DIAG_REQ_BYTECODE;
	memcpy(r.bc, bc, bclen);
	if (sendto(fd, &r, len, 0, (struct sockaddr *)&kernel,
	    sizeof(kernel)) == -1)
		return -1;
	return 0;
}

/* Reads datagrams until NLMSG_DONE; returns sockets matched or -1. */
static int
diag_receive(int fd, unsigned int seq, const struct kview_ports *want,
    void (*fn)(const struct kview_socket *, void *), void *arg)
{
	union {
		struct nlmsghdr	align;
		char		bytes[KVIEW_NLBUF];
	}			 buf;
	struct sockaddr_nl	 from;
	struct iovec		 iov = { buf.bytes, sizeof(buf.bytes) };
	struct msghdr		 msg;
	const struct nlmsghdr	*h;
	ssize_t			 n;
	int			 count = 0, r;

	for (;;) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if ((n = recvmsg(fd, &msg, 0)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			return -1;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			errno = EMSGSIZE;
			return -1;
		}
		if (from.nl_pid != 0)
			continue;	/* not from the kernel */
		for (h = &buf.align; NLMSG_OK(h, n);
		    h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;
			if ((r = diag_message(h, want, fn, arg)) < 0)
				return -1;
			if (r == 2)
				return count;
			count += r;
		}
	}
}

/* One netlink message: -1 error, 0 skipped, 1 a matching socket, 2 done. */
static int
diag_message(const struct nlmsghdr *h, const struct kview_ports *want,
    void (*fn)(const struct kview_socket *, void *), void *arg)
{
	const struct nlmsgerr		*e;
	const struct inet_diag_msg	*d;
	struct kview_socket		 s;

	if (h->nlmsg_type == NLMSG_DONE)
		return 2;
	if (h->nlmsg_type == NLMSG_ERROR) {
		e = NLMSG_DATA(h);
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
			errno = EBADMSG;
		else
			errno = e->error == 0 ? EBADMSG : -e->error;
		return -1;
	}
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*d)))
		return 0;
	d = NLMSG_DATA(h);
	memset(&s, 0, sizeof(s));
	/* The kernel chose already; this only tells the sides apart. */
	if (diag_has_port(want, ntohs(d->id.idiag_sport)))
		s.side = KV_SIDE_SERVER;
	else if (diag_has_port(want, ntohs(d->id.idiag_dport)))
		s.side = KV_SIDE_CLIENT;
	else
		return 0;
	s.state = d->idiag_state;
	diag_addr(&s.local, d->idiag_family, d->id.idiag_src,
	    d->id.idiag_sport, d->id.idiag_if);
	diag_addr(&s.peer, d->idiag_family, d->id.idiag_dst,
	    d->id.idiag_dport, d->id.idiag_if);
	s.rqueue = d->idiag_rqueue;
	s.wqueue = d->idiag_wqueue;
	fn(&s, arg);
	return 1;
}

static int
diag_has_port(const struct kview_ports *want, unsigned short port)
{
	int	i;

	for (i = 0; i < want->n; i++)
		if (want->port[i] == port)
			return 1;
	return 0;
}

/* Address and port arrive in network order, as sockaddrs want them. */
static void
diag_addr(struct sockaddr_storage *ss, int family, const __be32 *addr,
    __be16 port, unsigned int ifindex)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = port;
		memcpy(&sin->sin_addr, addr, sizeof(sin->sin_addr));
	} else if (family == AF_INET6) {
		sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
		memcpy(&sin6->sin6_addr, addr, sizeof(sin6->sin6_addr));
		if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
			sin6->sin6_scope_id = ifindex;
	}
}

int
kview_counters(struct kview_counters *c)
{
	unsigned int	found = 0;

	memset(c, 0, sizeof(*c));
	if (counters_file("/proc/net/netstat", "TcpExt:", c, &found) == -1 ||
	    counters_file("/proc/net/snmp", "Tcp:", c, &found) == -1)
		return -1;
	if (found != (1u << KVIEW_NCOUNTERS) - 1) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/*
 * These files hold pairs of lines, "Section: Name Name ..." then
 * "Section: value value ...": columns vary by kernel, so match by name.
 */
static int
counters_file(const char *path, const char *section,
    struct kview_counters *c, unsigned int *found)
{
	FILE	*f;
	char	*names = NULL, *values = NULL;
	size_t	 namesz = 0, valuesz = 0, seclen = strlen(section);
	int	 saved;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (getline(&names, &namesz, f) != -1) {
		if (strncmp(names, section, seclen) != 0)
			continue;
		if (getline(&values, &valuesz, f) == -1)
			break;
		if (strncmp(values, section, seclen) == 0)
			counters_match(names + seclen, values + seclen, c,
			    found);
	}
	saved = errno;
	if (ferror(f)) {
		free(names);
		free(values);
		fclose(f);
		errno = saved;
		return -1;
	}
	free(names);
	free(values);
	fclose(f);
	return 0;
}

static void
counters_match(char *names, char *values, struct kview_counters *c,
    unsigned int *found)
{
	char			*nsave, *vsave, *name, *value;
	unsigned long long	*field;
	unsigned int		 i;

	name = strtok_r(names, " \n", &nsave);
	value = strtok_r(values, " \n", &vsave);
	for (; name != NULL && value != NULL;
	    name = strtok_r(NULL, " \n", &nsave),
	    value = strtok_r(NULL, " \n", &vsave)) {
		for (i = 0; i < KVIEW_NCOUNTERS; i++) {
			if (strcmp(name, kview_counter_names[i].name) != 0)
				continue;
			field = (unsigned long long *)((char *)c +
			    kview_counter_names[i].offset);
			*field = strtoull(value, NULL, 10);
			*found |= 1u << i;
		}
	}
}

int
kview_process_sleeps(int pid, unsigned long long *sleeps)
{
	char	 path[64], *line = NULL;
	size_t	 cap = 0;
	FILE	*f;
	int	 found = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (!found && getline(&line, &cap, f) != -1)
		found = sscanf(line, "voluntary_ctxt_switches: %llu",
		    sleeps) == 1;
	free(line);
	fclose(f);
	if (!found) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

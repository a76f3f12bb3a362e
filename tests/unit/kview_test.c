/*
 * Unit tests for the kernel view on loopback: the accept queue, sockets by
 * state on both sides of a port (checked against ss), the kernel's port
 * filter with several ports and many sockets, and TCP counters.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kview.h"
#include "sockaddr.h"
#include "../tap.h"

#define BACKLOG		8
#define NCLIENTS	3
#define MAXSOCKETS	128
#define DEADLINE_MS	3000
#define NMANY		2000	/* connections in the many-sockets test */

struct snapshot {
	struct kview_socket	s[MAXSOCKETS];
	int			n, total;
};

/* How often each port was seen, per side, where a port is the other end. */
struct tally {
	unsigned short		port;		/* the port asked for */
	unsigned char		seen[2][65536];	/* [side][other end's port] */
	int			listeners, foreign, total;
};

static long long	now_ms(void);
static int		port_of(const struct sockaddr_storage *);
static void		snapshot_add(const struct kview_socket *, void *);
static int		snapshot_take(struct snapshot *, unsigned short);
static int		snapshot_ports(struct snapshot *,
			    const unsigned short *, int);
static int		snapshot_only(const struct snapshot *,
			    const unsigned short *, int);
static int		snapshot_count(const struct snapshot *, int, int);
static const struct kview_socket *snapshot_find(const struct snapshot *,
			    int, int);
static int		wait_queue(int, unsigned int);
static int		wait_socket(unsigned short, int, int, int,
			    unsigned int);
static int		listener(int, const char *, unsigned short *);
static int		client(int, const char *, unsigned short, int *);
static unsigned int	somaxconn(void);
static void		test_basics(void);
static void		test_ipv4(void);
static int		compare_strings(const void *, const void *);
static void		listing_join(char [][32], int, char *, size_t);
static int		ss_port(const char *);
static void		test_ss(unsigned short);
static void		test_counters(int, int);
static void		test_time_wait(int, unsigned short, int, int);
static void		test_ipv6(void);
static void		test_ports(void);
static void		test_ports_invalid(void);
static void		tally_add(const struct kview_socket *, void *);
static int		raise_fd_limit(rlim_t);
static int		connect_many(int, unsigned short, int *, int *, int);
static void		test_many(void);

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void
snapshot_add(const struct kview_socket *s, void *arg)
{
	struct snapshot	*snap = arg;

	snap->total++;
	if (snap->n < MAXSOCKETS)
		snap->s[snap->n++] = *s;
}

static int
snapshot_take(struct snapshot *snap, unsigned short port)
{
	int	n;

	memset(snap, 0, sizeof(*snap));
	n = kview_sockets(port, snapshot_add, snap);
	if (n == -1)
		tap_diag("kview_sockets(%u): %s", port, strerror(errno));
	else if (n != snap->total)
		tap_diag("kview_sockets returned %d, called back %d times",
		    n, snap->total);
	return n;
}

static int
snapshot_ports(struct snapshot *snap, const unsigned short *ports,
    int nports)
{
	int	n;

	memset(snap, 0, sizeof(*snap));
	n = kview_sockets_ports(ports, nports, snapshot_add, snap);
	if (n == -1)
		tap_diag("kview_sockets_ports(%d ports): %s", nports,
		    strerror(errno));
	return n;
}

/*
 * Whether every socket listed belongs to ports, on the side it claims:
 * its local port is one of them on the server side, its peer port on the
 * client side.
 */
static int
snapshot_only(const struct snapshot *snap, const unsigned short *ports,
    int nports)
{
	const struct kview_socket	*s;
	int				 i, j, mine;

	for (i = 0; i < snap->n; i++) {
		s = &snap->s[i];
		mine = 0;
		for (j = 0; j < nports; j++)
			if (port_of(s->side == KV_SIDE_SERVER ? &s->local :
			    &s->peer) == ports[j])
				mine = 1;
		if (!mine) {
			tap_diag("socket %d->%d listed (side %d)",
			    port_of(&s->local), port_of(&s->peer), s->side);
			return 0;
		}
	}
	return 1;
}

static int
snapshot_count(const struct snapshot *snap, int side, int state)
{
	int	i, n = 0;

	for (i = 0; i < snap->n; i++)
		if (snap->s[i].side == side && snap->s[i].state == state)
			n++;
	return n;
}

/* The socket on side whose other end uses other_port. */
static const struct kview_socket *
snapshot_find(const struct snapshot *snap, int side, int other_port)
{
	const struct kview_socket	*s;
	int				 i;

	for (i = 0; i < snap->n; i++) {
		s = &snap->s[i];
		if (s->side != side)
			continue;
		if (side == KV_SIDE_SERVER &&
		    port_of(&s->peer) == other_port)
			return s;
		if (side == KV_SIDE_CLIENT &&
		    port_of(&s->local) == other_port)
			return s;
	}
	return NULL;
}

static int
wait_queue(int lfd, unsigned int want)
{
	long long	deadline = now_ms() + DEADLINE_MS;
	unsigned int	queue = 0, limit;

	while (now_ms() < deadline) {
		if (kview_listen_queue(lfd, &queue, &limit) == -1)
			return -1;
		if (queue == want)
			return (int)queue;
		poll(NULL, 0, 10);
	}
	return (int)queue;
}

/* Polls until the socket of side/other_port has state and rqueue. */
static int
wait_socket(unsigned short port, int side, int other_port, int state,
    unsigned int rqueue)
{
	struct snapshot			 snap;
	const struct kview_socket	*s = NULL;
	long long			 deadline = now_ms() + DEADLINE_MS;

	while (now_ms() < deadline) {
		if (snapshot_take(&snap, port) == -1)
			return 0;
		s = snapshot_find(&snap, side, other_port);
		if (s != NULL && s->state == state && s->rqueue == rqueue)
			return 1;
		poll(NULL, 0, 10);
	}
	if (s == NULL)
		tap_diag("no socket on side %d for port %d", side, other_port);
	else
		tap_diag("last seen %s rqueue %u", kview_state_name(s->state),
		    s->rqueue);
	return 0;
}

/* An IPv4 or IPv6 address and port in ss; its length. */
static socklen_t
address(struct sockaddr_storage *ss, int family, const char *addr,
    unsigned short port)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	ss->ss_family = family;
	if (family == AF_INET) {
		inet_pton(AF_INET, addr, &sin->sin_addr);
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
	inet_pton(AF_INET6, addr, &sin6->sin6_addr);
	sin6->sin6_port = htons(port);
	return sizeof(*sin6);
}

static int
port_of(const struct sockaddr_storage *ss)
{
	return (int)sockaddr_port((const union sockaddr_any *)ss);
}

static int
listener(int family, const char *addr, unsigned short *port)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = address(&ss, family, addr, 0);
	int			 fd;

	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, BACKLOG) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		close(fd);
		return -1;
	}
	*port = port_of(&ss);
	return fd;
}

/* A connected client; *local_port is its ephemeral port. */
static int
client(int family, const char *addr, unsigned short port, int *local_port)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = address(&ss, family, addr, port);
	int			 fd;

	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		close(fd);
		return -1;
	}
	*local_port = port_of(&ss);
	return fd;
}

static unsigned int
somaxconn(void)
{
	FILE		*f;
	unsigned int	 v = 4096;

	if ((f = fopen("/proc/sys/net/core/somaxconn", "r")) != NULL) {
		if (fscanf(f, "%u", &v) != 1)
			v = 4096;
		fclose(f);
	}
	return v;
}

static void
test_basics(void)
{
	unsigned int	q, l;
	int		fd;

	ok(kview_available() == 1, "kview available on Linux");
	is_str(kview_state_name(KV_CLOSE_WAIT), "CLOSE_WAIT", "state name");
	is_str(kview_state_name(KV_NEW_SYN_RECV), "NEW_SYN_RECV",
	    "last state name");
	is_str(kview_state_name(0), "UNKNOWN", "state 0 is unknown");
	is_str(kview_state_name(KV_NSTATES), "UNKNOWN", "out of range");
	is_int(sizeof(kview_counter_names) / sizeof(kview_counter_names[0]),
	    8, "eight counter names");
	is_str(kview_counter_names[0].name, "ListenOverflows", "first name");
	is_str(kview_counter_names[KVIEW_NCOUNTERS - 1].name, "OutRsts",
	    "last name");
	ok(kview_sockets(0, snapshot_add, NULL) == -1 && errno == EINVAL,
	    "port 0 refused with EINVAL");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ok(kview_listen_queue(fd, &q, &l) == -1 && errno == EINVAL,
	    "listen queue of a non-listener: EINVAL");
	close(fd);
}

static void
test_ipv4(void)
{
	struct snapshot			 snap;
	const struct kview_socket	*s;
	struct sockaddr_in		*sin;
	unsigned short			 port;
	unsigned int			 q = 99, l = 0, want;
	int				 lfd, i, n;
	int				 c[NCLIENTS], cport[NCLIENTS];

	if ((lfd = listener(AF_INET, "127.0.0.1", &port)) == -1) {
		ok(0, "listen on 127.0.0.1: %s", strerror(errno));
		return;
	}
	want = somaxconn() < BACKLOG ? somaxconn() : BACKLOG;
	ok(kview_listen_queue(lfd, &q, &l) == 0, "listen queue read");
	is_int(q, 0, "empty accept queue");
	is_int(l, want, "limit is min(backlog, somaxconn)");

	for (i = 0; i < NCLIENTS; i++)
		if ((c[i] = client(AF_INET, "127.0.0.1", port,
		    &cport[i])) == -1) {
			ok(0, "connect %d: %s", i, strerror(errno));
			return;
		}
	is_int(wait_queue(lfd, NCLIENTS), NCLIENTS,
	    "three unaccepted connections queued");

	n = snapshot_take(&snap, port);
	ok(n >= 2 * NCLIENTS + 1, "sockets listed");
	is_int(n, snap.total, "returned count equals the callbacks made");
	is_int(snapshot_count(&snap, KV_SIDE_SERVER, KV_LISTEN), 1,
	    "one listener");
	is_int(snapshot_count(&snap, KV_SIDE_SERVER, KV_ESTABLISHED), NCLIENTS,
	    "server-side children ESTABLISHED");
	is_int(snapshot_count(&snap, KV_SIDE_CLIENT, KV_ESTABLISHED), NCLIENTS,
	    "client sides ESTABLISHED");
	s = NULL;
	for (i = 0; i < snap.n; i++)
		if (snap.s[i].state == KV_LISTEN)
			s = &snap.s[i];
	ok(s != NULL && s->rqueue == NCLIENTS && s->wqueue == want,
	    "listener Recv-Q/Send-Q are queue and limit");
	sin = s != NULL ? (struct sockaddr_in *)&s->local : NULL;
	ok(sin != NULL && sin->sin_family == AF_INET &&
	    sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK) &&
	    ntohs(sin->sin_port) == port, "listener address 127.0.0.1:port");

	ok(write(c[0], "hello", 5) == 5, "client 0 sends 5 bytes");
	ok(wait_socket(port, KV_SIDE_SERVER, cport[0], KV_ESTABLISHED, 5),
	    "unaccepted child holds 5 bytes in Recv-Q");
	close(c[0]);
	ok(wait_socket(port, KV_SIDE_SERVER, cport[0], KV_CLOSE_WAIT, 6),
	    "after the client's FIN: CLOSE_WAIT, Recv-Q bytes+1");
	ok(wait_socket(port, KV_SIDE_CLIENT, cport[0], KV_FIN_WAIT2, 0),
	    "closed client in FIN_WAIT2");

	test_ss(port);
	test_counters(lfd, cport[0]);
	test_time_wait(lfd, port, c[1], cport[1]);
	for (i = 2; i < NCLIENTS; i++)
		close(c[i]);
	close(lfd);
}

/* ss's names for our states, as its sstate_name table has them. */
static const char *const ss_names[KV_NSTATES] = {
	"UNKNOWN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1",
	"FIN-WAIT-2", "TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK",
	"LISTEN", "CLOSING", "SYN-RECV"
};

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Sorted "STATE/Recv-Q" words joined, so two listings compare as text. */
static void
listing_join(char words[][32], int n, char *out, size_t outsz)
{
	int	i;

	qsort(words, n, sizeof(words[0]), compare_strings);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		strlcat(out, words[i], outsz);
		strlcat(out, " ", outsz);
	}
}

static int
ss_port(const char *address)
{
	const char	*colon = strrchr(address, ':');

	return colon == NULL ? -1 : atoi(colon + 1);
}

static void
test_ss(unsigned short port)
{
	struct snapshot	 snap;
	char		 ours[MAXSOCKETS][32], theirs[MAXSOCKETS][32];
	char		 a[4096], b[4096], line[512], state[16];
	char		 local[128], peer[128];
	unsigned int	 rq, wq;
	int		 i, n = 0, m = 0;
	FILE		*p;

	if (system("command -v ss >/dev/null 2>&1") != 0) {
		ok(1, "# skip ss(8) not installed (iproute2)");
		return;
	}
	if (snapshot_take(&snap, port) == -1 ||
	    (p = popen("ss -tanH 2>/dev/null", "r")) == NULL) {
		ok(0, "listings taken");
		return;
	}
	for (i = 0; i < snap.n; i++)
		snprintf(ours[n++], sizeof(ours[0]), "%s/%u",
		    ss_names[snap.s[i].state], snap.s[i].rqueue);
	while (fgets(line, sizeof(line), p) != NULL && m < MAXSOCKETS) {
		if (sscanf(line, "%15s %u %u %127s %127s", state, &rq, &wq,
		    local, peer) != 5)
			continue;
		if (ss_port(local) == port || ss_port(peer) == port)
			snprintf(theirs[m++], sizeof(theirs[0]), "%s/%u",
			    state, rq);
	}
	pclose(p);
	listing_join(ours, n, a, sizeof(a));
	listing_join(theirs, m, b, sizeof(b));
	tap_diag("kview: %s", a);
	is_str(a, b, "same states and Recv-Q as ss -tan");
}

/* Accepting client 0's child and closing it unread must send an RST. */
static void
test_counters(int lfd, int cport)
{
	struct kview_counters		 before, after;
	struct sockaddr_in		 peer;
	socklen_t			 len = sizeof(peer);
	const unsigned long long	*b, *a;
	int				 fd, i, rising = 1;

	ok(kview_counters(&before) == 0, "counters read");
	fd = accept(lfd, (struct sockaddr *)&peer, &len);
	ok(fd != -1 && ntohs(peer.sin_port) == cport,
	    "first accept is client 0's child");
	if (fd != -1)
		close(fd);
	ok(kview_counters(&after) == 0, "counters read again");
	for (i = 0; i < KVIEW_NCOUNTERS; i++) {
		b = (const void *)((const char *)&before +
		    kview_counter_names[i].offset);
		a = (const void *)((const char *)&after +
		    kview_counter_names[i].offset);
		if (*a < *b) {
			tap_diag("%s went from %llu to %llu",
			    kview_counter_names[i].name, *b, *a);
			rising = 0;
		}
	}
	ok(rising, "no counter decreased");
	ok(after.out_rsts > before.out_rsts, "OutRsts rose (%llu -> %llu)",
	    before.out_rsts, after.out_rsts);
	ok(after.abort_on_close > before.abort_on_close,
	    "TCPAbortOnClose rose (%llu -> %llu)", before.abort_on_close,
	    after.abort_on_close);
}

/* The side that closes first ends in TIME_WAIT, and the dump shows it. */
static void
test_time_wait(int lfd, unsigned short port, int cfd, int cport)
{
	int	fd;

	if ((fd = accept(lfd, NULL, NULL)) == -1) {
		ok(0, "accept: %s", strerror(errno));
		return;
	}
	close(fd);
	ok(wait_socket(port, KV_SIDE_CLIENT, cport, KV_CLOSE_WAIT, 1),
	    "client sees the server's FIN: CLOSE_WAIT");
	close(cfd);
	ok(wait_socket(port, KV_SIDE_SERVER, cport, KV_TIME_WAIT, 0),
	    "server child that closed first is in TIME_WAIT");
}

static void
test_ipv6(void)
{
	struct snapshot			 snap;
	const struct kview_socket	*s;
	struct sockaddr_in6		*sin6;
	unsigned short			 port, oport;
	unsigned int			 q, l;
	int				 lfd, c, cport, olfd, oc, ocport;

	if ((lfd = listener(AF_INET6, "::1", &port)) == -1) {
		ok(1, "# skip no IPv6 loopback: %s", strerror(errno));
		return;
	}
	ok(kview_listen_queue(lfd, &q, &l) == 0 && q == 0,
	    "IPv6 listener: empty queue");
	if ((c = client(AF_INET6, "::1", port, &cport)) == -1) {
		ok(0, "connect to [::1]: %s", strerror(errno));
		close(lfd);
		return;
	}
	is_int(wait_queue(lfd, 1), 1, "IPv6: one queued connection");
	if ((olfd = listener(AF_INET6, "::1", &oport)) == -1 ||
	    (oc = client(AF_INET6, "::1", oport, &ocport)) == -1) {
		ok(0, "second IPv6 listener and client: %s", strerror(errno));
		return;
	}
	is_int(wait_queue(olfd, 1), 1, "IPv6: one queued on another port");
	is_int(snapshot_take(&snap, port), 3,
	    "IPv6: listener, child and client listed, no more");
	ok(snapshot_only(&snap, &port, 1),
	    "IPv6: nothing of the other port listed");
	s = snapshot_find(&snap, KV_SIDE_SERVER, 0);
	sin6 = s != NULL ? (struct sockaddr_in6 *)&s->local : NULL;
	ok(s != NULL && s->state == KV_LISTEN && sin6->sin6_family ==
	    AF_INET6 && IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr),
	    "IPv6 listener found on [::1]");
	s = snapshot_find(&snap, KV_SIDE_SERVER, cport);
	ok(s != NULL && s->state == KV_ESTABLISHED, "IPv6 child ESTABLISHED");
	s = snapshot_find(&snap, KV_SIDE_CLIENT, cport);
	ok(s != NULL && s->state == KV_ESTABLISHED &&
	    s->peer.ss_family == AF_INET6, "IPv6 client side ESTABLISHED");
	close(oc);
	close(olfd);
	close(c);
	close(lfd);
}

/*
 * Two IPv4 listeners and one of each on IPv6, one unaccepted client each:
 * one port lists its own three sockets only, both ports list all, and the
 * sides follow the ports asked for.
 */
static void
test_ports(void)
{
	struct snapshot	 snap;
	unsigned short	 ports[KVIEW_PORTS_MAX], both[4];
	int		 lfd[2], c[2], cport[2], i;

	for (i = 0; i < 2; i++)
		if ((lfd[i] = listener(AF_INET, "127.0.0.1", &both[i])) == -1 ||
		    (c[i] = client(AF_INET, "127.0.0.1", both[i],
		    &cport[i])) == -1 || wait_queue(lfd[i], 1) != 1) {
			ok(0, "listener and client %d: %s", i, strerror(errno));
			return;
		}
	is_int(snapshot_ports(&snap, &both[0], 1), 3,
	    "one port: its listener, child and client");
	ok(snapshot_only(&snap, &both[0], 1) &&
	    snapshot_find(&snap, KV_SIDE_SERVER, cport[0]) != NULL &&
	    snapshot_find(&snap, KV_SIDE_CLIENT, cport[0]) != NULL,
	    "nothing of the other port, both sides of its own");
	is_int(snapshot_ports(&snap, both, 2), 6, "two ports: six sockets");
	ok(snapshot_only(&snap, both, 2), "only those of the two ports");
	is_int(snapshot_count(&snap, KV_SIDE_SERVER, KV_LISTEN), 2,
	    "two listeners, server side");
	is_int(snapshot_count(&snap, KV_SIDE_SERVER, KV_ESTABLISHED), 2,
	    "two children, server side");
	is_int(snapshot_count(&snap, KV_SIDE_CLIENT, KV_ESTABLISHED), 2,
	    "two clients, client side");
	both[2] = both[1];
	both[3] = both[0];
	is_int(snapshot_ports(&snap, both, 4), 6,
	    "a port given twice lists its sockets once");

	/* The longest filter: the kernel's audit must take it too. */
	for (i = 0; i < KVIEW_PORTS_MAX; i++)
		ports[i] = both[i % 2];
	is_int(snapshot_ports(&snap, ports, KVIEW_PORTS_MAX), 6,
	    "%d ports, the longest filter: the same six", KVIEW_PORTS_MAX);
	for (i = 0; i < 2; i++) {
		close(c[i]);
		close(lfd[i]);
	}
}

static void
test_ports_invalid(void)
{
	unsigned short	ports[KVIEW_PORTS_MAX + 1];
	int		i;

	memset(ports, 0, sizeof(ports));
	ports[0] = 80;

	ok(kview_sockets_ports(ports, 0, snapshot_add, NULL) == -1 &&
	    errno == EINVAL, "no port: EINVAL");
	ok(kview_sockets_ports(NULL, 1, snapshot_add, NULL) == -1 &&
	    errno == EINVAL, "no port array: EINVAL");
	ok(kview_sockets_ports(ports, 2, snapshot_add, NULL) == -1 &&
	    errno == EINVAL, "a port 0 among others: EINVAL");
	for (i = 0; i <= KVIEW_PORTS_MAX; i++)
		ports[i] = 80;
	ok(kview_sockets_ports(ports, KVIEW_PORTS_MAX + 1, snapshot_add,
	    NULL) == -1 && errno == EINVAL, "more than %d ports: EINVAL",
	    KVIEW_PORTS_MAX);
}

static void
tally_add(const struct kview_socket *s, void *arg)
{
	struct tally	*t = arg;
	int		 other;

	t->total++;
	if (s->state == KV_LISTEN) {
		t->listeners++;
		return;
	}
	if (s->side == KV_SIDE_SERVER && port_of(&s->local) == t->port)
		other = port_of(&s->peer);
	else if (s->side == KV_SIDE_CLIENT && port_of(&s->peer) == t->port)
		other = port_of(&s->local);
	else {
		t->foreign++;
		return;
	}
	if (t->seen[s->side][other] < 255)
		t->seen[s->side][other]++;
}

/* Room for want descriptors, within the hard limit; 0 or -1. */
static int
raise_fd_limit(rlim_t want)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur >= want)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		return -1;
	rl.rlim_cur = want;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

/* n clients of port, each accepted at once; how many made it. */
static int
connect_many(int lfd, unsigned short port, int *c, int *cport, int n)
{
	int	i, a;

	for (i = 0; i < n; i++) {
		if ((c[2 * i] = client(AF_INET, "127.0.0.1", port,
		    &cport[i])) == -1)
			break;
		if ((a = accept(lfd, NULL, NULL)) == -1) {
			close(c[2 * i]);
			break;
		}
		c[2 * i + 1] = a;
	}
	return i;
}

/*
 * Many connections, and as many on another port: every one of ours is
 * listed exactly once on each side, none of the others, across the many
 * datagrams a dump this size takes.
 */
static void
test_many(void)
{
	static struct tally	 t;
	unsigned short		 port, oport;
	int			*fds, *cport, lfd, olfd, n, on, i, once = 1;

	if (raise_fd_limit(4 * NMANY + 64) == -1) {
		ok(1, "# skip %d descriptors not allowed", 4 * NMANY + 64);
		return;
	}
	fds = calloc(4 * NMANY, sizeof(*fds));
	cport = calloc(2 * NMANY, sizeof(*cport));
	if (fds == NULL || cport == NULL ||
	    (lfd = listener(AF_INET, "127.0.0.1", &port)) == -1 ||
	    (olfd = listener(AF_INET, "127.0.0.1", &oport)) == -1) {
		ok(0, "many: set up: %s", strerror(errno));
		return;
	}
	n = connect_many(lfd, port, fds, cport, NMANY);
	on = connect_many(olfd, oport, fds + 2 * n, cport + n, NMANY);
	ok(n == NMANY && on == NMANY, "%d + %d connections made (want %d + "
	    "%d)", n, on, NMANY, NMANY);
	memset(&t, 0, sizeof(t));
	t.port = port;
	is_int(kview_sockets(port, tally_add, &t), 2 * n + 1,
	    "many: returned count is both sides of ours plus the listener");
	is_int(t.total, 2 * n + 1, "many: as many callbacks");
	is_int(t.listeners, 1, "many: one listener");
	is_int(t.foreign, 0, "many: none of the other port");
	for (i = 0; i < n; i++)
		if (t.seen[KV_SIDE_SERVER][cport[i]] != 1 ||
		    t.seen[KV_SIDE_CLIENT][cport[i]] != 1) {
			tap_diag("client port %d seen %d/%d times", cport[i],
			    t.seen[KV_SIDE_SERVER][cport[i]],
			    t.seen[KV_SIDE_CLIENT][cport[i]]);
			once = 0;
			break;
		}
	ok(once, "many: each connection once on each side");
	for (i = 0; i < 2 * (n + on); i++)
		close(fds[i]);
	close(lfd);
	close(olfd);
	free(fds);
	free(cport);
}

int
main(void)
{
	test_basics();
	test_ipv4();
	test_ipv6();
	test_ports();
	test_ports_invalid();
	test_many();
	return tap_done();
}

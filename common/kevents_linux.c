/*
 * Kernel events on Linux: five tracepoints read from a tracefs instance of
 * our own (instances/acceptd.PID.N), so nothing global is touched and any
 * number of daemons can trace at once.  The instance exists only while
 * open; one left by a daemon that died is removed by the next opener.
 *
 * The records are read in the ring buffer's binary form (per CPU,
 * trace_pipe_raw), with field offsets from each event's "format" file, so
 * the socket pointer that the text form leaves out is there to match a
 * dropped packet to its socket.  Layout of a buffer page
 * (kernel/trace/ring_buffer.c, the "header_page" and "header_event"
 * files): a 64-bit time stamp, a commit word (length; the top bits flag
 * lost events), then records, each a 32-bit header (type_len: 5 bits,
 * time_delta: 27 bits) and its data.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kview.h"
#include "sockaddr.h"

#define TRACEFS		"/sys/kernel/tracing"
#define KE_PREFIX	"acceptd."
#define KE_BUFFER_KB	"4096"		/* per CPU */
#define KE_CPUS_MAX	1024
#define KE_SYMS_MAX	256
#define KE_TABLE	4096		/* sockets known by address */
#define KE_PROBE	16
#define KE_TW_NS	(60ULL * 1000000000)	/* TIME_WAIT, at most */
#define KE_FILTER_MAX	4000		/* tracefs takes a page */

/* Ring buffer record types (type_len) above the data lengths. */
#define RB_PADDING	29
#define RB_TIME_EXTEND	30
#define RB_TIME_STAMP	31
#define RB_MISSED	(3UL << 30)	/* RB_MISSED_EVENTS | _STORED */
#define RB_MISSED_STORED (1UL << 30)	/* the count follows the data */
#define KE_PAGES_MAX	1024		/* per CPU and pass */
#define RB_TS_BITS	59		/* an absolute stamp's width */

enum ke_field {
	F_SKADDR, F_RXSK, F_OLDSTATE, F_NEWSTATE, F_STATE, F_REASON,
	F_SPORT, F_DPORT, F_FAMILY, F_PROTOCOL, F_SADDR, F_DADDR,
	F_SADDR6, F_DADDR6, F_NFIELDS
};

static const char *const field_names[F_NFIELDS] = {
	"skaddr", "rx_sk", "oldstate", "newstate", "state", "reason",
	"sport", "dport", "family", "protocol", "saddr", "daddr",
	"saddr_v6", "daddr_v6"
};

enum ke_tp { TP_STATE, TP_SEND_RESET, TP_RECV_RESET, TP_SYNACK, TP_DROP,
	TP_N };

/* Each tracepoint, the fields it must have, and the kind it becomes. */
static const struct {
	const char	*path;		/* under events/ */
	int		 kind;
	unsigned int	 needs;		/* 1 << enum ke_field */
} tps[TP_N] = {
	{ "sock/inet_sock_set_state", KE_STATE,
	    1 << F_SKADDR | 1 << F_OLDSTATE | 1 << F_NEWSTATE | 1 << F_SPORT |
	    1 << F_DPORT | 1 << F_FAMILY | 1 << F_PROTOCOL | 1 << F_SADDR |
	    1 << F_DADDR | 1 << F_SADDR6 | 1 << F_DADDR6 },
	{ "tcp/tcp_send_reset", KE_RST_SENT,
	    1 << F_SKADDR | 1 << F_STATE | 1 << F_REASON | 1 << F_SADDR |
	    1 << F_DADDR },
	{ "tcp/tcp_receive_reset", KE_RST_RECEIVED,
	    1 << F_SKADDR | 1 << F_SPORT | 1 << F_DPORT | 1 << F_FAMILY |
	    1 << F_SADDR | 1 << F_DADDR | 1 << F_SADDR6 | 1 << F_DADDR6 },
	{ "tcp/tcp_retransmit_synack", KE_SYNACK_RETRANSMIT,
	    1 << F_SKADDR | 1 << F_SPORT | 1 << F_DPORT | 1 << F_FAMILY |
	    1 << F_SADDR | 1 << F_DADDR | 1 << F_SADDR6 | 1 << F_DADDR6 },
	{ "skb/kfree_skb", KE_DROP,
	    1 << F_RXSK | 1 << F_PROTOCOL | 1 << F_REASON },
};

struct ke_sym {
	long		 value;
	char		*name;
};

struct ke_point {
	int		 id;
	int		 off[F_NFIELDS], size[F_NFIELDS];
	struct ke_sym	 sym[KE_SYMS_MAX];	/* the reason's names */
	int		 nsym;
};

/* A socket met in an event, to name the socket of a later drop. */
struct ke_sock {
	uint64_t		sk;		/* 0: free */
	uint64_t		expire_ns;	/* 0: until it closes */
	union sockaddr_any	local, peer;
};

/* A record read, before it is matched and put in order. */
struct ke_raw {
	struct kevent		 e;
	uint64_t		 sk;		/* the socket it is about */
	uint64_t		 seq;		/* read order: ties keep it */
	int			 tp;		/* enum ke_tp; -1: lost */
};

struct kevents {
	char			 dir[128];	/* the instance */
	char			 missing[256];	/* events this kernel lacks */
	unsigned short		 port[KVIEW_PORTS_MAX];
	int			 nport;
	struct ke_point		 tp[TP_N];
	int			 fd[KE_CPUS_MAX];
	int			 nfd;
	size_t			 pagesize;
	unsigned char		*page;
	struct ke_raw		*raw;		/* one pass over every CPU */
	size_t			 nraw, raw_cap;
	struct ke_sock		 sock[KE_TABLE];
};

static int	ke_write(const struct kevents *, const char *, const char *);
static int	ke_format(struct kevents *, int, char *, size_t);
static void	ke_symbols(struct ke_point *, const char *);
static void	ke_filters(struct kevents *);
static int	ke_open_cpus(struct kevents *, char *, size_t);
static void	ke_sweep(void);
static void	ke_page(struct kevents *, const unsigned char *, size_t);
static void	ke_record(struct kevents *, const unsigned char *, size_t,
		    uint64_t);
static struct ke_raw *ke_raw_new(struct kevents *);
static void	ke_apply(struct kevents *, struct ke_raw *,
		    void (*)(const struct kevent *, void *), void *);

struct kevents *
kevents_open(const unsigned short *ports, int nports, char *why, size_t len)
{
	static unsigned int	 seq;
	struct kevents		*ke;
	char			 path[192];
	int			 i;

	if (nports < 1 || nports > KVIEW_PORTS_MAX) {
		snprintf(why, len, "no port to trace");
		return NULL;
	}
	if (geteuid() != 0) {
		snprintf(why, len, "the daemon is not root (tracefs needs "
		    "root)");
		return NULL;
	}
	if (access(TRACEFS "/instances", F_OK) == -1) {
		snprintf(why, len, "tracefs is not mounted at " TRACEFS
		    " (mount -t tracefs nodev " TRACEFS ")");
		return NULL;
	}
	ke_sweep();
	if ((ke = calloc(1, sizeof(*ke))) == NULL) {
		snprintf(why, len, "%s", strerror(errno));
		return NULL;
	}
	memcpy(ke->port, ports, nports * sizeof(*ports));
	ke->nport = nports;
	/* The pid for the sweep; more, as another pid namespace has ours. */
	snprintf(ke->dir, sizeof(ke->dir), TRACEFS "/instances/" KE_PREFIX
	    "%ld.%u.%08x", (long)getpid(), seq++, arc4random());
	if (mkdir(ke->dir, 0700) == -1) {
		snprintf(why, len, "%s: %s", ke->dir, strerror(errno));
		free(ke);
		return NULL;
	}
	/* Times on CLOCK_MONOTONIC; a reader woken by any event at all. */
	if (ke_write(ke, "trace_clock", "mono") == -1 ||
	    ke_write(ke, "buffer_size_kb", KE_BUFFER_KB) == -1) {
		snprintf(why, len, "%s: %s", ke->dir, strerror(errno));
		goto fail;
	}
	(void)ke_write(ke, "buffer_percent", "0");	/* older: always 0 */
	/* Without state changes there is no account; the rest may lack. */
	for (i = 0; i < TP_N; i++)
		if (ke_format(ke, i, why, len) == -1) {
			if (i == TP_STATE)
				goto fail;
			ke->tp[i].id = -1;
			snprintf(ke->missing + strlen(ke->missing),
			    sizeof(ke->missing) - strlen(ke->missing), "%s%s",
			    ke->missing[0] != '\0' ? "; " : "", why);
		}
	ke_filters(ke);
	for (i = 0; i < TP_N; i++) {
		if (ke->tp[i].id == -1)
			continue;
		snprintf(path, sizeof(path), "events/%s/enable", tps[i].path);
		if (ke_write(ke, path, "1") == -1) {
			snprintf(why, len, "enable %s: %s", tps[i].path,
			    strerror(errno));
			goto fail;
		}
	}
	if (ke_open_cpus(ke, why, len) == -1)
		goto fail;
	return ke;
fail:
	kevents_close(ke);
	return NULL;
}

const int *
kevents_fds(const struct kevents *ke, int *n)
{
	*n = ke->nfd;
	return ke->fd;
}

const char *
kevents_missing(const struct kevents *ke)
{
	return ke->missing;
}

void
kevents_close(struct kevents *ke)
{
	int	i, j;

	if (ke == NULL)
		return;
	for (i = 0; i < ke->nfd; i++)
		close(ke->fd[i]);
	for (i = 0; i < TP_N; i++)
		for (j = 0; j < ke->tp[i].nsym; j++)
			free(ke->tp[i].sym[j].name);
	(void)ke_write(ke, "tracing_on", "0");
	/* Busy only while a file in it is open: none is now. */
	(void)rmdir(ke->dir);
	free(ke->page);
	free(ke->raw);
	free(ke);
}

static int
ke_raw_cmp(const void *a, const void *b)
{
	const struct ke_raw	*x = a, *y = b;

	if (x->e.mono_ns != y->e.mono_ns)
		return x->e.mono_ns < y->e.mono_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * One pass: every CPU's buffer read out, then the records matched and
 * handed over in time order, so the table of sockets sees a socket's
 * events in the order they happened whichever CPU saw them.
 */
int
kevents_read(struct kevents *ke, void (*fn)(const struct kevent *, void *),
    void *arg)
{
	ssize_t	n;
	size_t	i;
	int	cpu, pages, rc = 0;

	ke->nraw = 0;
	for (cpu = 0; cpu < ke->nfd; cpu++)
		for (pages = 0; pages < KE_PAGES_MAX; pages++) {
			n = read(ke->fd[cpu], ke->page, ke->pagesize);
			if (n == -1 && errno != EAGAIN && errno != EINTR)
				rc = -1;
			if (n <= 0)
				break;
			ke_page(ke, ke->page, (size_t)n);
		}
	if (ke->nraw > 1)
		qsort(ke->raw, ke->nraw, sizeof(*ke->raw), ke_raw_cmp);
	for (i = 0; i < ke->nraw; i++)
		ke_apply(ke, &ke->raw[i], fn, arg);
	ke->nraw = 0;
	return rc;
}

static int
ke_write(const struct kevents *ke, const char *file, const char *value)
{
	char	path[256];
	size_t	len = strlen(value);
	int	fd, saved;

	snprintf(path, sizeof(path), "%s/%s", ke->dir, file);
	if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) == -1)
		return -1;
	if (write(fd, value, len) != (ssize_t)len) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

/* An event's id and the offsets of the fields it must have. */
static int
ke_format(struct kevents *ke, int i, char *why, size_t len)
{
	struct ke_point	*tp = &ke->tp[i];
	char		 path[256], line[8192], name[64], *p, *q;
	unsigned int	 have = 0;
	int		 f, off, size;
	FILE		*fp;

	snprintf(path, sizeof(path), "%s/events/%s/format", ke->dir,
	    tps[i].path);
	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(why, len, "this kernel lacks the event %s (%s)",
		    tps[i].path, strerror(errno));
		return -1;
	}
	tp->id = -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "ID: %d", &tp->id) == 1)
			continue;
		if (strncmp(line, "print fmt:", 10) == 0) {
			ke_symbols(tp, line);
			continue;
		}
		/* "\tfield:TYPE NAME[N];\toffset:O;\tsize:S;..." */
		if ((p = strstr(line, "field:")) == NULL ||
		    (q = strchr(p, ';')) == NULL ||
		    sscanf(q, ";\toffset:%d;\tsize:%d;", &off, &size) != 2)
			continue;
		*q = '\0';
		if ((p = strrchr(p, ' ')) == NULL)
			continue;
		strlcpy(name, p + 1, sizeof(name));
		name[strcspn(name, "[")] = '\0';
		for (f = 0; f < F_NFIELDS; f++)
			if (strcmp(name, field_names[f]) == 0) {
				tp->off[f] = off;
				tp->size[f] = size;
				have |= 1u << f;
			}
	}
	fclose(fp);
	if (tp->id < 0 || (have & tps[i].needs) != tps[i].needs) {
		snprintf(why, len, "the event %s has a format this build does "
		    "not know", tps[i].path);
		return -1;
	}
	return 0;
}

/*
 * The names of the reason field's values, from the print format:
 * __print_symbolic(REC->reason, { 0, "NOT_SPECIFIED" }, ...).
 */
static void
ke_symbols(struct ke_point *tp, const char *fmt)
{
	const char	*p;
	char		 name[64];
	long		 value;
	int		 used;

	if ((p = strstr(fmt, "__print_symbolic(REC->reason,")) == NULL)
		return;
	p += strlen("__print_symbolic(REC->reason,");
	while (tp->nsym < KE_SYMS_MAX && sscanf(p, " { %ld, \"%63[^\"]\" }%n",
	    &value, name, &used) == 2) {
		if ((tp->sym[tp->nsym].name = strdup(name)) == NULL)
			return;
		tp->sym[tp->nsym++].value = value;
		p += used;
		if (*p == ',')
			p++;
	}
}

static const char *
ke_symbol(const struct ke_point *tp, long value)
{
	int	i;

	for (i = 0; i < tp->nsym; i++)
		if (tp->sym[i].value == value)
			return tp->sym[i].name;
	return "UNKNOWN";
}

/*
 * Choose in the kernel where the event carries ports, so a busy host's
 * other traffic never reaches us.  tcp_send_reset has none (matched by its
 * addresses here); kfree_skb has neither ports nor addresses (matched by
 * its socket).  A filter too long for tracefs is left to user space.
 */
static void
ke_filters(struct kevents *ke)
{
	char	ports[KE_FILTER_MAX], filter[KE_FILTER_MAX + 64], path[128];
	size_t	len = 0;
	long	unspecified = -1;
	int	i;

	ports[0] = '\0';
	for (i = 0; i < ke->nport && len < sizeof(ports); i++)
		len += snprintf(ports + len, sizeof(ports) - len,
		    "%ssport == %u || dport == %u", i > 0 ? " || " : "",
		    ke->port[i], ke->port[i]);
	if (len < sizeof(ports)) {
		snprintf(filter, sizeof(filter), "protocol == %d && (%s)",
		    IPPROTO_TCP, ports);
		snprintf(path, sizeof(path), "events/%s/filter",
		    tps[TP_STATE].path);
		(void)ke_write(ke, path, filter);
		snprintf(path, sizeof(path), "events/%s/filter",
		    tps[TP_RECV_RESET].path);
		(void)ke_write(ke, path, ports);
		snprintf(path, sizeof(path), "events/%s/filter",
		    tps[TP_SYNACK].path);
		(void)ke_write(ke, path, ports);
	}
	/* IPv4 and IPv6 (ethertypes), and never "no reason given". */
	for (i = 0; i < ke->tp[TP_DROP].nsym; i++)
		if (strcmp(ke->tp[TP_DROP].sym[i].name, "NOT_SPECIFIED") == 0)
			unspecified = ke->tp[TP_DROP].sym[i].value;
	snprintf(filter, sizeof(filter), "(protocol == 2048 || protocol == "
	    "34525) && reason != %ld && rx_sk != 0", unspecified);
	snprintf(path, sizeof(path), "events/%s/filter", tps[TP_DROP].path);
	if (ke_write(ke, path, filter) == -1) {	/* no pointer compare */
		*strstr(filter, " && rx_sk") = '\0';
		(void)ke_write(ke, path, filter);
	}
}

static int
ke_open_cpus(struct kevents *ke, char *why, size_t len)
{
	char		 path[512];
	struct dirent	*d;
	DIR		*dir;
	FILE		*fp;
	long		 kb = 0;
	int		 fd;

	ke->pagesize = (size_t)sysconf(_SC_PAGESIZE);
	snprintf(path, sizeof(path), "%s/buffer_subbuf_size_kb", ke->dir);
	if ((fp = fopen(path, "re")) != NULL) {
		if (fscanf(fp, "%ld", &kb) == 1 && kb > 0)
			ke->pagesize = (size_t)kb * 1024;
		fclose(fp);
	}
	if ((ke->page = malloc(ke->pagesize)) == NULL) {
		snprintf(why, len, "%s", strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/per_cpu", ke->dir);
	if ((dir = opendir(path)) == NULL) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((d = readdir(dir)) != NULL && ke->nfd < KE_CPUS_MAX) {
		if (strncmp(d->d_name, "cpu", 3) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/per_cpu/%s/trace_pipe_raw",
		    ke->dir, d->d_name);
		if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) ==
		    -1) {
			snprintf(why, len, "%s: %s", path, strerror(errno));
			closedir(dir);
			return -1;
		}
		ke->fd[ke->nfd++] = fd;
	}
	closedir(dir);
	if (ke->nfd == 0) {
		snprintf(why, len, "%s/per_cpu: no CPU", ke->dir);
		return -1;
	}
	return 0;
}

/* Remove instances whose daemon is gone (killed before it could). */
static void
ke_sweep(void)
{
	char		 path[512];
	struct dirent	*d;
	DIR		*dir;
	long		 pid;

	if ((dir = opendir(TRACEFS "/instances")) == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		if (sscanf(d->d_name, KE_PREFIX "%ld.", &pid) != 1 ||
		    pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), TRACEFS "/instances/%s",
		    d->d_name);
		(void)rmdir(path);
	}
	closedir(dir);
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void
ke_page(struct kevents *ke, const unsigned char *page, size_t n)
{
	struct ke_raw	*lost;
	const size_t	 hdr = sizeof(uint64_t) + sizeof(long);
	unsigned long	 commit;
	uint64_t	 ts;
	uint32_t	 h, type, delta, len;
	size_t		 off, end;

	if (n < hdr)
		return;
	ts = get64(page);
	memcpy(&commit, page + sizeof(uint64_t), sizeof(commit));
	end = hdr + (commit & ~RB_MISSED);
	if (end > n)
		end = n;
	if ((commit & RB_MISSED) && (lost = ke_raw_new(ke)) != NULL) {
		lost->e.mono_ns = ts;
		lost->e.kind = KE_LOST;
		lost->tp = -1;
		/* ring_buffer_read_page() stores the count if it fits. */
		if ((commit & RB_MISSED_STORED) && end + sizeof(long) <= n)
			memcpy(&lost->e.count, page + end, sizeof(long));
	}
	for (off = hdr; off + 4 <= end; ) {
		h = get32(page + off);
		type = h & 0x1f;
		delta = h >> 5;
		if (type == RB_PADDING) {
			if (delta == 0 || off + 8 > end)
				break;		/* the rest is padding */
			off += 4 + get32(page + off + 4);
		} else if (type == RB_TIME_EXTEND || type == RB_TIME_STAMP) {
			if (off + 8 > end)
				break;
			if (type == RB_TIME_EXTEND)
				ts += (uint64_t)get32(page + off + 4) << 27 |
				    delta;
			else
				ts = ((uint64_t)get32(page + off + 4) << 27 |
				    delta) | (ts & ~((1ULL << RB_TS_BITS) - 1));
			off += 8;
		} else if (type == 0) {		/* length in the next word */
			if (off + 8 > end)
				break;
			len = get32(page + off + 4);
			ts += delta;
			if (len < 4 || off + 4 + len > end)
				break;
			ke_record(ke, page + off + 8, len - 4, ts);
			off += 4 + len;
		} else {
			len = type * 4;
			ts += delta;
			if (off + 4 + len > end)
				break;
			ke_record(ke, page + off + 4, len, ts);
			off += 4 + len;
		}
	}
}

/* A field of up to 8 bytes as an unsigned number (host order). */
static uint64_t
ke_num(const struct ke_point *tp, const unsigned char *d, size_t n, int f)
{
	uint64_t	v8;
	uint32_t	v4;
	uint16_t	v2;

	if ((size_t)tp->off[f] + tp->size[f] > n)
		return 0;
	switch (tp->size[f]) {
	case 8:
		memcpy(&v8, d + tp->off[f], 8);
		return v8;
	case 4:
		memcpy(&v4, d + tp->off[f], 4);
		return v4;
	case 2:
		memcpy(&v2, d + tp->off[f], 2);
		return v2;
	case 1:
		return d[tp->off[f]];
	}
	return 0;
}

/* Address and port fields of the "family, sport, saddr, saddr_v6" kind. */
static void
ke_addr(const struct ke_point *tp, const unsigned char *d, size_t n,
    int addr, int addr6, int port, union sockaddr_any *sa)
{
	memset(sa, 0, sizeof(*sa));
	if ((size_t)tp->off[addr6] + 16 > n || (size_t)tp->off[addr] + 4 > n)
		return;
	if (ke_num(tp, d, n, F_FAMILY) == AF_INET6) {
		sa->sin6.sin6_family = AF_INET6;
		memcpy(&sa->sin6.sin6_addr, d + tp->off[addr6], 16);
		sa->sin6.sin6_port = htons(ke_num(tp, d, n, port));
	} else {
		sa->sin.sin_family = AF_INET;
		memcpy(&sa->sin.sin_addr, d + tp->off[addr], 4);
		sa->sin.sin_port = htons(ke_num(tp, d, n, port));
	}
}

/* tcp_send_reset's addresses: a struct sockaddr_in or _in6 each. */
static void
ke_sockaddr(const struct ke_point *tp, const unsigned char *d, size_t n,
    int f, union sockaddr_any *sa)
{
	sa_family_t	family;

	memset(sa, 0, sizeof(*sa));
	if (tp->size[f] < (int)sizeof(struct sockaddr_in6) ||
	    (size_t)tp->off[f] + sizeof(struct sockaddr_in6) > n)
		return;
	memcpy(&family, d + tp->off[f], sizeof(family));
	if (family == AF_INET)
		memcpy(&sa->sin, d + tp->off[f], sizeof(sa->sin));
	else if (family == AF_INET6)
		memcpy(&sa->sin6, d + tp->off[f], sizeof(sa->sin6));
}

static int
ke_ours(const struct kevents *ke, const union sockaddr_any *a,
    const union sockaddr_any *b)
{
	unsigned int	pa = sockaddr_port(a), pb = sockaddr_port(b);
	int		i;

	for (i = 0; i < ke->nport; i++)
		if (ke->port[i] == pa || ke->port[i] == pb)
			return 1;
	return 0;
}

/*
 * The live entry for the socket at address sk; with add, else a place for
 * it: a free slot, or one whose socket is gone, or (all taken) the first.
 */
static struct ke_sock *
ke_find(struct kevents *ke, uint64_t sk, int add, uint64_t now)
{
	struct ke_sock	*s, *spare = NULL;
	unsigned int	 h, i;

	h = (unsigned int)((sk * 0x9e3779b97f4a7c15ULL) >> 52);	/* 12 bits */
	for (i = 0; i < KE_PROBE; i++) {
		s = &ke->sock[(h + i) % KE_TABLE];
		if (s->sk == sk && (s->expire_ns == 0 || s->expire_ns > now))
			return s;
		if (spare == NULL && (s->sk == 0 || (s->expire_ns != 0 &&
		    s->expire_ns <= now)))
			spare = s;
	}
	if (!add)
		return NULL;
	return spare != NULL ? spare : &ke->sock[h % KE_TABLE];
}

static void
ke_remember(struct kevents *ke, uint64_t sk, const struct kevent *e,
    uint64_t expire_ns)
{
	struct ke_sock	*s;

	if (sk == 0)
		return;
	s = ke_find(ke, sk, 1, e->mono_ns);
	s->sk = sk;
	s->expire_ns = expire_ns;
	memcpy(&s->local, &e->local, sizeof(s->local));
	memcpy(&s->peer, &e->peer, sizeof(s->peer));
}

static void
ke_forget(struct kevents *ke, uint64_t sk, uint64_t now)
{
	struct ke_sock	*s;

	/* Leaving a hole would cut later probes short: mark it gone. */
	if ((s = ke_find(ke, sk, 0, now)) != NULL)
		s->expire_ns = 1;
}

static struct ke_raw *
ke_raw_new(struct kevents *ke)
{
	struct ke_raw	*r;
	size_t		 cap;

	if (ke->nraw == ke->raw_cap) {
		cap = ke->raw_cap ? ke->raw_cap * 2 : 1024;
		if ((r = reallocarray(ke->raw, cap, sizeof(*r))) == NULL)
			return NULL;
		ke->raw = r;
		ke->raw_cap = cap;
	}
	r = &ke->raw[ke->nraw];
	memset(r, 0, sizeof(*r));
	r->seq = ke->nraw++;
	return r;
}

/* A record's fields, before anything is matched. */
static void
ke_record(struct kevents *ke, const unsigned char *d, size_t n, uint64_t ts)
{
	union sockaddr_any	 local, peer;
	const struct ke_point	*tp;
	struct ke_raw		*r;
	uint16_t		 type;
	int			 i;

	if (n < sizeof(type))
		return;
	memcpy(&type, d, sizeof(type));
	for (i = 0; i < TP_N && ke->tp[i].id != type; i++)
		;
	if (i == TP_N)
		return;
	tp = &ke->tp[i];
	memset(&local, 0, sizeof(local));
	memset(&peer, 0, sizeof(peer));
	if (i == TP_STATE && ke_num(tp, d, n, F_PROTOCOL) != IPPROTO_TCP)
		return;
	if ((r = ke_raw_new(ke)) == NULL)
		return;
	r->tp = i;
	r->e.mono_ns = ts;
	r->e.kind = tps[i].kind;
	switch (i) {
	case TP_STATE:
		ke_addr(tp, d, n, F_SADDR, F_SADDR6, F_SPORT, &local);
		ke_addr(tp, d, n, F_DADDR, F_DADDR6, F_DPORT, &peer);
		r->e.from = (int)ke_num(tp, d, n, F_OLDSTATE);
		r->e.to = (int)ke_num(tp, d, n, F_NEWSTATE);
		break;
	case TP_SEND_RESET:
		/* saddr is the sender's end, socket or not (tcp.h). */
		ke_sockaddr(tp, d, n, F_SADDR, &local);
		ke_sockaddr(tp, d, n, F_DADDR, &peer);
		r->e.to = (int)ke_num(tp, d, n, F_STATE);
		r->e.reason = ke_symbol(tp, (long)ke_num(tp, d, n, F_REASON));
		break;
	case TP_RECV_RESET:
	case TP_SYNACK:
		ke_addr(tp, d, n, F_SADDR, F_SADDR6, F_SPORT, &local);
		ke_addr(tp, d, n, F_DADDR, F_DADDR6, F_DPORT, &peer);
		break;
	case TP_DROP:
		r->e.reason = ke_symbol(tp, (long)ke_num(tp, d, n, F_REASON));
		break;
	}
	memcpy(&r->e.local, &local, sizeof(local));
	memcpy(&r->e.peer, &peer, sizeof(peer));
	if (i == TP_DROP)
		r->sk = ke_num(tp, d, n, F_RXSK);
	else if (tp->size[F_SKADDR] == 8)
		r->sk = ke_num(tp, d, n, F_SKADDR);
}

/* In time order: match to our ports or sockets, learn sockets, hand over. */
static void
ke_apply(struct kevents *ke, struct ke_raw *r,
    void (*fn)(const struct kevent *, void *), void *arg)
{
	union sockaddr_any	 local, peer;
	struct ke_sock		*s;
	uint64_t		 ts = r->e.mono_ns;

	if (r->tp == -1) {
		fn(&r->e, arg);
		return;
	}
	if (r->tp == TP_DROP) {
		if (r->sk == 0 || (s = ke_find(ke, r->sk, 0, ts)) == NULL)
			return;		/* not a socket of ours */
		memcpy(&r->e.local, &s->local, sizeof(s->local));
		memcpy(&r->e.peer, &s->peer, sizeof(s->peer));
		fn(&r->e, arg);
		return;
	}
	memcpy(&local, &r->e.local, sizeof(local));
	memcpy(&peer, &r->e.peer, sizeof(peer));
	if (!ke_ours(ke, &local, &peer))
		return;
	if (r->tp == TP_STATE && r->e.to == KV_CLOSE)
		ke_forget(ke, r->sk, ts);
	else if (r->tp == TP_SYNACK) {	/* the listener: its peer is many */
		memset(&r->e.peer, 0, sizeof(r->e.peer));
		ke_remember(ke, r->sk, &r->e, 0);
		memcpy(&r->e.peer, &peer, sizeof(peer));
	} else
		ke_remember(ke, r->sk, &r->e, r->e.to == KV_TIME_WAIT ?
		    ts + KE_TW_NS : 0);
	fn(&r->e, arg);
}

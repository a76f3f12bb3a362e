/*
 * The kernel's view of a listening port: accept queue, sockets by TCP state,
 * TCP counters.  One file per OS implements it; callers never test the OS.
 */
#ifndef KVIEW_H
#define KVIEW_H

#include <sys/socket.h>

#include <stddef.h>

/* TCP states, numbered as Linux numbers them (inet_diag reports these). */
enum kview_state {
	KV_ESTABLISHED = 1,
	KV_SYN_SENT,
	KV_SYN_RECV,
	KV_FIN_WAIT1,
	KV_FIN_WAIT2,
	KV_TIME_WAIT,
	KV_CLOSE,
	KV_CLOSE_WAIT,
	KV_LAST_ACK,
	KV_LISTEN,
	KV_CLOSING,
	KV_NEW_SYN_RECV,	/* a request socket: SYN answered, no ACK yet */
	KV_NSTATES
};

/* Which end of the connection the port belongs to. */
enum kview_side {
	KV_SIDE_SERVER = 0,	/* local port is the port asked for */
	KV_SIDE_CLIENT = 1	/* peer port is the port asked for */
};

struct kview_socket {
	int			state;		/* enum kview_state */
	int			side;		/* enum kview_side */
	struct sockaddr_storage	local, peer;
	unsigned int		rqueue, wqueue;	/* Recv-Q, Send-Q as ss shows
						   them; for LISTEN: queue
						   length and backlog */
};

/* TCP counters of the caller's network namespace, since boot. */
struct kview_counters {
	unsigned long long	listen_overflows;
	unsigned long long	listen_drops;
	unsigned long long	reqq_full_drop;
	unsigned long long	reqq_full_do_cookies;
	unsigned long long	embryonic_rsts;
	unsigned long long	abort_on_data;
	unsigned long long	abort_on_close;
	unsigned long long	out_rsts;
};

/* The kernel's names for the fields above, for printing, in field order. */
#define KVIEW_NCOUNTERS	8
struct kview_counter_name {
	const char	*name;		/* "ListenOverflows", ... "OutRsts" */
	size_t		 offset;	/* in struct kview_counters */
};
extern const struct kview_counter_name kview_counter_names[KVIEW_NCOUNTERS];

/*
 * Whether this platform has the socket list and the counters.  Each function
 * also fails alone with ENOTSUP when its part is missing, so a caller can
 * print "not available on this platform" per item.
 */
int	kview_available(void);

/* "ESTABLISHED", "CLOSE_WAIT", ...; "UNKNOWN" for anything else. */
const char *kview_state_name(int state);

/*
 * A listener's accept queue: connections completed and not yet accepted,
 * and the limit the kernel applies (min(backlog, somaxconn)).  0 or -1 with
 * errno (EINVAL: not a listening TCP socket).
 */
int	kview_listen_queue(int listen_fd, unsigned int *queue,
	    unsigned int *limit);

/*
 * Every TCP socket, IPv4 and IPv6, in any state, whose local or peer port
 * is one of ports (host order, 1 to KVIEW_PORTS_MAX of them): calls fn for
 * each, once.  A socket whose local port is one of them is on the server
 * side.  The kernel does the choosing: only the sockets listed cross into
 * user space, however many the host has.  Returns how many, or -1 with
 * errno (EINVAL: no port, a port 0, too many); fn may have been called for
 * some before an error.
 */
#define KVIEW_PORTS_MAX	256
int	kview_sockets_ports(const unsigned short *ports, int nports,
	    void (*fn)(const struct kview_socket *, void *), void *arg);

/* The same for one port. */
int	kview_sockets(unsigned short port,
	    void (*fn)(const struct kview_socket *, void *), void *arg);

/* 0, or -1 with errno (ENOENT: the kernel lacks one of the counters). */
int	kview_counters(struct kview_counters *);

/*
 * How many times a process went to sleep of its own accord.  A worker
 * woken for a connection that another worker took goes back to sleep
 * inside the kernel, never returning to user space: this is where the
 * thundering herd on a shared listener shows.  0, or -1 with errno.
 */
int	kview_process_sleeps(int pid, unsigned long long *sleeps);

/*
 * Kernel events: the kernel's own account of the TCP sockets on some ports,
 * as it happens (Linux: tracepoints read from a private tracefs instance,
 * which exists only while open).  Each event names the socket it is about
 * by its own address (local) and its peer's; a server-side socket has one of
 * the ports as local, a local client's socket as peer.
 */
enum kevent_kind {
	KE_STATE = 0,		/* from -> to */
	KE_RST_SENT,		/* reason, state of the sender (0: none) */
	KE_RST_RECEIVED,
	KE_SYNACK_RETRANSMIT,
	KE_DROP,		/* a packet freed for a reason */
	KE_LOST,		/* the kernel's buffer overflowed: events lost */
	KE_NKINDS
};

struct kevent {
	unsigned long long	 mono_ns;	/* CLOCK_MONOTONIC */
	int			 kind;		/* enum kevent_kind */
	int			 from, to;	/* enum kview_state; 0: none */
	const char		*reason;	/* the kernel's name, or NULL */
	unsigned long		 count;		/* KE_LOST: how many; 0: unknown */
	struct sockaddr_storage	 local, peer;	/* AF_UNSPEC: not known */
};

struct kevents;

/*
 * Start recording events for sockets whose local or peer port is one of
 * ports (1 to KVIEW_PORTS_MAX).  NULL with why set when this host cannot:
 * not root, no tracefs, an event missing, another platform.
 */
struct kevents	*kevents_open(const unsigned short *ports, int nports,
		    char *why, size_t);
/* The descriptors to wait on for reading (count into *n). */
const int	*kevents_fds(const struct kevents *, int *n);
/* The events this kernel lacks, and why ("" when none): the rest work. */
const char	*kevents_missing(const struct kevents *);
/*
 * Everything recorded so far, on every CPU, each event to fn in time
 * order.  0, or -1 with errno (what could be read was handed over).
 */
int		 kevents_read(struct kevents *,
		    void (*fn)(const struct kevent *, void *), void *);
/* Stop and remove every trace of it. */
void		 kevents_close(struct kevents *);
/* "state", "rst-sent", "rst-received", "synack-retransmit", "drop", "lost" */
const char	*kevent_name(int kind);

#endif

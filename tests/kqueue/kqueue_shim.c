/*
 * kqueue(2) emulated over epoll, so the kqueue backend of the event loop
 * runs its tests, and the whole daemon (make EV=kqueue), on Linux.  Only
 * read and write filters, as ev_kqueue.c uses.  Never kinder than kqueue:
 * a queue is dead in a forked child, a listener's read event carries the
 * accept queue's length, EV_EOF and fflags follow kqueue(2).
 */
#include <sys/epoll.h>
#include <sys/event.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHIM_READ	0x01
#define SHIM_WRITE	0x02

/*
 * Linux cannot tell a socket's pending error without clearing it (SO_ERROR
 * does), and clearing it would change what the program's next read sees.
 * So fflags carries ECONNRESET when the connection is gone (TCP state
 * CLOSE: a reset, or a timeout) and this stand-in otherwise; FreeBSD would
 * give the socket error itself.
 */
#define SHIM_SOCKET_ERROR	EIO

/* What the descriptor is, looked up when a filter is added. */
enum shim_kind { SHIM_OTHER, SHIM_SOCKET, SHIM_TCP, SHIM_LISTENER };

struct shim_fd {
	int		 added;		/* SHIM_READ, SHIM_WRITE */
	int		 enabled;
	int		 in_epoll;
	enum shim_kind	 kind;
	void		*udata[2];
};

/*
 * One per kqueue; the kqueue's descriptor is its epoll descriptor.  The
 * epoll descriptor survives fork, a kqueue does not: pid tells them apart.
 */
struct shim_queue {
	pid_t			 pid;
	struct shim_fd		*fds;
	int			 nfds;
	struct epoll_event	*buf;
	int			 nbuf;
};

/*
 * Indexed by descriptor.  A queue closed with close(2) is not seen here, so
 * its state stays until kqueue() returns the same number again.
 */
static struct shim_queue	*shim_queues;
static int			 shim_nqueues;

static int	shim_grow(void **, int *, int, size_t);
static int	shim_apply(int, struct shim_queue *, const struct kevent *);
static int	shim_sync(int, int, struct shim_fd *, int);
static int	shim_wait(int, struct shim_queue *, struct kevent *, int,
		    const struct timespec *);
static int	shim_split(struct shim_queue *, const struct epoll_event *,
		    struct kevent *, int, int);
static enum shim_kind	shim_kind(int);
static int	shim_tcp_state(int);
static int64_t	shim_read_data(int, enum shim_kind);
static unsigned int	shim_error(int, enum shim_kind, uint32_t);
static int	shim_write_eof(int, enum shim_kind, uint32_t);

/* Grows a zero-filled array so that index i is valid. */
static int
shim_grow(void **array, int *n, int i, size_t size)
{
	void	*p;
	int	 want;

	if (i < *n)
		return 0;
	want = *n > 0 ? *n : 16;
	while (want <= i)
		want = want > INT_MAX / 2 ? INT_MAX : want * 2;
	if ((p = reallocarray(*array, want, size)) == NULL)
		return -1;
	memset((char *)p + (size_t)*n * size, 0, (size_t)(want - *n) * size);
	*array = p;
	*n = want;
	return 0;
}

int
kqueue(void)
{
	struct shim_queue	*q;
	int			 kq;

	if ((kq = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	if (shim_grow((void **)&shim_queues, &shim_nqueues, kq,
	    sizeof(*shim_queues)) == -1) {
		close(kq);
		errno = ENOMEM;
		return -1;
	}
	q = &shim_queues[kq];
	free(q->fds);
	free(q->buf);
	memset(q, 0, sizeof(*q));
	q->pid = getpid();
	return kq;
}

/*
 * Changes first, each answered in eventlist when it fails or asks for a
 * receipt (as FreeBSD does, returning at once if any were answered); then
 * the wait.
 */
int
kevent(int kq, const struct kevent *changelist, int nchanges,
    struct kevent *eventlist, int nevents, const struct timespec *timeout)
{
	struct shim_queue	*q;
	struct kevent		 kev;
	int			 i, error, nout = 0;

	if (kq < 0 || kq >= shim_nqueues || fcntl(kq, F_GETFD) == -1 ||
	    shim_queues[kq].pid != getpid()) {
		errno = EBADF;	/* a kqueue is not inherited by fork */
		return -1;
	}
	q = &shim_queues[kq];
	for (i = 0; i < nchanges; i++) {
		kev = changelist[i];
		error = shim_apply(kq, q, &kev);
		if (error == 0 && !(kev.flags & EV_RECEIPT))
			continue;
		if (nout < nevents) {
			kev.flags = EV_ERROR;
			kev.data = error;
			eventlist[nout++] = kev;
		} else if (error != 0) {
			errno = error;
			return -1;
		}
	}
	if (nout > 0)
		return nout;
	if (nevents <= 0)
		return 0;
	return shim_wait(kq, q, eventlist, nevents, timeout);
}

/* Applies one change; returns 0 or an errno value. */
static int
shim_apply(int kq, struct shim_queue *q, const struct kevent *kev)
{
	struct shim_fd	*f;
	int		 bit, added, enabled, error, fd = (int)kev->ident;

	if (kev->filter != EVFILT_READ && kev->filter != EVFILT_WRITE)
		return EINVAL;
	if (kev->ident > INT_MAX)
		return EBADF;
	if (fcntl(fd, F_GETFD) == -1) {
		/* close(2) took the filters with it, as in the kernel. */
		if (fd < q->nfds)
			memset(&q->fds[fd], 0, sizeof(q->fds[fd]));
		return EBADF;
	}
	if (shim_grow((void **)&q->fds, &q->nfds, fd, sizeof(*q->fds)) == -1)
		return ENOMEM;
	f = &q->fds[fd];
	bit = kev->filter == EVFILT_READ ? SHIM_READ : SHIM_WRITE;
	added = f->added;
	enabled = f->enabled;
	if (kev->flags & EV_ADD) {
		added |= bit;
		enabled |= bit;
	} else if (!(f->added & bit))
		return ENOENT;
	if (kev->flags & EV_DELETE)
		added &= ~bit;
	if (kev->flags & EV_ENABLE)
		enabled |= bit;
	if (kev->flags & (EV_DISABLE | EV_DELETE))
		enabled &= ~bit;
	enabled &= added;
	/* A failed delete still forgets the filter; a failed add does not. */
	if ((error = shim_sync(kq, fd, f, enabled)) != 0 &&
	    !(kev->flags & EV_DELETE))
		return error;
	f->added = added;
	f->enabled = enabled;
	if (kev->flags & EV_ADD) {
		f->udata[bit == SHIM_READ ? 0 : 1] = kev->udata;
		f->kind = shim_kind(fd);
	}
	return error;
}

/* Brings the epoll registration in line with the enabled filters. */
static int
shim_sync(int kq, int fd, struct shim_fd *f, int enabled)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.data.fd = fd;
	if (enabled & SHIM_READ)
		ev.events |= EPOLLIN | EPOLLRDHUP;
	if (enabled & SHIM_WRITE)
		ev.events |= EPOLLOUT;
	if (enabled == 0) {
		if (!f->in_epoll)
			return 0;
		f->in_epoll = 0;
		if (epoll_ctl(kq, EPOLL_CTL_DEL, fd, &ev) == -1)
			return errno;
		return 0;
	}
	/* A closed and reused fd left epoll on its own: fall back to ADD. */
	if (f->in_epoll && epoll_ctl(kq, EPOLL_CTL_MOD, fd, &ev) == 0)
		return 0;
	if (epoll_ctl(kq, EPOLL_CTL_ADD, fd, &ev) == -1 &&
	    (errno != EEXIST || epoll_ctl(kq, EPOLL_CTL_MOD, fd, &ev) == -1)) {
		f->in_epoll = 0;
		return errno;
	}
	f->in_epoll = 1;
	return 0;
}

static int
shim_wait(int kq, struct shim_queue *q, struct kevent *eventlist, int nevents,
    const struct timespec *timeout)
{
	long long	 ms = -1;
	int		 i, n, max, nout = 0;

	if (timeout != NULL) {
		ms = (long long)timeout->tv_sec * 1000 +
		    (timeout->tv_nsec + 999999) / 1000000;
		if (ms > INT_MAX)
			ms = INT_MAX;
		if (ms < 0)
			ms = 0;
	}
	/* Each epoll event can become two kevents. */
	max = (nevents + 1) / 2;
	if (shim_grow((void **)&q->buf, &q->nbuf, max - 1,
	    sizeof(*q->buf)) == -1) {
		errno = ENOMEM;
		return -1;
	}
	if ((n = epoll_wait(kq, q->buf, max, (int)ms)) == -1)
		return -1;
	for (i = 0; i < n; i++)
		nout = shim_split(q, &q->buf[i], eventlist, nout, nevents);
	return nout;
}

static enum shim_kind
shim_kind(int fd)
{
	struct stat	 st;
	socklen_t	 len;
	int		 on = 0, type = 0;

	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
		return SHIM_OTHER;
	len = sizeof(on);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on)
		return SHIM_LISTENER;
	len = sizeof(type);
	if (shim_tcp_state(fd) != -1 && getsockopt(fd, SOL_SOCKET, SO_TYPE,
	    &type, &len) == 0 && type == SOCK_STREAM)
		return SHIM_TCP;
	return SHIM_SOCKET;
}

static int
shim_tcp_state(int fd)
{
	struct tcp_info	 ti;
	socklen_t	 len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return -1;
	return ti.tcpi_state;
}

/*
 * A listener's data is its accept queue's length, as on the BSDs; Linux
 * gives it for TCP as tcpi_unacked.  That is FreeBSD's count (sol_qlen:
 * completed connections only); XNU's (so_qlen) adds the handshakes in
 * progress, which Linux keeps apart as request sockets.  The daemon does
 * not read it.  A UNIX listener's length is not to be had without
 * sock_diag: it shows 1, the least a readable one has.  Anything else:
 * the bytes there are to read.
 */
static int64_t
shim_read_data(int fd, enum shim_kind kind)
{
	struct tcp_info	 ti;
	socklen_t	 len = sizeof(ti);
	int		 readable = 0;

	if (kind == SHIM_LISTENER) {
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
			return 1;
		return ti.tcpi_unacked;
	}
	if (ioctl(fd, FIONREAD, &readable) == -1)
		return 0;
	return readable;
}

/* kqueue(2): fflags holds the socket error, if any; pipes have none. */
static unsigned int
shim_error(int fd, enum shim_kind kind, uint32_t e)
{
	if (!(e & EPOLLERR) || kind == SHIM_OTHER)
		return 0;
	if (kind == SHIM_TCP && shim_tcp_state(fd) == TCP_CLOSE)
		return ECONNRESET;
	return SHIM_SOCKET_ERROR;
}

/*
 * The write filter's EOF: nothing more can be sent.  epoll says so only
 * when both directions are shut; after our own shutdown(SHUT_WR) the TCP
 * state tells (the FIN is sent or acknowledged).
 */
static int
shim_write_eof(int fd, enum shim_kind kind, uint32_t e)
{
	if (e & (EPOLLHUP | EPOLLERR))
		return 1;
	if (kind != SHIM_TCP)
		return 0;
	switch (shim_tcp_state(fd)) {
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSING:
	case TCP_TIME_WAIT:
	case TCP_LAST_ACK:
	case TCP_CLOSE:
		return 1;
	default:
		return 0;
	}
}

/*
 * One epoll event becomes a read and a write kevent, as the filters
 * enabled and the bits say.  Appends at eventlist[nout]; returns the new
 * count.  A write event with no room left is dropped: the filters are
 * level-triggered, so the next call reports it again.
 */
static int
shim_split(struct shim_queue *q, const struct epoll_event *ev,
    struct kevent *eventlist, int nout, int nevents)
{
	struct shim_fd	*f;
	struct kevent	*kev;
	uint32_t	 e = ev->events;
	int		 fd = ev->data.fd;
	unsigned int	 fflags;

	if (fd < 0 || fd >= q->nfds)
		return nout;
	f = &q->fds[fd];
	fflags = shim_error(fd, f->kind, e);
	if ((f->enabled & SHIM_READ) &&
	    (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
		kev = &eventlist[nout++];
		EV_SET(kev, fd, EVFILT_READ,
		    (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ? EV_EOF : 0,
		    fflags, shim_read_data(fd, f->kind), f->udata[0]);
	}
	if ((f->enabled & SHIM_WRITE) && nout < nevents &&
	    (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))) {
		kev = &eventlist[nout++];
		EV_SET(kev, fd, EVFILT_WRITE,
		    shim_write_eof(fd, f->kind, e) ? EV_EOF : 0, fflags, 0,
		    f->udata[1]);
	}
	return nout;
}

/*
 * A kqueue-over-epoll shim for Linux, so that common/ev_kqueue.c compiles and
 * runs the event-layer tests here.  Only the subset that backend uses.
 */
#ifndef SHIM_SYS_EVENT_H
#define SHIM_SYS_EVENT_H

#include <stdint.h>
#include <time.h>

/* Values as in FreeBSD's <sys/event.h>. */
#define EVFILT_READ	(-1)
#define EVFILT_WRITE	(-2)

#define EV_ADD		0x0001
#define EV_DELETE	0x0002
#define EV_ENABLE	0x0004
#define EV_DISABLE	0x0008
#define EV_RECEIPT	0x0040
#define EV_ERROR	0x4000
#define EV_EOF		0x8000

struct kevent {
	uintptr_t	 ident;
	short		 filter;
	unsigned short	 flags;
	unsigned int	 fflags;
	int64_t		 data;
	void		*udata;
};

#define EV_SET(kevp, a, b, c, d, e, f) do {				\
	struct kevent *kevp_ = (kevp);					\
	kevp_->ident = (a);						\
	kevp_->filter = (b);						\
	kevp_->flags = (c);						\
	kevp_->fflags = (d);						\
	kevp_->data = (e);						\
	kevp_->udata = (f);						\
} while (0)

int	kqueue(void);
int	kevent(int, const struct kevent *, int, struct kevent *, int,
	    const struct timespec *);

#endif

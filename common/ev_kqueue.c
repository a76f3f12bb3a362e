/*
 * Event loop backend for the BSDs and macOS: kqueue, with read and write as
 * separate filters.  Included by ev.c, which defines struct ev_loop; every
 * function here is static.  kqueue has no exclusive wake-up, so ev_set
 * refuses EV_EXCLUSIVE before it gets here (EV_HAVE_EXCLUSIVE is 0).
 */
#include <sys/types.h>
#include <sys/time.h>

/*
 * <sys/event.h> has its own EV_EOF and EV_ERROR, which ev.h took for its
 * readiness bits.  Keep kqueue's values under other names and restore ours.
 */
#pragma push_macro("EV_EOF")
#pragma push_macro("EV_ERROR")
#undef EV_EOF
#undef EV_ERROR
#include <sys/event.h>
enum {
	KQ_EOF = EV_EOF,
	KQ_ERROR = EV_ERROR
};
#undef EV_EOF
#undef EV_ERROR
#pragma pop_macro("EV_EOF")
#pragma pop_macro("EV_ERROR")

#include <unistd.h>

struct ev_backend {
	int		 kq;
	struct kevent	*events;
};

static const char *
backend_name(void)
{
	return "kqueue";
}

static int
backend_init(struct ev_loop *loop)
{
	struct ev_backend	*b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return -1;
	b->events = calloc(loop->maxevents, sizeof(*b->events));
	if (b->events == NULL || (b->kq = kqueue()) == -1) {
		free(b->events);
		free(b);
		return -1;
	}
	loop->backend = b;
	return 0;
}

static void
backend_free(struct ev_loop *loop)
{
	close(loop->backend->kq);
	free(loop->backend->events);
	free(loop->backend);
}

/* Adds a change for one filter if its interest differs. */
static int
backend_change(struct kevent *ch, int n, int fd, int filter, int was, int want)
{
	if (!was == !want)
		return n;
	EV_SET(&ch[n], fd, filter, want ? EV_ADD : EV_DELETE, 0, 0, NULL);
	return n + 1;
}

/*
 * Both filters change in one kevent() call.  EV_RECEIPT gives one answer
 * per change without draining pending events.  A delete that finds nothing
 * (the fd was closed first, which removes its filters) is not an error.
 */
static int
backend_set(struct ev_loop *loop, int fd, int oldmask, int newmask)
{
	struct kevent		 ch[2];
	struct timespec		 zero = { 0, 0 };
	int			 i, n = 0, nret, wanted;

	n = backend_change(ch, n, fd, EVFILT_READ, oldmask & EV_READ,
	    newmask & EV_READ);
	n = backend_change(ch, n, fd, EVFILT_WRITE, oldmask & EV_WRITE,
	    newmask & EV_WRITE);
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		ch[i].flags |= EV_RECEIPT;
	if ((nret = kevent(loop->backend->kq, ch, n, ch, n, &zero)) == -1)
		return -1;
	for (i = 0; i < nret; i++) {
		if (!(ch[i].flags & KQ_ERROR) || ch[i].data == 0)
			continue;
		wanted = newmask & (ch[i].filter == EVFILT_READ ? EV_READ :
		    EV_WRITE);
		if (!wanted && (ch[i].data == ENOENT || ch[i].data == EBADF))
			continue;
		errno = (int)ch[i].data;
		return -1;
	}
	return 0;
}

/*
 * The read filter's EOF is the peer's FIN; fflags then holds the socket
 * error, if any (a reset).  The write filter's EOF means nothing more can
 * be sent, which for us is an error on the connection.
 */
static int
backend_events(const struct kevent *kev)
{
	int	 events;

	if (kev->filter == EVFILT_READ) {
		events = EV_READ;
		if (kev->flags & KQ_EOF)
			events |= EV_EOF;
	} else {
		events = EV_WRITE;
		if (kev->flags & KQ_EOF)
			events |= EV_ERROR;
	}
	if ((kev->flags & KQ_EOF) && kev->fflags != 0)
		events |= EV_ERROR;
	if (kev->flags & KQ_ERROR)
		events |= EV_ERROR;
	return events;
}

static int
backend_poll(struct ev_loop *loop, int timeout_ms)
{
	struct ev_backend	*b = loop->backend;
	struct timespec		 ts, *tsp = NULL;
	int			 i, n;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	n = kevent(b->kq, NULL, 0, b->events, loop->maxevents, tsp);
	if (n == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (b->events[i].filter != EVFILT_READ &&
		    b->events[i].filter != EVFILT_WRITE)
			continue;
		ev_fire(loop, (int)b->events[i].ident,
		    backend_events(&b->events[i]));
	}
	return n;
}

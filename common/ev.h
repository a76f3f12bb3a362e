/*
 * Event loop: one small interface over epoll (Linux) or kqueue (BSD, macOS).
 * The vocabulary is kqueue's: read and write interest, an EOF flag when the
 * peer's FIN has arrived, and one-shot timers kept by the loop itself.
 */
#ifndef EV_H
#define EV_H

#include <stdint.h>

/*
 * The backend is chosen at build time: kqueue on the BSDs and macOS, or
 * anywhere with EV_BACKEND_KQUEUE (make EV=kqueue, through the tests' shim
 * on Linux); epoll otherwise.  kqueue has no exclusive wake-up, so there
 * EV_EXCLUSIVE is refused; a macro, so that defaults can follow it.
 */
#if defined(EV_BACKEND_KQUEUE) || defined(__APPLE__) || \
    defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || \
    defined(__DragonFly__)
#define EV_USE_KQUEUE		1
#define EV_HAVE_EXCLUSIVE	0
#else
#define EV_HAVE_EXCLUSIVE	1
#endif

/* Interest (ev_set) and readiness (callback) bits. */
#define EV_READ		0x01
#define EV_WRITE	0x02
#define EV_EOF		0x04	/* readiness only: the peer's FIN has arrived */
#define EV_ERROR	0x08	/* readiness only: error or hang-up on the fd */
#define EV_EXCLUSIVE	0x10	/* interest only: wake one waiter (listeners) */

struct ev_loop;
struct ev_timer;

typedef void	ev_io_cb(struct ev_loop *, int fd, int events, void *arg);
typedef void	ev_timer_cb(struct ev_loop *, struct ev_timer *, void *arg);

/*
 * A timer lives in the caller's own memory (a connection, a worker), so arming
 * one never allocates.  Treat the fields as private.
 */
struct ev_timer {
	uint64_t	 deadline;	/* ms on the loop's clock */
	unsigned int	 slot;		/* index in the heap, 0 = not armed */
	ev_timer_cb	*cb;
	void		*arg;
};

struct ev_loop	*ev_loop_new(int size_hint);
void		 ev_loop_free(struct ev_loop *);
const char	*ev_backend_name(void);
int		 ev_backend_exclusive(void);	/* EV_EXCLUSIVE works */

/*
 * Set the interest for fd to events (EV_READ|EV_WRITE, optionally
 * EV_EXCLUSIVE), replacing what was set before; 0 removes it.  Returns 0, or
 * -1 with errno set (the fd is then left with no interest; EOPNOTSUPP for
 * EV_EXCLUSIVE on a backend without it, which changes nothing).  Remove the
 * interest before close(fd).  Changes made from a callback take effect at
 * once: an fd whose interest was removed gets no more callbacks this round.
 */
int		 ev_set(struct ev_loop *, int fd, int events, ev_io_cb *,
		    void *);
int		 ev_get(struct ev_loop *, int fd);
/* Before close(fd) when nothing else shares the file: no system call. */
void		 ev_forget(struct ev_loop *, int fd);

void		 ev_timer_init(struct ev_timer *, ev_timer_cb *, void *);
void		 ev_timer_start(struct ev_loop *, struct ev_timer *,
		    uint64_t ms);
void		 ev_timer_stop(struct ev_loop *, struct ev_timer *);
int		 ev_timer_armed(const struct ev_timer *);

/*
 * Wait up to timeout_ms (-1: until something happens) and dispatch ready fds
 * and expired timers.  Returns the number of callbacks run, or -1 with errno
 * set (EINTR is returned to the caller, which checks its signal flags).
 */
int		 ev_run_once(struct ev_loop *, int timeout_ms);
uint64_t	 ev_now(struct ev_loop *);	/* cached monotonic ms */
uint64_t	 ev_clock_ms(void);		/* fresh monotonic ms */

#endif

/*
 * acceptload's shared state: the options, the load (its clients, the pacer
 * and what was counted) and one client connection, with what each file
 * offers the others.
 */
#ifndef ACCEPTLOAD_H
#define ACCEPTLOAD_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ev.h"
#include "loadstats.h"

#define LOADERRNO_SLOTS	16

enum load_mode {
	LOAD_MODE_HOLD,
	LOAD_MODE_CONNECT_CLOSE,
	LOAD_MODE_SEND_CLOSE,
	LOAD_MODE_REQUEST,
	LOAD_MODE_CHURN
};

enum load_proto {
	LOAD_PROTO_NONE,
	LOAD_PROTO_HTTP,
	LOAD_PROTO_ECHO
};

enum client_state {
	CLIENT_FREE,
	CLIENT_CONNECTING,
	CLIENT_SENDING,
	CLIENT_READING,
	CLIENT_IDLE,		/* keep-alive, waiting for the pacer */
	CLIENT_HELD
};

/* Errors by errno; once the slots are full the last takes any new errno. */
struct loaderrno {
	int		 err[LOADERRNO_SLOTS];
	uint64_t	 n[LOADERRNO_SLOTS];
	size_t		 used;
};

struct load_opts {
	const char		*host;
	const char		*port;
	enum load_mode		 mode;
	enum load_proto		 proto;
	uint64_t		 concurrency;
	uint64_t		 count;		/* UINT64_MAX: until duration */
	uint64_t		 rate;
	unsigned int		 duration_ms;	/* 0: none */
	unsigned int		 connect_timeout_ms;
	unsigned int		 request_timeout_ms;
	char			*payload;
	size_t			 payload_len;
	int			 json;
	int			 quiet;
};

/* One connection to the target, from connect to close; a slot is reused. */
struct client {
	struct load		*load;
	int			 fd;
	enum client_state	 state;
	uint64_t		 start_us;	/* of the connect or request */
	struct ev_timer		 timer;
	size_t			 sent;
	size_t			 got;		/* echo bytes or header bytes */
	uint64_t		 body_left;
	int			 in_body;
	int			 close_after;	/* "Connection: close" seen */
	char			*hdr;
	TAILQ_ENTRY(client)	 idle_entry;
};

struct load {
	struct load_opts	 o;
	struct ev_loop		*loop;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	char			 target[NI_MAXHOST + 16];

	const char		*request;
	size_t			 request_len;

	struct client		*clients;
	size_t			 nclients;
	size_t			*free_slots;
	size_t			 nfree;
	TAILQ_HEAD(, client)	 idle;

	uint64_t		 started;	/* connections or requests */
	uint64_t		 connecting;
	uint64_t		 held;
	uint64_t		 held_max;
	int			 hold_noted;
	int			 stopping;

	uint64_t		 t0_us;
	uint64_t		 t_end_us;
	uint64_t		 holdoff_until_us;
	struct ev_timer		 pacer;
	struct ev_timer		 end_timer;

	uint64_t		 connect_ok;
	uint64_t		 connect_refused;
	uint64_t		 connect_reset;
	uint64_t		 connect_timeout;
	struct loaderrno	 connect_errors;

	uint64_t		 request_ok;
	uint64_t		 request_reset;
	uint64_t		 request_timeout;
	uint64_t		 request_eof;
	uint64_t		 request_bad;
	struct loaderrno	 request_errors;

	uint64_t		 peer_eof;
	uint64_t		 peer_reset;

	struct loadstats	 connect_lat;
	struct loadstats	 request_lat;
};

/* acceptload.c: set-up, the pacer and the run loop. */
uint64_t	 load_now_us(void);
int		 load_may_start(struct load *, uint64_t now_us);
void		 load_holdoff(struct load *, int error);

/* loadclient.c: one connection's states, from connect to close. */
void		 client_init(struct client *, struct load *);
void		 client_free(struct client *);
void		 client_open(struct load *);
void		 client_request_start(struct client *);
void		 client_close(struct client *);

/* loadopts.c: the command line. */
void		 opts_parse(struct load_opts *, int, char **);
const char	*opts_mode_name(enum load_mode);
int		 opts_has_requests(const struct load_opts *);

/* loadreport.c: the report at the end, as text or JSON. */
void		 report_text(const struct load *, FILE *);
void		 report_json(const struct load *, FILE *);

/* loaderrno.c: errors counted by errno, and their names. */
void		 loaderrno_add(struct loaderrno *, int);
uint64_t	 loaderrno_total(const struct loaderrno *);
const char	*loaderrno_name(int);

#endif

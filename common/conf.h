/*
 * Configuration: the directives of acceptd.conf(5), parsed, validated and
 * printed back in the same syntax.  acceptctl's "set" goes through
 * conf_set_settings, the parser's own code for a run-time directive, so a
 * value means the same thing in a file and on the control socket.
 */
#ifndef CONF_H
#define CONF_H

#include <sys/socket.h>

#include <limits.h>
#include <stdio.h>

#define CONF_WORKERS_MAX	256
#define CONF_LISTEN_MAX		8	/* listen lines */

enum accept_mode { ACCEPT_SHARED, ACCEPT_EXCLUSIVE, ACCEPT_REUSEPORT };
enum protocol { PROTO_HTTP, PROTO_ECHO, PROTO_ONESHOT, PROTO_DISCARD };
enum close_mode { CLOSE_GRACEFUL, CLOSE_RESET, CLOSE_HALF, CLOSE_NEVER };
enum log_level { LOGLEVEL_ERROR, LOGLEVEL_WARN, LOGLEVEL_INFO, LOGLEVEL_DEBUG };

/* What a worker can be told to change while it runs ("acceptctl set"). */
struct settings {
	int		accept_batch;		/* 1..1024 */
	int		max_connections;	/* per worker, 1..1048576 */
	int		accept_rate;		/* /s, whole daemon; 0 none */
	int		paused;			/* 0, 1 */
	enum protocol	protocol;
	enum close_mode	close_mode;
	int		reading;		/* 0 = off, 1 = on */
	unsigned int	response_delay_ms;
	unsigned int	idle_timeout_ms;
};

/* One listen line: an address of its own, with its own accept queue. */
struct conf_listen {
	char			text[128];	/* ADDR:PORT or [ADDR6]:PORT */
	struct sockaddr_storage	addr;
	socklen_t		len;
};

struct conf {
	struct settings		set;
	struct conf_listen	listen[CONF_LISTEN_MAX];	/* in file order */
	int			nlisten;	/* 1..CONF_LISTEN_MAX */
	char			monitor[128];	/* ADDR:PORT; "" = none */
	struct sockaddr_storage	monitor_addr;
	socklen_t		monitor_len;
	int			backlog;	/* 0..65535 */
	int			workers;	/* 1..CONF_WORKERS_MAX */
	enum accept_mode	accept;
	unsigned int		shutdown_timeout_ms;
	char			control[PATH_MAX];
	char			pidfile[PATH_MAX];
	char			user[64];	/* "" = none */
	char			log_file[PATH_MAX];	/* "" = stderr or syslog */
	enum log_level		log_level;
};

/* Fill with the defaults of acceptd.conf(5). */
void	 conf_defaults(struct conf *);

/*
 * Parse path into conf (which starts from conf_defaults).  Every error is
 * written to errs as "file:line: message\n"; returns the number of errors,
 * so 0 means conf is complete and valid, and conf is untouched otherwise.
 */
int	 conf_load(const char *path, struct conf *conf, FILE *errs);

/*
 * Set one directive from its name and value, as a config line would
 * ("listen" replaces every address with this one: only a file lists
 * several).  Returns 0, or -1 with a message ("max-connections: must be
 * 1..1048576") in err.  conf_set_settings does the same for run-time
 * directives only.
 */
int	 conf_set(struct conf *, const char *name, const char *value,
	    char *err, size_t errlen);
int	 conf_set_settings(struct settings *, const char *name,
	    const char *value, char *err, size_t errlen);
int	 conf_is_runtime(const char *name);	/* settable by acceptctl set */
const char *conf_runtime_name(int i);	/* the i-th of those, or NULL */

/* Print every directive in config syntax; the output parses again. */
void	 conf_print(FILE *, const struct conf *);
/*
 * Every listen address joined by sep, as status and config -j show them;
 * CONF_LISTEN_JOINED holds them all with a separator of 2 bytes.
 */
#define CONF_LISTEN_JOINED	(CONF_LISTEN_MAX * (128 + 2))
void	 conf_listen_join(const struct conf *, const char *sep, char *buf,
	    size_t len);
/* The same listen addresses (as sets: the order may differ): 1. */
int	 conf_listen_same(const struct conf *, const struct conf *);
/* Print one run-time directive's value as it would appear in a file. */
int	 conf_format_setting(const struct settings *, const char *name,
	    char *buf, size_t len);

/* Names for enums, as written in the file. */
const char	*conf_accept_name(enum accept_mode);
const char	*conf_protocol_name(enum protocol);
const char	*conf_close_name(enum close_mode);

/*
 * Per-user safe defaults for the control socket and pidfile, the same rule
 * for acceptd and acceptctl: root uses /run/acceptd/ (/var/run/acceptd/
 * on the BSDs and macOS), others
 * $XDG_RUNTIME_DIR/acceptd/ or /tmp/acceptd-UID/ (a 0700 directory the
 * daemon creates and checks is theirs).
 */
void	 conf_default_dir(char *buf, size_t len);
void	 conf_default_control(char *buf, size_t len);
void	 conf_default_pidfile(char *buf, size_t len);

/*
 * Durations, one rule for the file, acceptctl set and the tools: "250ms",
 * "10s", "2m", or a bare number of seconds ("10", "0").
 */
int	 conf_parse_duration(const char *, unsigned int *ms, const char **why);
void	 conf_format_duration(unsigned int ms, char *buf, size_t len);

/*
 * The next word of *p, separated by any of ws, terminated in place and *p
 * moved past it; NULL at the end.  The file and the control lines split so.
 */
char	*conf_word(char **p, const char *ws);

#endif

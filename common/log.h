/*
 * Logging: to log-file when set, else stderr in the foreground and syslog
 * once daemonized.  Before that, programs use err(3); after, these.
 * Messages name what failed and on what.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

#include "conf.h"

void	log_init(int foreground, enum log_level, const char *prefix);
void	log_set_level(enum log_level);
int	log_set_file(const char *path);	/* "": none; reopens */
const char *log_file(void);		/* "" when none */
int	log_enabled(enum log_level);	/* worth formatting a message? */
void	log_set_prefix(const char *);	/* "worker 3: " after fork */
void	log_closelog(void);		/* before closing fds in a child */

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif

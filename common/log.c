/*
 * Logging to stderr (foreground) or syslog (daemon), filtered by level.
 * The *_warn variants append the errno text, as err(3) does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int		log_foreground = 1;
static enum log_level	log_level = LOGLEVEL_INFO;
static char		log_prefix[64];

void
log_init(int foreground, enum log_level level, const char *prefix)
{
	log_foreground = foreground;
	log_level = level;
	log_set_prefix(prefix);
	if (!foreground)
		openlog("acceptd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

void
log_set_prefix(const char *prefix)
{
	strlcpy(log_prefix, prefix == NULL ? "" : prefix, sizeof(log_prefix));
}

void
log_closelog(void)
{
	if (!log_foreground)
		closelog();
}

static void
log_emit(enum log_level level, int priority, const char *fmt, va_list ap,
    int with_errno)
{
	char	 msg[1024];
	int	 saved = errno;
	size_t	 n;

	if (level > log_level)
		return;
	n = strlcpy(msg, log_prefix, sizeof(msg));
	if (n < sizeof(msg))
		vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	if (with_errno) {
		n = strlen(msg);
		if (n < sizeof(msg))
			snprintf(msg + n, sizeof(msg) - n, ": %s",
			    strerror(saved));
	}
	if (log_foreground) {
		char		stamp[32];
		struct timespec	ts;
		struct tm	tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld acceptd[%d]: %s\n", stamp,
		    ts.tv_nsec / 1000000, (int)getpid(), msg);
	} else
		syslog(priority, "%s", msg);
	errno = saved;
}

#define LOG_FN(name, level, priority, with_errno)			\
void									\
name(const char *fmt, ...)						\
{									\
	va_list ap;							\
									\
	va_start(ap, fmt);						\
	log_emit(level, priority, fmt, ap, with_errno);			\
	va_end(ap);							\
}

LOG_FN(log_warn, LOGLEVEL_WARN, LOG_WARNING, 1)
LOG_FN(log_warnx, LOGLEVEL_WARN, LOG_WARNING, 0)
LOG_FN(log_info, LOGLEVEL_INFO, LOG_INFO, 0)
LOG_FN(log_debug, LOGLEVEL_DEBUG, LOG_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOGLEVEL_ERROR, LOG_CRIT, fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOGLEVEL_ERROR, LOG_CRIT, fmt, ap, 0);
	va_end(ap);
	exit(1);
}

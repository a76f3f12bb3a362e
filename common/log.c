/*
 * Logging to a file (log-file), else stderr (foreground) or syslog
 * (daemon), filtered by level.  The *_warn variants append the errno
 * text, as err(3) does.  A file is opened for appending, so the master
 * and its workers write whole lines into it side by side.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
static int		log_fd = -1;		/* log-file, or -1 */
static char		log_path[PATH_MAX];

void
log_init(int foreground, enum log_level level, const char *prefix)
{
	log_foreground = foreground;
	log_level = level;
	log_set_prefix(prefix);
	if (!foreground)
		openlog("acceptd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/*
 * Log to path from now on ("" : stop); opened again each time, so that
 * a file moved away by logrotate is left for a new one.  0, or -1 with
 * errno (the old destination stays).
 */
int
log_set_file(const char *path)
{
	int fd;

	if (path[0] == '\0') {
		if (log_fd != -1)
			close(log_fd);
		log_fd = -1;
		log_path[0] = '\0';
		return 0;
	}
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640)) == -1)
		return -1;
	if (log_fd != -1)
		close(log_fd);
	log_fd = fd;
	strlcpy(log_path, path, sizeof(log_path));
	return 0;
}

const char *
log_file(void)
{
	return log_path;
}

int
log_enabled(enum log_level level)
{
	return level <= log_level;
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

/* Before a child closes every descriptor: it opens its own again. */
void
log_closelog(void)
{
	if (!log_foreground)
		closelog();
	log_fd = -1;
}

/* One timestamped line, written whole (a file may have other writers). */
static void
log_line(const char *msg)
{
	char		line[1200], stamp[32];
	struct timespec	ts;
	struct tm	tm;
	int		n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), log_fd != -1 ? "%Y-%m-%d %H:%M:%S" :
	    "%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ld acceptd[%d]: %s\n", stamp,
	    ts.tv_nsec / 1000000, (int)getpid(), msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	(void)write(log_fd != -1 ? log_fd : STDERR_FILENO, line, n);
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
	if (log_fd != -1 || log_foreground)
		log_line(msg);
	else
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

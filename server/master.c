/*
 * The master: owns the listening sockets, forks and respawns workers,
 * reloads, stops.  It never touches a client connection.  Signal handlers
 * only set flags and wake the loop through a pipe.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libutil.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acceptd.h"
#include "log.h"
#include "master.h"

#define RESPAWN_FIRST_MS	100
#define RESPAWN_MAX_MS		10000
#define RESPAWN_STABLE_MS	2000	/* lived this long: not a crash loop */
#define KILL_GRACE_MS		2000	/* after shutdown-timeout */

struct master			 master;

static volatile sig_atomic_t	 got_hup, got_term, got_chld;
static int			 signal_fd = -1;

static void	master_spawn(struct slot *);

static void
master_signal(int sig)
{
	int saved = errno;

	switch (sig) {
	case SIGHUP:
		got_hup = 1;
		break;
	case SIGTERM:
	case SIGINT:
		got_term = 1;
		break;
	case SIGCHLD:
		got_chld = 1;
		break;
	}
	(void)write(signal_fd, "", 1);
	errno = saved;
}

static void
master_signals_init(void)
{
	struct sigaction	sa;
	int			fds[2];

	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1)
		err(1, "signal pipe");
	master.signal_pipe = fds[0];
	signal_fd = fds[1];
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = master_signal;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/*
 * The default runtime directory is created 0700 and must be ours; a path
 * the user configured is taken as given.
 */
static void
master_runtime_dir(const struct conf *conf)
{
	char		dir[PATH_MAX];
	struct stat	st;
	size_t		len;

	conf_default_dir(dir, sizeof(dir));
	len = strlen(dir);
	if (strncmp(conf->control, dir, len) != 0 &&
	    strncmp(conf->pidfile, dir, len) != 0)
		return;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		err(1, "cannot create %s", dir);
	if (lstat(dir, &st) == -1)
		err(1, "%s", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0)
		errx(1, "%s must be a directory owned by uid %d, not writable "
		    "by others; remove it or set control and pidfile",
		    dir, (int)geteuid());
}

/*
 * Workers, which touch client data, run as "user"; the master stays root
 * so that it can remove its pidfile and control socket at exit.
 */
static void
master_drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user[0] == '\0' || geteuid() != 0)
		return;
	if ((pw = getpwnam(user)) == NULL)
		fatalx("user %s: no such user", user);
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("cannot drop privileges to %s", user);
}

/* -v: debug, whatever the file says, at start and after every reload. */
static void
master_log_level(struct conf *conf)
{
	if (master.verbose && conf->log_level < LOGLEVEL_DEBUG)
		conf->log_level = LOGLEVEL_DEBUG;
}

/* Everything that can fail on the user's terminal happens here. */
void
master_init(struct conf *conf, const char *path, int foreground, int verbose)
{
	char	why[512];
	pid_t	other;
	int	i;

	master.verbose = verbose;
	master_log_level(conf);
	log_set_level(conf->log_level);
	master.conf = *conf;
	master.path = path;
	master.started_ms = ev_clock_ms();
	master.listen_fd = -1;
	master_runtime_dir(conf);
	master.pidfh = pidfile_open(conf->pidfile, 0644, &other);
	if (master.pidfh == NULL) {
		if (errno == EEXIST)
			errx(1, "already running as pid %d (pidfile %s)",
			    (int)other, conf->pidfile);
		err(1, "pidfile %s", conf->pidfile);
	}
	if (conf->accept == ACCEPT_REUSEPORT) {
		if (listen_probe(conf, why, sizeof(why)) == -1)
			goto fail;
	} else if ((master.listen_fd = listen_open(conf, 0, why,
	    sizeof(why))) == -1)
		goto fail;
	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		master.slot[i].id = i;
		master.slot[i].chan = -1;
		master.slot[i].listen_fd = -1;
		master.slot[i].set = conf->set;
	}
	if ((master.sb = scoreboard_map()) == NULL) {
		snprintf(why, sizeof(why), "scoreboard: %s", strerror(errno));
		goto fail;
	}
	scoreboard_set_rate(master.sb, conf->set.accept_rate);
	if (control_init(conf->control, why, sizeof(why)) == -1)
		goto fail;
	master_signals_init();
	if (!foreground && daemon(0, 0) == -1)
		err(1, "daemon");
	log_init(foreground, conf->log_level, "");
	pidfile_write(master.pidfh);
	return;
fail:
	pidfile_remove(master.pidfh);
	errx(1, "%s", why);
}

/*
 * In the child: keep the listener and the channel as fds 3 and 4, close
 * everything else the master holds, and become the worker.
 */
static void
master_become_worker(struct slot *s, int lfd, int chan)
{
	int top, l, c;

	log_closelog();
	top = (lfd > chan ? lfd : chan) + 1;
	if ((l = fcntl(lfd, F_DUPFD, top)) == -1 ||
	    (c = fcntl(chan, F_DUPFD, top)) == -1 ||
	    dup2(l, WORKER_LISTEN_FD) == -1 ||
	    dup2(c, WORKER_CHANNEL_FD) == -1)
		fatal("worker %d: arranging descriptors", s->id);
	closefrom(WORKER_CHANNEL_FD + 1);
	master_drop_privileges(master.conf.user);
	worker_main(s->id, &master.conf, &s->set, master.sb);
}

static void
master_respawn_due(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	master_spawn(arg);
}

static void
master_spawn(struct slot *s)
{
	char	why[512];
	int	fds[2], lfd = master.listen_fd;
	pid_t	pid;

	if (master.conf.accept == ACCEPT_REUSEPORT) {
		if (s->listen_fd == -1 && (s->listen_fd = listen_open(
		    &master.conf, 1, why, sizeof(why))) == -1) {
			log_warnx("worker %d: %s", s->id, why);
			ev_timer_start(master.loop, &s->respawn,
			    RESPAWN_MAX_MS);
			return;
		}
		lfd = s->listen_fd;
	}
	if (chan_pair(fds) == -1) {
		log_warn("worker %d: channel", s->id);
		ev_timer_start(master.loop, &s->respawn, RESPAWN_MAX_MS);
		return;
	}
	atomic_store(&master.sb->worker[s->id].state, WORKER_STARTING);
	atomic_store(&master.sb->worker[s->id].active, 0);
	switch (pid = fork()) {
	case -1:
		log_warn("worker %d: fork", s->id);
		close(fds[0]);
		close(fds[1]);
		ev_timer_start(master.loop, &s->respawn, RESPAWN_MAX_MS);
		return;
	case 0:
		master_become_worker(s, lfd, fds[1]);
	}
	close(fds[1]);
	s->pid = pid;
	s->chan = fds[0];
	s->started_ms = ev_clock_ms();
	atomic_store(&master.sb->worker[s->id].pid, pid);
	if (ev_set(master.loop, s->chan, EV_READ, control_channel, s) == -1)
		fatal("poll channel of worker %d", s->id);
	log_debug("worker %d started as pid %d", s->id, (int)pid);
}

/* A slot nobody runs in any more: its reuseport queue must go too. */
static void
master_slot_release(struct slot *s)
{
	atomic_store(&master.sb->worker[s->id].state, WORKER_EMPTY);
	if (s->listen_fd != -1) {
		close(s->listen_fd);
		s->listen_fd = -1;
	}
}

static void
master_describe_exit(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
}

/* Worker pid is gone: respawn it, with growing delays if it keeps dying. */
static void
master_worker_exited(struct slot *s, pid_t pid, int status)
{
	char		how[96];
	uint64_t	lived = ev_clock_ms() - s->started_ms;

	master_describe_exit(status, how, sizeof(how));
	if (s->chan != -1) {
		ev_set(master.loop, s->chan, 0, NULL, NULL);
		close(s->chan);
		s->chan = -1;
	}
	s->pid = 0;
	control_worker_gone(s);
	atomic_store(&master.sb->worker[s->id].pid, 0);
	if (s->retiring && s->wanted && !master.stopping) {
		/* Retired by scale, then wanted again: replace it. */
		s->retiring = 0;
		log_info("worker %d (pid %d) drained; starting its successor",
		    s->id, (int)pid);
		master_spawn(s);
		return;
	}
	s->retiring = 0;
	if (master.stopping || !s->wanted) {
		master_slot_release(s);
		if (WIFSIGNALED(status) || WEXITSTATUS(status) != 0)
			log_warnx("worker %d (pid %d) %s", s->id, (int)pid,
			    how);
		return;
	}
	if (lived < RESPAWN_STABLE_MS)
		s->backoff_ms = s->backoff_ms == 0 ? RESPAWN_FIRST_MS :
		    (s->backoff_ms * 2 > RESPAWN_MAX_MS ? RESPAWN_MAX_MS :
		    s->backoff_ms * 2);
	else
		s->backoff_ms = 0;
	if (s->backoff_ms == 0) {
		log_warnx("worker %d (pid %d) %s; restarting it", s->id,
		    (int)pid, how);
		master_spawn(s);
	} else {
		log_warnx("worker %d (pid %d) %s after %llu ms; restarting it "
		    "in %u ms", s->id, (int)pid, how,
		    (unsigned long long)lived, s->backoff_ms);
		ev_timer_start(master.loop, &s->respawn, s->backoff_ms);
	}
}

static void
master_reap(void)
{
	int	status, i;
	pid_t	pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < CONF_WORKERS_MAX; i++)
			if (master.slot[i].pid == pid)
				break;
		if (i == CONF_WORKERS_MAX)
			continue;
		master_worker_exited(&master.slot[i], pid, status);
	}
}

int
master_live_workers(void)
{
	int i, n = 0;

	for (i = 0; i < CONF_WORKERS_MAX; i++)
		n += master.slot[i].pid != 0;
	return n;
}

/* STOP carries the shutdown-timeout to drain for, as it is now. */
static uint32_t
master_send_stop(struct slot *s)
{
	char	timeout[32];

	snprintf(timeout, sizeof(timeout), "%u",
	    master.conf.shutdown_timeout_ms);
	return master_send(s, CHAN_STOP, timeout);
}

uint32_t
master_send(struct slot *s, enum chan_type type, const char *payload)
{
	uint32_t seq = ++master.seq;

	if (s->chan == -1 || chan_send(s->chan, type, seq, payload) == -1) {
		if (s->chan != -1)
			log_warn("worker %d: %s message", s->id,
			    chan_type_name(type));
		return 0;
	}
	return seq;
}

/* Grow or shrink the pool; the workers above n drain and exit. */
void
master_scale(int n)
{
	struct slot	*s;
	int		 i;

	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		s = &master.slot[i];
		if (i < n && !s->wanted) {
			s->wanted = 1;
			s->backoff_ms = 0;
			if (s->pid == 0 && !ev_timer_armed(&s->respawn))
				master_spawn(s);
		} else if (i >= n && s->wanted) {
			s->wanted = 0;
			s->stop_seq = 0;
			ev_timer_stop(master.loop, &s->respawn);
			if (s->pid == 0)	/* was waiting to respawn */
				master_slot_release(s);
			else if (!s->retiring) {
				s->retiring = 1;
				s->stop_seq = master_send_stop(s);
			}
		}
	}
	master.conf.workers = n;
}

/*
 * A run-time directive, already checked, for one worker (only) or for all
 * and the daemon itself (only NULL), as reload and acceptctl set and pause
 * give it: the master's copies change and each running worker is sent
 * "name value".  sent(), if given, learns each message's sequence number
 * (0: it could not be sent).
 */
void
master_setting(const char *name, const char *value, struct slot *only,
    void (*sent)(struct slot *, uint32_t, void *), void *arg)
{
	struct slot	*s;
	char		 line[CHAN_PAYLOAD_MAX], why[256];
	uint32_t	 seq;
	int		 i;

	if (only == NULL) {
		conf_set_settings(&master.conf.set, name, value, why,
		    sizeof(why));
		if (strcmp(name, "accept-rate") == 0)
			scoreboard_set_rate(master.sb,
			    master.conf.set.accept_rate);
	}
	snprintf(line, sizeof(line), "%s %s", name, value);
	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		s = &master.slot[i];
		if (only != NULL && only != s)
			continue;
		conf_set_settings(&s->set, name, value, why, sizeof(why));
		if (s->pid == 0)
			continue;
		seq = master_send(s, CHAN_SET, line);
		if (sent != NULL)
			sent(s, seq, arg);
	}
}

static void
master_keep(const char *name, int changed)
{
	if (changed)
		log_warnx("reload: %s cannot change while acceptd runs; "
		    "restart it to apply the new value", name);
}

/* Apply a new, valid configuration to the running daemon. */
static void
master_apply(struct conf *new)
{
	struct conf	*cur = &master.conf;
	char		 a[256], b[256];
	const char	*name;
	int		 i;

	for (i = 0; (name = conf_runtime_name(i)) != NULL; i++) {
		conf_format_setting(&cur->set, name, a, sizeof(a));
		conf_format_setting(&new->set, name, b, sizeof(b));
		if (strcmp(a, b) != 0) {
			log_info("reload: %s %s (was %s)", name, b, a);
			master_setting(name, b, NULL, NULL, NULL);
		}
	}
	if (new->backlog != cur->backlog) {
		cur->backlog = new->backlog;
		master_set_backlog();
	}
	master_keep("listen", strcmp(new->listen, cur->listen) != 0);
	master_keep("accept", new->accept != cur->accept);
	master_keep("control", strcmp(new->control, cur->control) != 0);
	master_keep("pidfile", strcmp(new->pidfile, cur->pidfile) != 0);
	master_keep("user", strcmp(new->user, cur->user) != 0);
	cur->shutdown_timeout_ms = new->shutdown_timeout_ms;
	cur->log_level = new->log_level;
	master_log_level(cur);
	log_set_level(cur->log_level);
	if (new->workers != cur->workers)
		master_scale(new->workers);
}

void
master_set_backlog(void)
{
	int i;

	if (master.listen_fd != -1 &&
	    listen_set_backlog(master.listen_fd, master.conf.backlog) == -1)
		log_warn("backlog %d", master.conf.backlog);
	for (i = 0; i < CONF_WORKERS_MAX; i++)
		if (master.slot[i].listen_fd != -1 && listen_set_backlog(
		    master.slot[i].listen_fd, master.conf.backlog) == -1)
			log_warn("backlog %d", master.conf.backlog);
}

/* Parse the file again; a bad file changes nothing and says why. */
int
master_reload(char *why, size_t len)
{
	struct conf	 new;
	char		*errs = NULL, *line, *p;
	size_t		 errlen = 0;
	FILE		*f;
	int		 n;

	if (master.stopping) {
		snprintf(why, len, "acceptd is stopping; reload ignored");
		log_warnx("%s", why);
		return -1;
	}
	if ((f = open_memstream(&errs, &errlen)) == NULL) {
		snprintf(why, len, "reload: %s", strerror(errno));
		return -1;
	}
	conf_defaults(&new);
	n = conf_load(master.path, &new, f);
	fclose(f);
	if (n > 0) {
		for (p = errs; (line = strsep(&p, "\n")) != NULL;)
			if (*line != '\0')
				log_warnx("%s", line);
		log_warnx("reload: %d error%s in %s; still running on the "
		    "previous configuration", n, n == 1 ? "" : "s",
		    master.path);
		snprintf(why, len, "%d error%s in %s, first: %s", n,
		    n == 1 ? "" : "s", master.path, errs);
		if ((p = strchr(why, '\n')) != NULL)
			*p = '\0';
		free(errs);
		return -1;
	}
	free(errs);
	master_apply(&new);
	log_info("reloaded %s", master.path);
	return 0;
}

static void
master_kill_all(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	int i;

	(void)loop;
	(void)t;
	(void)arg;
	for (i = 0; i < CONF_WORKERS_MAX; i++)
		if (master.slot[i].pid != 0) {
			log_warnx("worker %d did not exit in time; killing it",
			    i);
			kill(master.slot[i].pid, SIGKILL);
		}
}

/* Stop accepting everywhere; workers drain up to shutdown-timeout. */
void
master_stop(void)
{
	int	i;

	if (master.stopping)
		return;
	master.stopping = 1;
	log_info("stopping: draining connections for up to %u ms",
	    master.conf.shutdown_timeout_ms);
	setproctitle("master (stopping)");
	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		ev_timer_stop(master.loop, &master.slot[i].respawn);
		if (master.slot[i].pid != 0)
			master_send_stop(&master.slot[i]);
	}
	ev_timer_start(master.loop, &master.kill_timer,
	    master.conf.shutdown_timeout_ms + KILL_GRACE_MS);
}

static void
master_wakeup(struct ev_loop *loop, int fd, int events, void *arg)
{
	char	buf[64], why[512];

	(void)loop;
	(void)events;
	(void)arg;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (got_chld) {
		got_chld = 0;
		master_reap();
	}
	if (got_hup) {
		got_hup = 0;
		log_info("SIGHUP: reloading %s", master.path);
		master_reload(why, sizeof(why));
	}
	if (got_term) {
		got_term = 0;
		master_stop();
	}
}

int
master_run(void)
{
	int i;

	if ((master.loop = ev_loop_new(64)) == NULL)
		fatal("event loop");
	if (ev_set(master.loop, master.signal_pipe, EV_READ, master_wakeup,
	    NULL) == -1)
		fatal("poll signal pipe");
	ev_timer_init(&master.kill_timer, master_kill_all, NULL);
	for (i = 0; i < CONF_WORKERS_MAX; i++)
		ev_timer_init(&master.slot[i].respawn, master_respawn_due,
		    &master.slot[i]);
	control_start(master.loop);
	setproctitle("master");
	log_info("listening on %s (%s, backlog %d), %d workers, %s backend",
	    master.conf.listen, conf_accept_name(master.conf.accept),
	    master.conf.backlog, master.conf.workers, ev_backend_name());
	master_scale(master.conf.workers);
	while (!master.stopping || master_live_workers() > 0) {
		if (ev_run_once(master.loop, -1) == -1 && errno != EINTR)
			fatal("event loop");
	}
	control_cleanup();
	pidfile_remove(master.pidfh);
	log_info("exiting");
	return 0;
}

/*
 * The master: owns the slots and the listening sockets they use, decides
 * when workers start, retire and respawn (proc.c runs the processes),
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
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acceptd.h"
#include "log.h"
#include "master.h"
#include "monitor.h"
#include "os.h"

#define RESPAWN_FIRST_MS	100
#define RESPAWN_MAX_MS		10000
#define RESPAWN_STABLE_MS	2000	/* lived this long: not a crash loop */
#define KILL_GRACE_MS		2000	/* after shutdown-timeout */
#define READY_MS		10000	/* the first workers say "ready" */

struct master			 master;

static volatile sig_atomic_t	 got_hup, got_term, got_chld;
static int			 signal_fd = -1;

static struct proc	*master_spawn(struct slot *);
static void		 master_exited(struct proc *, int);

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

	if (os_pipe(fds, OS_NONBLOCK) == -1)
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

/*
 * Everything that can fail on the user's terminal happens here and in
 * master_start; acceptd.c creates the control socket between the two.
 */
void
master_init(struct conf *conf, const char *path, int verbose)
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
	master_runtime_dir(conf);
	master.pidfh = os_pidfile_open(conf->pidfile, 0644, &other);
	if (master.pidfh == NULL) {
		if (errno == EEXIST)
			errx(1, "already running as pid %d (pidfile %s)",
			    (int)other, conf->pidfile);
		err(1, "pidfile %s", conf->pidfile);
	}
	if (conf->accept == ACCEPT_REUSEPORT) {
		if (listen_probe(conf, why, sizeof(why)) == -1)
			goto fail;
	} else if ((master.shared = listener_open(conf, 0, why,
	    sizeof(why))) == NULL)
		goto fail;
	else
		listener_hold(master.shared);
	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		master.slot[i].id = i;
		master.slot[i].sb = -1;
		master.slot[i].set = conf->set;
	}
	if ((master.sb = scoreboard_map()) == NULL) {
		snprintf(why, sizeof(why), "scoreboard: %s", strerror(errno));
		goto fail;
	}
	scoreboard_set_rate(master.sb, conf->set.accept_rate);
	return;
fail:
	master_abort(why);
}

/*
 * Refused rather than pretended: without an exclusive wake-up every
 * worker would be woken while status said exclusive.  Reuseport without
 * a balancing option still works, and is said (-n, start, reload).
 */
int
master_conf_check(const struct conf *conf, char *why, size_t len)
{
	const char *note;

	if (conf->accept == ACCEPT_EXCLUSIVE && !ev_backend_exclusive()) {
		snprintf(why, len, "accept exclusive is not available on the "
		    "%s backend, which has no exclusive wake-up; use accept "
		    "shared or accept reuseport", ev_backend_name());
		return -1;
	}
	if (conf->accept == ACCEPT_REUSEPORT &&
	    (note = listen_reuseport_note()) != NULL)
		log_warnx("%s", note);
	return 0;
}

void
master_abort(const char *why)
{
	os_pidfile_remove(master.pidfh);
	errx(1, "%s", why);
}


/* Scoreboard entries: one per worker process, its own from fork to exit. */
static int
master_sb_alloc(void)
{
	int i;

	for (i = 0; i < SB_WORKERS; i++)
		if (!master.sb_used[i]) {
			master.sb_used[i] = 1;
			memset(&master.sb->worker[i], 0,
			    sizeof(master.sb->worker[i]));
			return i;
		}
	return -1;
}

static void
master_sb_free(int i)
{
	if (i < 0)
		return;
	atomic_store(&master.sb->worker[i].state, WORKER_EMPTY);
	atomic_store(&master.sb->worker[i].pid, 0);
	master.sb_used[i] = 0;
}

/* In the child, with the listener and channel as fds 3 and 4. */
static void
master_child(int slot, int sb)
{
	/* A log file gone missing must not stop the worker: syslog then. */
	if (log_set_file(master.conf.log_file) == -1)
		log_warn("log-file %s; logging to syslog", master.conf.log_file);
	master_drop_privileges(master.conf.user);
	worker_main(slot, sb, &master.conf, &master.slot[slot].set,
	    master.sb);
}

static void
master_respawn_due(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	master_spawn(arg);
}

static void
master_respawn_later(struct slot *s, unsigned int ms)
{
	if (s->sb != -1) {
		atomic_store(&master.sb->worker[s->sb].state,
		    WORKER_RESPAWNING);
		atomic_store(&master.sb->worker[s->sb].pid, 0);
	}
	ev_timer_start(master.loop, &s->respawn, ms);
}

/* Start the slot's worker on its socket; NULL (retried later) if not. */
static struct proc *
master_spawn(struct slot *s)
{
	struct listener	*l;
	struct proc	*p;
	char		 why[512];

	if (s->sb == -1 && (s->sb = master_sb_alloc()) == -1) {
		log_warnx("worker %d: all %d scoreboard entries are held by "
		    "draining workers", s->id, SB_WORKERS);
		master_respawn_later(s, RESPAWN_MAX_MS);
		return NULL;
	}
	if (s->listener == NULL && master.shared == NULL) {
		if ((s->listener = listener_open(&master.conf, 1, why,
		    sizeof(why))) == NULL) {
			log_warnx("worker %d: %s", s->id, why);
			master_respawn_later(s, RESPAWN_MAX_MS);
			return NULL;
		}
		listener_hold(s->listener);
	}
	l = s->listener != NULL ? s->listener : master.shared;
	atomic_store(&master.sb->worker[s->sb].state, WORKER_STARTING);
	atomic_store(&master.sb->worker[s->sb].active, 0);
	if ((p = proc_spawn(s->id, s->sb, l, master_child)) == NULL) {
		log_warn("worker %d: fork", s->id);
		master_respawn_later(s, RESPAWN_MAX_MS);
		return NULL;
	}
	listener_hold(l);
	atomic_store(&master.sb->worker[s->sb].pid, p->pid);
	log_debug("worker %d started as pid %d", s->id, (int)p->pid);
	return p;
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

/*
 * STOP carries the shutdown-timeout to drain for, as it is now, and
 * "linger" when the worker's socket is retired with it: it takes what is
 * still on the way to that socket before it lets go.  The process keeps
 * its scoreboard entry; its slot gets a new one for a successor.
 */
static void
master_retire(struct proc *p, struct proc_req *req)
{
	char payload[48];

	p->retiring = 1;
	if (master.slot[p->slot].sb == p->sb)
		master.slot[p->slot].sb = -1;
	snprintf(payload, sizeof(payload), "%u%s",
	    master.conf.shutdown_timeout_ms,
	    p->listener->retiring && !master.stopping ? " linger" : "");
	proc_req_send(req, p, CHAN_STOP, payload);
}

/* A process is gone: a retired one is done; a slot's own is respawned. */
static void
master_exited(struct proc *p, int status)
{
	struct slot	*s = &master.slot[p->slot];
	char		 how[96];
	uint64_t	 lived = ev_clock_ms() - p->started_ms;
	int		 failed;

	master_describe_exit(status, how, sizeof(how));
	failed = WIFSIGNALED(status) || WEXITSTATUS(status) != 0;
	listener_release(p->listener);
	if (p->retiring || master.stopping) {
		master_sb_free(p->sb);
		if (failed)
			log_warnx("worker %d (pid %d) %s", p->slot,
			    (int)p->pid, how);
		return;
	}
	s->restarts++;			/* status says how often, and why */
	strlcpy(s->last_exit, how, sizeof(s->last_exit));
	if (lived < RESPAWN_STABLE_MS)
		s->backoff_ms = s->backoff_ms == 0 ? RESPAWN_FIRST_MS :
		    (s->backoff_ms * 2 > RESPAWN_MAX_MS ? RESPAWN_MAX_MS :
		    s->backoff_ms * 2);
	else
		s->backoff_ms = 0;
	if (s->backoff_ms == 0) {
		log_warnx("worker %d (pid %d) %s; restarting it", s->id,
		    (int)p->pid, how);
		master_spawn(s);
	} else {
		log_warnx("worker %d (pid %d) %s after %llu ms; restarting it "
		    "in %u ms", s->id, (int)p->pid, how,
		    (unsigned long long)lived, s->backoff_ms);
		master_respawn_later(s, s->backoff_ms);
	}
}

/*
 * A retired socket that no process accepts from any more (its workers
 * were waiting to respawn) gets one that only drains it: its own
 * scoreboard entry, told at once to stop and linger.  A fork that fails
 * here loses what is queued, and says so when the socket closes.
 */
static void
master_drain(struct listener *l, int slot, struct proc_req *req)
{
	struct proc	*p;
	int		 sb;

	if (l->users > 1 || master.stopping)	/* a process has it */
		return;
	if ((sb = master_sb_alloc()) == -1)
		return;
	if ((p = proc_spawn(slot, sb, l, master_child)) == NULL) {
		log_warn("worker %d: fork for draining", slot);
		master_sb_free(sb);
		return;
	}
	listener_hold(l);
	atomic_store(&master.sb->worker[sb].state, WORKER_STARTING);
	atomic_store(&master.sb->worker[sb].pid, p->pid);
	master_retire(p, req);
}

/*
 * The slot's process retires; with goes, the slot's own socket too: it
 * is retired first, so that its worker (or one made to drain it) takes
 * what is queued on it.
 */
static void
master_slot_vacate(struct slot *s, int goes, struct proc_req *req)
{
	struct proc	*p = proc_of_slot(s->id);
	struct listener	*l = goes ? s->listener : NULL;

	ev_timer_stop(master.loop, &s->respawn);
	if (l != NULL)
		listener_retire(l);	/* before its worker hears */
	if (p != NULL)
		master_retire(p, req);
	master_sb_free(s->sb);		/* none if p took it */
	s->sb = -1;
	if (l != NULL) {
		master_drain(l, s->id, req);
		s->listener = NULL;
		listener_release(l);
	}
}

/* The slot is no longer wanted: its worker and its own socket retire. */
static void
master_slot_retire(struct slot *s, struct proc_req *req)
{
	s->wanted = 0;
	master_slot_vacate(s, 1, req);
}

static void
master_slot_start(struct slot *s, struct proc_req *req)
{
	struct proc *p;

	s->wanted = 1;
	s->backoff_ms = 0;
	ev_timer_stop(master.loop, &s->respawn);
	if ((p = master_spawn(s)) != NULL)
		proc_req_ready(req, p);
	else if (req != NULL)
		proc_req_fail(req, "worker %d could not be started (see the "
		    "log)", s->id);
}

/* Grow or shrink the pool; the workers above n drain and exit. */
void
master_scale(int n, struct proc_req *req)
{
	struct slot	*s;
	int		 i;

	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		s = &master.slot[i];
		if (i < n && !s->wanted)
			master_slot_start(s, req);
		else if (i >= n && s->wanted)
			master_slot_retire(s, req);
	}
	master.conf.workers = n;
}

/*
 * A new accept kind: every worker is replaced by one on the new socket(s)
 * while the old ones drain.  The sockets that go are retired first, so no
 * connection queued on them is lost.
 */
static void
master_switch_accept(enum accept_mode kind, int workers,
    struct proc_req *req)
{
	struct listener	*old_shared = master.shared;
	struct slot	*s;
	char		 why[512];
	int		 i;

	if (kind != ACCEPT_REUSEPORT && old_shared == NULL) {
		if ((master.shared = listener_open(&master.conf, 0, why,
		    sizeof(why))) == NULL) {
			log_warnx("reload: accept %s: %s", conf_accept_name(kind),
			    why);
			if (req != NULL)
				proc_req_fail(req, "accept %s: %s",
				    conf_accept_name(kind), why);
			return;
		}
		listener_hold(master.shared);
	}
	if (kind == ACCEPT_REUSEPORT && old_shared != NULL) {
		listener_retire(old_shared);
		master.shared = NULL;
	}
	master.conf.accept = kind;
	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		s = &master.slot[i];
		if (!s->wanted)
			continue;
		s->wanted = 0;
		master_slot_vacate(s, kind != ACCEPT_REUSEPORT, req);
		if (i < workers)
			master_slot_start(s, req);
	}
	if (kind == ACCEPT_REUSEPORT && old_shared != NULL) {
		master_drain(old_shared, 0, req);
		listener_release(old_shared);
	}
	master_scale(workers, req);
}

/*
 * A run-time directive, already checked, for one slot (only_slot) or for
 * all and the daemon itself (-1), as reload, acceptctl set and pause give
 * it: the master's copies change and every process of the slot(s), the
 * draining ones too, is sent "name value".
 */
void
master_setting(const char *name, const char *value, int only_slot,
    struct proc_req *req)
{
	struct proc	*p;
	char		 line[CHAN_PAYLOAD_MAX], why[256];
	int		 i;

	if (only_slot == -1) {
		conf_set_settings(&master.conf.set, name, value, why,
		    sizeof(why));
		if (strcmp(name, "accept-rate") == 0)
			scoreboard_set_rate(master.sb,
			    master.conf.set.accept_rate);
	}
	for (i = 0; i < CONF_WORKERS_MAX; i++)
		if (only_slot == -1 || only_slot == i)
			conf_set_settings(&master.slot[i].set, name, value,
			    why, sizeof(why));
	snprintf(line, sizeof(line), "%s %s", name, value);
	TAILQ_FOREACH(p, &procs, entry)
		if (only_slot == -1 || p->slot == only_slot)
			proc_req_send(req, p, CHAN_SET, line);
}

/*
 * Workers that run as "user" open the log file again on reload: it must
 * be theirs, as the master (root) may have just created it.
 */
static void
master_log_owner(void)
{
	struct passwd *pw;

	if (master.conf.log_file[0] == '\0' || master.conf.user[0] == '\0' ||
	    geteuid() != 0 || (pw = getpwnam(master.conf.user)) == NULL)
		return;
	if (chown(master.conf.log_file, pw->pw_uid, pw->pw_gid) == -1)
		log_warn("log-file %s: giving it to %s", master.conf.log_file,
		    master.conf.user);
}

/*
 * The log file is opened again on every reload (logrotate moves the old
 * one away and sends SIGHUP), by the master and by every worker.
 */
static void
master_log_file(const char *path)
{
	struct proc	*p;
	char		 line[PATH_MAX + 16];

	if (log_set_file(path) == -1) {
		log_warn("reload: log-file %s; logging on as before", path);
		return;
	}
	strlcpy(master.conf.log_file, path, sizeof(master.conf.log_file));
	master_log_owner();
	if (snprintf(line, sizeof(line), "log-file %s", path) >
	    CHAN_PAYLOAD_MAX) {
		log_warnx("log-file %s: too long a path for the workers; they "
		    "log where they did", path);
		return;
	}
	TAILQ_FOREACH(p, &procs, entry)
		proc_req_send(NULL, p, CHAN_SET, line);
}

static void
master_keep(const char *name, int changed)
{
	if (changed)
		log_warnx("reload: %s cannot change while acceptd runs; "
		    "restart it to apply the new value", name);
}

/*
 * The listen lines stay as they are, added, removed or changed alike:
 * every worker holds a socket for each address from its start, so a new
 * list would mean new workers on new sockets.  Restart for that.
 */
static void
master_keep_listen(const struct conf *new)
{
	char	cur[CONF_LISTEN_JOINED], want[CONF_LISTEN_JOINED];

	if (conf_listen_same(&master.conf, new))
		return;
	conf_listen_join(&master.conf, ", ", cur, sizeof(cur));
	conf_listen_join(new, ", ", want, sizeof(want));
	log_warnx("reload: listen cannot change while acceptd runs (a line "
	    "added, removed or changed); still listening on %s, not on %s; "
	    "restart it to apply the new listen lines", cur, want);
}

/* Apply a new, valid configuration to the running daemon. */
static void
master_apply(struct conf *new, struct proc_req *req)
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
			master_setting(name, b, -1, req);
		}
	}
	if (new->backlog != cur->backlog) {
		cur->backlog = new->backlog;
		listener_set_backlog(cur->backlog);
	}
	master_keep_listen(new);
	master_keep("control", strcmp(new->control, cur->control) != 0);
	master_keep("pidfile", strcmp(new->pidfile, cur->pidfile) != 0);
	master_keep("user", strcmp(new->user, cur->user) != 0);
	monitor_reload(cur, new);
	master_log_file(new->log_file);
	cur->shutdown_timeout_ms = new->shutdown_timeout_ms;
	cur->log_level = new->log_level;
	master_log_level(cur);
	log_set_level(cur->log_level);
	if (new->accept != cur->accept) {
		log_info("reload: accept %s (was %s)",
		    conf_accept_name(new->accept),
		    conf_accept_name(cur->accept));
		master_switch_accept(new->accept, new->workers, req);
	} else if (new->workers != cur->workers)
		master_scale(new->workers, req);
}

/* Parse the file again; a bad file changes nothing and says why. */
int
master_reload(char *why, size_t len, struct proc_req *req)
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
	if (master_conf_check(&new, why, len) == -1) {
		log_warnx("reload: %s: %s; still running on the previous "
		    "configuration", master.path, why);
		return -1;
	}
	notify_send("RELOADING=1");
	master_apply(&new, req);
	notify_send("READY=1");
	log_info("reloaded %s", master.path);
	return 0;
}

static void
master_kill_all(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct proc *p;

	(void)loop;
	(void)t;
	(void)arg;
	TAILQ_FOREACH(p, &procs, entry) {
		log_warnx("worker %d did not exit in time; killing it",
		    p->slot);
		kill(p->pid, SIGKILL);
	}
}

/* Each listen line's port, once, in the order of the lines. */
int
master_ports(unsigned short *ports, int max)
{
	unsigned short	port;
	int		i, j, n = 0;

	for (i = 0; i < master.conf.nlisten && n < max; i++) {
		port = sockaddr_port(
		    (const union sockaddr_any *)&master.conf.listen[i].addr);
		for (j = 0; j < n && ports[j] != port; j++)
			;
		if (j == n)
			ports[n++] = port;
	}
	return n;
}

/* Stop accepting everywhere; workers drain up to shutdown-timeout. */
void
master_stop(void)
{
	struct proc	*p;
	char		 timeout[32];
	int		 i;

	if (master.stopping)
		return;
	master.stopping = 1;
	notify_send("STOPPING=1");
	conf_format_duration(master.conf.shutdown_timeout_ms, timeout,
	    sizeof(timeout));
	log_info("stopping: draining connections for up to %s "
	    "(shutdown-timeout)", timeout);
	title_set("master (stopping)");
	for (i = 0; i < CONF_WORKERS_MAX; i++)
		ev_timer_stop(master.loop, &master.slot[i].respawn);
	TAILQ_FOREACH(p, &procs, entry)	/* lingering ones stop too */
		master_retire(p, NULL);
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
		proc_reap();
	}
	if (got_hup) {
		got_hup = 0;
		log_info("SIGHUP: reloading %s", master.path);
		master_reload(why, sizeof(why), NULL);
	}
	if (got_term) {
		got_term = 0;
		master_stop();
	}
}

/* The last word on the terminal: where to look from now on. */
static void
master_say_where_logs_go(void)
{
	if (master.conf.log_file[0] != '\0')
		fprintf(stderr, "acceptd: running in the background; logging "
		    "to %s\n", master.conf.log_file);
	else if (access("/dev/log", W_OK) == 0)
		fprintf(stderr, "acceptd: running in the background; logging "
		    "to syslog (facility daemon)\n");
	else
		fprintf(stderr, "acceptd: running in the background, but "
		    "there is no syslog socket (/dev/log): its log is lost; "
		    "set log-file in %s, or run it with -d\n", master.path);
}

/* Detach (unless foreground) and make the loop the rest runs on. */
struct ev_loop *
master_start(int foreground)
{
	char	why[512];
	int	i;

	master_signals_init();
	if (monitor_open(&master.conf, why, sizeof(why)) == -1)
		master_abort(why);	/* still on the terminal */
	if (master.conf.log_file[0] != '\0' &&
	    log_set_file(master.conf.log_file) == -1)
		err(1, "log-file %s", master.conf.log_file);
	master_log_owner();
	if (!foreground)
		master_say_where_logs_go();
	if (!foreground && daemon(0, 0) == -1)
		err(1, "daemon");
	log_init(foreground, master.conf.log_level, "");
	os_pidfile_write(master.pidfh);
	if ((master.loop = ev_loop_new(64)) == NULL)
		fatal("event loop");
	if (ev_set(master.loop, master.signal_pipe, EV_READ, master_wakeup,
	    NULL) == -1)
		fatal("poll signal pipe");
	ev_timer_init(&master.kill_timer, master_kill_all, NULL);
	for (i = 0; i < CONF_WORKERS_MAX; i++)
		ev_timer_init(&master.slot[i].respawn, master_respawn_due,
		    &master.slot[i]);
	proc_init(master.loop, master_exited);
	monitor_start(master.loop);
	return master.loop;
}

/* Every first worker said "ready" (or could not): so is the service. */
static void
master_ready(struct proc_req *req, void *arg)
{
	(void)arg;
	if (proc_req_error(req) != NULL)
		log_warnx("not every worker started: %s", proc_req_error(req));
	notify_send("READY=1");
}

/* Start the workers and run until stopped and every worker is gone. */
int
master_run(void)
{
	struct proc_req *req;
	char		 where[CONF_LISTEN_JOINED];

	title_set("master");
	conf_listen_join(&master.conf, ", ", where, sizeof(where));
	log_info("listening on %s (%s, backlog %d), %d worker%s, %s backend",
	    where, conf_accept_name(master.conf.accept),
	    master.conf.backlog, master.conf.workers,
	    master.conf.workers == 1 ? "" : "s", ev_backend_name());
	if ((req = proc_req_new(master_ready, NULL)) == NULL)
		notify_send("READY=1");
	master_scale(master.conf.workers, req);
	if (req != NULL)
		proc_req_start(req, READY_MS);
	while (!master.stopping || proc_count() > 0) {
		if (ev_run_once(master.loop, -1) == -1 && errno != EINTR)
			fatal("event loop");
	}
	os_pidfile_remove(master.pidfh);
	log_info("exiting");
	return 0;
}

/*
 * The control socket's commands: each builds its answer (a table or JSON)
 * and ends it with ctl_done, or hands it to the workers and waits.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "json.h"
#include "kview.h"
#include "master.h"

static void	cmd_status(struct ctl_client *, int, char **);
static void	cmd_workers(struct ctl_client *, int, char **);
static void	cmd_pause(struct ctl_client *, int, char **);
static void	cmd_set(struct ctl_client *, int, char **);
static void	cmd_config(struct ctl_client *, int, char **);
static void	cmd_sockets(struct ctl_client *, int, char **);
static void	cmd_counters(struct ctl_client *, int, char **);
static void	cmd_trace(struct ctl_client *, int, char **);
static void	cmd_scale(struct ctl_client *, int, char **);
static void	cmd_drop(struct ctl_client *, int, char **);
static void	cmd_reload(struct ctl_client *, int, char **);
static void	cmd_stop(struct ctl_client *, int, char **);
static void	cmd_mark(struct ctl_client *, int, char **);
static void	cmd_help(struct ctl_client *, int, char **);
static void	cmd_version(struct ctl_client *, int, char **);

const struct ctl_handler ctl_handlers[] = {
	{ "status",	cmd_status },
	{ "workers",	cmd_workers },
	{ "pause",	cmd_pause },
	{ "resume",	cmd_pause },
	{ "set",	cmd_set },
	{ "config",	cmd_config },
	{ "sockets",	cmd_sockets },
	{ "counters",	cmd_counters },
	{ "trace",	cmd_trace },
	{ "scale",	cmd_scale },
	{ "drop",	cmd_drop },
	{ "reload",	cmd_reload },
	{ "stop",	cmd_stop },
	{ "mark",	cmd_mark },
	{ "help",	cmd_help },
	{ "version",	cmd_version },
};
const size_t ctl_nhandlers = sizeof(ctl_handlers) / sizeof(ctl_handlers[0]);

static struct kview_counters	counters_at_start;

/* The kernel counters' baseline: "since acceptd started". */
void
ctl_cmd_init(void)
{
	kview_counters(&counters_at_start);
}

/* A worker number given by the user, below "workers"; -1: told why. */
static int
ctl_worker_arg(struct ctl_client *c, const char *arg)
{
	const char	*errstr;
	char		 why[128];
	long long	 id;

	id = strtonum(arg, 0, CONF_WORKERS_MAX - 1, &errstr);
	if (errstr != NULL || !master.slot[id].wanted) {
		snprintf(why, sizeof(why), "no worker \"%.32s\" (workers are "
		    "0..%d)", arg, master.conf.workers - 1);
		ctl_done(c, why);
		return -1;
	}
	return id;
}

/* The kernel's count of the worker going to sleep; 0 where unknown. */
static unsigned long long
ctl_sleeps(pid_t pid)
{
	unsigned long long n;

	if (pid == 0 || kview_process_sleeps(pid, &n) == -1)
		return 0;
	return n;
}

/* What a slot shows: its process's entry, or an empty one. */
static struct sb_worker *
ctl_sb(int i)
{
	static struct sb_worker none;

	return i < 0 ? &none : &master.sb->worker[i];
}

static pid_t
ctl_pid(int slot)
{
	struct proc *p = proc_of_slot(slot);

	return p == NULL ? 0 : p->pid;
}

static void
ctl_retiring_json(FILE *f)
{
	struct proc	*p;
	int		 first = 1;

	fprintf(f, ",\"retiring\":[");
	TAILQ_FOREACH(p, &procs, entry) {
		if (!p->retiring)
			continue;
		fprintf(f, "%s{\"id\":%d,\"pid\":%d,\"state\":\"%s\","
		    "\"connections\":%llu,\"accepted\":%llu}",
		    first ? "" : ",", p->slot, (int)p->pid,
		    scoreboard_state_name(atomic_load(&ctl_sb(p->sb)->state)),
		    (unsigned long long)sb_get(&ctl_sb(p->sb)->active),
		    (unsigned long long)sb_get(&ctl_sb(p->sb)->accepts));
		first = 0;
	}
	fprintf(f, "]");
}

static void
ctl_retiring_text(FILE *f)
{
	struct proc *p;

	TAILQ_FOREACH(p, &procs, entry)
		if (p->retiring)
			fprintf(f, "retiring: worker %d pid %d, %llu "
			    "connections, %llu accepted\n", p->slot,
			    (int)p->pid,
			    (unsigned long long)sb_get(&ctl_sb(p->sb)->active),
			    (unsigned long long)sb_get(
			    &ctl_sb(p->sb)->accepts));
}

/* Sockets on the daemon's port by TCP state, for the kernel view. */
static void
ctl_state_tally(const struct kview_socket *k, void *arg)
{
	unsigned int *count = arg;

	if (k->state > 0 && k->state < KV_NSTATES)
		count[k->side ? KV_NSTATES + k->state : k->state]++;
}

static void
ctl_states_json(FILE *f, const char *name, const unsigned int *count)
{
	int i, first = 1;

	fprintf(f, ",\"%s\":{", name);
	for (i = 1; i < KV_NSTATES; i++)
		if (count[i] != 0) {
			fprintf(f, "%s\"%s\":%u", first ? "" : ",",
			    kview_state_name(i), count[i]);
			first = 0;
		}
	fputc('}', f);
}

/*
 * What the monitor adds to status: "states" and "client_states" as
 * sockets -j gives them, and "counters" as counters -j does; a part the
 * platform lacks is left out.
 */
/* The kernel counters, now and since acceptd started: JSON or a table. */
static void
ctl_counters_write(FILE *f, const struct kview_counters *now, int json)
{
	const struct kview_counter_name	*n;
	unsigned long long		 v, v0;
	int				 i;

	if (json)
		fputc('{', f);
	else
		fprintf(f, "%-22s %12s %12s\n", "counter", "value",
		    "since-start");
	for (i = 0; i < KVIEW_NCOUNTERS; i++) {
		n = &kview_counter_names[i];
		v = *(const unsigned long long *)((const char *)now +
		    n->offset);
		v0 = *(const unsigned long long *)((const char *)
		    &counters_at_start + n->offset);
		if (json)
			fprintf(f, "%s\"%s\":{\"value\":%llu,\"delta\":%llu}",
			    i == 0 ? "" : ",", n->name, v, v - v0);
		else
			fprintf(f, "%-22s %12llu %12llu\n", n->name, v, v - v0);
	}
	if (json)
		fputc('}', f);
}

static void
ctl_kernel_json(FILE *f)
{
	struct kview_counters	 now;
	unsigned int		 count[2 * KV_NSTATES] = { 0 };
	unsigned short		 ports[CONF_LISTEN_MAX];
	int			 nports;

	nports = master_ports(ports, CONF_LISTEN_MAX);
	if (kview_sockets_ports(ports, nports, ctl_state_tally, count) != -1) {
		ctl_states_json(f, "states", count);
		ctl_states_json(f, "client_states", count + KV_NSTATES);
	}
	if (kview_counters(&now) == -1)
		return;
	fprintf(f, ",\"counters\":");
	ctl_counters_write(f, &now, 1);
}

/*
 * "listen": the daemon's addresses joined, and its queues added up (as
 * with one address); "listeners": each address with its own queue, over
 * every socket it has (the shared one, or each worker's).
 */
static void
ctl_listen_json(FILE *f, int with_accept)
{
	char		where[CONF_LISTEN_JOINED];
	unsigned int	q, l;
	int		i;

	conf_listen_join(&master.conf, ", ", where, sizeof(where));
	listener_queues(&q, &l);
	fprintf(f, "\"listen\":{\"address\":");
	json_string(f, where);
	if (with_accept)
		fprintf(f, ",\"accept\":\"%s\"",
		    conf_accept_name(master.conf.accept));
	fprintf(f, ",\"queue\":%u,\"backlog\":%u},\"listeners\":[", q, l);
	for (i = 0; i < master.conf.nlisten; i++) {
		listener_queue(i, &q, &l);
		fprintf(f, "%s{\"address\":", i ? "," : "");
		json_string(f, master.conf.listen[i].text);
		fprintf(f, ",\"queue\":%u,\"backlog\":%u}", q, l);
	}
	fputc(']', f);
}

/* "listen ADDR: accept queue Q of L", a line for each address. */
static void
ctl_listen_text(FILE *f)
{
	unsigned int	q, l;
	int		i;

	for (i = 0; i < master.conf.nlisten; i++) {
		listener_queue(i, &q, &l);
		fprintf(f, "listen %s: accept queue %u of %u\n",
		    master.conf.listen[i].text, q, l);
	}
}

/* A reuseport worker's own queues: added up, and one per address. */
static void
ctl_worker_queues_json(FILE *f, const struct listener *lr)
{
	unsigned int	q[CONF_LISTEN_MAX], l, total = 0;
	int		i;

	for (i = 0; i < lr->nfd; i++) {
		if (kview_listen_queue(lr->fd[i], &q[i], &l) == -1)
			q[i] = 0;
		total += q[i];
	}
	fprintf(f, ",\"queue\":%u,\"queues\":[", total);
	for (i = 0; i < lr->nfd; i++)
		fprintf(f, "%s%u", i ? "," : "", q[i]);
	fputc(']', f);
}

/* status -j; with kernel, the monitor's socket states and counters too. */
void
ctl_status_json(FILE *f, int all, int kernel)
{
	struct sb_worker	*w;
	struct slot		*s;
	int			 i, first = 1;

	fprintf(f, "{\"master\":{\"pid\":%d,\"uptime_s\":%llu,\"stopping\":%s,"
	    "\"generation\":%u},", (int)getpid(),
	    (unsigned long long)(ev_clock_ms() - master.started_ms) / 1000,
	    master.stopping ? "true" : "false", proc_generation());
	ctl_listen_json(f, 1);
	fprintf(f, ",\"workers\":[");
	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		s = &master.slot[i];
		if (!s->wanted)
			continue;
		w = ctl_sb(s->sb);
		fprintf(f, "%s{\"id\":%d,\"pid\":%d,\"state\":\"%s\","
		    "\"connections\":%llu,\"accepted\":%llu,\"wakeups\":%llu,"
		    "\"empty_accepts\":%llu,\"sleeps\":%llu",
		    first ? "" : ",", i, (int)ctl_pid(i),
		    scoreboard_state_name(atomic_load(&w->state)),
		    (unsigned long long)sb_get(&w->active),
		    (unsigned long long)sb_get(&w->accepts),
		    (unsigned long long)sb_get(&w->wakeups),
		    (unsigned long long)sb_get(&w->empty_accepts),
		    ctl_sleeps(ctl_pid(i)));
		first = 0;
		fprintf(f, ",\"restarts\":%u,\"last_exit\":", s->restarts);
		json_string(f, s->last_exit);
		if (s->listener != NULL)	/* reuseport: its own */
			ctl_worker_queues_json(f, s->listener);
		if (all)
			fprintf(f, ",\"closed\":%llu,\"peer_eofs\":%llu,"
			    "\"resets\":%llu,\"bytes_in\":%llu,"
			    "\"bytes_out\":%llu,\"trace_dropped\":%llu,"
			    "\"generation\":%llu,\"paused\":%s,"
			    "\"max_connections\":%d,\"close_mode\":\"%s\","
			    "\"reading\":\"%s\",\"protocol\":\"%s\"",
			    (unsigned long long)sb_get(&w->closed),
			    (unsigned long long)sb_get(&w->peer_eofs),
			    (unsigned long long)sb_get(&w->resets),
			    (unsigned long long)sb_get(&w->bytes_in),
			    (unsigned long long)sb_get(&w->bytes_out),
			    (unsigned long long)sb_get(&w->trace_dropped),
			    (unsigned long long)atomic_load(&w->generation),
			    s->set.paused ? "true" : "false",
			    s->set.max_connections,
			    conf_close_name(s->set.close_mode),
			    s->set.reading ? "on" : "off",
			    conf_protocol_name(s->set.protocol));
		fprintf(f, "}");
	}
	fprintf(f, "]");
	ctl_retiring_json(f);
	if (kernel)
		ctl_kernel_json(f);
	fprintf(f, "}\n");
}

static void
ctl_status_text(FILE *f, int all)
{
	struct sb_worker	*w;
	struct slot		*s;
	char			 where[CONF_LISTEN_JOINED];
	unsigned int		 q, l;
	int			 i;

	listener_queues(&q, &l);
	conf_listen_join(&master.conf, ", ", where, sizeof(where));
	fprintf(f, "master pid %d, up %llus%s; listening on %s (%s), "
	    "accept queue %u of %u\n", (int)getpid(),
	    (unsigned long long)(ev_clock_ms() - master.started_ms) / 1000,
	    master.stopping ? ", stopping" : "", where,
	    conf_accept_name(master.conf.accept), q, l);
	if (master.conf.nlisten > 1)	/* each address's own queue */
		ctl_listen_text(f);
	fprintf(f, "%-6s %-7s %-10s %6s %9s %9s %7s %9s", "worker", "pid",
	    "state", "conns", "accepted", "wakeups", "empty", "sleeps");
	if (all)
		fprintf(f, " %9s %7s %7s %11s %11s", "closed", "eofs",
		    "resets", "bytes-in", "bytes-out");
	fprintf(f, "\n");
	for (i = 0; i < CONF_WORKERS_MAX; i++) {
		s = &master.slot[i];
		if (!s->wanted)
			continue;
		w = ctl_sb(s->sb);
		fprintf(f, "%-6d %-7d %-10s %6llu %9llu %9llu %7llu %9llu", i,
		    (int)ctl_pid(i),
		    scoreboard_state_name(atomic_load(&w->state)),
		    (unsigned long long)sb_get(&w->active),
		    (unsigned long long)sb_get(&w->accepts),
		    (unsigned long long)sb_get(&w->wakeups),
		    (unsigned long long)sb_get(&w->empty_accepts),
		    ctl_sleeps(ctl_pid(i)));
		if (all)
			fprintf(f, " %9llu %7llu %7llu %11llu %11llu",
			    (unsigned long long)sb_get(&w->closed),
			    (unsigned long long)sb_get(&w->peer_eofs),
			    (unsigned long long)sb_get(&w->resets),
			    (unsigned long long)sb_get(&w->bytes_in),
			    (unsigned long long)sb_get(&w->bytes_out));
		fprintf(f, "\n");
	}
	for (i = 0; i < CONF_WORKERS_MAX; i++)
		if (master.slot[i].wanted && master.slot[i].restarts > 0)
			fprintf(f, "worker %d restarted %u time%s; the last one "
			    "%s\n", i, master.slot[i].restarts,
			    master.slot[i].restarts == 1 ? "" : "s",
			    master.slot[i].last_exit);
	ctl_retiring_text(f);
}

static void
ctl_status_common(struct ctl_client *c, int all)
{
	char	*buf;
	size_t	 len;
	FILE	*f;

	if ((f = ctl_body(&buf, &len)) == NULL) {
		ctl_done(c, "out of memory");
		return;
	}
	if (c->json)
		ctl_status_json(f, all, 0);
	else
		ctl_status_text(f, all);
	ctl_send_body(c, f, &buf, &len);
	ctl_done(c, NULL);
}

static void
cmd_status(struct ctl_client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ctl_status_common(c, 0);
}

static void
cmd_workers(struct ctl_client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ctl_status_common(c, 1);
}

/*
 * What a change left, in one line (the answer of pause, resume, set,
 * scale and reload, once the workers have applied it).
 */
static void
ctl_state_answer(struct ctl_client *c, struct proc_req *req)
{
	struct proc	*p;
	int		 i, n = 0, paused = 0, retiring = 0;

	if (proc_req_error(req) != NULL) {
		ctl_done(c, proc_req_error(req));
		return;
	}
	for (i = 0; i < CONF_WORKERS_MAX; i++)
		if (master.slot[i].wanted) {
			n++;
			paused += master.slot[i].set.paused;
		}
	TAILQ_FOREACH(p, &procs, entry)
		retiring += p->retiring;
	if (c->json)
		ctl_printf(c, "{\"workers\":%d,\"paused\":%d,\"retiring\":%d,"
		    "\"accept\":\"%s\"}\n", n, paused, retiring,
		    conf_accept_name(master.conf.accept));
	else {
		ctl_printf(c, "%d worker%s (%s): %d accepting, %d paused", n,
		    n == 1 ? "" : "s", conf_accept_name(master.conf.accept),
		    n - paused, paused);
		if (retiring > 0)
			ctl_printf(c, ", %d retiring", retiring);
		ctl_printf(c, "\n");
	}
	ctl_done(c, NULL);
}

/* pause/resume [WORKER] */
static void
cmd_pause(struct ctl_client *c, int argc, char **argv)
{
	struct proc_req	*req;
	int		 only = -1;

	if (argc == 2 && (only = ctl_worker_arg(c, argv[1])) == -1)
		return;
	if ((req = ctl_req_new(c, ctl_state_answer)) == NULL)
		return;
	master_setting("paused", strcmp(argv[0], "pause") == 0 ? "yes" : "no",
	    only, req);
	ctl_req_wait(c, req);
}

static void
ctl_runtime_names(char *buf, size_t len)
{
	const char	*name;
	int		 i;

	buf[0] = '\0';
	for (i = 0; (name = conf_runtime_name(i)) != NULL; i++) {
		if (i > 0)
			strlcat(buf, ", ", len);
		strlcat(buf, name, len);
	}
}

/* set NAME VALUE [WORKER]: checked here first, so errors come at once. */
static void
cmd_set(struct ctl_client *c, int argc, char **argv)
{
	struct settings	 check = master.conf.set;
	struct proc_req	*req;
	int		 only = -1;
	char		 why[512], names[256];

	if (!conf_is_runtime(argv[1])) {
		ctl_runtime_names(names, sizeof(names));
		snprintf(why, sizeof(why), "\"%.64s\" cannot be set at run "
		    "time; these can: %s", argv[1], names);
		ctl_done(c, why);
		return;
	}
	if (conf_set_settings(&check, argv[1], argv[2], why,
	    sizeof(why)) == -1) {
		ctl_done(c, why);
		return;
	}
	if (argc == 4) {
		if (strcmp(argv[1], "accept-rate") == 0) {
			ctl_done(c, "accept-rate is for the whole daemon; "
			    "leave out the worker");
			return;
		}
		if ((only = ctl_worker_arg(c, argv[3])) == -1)
			return;
	}
	if ((req = ctl_req_new(c, ctl_state_answer)) == NULL)
		return;
	master_setting(argv[1], argv[2], only, req);
	ctl_req_wait(c, req);
}

static void
cmd_config(struct ctl_client *c, int argc, char **argv)
{
	char	*buf, *text = NULL, *line, *p, *value;
	char	 where[CONF_LISTEN_JOINED];
	size_t	 len, tlen;
	FILE	*f, *t;
	int	 first = 1, listen_done = 0;

	(void)argc;
	(void)argv;
	if ((f = ctl_body(&buf, &len)) == NULL) {
		ctl_done(c, "out of memory");
		return;
	}
	if (!c->json)
		conf_print(f, &master.conf);
	else if ((t = open_memstream(&text, &tlen)) == NULL) {
		ctl_send_body(c, f, &buf, &len);
		ctl_done(c, "out of memory");
		return;
	} else {
		/*
		 * The config's lines become the object's members; the listen
		 * lines one member, their addresses joined as status says.
		 */
		conf_print(t, &master.conf);
		fclose(t);
		fputc('{', f);
		conf_listen_join(&master.conf, ", ", where, sizeof(where));
		for (p = text; (line = strsep(&p, "\n")) != NULL;) {
			if ((value = strchr(line, ' ')) == NULL)
				continue;
			*value++ = '\0';
			if (strcmp(line, "listen") == 0) {
				if (listen_done++)
					continue;
				value = where;
			}
			fprintf(f, "%s", first ? "" : ",");
			json_string(f, line);
			fputc(':', f);
			json_string(f, value);
			first = 0;
		}
		fputs("}\n", f);
	}
	free(text);
	ctl_send_body(c, f, &buf, &len);
	ctl_done(c, NULL);
}

/*
 * sockets: one kernel dump, counted at once and kept (the sockets on our
 * ports only, every listen line's: the kernel filters), then written out
 * as the client reads.
 */
struct ctl_sockets {
	struct kview_socket	*rows;
	size_t			 n;
	size_t			 cap;
	size_t			 next;		/* the next row to write */
	int			 json;
	int			 failed;
	unsigned int		 server[KV_NSTATES];
	unsigned int		 client[KV_NSTATES];
};

static void
ctl_socket_keep(const struct kview_socket *k, void *arg)
{
	struct ctl_sockets	*cs = arg;
	struct kview_socket	*rows;
	size_t			 cap;

	if (k->state <= 0 || k->state >= KV_NSTATES || cs->failed)
		return;
	if (cs->n == cs->cap) {
		cap = cs->cap ? cs->cap * 2 : 256;
		if ((rows = reallocarray(cs->rows, cap, sizeof(*rows))) ==
		    NULL) {
			cs->failed = 1;
			return;
		}
		cs->rows = rows;
		cs->cap = cap;
	}
	cs->rows[cs->n++] = *k;
	(k->side ? cs->client : cs->server)[k->state]++;
}

static void
ctl_socket_row(struct ctl_client *c, const struct ctl_sockets *cs,
    const struct kview_socket *k)
{
	char		 local[SOCKADDR_STRLEN], peer[SOCKADDR_STRLEN];
	const char	*side = k->side ? "client" : "server";

	sockaddr_format((const union sockaddr_any *)&k->local, local,
	    sizeof(local));
	sockaddr_format((const union sockaddr_any *)&k->peer, peer,
	    sizeof(peer));
	if (cs->json)
		ctl_printf(c, "%s{\"side\":\"%s\",\"state\":\"%s\","
		    "\"recv_q\":%u,\"send_q\":%u,\"local\":\"%s\","
		    "\"peer\":\"%s\"}", k == cs->rows ? "" : ",", side,
		    kview_state_name(k->state), k->rqueue, k->wqueue, local,
		    peer);
	else
		ctl_printf(c, "%-6s %-12s %7u %7u  %-22s %s\n", side,
		    kview_state_name(k->state), k->rqueue, k->wqueue, local,
		    peer);
}

#define CTL_SOCKET_ROWS	256	/* written at a time */

static int
ctl_sockets_more(struct ctl_client *c, void *arg, int stop)
{
	struct ctl_sockets	*cs = arg;
	size_t			 end;

	if (!stop) {
		end = cs->next + CTL_SOCKET_ROWS;
		for (; cs->next < cs->n && cs->next < end; cs->next++)
			ctl_socket_row(c, cs, &cs->rows[cs->next]);
		if (cs->next < cs->n)
			return 1;
		if (cs->json)
			ctl_printf(c, "]}\n");
	}
	free(cs->rows);
	free(cs);
	return 0;
}

static void
ctl_state_counts(struct ctl_client *c, const unsigned int *count, int json)
{
	int i, first = 1;

	for (i = 1; i < KV_NSTATES; i++) {
		if (count[i] == 0)
			continue;
		if (json)
			ctl_printf(c, "%s\"%s\":%u", first ? "" : ",",
			    kview_state_name(i), count[i]);
		else
			ctl_printf(c, "%s%s %u", first ? "" : ", ",
			    kview_state_name(i), count[i]);
		first = 0;
	}
	if (first && !json)
		ctl_printf(c, "none");
}

/* The listen part of sockets' answer, as status gives it. */
static int
ctl_sockets_listen(struct ctl_client *c)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return -1;
	if (c->json)
		ctl_listen_json(f, 0);
	else
		ctl_listen_text(f);
	if (fclose(f) != 0) {
		free(buf);
		return -1;
	}
	ctl_printf(c, "%s", buf);
	free(buf);
	return 0;
}

static void
cmd_sockets(struct ctl_client *c, int argc, char **argv)
{
	struct ctl_sockets	*cs;
	char			 why[256];
	unsigned short		 ports[CONF_LISTEN_MAX];
	int			 nports;

	(void)argc;
	(void)argv;
	if ((cs = calloc(1, sizeof(*cs))) == NULL) {
		ctl_done(c, "out of memory");
		return;
	}
	cs->json = c->json;
	nports = master_ports(ports, CONF_LISTEN_MAX);
	if (kview_sockets_ports(ports, nports, ctl_socket_keep, cs) == -1 ||
	    cs->failed) {
		snprintf(why, sizeof(why), "socket list: %s", cs->failed ?
		    "out of memory" : strerror(errno));
		free(cs->rows);
		free(cs);
		ctl_done(c, why);
		return;
	}
	if (c->json)
		ctl_printf(c, "{");
	if (ctl_sockets_listen(c) == -1) {
		free(cs->rows);
		free(cs);
		ctl_done(c, "out of memory");
		return;
	}
	if (c->json) {
		ctl_printf(c, ",\"states\":{");
		ctl_state_counts(c, cs->server, 1);
		ctl_printf(c, "},\"client_states\":{");
		ctl_state_counts(c, cs->client, 1);
		ctl_printf(c, "},\"connections\":[");
	} else {
		ctl_printf(c, "server side: ");
		ctl_state_counts(c, cs->server, 0);
		ctl_printf(c, "\nclient side: ");
		ctl_state_counts(c, cs->client, 0);
		ctl_printf(c, "\n%-6s %-12s %7s %7s  %-22s %s\n", "side",
		    "state", "recv-q", "send-q", "local", "peer");
	}
	ctl_stream(c, ctl_sockets_more, cs);
}

static void
cmd_counters(struct ctl_client *c, int argc, char **argv)
{
	struct kview_counters	 now;
	char			*buf, why[256];
	size_t			 len;
	FILE			*f;

	(void)argc;
	(void)argv;
	if (kview_counters(&now) == -1) {
		snprintf(why, sizeof(why), "kernel counters: %s",
		    strerror(errno));
		ctl_done(c, why);
		return;
	}
	if ((f = ctl_body(&buf, &len)) == NULL) {
		ctl_done(c, "out of memory");
		return;
	}
	ctl_counters_write(f, &now, c->json);
	if (c->json)
		fputc('\n', f);
	ctl_send_body(c, f, &buf, &len);
	ctl_done(c, NULL);
}

/* trace: "ok", then one line per event until the client goes away. */
static void
cmd_trace(struct ctl_client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ctl_done(c, NULL);
	ctl_trace_start(c);
}

static void
cmd_scale(struct ctl_client *c, int argc, char **argv)
{
	struct proc_req	*req;
	const char	*errstr;
	char		 why[128];
	int		 n;

	(void)argc;
	n = strtonum(argv[1], 1, CONF_WORKERS_MAX, &errstr);
	if (errstr != NULL) {
		snprintf(why, sizeof(why), "scale: \"%.32s\" is %s (1..%d)",
		    argv[1], errstr, CONF_WORKERS_MAX);
		ctl_done(c, why);
		return;
	}
	if (master.stopping) {
		ctl_done(c, "acceptd is stopping; scale refused");
		return;
	}
	/* New workers owe "ready", retired ones the answer to STOP. */
	if ((req = ctl_req_new(c, ctl_state_answer)) == NULL)
		return;
	master_scale(n, req);
	ctl_req_wait(c, req);
}

static void
ctl_drop_answer(struct ctl_client *c, struct proc_req *req)
{
	if (proc_req_error(req) == NULL)
		ctl_printf(c, c->json ? "{\"dropped\":%lld}\n" :
		    "dropped %lld\n", proc_req_total(req));
	ctl_done(c, proc_req_error(req));
}

static void
cmd_drop(struct ctl_client *c, int argc, char **argv)
{
	struct proc_req	*req;
	struct proc	*p;

	(void)argc;
	if (strcmp(argv[1], "close-wait") != 0 &&
	    strcmp(argv[1], "idle") != 0 && strcmp(argv[1], "all") != 0) {
		ctl_done(c, "usage: drop close-wait|idle|all");
		return;
	}
	if ((req = ctl_req_new(c, ctl_drop_answer)) == NULL)
		return;
	TAILQ_FOREACH(p, &procs, entry)
		proc_req_send(req, p, CHAN_DROP, argv[1]);
	ctl_req_wait(c, req);
}

/* The answer comes once every worker has applied what changed. */
static void
cmd_reload(struct ctl_client *c, int argc, char **argv)
{
	struct proc_req	*req;
	char		 why[512];

	(void)argc;
	(void)argv;
	if ((req = ctl_req_new(c, ctl_state_answer)) == NULL)
		return;
	if (master_reload(why, sizeof(why), req) == -1) {
		proc_req_forget(req);
		proc_req_start(req, 0);
		ctl_done(c, why);
		return;
	}
	ctl_req_wait(c, req);
}

static void
cmd_stop(struct ctl_client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	c->closing = 1;		/* close once "ok" is out */
	ctl_done(c, NULL);
	master_stop();
}

/*
 * mark TEXT: a line of one's own in the trace, in time order with the
 * rest; once a reader has it, it has every line before it too.
 */
static void
cmd_mark(struct ctl_client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ctl_done(c, NULL);	/* traced as "mark TEXT" (ctl_note_action) */
}

static void
cmd_help(struct ctl_client *c, int argc, char **argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	if (c->json) {
		ctl_printf(c, "{\"commands\":[");
		for (i = 0; i < ctlproto_ncmds; i++)
			ctl_printf(c, "%s\"%s\"", i ? "," : "",
			    ctlproto_cmds[i].usage);
		ctl_printf(c, "]}\n");
	} else {
		ctl_printf(c, "commands (a prefix picks the first that "
		    "matches; \"-j\" before one asks for JSON):\n");
		for (i = 0; i < ctlproto_ncmds; i++)
			if (ctlproto_cmds[i].reply == CTLPROTO_LOCAL)
				ctl_printf(c, "  %s   (acceptctl: status and "
				    "sockets again and again)\n",
				    ctlproto_cmds[i].usage);
			else
				ctl_printf(c, "  %s\n", ctlproto_cmds[i].usage);
	}
	ctl_done(c, NULL);
}

static void
cmd_version(struct ctl_client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (c->json)
		ctl_printf(c, "{\"version\":\"%s\"}\n", ACCEPTD_VERSION);
	else
		ctl_printf(c, "acceptd %s\n", ACCEPTD_VERSION);
	ctl_done(c, NULL);
}

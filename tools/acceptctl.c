/*
 * acceptctl: talk to a running acceptd over its control socket.  The
 * commands and their arguments are checked against common/ctlproto.c before
 * connecting; the daemon does the work and answers lines ending in "ok" or
 * "error: ...".
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "ctlproto.h"
#include "os.h"

#define EXIT_REFUSED	1	/* the daemon said no, or bad usage */
#define EXIT_NODAEMON	2	/* nobody answered on the socket */
#define ANSWER_SECONDS	10	/* the daemon answers well within this */

static const char	*socket_path;
static int		 json;
static volatile sig_atomic_t interrupted;

static void __attribute__((noreturn))
usage(void)
{
	size_t i;

	fprintf(stderr, "usage: acceptctl [-jV] [-f config | -s socket] "
	    "command [args]\n"
	    "the socket: -s, else the config's control (-f), else "
	    "$ACCEPTD_SOCKET,\nelse the default; "
	    "commands (a unique prefix will do):\n");
	for (i = 0; i < ctlproto_ncmds; i++)
		fprintf(stderr, "  %s\n", ctlproto_cmds[i].usage);
	exit(EXIT_REFUSED);
}

static const struct ctlproto_cmd *
command_lookup(const char *word)
{
	const struct ctlproto_cmd	*cmd;
	char				 why[CTLPROTO_WHY_MAX];

	if ((cmd = ctlproto_lookup(word, why, sizeof(why))) == NULL)
		errx(EXIT_REFUSED, "%s", why);
	return cmd;
}

static const char *
blank_name(char c)
{
	switch (c) {
	case '\n':
		return "a newline";
	case '\r':
		return "a carriage return";
	case ' ':
		return "a space";
	default:
		return "a tab";
	}
}

/*
 * The daemon reads one line of blank-separated words, so an argument that
 * is empty or holds a blank or a line break would be read as other words,
 * or as another command: refuse it here rather than send it.
 */
static void
check_arguments(const char *command, int argc, char **argv)
{
	const char	*bad;
	int		 i;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '\0')
			errx(EXIT_REFUSED, "%s: argument %d is empty", command,
			    i);
		if ((bad = strpbrk(argv[i], "\n\r \t")) != NULL)
			errx(EXIT_REFUSED, "%s: argument %d holds %s at byte "
			    "%td; each argument must be one word, without "
			    "blanks or line breaks", command, i,
			    blank_name(*bad), bad - argv[i] + 1);
	}
}

/* A stopped or wedged daemon must not hang a script for ever. */
static void
answer_timeout(int fd, int seconds)
{
	struct timeval tv = { seconds, 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		err(EXIT_NODAEMON, "setsockopt SO_RCVTIMEO");
}

/* The socket is the daemon's user's (mode 0600): say whose. */
static void __attribute__((noreturn))
permission_denied(void)
{
	struct passwd	*pw;
	struct stat	 st;

	if (stat(socket_path, &st) == -1)
		fprintf(stderr, "acceptctl: %s: permission denied (a folder on "
		    "the way is closed to uid %d); run acceptctl as the "
		    "daemon's user or root\n", socket_path, (int)getuid());
	else if ((pw = getpwuid(st.st_uid)) != NULL)
		fprintf(stderr, "acceptctl: %s: permission denied: the daemon "
		    "runs as uid %d (%s); run acceptctl as that user or root\n",
		    socket_path, (int)st.st_uid, pw->pw_name);
	else
		fprintf(stderr, "acceptctl: %s: permission denied: the daemon "
		    "runs as uid %d; run acceptctl as that user or root\n",
		    socket_path, (int)st.st_uid);
	exit(EXIT_NODAEMON);
}

/* -f: the control socket the configuration file names. */
static const char *
config_socket(const char *file)
{
	static struct conf	conf;

	conf_defaults(&conf);
	if (conf_load(file, &conf, stderr) > 0)
		exit(EXIT_REFUSED);
	return conf.control;
}

static FILE *
connect_daemon(void)
{
	struct sockaddr_un	 sun;
	FILE			*f;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, socket_path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(EXIT_NODAEMON, "%s: socket path too long", socket_path);
	if ((fd = os_socket(AF_UNIX, SOCK_STREAM, 0, 0)) == -1)
		err(EXIT_NODAEMON, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EACCES || errno == EPERM)
			permission_denied();
		fprintf(stderr, "acceptctl: cannot reach acceptd at %s: %s\n"
		    "acceptctl: is it running? start it with \"acceptd -f "
		    "FILE\", or name its socket with -s or -f\n", socket_path,
		    strerror(errno));
		exit(EXIT_NODAEMON);
	}
	answer_timeout(fd, ANSWER_SECONDS);
	if ((f = fdopen(fd, "r+")) == NULL)
		err(EXIT_NODAEMON, "fdopen");
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

static void
send_command(FILE *f, int argc, char **argv)
{
	int i;

	fprintf(f, "%s", json ? "-j " : "");
	for (i = 0; i < argc; i++)
		fprintf(f, "%s%s", i ? " " : "", argv[i]);
	fprintf(f, "\n");
	fflush(f);
}

/*
 * Copy the answer's lines to stdout up to "ok" or "error: ..."; returns
 * the exit status.  out may be NULL to keep the body.
 */
static int
read_answer(FILE *f, FILE *out)
{
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	int	 status = EXIT_NODAEMON;

	while (errno = 0, (n = getline(&line, &cap, f)) != -1) {
		if (strcmp(line, "ok\n") == 0) {
			status = 0;
			break;
		}
		if (strncmp(line, "error: ", 7) == 0) {
			fprintf(stderr, "acceptctl: %s", line + 7);
			status = EXIT_REFUSED;
			break;
		}
		if (out != NULL)
			fputs(line, out);
	}
	if (status == EXIT_NODAEMON && interrupted)
		fprintf(stderr, "acceptctl: interrupted\n");
	else if (status == EXIT_NODAEMON && errno == EAGAIN)
		fprintf(stderr, "acceptctl: no answer from acceptd at %s "
		    "within %d s\n", socket_path, ANSWER_SECONDS);
	else if (status == EXIT_NODAEMON)
		fprintf(stderr, "acceptctl: acceptd closed the connection at "
		    "%s before answering\n", socket_path);
	free(line);
	return status;
}

static void
on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/*
 * A kernel event's socket, "LOCAL>PEER" (or "<" for a packet that came in),
 * with the peer's host left out when it is the local one:
 * "127.0.0.1:48796>:8080".
 */
static void
trace_socket(char *sock)
{
	char	*arrow, *colon, mark;
	size_t	 host;

	if ((arrow = strpbrk(sock, "<>")) == NULL)
		return;
	mark = *arrow;
	*arrow = '\0';
	colon = strrchr(sock, ':');
	*arrow = mark;
	if (colon == NULL)
		return;
	host = colon - sock;
	if (strncmp(sock, arrow + 1, host) == 0 && arrow[1 + host] == ':')
		memmove(arrow + 1, arrow + 1 + host,
		    strlen(arrow + 1 + host) + 1);
}

/* A kernel event's key=value words as a sentence. */
static void
trace_kernel(const char *event, char *rest)
{
	char	from[32], to[32], reason[64], state[32];

	if (strcmp(event, "state") == 0 &&
	    sscanf(rest, "from=%31s to=%31s", from, to) == 2)
		printf("state %s>%s\n", from, to);
	else if (sscanf(rest, "reason=%63s state=%31s", reason, state) == 2)
		printf("%s reason=%s (state %s)\n", event, reason, state);
	else
		printf("%s%s%s\n", event, rest[0] != '\0' ? " " : "", rest);
}

/*
 * A trace line as a log reads: local wall-clock time with milliseconds,
 * who (a worker, control for an action, kernel for the kernel's own
 * events), connection, peer, event.
 */
static void
trace_print(const char *line)
{
	char		 t[32], worker[16], conn[16], peer[128], event[32];
	char		 rest[1024], when[16], who[24];
	struct tm	 tm;
	time_t		 sec;
	long		 us = 0;
	int		 n;

	rest[0] = '\0';
	n = sscanf(line, "%31s %15s %15s %127s %31s %1023[^\n]", t, worker,
	    conn, peer, event, rest);
	if (n < 5 || sscanf(t, "%lld.%ld", (long long *)&sec, &us) < 1 ||
	    localtime_r(&sec, &tm) == NULL) {
		fputs(line, stdout);	/* not ours to reshape */
		return;
	}
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (strcmp(worker, "-") == 0) {	/* an action: what was done */
		printf("%s.%03ld  %-9s %s%s%s\n", when, us / 1000, "control",
		    strcmp(event, "control") == 0 ? "" : event,
		    strcmp(event, "control") == 0 ? "" : " ", rest);
		return;
	}
	if (strcmp(worker, "kernel") == 0) {
		if (strcmp(event, "unavailable") == 0 ||
		    strcmp(event, "partial") == 0 ||
		    strcmp(event, "lost") == 0) {
			printf("%s.%03ld  %-9s kernel events %s: %s\n", when,
			    us / 1000, "kernel", event, rest);
			return;
		}
		trace_socket(peer);
		printf("%s.%03ld  %-9s %-5s %-22s ", when, us / 1000, "kernel",
		    "", peer);
		trace_kernel(event, rest);
		return;
	}
	snprintf(who, sizeof(who), "worker %s", worker);
	printf("%s.%03ld  %-9s %-5s %-22s %s%s%s\n", when, us / 1000, who,
	    strcmp(conn, "-") == 0 ? "" : conn, strcmp(peer, "-") == 0 ? "" :
	    peer, event, rest[0] != '\0' ? " " : "", rest);
}

/*
 * trace: "ok", then lines until interrupted.  The daemon going away ends
 * it with a last line and exit 2.
 */
static int
stream(FILE *f)
{
	char	*line = NULL;
	size_t	 cap = 0;
	int	 status;

	if ((status = read_answer(f, stdout)) != 0)
		return status;
	answer_timeout(fileno(f), 0);	/* a quiet stream is not an error */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!json)
		printf("%-12s  %-9s %-5s %-22s %s\n", "time", "who", "conn",
		    "peer", "event");
	while (!interrupted && getline(&line, &cap, f) != -1) {
		if (json)
			fputs(line, stdout);
		else
			trace_print(line);
	}
	free(line);
	if (interrupted)
		return 0;
	fflush(stdout);
	fprintf(stderr, "acceptctl: acceptd at %s went away; trace ended\n",
	    socket_path);
	return EXIT_NODAEMON;
}

/* Interval as "500ms", "2s" or a plain number of seconds. */
static unsigned int
watch_interval(const char *arg)
{
	const char	*why = "must be more than 0";
	unsigned int	 ms;

	if (conf_parse_duration(arg, &ms, &why) == -1 || ms == 0)
		errx(EXIT_REFUSED, "watch: interval \"%s\" %s", arg, why);
	return ms;
}

/* One command's answer, kept: NULL (and the status in *status) if not. */
static char *
watch_ask(FILE *f, char **argv, int *status)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*mem;

	if ((mem = open_memstream(&buf, &len)) == NULL)
		err(EXIT_NODAEMON, "memstream");
	send_command(f, 1, argv);
	*status = read_answer(f, mem);
	fclose(mem);
	if (*status == 0)
		return buf;
	free(buf);
	return NULL;
}

/* Print at most max lines of text, each cut to cols; how many were left. */
static int
watch_lines(const char *text, int max, int cols)
{
	const char	*p, *nl;
	int		 shown = 0, left = 0;

	for (p = text; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		if (shown < max) {
			printf("%.*s\n", (int)(nl - p < cols ? nl - p : cols), p);
			shown++;
		} else
			left++;
		if (nl[1] == '\0')
			break;
	}
	return left;
}

static int
watch_count(const char *text)
{
	int n = 0;

	for (; *text != '\0'; text++)
		n += *text == '\n';
	return n;
}

/*
 * One frame on a terminal: the header and the status always, then as much
 * of sockets as fits, and "... N more" for the rest, so nothing scrolls
 * (the last line has no newline).
 */
static void
watch_frame(const char *status, const char *sockets, unsigned int ms)
{
	struct winsize	 ws;
	char		 when[16], every[32], head[128];
	time_t		 now = time(NULL);
	int		 rows = 24, cols = 80, left, room;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 3 &&
	    ws.ws_col > 0) {
		rows = ws.ws_row;
		cols = ws.ws_col;
	}
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	conf_format_duration(ms, every, sizeof(every));
	snprintf(head, sizeof(head), "acceptctl watch, %s, every %s; Ctrl-C "
	    "stops\n", when, every);
	printf("\033[H\033[2J");
	watch_lines(head, 1, cols);
	room = rows - 2;		/* the header, and the "more" line */
	left = watch_lines(status, room, cols);
	room -= watch_count(status) - left;
	left += watch_lines(sockets, room, cols);
	if (left > 0)
		printf("\u2026 %d more", left);
	fflush(stdout);
}

/* watch: status and sockets again every interval, until told to stop. */
static int
watch(int argc, char **argv)
{
	static char	*status_argv[] = { "status" }, *sockets_argv[] = {
	    "sockets" };
	struct timespec	 ts;
	unsigned int	 ms = 1000;
	long long	 count = 0, i;
	const char	*errstr;
	char		*status, *sockets;
	FILE		*f;
	int		 r, tty = !json && isatty(STDOUT_FILENO);

	if (argc > 1)
		ms = watch_interval(argv[1]);
	if (argc > 2 && (count = strtonum(argv[2], 1, 1000000000,
	    &errstr), errstr != NULL))
		errx(EXIT_REFUSED, "watch: count \"%s\" is %s (1 to "
		    "1000000000)", argv[2], errstr);
	f = connect_daemon();
	for (i = 0; !interrupted && (count == 0 || i < count); i++) {
		if (i > 0) {
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (ms % 1000) * 1000000L;
			nanosleep(&ts, NULL);
			if (interrupted)
				break;
		}
		/*
		 * A lost daemon's message goes where "... N more" was, below
		 * the last frame, and stays.
		 */
		if (tty) {
			printf("\r\033[K");
			fflush(stdout);
		}
		if ((status = watch_ask(f, status_argv, &r)) == NULL)
			return r;
		if ((sockets = watch_ask(f, sockets_argv, &r)) == NULL) {
			free(status);
			return r;
		}
		if (tty)
			watch_frame(status, sockets, ms);
		else {
			fputs(status, stdout);
			fputs(sockets, stdout);
			fflush(stdout);
		}
		free(status);
		free(sockets);
	}
	fclose(f);
	return 0;
}

int
main(int argc, char *argv[])
{
	const struct ctlproto_cmd	*cmd;
	struct sigaction		 sa;
	char				 path[PATH_MAX];
	const char			*config = NULL, *env;
	FILE				*f;
	int				 ch, status;

	while ((ch = getopt(argc, argv, "+f:js:V")) != -1) {
		switch (ch) {
		case 'f':
			config = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 's':
			socket_path = optarg;
			break;
		case 'V':
			printf("acceptctl %s\n", ACCEPTD_VERSION);
			return 0;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	if (socket_path != NULL && config != NULL)
		errx(EXIT_REFUSED, "-s and -f both name the socket: give one");
	if (socket_path == NULL && config != NULL)
		socket_path = config_socket(config);
	if (socket_path == NULL && (env = getenv("ACCEPTD_SOCKET")) != NULL &&
	    *env != '\0')
		socket_path = env;
	if (socket_path == NULL) {
		conf_default_control(path, sizeof(path));
		socket_path = path;
	}
	cmd = command_lookup(argv[0]);
	check_arguments(cmd->name, argc, argv);
	if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
		fprintf(stderr, "usage: acceptctl %s\n", cmd->usage);
		return EXIT_REFUSED;
	}
	argv[0] = (char *)cmd->name;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (cmd->reply == CTLPROTO_LOCAL)
		return watch(argc, argv);
	f = connect_daemon();
	send_command(f, argc, argv);
	status = cmd->reply == CTLPROTO_STREAM ? stream(f) :
	    read_answer(f, stdout);
	fclose(f);
	return status;
}

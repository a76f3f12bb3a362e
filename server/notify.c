/*
 * The service manager's readiness protocol (systemd's Type=notify): one
 * datagram, "READY=1" and the like, to the socket $NOTIFY_SOCKET names;
 * a leading '@' names an abstract socket.  Without the variable, nothing.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acceptd.h"
#include "log.h"

void
notify_send(const char *state)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	socklen_t		 len;
	size_t			 n;
	int			 fd;

	if (path == NULL || path[0] == '\0')
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((n = strlen(path)) >= sizeof(sun.sun_path) ||
	    (path[0] != '/' && path[0] != '@')) {
		log_warnx("NOTIFY_SOCKET \"%.64s\": not a socket address", path);
		return;
	}
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = offsetof(struct sockaddr_un, sun_path) + n;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1)
		log_warn("telling the service manager %s", state);
	if (fd != -1)
		close(fd);
}

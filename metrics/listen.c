/* The --metrics address: unix:PATH or tcp:[ADDR:]PORT, and the listening socket for it (host-testable). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "kvm/metrics.h"
#include "kvm/options.h"

int metrics_addr_parse(const char *spec, struct migrate_addr *a, char *err, size_t errlen)
{
	char full[200];
	const char *p = spec + 4;
	u64 port;

	/* tcp:PORT alone: the loopback address (the endpoint is not exposed unless asked) */
	if (!strncmp(spec, "tcp:", 4) && *p && !strchr(p, ':')) {
		if (parse_u64(p, &port) || port == 0 || port > 65535) {
			snprintf(err, errlen, "--metrics %.100s: the port must be 1 to 65535", spec);
			return -1;
		}
		snprintf(full, sizeof(full), "tcp:127.0.0.1:%s", p);
		spec = full;
	}
	if (strncmp(spec, "tcp:", 4) && strncmp(spec, "unix:", 5)) {
		snprintf(err, errlen, "--metrics %.100s: expected unix:PATH or tcp:[ADDR:]PORT (e.g. tcp:9100)", spec);
		return -1;
	}
	if (migrate_addr_parse(spec, a, err, errlen)) {
		char why[300];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "--metrics %s", why);
		return -1;
	}
	return 0;
}

/* unix: what is at the path already. A live listener is refused; a stale socket is replaced; anything else kept. */
static int clear_unix_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "--metrics unix:%s: the path exists and is not a socket; remove it or pick another",
			 path);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (r == 0) {
		snprintf(err, errlen, "--metrics unix:%s: another process serves that socket; pick another path", path);
		return -2;
	}
	unlink(path); /* left behind by a process that was killed */
	return 0;
}

int metrics_listen_addr(const struct migrate_addr *a, dev_t *dev, ino_t *ino, char *err, size_t errlen)
{
	const char *path = ((const struct sockaddr_un *)&a->sa)->sun_path;
	int one = 1, fd;
	mode_t old = 0;

	if (a->family == AF_UNIX && (fd = clear_unix_path(path, err, errlen)) < 0)
		return fd;
	fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "--metrics %s: socket: %s", a->text, strerror(errno));
		return -1;
	}
	if (a->family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	else
		old = umask(0117); /* the socket is created 0660: the owner and its group may scrape */
	if (bind(fd, (const struct sockaddr *)&a->sa, a->len) < 0 || listen(fd, 64) < 0) {
		int e = errno;
		if (a->family == AF_UNIX)
			umask(old);
		snprintf(err, errlen, "--metrics %s: cannot listen there: %s%s", a->text, strerror(e),
			 e == EADDRINUSE ? " (another process has it; pick another port)"
			 : e == EACCES ? " (ports below 1024 need privileges; pick another)" : "");
		close(fd);
		return e == EADDRINUSE ? -2 : -1;
	}
	if (a->family == AF_UNIX) {
		struct stat st;
		umask(old);
		if (stat(path, &st) == 0) {
			*dev = st.st_dev;
			*ino = st.st_ino;
		}
	}
	return fd;
}

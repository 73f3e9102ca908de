/* Live migration plumbing shared by both ends: tcp:/unix: addresses, listen-accept-once, connect, the knobs; the
 * destination's accept, guest RAM's descriptor and hand-over. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "kvm/control.h"
#include "kvm/io.h"
#include "kvm/log.h"
#include "kvm/migrate.h"
#include "kvm/mig-recheck.h"
#include "kvm/options.h"

int migrate_addr_parse(const char *uri, struct migrate_addr *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->text, sizeof(a->text), "%s", uri);
	if (!strncmp(uri, "unix:", 5)) {
		struct sockaddr_un *un = (struct sockaddr_un *)&a->sa;
		const char *path = uri + 5;
		if (!*path || strlen(path) >= sizeof(un->sun_path)) {
			snprintf(err, errlen, "%.100s: give a socket path of 1 to %zu bytes after unix:", uri,
				 sizeof(un->sun_path) - 1);
			return -1;
		}
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, path, strlen(path) + 1);
		a->len = sizeof(*un);
		a->family = AF_UNIX;
		return 0;
	}
	if (!strncmp(uri, "tcp:", 4)) {
		char host[80];
		const char *h = uri + 4, *colon, *port_s;
		size_t hl;
		u64 port;

		if (*h == '[') { /* [IPv6]:PORT */
			const char *end = strchr(h, ']');
			if (!end || end[1] != ':')
				goto bad;
			hl = (size_t)(end - h - 1);
			h++;
			port_s = end + 2;
		} else {
			colon = strrchr(h, ':');
			if (!colon)
				goto bad;
			hl = (size_t)(colon - h);
			port_s = colon + 1;
		}
		if (hl == 0 || hl >= sizeof(host) || parse_u64(port_s, &port) || port == 0 || port > 65535)
			goto bad;
		memcpy(host, h, hl);
		host[hl] = '\0';
		if (!strcmp(host, "localhost"))
			snprintf(host, sizeof(host), "127.0.0.1");
		if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&a->sa)->sin_addr) == 1) {
			struct sockaddr_in *in = (struct sockaddr_in *)&a->sa;
			in->sin_family = AF_INET;
			in->sin_port = htons((u16)port);
			a->len = sizeof(*in);
			a->family = AF_INET;
			return 0;
		}
		if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&a->sa)->sin6_addr) == 1) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->sa;
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((u16)port);
			a->len = sizeof(*in6);
			a->family = AF_INET6;
			return 0;
		}
		snprintf(err, errlen, "%.100s: '%s' is not a numeric IPv4/IPv6 address (names are not resolved; "
			 "e.g. tcp:192.0.2.7:4444 or tcp:[::1]:4444)", uri, host);
		return -1;
	}
bad:
	snprintf(err, errlen, "%.100s: expected tcp:HOST:PORT (e.g. tcp:127.0.0.1:4444) or unix:PATH", uri);
	return -1;
}

int migrate_listen(const struct migrate_addr *a, char *err, size_t errlen)
{
	int one = 1, fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", a->text, strerror(errno));
		return -1;
	}
	if (a->family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->sa, a->len) < 0 || listen(fd, 1) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s%s", a->text, strerror(errno),
			 errno == EADDRINUSE ? " (pick another port or path)" : "");
		close(fd);
		return -1;
	}
	return fd;
}

int migrate_accept_one(int lfd, const struct migrate_addr *a, char *err, size_t errlen)
{
	int fd;

	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	close(lfd); /* one migration per listener: a second connection is refused from now on */
	if (a->family == AF_UNIX)
		unlink(((const struct sockaddr_un *)&a->sa)->sun_path);
	if (fd < 0) {
		snprintf(err, errlen, "accepting on %s failed: %s", a->text, strerror(errno));
		return -1;
	}
	return fd;
}

int migrate_connect(const struct migrate_addr *a, int timeout_s, char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = timeout_s };
	int one = 1, fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", a->text, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* bounds connect() too */
	if (connect(fd, (const struct sockaddr *)&a->sa, a->len) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot connect to %s: %s%s", a->text,
			 e == EINPROGRESS || e == EAGAIN ? "timed out" : strerror(e),
			 e == ECONNREFUSED || e == ENOENT ? " (is 'lkvm restore --incoming' listening there?)" : "");
		close(fd);
		return -1;
	}
	tv.tv_sec = 0;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (a->family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int migrate_params_parse(const char *args, struct migrate_params *p, char *err, size_t errlen)
{
	char buf[256], *save = NULL;

	*p = (struct migrate_params){ .max_downtime_ms = 300 };
	snprintf(buf, sizeof(buf), "%s", args);
	for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		u64 v;
		if (!eq)
			goto bad;
		*eq = '\0';
		if (!strcmp(tok, "strategy")) {
			if (strcmp(eq + 1, "cancel") && strcmp(eq + 1, "force"))
				goto bad;
			p->force = !strcmp(eq + 1, "force");
			continue;
		}
		if (!strcmp(tok, "recheck")) {
			enum recheck_mode mode;
			if (recheck_mode_parse(eq + 1, &mode))
				goto bad;
			p->recheck = mode;
			continue;
		}
		if (parse_u64(eq + 1, &v))
			goto bad;
		if (!strcmp(tok, "verify") && v <= 1)
			p->verify = v;
		else if (!strcmp(tok, "local") && v <= 1)
			p->local = v;
		else if (!strcmp(tok, "debug_unlogged") && v <= 1)
			p->debug_unlogged = v;
		else if (!strcmp(tok, "downtime_ms"))
			p->max_downtime_ms = v;
		else if (!strcmp(tok, "bandwidth_mibs") && v < (1ULL << 40))
			p->max_bw = v << 20;
		else if (!strcmp(tok, "timeout_s") && v < (1ULL << 40))
			p->timeout_ms = v * 1000;
		else
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad migrate request '%.100s'", args);
	return -1;
}

int migrate_take_ram_fd(int sock, char *err, size_t errlen)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} u;
	char hello[MIGRATE_RAM_FD_HELLO_LEN];
	struct iovec iov = { .iov_base = hello, .iov_len = sizeof(hello) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	int fd = -1, nfd = 0;
	ssize_t n;

	/* The hello is one message of its own: a peek sees all of it, or the stream is an ordinary one. */
	do
		n = recv(sock, hello, sizeof(hello), MSG_PEEK);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(hello) || memcmp(hello, MIGRATE_RAM_FD_HELLO, sizeof(hello)))
		return -2;
	memset(&u, 0, sizeof(u));
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		nfd = control_take_fds(&msg, &fd);
	if (n != (ssize_t)sizeof(hello) || nfd != 1 || (msg.msg_flags & MSG_CTRUNC)) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "the source announced shared guest RAM but passed %d descriptors%s (corrupt stream)",
			 nfd, (msg.msg_flags & MSG_CTRUNC) ? ", truncated" : "");
		return -1;
	}
	return fd;
}

/* --incoming: listen on exactly that address and accept one connection (the listener is closed after it). */
int migrate_incoming_accept(const char *uri)
{
	struct migrate_addr a;
	struct timeval tv = { .tv_sec = 120 }; /* a source that goes silent this long is gone */
	char err[300];
	int lfd, fd;

	signal(SIGPIPE, SIG_IGN); /* a source that goes away is an error line, not a silent death */
	if (migrate_addr_parse(uri, &a, err, sizeof(err)))
		die("--incoming %s", err);
	lfd = migrate_listen(&a, err, sizeof(err));
	if (lfd < 0)
		die("--incoming: %s", err);
	fprintf(stderr, "  Info: waiting for a migration on %s\n", a.text); /* scripts wait for this line */
	fd = migrate_accept_one(lfd, &a, err, sizeof(err));
	if (fd < 0)
		die("--incoming: %s", err);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* migrate --local over unix: guest RAM's descriptor comes first, and no pages follow; -1 for an ordinary stream. */
int migrate_incoming_ram_fd(int fd, const char *what)
{
	socklen_t dl = sizeof(int);
	char err[200];
	int dom = 0, ram_fd;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) < 0 || dom != AF_UNIX)
		return -1;
	ram_fd = migrate_take_ram_fd(fd, err, sizeof(err));
	if (ram_fd == -1)
		die("%s: %s", what, err);
	return ram_fd < 0 ? -1 : ram_fd;
}

/* Everything is loaded and set up: acknowledge, and run only once the source confirms it has given the guest up. */
void migrate_incoming_handover(int fd, const char *what)
{
	char go[MIGRATE_HANDSHAKE_LEN];

	if (write_full(fd, MIGRATE_ACK, MIGRATE_HANDSHAKE_LEN) || read_full(fd, go, sizeof(go)) ||
	    memcmp(go, MIGRATE_GO, sizeof(go)))
		die("%s: the source did not hand the guest over after our acknowledgement; it keeps running there", what);
	close(fd);
}

/* Control socket client: connect to a VM's socket, check it is lkvm's, send one request, relay the answer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kvm/control.h"

int control_read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	while (n < len - 1) {
		ssize_t r = read(fd, buf + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return (int)n;
		}
		n++;
	}
	buf[n] = '\0';
	return n ? (int)n : -1;
}

int control_send_line(int fd, const char *line)
{
	size_t len = strlen(line), off = 0;

	while (off < len) {
		/* MSG_NOSIGNAL: a VM that died makes this EPIPE, never a silent SIGPIPE death of the client */
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += (size_t)n;
	}
	return 0;
}

bool control_gone_errno(int e)
{
	return e == EPIPE || e == ECONNRESET || e == ENOTCONN || e == EIO;
}

int control_open_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	char line[CONTROL_MAX_LINE];
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %.200s is too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		if (e == ECONNREFUSED) {
			snprintf(err, errlen, "no lkvm is listening on %.200s (stale socket of a VM that was killed?)", path);
			return CONTROL_STALE;
		}
		if (e == ENOENT)
			snprintf(err, errlen, "no VM socket at %.200s (see 'lkvm list')", path);
		else
			snprintf(err, errlen, "cannot connect to %.200s: %s", path, strerror(e));
		return -1;
	}
	if (control_read_line(fd, line, sizeof(line)) < 0) {
		snprintf(err, errlen, "the VM went away (it closed %.200s before greeting)", path);
		close(fd);
		return -1;
	}
	if (strncmp(line, CONTROL_GREETING " ", strlen(CONTROL_GREETING) + 1)) {
		snprintf(err, errlen, "%.200s is not an lkvm control socket (no lkvm greeting)", path);
		close(fd);
		return -1;
	}
	return fd;
}

int control_open(const char *name, char *err, size_t errlen)
{
	char path[300];
	if (control_path(name, path, sizeof(path), false, err, errlen))
		return -1;
	return control_open_path(path, err, errlen);
}

int control_request_path(const char *path, const char *request, FILE *out, char *err, size_t errlen)
{
	char line[CONTROL_MAX_LINE];
	int fd = control_open_path(path, err, errlen), r = -1, e;

	if (fd < 0)
		return fd;
	snprintf(line, sizeof(line), "%s\n", request);
	e = control_send_line(fd, line);
	if (e) {
		if (control_gone_errno(-e))
			snprintf(err, errlen, "the VM went away before answering (it closed %.200s)", path);
		else
			snprintf(err, errlen, "cannot send to %.200s: %s", path, strerror(-e));
		goto out;
	}
	for (;;) {
		if (control_read_line(fd, line, sizeof(line)) < 0) {
			snprintf(err, errlen, "the VM went away without answering (it closed %.200s)", path);
			break;
		}
		if (!strcmp(line, "ok")) {
			r = 0;
			break;
		}
		if (!strncmp(line, "error: ", 7)) {
			snprintf(err, errlen, "%s", line + 7);
			break;
		}
		if (out)
			fprintf(out, "%s\n", line);
	}
out:
	close(fd);
	return r;
}

int control_request(const char *name, const char *request, FILE *out, char *err, size_t errlen)
{
	char path[300];
	if (control_path(name, path, sizeof(path), false, err, errlen))
		return -1;
	return control_request_path(path, request, out, err, errlen);
}

int control_send_fd(int sock, const char *line, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = (void *)line, .iov_len = strlen(line) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *h;

	memset(&u, 0, sizeof(u));
	h = CMSG_FIRSTHDR(&msg);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)iov.iov_len ? 0 : -1;
}

int control_take_fds(struct msghdr *msg, int *first)
{
	int n = 0;

	for (struct cmsghdr *h = CMSG_FIRSTHDR(msg); h; h = CMSG_NXTHDR(msg, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++, n++) {
			int fd;
			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (*first < 0)
				*first = fd;
			else
				close(fd);
		}
	}
	return n;
}

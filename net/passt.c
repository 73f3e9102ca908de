/* -n mode=user: find and start passt (or connect to the caller's), and turn hostfwd= into passt's -t/-u. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvm/net-backend.h"

#define PASST_UID 65534 /* what passt itself switches to when started as root ("nobody"), named explicitly */
#define PASST_START_MS 20000 /* passt's start-up under nested emulation takes seconds */

static int parse_port(const char *s, size_t len, u16 *port)
{
	unsigned long v = 0;

	if (!len || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (!v || v > 65535)
		return -1;
	*port = (u16)v;
	return 0;
}

int net_hostfwd_parse(const char *s, struct net_hostfwd *f, char *err, size_t errlen)
{
	const char *rest, *dash, *colon;
	u8 a[16];

	memset(f, 0, sizeof(*f));
	if (!strncmp(s, "tcp:", 4)) {
		rest = s + 4;
	} else if (!strncmp(s, "udp:", 4)) {
		f->udp = true;
		rest = s + 4;
	} else {
		snprintf(err, errlen, "hostfwd=%s: start with tcp: or udp: (e.g. hostfwd=tcp:127.0.0.1:2222-:22)", s);
		return -1;
	}
	dash = strrchr(rest, '-');
	if (!dash || dash[1] != ':') {
		snprintf(err, errlen, "hostfwd=%s: expected [HOSTADDR:]HOSTPORT-:GUESTPORT (a guest address is not "
				      "supported: passt gives the guest one)", s);
		return -1;
	}
	if (parse_port(dash + 2, strlen(dash + 2), &f->guest_port)) {
		snprintf(err, errlen, "hostfwd=%s: guest port '%s' is not 1-65535", s, dash + 2);
		return -1;
	}
	colon = memrchr(rest, ':', (size_t)(dash - rest));
	if (parse_port(colon ? colon + 1 : rest, (size_t)(dash - (colon ? colon + 1 : rest)), &f->host_port)) {
		snprintf(err, errlen, "hostfwd=%s: host port '%.*s' is not 1-65535", s,
			 (int)(dash - (colon ? colon + 1 : rest)), colon ? colon + 1 : rest);
		return -1;
	}
	if (colon && colon > rest) {
		size_t l = (size_t)(colon - rest);
		const char *addr = rest;
		if (l >= 2 && addr[0] == '[' && addr[l - 1] == ']') { /* [v6] */
			addr++;
			l -= 2;
		}
		if (l >= sizeof(f->addr)) {
			snprintf(err, errlen, "hostfwd=%s: host address too long", s);
			return -1;
		}
		memcpy(f->addr, addr, l);
		f->addr[l] = '\0';
		if (inet_pton(AF_INET, f->addr, a) != 1 && inet_pton(AF_INET6, f->addr, a) != 1) {
			snprintf(err, errlen, "hostfwd=%s: '%s' is not an IPv4 or IPv6 address", s, f->addr);
			return -1;
		}
	} else {
		strcpy(f->addr, "127.0.0.1"); /* QEMU binds every address by default; loopback is the safe default */
	}
	return 0;
}

void net_hostfwd_passt_arg(const struct net_hostfwd *f, const char **opt, char *buf, size_t len)
{
	*opt = f->udp ? "-u" : "-t";
	snprintf(buf, len, "%s/%u:%u", f->addr, f->host_port, f->guest_port);
}

int net_passt_find(char *out, size_t outlen)
{
	const char *path = getenv("PATH");
	const char *p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";

	while (*p) {
		size_t l = strcspn(p, ":");
		if (l && (size_t)snprintf(out, outlen, "%.*s/passt", (int)l, p) < outlen && access(out, X_OK) == 0)
			return 0;
		p += l + (p[l] == ':');
	}
	return -1;
}

static int unix_connect(const char *path, int *err_out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		*err_out = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	/* non-blocking: a passt that is busy with another VM (its backlog full) must not hang a start or a restore */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		*err_out = errno;
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		*err_out = errno;
		close(fd);
		return -1;
	}
	return fd;
}

int net_passt_connect(const char *path, char *err, size_t errlen)
{
	int e = 0, fd = unix_connect(path, &e);

	if (fd < 0 && e == EAGAIN)
		snprintf(err, errlen, "passt at %s takes no connection now (it serves one VM at a time: start another "
				      "passt, or drop socket= and let lkvm start one)", path);
	else if (fd < 0)
		snprintf(err, errlen, "cannot connect to passt at %s: %s (start it first: passt -f -s %s)", path,
			 strerror(e), path);
	return fd;
}

/* Not its syslog complaints, nor the start-up banner (the socket path and how to start qemu, indented lines). */
static bool passt_says_something(const char *l)
{
	size_t n = strlen(l);
	return n && l[0] != ' ' && l[0] != '\t' && l[n - 1] != ':' && !strstr(l, "to syslog") &&
	       strncmp(l, "UNIX domain socket bound", 24);
}

void net_passt_last_words(int fd, char *out, size_t len)
{
	char buf[4096], *line = NULL;
	ssize_t n;
	off_t end;

	out[0] = '\0';
	if (fd < 0 || (end = lseek(fd, 0, SEEK_END)) <= 0)
		return;
	n = pread(fd, buf, sizeof(buf) - 1, end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (char *p = strtok(buf, "\n"); p; p = strtok(NULL, "\n"))
		if (passt_says_something(p))
			line = p;
	if (line)
		snprintf(out, len, "%s", line);
}

/* The last meaningful line passt wrote (its syslog complaints skipped), for the one-line error. */
static void last_log_line(const char *log, char *out, size_t len)
{
	char line[256];
	FILE *f = fopen(log, "re");

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (passt_says_something(line))
			snprintf(out, len, "%s", line);
	}
	fclose(f);
}

static void remove_dir(const char *dir, const char *pidfile, const char *log)
{
	unlink(pidfile);
	unlink(log);
	rmdir(dir);
}

/*
 * The socket's send buffer bounds what passt can hand over at once: it sends a guest's whole TCP window (up to
 * ~2 MiB of 64 KiB frames) in one non-blocking sendmsg and drops what does not fit, to be resent only after its ACK
 * timeout. passt itself asks for INT_MAX/2, which net.core.wmem_max cuts to 416 KiB by default; lkvm, allowed to
 * (CAP_NET_ADMIN), goes beyond that limit, else asks as passt would.
 */
static void grow_buffer(int fd, int opt_force, int opt)
{
	int v = NET_PASST_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, opt_force, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

/* Has passt written its pid file? It does so once its ports are bound and it is ready to serve. */
static bool pidfile_written(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && st.st_size > 0;
}

int net_passt_start(const char *passt, const struct net_hostfwd *fwd, unsigned int nr_fwd, pid_t *pid, int *log_fd,
		    char *err, size_t errlen)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	char dir[160], pidfile[200], log[200], fwdarg[NET_MAX_HOSTFWD][80], uid[24], fdarg[16], last[256];
	const char *argv[14 + 2 * NET_MAX_HOSTFWD];
	struct stat st;
	unsigned int argc = 0;
	int sv[2], peer, logfd, status;
	pid_t child;

	if (!base || !*base || stat(base, &st) || !S_ISDIR(st.st_mode) || access(base, W_OK | X_OK))
		base = "/tmp";
	snprintf(dir, sizeof(dir), "%s/lkvm-passt.XXXXXX", base);
	if (!mkdtemp(dir)) {
		snprintf(err, errlen, "cannot make a directory for passt's files under %s: %s", base, strerror(errno));
		return -1;
	}
	snprintf(pidfile, sizeof(pidfile), "%s/passt.pid", dir);
	snprintf(log, sizeof(log), "%s/passt.log", dir);
	/* Run as root, passt becomes nobody before it writes its pid file: let that user in, and only it. */
	if (geteuid() == 0 && chown(dir, PASST_UID, PASST_UID) < 0) {
		snprintf(err, errlen, "cannot hand %s to uid %d for passt: %s", dir, PASST_UID, strerror(errno));
		rmdir(dir);
		return -1;
	}
	/* A connected pair instead of a socket path: nothing else can connect, and lkvm sizes passt's end. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "cannot make a socket pair for passt: %s", strerror(errno));
		rmdir(dir);
		return -1;
	}
	peer = fcntl(sv[1], F_DUPFD_CLOEXEC, 3); /* not 0-2, which the child sets up */
	close(sv[1]);
	if (peer < 0) {
		snprintf(err, errlen, "cannot make a socket pair for passt: %s", strerror(errno));
		close(sv[0]);
		rmdir(dir);
		return -1;
	}
	grow_buffer(peer, SO_SNDBUFFORCE, SO_SNDBUF);  /* passt -> guest */
	grow_buffer(sv[0], SO_SNDBUFFORCE, SO_SNDBUF); /* guest -> passt */
	logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	snprintf(fdarg, sizeof(fdarg), "%d", peer);
	argv[argc++] = passt;
	argv[argc++] = "-f"; /* foreground: the pid lkvm gets is passt's */
	argv[argc++] = "-q";
	argv[argc++] = "--fd"; /* one client, this one: passt ends when lkvm's end closes, however lkvm ends */
	argv[argc++] = fdarg;
	argv[argc++] = "-P";
	argv[argc++] = pidfile;
	if (geteuid() == 0) {
		snprintf(uid, sizeof(uid), "%d:%d", PASST_UID, PASST_UID);
		argv[argc++] = "--runas";
		argv[argc++] = uid;
	}
	for (unsigned int i = 0; i < nr_fwd && i < NET_MAX_HOSTFWD; i++) {
		net_hostfwd_passt_arg(&fwd[i], &argv[argc], fwdarg[i], sizeof(fwdarg[i]));
		argv[argc + 1] = fwdarg[i];
		argc += 2;
	}
	argv[argc] = NULL;

	child = fork();
	if (child < 0) {
		snprintf(err, errlen, "cannot start passt: fork: %s", strerror(errno));
		if (logfd >= 0)
			close(logfd);
		close(peer);
		close(sv[0]);
		remove_dir(dir, pidfile, log);
		return -1;
	}
	if (child == 0) {
		int null = open("/dev/null", O_RDWR);
		sigset_t none;
		if (null >= 0)
			dup2(null, 0);
		if (logfd >= 0) {
			dup2(logfd, 1);
			dup2(logfd, 2);
		}
		fcntl(peer, F_SETFD, 0); /* passt's end survives the exec */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* belt and braces beside --fd (passt drops it if it changes user) */
		setsid(); /* the terminal's ^C goes to lkvm, which then ends passt by closing the socket */
		execv(passt, (char *const *)argv);
		_exit(127);
	}
	if (logfd >= 0)
		close(logfd);
	close(peer);

	for (int waited = 0;; waited += 10) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		if (pidfile_written(pidfile))
			break;
		if (waitpid(child, &status, WNOHANG) == child) {
			last_log_line(log, last, sizeof(last));
			snprintf(err, errlen, "passt (%s) exited with status %d as it started%s%s", passt,
				 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), last[0] ? ": " : "",
				 last);
			close(sv[0]);
			remove_dir(dir, pidfile, log);
			return -1;
		}
		if (waited >= PASST_START_MS) {
			kill(child, SIGTERM);
			waitpid(child, NULL, 0);
			last_log_line(log, last, sizeof(last));
			snprintf(err, errlen, "passt (%s) was not ready within %d s%s%s", passt, PASST_START_MS / 1000,
				 last[0] ? ": " : "", last);
			close(sv[0]);
			remove_dir(dir, pidfile, log);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	*log_fd = open(log, O_RDONLY | O_CLOEXEC); /* what passt says later, if it dies */
	remove_dir(dir, pidfile, log);
	*pid = child;
	return sv[0];
}

int net_passt_stop(int fd, pid_t pid, unsigned int wait_ms)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	if (pid <= 0)
		return 0;
	shutdown(fd, SHUT_RDWR); /* not close: a worker may still poll the fd number */
	for (unsigned int waited = 0;; waited += 5) {
		pid_t r = waitpid(pid, NULL, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD))
			return 0;
		if (waited >= wait_ms)
			return -1;
		nanosleep(&ts, NULL);
	}
}

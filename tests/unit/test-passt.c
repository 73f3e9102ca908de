/* Unit tests: starting passt (net/passt.c) with stand-in scripts: the socket pair, its buffers, readiness, failure. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "kvm/net-backend.h"

static char dir[64];

/* A stand-in for passt: the shell body runs with $FD (--fd), $PIDFILE (-P) and $ARGS (all its arguments). */
static void script(const char *name, const char *body, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	f = fopen(path, "w");
	fprintf(f, "#!/bin/sh\nARGS=\"$*\"\nwhile [ $# -gt 0 ]; do case $1 in --fd) FD=$2; shift;; -P) PIDFILE=$2; shift;; "
		   "esac; shift; done\n%s\n",
		body);
	fclose(f);
	chmod(path, 0755);
}

static void test_echo(struct unit_counts *uc)
{
	char path[128], err[300] = "", args[512] = "";
	struct net_hostfwd fwd = { .udp = false, .addr = "127.0.0.1", .host_port = 2222, .guest_port = 22 };
	int fd, log_fd = -1, v = 0;
	socklen_t vl = sizeof(v);
	pid_t pid = 0;
	ssize_t n;
	FILE *f;

	/* ready once it wrote its pid; then echoes what lkvm sends, on the descriptor it was given */
	script("echo-passt",
	       "echo \"$ARGS\" >\"${PIDFILE%/*}/../args\"; { : <&$FD; } 2>/dev/null || exit 3\n"
	       "echo $$ >\"$PIDFILE\"\nexec cat <&$FD >&$FD",
	       path, sizeof(path));
	fd = net_passt_start(path, &fwd, 1, &pid, &log_fd, err, sizeof(err));
	CHECK(uc, fd >= 0 && pid > 0, "a stand-in passt starts and is ready once its pid file is written (%s)", err);
	if (fd < 0)
		return;
	snprintf(path, sizeof(path), "%s/args", dir);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(args, sizeof(args), f))
			args[0] = '\0';
		args[strcspn(args, "\n")] = '\0';
		fclose(f);
	}
	CHECK(uc, strstr(args, "--fd ") && strstr(args, "-P ") && strstr(args, "-t ") && !strstr(args, "-s ") &&
			  !strstr(args, " -1"),
	      "passt gets --fd, -P and the forward, no socket path: %s", args);
	CHECK(uc, write(fd, "frame", 5) == 5, "lkvm's end takes a write");
	memset(args, 0, sizeof(args));
	for (int i = 0, got = 0; i < 200 && got < 5; i++) {
		n = read(fd, args + got, 5 - (size_t)got);
		if (n > 0)
			got += (int)n;
		else
			usleep(10000);
		if (got == 5)
			break;
	}
	CHECK(uc, !memcmp(args, "frame", 5), "the bytes come back through passt's end of the pair");
	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &vl);
	{
		/* what this process may get: beyond wmem_max with CAP_NET_ADMIN, else what an ordinary request gets */
		int sp[2], want = NET_PASST_SOCKBUF, got = 0, forced;
		socklen_t gl = sizeof(got);
		socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
		forced = !setsockopt(sp[0], SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want));
		if (!forced)
			setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
		getsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &got, &gl);
		close(sp[0]);
		close(sp[1]);
		CHECK(uc, v == got && (!forced || v >= NET_PASST_SOCKBUF),
		      "lkvm's end sends through %d bytes of buffer (%s: %d)", v,
		      forced ? "CAP_NET_ADMIN, beyond wmem_max" : "what wmem_max allows", got);
	}
	CHECK(uc, net_passt_stop(fd, pid, 2000) == 0, "closing lkvm's end ends passt (--fd: one client)");
	close(fd);
	if (log_fd >= 0)
		close(log_fd);
}

static void test_fails(struct unit_counts *uc)
{
	char path[128], err[300] = "";
	int fd, log_fd = -1;
	pid_t pid = 0;

	script("bad-passt", "echo 'Failed to bind any port for -t 2222:22, exiting'; exit 1", path, sizeof(path));
	fd = net_passt_start(path, NULL, 0, &pid, &log_fd, err, sizeof(err));
	CHECK(uc, fd < 0 && strstr(err, "exited with status 1") && strstr(err, "Failed to bind any port"),
	      "a passt that fails as it starts: one line with its words: %s", err);
	script("gone-passt", "exit 0", path, sizeof(path));
	fd = net_passt_start(path, NULL, 0, &pid, &log_fd, err, sizeof(err));
	CHECK(uc, fd < 0 && strstr(err, "exited with status 0"), "a passt that ends without being ready: %s", err);
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };

	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/lkvm-test-passt.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	setenv("XDG_RUNTIME_DIR", dir, 1); /* passt's private directory goes in here */
	chmod(dir, 0777);
	test_echo(&uc);
	test_fails(&uc);
	if (!uc.failed) { /* a failed run leaves the scripts and what they saw */
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			printf("# could not remove %s\n", dir);
	}
	UNIT_DONE(&uc);
}

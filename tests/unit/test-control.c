/* Unit tests: control-socket clients against a dead socket, a foreign socket, a missing one, and a good answer. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "kvm/control.h"

struct server {
	int fd;
	const char *script; /* what to send after accepting */
};

static void *serve(void *arg)
{
	struct server *s = arg;
	int c = accept(s->fd, NULL, NULL);
	char buf[128];
	if (c < 0)
		return NULL;
	if (!s->script[0]) { /* a VM killed right after accept */
		close(c);
		return NULL;
	}
	if (write(c, s->script, strlen(s->script)) < 0)
		perror("write");
	if (read(c, buf, sizeof(buf)) < 0) /* the request line */
		perror("read");
	close(c);
	return NULL;
}

static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	return fd;
}

/* Run one request against a server that sends `script`, return control_request_path's result. */
static int against(const char *path, const char *script, char *err, size_t errlen, FILE *out)
{
	struct server s = { listen_at(path), script };
	pthread_t t;
	int r;
	listen(s.fd, 1);
	pthread_create(&t, NULL, serve, &s);
	r = control_request_path(path, "info", out, err, errlen);
	pthread_join(t, NULL);
	close(s.fd);
	return r;
}

/* The request grammar control_serve_one() dispatches on (control-request.c). */
static void test_requests(struct unit_counts *uc)
{
	struct control_request r;

	control_parse_request("info", &r);
	CHECK(uc, r.op == CONTROL_INFO && !r.refused_while_migrating && !r.args[0], "request: info");
	control_parse_request("save-stop", &r);
	CHECK(uc, r.op == CONTROL_SAVE && r.stop && r.refused_while_migrating, "request: save-stop");
	control_parse_request("save-file", &r);
	CHECK(uc, r.op == CONTROL_SAVE_FILE && !r.stop, "request: save-file");
	control_parse_request("migrate downtime_ms=5", &r);
	CHECK(uc, r.op == CONTROL_MIGRATE && !strcmp(r.args, "downtime_ms=5") && r.refused_while_migrating,
	      "request: migrate with its arguments");
	control_parse_request("migrate", &r);
	CHECK(uc, r.op == CONTROL_UNKNOWN && r.refused_while_migrating, "request: bare migrate is unknown");
	control_parse_request("debug", &r);
	CHECK(uc, r.op == CONTROL_DEBUG && !r.stop && !r.args[0] && !r.refused_while_migrating, "request: debug");
	control_parse_request("debug-dump 1", &r);
	CHECK(uc, r.op == CONTROL_DEBUG && r.stop && !strcmp(r.args, "1"), "request: debug-dump 1");
	control_parse_request("debugx", &r);
	CHECK(uc, r.op == CONTROL_UNKNOWN, "request: debugx is unknown");
	control_parse_request("savex", &r);
	CHECK(uc, r.op == CONTROL_UNKNOWN && r.refused_while_migrating, "request: savex unknown, refused mid-migration");
	control_parse_request("info ", &r);
	CHECK(uc, r.op == CONTROL_UNKNOWN && !r.refused_while_migrating, "request: trailing space is unknown");
	control_parse_request("", &r);
	CHECK(uc, r.op == CONTROL_UNKNOWN, "request: empty line is unknown");
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	char dir[] = "/tmp/lkvm-unit-XXXXXX", path[200], err[300], *buf = NULL;
	size_t blen = 0;
	FILE *out;
	int fd, r;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/vm.sock", dir);

	r = control_request_path(path, "info", NULL, err, sizeof(err));
	CHECK(&uc, r == -1 && strstr(err, "no VM socket"), "missing socket: %s", err);

	fd = listen_at(path); /* bound, never listening: what a killed lkvm leaves behind */
	close(fd);
	r = control_request_path(path, "info", NULL, err, sizeof(err));
	CHECK(&uc, r == CONTROL_STALE && strstr(err, "stale"), "dead socket is reported stale: %s", err);

	r = against(path, "SSH-2.0-OpenSSH\r\n", err, sizeof(err), NULL);
	CHECK(&uc, r == -1 && strstr(err, "not an lkvm control socket"), "foreign socket: %s", err);

	r = against(path, CONTROL_GREETING " vm\n", err, sizeof(err), NULL);
	CHECK(&uc, r == -1 && strstr(err, "without answering"), "greeting then silence: %s", err);

	{
		/* A VM that died: sending to it is -EPIPE, not a SIGPIPE (this test keeps SIGPIPE's default action). */
		int sv[2];
		socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		close(sv[1]);
		r = control_send_line(sv[0], "save\n");
		CHECK(&uc, r == -EPIPE && control_gone_errno(-r), "send to a dead VM: -EPIPE, no SIGPIPE (%d)", r);
		close(sv[0]);
	}
	r = against(path, "", err, sizeof(err), NULL);
	CHECK(&uc, r == -1 && strstr(err, "went away"), "a VM that dies before greeting: %s", err);

	r = against(path, CONTROL_GREETING " vm\nerror: stolen time is off\n", err, sizeof(err), NULL);
	CHECK(&uc, r == -1 && !strcmp(err, "stolen time is off"), "error line passed on: %s", err);

	out = open_memstream(&buf, &blen);
	r = against(path, CONTROL_GREETING " vm\nname=vm pid=1\nok\n", err, sizeof(err), out);
	fclose(out);
	CHECK(&uc, r == 0 && buf && !strcmp(buf, "name=vm pid=1\n"), "good answer relayed (%s)", buf ? buf : "");
	free(buf);

	CHECK(&uc, control_name_ok("vm-1.test_2") && !control_name_ok("../x") && !control_name_ok("") &&
			   !control_name_ok(".hidden") && !control_name_ok("a/b") && !control_name_ok("-x"),
	      "VM names: letters, digits, - _ . only");
	setenv("LKVM_SOCK_DIR", dir, 1);
	chmod(dir, 0755);
	r = control_path("vm", path, sizeof(path), false, err, sizeof(err));
	CHECK(&uc, r == -1 && strstr(err, "0700"), "a control directory others can read is refused: %s", err);
	chmod(dir, 0700);
	r = control_path("vm", path, sizeof(path), false, err, sizeof(err));
	CHECK(&uc, r == 0 && strstr(path, "/vm.sock"), "socket path %s", path);
	snprintf(path, sizeof(path), "%s/vm.sock", dir);
	unlink(path);
	rmdir(dir);
	test_requests(&uc);
	UNIT_DONE(&uc);
}

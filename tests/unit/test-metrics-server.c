/* Unit tests: the metrics HTTP server on a unix socket, in its own thread, against good and hostile clients
 * (garbage, a head that never ends or never finishes, 200 connections at once, a client that reads nothing). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "kvm/metrics.h"

static struct metrics_server srv;
static struct migrate_addr addr;
static size_t body_pad; /* extra bytes in the exposition, to make a response bigger than the socket buffers */
static int renders;

static int render(void *ctx, struct mtext *w)
{
	(void)ctx;
	__atomic_fetch_add(&renders, 1, __ATOMIC_RELAXED);
	mtext_family(w, "test_up", METRIC_GAUGE, NULL, "Test \"gauge\"");
	mtext_u64(w, (const char *const[]){ "vm", "t", NULL }, 1);
	for (size_t i = 0; i < body_pad / 32; i++)
		mtext_u64(w, (const char *const[]){ "pad", "xxxxxxxxxxxx", NULL }, i);
	mtext_end(w);
	return 0;
}

static void *serve(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&srv.stop, __ATOMIC_ACQUIRE))
		metrics_server_poll(&srv, -1);
	return NULL;
}

static int client(void)
{
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr.sa, addr.len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Everything the server sends until it closes (NUL-terminated, malloc'd). */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);

	for (;;) {
		ssize_t r;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static char *scrape(const char *request, size_t *len)
{
	int fd = client();
	char *out;

	if (fd < 0)
		return strdup("");
	if (write(fd, request, strlen(request)) < 0)
		(void)0;
	out = read_all(fd, len);
	close(fd);
	return out;
}

static bool status_is(const char *resp, int status)
{
	char want[32];
	snprintf(want, sizeof(want), "HTTP/1.1 %d ", status);
	return !strncmp(resp, want, strlen(want));
}

static const char *GET = "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_good(struct unit_counts *uc)
{
	size_t len;
	char *r = scrape(GET, &len), *body = strstr(r, "\r\n\r\n");
	const char *cl = strstr(r, "Content-Length: ");

	CHECK(uc, status_is(r, 200) && strstr(r, "Content-Type: application/openmetrics-text; version=1.0.0") &&
			  strstr(r, "Connection: close\r\n") && strstr(r, "\r\nDate: "),
	      "GET /metrics: 200, OpenMetrics, Connection: close, Date");
	CHECK(uc, body && cl && strtoul(cl + 16, NULL, 10) == len - (size_t)(body + 4 - r) &&
			  !strcmp(r + len - 6, "# EOF\n"),
	      "Content-Length matches the body, which ends with # EOF");
	free(r);
	r = scrape("GET /metrics HTTP/1.0\r\nAccept: text/plain;version=0.0.4\r\n\r\n", &len);
	CHECK(uc, status_is(r, 200) && strstr(r, "Content-Type: text/plain; version=0.0.4") && !strstr(r, "# EOF") &&
			  strstr(r, "test_up{vm=\"t\"} 1\n"),
	      "Accept text/plain;version=0.0.4: the 0.0.4 format");
	free(r);
	r = scrape("DELETE /metrics HTTP/1.1\r\nHost: t\r\n\r\n", NULL);
	CHECK(uc, status_is(r, 405) && strstr(r, "Allow: GET\r\n"), "DELETE: 405 with Allow: GET");
	free(r);
	r = scrape("GET /secret HTTP/1.1\r\nHost: t\r\n\r\n", NULL);
	CHECK(uc, status_is(r, 404), "another path: 404");
	free(r);
	/* a request split over several writes */
	{
		int fd = client();
		for (size_t off = 0, n; off < strlen(GET); off += n) {
			n = strlen(GET) - off < 7 ? strlen(GET) - off : 7;
			if (write(fd, GET + off, n) < 0)
				break;
			usleep(2000);
		}
		r = read_all(fd, NULL);
		close(fd);
		CHECK(uc, status_is(r, 200), "a head that arrives in pieces: 200");
		free(r);
	}
}

static void test_hostile(struct unit_counts *uc)
{
	char *r, garbage[10000];
	int fd;
	double t0;

	/* 10 000 bytes of garbage (no blank line within the first 8 KiB) */
	srand(7);
	for (size_t i = 0; i < sizeof(garbage); i++) {
		char c = (char)(rand() % 255 + 1);
		garbage[i] = c == '\n' ? 'x' : c;
	}
	fd = client();
	if (write(fd, garbage, sizeof(garbage)) < 0)
		(void)0;
	r = read_all(fd, NULL);
	close(fd);
	CHECK(uc, status_is(r, 431) || status_is(r, 400), "10000 bytes of garbage: answered %.12s and closed", r);
	free(r);
	{
		static const char hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"; /* TLS, then a blank line */
		fd = client();
		if (write(fd, hello, sizeof(hello) - 1) < 0)
			(void)0;
		r = read_all(fd, NULL);
		close(fd);
		CHECK(uc, status_is(r, 400), "a TLS hello with NUL bytes: 400");
		free(r);
	}

	/* a head that never ends: header lines forever, until the 8 KiB bound */
	fd = client();
	if (write(fd, "GET /metrics HTTP/1.1\r\nHost: t\r\n", 31) < 0)
		(void)0;
	for (int i = 0; i < 2000; i++)
		if (write(fd, "X-Long: yyyyyyyy\r\n", 18) < 0)
			break; /* the server answered and closed */
	r = read_all(fd, NULL);
	close(fd);
	CHECK(uc, status_is(r, 431), "a head that never ends: 431 at 8 KiB");
	free(r);

	/* a head that never finishes: the client goes silent; 408 after the (test-shortened) deadline */
	fd = client();
	t0 = now_s();
	if (write(fd, "GET /metrics HTTP/1.1\r\nHost: t\r\n", 31) < 0)
		(void)0;
	r = scrape(GET, NULL); /* meanwhile, others are served */
	CHECK(uc, status_is(r, 200), "a silent client does not hold up another scrape");
	free(r);
	r = read_all(fd, NULL);
	close(fd);
	CHECK(uc, status_is(r, 408) && now_s() - t0 >= 0.55, "a silent client gets 408 after its deadline (%.2f s)",
	      now_s() - t0);
	free(r);
}

static void test_flood(struct unit_counts *uc)
{
	int fds[200], ok200 = 0, ok503 = 0, other = 0, opened = 0;
	u64 refused0 = __atomic_load_n(&srv.refused, __ATOMIC_RELAXED);
	char *r;

	for (int i = 0; i < 200; i++) {
		fds[i] = client();
		opened += fds[i] >= 0;
	}
	usleep(100000); /* let the server accept them all: 32 wait for a head, the rest are refused */
	for (int i = 0; i < 200; i++)
		if (fds[i] >= 0 && write(fds[i], GET, strlen(GET)) < 0)
			(void)0; /* a refused one may be closed already */
	for (int i = 0; i < 200; i++) {
		if (fds[i] < 0)
			continue;
		r = read_all(fds[i], NULL);
		close(fds[i]);
		if (status_is(r, 200))
			ok200++;
		else if (status_is(r, 503) || !*r)
			ok503++;
		else
			other++;
		free(r);
	}
	CHECK(uc, opened == 200 && ok200 >= METRICS_MAX_CONNS && ok200 + ok503 == 200 && other == 0,
	      "200 connections at once: %d served, %d refused (503 or closed), %d else", ok200, ok503, other);
	CHECK(uc, __atomic_load_n(&srv.refused, __ATOMIC_RELAXED) - refused0 == (u64)(200 - ok200),
	      "the refused ones are counted");
	r = scrape(GET, NULL);
	CHECK(uc, status_is(r, 200), "a scrape after the flood succeeds");
	free(r);
}

static void test_no_reader(struct unit_counts *uc)
{
	int lazy = client(), sz = 4096;
	char *r;
	double t0 = now_s();

	body_pad = 4 << 20; /* a 4+ MiB exposition: far more than the socket buffers take */
	setsockopt(lazy, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (write(lazy, GET, strlen(GET)) < 0)
		(void)0;
	usleep(100000);
	body_pad = 0;
	r = scrape(GET, NULL);
	CHECK(uc, status_is(r, 200) && strlen(r) < 4096, "while a client reads nothing of its 4 MiB, others are served");
	free(r);
	/* the server gives up on it after the send deadline: the connection then ends early */
	usleep(500000);
	{
		size_t got;
		r = read_all(lazy, &got);
		CHECK(uc, got < (4u << 20) && now_s() - t0 >= 0.3,
		      "a client that reads nothing is dropped after the deadline (%zu bytes of 4 MiB arrived)", got);
		free(r);
	}
	close(lazy);
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	char dir[] = "/tmp/lkvm-metrics-test.XXXXXX", spec[400], err[300];
	pthread_t th;
	dev_t dev;
	ino_t ino;
	int lfd, r200;
	struct stat st;

	signal(SIGPIPE, SIG_IGN); /* a client writing to a connection the server closed gets EPIPE */
	if (!mkdtemp(dir))
		return 1;
	snprintf(spec, sizeof(spec), "unix:%s/m.sock", dir);
	CHECK(&uc, !metrics_addr_parse(spec, &addr, err, sizeof(err)), "address %s", spec);
	lfd = metrics_listen_addr(&addr, &dev, &ino, err, sizeof(err));
	CHECK(&uc, lfd >= 0, "listening on %s %s", spec, lfd < 0 ? err : "");
	if (lfd < 0)
		UNIT_DONE(&uc);
	CHECK(&uc, stat(((struct sockaddr_un *)&addr.sa)->sun_path, &st) == 0 && (st.st_mode & 0777) == 0660 &&
			  st.st_ino == ino,
	      "the socket is 0660 and identified");
	CHECK(&uc, metrics_listen_addr(&addr, &dev, &ino, err, sizeof(err)) == -2 && strstr(err, "another process"),
	      "a second listener on a live socket is refused: %s", err);
	CHECK(&uc, !metrics_server_init(&srv, lfd, render, NULL), "server initialised");
	srv.head_timeout_ms = 600;
	srv.send_timeout_ms = 300;
	srv.drain_ms = 200;
	pthread_create(&th, NULL, serve, NULL);

	test_good(&uc);
	test_hostile(&uc);
	test_flood(&uc);
	test_no_reader(&uc);
	r200 = (int)__atomic_load_n(&srv.responses[MC_200], __ATOMIC_RELAXED);
	CHECK(&uc, r200 == __atomic_load_n(&renders, __ATOMIC_RELAXED) && srv.responses[MC_503] >= 168 &&
			   srv.responses[MC_408] >= 1 && srv.responses[MC_431] >= 2 && srv.responses[MC_404] == 1 &&
			   srv.responses[MC_405] == 1,
	      "responses by status are counted (%d x 200, %llu x 503)", r200, (unsigned long long)srv.responses[MC_503]);

	metrics_server_stop(&srv);
	pthread_join(th, NULL);
	metrics_server_destroy(&srv);
	/* a stale socket (nobody listening) is taken over */
	lfd = metrics_listen_addr(&addr, &dev, &ino, err, sizeof(err));
	CHECK(&uc, lfd >= 0, "a stale socket file is replaced %s", lfd < 0 ? err : "");
	if (lfd >= 0)
		close(lfd);
	unlink(((struct sockaddr_un *)&addr.sa)->sun_path);
	{
		char f[300];
		snprintf(f, sizeof(f), "%s/plain", dir);
		close(creat(f, 0600));
		snprintf(spec, sizeof(spec), "unix:%s", f);
		metrics_addr_parse(spec, &addr, err, sizeof(err));
		CHECK(&uc, metrics_listen_addr(&addr, &dev, &ino, err, sizeof(err)) == -1 && strstr(err, "not a socket"),
		      "a path that is not a socket is left alone: %s", err);
		unlink(f);
	}
	rmdir(dir);
	UNIT_DONE(&uc);
}

/* mscrape - a small static HTTP client for lkvm's metrics endpoint in the test bed: scrapes (unix: or tcp:), the
 * hostile clients of scenario 82, and the scrape loop of the metrics benchmark.
 *
 *   mscrape [-a ACCEPT] [-p PATH] ADDR             one GET; the body on stdout, "status N" on stderr; exit 0 iff 200
 *   mscrape -m garbage N ADDR                      N bytes of random garbage; prints the status line answered
 *   mscrape -m endless ADDR                        header lines until the server closes; prints the status line
 *   mscrape -m silent SECS ADDR                    half a request head, then silence; prints the answer's status line
 *   mscrape -m flood N ADDR                        N connections at once, then a request on each; counts the answers
 *   mscrape -m noread SECS ADDR                    a request, then nothing read for SECS; prints the bytes taken
 *   mscrape -m loop N PERIOD_MS ADDR               N scrapes PERIOD_MS apart; prints latency median, p99, max (ms)
 * ADDR: unix:PATH or tcp:IPV4:PORT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kvm/io.h"

static struct sockaddr_storage sa;
static socklen_t salen;
static const char *accept_hdr, *path = "/metrics";

static void usage(void)
{
	fprintf(stderr, "usage: mscrape [-a ACCEPT] [-p PATH] [-m MODE ARGS...] unix:PATH|tcp:IPV4:PORT\n");
	exit(2);
}

static void parse_addr(const char *a)
{
	memset(&sa, 0, sizeof(sa));
	if (!strncmp(a, "unix:", 5)) {
		struct sockaddr_un *un = (struct sockaddr_un *)&sa;
		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "%s", a + 5);
		salen = sizeof(*un);
	} else if (!strncmp(a, "tcp:", 4) && strrchr(a, ':') > a + 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa;
		char host[64];
		const char *c = strrchr(a, ':');
		snprintf(host, sizeof(host), "%.*s", (int)(c - a - 4), a + 4);
		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)atoi(c + 1));
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			usage();
		salen = sizeof(*in);
	} else {
		usage();
	}
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int conn(void)
{
	struct timeval tv = { .tv_sec = 30 };
	int fd = socket(sa.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int request(char *buf, size_t len)
{
	return snprintf(buf, len, "GET %s HTTP/1.1\r\nHost: lkvm\r\nUser-Agent: mscrape\r\n%s%s%sConnection: close\r\n\r\n",
			path, accept_hdr ? "Accept: " : "", accept_hdr ? accept_hdr : "", accept_hdr ? "\r\n" : "");
}

/* The whole buffer (io.c's write_full: retries short writes and EINTR); -1 once the server has closed. */
static int send_all(int fd, const char *p, size_t n)
{
	return write_full(fd, p, n) ? -1 : 0;
}

/* Read the whole answer (until EOF); malloc'd, NUL-terminated; *len its size. */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *b = malloc(cap + 1);
	for (;;) {
		ssize_t r;
		if (n == cap)
			b = realloc(b, (cap *= 2) + 1);
		r = read(fd, b + n, cap - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	*len = n;
	return b;
}

static int status_of(const char *resp)
{
	return !strncmp(resp, "HTTP/1.", 7) && strlen(resp) > 12 ? atoi(resp + 9) : 0;
}

static void print_status_line(const char *resp)
{
	size_t n = strcspn(resp, "\r\n");
	printf("%.*s\n", (int)(n ? n : 0), n ? resp : "(connection closed without an answer)");
}

/* One scrape: returns the status, the response in *out (malloc'd) */
static int scrape(char **out, size_t *len)
{
	char req[512];
	int fd = conn(), n = request(req, sizeof(req));
	if (fd < 0)
		return -1;
	if (send_all(fd, req, (size_t)n)) {
		close(fd);
		return -1;
	}
	*out = read_all(fd, len);
	close(fd);
	return status_of(*out);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *mode = NULL;
	int opt;

	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt(argc, argv, "a:p:m:")) != -1) {
		if (opt == 'a')
			accept_hdr = optarg;
		else if (opt == 'p')
			path = optarg;
		else if (opt == 'm')
			mode = optarg;
		else
			usage();
	}
	if (optind >= argc)
		usage();
	parse_addr(argv[argc - 1]);
	if (!mode) {
		char *resp, *body;
		size_t len;
		int st = scrape(&resp, &len);
		if (st < 0) {
			fprintf(stderr, "mscrape: cannot connect to %s: %s\n", argv[argc - 1], strerror(errno));
			return 1;
		}
		body = strstr(resp, "\r\n\r\n");
		if (body)
			fwrite(body + 4, 1, len - (size_t)(body + 4 - resp), stdout);
		fprintf(stderr, "status %d\n", st);
		if (body) { /* the headers, for the scenario's log */
			*body = '\0';
			fprintf(stderr, "%s\n", resp);
		}
		return st == 200 ? 0 : 1;
	}
	if (!strcmp(mode, "garbage") && optind + 2 == argc) {
		size_t n = strtoul(argv[optind], NULL, 10), len;
		char *g = malloc(n), *resp;
		int fd = conn();
		srand(42);
		for (size_t i = 0; i < n; i++)
			g[i] = (char)(rand() & 0xff);
		if (fd < 0)
			return 1;
		send_all(fd, g, n); /* the server may answer and close before it has all */
		resp = read_all(fd, &len);
		print_status_line(resp);
		return 0;
	}
	if (!strcmp(mode, "endless") && optind + 1 == argc) {
		int fd = conn(), lines = 0;
		char *resp;
		size_t len;
		if (fd < 0 || send_all(fd, "GET /metrics HTTP/1.1\r\nHost: lkvm\r\n", 35))
			return 1;
		while (lines < 100000 && !send_all(fd, "X-Never-Ending: yes\r\n", 21))
			lines++;
		resp = read_all(fd, &len);
		printf("sent %d header lines; ", lines);
		print_status_line(resp);
		return 0;
	}
	if (!strcmp(mode, "silent") && optind + 2 == argc) {
		int fd = conn();
		double t0 = now_ms();
		char *resp;
		size_t len;
		if (fd < 0 || send_all(fd, "GET /metrics HTTP/1.1\r\nHo", 25))
			return 1;
		sleep((unsigned int)atoi(argv[optind]));
		resp = read_all(fd, &len);
		printf("after %.1f s: ", (now_ms() - t0) / 1000);
		print_status_line(resp);
		return 0;
	}
	if (!strcmp(mode, "flood") && optind + 2 == argc) {
		int n = atoi(argv[optind]), *fds = calloc((size_t)n, sizeof(int)), ok = 0, busy = 0, closed = 0, other = 0,
		    failed = 0;
		char req[512];
		int rl = request(req, sizeof(req));
		for (int i = 0; i < n; i++)
			failed += (fds[i] = conn()) < 0;
		for (int i = 0; i < n; i++)
			if (fds[i] >= 0)
				send_all(fds[i], req, (size_t)rl);
		for (int i = 0; i < n; i++) {
			char *resp;
			size_t len;
			int st;
			if (fds[i] < 0)
				continue;
			resp = read_all(fds[i], &len);
			close(fds[i]);
			st = status_of(resp);
			ok += st == 200;
			busy += st == 503;
			closed += len == 0;
			other += st != 200 && st != 503 && len;
			free(resp);
		}
		printf("flood %d: 200=%d 503=%d closed=%d other=%d connect_failed=%d\n", n, ok, busy, closed, other,
		       failed);
		return 0;
	}
	if (!strcmp(mode, "noread") && optind + 2 == argc) {
		int fd = conn(), sz = 4096;
		char req[512], *resp;
		size_t len;
		int rl = request(req, sizeof(req));
		if (fd < 0)
			return 1;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		send_all(fd, req, (size_t)rl);
		sleep((unsigned int)atoi(argv[optind]));
		resp = read_all(fd, &len);
		printf("noread: %zu bytes arrived after the pause; ", len);
		print_status_line(resp);
		return 0;
	}
	if (!strcmp(mode, "loop") && optind + 3 == argc) {
		int n = atoi(argv[optind]), period = atoi(argv[optind + 1]), bad = 0;
		double *lat = calloc((size_t)n, sizeof(double)), t0 = now_ms();
		for (int i = 0; i < n; i++) {
			char *resp = NULL;
			size_t len;
			double a = now_ms(), next = t0 + (double)(i + 1) * period;
			bad += scrape(&resp, &len) != 200;
			lat[i] = now_ms() - a;
			free(resp);
			while (now_ms() < next)
				usleep((useconds_t)((next - now_ms()) * 1000) + 1);
		}
		qsort(lat, (size_t)n, sizeof(double), cmp_d);
		printf("scrapes=%d failed=%d median_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", n, bad, lat[n / 2],
		       lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], lat[n - 1]);
		return bad != 0;
	}
	usage();
}

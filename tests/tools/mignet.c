/*
 * mignet: stand-ins for a migration peer, on 127.0.0.1. "cut PORT N": accept one connection, read N bytes, close
 * (a destination lost mid-stream). "relay PORT TO N": accept one connection, connect to port TO, pass the stream on;
 * N > 0 passes the first N bytes then closes both sides, N < 0 holds back the last -N bytes and closes both once the
 * sender has gone quiet for 2 s (it then waits for an acknowledgement that never comes). "send PORT FILE":
 * connect, send FILE, wait for the peer to close (garbage fed to 'lkvm restore --incoming').
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int die(const char *what)
{
	perror(what);
	return 2;
}

static struct sockaddr_in addr(const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	sa.sin_port = htons((unsigned short)atoi(port));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	struct sockaddr_in sa;
	int one = 1, s, c;

	if (argc < 4)
		return fprintf(stderr, "usage: mignet cut PORT N | relay PORT TO N | send PORT FILE\n"), 2;
	sa = addr(argv[2]);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (!strcmp(argv[1], "send")) {
		int fd = open(argv[3], O_RDONLY);
		ssize_t n;
		if (fd < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return die("send");
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (write_all(s, buf, (size_t)n))
				break;
		shutdown(s, SHUT_WR);
		while (read(s, buf, sizeof(buf)) > 0)
			;
		return 0;
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 1) < 0)
		return die("listen");
	printf("listening\n");
	fflush(stdout);
	c = accept(s, NULL, NULL);
	if (c < 0)
		return die("accept");
	close(s);
	if (!strcmp(argv[1], "cut")) {
		long want = atol(argv[3]), got = 0;
		while (got < want) {
			ssize_t n = read(c, buf, (size_t)(want - got) < sizeof(buf) ? (size_t)(want - got) : sizeof(buf));
			if (n <= 0)
				break;
			got += n;
		}
		printf("cut after %ld bytes\n", got);
	} else if (!strcmp(argv[1], "relay") && argc == 5) {
		struct sockaddr_in to = addr(argv[3]);
		long n = atol(argv[4]), passed = 0, held = 0, hold = n < 0 ? -n : 0;
		int d = socket(AF_INET, SOCK_STREAM, 0);
		struct pollfd p = { .fd = c, .events = POLLIN };
		char *tail = calloc(1, (size_t)hold + sizeof(buf));

		if (!tail || connect(d, (struct sockaddr *)&to, sizeof(to)) < 0)
			return die("relay");
		/* tail[0..held) is what has not been passed on yet: at most `hold` bytes stay back */
		while (poll(&p, 1, 2000) > 0) {
			ssize_t r = read(c, tail + held, sizeof(buf));
			long out;
			if (r <= 0)
				break;
			held += r;
			out = held > hold ? held - hold : 0;
			if (n > 0 && passed + out > n)
				out = n - passed;
			if (out && write_all(d, tail, (size_t)out))
				break;
			passed += out;
			memmove(tail, tail + out, (size_t)(held - out));
			held -= out;
			if (n > 0 && passed >= n)
				break;
		}
		printf("relayed %ld bytes, held back %ld\n", passed, held);
		close(d);
	} else {
		return fprintf(stderr, "mignet: unknown mode %s\n", argv[1]), 2;
	}
	close(c);
	return 0;
}

/*
 * mignet: stand-ins for a migration peer. "record PORT FILE": accept one connection on 127.0.0.1:PORT, store what
 * arrives until the sender goes quiet for 2 s, then close without acknowledging (a destination that refuses).
 * "cut PORT N": accept, read N bytes, close (a destination lost mid-stream). "send PORT FILE": connect, send FILE,
 * wait for the peer to close (garbage or a truncated stream fed to 'lkvm restore --incoming').
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

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char buf[65536];
	int one = 1, s, c;

	if (argc != 4)
		return fprintf(stderr, "usage: mignet record PORT FILE | cut PORT N | send PORT FILE\n"), 2;
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (!strcmp(argv[1], "send")) {
		int fd = open(argv[3], O_RDONLY);
		ssize_t n;
		if (fd < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return die("send");
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (write(s, buf, (size_t)n) != n)
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
	} else {
		int out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		long got = 0;
		struct pollfd p = { .fd = c, .events = POLLIN };
		ssize_t n;
		while (poll(&p, 1, 2000) > 0 && (n = read(c, buf, sizeof(buf))) > 0) {
			if (write(out, buf, (size_t)n) != n)
				return die("write");
			got += n;
		}
		close(out);
		printf("recorded %ld bytes\n", got);
	}
	close(c);
	return 0;
}

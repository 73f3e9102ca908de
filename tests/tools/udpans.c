/* udpans ADDR PORT COUNT: answer COUNT UDP DNS queries with NXDOMAIN (a UDP round trip for nslookup); logs each one. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET }, from;
	unsigned char b[1500];
	int fd, count = argc > 3 ? atoi(argv[3]) : 1;

	if (argc < 3 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: udpans IPV4 PORT [COUNT]\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("udpans: bind");
		return 1;
	}
	printf("udpans: listening on %s:%s\n", argv[1], argv[2]);
	fflush(stdout);
	for (int i = 0; i < count;) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
		if (n < 12)
			continue;
		printf("udpans: query of %zd bytes from %s:%u, id 0x%02x%02x\n", n, inet_ntoa(from.sin_addr),
		       ntohs(from.sin_port), b[0], b[1]);
		fflush(stdout);
		b[2] |= 0x80;               /* a response */
		b[3] = (b[3] & 0xf0) | 3;   /* NXDOMAIN */
		sendto(fd, b, (size_t)n, 0, (struct sockaddr *)&from, fl);
		i++;
	}
	return 0;
}

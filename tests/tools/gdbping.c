/* gdbping - a minimal GDB remote client for the gdb benchmark: attaches over a unix socket, single-steps vCPU 1
 * N times (one 's' packet and its stop reply each) and prints the round trip, then detaches.
 *
 *   gdbping PATH N     prints "GDBPING steps=N total_us=T us_per_step=X pc_moved=0|1"; exit 0 iff all N answered
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int fd;

static void sendpkt(const char *p)
{
	char buf[256];
	unsigned int sum = 0;
	for (const char *c = p; *c; c++)
		sum += (unsigned char)*c;
	int n = snprintf(buf, sizeof(buf), "$%s#%02x", p, sum & 0xff);
	if (write(fd, buf, (size_t)n) != n)
		exit(2);
}

/* Read one reply packet's payload into out (acks skipped); 0 or -1. */
static int reply(char *out, size_t cap)
{
	size_t n = 0;
	char c;
	int st = 0, cs = 0;

	while (read(fd, &c, 1) == 1) {
		if (st == 0) {
			if (c == '$')
				st = 1;
		} else if (st == 1) {
			if (c == '#')
				st = 2;
			else if (n + 1 < cap)
				out[n++] = c;
		} else if (++cs == 2) {
			out[n] = '\0';
			return 0;
		}
	}
	return -1;
}

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char r[4096], pc0[64] = "", pc1[64] = "";
	long steps, i;
	double t0, t1;

	if (argc != 3 || (steps = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: gdbping PATH N\n");
		return 2;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	for (i = 0; i < 100; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		close(fd);
		usleep(100000);
	}
	if (i == 100) {
		fprintf(stderr, "gdbping: cannot connect to %s\n", argv[1]);
		return 1;
	}
	sendpkt("QStartNoAckMode");
	if (reply(r, sizeof(r)))
		return 1;
	sendpkt("Hg1");
	reply(r, sizeof(r));
	sendpkt("p20");
	reply(pc0, sizeof(pc0));
	t0 = now_us();
	for (i = 0; i < steps; i++) {
		sendpkt("vCont;s:1");
		if (reply(r, sizeof(r)) || r[0] != 'T')
			break;
	}
	t1 = now_us();
	sendpkt("p20");
	reply(pc1, sizeof(pc1));
	sendpkt("D");
	reply(r, sizeof(r));
	printf("GDBPING steps=%ld total_us=%.0f us_per_step=%.1f pc_moved=%d\n", i, t1 - t0, i ? (t1 - t0) / (double)i : 0,
	       strcmp(pc0, pc1) != 0);
	return i == steps ? 0 : 1;
}

/* bench-io - L2 helper for the lkvm benchmarks: random O_DIRECT reads for a fixed time; wall time of a command. */
/*
 * bench-io randread DEVICE SECONDS [BLOCK_BYTES]
 *   prints: BENCH-IO randread bs=B ops=N secs=S iops=X
 *   reads aligned to the block size (default 4096), spread uniformly over the device, one at a time (queue depth 1)
 * bench-io time COMMAND [ARGS...]
 *   runs COMMAND (busybox dd prints no timing) and prints: BENCH-IO time secs=S rc=R
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static int time_cmd(char **argv)
{
	double t0 = now_s(), el;
	int status, rc;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bench-io: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "bench-io: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "bench-io: waitpid: %s\n", strerror(errno));
			return 1;
		}
	}
	el = now_s() - t0;
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	printf("BENCH-IO time secs=%.6f rc=%d\n", el, rc);
	return rc;
}

static int usage(const char *prog)
{
	fprintf(stderr, "usage: %s randread DEVICE SECONDS [BLOCK_BYTES] | %s time COMMAND [ARGS...]\n", prog, prog);
	return 2;
}

static int randread(int argc, char **argv)
{
	uint64_t size = 0, blocks, ops = 0, seed = 0x9e3779b97f4a7c15ULL;
	size_t bs = 4096;
	double secs, t0, el;
	void *buf;
	int fd;

	if (argc < 3)
		return usage("bench-io");
	secs = atof(argv[2]);
	if (argc > 3)
		bs = (size_t)strtoul(argv[3], NULL, 0);
	if (secs <= 0 || bs < 512 || (bs & (bs - 1))) {
		fprintf(stderr, "bench-io: bad SECONDS or BLOCK_BYTES (a power of two >= 512)\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "bench-io: open %s with O_DIRECT: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
		off_t end = lseek(fd, 0, SEEK_END);

		size = end > 0 ? (uint64_t)end : 0;
	}
	blocks = size / bs;
	if (!blocks) {
		fprintf(stderr, "bench-io: %s is smaller than one block\n", argv[1]);
		return 1;
	}
	if (posix_memalign(&buf, 4096, bs)) {
		fprintf(stderr, "bench-io: out of memory\n");
		return 1;
	}
	t0 = now_s();
	do {
		/* check the clock every 16 reads: clock_gettime is cheap (vDSO) but not free under emulation */
		for (int i = 0; i < 16; i++) {
			off_t off = (off_t)(xorshift64(&seed) % blocks * bs);

			if (pread(fd, buf, bs, off) != (ssize_t)bs) {
				fprintf(stderr, "bench-io: pread at %lld: %s\n", (long long)off, strerror(errno));
				return 1;
			}
			ops++;
		}
		el = now_s() - t0;
	} while (el < secs);
	printf("BENCH-IO randread bs=%zu ops=%" PRIu64 " secs=%.3f iops=%.0f\n", bs, ops, el, (double)ops / el);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "time"))
		return time_cmd(argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "randread"))
		return randread(argc - 1, argv + 1);
	return usage(argv[0]);
}

/* tstamp: copy stdin to stdout line by line, each line prefixed with CLOCK_MONOTONIC milliseconds and a space. */
#include <stdio.h>
#include <time.h>

int main(void)
{
	char line[4096];
	struct timespec ts;
	int at_start = 1;

	while (fgets(line, sizeof(line), stdin)) {
		if (at_start) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			printf("%lld ", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
		}
		fputs(line, stdout);
		fflush(stdout);
		for (char *p = line; *p; p++)
			at_start = *p == '\n';
	}
	return 0;
}

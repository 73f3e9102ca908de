/* Minimal unit-test harness: CHECK() prints one ok/not ok line per assertion; main returns failures. */
#ifndef UNIT_CHECK_H
#define UNIT_CHECK_H

#include <stdio.h>

struct unit_counts {
	int passed, failed;
};

#define CHECK(uc, cond, ...)                                                                                      \
	do {                                                                                                      \
		if (cond) {                                                                                       \
			(uc)->passed++;                                                                           \
			printf("ok - ");                                                                          \
		} else {                                                                                          \
			(uc)->failed++;                                                                           \
			printf("not ok - %s:%d: ", __FILE__, __LINE__);                                           \
		}                                                                                                 \
		printf(__VA_ARGS__);                                                                              \
		printf("\n");                                                                                     \
	} while (0)

#define UNIT_DONE(uc)                                                                                             \
	do {                                                                                                      \
		printf("%d passed, %d failed\n", (uc)->passed, (uc)->failed);                                     \
		return (uc)->failed ? 1 : 0;                                                                      \
	} while (0)

#endif

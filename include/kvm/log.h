/* Diagnostics: one-line fatal/error/warning/info messages and rate-limited warnings. */
#ifndef KVM_LOG_H
#define KVM_LOG_H

#include <stdbool.h>
#include <time.h>

enum log_level { LOG_ERROR = 0, LOG_WARNING = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Process-wide verbosity, set once from --loglevel before any thread starts. */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
int log_parse_level(const char *s, enum log_level *out);
/* die()'s exit status (1 unless set; 'lkvm run -- CMD' uses 125), set once before any thread starts. */
void log_set_fatal_status(int status);

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void die_perror(const char *what) __attribute__((noreturn));
void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A token bucket owned by whoever logs: at most `burst` lines, then one per `interval` seconds. */
struct ratelimit {
	time_t last;
	unsigned int count;
	unsigned int suppressed;
};
bool ratelimit_ok(struct ratelimit *rl);
#define pr_warn_ratelimited(rl, ...)                                                                              \
	do {                                                                                                          \
		if (ratelimit_ok(rl))                                                                                 \
			pr_warn(__VA_ARGS__);                                                                         \
	} while (0)

#endif

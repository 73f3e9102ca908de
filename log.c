/* Diagnostics: one-line messages on stderr with kvmtool's prefixes, and rate limiting. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kvm/log.h"

/* The only process-wide mutables: verbosity and die()'s exit status, written once before threads start. */
static enum log_level current_level = LOG_WARNING;
static int fatal_status = 1;

void log_set_fatal_status(int status)
{
	fatal_status = status;
}

void log_set_level(enum log_level lvl)
{
	current_level = lvl;
}

enum log_level log_get_level(void)
{
	return current_level;
}

int log_parse_level(const char *s, enum log_level *out)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	for (unsigned int i = 0; i < 4; i++) {
		if (!strcasecmp(s, names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* Keep every message on one line. */
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	fprintf(stderr, "  %s: %s\n", prefix, buf);
}


void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("Fatal", fmt, ap);
	va_end(ap);
	exit(fatal_status);
}

void die_perror(const char *what)
{
	die("%s: %s", what, strerror(errno));
}

void pr_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("Error", fmt, ap);
	va_end(ap);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;
	if (current_level < LOG_WARNING)
		return;
	va_start(ap, fmt);
	vmsg("Warning", fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;
	if (current_level < LOG_INFO)
		return;
	va_start(ap, fmt);
	vmsg("Info", fmt, ap);
	va_end(ap);
}

void pr_debug(const char *fmt, ...)
{
	va_list ap;
	if (current_level < LOG_DEBUG)
		return;
	va_start(ap, fmt);
	vmsg("Debug", fmt, ap);
	va_end(ap);
}

#define RL_BURST 5
#define RL_INTERVAL 5

bool ratelimit_ok(struct ratelimit *rl)
{
	time_t now = time(NULL);
	if (now - rl->last >= RL_INTERVAL) {
		if (rl->suppressed && current_level >= LOG_WARNING)
			fprintf(stderr, "  Warning: %u similar messages suppressed\n", rl->suppressed);
		rl->last = now;
		rl->count = 0;
		rl->suppressed = 0;
	}
	if (rl->count < RL_BURST) {
		rl->count++;
		return true;
	}
	rl->suppressed++;
	return false;
}

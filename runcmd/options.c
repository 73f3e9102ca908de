/* The options of 'lkvm run -- CMD': their callbacks and the checks across them (host-testable, no KVM). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kvm/kvm.h"
#include "kvm/options.h"
#include "kvm/runcmd.h"

int runcmd_opt_timeout(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct kvm_config *cfg = ctx;
	char *end;
	double s;

	(void)o;
	errno = 0;
	s = strtod(arg, &end);
	if (errno || end == arg || *end || !(s > 0) || s > 1e7 || isnan(s)) {
		snprintf(err, errlen, "--timeout %s: give the seconds the command may run, e.g. --timeout 60 or 2.5", arg);
		return -1;
	}
	cfg->run.timeout_ms = (u64)(s * 1000.0 + 0.5);
	if (!cfg->run.timeout_ms)
		cfg->run.timeout_ms = 1;
	return 0;
}

int runcmd_opt_rwdir(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct kvm_config *cfg = ctx;
	struct stat st;

	(void)o;
	if (stat(arg, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--rwdir %s: %s; give a host directory the command may write", arg,
			 errno == ENOENT ? "no such directory" : "not a directory");
		return -1;
	}
	if (strchr(arg, ',')) {
		snprintf(err, errlen, "--rwdir %s: a ',' in the path cannot be shared (it separates share options)", arg);
		return -1;
	}
	if (cfg->run.nr_rwdirs >= RUNCMD_MAX_RWDIRS) {
		snprintf(err, errlen, "--rwdir %s: at most %d --rwdir", arg, RUNCMD_MAX_RWDIRS);
		return -1;
	}
	cfg->run.rwdirs[cfg->run.nr_rwdirs++] = arg;
	return 0;
}

int runcmd_opt_env(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct kvm_config *cfg = ctx;
	size_t nl = strcspn(arg, "=");

	(void)o;
	if (!nl || (arg[0] >= '0' && arg[0] <= '9') || strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
						  "0123456789_") != nl) {
		snprintf(err, errlen, "--env %s: expected NAME or NAME=VALUE (NAME: letters, digits and '_')", arg);
		return -1;
	}
	if (cfg->run.nr_env >= RUNCMD_MAX_ENV) {
		snprintf(err, errlen, "--env %s: at most %d --env", arg, RUNCMD_MAX_ENV);
		return -1;
	}
	cfg->run.env[cfg->run.nr_env++] = arg;
	return 0;
}

int runcmd_opt_steal(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct kvm_config *cfg = ctx;

	(void)o;
	if (!arg || !strcmp(arg, "text"))
		cfg->run.steal = RUNCMD_STEAL_TEXT;
	else if (!strcmp(arg, "json"))
		cfg->run.steal = RUNCMD_STEAL_JSON;
	else {
		snprintf(err, errlen, "--steal-report=%s: expected --steal-report or --steal-report=json", arg);
		return -1;
	}
	return 0;
}

int runcmd_check_config(const struct runcmd_config *rc, char *err, size_t errlen)
{
	const char *opt = rc->kdir ? "--kdir" : rc->timeout_ms ? "--timeout" : rc->nr_rwdirs ? "--rwdir" : rc->rw ? "--rw"
			  : rc->root ? "--root" : rc->nr_env ? "--env" : rc->kernel_log ? "--kernel-log"
			  : rc->steal ? "--steal-report" : NULL;

	if (rc->exec && rc->argc) {
		snprintf(err, errlen, "--exec and a command after '--' both given; use one of them");
		return -1;
	}
	if (rc->exec && !*rc->exec) {
		snprintf(err, errlen, "--exec: the shell line is empty");
		return -1;
	}
	if (!runcmd_wanted(rc) && opt) {
		snprintf(err, errlen, "%s runs a command: give it after '--' (lkvm run %s ... -- CMD [ARGS]) or with --exec",
			 opt, opt);
		return -1;
	}
	return 0;
}

/* 'lkvm run [options] -- CMD [ARGS...]' / '--exec LINE': run a command in a throw-away guest, return its result. */
#ifndef KVM_RUNCMD_H
#define KVM_RUNCMD_H

#include <stdio.h>

#include "kvm/util.h"

#define RUNCMD_MAX_RWDIRS 6
#define RUNCMD_MAX_ENV 64
#define RUNCMD_ARG_MAX (128u * 1024)   /* one argument or environment entry (the guest's MAX_ARG_STRLEN) */
#define RUNCMD_ARGS_MAX (1024u * 1024) /* all of them together */

/* Exit statuses besides the command's own (timeout(1)'s conventions). */
#define RUNCMD_TIMEOUT 124
#define RUNCMD_FAILED 125
#define RUNCMD_NOEXEC 126
#define RUNCMD_NOTFOUND 127

enum runcmd_steal { RUNCMD_STEAL_NONE = 0, RUNCMD_STEAL_TEXT, RUNCMD_STEAL_JSON };

/* The command-line part of a run (filled by the option parser, run-options.c). */
struct runcmd_config {
	const char *const *argv; /* the words after "--", argc of them */
	int argc;
	const char *exec;        /* --exec "SHELL LINE" */
	const char *kdir;        /* --kdir DIR: a kernel build tree */
	u64 timeout_ms;          /* --timeout SECONDS; 0: none */
	const char *rwdirs[RUNCMD_MAX_RWDIRS];
	unsigned int nr_rwdirs;
	const char *env[RUNCMD_MAX_ENV]; /* --env NAME[=VALUE] */
	unsigned int nr_env;
	bool rw, root;           /* --rw, --root */
	const char *kernel_log;  /* --kernel-log FILE */
	enum runcmd_steal steal; /* --steal-report[=json] */
};

static inline bool runcmd_wanted(const struct runcmd_config *rc)
{
	return rc->argc > 0 || rc->exec;
}

/* Option callbacks for run-options.c's table (ctx is the struct kvm_config). */
struct option_desc;
int runcmd_opt_timeout(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen);
int runcmd_opt_rwdir(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen);
int runcmd_opt_env(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen);
int runcmd_opt_steal(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen);
/* After parsing: the options that only make sense with a command, and --exec with "--". 0 or -1 with err. */
int runcmd_check_config(const struct runcmd_config *rc, char *err, size_t errlen);

/* Stolen time over the command, per vCPU: one line of text or JSON into out (no newline). */
struct runcmd_steal_sample {
	unsigned int nr_cpus;
	u64 wall_ns;
	const u64 *steal_ns; /* nr_cpus entries */
};
void runcmd_steal_format(const struct runcmd_steal_sample *s, bool json, char *out, size_t outlen);

/* The last n lines of text (the kernel log's tail) into out, CRs dropped; returns the number of lines. */
unsigned int runcmd_tail_lines(const char *text, size_t len, unsigned int n, char *out, size_t outlen);

/* The kernel release in a kernel Image's banner ("Linux version R ..."), or "" if none is found. */
void runcmd_image_release(const u8 *img, size_t len, char *out, size_t outlen);

struct kvm;
/* Before the payload is validated: kernel, initramfs, shares, kernel log, 125 for setup errors. Dies with one line. */
void runcmd_setup(struct kvm *kvm);
/* After kvm_setup_devices(): the channel device (stdin, stdout, stderr, control). */
void runcmd_setup_devices(struct kvm *kvm);
/* After the VM stopped: the exit status to return (the command's, 124, 125 with its reason and the log tail). */
int runcmd_finish(struct kvm *kvm, int code);

#endif

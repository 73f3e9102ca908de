/* lkvm-init's pieces (the initramfs's PID 1): boot helpers (lkvm-init.c), the command runner (run.c, spawn.c). */
#ifndef LKVM_INIT_H
#define LKVM_INIT_H

#include <stdbool.h>
#include <sys/types.h>

#define P9_OPTS "trans=virtio,version=9p2000.L,msize=524288"

/* A line "lkvm-init: ..." on the console (the kernel log). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Mount the 9p share tag at path, waiting a little for the device to be probed. 0 or -errno. */
int mount_9p(const char *tag, const char *path, unsigned long flags);
/* mkdir -p (mode 0755); 0 or -errno. */
int mkdir_p(const char *path);

/* The request of 'lkvm run -- CMD' (/lkvm/run). */
struct req {
	char **argv, **env;
	int argc, envc;
	uid_t uid;
	gid_t gid;
	gid_t groups[256];
	int ngroups;
	const char *cwd;
	bool cwd_shared, rw;
	const char *rwdirs[8];
	int nr_rwdirs;
	char ttys[4];
	unsigned int rows, cols;
	const char *kdir;
	bool kdir_shared;
	mode_t umask;
};

/* run.c: read the request, build the command's root under /newroot and enter it. Exits through fail() on errors. */
void run_main(void);
/* Report a failure to lkvm (the control port when open, else the console) and power off. */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* spawn.c: open the channels, run the command (on a pty when lkvm's stdin is a terminal), report its status. */
void spawn_and_report(const struct req *r) __attribute__((noreturn));
/* The control port's fd once open (fail() reports there), -1 before. */
extern int ctl_fd;

#endif

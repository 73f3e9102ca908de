/* lkvm-init: PID 1 of lkvm's own initramfs: load the modules, then a shell on the host's root or the command runner. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init.h"
#include "kvm/runcmd-spec.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	dprintf(2, "lkvm-init: %s\n", buf);
}

int mkdir_p(const char *path)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* /lkvm/modules: one module file per line (NAME.ko, or NAME.ko.xz/.zst for the kernel to unpack), deps first. */
static void load_modules(void)
{
	char line[256], path[300];
	FILE *f = fopen("/lkvm/modules", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		int fd, flags;
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		snprintf(path, sizeof(path), "/lkvm/%s", line);
		flags = strstr(line, ".ko.") ? MODULE_INIT_COMPRESSED_FILE : 0;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", flags) < 0 && errno != EEXIST))
			say("cannot load module %s: %s%s", line, strerror(errno),
			    flags && errno == EINVAL ? " (this kernel cannot unpack compressed modules)" : "");
		if (fd >= 0)
			close(fd);
	}
	fclose(f);
}

/* The virtio devices may still be probing: try a mount for a few seconds. */
int mount_9p(const char *tag, const char *at, unsigned long flags)
{
	for (int i = 0; i < 500; i++) {
		if (mount(tag, at, "9p", flags, P9_OPTS) == 0)
			return 0;
		if (errno != ENOENT && errno != ENODEV)
			break;
		usleep(10000);
	}
	return -errno;
}

/* The console's tty (ttyS0, hvc0): the last name in /sys/class/tty/console/active. */
static void console_path(char *out, size_t n)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/class/tty/console/active", "r");
	char *last;

	snprintf(out, n, "/dev/console");
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		last = strrchr(buf, ' ');
		last = last ? last + 1 : buf;
		if (*last)
			snprintf(out, n, "/dev/%s", last);
	}
	fclose(f);
}

static void shell(const char *tty)
{
	const char *sh = access("/newroot/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh";
	int fd;

	setsid();
	fd = open(tty, O_RDWR);
	if (fd >= 0) {
		ioctl(fd, TIOCSCTTY, 1);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (chroot("/newroot") < 0 || chdir("/root") < 0) {
		say("cannot enter the host's root: %s", strerror(errno));
		_exit(1);
	}
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", "/root", 1);
	setenv("TERM", "vt100", 0);
	setenv("PS1", "lkvm# ", 1);
	printf("lkvm: the host's / is mounted read-only; /root is ~/.lkvm/NAME on the host (writable), /tmp is memory. "
	       "Leave with 'exit' or Ctrl-A x.\n");
	fflush(stdout);
	execl(sh, sh, "-i", (char *)NULL);
	say("cannot run %s: %s", sh, strerror(errno));
	_exit(1);
}

/* 'lkvm run' with no command: a shell on the console, the host's / read-only, ~/.lkvm/NAME as /root. */
static void shell_main(void)
{
	char tty[160];
	pid_t pid;
	int r;

	mkdir("/newroot", 0755);
	r = mount_9p(RUNCMD_TAG_ROOT, "/newroot", MS_RDONLY);
	if (r == 0) {
		mount("proc", "/newroot/proc", "proc", 0, NULL);
		mount("sysfs", "/newroot/sys", "sysfs", 0, NULL);
		mount("devtmpfs", "/newroot/dev", "devtmpfs", 0, NULL);
		mount("devpts", "/newroot/dev/pts", "devpts", 0, NULL);
		mount("tmpfs", "/newroot/tmp", "tmpfs", 0, "mode=1777");
		mount("tmpfs", "/newroot/run", "tmpfs", 0, "mode=755");
		if ((r = mount_9p("lkvm-home", "/newroot/root", 0)))
			say("cannot mount the 9p share lkvm-home: %s", strerror(-r));
		console_path(tty, sizeof(tty));
		pid = fork();
		if (pid == 0)
			shell(tty);
		while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	} else {
		say("cannot mount the 9p share %s: %s", RUNCMD_TAG_ROOT, strerror(-r));
	}
}

int main(void)
{
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	load_modules();
	if (access(RUNCMD_SPEC_PATH, R_OK) == 0)
		run_main(); /* does not return */
	shell_main();
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}

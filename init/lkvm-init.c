/* lkvm-init: PID 1 of the initramfs of a bare lkvm run: load the 9p modules, mount the host / read-only, a shell. */
#include <errno.h>
#include <fcntl.h>
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

#define OPTS "trans=virtio,version=9p2000.L,msize=524288"

static void say(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "lkvm-init: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n");
}

static void load_modules(void)
{
	char line[256], path[300];
	FILE *f = fopen("/lkvm/modules", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		int fd;
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		snprintf(path, sizeof(path), "/lkvm/%s.ko", line);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST))
			say("cannot load module %s: %s", line, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	fclose(f);
}

/* The virtio devices may still be probing: try a mount for a few seconds. */
static int mount_9p(const char *tag, const char *at, unsigned long flags)
{
	for (int i = 0; i < 50; i++) {
		if (mount(tag, at, "9p", flags, OPTS) == 0)
			return 0;
		if (errno != ENOENT && errno != ENODEV)
			break;
		usleep(100000);
	}
	say("cannot mount the 9p share %s: %s", tag, strerror(errno));
	return -1;
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
		say("cannot enter the host's root: %s%s", strerror(errno), "");
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

int main(void)
{
	char tty[160];
	pid_t pid;

	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	load_modules();
	mkdir("/newroot", 0755);
	if (mount_9p("lkvm-root", "/newroot", MS_RDONLY) == 0) {
		mount("proc", "/newroot/proc", "proc", 0, NULL);
		mount("sysfs", "/newroot/sys", "sysfs", 0, NULL);
		mount("devtmpfs", "/newroot/dev", "devtmpfs", 0, NULL);
		mount("devpts", "/newroot/dev/pts", "devpts", 0, NULL);
		mount("tmpfs", "/newroot/tmp", "tmpfs", 0, "mode=1777");
		mount("tmpfs", "/newroot/run", "tmpfs", 0, "mode=755");
		mount_9p("lkvm-home", "/newroot/root", 0);
		console_path(tty, sizeof(tty));
		pid = fork();
		if (pid == 0)
			shell(tty);
		while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}

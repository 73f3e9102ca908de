/* lkvm-init's command runner, part 2: the channels to lkvm, the command (on a pty for a terminal), its exit status. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "init.h"
#include "kvm/io.h"

enum { CH_STDIN, CH_STDOUT, CH_STDERR, CH_CTL, NR_CH };
static const char *const ch_names[NR_CH] = { "lkvm.stdin", "lkvm.stdout", "lkvm.stderr", "lkvm.ctl" };

/* The port named name: /dev/vportNpM whose /sys/class/virtio-ports/vportNpM/name matches; "" if none yet. */
static void find_port(const char *name, char *dev, size_t len)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *e;

	dev[0] = '\0';
	while (d && (e = readdir(d))) {
		char p[300], buf[64] = "";
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/class/virtio-ports/%s/name", e->d_name);
		if (!(f = fopen(p, "r")))
			continue;
		if (fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
		if (!strcmp(buf, name)) {
			snprintf(dev, len, "/dev/%s", e->d_name);
			break;
		}
	}
	if (d)
		closedir(d);
}

/*
 * Open the four ports. lkvm connects them in order, the control port last: once it is connected (poll shows no
 * POLLHUP) the others are too, and a read of stdin no longer ends early.
 */
static void open_channels(int fds[NR_CH])
{
	static const int modes[NR_CH] = { O_RDONLY, O_WRONLY, O_WRONLY, O_RDWR };
	char dev[300];

	for (int c = 0; c < NR_CH; c++) {
		int i;
		for (i = 0; i < 1000; i++) { /* names arrive with the driver's control messages */
			find_port(ch_names[c], dev, sizeof(dev));
			if (dev[0] && (fds[c] = open(dev, modes[c] | O_CLOEXEC)) >= 0)
				break;
			usleep(5000);
		}
		if (i == 1000)
			fail("no virtio-console port %s after 5 s (lkvm's channels: virtio_console loaded?)", ch_names[c]);
	}
	for (int i = 0; i < 1000; i++) {
		struct pollfd p = { .fd = fds[CH_CTL], .events = POLLOUT };
		if (poll(&p, 1, 100) == 1 && !(p.revents & POLLHUP))
			break;
		usleep(2000);
	}
	ctl_fd = fds[CH_CTL];
}

/* The child: the caller's fds, ids, directory and environment, then exec. Errors: 126/127 as a shell gives them. */
static void child(const struct req *r, const int fds[NR_CH], int slave)
{
	extern char **environ;
	int e;

	setsid();
	for (int fd = 0; fd < 3; fd++) {
		int src = fds[fd];
		if (slave >= 0 && strchr(r->ttys, '0' + fd))
			src = slave;
		if (dup2(src, fd) < 0)
			_exit(125);
	}
	if (slave >= 0) {
		ioctl(0, TIOCSCTTY, 0);
		if (fchown(0, r->uid, (gid_t)-1)) {
			/* the pty stays root's; the command can still use it */
		}
	}
	if (setgroups((size_t)r->ngroups, r->groups) || setgid(r->gid) || setuid(r->uid)) {
		dprintf(2, "lkvm: cannot become uid %u gid %u: %s\n", (unsigned int)r->uid, (unsigned int)r->gid,
			strerror(errno));
		_exit(125);
	}
	if (chdir(r->cwd)) {
		dprintf(2, "lkvm: cannot enter %s: %s\n", r->cwd, strerror(errno));
		_exit(125);
	}
	environ = r->env;
	umask(r->umask);
	signal(SIGPIPE, SIG_DFL);
	execvp(r->argv[0], r->argv);
	e = errno;
	if (e == ENOENT && !strchr(r->argv[0], '/'))
		dprintf(2, "lkvm: %s: command not found\n", r->argv[0]);
	else
		dprintf(2, "lkvm: %s: %s\n", r->argv[0], strerror(e));
	_exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
}

/* A "winsize ROWS COLS" line from lkvm's control port: the pty gets the terminal's new size. */
static void ctl_input(int ctl, int master, char *line, size_t *len)
{
	char buf[256];
	ssize_t n = read(ctl, buf, sizeof(buf));

	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (*len + 1 < 128)
				line[(*len)++] = buf[i];
			continue;
		}
		line[*len] = '\0';
		*len = 0;
		{
			struct winsize ws = { 0 };
			unsigned int rows, cols;
			if (master >= 0 && sscanf(line, "winsize %u %u", &rows, &cols) == 2) {
				ws.ws_row = (unsigned short)rows;
				ws.ws_col = (unsigned short)cols;
				ioctl(master, TIOCSWINSZ, &ws);
			}
		}
	}
}

/*
 * Wait for the command, relaying the pty (master to the stdout port, the stdin port to the master) when there is
 * one, and size changes from lkvm. Returns its wait status.
 */
static int wait_command(pid_t pid, int master, int term_out, const int fds[NR_CH], int sigfd)
{
	char line[128], buf[16384], pend[4096];
	size_t llen = 0, plen = 0, poff = 0;
	bool in_open = master >= 0, done = false;
	int status = 0;

	while (!done || master >= 0) {
		struct pollfd p[4] = {
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = fds[CH_CTL], .events = POLLIN },
			{ .fd = master, .events = POLLIN | (plen ? POLLOUT : 0) },
			{ .fd = in_open && !plen ? fds[CH_STDIN] : -1, .events = POLLIN },
		};
		if (poll(p, 4, done ? 50 : -1) == 0 && done)
			break; /* the command is gone and its pty has been quiet: what is left belongs to nobody */
		if (p[0].revents) {
			struct signalfd_siginfo si;
			pid_t w;
			while (read(sigfd, &si, sizeof(si)) == sizeof(si))
				;
			while ((w = waitpid(-1, &status, WNOHANG)) > 0) /* PID 1 reaps every orphan */
				if (w == pid)
					done = true;
			if (done)
				pid = -1;
		}
		if (p[1].revents & POLLIN)
			ctl_input(fds[CH_CTL], master, line, &llen);
		if (master >= 0 && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(master, buf, sizeof(buf));
			if (n > 0)
				write_full(term_out, buf, (size_t)n);
			else if (n < 0 && errno != EAGAIN && errno != EINTR && done)
				break; /* EIO: every slave fd is closed and all output is out */
		}
		if (master >= 0 && plen && (p[2].revents & POLLOUT)) {
			ssize_t n = write(master, pend + poff, plen);
			if (n > 0) {
				poff += (size_t)n;
				plen -= (size_t)n;
			}
		}
		if (p[3].fd >= 0 && (p[3].revents & (POLLIN | POLLHUP))) {
			ssize_t n = read(fds[CH_STDIN], pend, sizeof(pend));
			if (n <= 0)
				in_open = false; /* lkvm's terminal input ended */
			else {
				plen = (size_t)n;
				poff = 0;
			}
		}
	}
	return status;
}

void spawn_and_report(const struct req *r)
{
	int fds[NR_CH], master = -1, slave = -1, term_out = -1, sigfd, status, code;
	sigset_t chld;
	pid_t pid;

	open_channels(fds);
	if (strchr(r->ttys, '0') && (strchr(r->ttys, '1') || strchr(r->ttys, '2'))) {
		/* lkvm's stdin is a terminal (and its stdout or stderr): the command gets one too, of the same size; the
		 * pty's output goes where the terminal is (a redirected stdout keeps its own port, byte-exact) */
		term_out = fds[strchr(r->ttys, '1') ? CH_STDOUT : CH_STDERR];
		struct winsize ws = { .ws_row = (unsigned short)r->rows, .ws_col = (unsigned short)r->cols };
		master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
		if (master < 0 || grantpt(master) || unlockpt(master) ||
		    (slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
			fail("cannot make a pty for the command: %s", strerror(errno));
		if (r->rows && r->cols)
			ioctl(master, TIOCSWINSZ, &ws);
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	dprintf(ctl_fd, "start\n");
	pid = fork();
	if (pid < 0)
		fail("cannot start the command: %s", strerror(errno));
	if (pid == 0) {
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		child(r, fds, slave);
	}
	if (slave >= 0)
		close(slave);
	status = wait_command(pid, master, term_out, fds, sigfd);
	code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 125;
	sync(); /* the shares are written through; this is for anything a driver still holds */
	dprintf(ctl_fd, "exit %d\n", code);
	/* lkvm stops the guest on this line; power off in case it does not */
	sleep(5);
	reboot(RB_POWER_OFF);
	_exit(0);
}

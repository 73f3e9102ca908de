/*
 * ptyrun: run a command on a pseudo-terminal, type keys once a marker appears, report the terminal's state.
 * PTYRUN_SIZE="ROWS COLS" gives the terminal that size (and makes it the command's controlling terminal, so it gets
 * SIGWINCH); PTYRUN_RESIZE="ROWS COLS" changes the size when the marker appears, before the keys are typed.
 * PTYRUN_RELAY=1 also copies ptyrun's own input to the terminal as it comes, 32 bytes every 50 ms as if typed (a
 * program that reads its console only from a terminal, driven through a FIFO: the bench's reference VMM, whose
 * emulated UART drops what is pasted beyond its 64-byte FIFO). SIGTERM, SIGINT and SIGHUP are passed on to the
 * command (it runs in a session of its own), and ptyrun ends when it does.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* "\xNN" and "\n" escapes, so control keys (Ctrl-A = \x01) can be given on a command line. */
static size_t unescape(const char *in, char *out)
{
	size_t n = 0;
	while (*in) {
		if (in[0] == '\\' && in[1] == 'x' && in[2] && in[3]) {
			char hex[3] = { in[2], in[3], 0 };
			out[n++] = (char)strtol(hex, NULL, 16);
			in += 4;
		} else if (in[0] == '\\' && in[1] == 'n') {
			out[n++] = '\n';
			in += 2;
		} else {
			out[n++] = *in++;
		}
	}
	return n;
}

/* The terminal's size from the environment variable var ("ROWS COLS"), if it is set. */
static bool set_size(int master, const char *var)
{
	struct winsize ws = { 0 };
	unsigned int r = 0, c = 0;

	if (!getenv(var))
		return false;
	sscanf(getenv(var), "%u %u", &r, &c);
	ws.ws_row = (unsigned short)r;
	ws.ws_col = (unsigned short)c;
	ioctl(master, TIOCSWINSZ, &ws);
	return true;
}

static volatile sig_atomic_t child;

static void pass_on(int sig)
{
	if (child > 0)
		kill(child, sig);
}

int main(int argc, char **argv)
{
	char keys[256], buf[4096], seen[8192] = "";
	size_t nkeys, seen_len = 0;
	struct termios before, during, after;
	int master, slave, status = 0;
	bool typed = false, raw_seen = false, relay;
	pid_t pid;

	if (argc < 5 || strcmp(argv[3], "--")) {
		fprintf(stderr, "usage: ptyrun MARKER KEYS -- COMMAND [ARGS...]\n");
		return 2;
	}
	nkeys = unescape(argv[2], keys);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master) || (slave = open(ptsname(master), O_RDWR | O_NOCTTY)) < 0) {
		perror("ptyrun: pty");
		return 2;
	}
	set_size(master, "PTYRUN_SIZE");
	tcgetattr(slave, &before);
	pid = fork();
	if (pid == 0) {
		setsid();
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		close(master);
		if (getenv("PTYRUN_SIZE"))
			ioctl(0, TIOCSCTTY, 0);
		execvp(argv[4], argv + 4);
		_exit(127);
	}
	relay = getenv("PTYRUN_RELAY") != NULL;
	child = pid;
	{
		struct sigaction sa = { .sa_handler = pass_on };
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = master, .events = POLLIN }, { .fd = relay ? 0 : -1, .events = POLLIN } };
		ssize_t n;
		if (poll(p, 2, 200) > 0 && p[1].revents) {
			n = read(0, buf, 32);
			if (n <= 0)
				relay = false;
			else if (write(master, buf, (size_t)n) != n)
				perror("ptyrun: relay");
			else
				usleep(50000);
		}
		if (p[0].revents) {
			n = read(master, buf, sizeof(buf));
			if (n <= 0)
				break;
			fwrite(buf, 1, (size_t)n, stdout);
			fflush(stdout);
			if (!typed && seen_len + (size_t)n < sizeof(seen) - 1) {
				memcpy(seen + seen_len, buf, (size_t)n);
				seen_len += (size_t)n;
				seen[seen_len] = 0;
			}
		}
		if (!typed && strstr(seen, argv[1])) {
			tcgetattr(slave, &during);
			raw_seen = !(during.c_lflag & (ICANON | ECHO | ISIG));
			if (set_size(master, "PTYRUN_RESIZE"))
				usleep(300000); /* the size change reaches the command before the keys do */
			if (write(master, keys, nkeys) != (ssize_t)nkeys)
				perror("ptyrun: write");
			typed = true;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			pid = 0;
			break;
		}
	}
	for (;;) { /* what the command wrote just before it ended */
		struct pollfd p = { .fd = master, .events = POLLIN };
		ssize_t n;
		if (poll(&p, 1, 0) <= 0 || (n = read(master, buf, sizeof(buf))) <= 0)
			break;
		fwrite(buf, 1, (size_t)n, stdout);
	}
	fflush(stdout);
	if (pid)
		waitpid(pid, &status, 0);
	tcgetattr(slave, &after);
	printf("\nPTYRUN exit=%d typed=%s raw_during=%s termios_after=%s\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
	       typed ? "yes" : "no", raw_seen ? "yes" : "no",
	       before.c_lflag == after.c_lflag && before.c_iflag == after.c_iflag && before.c_oflag == after.c_oflag ?
		       "restored" :
		       "changed");
	return 0;
}

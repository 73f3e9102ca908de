/* The runner's channels: the multiport console (stdin, stdout, stderr, control), the main loop hook, the kernel log. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "kvm/virtio.h"
#include "runcmd-int.h"

static void sample(struct runcmd *rc, u64 *steal, struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	for (unsigned int i = 0; steal && i < rc->kvm->nr_cpus; i++)
		if (pvtime_read_stolen(rc->kvm, i, &steal[i]))
			steal[i] = 0;
}

/*
 * One line from the guest init on the control port (worker thread): "start" (the command is about to run),
 * "exit N" (its status), "fail REASON" (the guest could not run it). Anything else is ignored.
 */
static void ctl_line(struct runcmd *rc, const char *l)
{
	int state = __atomic_load_n(&rc->state, __ATOMIC_ACQUIRE);
	char *end;
	long v;

	if (!strcmp(l, "start")) {
		if (state == RUN_BOOTING) {
			sample(rc, rc->steal0, &rc->t0);
			__atomic_store_n(&rc->state, RUN_STARTED, __ATOMIC_RELEASE);
		}
	} else if (!strncmp(l, "exit ", 5)) {
		v = strtol(l + 5, &end, 10);
		if (*end || end == l + 5 || v < 0 || v > 255 || state >= RUN_EXITED)
			return;
		sample(rc, rc->steal1, &rc->t1);
		rc->status = (int)v;
		__atomic_store_n(&rc->state, RUN_EXITED, __ATOMIC_RELEASE);
		kvm_request_stop(rc->kvm, (int)v);
	} else if (!strncmp(l, "fail ", 5) && state < RUN_EXITED) {
		snprintf(rc->why, sizeof(rc->why), "%s", l + 5);
		__atomic_store_n(&rc->state, RUN_FAILED, __ATOMIC_RELEASE);
		kvm_request_stop(rc->kvm, RUNCMD_FAILED);
	}
}

/* Guest output on a port without an fd: the control port's lines (the stdin port's output has nowhere to go). */
static void port_data(void *ctx, unsigned int port, const u8 *buf, size_t len)
{
	struct runcmd *rc = ctx;

	if (port != PORT_CTL)
		return;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			rc->line[rc->line_len] = '\0';
			ctl_line(rc, rc->line);
			rc->line_len = 0;
		} else if (rc->line_len + 1 < sizeof(rc->line)) {
			rc->line[rc->line_len++] = buf[i] ? (char)buf[i] : ' ';
		}
	}
}

static void out_error(void *ctx, unsigned int port, int err)
{
	struct runcmd *rc = ctx;

	if (err == EPIPE) {
		/* the reader went away: stdout ends the run as a killed writer would end; a closed stderr is let be */
		if (port == PORT_STDOUT) {
			rc->out_closed = true;
			kvm_request_stop(rc->kvm, 128 + SIGPIPE);
		}
		return;
	}
	rc->out_errno = err;
	pr_err("cannot write the command's %s: %s; stopping the guest", port == PORT_STDOUT ? "stdout" : "stderr",
	       strerror(err));
	kvm_request_stop(rc->kvm, RUNCMD_FAILED);
}

static const struct vserial_ops channel_ops = { .data = port_data, .out_error = out_error };

/* stdin (through lkvm's console input, Ctrl-A x filtered on a terminal) to the command's stdin port */
static size_t stdin_rx(struct kvm *kvm, const unsigned char *buf, size_t len)
{
	return vserial_input(kvm->runcmd->vs, PORT_STDIN, buf, len);
}

void runcmd_klog_drain(struct runcmd *rc)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(rc->klog_r, buf, sizeof(buf))) > 0) {
		size_t k = 0;
		for (ssize_t i = 0; i < n; i++) /* the console's CRs are dropped: the log reads as a text file */
			if (buf[i] != '\r')
				buf[k++] = buf[i];
		if (rc->klog_file >= 0 && k && write(rc->klog_file, buf, k) != (ssize_t)k) {
			pr_warn("--kernel-log: cannot write: %s; the rest of the kernel log is not kept", strerror(errno));
			close(rc->klog_file);
			rc->klog_file = -1;
		}
		if (rc->klog_len + k > KLOG_KEEP) { /* keep the newest: drop from the front */
			size_t drop = rc->klog_len + k - KLOG_KEEP;
			memmove(rc->klog, rc->klog + drop, rc->klog_len - drop);
			rc->klog_len -= drop;
		}
		memcpy(rc->klog + rc->klog_len, buf, k);
		rc->klog_len += k;
	}
}

static void send_winsize(struct runcmd *rc)
{
	struct winsize ws;
	char msg[64];
	int n;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
		return;
	n = snprintf(msg, sizeof(msg), "winsize %u %u\n", ws.ws_row, ws.ws_col);
	vserial_input(rc->vs, PORT_CTL, (const u8 *)msg, (size_t)n);
}

static int hook_fds(struct kvm *kvm, struct pollfd *p, int max)
{
	struct runcmd *rc = kvm->runcmd;
	int n = 0;

	if (n < max)
		p[n++] = (struct pollfd){ .fd = rc->klog_r, .events = POLLIN };
	if (n < max && rc->winch_fd >= 0)
		p[n++] = (struct pollfd){ .fd = rc->winch_fd, .events = POLLIN };
	return n;
}

static void hook_ready(struct kvm *kvm, const struct pollfd *p, int n)
{
	struct runcmd *rc = kvm->runcmd;

	for (int i = 0; i < n; i++) {
		if (!p[i].revents)
			continue;
		if (p[i].fd == rc->klog_r) {
			runcmd_klog_drain(rc);
		} else if (p[i].fd == rc->winch_fd) {
			struct signalfd_siginfo si;
			while (read(rc->winch_fd, &si, sizeof(si)) == sizeof(si))
				;
			send_winsize(rc);
		}
	}
}

/* --timeout: how long the main loop may sleep; at the deadline the guest is stopped (124). */
static int hook_timeout(struct kvm *kvm)
{
	struct runcmd *rc = kvm->runcmd;
	struct timespec now;
	long long ms;

	if (!kvm->cfg.run.timeout_ms || rc->timed_out)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (rc->deadline.tv_sec - now.tv_sec) * 1000LL + (rc->deadline.tv_nsec - now.tv_nsec + 999999) / 1000000;
	if (ms > 0)
		return ms > INT_MAX ? INT_MAX : (int)ms;
	if (__atomic_load_n(&rc->state, __ATOMIC_ACQUIRE) < RUN_EXITED) {
		rc->timed_out = true;
		kvm_request_stop(kvm, RUNCMD_TIMEOUT);
	}
	return -1;
}

static void hook_input_eof(struct kvm *kvm)
{
	vserial_input_eof(kvm->runcmd->vs, PORT_STDIN);
}

void runcmd_channel_setup(struct runcmd *rc)
{
	static const char *const names[NR_PORTS] = PORT_NAMES;
	const int out_fds[NR_PORTS] = { -1, STDOUT_FILENO, STDERR_FILENO, -1 };
	struct kvm *kvm = rc->kvm;

	rc->steal0 = calloc(kvm->nr_cpus, sizeof(u64));
	rc->steal1 = calloc(kvm->nr_cpus, sizeof(u64));
	rc->vs = vserial_create(&kvm->ram, NR_PORTS, names, out_fds, &channel_ops, rc);
	if (!rc->vs || !rc->steal0 || !rc->steal1)
		die("the command's channels: out of memory");
	virtio_attach(kvm, &rc->vs->vdev, "the command's channels (virtio-console)");
	kvm->console_rx = stdin_rx;
	rc->hook = (struct kvm_loop_hook){
		.fds = hook_fds,
		.ready = hook_ready,
		.timeout_ms = hook_timeout,
		.input_eof = hook_input_eof,
	};
	kvm->loop_hook = &rc->hook;
}

/* The runner's state inside lkvm (runcmd/ only): the channel device, the kernel log, the command's result. */
#ifndef LKVM_RUNCMD_INT_H
#define LKVM_RUNCMD_INT_H

#include <time.h>

#include "kvm/kvm.h"
#include "kvm/vserial.h"

/* The channel's ports, in the order the guest's driver adds them (control last: see init/run.c). */
enum { PORT_STDIN = 0, PORT_STDOUT, PORT_STDERR, PORT_CTL, NR_PORTS };
#define PORT_NAMES { "lkvm.stdin", "lkvm.stdout", "lkvm.stderr", "lkvm.ctl" }

#define KLOG_KEEP 32768 /* bytes of the kernel log kept for the tail printed with status 125 */
#define KLOG_TAIL 30

enum runcmd_state { RUN_BOOTING = 0, RUN_STARTED, RUN_EXITED, RUN_FAILED };

struct runcmd {
	struct kvm *kvm;
	struct vserial *vs;
	/* The kernel log: the console's output through a pipe, read by the main thread. */
	int klog_r, klog_w, klog_file;
	char klog[KLOG_KEEP];
	size_t klog_len;
	int winch_fd; /* SIGWINCH (a terminal's size changed), -1 without a terminal */
	struct timespec deadline; /* --timeout, from lkvm's start */
	bool timed_out;
	/* The control port (worker thread): a line of the guest init, then what it said. */
	char line[512];
	size_t line_len;
	int state; /* enum runcmd_state, atomic: the main thread reads it after the stop */
	int status;
	char why[400]; /* RUN_FAILED: the guest's reason */
	bool out_closed; /* stdout's reader went away (EPIPE): 141, as a killed writer */
	int out_errno;   /* another error writing stdout or stderr */
	/* --steal-report: the vCPUs' stolen time and the clock when the command started and ended */
	u64 *steal0, *steal1;
	struct timespec t0, t1;
	struct kvm_loop_hook hook;
};

/* channel.c: the device, the loop hook, the guest init's messages, the kernel log. */
void runcmd_channel_setup(struct runcmd *rc);
void runcmd_klog_drain(struct runcmd *rc);

#endif

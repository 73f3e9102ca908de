/* 'lkvm run': parse the options, build the VM in the documented order, run it until it stops. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "kvm/arm.h"
#include "kvm/builtin.h"
#include "kvm/control.h"
#include "kvm/gdb.h"
#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"
#include "kvm/metrics.h"
#include "kvm/options.h"
#include "kvm/sandbox.h"
#include "kvm/serial8250.h"

static size_t console_take(void *ctx, const unsigned char *buf, size_t len)
{
	struct kvm *kvm = ctx;
	return kvm->console_rx(kvm, buf, len);
}

/* Hand held host input to the guest console, as much as its driver takes now; the rest stays held. */
static void console_flush(struct kvm *kvm)
{
	console_buf_drain(&kvm->term.in, console_take, kvm);
}

#define CONSOLE_READ 4096

static void console_read(struct kvm *kvm)
{
	struct term *t = &kvm->term;
	/* term_filter() can emit one byte more than it reads (a Ctrl-A held over from the previous read). */
	unsigned char in[CONSOLE_READ], out[CONSOLE_READ + 1];
	size_t want = t->is_tty ? sizeof(in) : console_buf_space(&t->in), len;
	bool quit, first;
	ssize_t n;

	if (want > sizeof(in))
		want = sizeof(in);
	n = read(t->in_fd, in, want);

	if (n < 0) {
		if (errno != EINTR && errno != EAGAIN)
			t->eof = true;
		return;
	}
	if (n == 0) {
		t->eof = true; /* the guest keeps running; it just gets no more input */
		return;
	}
	len = term_filter(t, in, (size_t)n, out, &quit);
	if (console_buf_put(&t->in, out, len, &first) && first)
		pr_warn("console input: the guest has not taken the last 64 KiB; dropping what is typed until it does "
			"(shown once)");
	if (quit) {
		pr_info("Ctrl-A x: stopping the guest");
		kvm_request_stop(kvm, 0);
		return;
	}
	console_flush(kvm);
}

/* The main thread: wait for the stop request, signals and console input (and the loop hook's fds). */
#define MAIN_HOOK_FDS 4
static int main_loop(struct kvm *kvm, int sig_fd)
{
	const struct kvm_loop_hook *hook = kvm->loop_hook;
	bool eof_told = false;

	for (;;) {
		struct pollfd p[4 + MAIN_HOOK_FDS] = {
			{ .fd = kvm->done_fd, .events = POLLIN },
			{ .fd = sig_fd, .events = POLLIN },
			{ .fd = -1, .events = POLLIN },
			{ .fd = kvm->ctl_fd, .events = POLLIN },
		};
		bool backlog = kvm->term.in.len > 0;
		int nh = hook && hook->fds ? hook->fds(kvm, p + 4, MAIN_HOOK_FDS) : 0;
		int tmo = backlog ? 10 : -1, ht = hook && hook->timeout_ms ? hook->timeout_ms(kvm) : -1;

		if (ht >= 0 && (tmo < 0 || ht < tmo))
			tmo = ht;
		/* a pipe is read only while the ring has room: it waits in the pipe instead of being dropped */
		if (!kvm->term.eof && (kvm->term.is_tty || console_buf_space(&kvm->term.in) >= CONSOLE_READ))
			p[2].fd = kvm->term.in_fd;
		if (poll(p, (nfds_t)(4 + nh), tmo) < 0 && errno != EINTR)
			die_perror("poll");
		if (p[0].revents & POLLIN)
			break;
		if (hook && hook->ready)
			hook->ready(kvm, p + 4, nh);
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
				pr_info("stopping the guest on signal %u", si.ssi_signo);
				kvm_request_stop(kvm, 128 + (int)si.ssi_signo);
			}
			continue;
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
			console_read(kvm);
		if (p[3].revents & POLLIN)
			control_serve_one(kvm);
		if (backlog)
			console_flush(kvm);
		if (hook && hook->input_eof && !eof_told && kvm->term.eof && !kvm->term.in.len) {
			eof_told = true;
			hook->input_eof(kvm);
		}
	}
	return kvm->exit_code;
}

struct kvm *kvm_alloc(const char *name)
{
	struct kvm *kvm = calloc(1, sizeof(*kvm));

	if (!kvm)
		die("out of memory");
	kvm->sys_fd = kvm->vm_fd = kvm->ctl_fd = -1;
	kvm->kernel_fd = kvm->initrd_fd = -1;
	kvm->console_out_fd = STDOUT_FILENO;
	kvm->arch.gic_fd = kvm->arch.its_fd = -1;
	if (name && !control_name_ok(name))
		die("--name '%s': use letters, digits, '-', '_' and '.' (at most 64)", name);
	if (name)
		snprintf(kvm->name, sizeof(kvm->name), "%s", name);
	else
		snprintf(kvm->name, sizeof(kvm->name), "guest-%d", (int)getpid());
	pthread_mutex_init(&kvm->stop_lock, NULL);
	pthread_mutex_init(&kvm->pause_lock, NULL);
	pthread_cond_init(&kvm->pause_cond, NULL);
	kvm->done_fd = eventfd(0, EFD_CLOEXEC);
	if (kvm->done_fd < 0)
		die_perror("eventfd");
	return kvm;
}

int kvm_run_vm(struct kvm *kvm)
{
	sigset_t sigs;
	int sig_fd, code;

	control_listen(kvm);
	/* Signals go to the main thread only, through a signalfd. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sig_fd < 0)
		die_perror("signalfd");

	term_init(&kvm->term, STDIN_FILENO, STDOUT_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &kvm->start_time);
	kvm_cpu_start_all(kvm);
	metrics_start(kvm); /* KVM stats fds, and the --metrics thread (it filters itself as it starts) */
	gdb_start(kvm);     /* --gdb: the stub's thread (it filters itself too) */
	/* Every thread is now in its sandbox (workers and vCPUs filter themselves as they start): the main thread last,
	 * since threads inherit their creator's filter. Only then does the guest run. */
	{
		int r = sandbox_enter(SANDBOX_MAIN, kvm_sandbox_mode(kvm));
		if (r)
			die("cannot install the seccomp filter: %s (--no-seccomp runs without)", strerror(-r));
	}
	kvm_cpu_open_gate(kvm);
	code = main_loop(kvm, sig_fd);
	kvm_cpu_stop_all(kvm);
	kvm_stop_helpers(kvm);
	gdb_cleanup(kvm);
	control_cleanup(kvm);
	metrics_cleanup(kvm);
	term_restore(&kvm->term);
	return code;
}

int cmd_run(int argc, const char **argv)
{
	struct kvm_config cfg;
	struct kvm *kvm;
	char err[512];
	bool help;

	if (run_parse_args(argc, argv, &cfg, &help, err, sizeof(err)))
		die("%s (see 'lkvm run --help')", err); /* with '--' or --exec in argv: status 125 (run_parse_args) */
	if (help) {
		run_usage(stdout);
		return 0;
	}
	if (cfg.gdb_wait && !cfg.gdb)
		die("--gdb-wait needs --gdb ADDRESS (e.g. --gdb tcp:1234)");
	kvm = kvm_alloc(cfg.name);
	kvm->cfg = cfg;

	/*
	 * Host capabilities first (KVM, vCPU limit, interrupt controller), as kvmtool does: a payload is only opened
	 * when this host could run it, which is what kvm-unit-tests' "_NO_FILE_4Uhere_" probe looks for. Then the
	 * payload, then the bring-up order KVM requires.
	 */
	if (cfg.metrics)
		metrics_listen(kvm, cfg.metrics); /* a taken port fails now, before anything is built */
	if (cfg.gdb)
		gdb_setup(kvm, cfg.gdb, cfg.gdb_wait);
	kvm_open(kvm);
	gic_probe(kvm);
	if (runcmd_wanted(&kvm->cfg.run))
		runcmd_setup(kvm); /* -- CMD: the kernel, lkvm's initramfs with the command, the shares, the kernel log */
	else if (!kvm->cfg.kernel)
		host_shell_setup(kvm); /* no -k: the host's own kernel, an initramfs of lkvm's, the host's / over 9p */
	kvm_validate_payload(kvm);
	kvm_create_vm(kvm);
	kvm_load_payload(kvm);
	kvm_cpu_create_all(kvm);
	gic_setup(kvm);
	arm_pmu_setup(kvm);
	pvtime_setup_vcpus(kvm);
	kvm_setup_devices(kvm);
	if (kvm->runcmd)
		runcmd_setup_devices(kvm);
	kvm_write_fdt(kvm);
	kvm_cpu_arch_set_boot_regs(kvm->cpus[0], kvm->layout.kernel_entry, kvm->layout.dtb_addr);
	if (kvm->runcmd)
		return runcmd_finish(kvm, kvm_run_vm(kvm));
	return kvm_run_vm(kvm);
}

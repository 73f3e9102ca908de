/* The 'lkvm run' option table and its parser (host-testable: no KVM calls). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kvm/builtin.h"
#include "kvm/kvm.h"
#include "kvm/gdb.h"
#include "kvm/metrics.h"
#include "kvm/options.h"
#include "kvm/runcmd.h"
#include "kvm/virtio-blk.h"
#include "kvm/virtio-9p.h"
#include "kvm/virtio-net.h"

#define RUN_USAGE "lkvm run [<options>] [<kernel image>] [-- <command> [<args>...]]"

static int opt_console(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct kvm_config *cfg = ctx;
	(void)o;
	if (!strcmp(arg, "serial"))
		cfg->console = CONSOLE_SERIAL;
	else if (!strcmp(arg, "virtio"))
		cfg->console = CONSOLE_VIRTIO;
	else {
		snprintf(err, errlen, "--console %s: expected 'serial' or 'virtio'", arg);
		return -1;
	}
	return 0;
}

static int opt_irqchip(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct kvm_config *cfg = ctx;
	(void)o;
	if (!strcmp(arg, "auto"))
		cfg->irqchip = IRQCHIP_AUTO;
	else if (!strcmp(arg, "gicv3"))
		cfg->irqchip = IRQCHIP_GICV3;
	else if (!strcmp(arg, "gicv3-its"))
		cfg->irqchip = IRQCHIP_GICV3_ITS;
	else if (!strcmp(arg, "gicv2"))
		cfg->irqchip = IRQCHIP_GICV2;
	else if (!strcmp(arg, "gicv2m"))
		cfg->irqchip = IRQCHIP_GICV2M; /* kvmtool's spelling; refused against the host before anything loads */
	else {
		snprintf(err, errlen, "--irqchip %s: expected auto, gicv3, gicv3-its, gicv2 or gicv2m", arg);
		return -1;
	}
	return 0;
}

/* --virtio-transport pci|mmio (kvmtool's spelling; its legacy variants are refused) */
static int opt_transport(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct kvm_config *cfg = ctx;
	(void)o;
	if (!strcmp(arg, "pci"))
		cfg->virtio_transport = VIRTIO_TRANSPORT_PCI;
	else if (!strcmp(arg, "mmio"))
		cfg->virtio_transport = VIRTIO_TRANSPORT_MMIO;
	else if (!strcmp(arg, "pci-legacy") || !strcmp(arg, "mmio-legacy")) {
		snprintf(err, errlen, "--virtio-transport %s: lkvm implements modern (VIRTIO 1.x) virtio only; use pci or "
			 "mmio", arg);
		return -1;
	} else {
		snprintf(err, errlen, "--virtio-transport %s: expected pci or mmio", arg);
		return -1;
	}
	return 0;
}

/* -n/--network mode=user[,...] | mode=tap[,tapif=NAME][,guest_mac=MAC] | mode=none (kvmtool's spelling); repeatable. */
static int opt_network(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct kvm_config *cfg = ctx;
	struct virtio_net_params p;
	(void)o;
	if (virtio_net_parse_spec(arg, &p, err, errlen))
		return -1;
	if (!p.tap && !p.user)
		return 0; /* mode=none: no NIC */
	if (cfg->nr_nets >= ARRAY_SIZE(cfg->nets)) {
		snprintf(err, errlen, "-n/--network %s: at most %zu network devices", arg, ARRAY_SIZE(cfg->nets));
		return -1;
	}
	cfg->nets[cfg->nr_nets++] = arg;
	cfg->vhost_nets |= p.vhost;
	return 0;
}

/* -d/--disk FILE[,ro] (kvmtool's spelling); repeatable. A directory is the root filesystem over 9p. */
static int opt_disk(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct kvm_config *cfg = ctx;
	struct stat st;
	size_t plen;
	bool ro;
	(void)o;
	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (cfg->rootdir) {
			snprintf(err, errlen, "-d/--disk %s: only one directory can be the root filesystem (%s already is); "
				 "share more with --9p DIR,TAG", arg, cfg->rootdir);
			return -1;
		}
		cfg->rootdir = arg;
		return 0;
	}
	if (virtio_blk_parse_spec(arg, &plen, &ro, NULL, err, errlen))
		return -1;
	if (cfg->nr_disks >= ARRAY_SIZE(cfg->disks)) {
		snprintf(err, errlen, "-d/--disk %s: at most %zu disks", arg, ARRAY_SIZE(cfg->disks));
		return -1;
	}
	cfg->disks[cfg->nr_disks++] = arg;
	return 0;
}

/* --9p DIR,TAG[,ro] (kvmtool's spelling); repeatable. */
static int opt_9p(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct kvm_config *cfg = ctx;
	struct virtio_9p_spec sp;
	(void)o;
	if (virtio_9p_parse_spec(arg, &sp, err, errlen))
		return -1;
	free(sp.dir);
	if (cfg->nr_shares >= ARRAY_SIZE(cfg->shares)) {
		snprintf(err, errlen, "--9p %s: at most %zu shares", arg, ARRAY_SIZE(cfg->shares));
		return -1;
	}
	cfg->shares[cfg->nr_shares++] = arg;
	return 0;
}

static int opt_loglevel(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	enum log_level lvl;
	(void)o;
	(void)ctx;
	if (log_parse_level(arg, &lvl)) {
		snprintf(err, errlen, "--loglevel %s: expected error, warning, info or debug", arg);
		return -1;
	}
	log_set_level(lvl);
	return 0;
}

/* --metrics unix:PATH|tcp:[ADDR:]PORT: checked here, opened by metrics_listen() before the VM is built. */
static int opt_metrics(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct kvm_config *cfg = ctx;
	struct migrate_addr a;
	(void)o;
	if (metrics_addr_parse(arg, &a, err, errlen))
		return -1;
	cfg->metrics = arg;
	return 0;
}

/* --gdb tcp:[ADDR:]PORT|unix:PATH: checked here, opened by gdb_setup() before the VM is built. */
static int opt_gdb(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct kvm_config *cfg = ctx;
	struct migrate_addr a;
	(void)o;
	if (gdb_addr_parse(arg, &a, err, errlen))
		return -1;
	cfg->gdb = arg;
	return 0;
}

static int opt_pvtime(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct kvm_config *cfg = ctx;
	(void)o;
	if (pvtime_parse_mode(arg, &cfg->pvtime)) {
		snprintf(err, errlen, "--pvtime=%s: expected on, off or auto", arg);
		return -1;
	}
	return 0;
}

static int opt_no_pvtime(const struct option_desc *o, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct kvm_config *cfg = ctx;
	(void)o;
	(void)arg;
	(void)err;
	(void)errlen;
	cfg->pvtime = PVTIME_OFF;
	return 0;
}

/* Fills opts (at least RUN_MAX_OPTS entries) with the table for 'lkvm run', bound to cfg and *help. */
#define RUN_MAX_OPTS 64
static void run_options(struct option_desc *opts, struct kvm_config *cfg, bool *help)
{
	const struct option_desc table[] = {
		{ 0, NULL, OPT_GROUP, NULL, NULL, "Basic options", NULL, 0 },
		{ 0, "name", OPT_STRING, &cfg->name, "name", "A name for the guest (control socket, lkvm list)", NULL, 0 },
		{ 'c', "cpus", OPT_UINT, &cfg->nr_cpus, "n", "Number of vCPUs", NULL, 0 },
		{ 'm', "mem", OPT_U64, &cfg->ram_mib, "size", "Guest RAM in MiB", NULL, 0 },
		{ 0, "hugetlbfs", OPT_STRING, &cfg->hugetlbfs, "path", "Back guest RAM with huge pages from this hugetlbfs mount",
		  NULL, 0 },
		{ 0, NULL, OPT_GROUP, NULL, NULL, "Kernel options", NULL, 0 },
		{ 'k', "kernel", OPT_STRING, &cfg->kernel, "kernel", "arm64 Image (or raw binary) to boot", NULL, 0 },
		{ 'i', "initrd", OPT_STRING, &cfg->initrd, "initrd", "Initial RAM disk", NULL, 0 },
		{ 'p', "params", OPT_STRING, &cfg->params, "params", "Kernel command line", NULL, 0 },
		{ 0, "nodefaults", OPT_BOOL, &cfg->nodefaults, NULL, "Append nothing to the kernel command line", NULL, 0 },
		{ 0, "dump-dtb", OPT_STRING, &cfg->dump_dtb, "file", "Write the device tree to file and exit", NULL, 0 },
		{ 0, NULL, OPT_GROUP, NULL, NULL, "Devices", NULL, 0 },
		{ 0, "console", OPT_CALLBACK, NULL, "serial|virtio", "Guest console device", opt_console, 0 },
		{ 'd', "disk", OPT_CALLBACK, NULL, "image[,ro]",
		  "Raw disk image as a virtio-blk device (up to 8); a directory is the root filesystem over 9p",
		  opt_disk, 0 },
		{ 0, "9p", OPT_CALLBACK, NULL, "dir,tag[,ro]", "Share a host directory over virtio-9p (up to 8)", opt_9p,
		  0 },
		{ 'n', "network", OPT_CALLBACK, NULL, "params",
		  "virtio-net: mode=user[,hostfwd=tcp|udp:[ADDR:]HPORT-:GPORT]...[,socket=PATH] (passt, no root), "
		  "mode=tap[,tapif=NAME][,vhost=on], or mode=none; guest_mac=MAC with either", opt_network, 0 },
		{ 0, "rng", OPT_BOOL, &cfg->rng, NULL, "A virtio-rng device (host getrandom())", NULL, 0 },
		{ 0, "virtio-transport", OPT_CALLBACK, NULL, "pci|mmio", "How virtio devices attach (default pci)",
		  opt_transport, 0 },
		{ 0, "no-ioeventfd", OPT_BOOL, &cfg->no_ioeventfd, NULL,
		  "Handle queue notifications in lkvm, not with KVM ioeventfds (measurements)", NULL, 0 },
		{ 0, NULL, OPT_GROUP, NULL, NULL, "Arm options", NULL, 0 },
		{ 0, "irqchip", OPT_CALLBACK, NULL, "auto|gicv3|gicv3-its|gicv2|gicv2m", "Interrupt controller", opt_irqchip,
		  0 },
		{ 0, "pmu", OPT_BOOL, &cfg->pmu, NULL, "Give each vCPU a PMUv3", NULL, 0 },
		{ 0, "pvtime", OPT_CALLBACK, NULL, "on|off|auto", "PV stolen time (bare --pvtime: on; default auto)",
		  opt_pvtime, OPT_OPTIONAL_ARG },
		{ 0, "no-pvtime", OPT_CALLBACK, NULL, NULL, "Same as --pvtime=off", opt_no_pvtime, OPT_OPTIONAL_ARG },
		{ 0, NULL, OPT_GROUP, NULL, NULL, "Monitoring options", NULL, 0 },
		{ 0, "metrics", OPT_CALLBACK, NULL, "unix:PATH|tcp:[ADDR:]PORT",
		  "Serve OpenMetrics / Prometheus text at http://.../metrics (ADDR default 127.0.0.1)", opt_metrics, 0 },
		{ 0, NULL, OPT_GROUP, NULL, NULL, "Run a command (lkvm run [options] -- CMD [ARGS...])", NULL, 0 },
		{ 0, "exec", OPT_STRING, &cfg->run.exec, "line", "Run this shell line (/bin/sh -c) instead of CMD", NULL, 0 },
		{ 0, "kdir", OPT_STRING, &cfg->run.kdir, "dir",
		  "Boot a kernel build tree: its arch/arm64/boot/Image and its modules", NULL, 0 },
		{ 0, "timeout", OPT_CALLBACK, NULL, "seconds", "Stop the guest after this long: status 124",
		  runcmd_opt_timeout, 0 },
		{ 0, "rwdir", OPT_CALLBACK, NULL, "dir", "Share this host directory read-write too (repeatable)",
		  runcmd_opt_rwdir, 0 },
		{ 0, "rw", OPT_BOOL, &cfg->run.rw, NULL, "The host's / writable (no copy-on-write overlay)", NULL, 0 },
		{ 0, "root", OPT_BOOL, &cfg->run.root, NULL, "Run the command as root in the guest", NULL, 0 },
		{ 0, "env", OPT_CALLBACK, NULL, "name[=value]", "Pass this environment variable (repeatable)",
		  runcmd_opt_env, 0 },
		{ 0, "kernel-log", OPT_STRING, &cfg->run.kernel_log, "file", "Keep the guest kernel's messages in this file",
		  NULL, 0 },
		{ 0, "steal-report", OPT_CALLBACK, NULL, "json", "Print the stolen time over the command at exit",
		  runcmd_opt_steal, OPT_OPTIONAL_ARG },
		{ 0, NULL, OPT_GROUP, NULL, NULL, "Debug options", NULL, 0 },
		{ 0, "gdb", OPT_CALLBACK, NULL, "tcp:[ADDR:]PORT|unix:PATH",
		  "Serve the GDB remote protocol for the guest (ADDR default 127.0.0.1)", opt_gdb, 0 },
		{ 0, "gdb-wait", OPT_BOOL, &cfg->gdb_wait, NULL, "With --gdb: the guest starts only when gdb continues it",
		  NULL, 0 },
		{ 0, "loglevel", OPT_CALLBACK, NULL, "error|warning|info|debug", "Verbosity of lkvm's messages",
		  opt_loglevel, 0 },
		{ 0, "no-seccomp", OPT_BOOL, &cfg->no_seccomp, NULL,
		  "Run without the seccomp sandbox (to find out whether it is what stops lkvm)", NULL, 0 },
		{ 0, "seccomp-log", OPT_BOOL, &cfg->seccomp_log, NULL,
		  "Sandbox in log mode: refused calls are allowed and logged in the kernel log (audit)", NULL, 0 },
		{ 'h', "help", OPT_BOOL, help, NULL, "Show this help", NULL, 0 },
		{ 0, NULL, OPT_END, NULL, NULL, NULL, NULL, 0 },
	};
	_Static_assert(sizeof(table) / sizeof(table[0]) <= RUN_MAX_OPTS, "grow RUN_MAX_OPTS");
	memcpy(opts, table, sizeof(table));
}

int run_parse_args(int argc, const char **argv, struct kvm_config *cfg, bool *help, char *err, size_t errlen)
{
	struct option_desc opts[RUN_MAX_OPTS];
	const char *pos[1];
	int n, dd;

	memset(cfg, 0, sizeof(*cfg));
	cfg->nr_cpus = 1;
	cfg->ram_mib = 256;
	cfg->pvtime = PVTIME_AUTO;
	*help = false;
	run_options(opts, cfg, help);
	dd = options_dashdash(opts, argc, argv);
	/* a command runner: every failure before the command runs is status 125 (timeout(1)'s convention) */
	for (int i = 0; i < (dd >= 0 ? dd : argc); i++)
		if (!strcmp(argv[i], "--exec") || !strncmp(argv[i], "--exec=", 7))
			log_set_fatal_status(RUNCMD_FAILED);
	if (dd >= 0)
		log_set_fatal_status(RUNCMD_FAILED);
	if (dd >= 0) {
		cfg->run.argv = argv + dd + 1;
		cfg->run.argc = argc - dd - 1;
		if (!cfg->run.argc) {
			snprintf(err, errlen, "nothing after '--': give the command to run (lkvm run -- CMD [ARGS])");
			return -1;
		}
		argc = dd;
	}
	n = options_parse(opts, argc, argv, cfg, pos, 1, err, errlen);
	if (n < 0)
		return -1;
	if (n == 1) {
		if (cfg->kernel) {
			snprintf(err, errlen, "kernel given twice ('%s' and '%s')", cfg->kernel, pos[0]);
			return -1;
		}
		cfg->kernel = pos[0];
	}
	return runcmd_check_config(&cfg->run, err, errlen);
}

void run_usage(FILE *f)
{
	struct kvm_config cfg;
	struct option_desc opts[RUN_MAX_OPTS];
	bool help;

	run_options(opts, &cfg, &help);
	options_usage(f, RUN_USAGE, opts);
}


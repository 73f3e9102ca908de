/* The VM: configuration from the command line and all run-time state, in one struct. */
#ifndef KVM_KVM_H
#define KVM_KVM_H

#include <pthread.h>
#include <sys/types.h>

#include "kvm/arm-layout.h"
#include "kvm/devices.h"
#include "kvm/guest-mem.h"
#include "kvm/image.h"
#include "kvm/irq-routes.h"
#include "kvm/pvtime.h"
#include "kvm/runcmd.h"
#include "kvm/term.h"
#include "kvm/util.h"

enum console_type { CONSOLE_SERIAL = 0, CONSOLE_VIRTIO };
enum irqchip_type { IRQCHIP_AUTO = 0, IRQCHIP_GICV3, IRQCHIP_GICV3_ITS, IRQCHIP_GICV2, IRQCHIP_GICV2M };
enum virtio_transport_type { VIRTIO_TRANSPORT_PCI = 0, VIRTIO_TRANSPORT_MMIO }; /* pci: kvmtool's default */

struct kvm_config {
	const char *kernel, *initrd, *params, *name, *dump_dtb;
	const char *hugetlbfs; /* --hugetlbfs DIR: guest RAM from that hugetlbfs mount */
	unsigned int nr_cpus;
	u64 ram_mib;
	enum console_type console;
	enum irqchip_type irqchip;
	enum pvtime_mode pvtime;
	bool nodefaults, pmu;
	/* virtio devices (virtio/): */
	const char *disks[8]; /* -d/--disk FILE[,ro] as given (VIRTIO_MAX_DISKS); virtio_blk_parse_spec() splits */
	unsigned int nr_disks;
	const char *nets[4]; /* -n/--network specs with mode=tap (VIRTIO_MAX_NICS); mode=none adds nothing */
	unsigned int nr_nets;
	bool vhost_nets; /* some -n spec asks for vhost=on: --irqchip auto then prefers an ITS (MSI-X over irqfds) */
	bool rng; /* --rng */
	const char *shares[8]; /* --9p DIR,TAG[,ro] as given (VIRTIO_9P_MAX_SHARES); virtio_9p_parse_spec() splits */
	unsigned int nr_shares;
	const char *rootdir; /* -d DIR: a directory as the root filesystem, over 9p with the tag /dev/root */
	enum virtio_transport_type virtio_transport; /* --virtio-transport */
	bool no_ioeventfd; /* --no-ioeventfd: queue notifications exit to lkvm (for measurements) */
	bool no_seccomp, seccomp_log; /* --no-seccomp, --seccomp-log (sandbox.h) */
	const char *gdb;      /* --gdb tcp:[ADDR:]PORT|unix:PATH (debug/) */
	bool gdb_wait;        /* --gdb-wait: no vCPU runs before a debugger continues it */
	const char *metrics; /* --metrics unix:PATH|tcp:[ADDR:]PORT (metrics/) */
	struct runcmd_config run; /* lkvm run [options] -- CMD / --exec LINE (runcmd/) */
};

/* What -d DIR appends to the kernel command line (kvmtool's convention), unless --nodefaults. */
#define LKVM_9P_ROOT_ARGS "root=/dev/root rw rootfstype=9p rootflags=trans=virtio,version=9p2000.L"

struct kvm_cpu;
struct kvm_cpu_hooks;
struct gdb;
struct metrics;
struct pollfd;
struct runcmd;

/* Extra work for the main thread's loop (kvm->loop_hook, NULL when none), e.g. 'lkvm run -- CMD' (runcmd/). */
struct kvm_loop_hook {
	int (*fds)(struct kvm *kvm, struct pollfd *p, int max);        /* fds to poll besides lkvm's own: count */
	void (*ready)(struct kvm *kvm, const struct pollfd *p, int n); /* after every wake-up, with their revents */
	int (*timeout_ms)(struct kvm *kvm);                            /* how long the loop may sleep; -1: no limit */
	void (*input_eof)(struct kvm *kvm); /* stdin ended and all of it was handed to console_rx */
};
struct serial8250;

/*
 * A running migration's progress (snapshot/migrate.c writes it on the main thread with relaxed atomic stores; the
 * metrics thread and others read it the same way). active is false when no migration runs.
 */
struct mig_progress {
	bool active;
	u64 round;             /* pre-copy round, from 1 */
	u64 dirty_pages;       /* 4 KiB pages being sent in this round */
	u64 bytes_sent;        /* stream bytes so far */
	u64 expected_pause_ms; /* what the pause would be if the migration stopped the guest now */
};
struct pci_host;

struct kvm_arch {
	enum irqchip_type gic_type; /* resolved: GICV3, GICV3_ITS or GICV2 */
	int gic_fd, its_fd;
	struct device gic_dev;
	bool nisv_to_user, ext_dabt;
	bool pvtime;         /* records published and programmed */
	u64 mpidr[LKVM_MAX_CPUS];
};

struct kvm {
	struct kvm_config cfg;
	char name[72];      /* --name, or guest-PID */
	char ctl_path[108]; /* control socket (fits sun_path) */
	int ctl_fd;
	dev_t ctl_dev;           /* identity of our socket file, so we never unlink a successor's */
	ino_t ctl_ino;
	unsigned int ctl_wait_ms; /* how long to wait for a live socket of the same name to go away */
	/* Disk image locks (disk-lock.h): how long to wait for a holder that is going away (a restore waits for its
	 * save --stop source); a migration destination opens its disks unlocked and locks them before the hand-over. */
	unsigned int disk_lock_wait_ms;
	bool disk_lock_defer;
	int sys_fd, vm_fd;
	int vcpu_mmap_size;
	unsigned int ipa_bits;
	struct guest_ram ram;
	struct kernel_info kinfo;
	struct boot_layout layout;
	char *bootargs;
	int kernel_fd, initrd_fd; /* open between validation and loading */

	unsigned int nr_cpus;
	struct kvm_cpu **cpus;
	struct device_list devices;
	struct serial8250 *uart;
	/* Where host console input goes (the 8250 by default); returns bytes accepted. */
	size_t (*console_rx)(struct kvm *kvm, const unsigned char *buf, size_t len);
	/* virtio device state (virtio/): */
	unsigned int virtio_slots;                          /* devices created (mmio slot n has SPI ARM_SPI_VIRTIO_BASE + n) */
	struct virtio_dev *virtio[ARM_VIRTIO_MMIO_SLOTS];   /* the devices, in creation order */
	struct virtio_console *virtio_console;              /* console_rx's target with --console virtio */
	struct pci_host *pci;                               /* the PCI host bridge (--virtio-transport pci) */
	struct irq_routes irq_routes;                       /* GSI routes for irqfds on MSIs (vhost-net over PCI) */
	struct term term;
	struct kvm_arch arch;

	/* Stop protocol: the first request wins; the main thread waits on done_fd. */
	pthread_mutex_t stop_lock;
	bool stopping;
	int exit_code;
	int done_fd; /* eventfd */

	/* Pause protocol: vCPUs park outside KVM_RUN (pending MMIO completed) while pause_requested. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_requested;
	pthread_barrier_t start_gate; /* vCPUs wait here, sandboxed, until the main thread is sandboxed too */
	unsigned int parked;
	struct timespec start_time;

	/* Live migration (snapshot/migrate.c), main thread only: a request is running; lkvm's own-writes bitmap, kept
	 * for the VM's lifetime once allocated (a device thread may still hold it just after tracking stops). */
	bool migrating;
	u64 *mig_own_dirty;
	struct mig_progress mig_progress;

	/* Hooks into the vCPU loop (kvm-cpu.h), e.g. the gdb stub's; NULL when none. */
	const struct kvm_cpu_hooks *vcpu_hooks;
	struct gdb *gdb; /* --gdb: the stub (debug/), NULL without */

	/* Live metrics (metrics.h): KVM stats fds, the --metrics endpoint and its thread. */
	struct metrics *metrics;
	/* Where the console (8250, virtio-console) writes guest output: stdout unless a runner takes it (runcmd/). */
	int console_out_fd;
	const struct kvm_loop_hook *loop_hook;
	struct runcmd *runcmd; /* lkvm run -- CMD: the runner's state (runcmd/), NULL otherwise */
};

/* A zeroed VM with its locks and eventfd; name NULL gives guest-PID. */
struct kvm *kvm_alloc(const char *name);
/* Run a fully set-up VM until it stops (control socket, signals, console); returns the exit code. */
int kvm_run_vm(struct kvm *kvm);
/* The seccomp mode the configuration asks for (sandbox.h's enum sandbox_mode). */
static inline int kvm_sandbox_mode(const struct kvm *kvm)
{
	return kvm->cfg.no_seccomp ? 0 /* SANDBOX_OFF */ : kvm->cfg.seccomp_log ? 2 /* SANDBOX_LOG */ : 1 /* SANDBOX_ON */;
}

/* Setup, in order; each returns 0 or dies with one line (setup errors happen before the guest runs). */
/* 'lkvm run' with no -k (host-shell.c): pick the host's kernel, build the initramfs, share / and ~/.lkvm/NAME. */
void host_shell_setup(struct kvm *kvm);
void kvm_validate_payload(struct kvm *kvm); /* files, sizes and layout; no KVM needed */
void kvm_open(struct kvm *kvm);
void kvm_create_vm(struct kvm *kvm);
void kvm_load_payload(struct kvm *kvm);
void kvm_setup_devices(struct kvm *kvm);
void kvm_stop_helpers(struct kvm *kvm); /* at the end: reap the passt processes lkvm started */
void kvm_write_fdt(struct kvm *kvm); /* also handles --dump-dtb */

/* Ask the VM to stop with exit code `code` (first caller wins). Safe from any thread. */
void kvm_request_stop(struct kvm *kvm, int code);
bool kvm_is_stopping(struct kvm *kvm);

/* Park every vCPU outside KVM_RUN (returns once all are parked) / let them run again. */
void kvm_pause(struct kvm *kvm);
void kvm_resume(struct kvm *kvm);
bool kvm_is_paused(struct kvm *kvm);

/* Raise/lower an SPI (0-based) through KVM_IRQ_LINE. */
int kvm_irq_line(struct kvm *kvm, unsigned int spi, int level);

#endif

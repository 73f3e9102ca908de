/* VM lifecycle: validate the payload, open KVM, create the VM and its RAM, load files, write the DTB. */
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm/sandbox.h"
#include "kvm/arm.h"
#include "kvm/fdt.h"
#include "kvm/host-kernel.h"
#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"
#include "kvm/ram.h"
#include "kvm/serial8250.h"
#include "kvm/virtio.h"

#define KVM_API_VERSION_REQUIRED 12

static int open_input(const char *what, const char *path, u64 *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (!strcmp(what, "kernel"))
			die("Unable to open kernel %s", path); /* kvmtool's exact words; scripts grep for them */
		die("Unable to open %s %s: %s", what, path, strerror(errno));
	}
	if (fstat(fd, &st) < 0)
		die("cannot stat %s %s: %s", what, path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		die("%s %s is a directory, not a file", what, path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		die("%s %s is not a regular file", what, path);
	*size = (u64)st.st_size;
	return fd;
}

static u64 mib(u64 bytes)
{
	return (bytes + SZ_1M - 1) / SZ_1M;
}

void kvm_validate_payload(struct kvm *kvm)
{
	struct kvm_config *cfg = &kvm->cfg;
	u8 *head;
	ssize_t n;
	u64 ksize, isize = 0, ram_size, pvsize = 0;
	char err[256];
	int kfd, ifd = -1;
	enum layout_error le;

	if (cfg->nr_cpus == 0)
		die("-c/--cpus 0: a guest needs at least one vCPU");
	if (cfg->nr_cpus > LKVM_MAX_CPUS)
		die("-c/--cpus %u: lkvm supports at most %d vCPUs", cfg->nr_cpus, LKVM_MAX_CPUS);
	if (cfg->ram_mib == 0)
		die("-m/--mem 0: a guest needs memory; give it in MiB, e.g. -m 256");
	if (cfg->ram_mib > (1ULL << 22)) /* 4 TiB */
		die("-m/--mem %llu MiB is more than lkvm supports (4 TiB)", (unsigned long long)cfg->ram_mib);
	kvm->nr_cpus = cfg->nr_cpus;
	ram_size = cfg->ram_mib * SZ_1M;

	if (!cfg->kernel)
		die("no kernel given; use -k/--kernel FILE (an arm64 Image or a raw binary)");
	kfd = open_input("kernel", cfg->kernel, &ksize);
	kfd = gunzip_to_memfd(kfd, 256 * SZ_1M, &ksize, err, sizeof(err)); /* e.g. a distribution's vmlinuz */
	if (kfd < 0)
		die("kernel %s %s", cfg->kernel, err);
	head = calloc(1, SZ_64K);
	if (!head)
		die("out of memory");
	n = pread(kfd, head, SZ_64K, 0);
	if (n < 0)
		die("cannot read kernel %s: %s", cfg->kernel, strerror(errno));
	if (image_classify(head, (size_t)n, ksize, &kvm->kinfo, err, sizeof(err)))
		die("kernel %s %s", cfg->kernel, err);
	free(head);

	if (cfg->initrd) {
		ifd = open_input("initrd", cfg->initrd, &isize);
		if (isize == 0)
			die("initrd %s is empty", cfg->initrd);
	} else if (kvm->initrd_fd >= 0) {
		struct stat st; /* lkvm's own initramfs (host-shell.c), already in memory */
		if (fstat(kvm->initrd_fd, &st) < 0)
			die("internal error: the initramfs vanished: %s", strerror(errno));
		ifd = kvm->initrd_fd;
		isize = (u64)st.st_size;
	}
	if (cfg->pvtime != PVTIME_OFF)
		pvsize = pvtime_region_size(cfg->nr_cpus);

	le = boot_layout_compute(ARM_RAM_BASE, ram_size, &kvm->kinfo, isize, pvsize, &kvm->layout);
	switch (le) {
	case LAYOUT_OK:
		break;
	case LAYOUT_KERNEL_TOO_BIG:
		die("guest memory (%llu MiB) is too small for kernel %s (it needs %llu MiB); raise -m/--mem",
		    (unsigned long long)cfg->ram_mib, cfg->kernel,
		    (unsigned long long)mib(kvm->kinfo.text_offset + kvm->kinfo.image_size + FDT_MAX_SIZE + pvsize));
	case LAYOUT_INITRD_TOO_BIG:
		die("initrd %s (%llu MiB) does not fit in guest memory (%llu MiB) beside the kernel; raise -m/--mem",
		    cfg->initrd ? cfg->initrd : "(lkvm's own)", (unsigned long long)mib(isize), (unsigned long long)cfg->ram_mib);
	case LAYOUT_RAM_TOO_SMALL:
		die("guest memory (%llu MiB) is too small; raise -m/--mem", (unsigned long long)cfg->ram_mib);
	}
	kvm->ram.base = ARM_RAM_BASE;
	kvm->ram.size = ram_size;
	kvm->ram.fd = -1;
	kvm->kernel_fd = kfd;
	kvm->initrd_fd = ifd;
	if (kvm->kinfo.kind == PAYLOAD_RAW)
		fprintf(stderr, "  Info: %s has no arm64 Image header: loading it as a raw binary at 0x%llx\n",
			cfg->kernel, (unsigned long long)kvm->layout.kernel_load);
}

void kvm_open(struct kvm *kvm)
{
	int v, max;

	kvm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0)
		die("Unable to open /dev/kvm: %s (is KVM enabled in the host kernel, and may this user use it?)",
		    strerror(errno));
	v = ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION_REQUIRED)
		die("this host's KVM speaks API version %d; lkvm needs %d", v, KVM_API_VERSION_REQUIRED);
	arm_check_caps(kvm);
	max = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max <= 0)
		max = 4;
	if (kvm->cfg.nr_cpus > (unsigned int)max && kvm->cfg.nr_cpus <= LKVM_MAX_CPUS)
		die("-c/--cpus %u: this host's KVM allows at most %d vCPUs per VM", kvm->cfg.nr_cpus, max);
	kvm->vcpu_mmap_size = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->vcpu_mmap_size <= 0)
		die("KVM_GET_VCPU_MMAP_SIZE failed: %s", strerror(errno));
}

void kvm_create_vm(struct kvm *kvm)
{
	unsigned long type = arm_vm_type(kvm, kvm->ram.base + kvm->ram.size);
	struct kvm_userspace_memory_region region;
	char err[400];

	do {
		kvm->vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, type);
	} while (kvm->vm_fd < 0 && errno == EINTR);
	if (kvm->vm_fd < 0)
		die("KVM_CREATE_VM failed: %s", strerror(errno));

	/* Guest RAM: anonymous memory with transparent huge pages, or hugetlbfs (ram.c); nothing faulted in yet. */
	if (guest_ram_alloc(&kvm->ram, kvm->cfg.hugetlbfs, err, sizeof(err)))
		die("%s", err);

	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = kvm->ram.base,
		.memory_size = kvm->ram.size,
		.userspace_addr = (u64)(unsigned long)kvm->ram.host,
	};
	if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION failed: %s", strerror(errno));

	/* Undecodable MMIO comes to us instead of killing the vCPU, if the host offers it. */
	if (ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_NISV_TO_USER) > 0) {
		struct kvm_enable_cap cap = { .cap = KVM_CAP_ARM_NISV_TO_USER };
		kvm->arch.nisv_to_user = ioctl(kvm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
	}
	kvm->arch.ext_dabt = ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_INJECT_EXT_DABT) > 0;
}

static void load_file(struct kvm *kvm, int fd, const char *what, const char *path, u64 gpa, u64 size)
{
	u8 *dst = gpa_to_host(&kvm->ram, gpa, size);
	u64 done = 0;

	if (!dst)
		die("internal error: %s %s does not fit at 0x%llx", what, path, (unsigned long long)gpa);
	while (done < size) {
		ssize_t n = pread(fd, dst + done, size - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("cannot read %s %s: %s", what, path, n < 0 ? strerror(errno) : "file shrank while loading");
		done += (u64)n;
	}
	close(fd);
}

void kvm_load_payload(struct kvm *kvm)
{
	load_file(kvm, kvm->kernel_fd, "kernel", kvm->cfg.kernel, kvm->layout.kernel_load, kvm->kinfo.file_size);
	kvm->kernel_fd = -1;
	if (kvm->initrd_fd >= 0) {
		load_file(kvm, kvm->initrd_fd, "initrd", kvm->cfg.initrd ? kvm->cfg.initrd : "(lkvm's own)",
			  kvm->layout.initrd_addr,
			  kvm->layout.initrd_size);
		kvm->initrd_fd = -1;
	}
}

static size_t uart_console_rx(struct kvm *kvm, const unsigned char *buf, size_t len)
{
	return serial8250_receive(kvm->uart, buf, len);
}

void kvm_setup_devices(struct kvm *kvm)
{
	sandbox_init(kvm_sandbox_mode(kvm)); /* the SIGSYS reporter, before the first (self-sandboxing) worker starts */
	kvm->uart = serial8250_create(kvm, ARM_UART_BASE, ARM_SPI_UART, kvm->console_out_fd);
	kvm->console_rx = uart_console_rx;
	virtio_setup(kvm); /* console, disks, rng, NICs: each registers its slot and DT node */
}

static char *make_bootargs(const struct kvm_config *cfg)
{
	const char *user = cfg->params ? cfg->params : "";
	const char *extra = "";
	char *s;

	if (!cfg->nodefaults && cfg->rootdir)
		extra = cfg->console == CONSOLE_VIRTIO ? "console=hvc0 " LKVM_9P_ROOT_ARGS : "console=ttyS0 " LKVM_9P_ROOT_ARGS;
	else if (!cfg->nodefaults)
		extra = cfg->console == CONSOLE_VIRTIO ? "console=hvc0" : "console=ttyS0";
	if (asprintf(&s, "%s%s%s", extra, *extra && *user ? " " : "", user) < 0)
		die("out of memory");
	return s;
}

static void write_dump(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("--dump-dtb: cannot create %s: %s", path, strerror(errno));
	if (write(fd, buf, len) != (ssize_t)len || close(fd) < 0)
		die("--dump-dtb: cannot write %s: %s", path, strerror(errno));
}

void kvm_write_fdt(struct kvm *kvm)
{
	char err[256];
	void *buf = calloc(1, FDT_MAX_SIZE);
	char uart_path[40];
	struct fdt_desc d;

	if (!buf)
		die("out of memory");
	kvm->bootargs = make_bootargs(&kvm->cfg);
	snprintf(uart_path, sizeof(uart_path), "/uart@%llx", (unsigned long long)ARM_UART_BASE);
	d = (struct fdt_desc){
		.ram_base = kvm->ram.base,
		.ram_size = kvm->ram.size,
		.nr_cpus = kvm->nr_cpus,
		.mpidr = kvm->arch.mpidr,
		.bootargs = kvm->bootargs,
		.initrd_start = kvm->layout.initrd_addr,
		.initrd_size = kvm->layout.initrd_size,
		.pvtime_base = kvm->arch.pvtime ? kvm->layout.pvtime_addr : 0,
		.pvtime_size = kvm->arch.pvtime ? kvm->layout.pvtime_size : 0,
		.pmu = kvm->cfg.pmu,
		.gicv2 = kvm->arch.gic_type == IRQCHIP_GICV2,
		.stdout_path = kvm->cfg.console == CONSOLE_SERIAL ? uart_path : NULL,
	};
	if (fdt_build(buf, FDT_MAX_SIZE, &d, &kvm->devices, err, sizeof(err)))
		die("%s", err);
	if (kvm->cfg.dump_dtb) {
		write_dump(kvm->cfg.dump_dtb, buf, fdt_totalsize(buf));
		free(buf);
		exit(0);
	}
	if (guest_write(&kvm->ram, kvm->layout.dtb_addr, buf, fdt_totalsize(buf)))
		die("internal error: the DTB does not fit at 0x%llx", (unsigned long long)kvm->layout.dtb_addr);
	free(buf);
}

void kvm_request_stop(struct kvm *kvm, int code)
{
	u64 one = 1;

	pthread_mutex_lock(&kvm->stop_lock);
	if (!kvm->stopping) {
		kvm->exit_code = code;
		__atomic_store_n(&kvm->stopping, true, __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&kvm->stop_lock);
	if (write(kvm->done_fd, &one, sizeof(one)) < 0) {
		/* the eventfd cannot overflow with our few writes; nothing to do */
	}
}

bool kvm_is_stopping(struct kvm *kvm)
{
	return __atomic_load_n(&kvm->stopping, __ATOMIC_SEQ_CST);
}

/* Create the configured virtio devices and wire each into KVM: MMIO slot, ioeventfd per queue, irqfd, worker. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "kvm/virtio-blk.h"
#include "kvm/virtio-console.h"
#include "kvm/virtio-net.h"
#include "kvm/virtio-rng.h"
#include "kvm/virtio.h"

_Static_assert(ARRAY_SIZE(((struct kvm_config *)0)->disks) == VIRTIO_MAX_DISKS, "kvm_config.disks[] size");
_Static_assert(ARRAY_SIZE(((struct kvm_config *)0)->nets) == VIRTIO_MAX_NICS, "kvm_config.nets[] size");

/* The next free virtio-mmio slot: its base address and SPI. */
static u64 take_slot(struct kvm *kvm, const char *what, unsigned int *spi)
{
	unsigned int n = kvm->virtio_slots;

	if (n >= ARM_VIRTIO_MMIO_SLOTS)
		die("%s: no free virtio-mmio slot (lkvm has %d); use fewer devices", what, ARM_VIRTIO_MMIO_SLOTS);
	*spi = ARM_SPI_VIRTIO_BASE + n;
	return ARM_VIRTIO_MMIO_BASE + (u64)n * ARM_VIRTIO_MMIO_SLOT;
}

/*
 * Bus + device tree, then KVM: QueueNotify writes with datamatch q signal kick_fd[q] inside KVM (no exit to us), and
 * writes to irq_fd inject the SPI (irqfd GSIs are SPI numbers without the 32 offset on arm64). Then the worker.
 */
static void attach(struct kvm *kvm, struct virtio_mmio *vm)
{
	struct kvm_irqfd irqfd = { .fd = (u32)vm->irq_fd, .gsi = vm->spi };
	int r;

	if (virtio_mmio_register(vm, &kvm->devices))
		die("%s overlaps another device", vm->label);
	vm->ioeventfd = true;
	for (unsigned int q = 0; q < vm->ops->nr_queues; q++) {
		struct kvm_ioeventfd io = {
			.datamatch = q,
			.addr = vm->dev.mmio_base + VIRTIO_MMIO_QUEUE_NOTIFY,
			.len = 4,
			.fd = vm->kick_fd[q],
			.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};
		if (ioctl(kvm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
			/* Still correct: the MMIO handler signals kick_fd itself, at the price of an exit per kick. */
			pr_warn("%s: KVM_IOEVENTFD failed (%s); queue notifications go through lkvm", vm->label,
				strerror(errno));
			vm->ioeventfd = false;
		}
	}
	if (ioctl(kvm->vm_fd, KVM_IRQFD, &irqfd) < 0)
		die("%s: KVM_IRQFD for SPI %u failed: %s (lkvm needs an in-kernel vGIC with irqfd support)", vm->label,
		    vm->spi, strerror(errno));
	r = virtio_mmio_start(vm);
	if (r)
		die("%s: cannot start its worker thread: %s", vm->label, strerror(-r));
	kvm->virtio[kvm->virtio_slots++] = vm;
}

static size_t virtio_console_rx(struct kvm *kvm, const unsigned char *buf, size_t len)
{
	return virtio_console_receive(kvm->virtio_console, buf, len);
}

/*
 * --console virtio: the 8250 stays on the bus (a guest may still use ttyS0, and its output still reaches stdout),
 * but host input now goes to hvc0 and the device tree names no stdout-path.
 */
static void setup_console(struct kvm *kvm)
{
	unsigned int spi;
	u64 base = take_slot(kvm, "virtio-console", &spi);
	struct virtio_console *c = virtio_console_create(&kvm->ram, base, spi, STDOUT_FILENO);

	if (!c)
		die("virtio-console: out of memory");
	attach(kvm, &c->vm);
	kvm->virtio_console = c;
	kvm->console_rx = virtio_console_rx;
}

static void setup_disk(struct kvm *kvm, unsigned int index, const char *spec)
{
	char err[256], id[VIRTIO_BLK_ID_BYTES];
	size_t plen;
	bool ro;
	char *path;
	struct stat st;
	off_t size;
	int fd;
	unsigned int spi;
	u64 base;
	struct virtio_blk *b;

	if (virtio_blk_parse_spec(spec, &plen, &ro, err, sizeof(err)))
		die("%s", err);
	path = strndup(spec, plen);
	if (!path)
		die("out of memory");
	fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			die("disk %s: no such file; give the path of a raw disk image (-d FILE[,ro])", path);
		if (e == EISDIR)
			die("disk %s is a directory; lkvm needs a raw disk image file", path);
		if (!ro && (e == EACCES || e == EPERM || e == EROFS))
			die("disk %s: cannot open it for writing: %s (fix its permissions, or attach it read-only: -d %s,ro)",
			    path, strerror(e), path);
		die("disk %s: cannot open it: %s (check the path and its permissions)", path, strerror(e));
	}
	if (fstat(fd, &st) < 0)
		die("disk %s: cannot stat it: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		die("disk %s is a directory; lkvm needs a raw disk image file", path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		die("disk %s is neither a regular file nor a block device; give a raw disk image", path);
	size = lseek(fd, 0, SEEK_END); /* also right for block devices */
	if (size < 0)
		die("disk %s: cannot find its size: %s", path, strerror(errno));
	if (size % VIRTIO_BLK_SECTOR_SIZE)
		pr_warn("disk %s: size %lld is not a multiple of 512; the guest does not see the last %lld bytes", path,
			(long long)size, (long long)(size % VIRTIO_BLK_SECTOR_SIZE));
	virtio_blk_make_id(path, index, id);
	base = take_slot(kvm, "virtio-blk", &spi);
	b = virtio_blk_create(&kvm->ram, base, spi, fd, (u64)size, ro, id);
	if (!b)
		die("disk %s: out of memory", path);
	attach(kvm, &b->vm);
	pr_info("%s: disk %s%s, %llu sectors", b->vm.label, path, ro ? " (read-only)" : "",
		(unsigned long long)b->disk.capacity);
	free(path);
}

static void setup_net(struct kvm *kvm, unsigned int index, const char *spec)
{
	struct virtio_net_params p;
	char err[512], name[IFNAMSIZ];
	unsigned int spi;
	u64 base;
	int fd;
	struct virtio_net *n;

	if (virtio_net_parse_spec(spec, &p, err, sizeof(err)))
		die("%s", err);
	if (!p.tap)
		return;
	fd = virtio_net_open_tap(p.tapif, name, err, sizeof(err));
	if (fd < 0)
		die("network %s: %s", spec, err);
	if (!p.have_mac)
		virtio_net_default_mac(kvm->cfg.name, index, p.mac);
	base = take_slot(kvm, "virtio-net", &spi);
	n = virtio_net_create(&kvm->ram, base, spi, fd, p.mac);
	if (!n)
		die("network %s: out of memory", spec);
	attach(kvm, &n->vm);
	pr_info("%s: tap %s, guest MAC %02x:%02x:%02x:%02x:%02x:%02x", n->vm.label, name, p.mac[0], p.mac[1],
		p.mac[2], p.mac[3], p.mac[4], p.mac[5]);
}

void virtio_setup(struct kvm *kvm)
{
	const struct kvm_config *cfg = &kvm->cfg;

	if (cfg->console == CONSOLE_VIRTIO)
		setup_console(kvm);
	for (unsigned int i = 0; i < cfg->nr_disks && i < ARRAY_SIZE(cfg->disks); i++)
		setup_disk(kvm, i, cfg->disks[i]);
	if (cfg->rng) {
		unsigned int spi;
		u64 base = take_slot(kvm, "virtio-rng", &spi);
		struct virtio_rng *r = virtio_rng_create(&kvm->ram, base, spi);
		if (!r)
			die("virtio-rng: out of memory");
		attach(kvm, &r->vm);
	}
	for (unsigned int i = 0; i < cfg->nr_nets && i < ARRAY_SIZE(cfg->nets); i++)
		setup_net(kvm, i, cfg->nets[i]);
}

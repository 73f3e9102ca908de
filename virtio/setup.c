/* Create the configured virtio devices and wire each into KVM over its transport (PCI or mmio), then its worker. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "kvm/disk-lock.h"
#include "kvm/virtio-9p.h"
#include "kvm/virtio-blk.h"
#include "kvm/virtio-console.h"
#include "kvm/virtio-net.h"
#include "kvm/virtio-rng.h"
#include "kvm/arm.h"
#include "kvm/pci.h"
#include "kvm/virtio-mmio.h"
#include "kvm/virtio-pci.h"
#include "kvm/virtio.h"

_Static_assert(ARRAY_SIZE(((struct kvm_config *)0)->disks) == VIRTIO_MAX_DISKS, "kvm_config.disks[] size");
_Static_assert(ARRAY_SIZE(((struct kvm_config *)0)->nets) == VIRTIO_MAX_NICS, "kvm_config.nets[] size");

static int kvm_set_irq(void *ctx, unsigned int spi, int level)
{
	return kvm_irq_line(ctx, spi, level);
}

/*
 * A kernel back-end's queues (vhost-net's call eventfds) interrupt through KVM on the device's SPI as well, with no
 * wake-up of the worker: InterruptStatus then always shows the used-ring bit, since nobody in lkvm sees those edges
 * (the driver's handler looks at its rings, finds nothing new on a spurious one, as it does for any shared line).
 */
static void wire_call_fds(struct kvm *kvm, struct virtio_dev *vd, struct virtio_mmio *m, unsigned int spi)
{
	for (unsigned int q = 0; q < vd->ops->nr_queues; q++) {
		struct kvm_irqfd irqfd = { .fd = (u32)vd->call_fd[q], .gsi = spi };

		if (vd->call_fd[q] < 0)
			continue;
		if (ioctl(kvm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
			pr_warn("%s: KVM_IRQFD for queue %u failed (%s); its interrupts go through lkvm", vd->label, q,
				strerror(errno));
			continue;
		}
		m->vring_direct = true;
		vd->call_direct[q] = true;
	}
}

/*
 * Bus + device tree, then KVM: QueueNotify writes with datamatch q signal kick_fd[q] inside KVM (no exit to us), and
 * writes to irq_fd inject the SPI (irqfd GSIs are SPI numbers without the 32 offset on arm64). Then the worker.
 */
static void attach_mmio(struct kvm *kvm, struct virtio_dev *vd, const char *what)
{
	unsigned int n = kvm->virtio_slots, spi = ARM_SPI_VIRTIO_BASE + n;
	u64 base = ARM_VIRTIO_MMIO_BASE + (u64)n * ARM_VIRTIO_MMIO_SLOT;
	struct virtio_mmio *m;
	struct kvm_irqfd irqfd;
	int r;

	if (n >= ARM_VIRTIO_MMIO_SLOTS)
		die("%s: no free virtio-mmio slot (lkvm has %d); use fewer devices", what, ARM_VIRTIO_MMIO_SLOTS);
	r = virtio_mmio_init(vd, base, spi);
	if (r)
		die("%s: cannot set up its virtio-mmio transport: %s", what, strerror(-r));
	m = virtio_mmio_of(vd);
	if (virtio_mmio_register(vd, &kvm->devices))
		die("%s overlaps another device", vd->label);
	m->ioeventfd = !kvm->cfg.no_ioeventfd;
	for (unsigned int q = 0; q < vd->ops->nr_queues && m->ioeventfd; q++) {
		struct kvm_ioeventfd io = {
			.datamatch = q,
			.addr = base + VIRTIO_MMIO_QUEUE_NOTIFY,
			.len = 4,
			.fd = vd->kick_fd[q],
			.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};
		if (ioctl(kvm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
			/* Still correct: the MMIO handler signals kick_fd itself, at the price of an exit per kick. */
			pr_warn("%s: KVM_IOEVENTFD failed (%s); queue notifications go through lkvm", vd->label,
				strerror(errno));
			m->ioeventfd = false;
		}
	}
	irqfd = (struct kvm_irqfd){ .fd = (u32)m->irq_fd, .gsi = spi };
	if (ioctl(kvm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		/* Still correct: the worker injects the edge itself with KVM_IRQ_LINE, one ioctl per interrupt. */
		pr_warn("%s: KVM_IRQFD for SPI %u failed (%s); interrupts go through KVM_IRQ_LINE", vd->label, spi,
			strerror(errno));
		m->irq_ctx = kvm;
		m->irq_line = kvm_set_irq;
	} else {
		wire_call_fds(kvm, vd, m, spi);
	}
	vd->sandbox = kvm_sandbox_mode(kvm);
	r = virtio_dev_start(vd);
	if (r)
		die("%s: cannot start its worker thread: %s", vd->label, strerror(-r));
	kvm->virtio[kvm->virtio_slots++] = vd;
}

/* ---- PCI: the host bridge's KVM side ---- */

/* An MSI through the ITS: the requester ID is the DeviceID (msi-map is the identity). */
static int kvm_signal_msi(void *ctx, u64 addr, u32 data, u32 devid)
{
	struct kvm *kvm = ctx;
	struct kvm_msi msi = { .address_lo = (u32)addr, .address_hi = (u32)(addr >> 32), .data = data,
			       .flags = KVM_MSI_VALID_DEVID, .devid = devid };
	int r = ioctl(kvm->vm_fd, KVM_SIGNAL_MSI, &msi);

	if (r < 0)
		return -errno;
	return r == 0 ? -EBUSY : 0; /* 0: the guest blocked it (e.g. no mapping in the ITS) */
}

static int kvm_ioeventfd(void *ctx, u64 addr, u32 len, int fd, bool assign)
{
	struct kvm *kvm = ctx;
	struct kvm_ioeventfd io = { .addr = addr, .len = len, .fd = fd, .flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN };

	return ioctl(kvm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

static int kvm_msi_irqfd(void *ctx, int fd, int *route, u64 addr, u32 data, u32 devid, bool assign)
{
	struct kvm *kvm = ctx;

	return irq_routes_msi_irqfd(&kvm->irq_routes, fd, route, addr, data, devid, assign);
}

static const struct pci_host_ops kvm_pci_ops = {
	.signal_msi = kvm_signal_msi,
	.set_irq = kvm_set_irq,
	.ioeventfd = kvm_ioeventfd,
	.msi_irqfd = kvm_msi_irqfd,
};
static const struct pci_host_ops kvm_pci_ops_no_ioeventfd = { .signal_msi = kvm_signal_msi, .set_irq = kvm_set_irq };

/* The ECAM host bridge, with MSI (msi-map to the ITS) when the VM has an ITS and KVM can signal MSIs to it. */
static void setup_pci_host(struct kvm *kvm)
{
	bool msi = gic_has_its(kvm);

	if (msi && (ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SIGNAL_MSI) <= 0 ||
		    ioctl(kvm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MSI_DEVID) <= 0)) {
		pr_warn("this host's KVM cannot signal MSIs with a device ID; virtio-pci devices use INTx");
		msi = false;
	}
	irq_routes_init(&kvm->irq_routes, kvm->vm_fd, ARM_GIC_NR_IRQS - 32);
	kvm->pci = calloc(1, sizeof(*kvm->pci));
	if (!kvm->pci)
		die("out of memory");
	pci_host_init(kvm->pci, ARM_PCI_CFG_BASE, ARM_PCI_MMIO_BASE, ARM_PCI_MMIO_SIZE, msi, FDT_PHANDLE_ITS,
		      kvm->cfg.no_ioeventfd ? &kvm_pci_ops_no_ioeventfd : &kvm_pci_ops, kvm);
	if (pci_host_register(kvm->pci, &kvm->devices))
		die("internal error: the PCI windows overlap another device");
}

/*
 * A virtio-pci function: INTA# on its own SPI, MSI-X vectors through the ITS when there is one. Its queue
 * notifications get ioeventfds whenever the guest enables its BAR (and move with it); interrupts are
 * KVM_SIGNAL_MSI (MSI-X) or KVM_IRQ_LINE (INTx, level-triggered).
 */
static void attach_pci(struct kvm *kvm, struct virtio_dev *vd, const char *what)
{
	int r = virtio_pci_init(vd, kvm->pci, ARM_SPI_PCI_BASE + kvm->pci->nr);

	if (r)
		die("%s: no room on the PCI bus (lkvm has %d slots); use fewer devices", what, PCI_MAX_DEVICES);
	device_register(&kvm->devices, &vd->dev); /* no MMIO range: listed for snapshots */
	vd->sandbox = kvm_sandbox_mode(kvm);
	r = virtio_dev_start(vd);
	if (r)
		die("%s: cannot start its worker thread: %s", vd->label, strerror(-r));
	kvm->virtio[kvm->virtio_slots++] = vd;
}

static void attach(struct kvm *kvm, struct virtio_dev *vd, const char *what)
{
	if (kvm->virtio_slots >= ARRAY_SIZE(kvm->virtio))
		die("%s: lkvm supports at most %zu virtio devices; use fewer", what, ARRAY_SIZE(kvm->virtio));
	if (kvm->cfg.virtio_transport == VIRTIO_TRANSPORT_PCI)
		attach_pci(kvm, vd, what);
	else
		attach_mmio(kvm, vd, what);
}

void virtio_attach(struct kvm *kvm, struct virtio_dev *vd, const char *what)
{
	attach(kvm, vd, what);
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
	struct virtio_console *c = virtio_console_create(&kvm->ram, kvm->console_out_fd);

	if (!c)
		die("virtio-console: out of memory");
	attach(kvm, &c->vdev, "virtio-console");
	kvm->virtio_console = c;
	kvm->console_rx = virtio_console_rx;
}

static void setup_disk(struct kvm *kvm, unsigned int index, const char *spec)
{
	char err[256], id[VIRTIO_BLK_ID_BYTES];
	size_t plen;
	bool ro, direct;
	char *path;
	struct stat st;
	off_t size;
	int fd, r;
	struct virtio_blk *b;

	if (virtio_blk_parse_spec(spec, &plen, &ro, &direct, err, sizeof(err)))
		die("%s", err);
	path = strndup(spec, plen);
	if (!path)
		die("out of memory");
	fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | (direct ? O_DIRECT : 0));
	if (fd < 0) {
		int e = errno;
		if (direct && e == EINVAL)
			die("disk %s: its file system does not support direct I/O (O_DIRECT); drop ',direct'", path);
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
	b = virtio_blk_create(&kvm->ram, fd, (u64)size, ro, id);
	if (!b)
		die("disk %s: out of memory", path);
	if (direct && virtio_blk_set_direct(&b->disk, err, sizeof(err)))
		die("disk %s: cannot use direct I/O: %s; drop ',direct'", path, err);
	/* One writer or many readers, across processes (QEMU's rule); a second lkvm on a writable image stops here. */
	if (!kvm->disk_lock_defer) {
		r = disk_lock(fd, path, ro, kvm->disk_lock_wait_ms, err, sizeof(err));
		if (r == -1)
			die("%s", err);
		if (r == -2)
			pr_warn("%s; it is used unlocked", err);
		b->disk.locked = r == 0;
	}
	attach(kvm, &b->vdev, "virtio-blk");
	pr_info("%s: disk %s%s%s, %llu sectors", b->vdev.label, path, ro ? " (read-only)" : "", direct ? " (direct)" : "",
		(unsigned long long)b->disk.capacity);
	free(path);
}

/* The back-end of one -n spec: a tap, or passt (started here, before the sandbox, or the caller's socket). */
static struct net_backend *net_backend_open(struct kvm *kvm, const char *spec, const struct virtio_net_params *p,
					    const u8 guest_mac[6])
{
	char err[600], name[IFNAMSIZ], passt[256], desc[160];
	struct net_backend *be;
	pid_t pid = 0;
	int fd, log_fd = -1;

	(void)kvm;
	if (p->tap) {
		/* the host side of a tap lkvm creates: the guest's MAC with another locally administered prefix */
		u8 host_mac[6] = { (u8)(guest_mac[0] ^ 0x04), guest_mac[1], guest_mac[2], guest_mac[3], guest_mac[4],
				   guest_mac[5] };
		fd = net_tap_open(p->tapif, host_mac, name, err, sizeof(err));
		if (fd < 0)
			die("network %s: %s", spec, err);
		be = net_tap_backend(fd, name);
	} else if (p->socket[0]) {
		fd = net_passt_connect(p->socket, err, sizeof(err));
		if (fd < 0)
			die("network %s: %s", spec, err);
		snprintf(desc, sizeof(desc), "passt at %s", p->socket);
		be = net_stream_backend(fd, desc);
	} else {
		if (net_passt_find(passt, sizeof(passt)))
			die("network %s: passt is not installed (not found in PATH); install the Debian package passt, or "
			    "use mode=tap or mode=none", spec);
		fd = net_passt_start(passt, p->fwd, p->nr_fwd, &pid, &log_fd, err, sizeof(err));
		if (fd < 0)
			die("network %s: %s", spec, err);
		snprintf(desc, sizeof(desc), "passt pid %d", (int)pid);
		be = net_stream_backend(fd, desc);
		if (be) {
			be->passt_pid = pid;
			be->log_fd = log_fd;
		}
	}
	if (!be)
		die("network %s: out of memory", spec);
	return be;
}

static void setup_net(struct kvm *kvm, unsigned int index, const char *spec)
{
	struct virtio_net_params p;
	char err[512];
	struct net_backend *be;
	struct net_vhost *vhost = NULL;
	struct virtio_net *n;

	if (virtio_net_parse_spec(spec, &p, err, sizeof(err)))
		die("%s", err);
	if (!p.tap && !p.user)
		return;
	if (p.vhost && !(vhost = net_vhost_open(err, sizeof(err))))
		die("network %s: %s", spec, err);
	if (!p.have_mac)
		virtio_net_default_mac(kvm->name, index, p.mac); /* the saved name after a restore: the tap keeps its MAC */
	be = net_backend_open(kvm, spec, &p, p.mac);
	n = virtio_net_create(&kvm->ram, be, p.mac);
	if (!n)
		die("network %s: out of memory", spec);
	n->vdev.net_worker = true;
	if (vhost)
		virtio_net_use_vhost(n, vhost);
	attach(kvm, &n->vdev, "virtio-net");
	pr_info("%s: %s%s, guest MAC %02x:%02x:%02x:%02x:%02x:%02x", n->vdev.label, be->desc, vhost ? " (vhost-net)" : "", p.mac[0], p.mac[1],
		p.mac[2], p.mac[3], p.mac[4], p.mac[5]);
	for (unsigned int i = 0; i < p.nr_fwd; i++)
		pr_info("%s: %s %s:%u forwards to the guest's port %u", n->vdev.label, p.fwd[i].udp ? "udp" : "tcp",
			p.fwd[i].addr, p.fwd[i].host_port, p.fwd[i].guest_port);
}

/* Every passt lkvm started ends with the VM, not a moment later: a caller that checks for leftovers finds none. */
void kvm_stop_helpers(struct kvm *kvm)
{
	for (unsigned int i = 0; i < kvm->virtio_slots; i++) {
		struct virtio_dev *vd = kvm->virtio[i];
		struct virtio_net *n = vd->priv;
		if (vd->ops->device_id != VIRTIO_ID_NET || !n->be->passt_pid)
			continue;
		if (net_passt_stop(n->be->fd, n->be->passt_pid, 2000))
			pr_warn("%s: passt pid %d did not end within 2 s of its socket closing", vd->label,
				(int)n->be->passt_pid);
		n->be->passt_pid = 0;
	}
}

static void setup_share(struct kvm *kvm, const char *dir, const char *tag, bool ro)
{
	char err[512];
	struct virtio_9p *p = virtio_9p_create(&kvm->ram, dir, tag, ro, err, sizeof(err));
	struct rlimit rl;

	/* Every fid the guest holds is a host fd (Linux keeps one per cached dentry): allow as many as we may. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	if (!p)
		die("%s", err);
	p->vdev.file_worker = true;
	attach(kvm, &p->vdev, "virtio-9p");
	pr_info("%s: sharing %s as '%s'%s", p->vdev.label, dir, tag, ro ? " (read-only)" : "");
}

void virtio_setup(struct kvm *kvm)
{
	const struct kvm_config *cfg = &kvm->cfg;

	if (cfg->virtio_transport == VIRTIO_TRANSPORT_PCI)
		setup_pci_host(kvm);
	if (cfg->console == CONSOLE_VIRTIO)
		setup_console(kvm);
	for (unsigned int i = 0; i < cfg->nr_disks && i < ARRAY_SIZE(cfg->disks); i++)
		setup_disk(kvm, i, cfg->disks[i]);
	if (cfg->rng) {
		struct virtio_rng *r = virtio_rng_create(&kvm->ram);
		if (!r)
			die("virtio-rng: out of memory");
		attach(kvm, &r->vdev, "virtio-rng");
	}
	for (unsigned int i = 0; i < cfg->nr_nets && i < ARRAY_SIZE(cfg->nets); i++)
		setup_net(kvm, i, cfg->nets[i]);
	if (cfg->rootdir)
		setup_share(kvm, cfg->rootdir, "/dev/root", false);
	for (unsigned int i = 0; i < cfg->nr_shares && i < ARRAY_SIZE(cfg->shares); i++) {
		struct virtio_9p_spec sp;
		char err[512];
		if (virtio_9p_parse_spec(cfg->shares[i], &sp, err, sizeof(err)))
			die("%s", err);
		setup_share(kvm, sp.dir, sp.tag, sp.ro);
		free(sp.dir);
	}
}

/* The virtio-blk devices of the VM, one at a time (NULL at the end). */
static struct virtio_blk *next_blk(struct kvm *kvm, unsigned int *i)
{
	while (*i < kvm->virtio_slots) {
		struct virtio_dev *vd = kvm->virtio[(*i)++];
		if (vd->ops->device_id == VIRTIO_ID_BLOCK)
			return vd->priv;
	}
	return NULL;
}

int virtio_disks_lock(struct kvm *kvm, unsigned int wait_ms, char *err, size_t errlen)
{
	struct virtio_blk *b;
	unsigned int i = 0, k = 0;
	int r;

	/* the blk devices were created in the order of cfg.disks[] */
	for (; (b = next_blk(kvm, &i)); k++) {
		if (b->disk.locked)
			continue;
		r = disk_lock(b->disk.fd, k < kvm->cfg.nr_disks ? kvm->cfg.disks[k] : b->disk.id, b->disk.ro, wait_ms, err,
			      errlen);
		if (r == -1)
			return -1;
		b->disk.locked = r == 0;
	}
	return 0;
}

void virtio_disks_unlock(struct kvm *kvm)
{
	struct virtio_blk *b;
	unsigned int i = 0;

	while ((b = next_blk(kvm, &i))) {
		if (b->disk.locked)
			disk_unlock(b->disk.fd);
		b->disk.locked = false;
	}
}

void virtio_resume_restored(struct kvm *kvm)
{
	for (unsigned int i = 0; i < kvm->virtio_slots; i++)
		virtio_dev_wake(kvm->virtio[i]);
}

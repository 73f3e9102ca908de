/* Fuzz target: the ECAM host bridge and virtio-pci: config space, BAR placement and accesses, MSI-X table, INTx. */
#include <errno.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "kvm/virtio-blk.h"
#include "kvm/virtio-net.h"
#include "kvm/virtio-pci.h"
#include "kvm/virtio-rng.h"

/*
 * A second function, a virtio-rng, sits at device 1 (BARs of two functions can collide).
 * Input: u8 device at 0 (0 rng, 1 blk, 2 net), u8 flags (1 MSI-capable host, 2 the fake KVM refuses MSIs, 4 refuses
 * ioeventfds), u8 op count, ops of 12 bytes (u8 kind, u8 len, u16 pad, u32 offset, u32 value), then guest RAM.
 * Kinds: 0 config write / 1 config read at an ECAM offset (devices 0 and 1), 2 write / 3 read in the BAR window
 * at an offset from its base, 4 run the worker.
 */
#define ECAM 0x30000000ULL
#define WIN 0x50000000ULL
#define WIN_SIZE 0x100000ULL

static int disk_fd = -1, sp[2] = { -1, -1 };
static u8 fake_flags;

static int f_msi(void *ctx, u64 addr, u32 data, u32 devid)
{
	(void)ctx;
	(void)addr;
	(void)data;
	(void)devid;
	return fake_flags & 2 ? -EINVAL : 0;
}

static int f_irq(void *ctx, unsigned int spi, int level)
{
	(void)ctx;
	(void)spi;
	(void)level;
	return 0;
}

static int f_ioevent(void *ctx, u64 addr, u32 len, int fd, bool assign)
{
	(void)ctx;
	(void)addr;
	(void)len;
	(void)fd;
	(void)assign;
	return fake_flags & 4 ? -ENOSYS : 0;
}

static const struct pci_host_ops fake_ops = { .signal_msi = f_msi, .set_irq = f_irq, .ioeventfd = f_ioevent };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	disk_fd = memfd_create("fuzz-disk", MFD_CLOEXEC);
	if (disk_fd < 0 || ftruncate(disk_fd, 0x10000) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp))
		return -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static const u8 mac[6] = { 0x02, 0x4c, 0x4b, 1, 2, 3 };
	static struct pci_host host;
	struct fz f = fz_init(data, size);
	u8 kind = fz_u8(&f) % 3, flags = fz_u8(&f), nops = fz_u8(&f);
	char id[VIRTIO_BLK_ID_BYTES] = "fuzz";
	struct device_list bus = { 0 };
	struct guest_ram *ram;
	struct virtio_dev *vd;
	struct virtio_blk *b = NULL;
	struct virtio_net *n = NULL;
	struct virtio_rng *r = NULL, *r2;
	const u8 *ops, *rest;
	size_t nops_got, got;

	fake_flags = flags;
	ops = fz_bytes(&f, (size_t)nops * 12, &nops_got);
	rest = fz_bytes(&f, FZ_RAM_SIZE, &got);
	ram = fz_ram(rest, got);
	memset(&host, 0, sizeof(host));
	pci_host_init(&host, ECAM, WIN, WIN_SIZE, flags & 1, 2, &fake_ops, NULL);
	if (kind == 0) {
		r = virtio_rng_create(ram);
		vd = r ? &r->vdev : NULL;
	} else if (kind == 1) {
		b = virtio_blk_create(ram, disk_fd, 0x10000, false, id);
		vd = b ? &b->vdev : NULL;
	} else {
		n = virtio_net_create(ram, net_tap_backend(sp[0], "fuzz"), mac);
		vd = n ? &n->vdev : NULL;
	}
	r2 = virtio_rng_create(ram);
	if (!vd || !r2 || pci_host_register(&host, &bus) || virtio_pci_init(vd, &host, 48) ||
	    virtio_pci_init(&r2->vdev, &host, 49))
		abort();
	for (size_t i = 0; i + 12 <= nops_got; i += 12) {
		struct fz o = fz_init(ops + i, 12);
		u8 k = fz_u8(&o), len = fz_u8(&o);
		u32 off = (fz_u16(&o), fz_u32(&o));
		u32 v = fz_u32(&o);
		u8 d[8] = { (u8)v, (u8)(v >> 8), (u8)(v >> 16), (u8)(v >> 24) };
		unsigned int l = fz_access_len(len);

		switch (k % 5) {
		case 0:
		case 1:
			mmio_dispatch(&bus, ECAM + (off & 0xffff), d, l, k % 5 == 0);
			break;
		case 2:
		case 3:
			mmio_dispatch(&bus, WIN + (off & (WIN_SIZE - 1)), d, l, k % 5 == 2);
			break;
		default:
			fz_poll(v & 1 ? &r2->vdev : vd);
			break;
		}
	}
	fz_poll(vd);
	fz_poll(&r2->vdev);
	virtio_dev_destroy(vd);
	virtio_dev_destroy(&r2->vdev);
	free(r2);
	pthread_rwlock_destroy(&host.lock);
	if (b)
		free(b->data);
	if (n) {
		u8 pkt[2048];
		while (read(sp[1], pkt, sizeof(pkt)) > 0)
			;
	}
	if (n)
		net_backend_free(n->be);
	free(b ? (void *)b : n ? (void *)n : (void *)r);
	return 0;
}

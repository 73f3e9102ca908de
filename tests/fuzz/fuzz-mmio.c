/* Fuzz target: virtio-mmio register sequences against blk, net, rng and console devices. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "kvm/virtio-blk.h"
#include "kvm/virtio-console.h"
#include "kvm/virtio-net.h"
#include "kvm/virtio-rng.h"

/*
 * Input: u8 device (0 blk, 1 net, 2 rng, 3 console), u8 op count, ops of 8 bytes (u8 kind, u8 len, u16 register
 * offset, u32 value), then guest RAM (fuzz.h layout). Kinds: 0 write, 1 read, 2 run the worker, 3 host input
 * (console: `len` bytes of the value; net: a packet of `value` bytes), 4 write through the ioeventfd path.
 */
static int disk_fd = -1, null_fd = -1, sp[2] = { -1, -1 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	disk_fd = memfd_create("fuzz-disk", MFD_CLOEXEC);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (disk_fd < 0 || null_fd < 0 || ftruncate(disk_fd, 0x10000) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp))
		return -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static const u8 mac[6] = { 0x02, 0x4c, 0x4b, 1, 2, 3 };
	static u8 pkt[2048];
	struct fz f = fz_init(data, size);
	u8 kind = fz_u8(&f) % 4, nops = fz_u8(&f);
	const u8 *ops, *rest;
	size_t nops_got, got;
	struct device_list bus = { 0 };
	struct guest_ram *ram;
	struct virtio_dev *vd;
	struct virtio_blk *b = NULL;
	struct virtio_net *n = NULL;
	struct virtio_rng *r = NULL;
	struct virtio_console *c = NULL;
	char id[VIRTIO_BLK_ID_BYTES] = "fuzz";

	ops = fz_bytes(&f, (size_t)nops * 8, &nops_got);
	rest = fz_bytes(&f, FZ_RAM_SIZE, &got);
	ram = fz_ram(rest, got);
	switch (kind) {
	case 0:
		b = virtio_blk_create(ram, disk_fd, 0x10000, false, id);
		vd = b ? &b->vdev : NULL;
		break;
	case 1:
		n = virtio_net_create(ram, net_tap_backend(sp[0], "fuzz"), mac);
		vd = n ? &n->vdev : NULL;
		break;
	case 2:
		r = virtio_rng_create(ram);
		vd = r ? &r->vdev : NULL;
		break;
	default:
		c = virtio_console_create(ram, null_fd);
		vd = c ? &c->vdev : NULL;
		break;
	}
	if (!vd || virtio_mmio_init(vd, FZ_MMIO_BASE, 16) || virtio_mmio_register(vd, &bus))
		abort();
	for (size_t i = 0; i + 8 <= nops_got; i += 8) {
		struct fz o = fz_init(ops + i, 8);
		u8 k = fz_u8(&o), len = fz_u8(&o);
		u16 off = fz_u16(&o);
		u32 v = fz_u32(&o);
		u8 d[8] = { (u8)v, (u8)(v >> 8), (u8)(v >> 16), (u8)(v >> 24) };
		unsigned int l = fz_access_len(len);

		switch (k % 5) {
		case 0:
			mmio_dispatch(&bus, FZ_MMIO_BASE + (off & 0x1ff), d, l, true);
			break;
		case 1:
			mmio_dispatch(&bus, FZ_MMIO_BASE + (off & 0x1ff), d, l, false);
			break;
		case 2:
			fz_poll(vd);
			break;
		case 3:
			if (c)
				virtio_console_receive(c, d, len % 5);
			else if (n && write(sp[1], pkt, v % sizeof(pkt)) < 0)
				; /* full: dropped, as a tap would */
			break;
		default:
			/* an ioeventfd kick: the transport is bypassed, only the eventfd fires */
			if (v < VIRTIO_DEV_MAX_QUEUES && vd->kick_fd[v] >= 0) {
				u64 one = 1;
				if (write(vd->kick_fd[v], &one, sizeof(one)) < 0)
					abort();
			}
			break;
		}
	}
	fz_poll(vd);
	virtio_dev_destroy(vd);
	if (b)
		free(b->data);
	if (n)
		net_backend_free(n->be);
	if (n)
		while (read(sp[1], pkt, sizeof(pkt)) > 0 || read(sp[0], pkt, sizeof(pkt)) > 0)
			;
	if (c)
		pthread_mutex_destroy(&c->in_lock);
	free(b ? (void *)b : n ? (void *)n : r ? (void *)r : (void *)c);
	return 0;
}

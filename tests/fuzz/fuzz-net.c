/* Fuzz target: virtio-net transmit and receive over a socketpair standing in for the tap. */
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "kvm/virtio-net.h"

/*
 * Input: u8 ring features (1 indirect, 2 event_idx, 4 check live migration's dirty tracking: fuzz.h; 8 merged
 * receive buffers and the tap's offloads), u8 queue
 * size log2 (0..4), u8 kicks, u8 packets (0..7), then
 * that many packets from the "tap" (u16 length, then the bytes: virtio-net header + frame), then guest RAM laid
 * out as fuzz.h's rings: queue 0 receive, queue 1 transmit.
 */
static int sp[2] = { -1, -1 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp))
		return -1;
	return 0;
}

static void drain(int fd)
{
	static u8 buf[VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME + 16];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static const u8 mac[6] = { 0x02, 0x4c, 0x4b, 1, 2, 3 };
	struct fz f = fz_init(data, size);
	u8 feat = fz_u8(&f), lg = fz_u8(&f) % 5, kicks = fz_u8(&f) % 8, npk = fz_u8(&f) % 8;
	struct device_list bus = { 0 };
	struct virtio_net *n;
	static struct fz_dirty dirty;
	bool track = (feat & 4) && !(feat & 1);
	struct guest_ram *ram;
	const u8 *rest;
	size_t got;

	/* packets first, then RAM: the layout is fixed by the input, whatever the device does */
	const u8 *pk[8];
	size_t pklen[8];
	for (unsigned int i = 0; i < npk; i++) {
		u16 len = fz_u16(&f);
		pk[i] = fz_bytes(&f, len, &pklen[i]);
	}
	rest = fz_bytes(&f, FZ_RAM_SIZE, &got);
	ram = fz_ram(rest, got);
	n = virtio_net_create(ram, net_tap_backend(sp[0], "fuzz"), mac);
	if (!n || virtio_mmio_init(&n->vdev, FZ_MMIO_BASE, 16) || virtio_mmio_register(&n->vdev, &bus))
		abort();
	if (track) /* from before DRIVER_OK: the device looks at its queues right then */
		fz_dirty_start(&dirty, ram);
	fz_mmio_up(&bus, &n->vdev, fz_ring_features(feat) | n->vdev.ops->features |
		   (feat & 8 ? n->vdev.extra_features : 0),
		   2, 1u << lg);
	for (unsigned int k = 0; k <= kicks; k++) {
		if (k < npk && pklen[k] && write(sp[1], pk[k], pklen[k]) < 0)
			continue; /* socket buffer full: the tap drops too */
		fz_mw(&bus, VIRTIO_MMIO_QUEUE_NOTIFY, k & 1 ? VIRTIO_NET_RXQ : VIRTIO_NET_TXQ, 4);
		fz_poll(&n->vdev);
	}
	for (unsigned int k = kicks + 1; k < npk; k++) /* the rest arrive at once */
		if (pklen[k] && write(sp[1], pk[k], pklen[k]) < 0)
			break;
	fz_poll(&n->vdev);
	fz_mw(&bus, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_RXQ, 4);
	fz_poll(&n->vdev);
	if (track)
		fz_dirty_check(&dirty, ram, 2);
	virtio_dev_destroy(&n->vdev);
	net_backend_free(n->be);
	free(n);
	drain(sp[0]);
	drain(sp[1]);
	return 0;
}

/* Fuzz target: virtio-blk requests end to end (virtqueue -> request parse -> I/O on a 64 KiB in-memory disk). */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "kvm/virtio-blk.h"

/*
 * Input: u8 ring features (1 indirect, 2 event_idx), u8 queue size log2 (0..4), u8 kicks, u8 flags (1 read-only
 * disk, 2 reset and bring up again halfway, 4 check live migration's dirty tracking: fuzz.h), then guest RAM laid
 * out as fuzz.h's FZ_Q* rings and FZ_BUF buffers.
 */
#define DISK_BYTES 0x10000

static int disk_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	disk_fd = memfd_create("fuzz-disk", MFD_CLOEXEC);
	return disk_fd < 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz f = fz_init(data, size);
	u8 feat = fz_u8(&f), lg = fz_u8(&f) % 5, kicks = fz_u8(&f) % 8, flags = fz_u8(&f);
	char id[VIRTIO_BLK_ID_BYTES] = "fuzz-disk";
	struct device_list bus = { 0 };
	struct guest_ram *ram;
	struct virtio_blk *b;
	static struct fz_dirty dirty;
	bool track = (flags & 4) && !(feat & 1);
	size_t got;
	const u8 *rest = fz_bytes(&f, FZ_RAM_SIZE, &got);

	ram = fz_ram(rest, got);
	static u8 pattern[DISK_BYTES];
	if (!pattern[1])
		for (unsigned int i = 0; i < DISK_BYTES; i++)
			pattern[i] = (u8)(i * 7 + 1); /* reads must change guest RAM, or the dirty check sees nothing */
	if (pwrite(disk_fd, pattern, DISK_BYTES, 0) != DISK_BYTES || ftruncate(disk_fd, DISK_BYTES))
		abort();
	b = virtio_blk_create(ram, disk_fd, DISK_BYTES, flags & 1, id);
	if (!b || virtio_mmio_init(&b->vdev, FZ_MMIO_BASE, 16) || virtio_mmio_register(&b->vdev, &bus))
		abort();
	if (track) /* from before DRIVER_OK: the device looks at its queues right then */
		fz_dirty_start(&dirty, ram);
	fz_mmio_up(&bus, &b->vdev, fz_ring_features(feat) | b->ops.features, 1, 1u << lg);
	for (unsigned int k = 0; k <= kicks; k++) {
		if ((flags & 2) && k == 2) {
			fz_mw(&bus, VIRTIO_MMIO_STATUS, 0, 4);
			fz_mmio_up(&bus, &b->vdev, fz_ring_features(feat) | b->ops.features, 1, 1u << lg);
		}
		fz_mw(&bus, VIRTIO_MMIO_QUEUE_NOTIFY, 0, 4);
		fz_poll(&b->vdev);
	}
	if (track)
		fz_dirty_check(&dirty, ram, 1);
	virtio_dev_destroy(&b->vdev);
	free(b->data);
	free(b);
	return 0;
}

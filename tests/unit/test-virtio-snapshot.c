/* Unit tests: a virtio device's transport and queue state survives save/restore; bad saved state is refused. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "kvm/virtio-mmio.h"
#include "kvm/snapshot.h"
#include "kvm/virtio-rng.h"

#define RAM_BASE 0x40000000ULL
#define RAM_SIZE 0x20000ULL
#define MMIO 0x0a000000ULL

static void mw(struct device_list *bus, u64 off, u32 v)
{
	u8 b[4] = { (u8)v, (u8)(v >> 8), (u8)(v >> 16), (u8)(v >> 24) };
	mmio_dispatch(bus, MMIO + off, b, 4, true);
}

/* Save dev's state into a buffer (the payload of a DEVICE section after name and base). */
static size_t save(struct device *dev, u8 *out, size_t cap)
{
	struct snap_writer w;
	size_t n;
	snapw_init(&w, -1);
	snapw_begin(&w, SNAP_SEC_DEVICE);
	dev->quiesce(dev, true);
	dev->save(dev, &w);
	dev->quiesce(dev, false);
	n = w.len < cap ? w.len : cap;
	memcpy(out, w.buf, n);
	snapw_free(&w);
	return n;
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	struct guest_ram ram = { .base = RAM_BASE, .size = RAM_SIZE, .host = calloc(1, RAM_SIZE), .fd = -1 };
	struct device_list bus1, bus2;
	struct virtio_rng *a, *b;
	u8 buf[1024], bad[1024];
	char err[256] = "";
	size_t n;
	struct snap_cursor c;

	memset(&bus1, 0, sizeof(bus1));
	memset(&bus2, 0, sizeof(bus2));
	log_set_level(LOG_ERROR);
	a = virtio_rng_create(&ram);
	b = virtio_rng_create(&ram);
	if (virtio_mmio_init(&a->vdev, MMIO, 16) || virtio_mmio_init(&b->vdev, MMIO, 16) ||
	    virtio_mmio_register(&a->vdev, &bus1) || virtio_mmio_register(&b->vdev, &bus2))
		abort();
	/* Drive device a to DRIVER_OK with one queue of 8 at 0x40000000/1000/2000. */
	mw(&bus1, VIRTIO_MMIO_STATUS, 3);
	mw(&bus1, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mw(&bus1, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	mw(&bus1, VIRTIO_MMIO_STATUS, 0xb);
	mw(&bus1, VIRTIO_MMIO_QUEUE_SEL, 0);
	mw(&bus1, VIRTIO_MMIO_QUEUE_NUM, 8);
	mw(&bus1, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)RAM_BASE);
	mw(&bus1, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (u32)RAM_BASE + 0x1000);
	mw(&bus1, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u32)RAM_BASE + 0x2000);
	mw(&bus1, VIRTIO_MMIO_QUEUE_READY, 1);
	mw(&bus1, VIRTIO_MMIO_STATUS, 0xf);
	a->vdev.vq[0].last_avail = 5;
	a->vdev.vq[0].used_idx = 5;

	CHECK(&uc, a->vdev.dev.save && a->vdev.dev.restore && a->vdev.dev.quiesce, "virtio devices carry snapshot hooks");
	n = save(&a->vdev.dev, buf, sizeof(buf));
	CHECK(&uc, n > 64, "state saved (%zu bytes)", n);
	c = snap_cursor(buf, n);
	CHECK(&uc, b->vdev.dev.restore(&b->vdev.dev, &c, err, sizeof(err)) == 0, "restored: %s", err);
	CHECK(&uc, b->vdev.status == 0xf && b->vdev.vq[0].ready && b->vdev.vq[0].size == 8, "status and queue enabled");
	CHECK(&uc, b->vdev.vq[0].last_avail == 5 && b->vdev.vq[0].used_idx == 5, "queue indices carried over");
	CHECK(&uc, b->vdev.vq[0].desc_gpa == RAM_BASE && b->vdev.vq[0].used_gpa == RAM_BASE + 0x2000, "ring addresses");
	CHECK(&uc, b->vdev.drv_features == a->vdev.drv_features, "negotiated features");

	/* A saved ring address outside RAM must be refused, not trusted. */
	memcpy(bad, buf, n);
	{
		/* desc_gpa of queue 0: after 9 u32 + 1 u64 header, num(u32) + 3 u64 qregs + flags + size = 9*4+8+4+24+8 */
		size_t off = 9 * 4 + 8 + 4 + 24 + 8;
		u64 evil = 0xfffffffffffff000ULL;
		memcpy(bad + off, &evil, 8);
	}
	c = snap_cursor(bad, n);
	CHECK(&uc, b->vdev.dev.restore(&b->vdev.dev, &c, err, sizeof(err)) == -1 && strstr(err, "invalid"),
	      "queue outside RAM refused: %s", err);
	/* Truncated state is refused at every length. */
	{
		int bad_cuts = 0;
		for (size_t cut = 0; cut < n; cut++) {
			c = snap_cursor(buf, cut);
			if (b->vdev.dev.restore(&b->vdev.dev, &c, err, sizeof(err)) != -1)
				bad_cuts++;
		}
		CHECK(&uc, bad_cuts == 0, "every truncation of the device state refused");
	}
	/* State of another device type is refused. */
	memcpy(bad, buf, n);
	bad[4] ^= 1; /* device id */
	c = snap_cursor(bad, n);
	CHECK(&uc, b->vdev.dev.restore(&b->vdev.dev, &c, err, sizeof(err)) == -1, "other device type refused: %s", err);
	virtio_dev_destroy(&a->vdev);
	virtio_dev_destroy(&b->vdev);
	free(a);
	free(b);
	free(ram.host);
	UNIT_DONE(&uc);
}

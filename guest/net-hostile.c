/* Hostile virtio-net driver (virtio-mmio): empty, header-only and oversized frames, a flood, a chain outside RAM. */
#include <arch.h>
#include <boot.h>
#include <console.h>
#include <mmio.h>
#include <printf.h>
#include <types.h>

/* lkvm's documented map (README): virtio-mmio slots from 0x03000000, 0x200 apart; RAM from 0x80000000. */
#define MMIO_BASE 0x03000000UL
#define MMIO_SLOT 0x200UL
#define MMIO_SLOTS 32
#define RAM_BASE 0x80000000UL

#define R_MAGIC 0x000
#define R_DEVICE_ID 0x008
#define R_DRV_FEATURES 0x020
#define R_DRV_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_STATUS 0x070
#define R_DESC 0x080
#define R_DRIVER 0x090
#define R_DEVICE 0x0a0

#define QSZ 8
#define TXQ 1
#define HDR 12
#define F_NEXT 1

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* One queue's rings, aligned as VIRTIO 1.x asks (desc 16, avail 2, used 4). */
struct ring {
	struct desc desc[QSZ];
	uint16_t avail_flags __attribute__((aligned(64)));
	uint16_t avail_idx, avail_ring[QSZ], used_event;
	uint16_t used_flags __attribute__((aligned(64)));
	uint16_t used_idx;
	struct {
		uint32_t id, len;
	} used_ring[QSZ];
	uint16_t avail_event;
} __attribute__((aligned(64)));

static struct ring rings[2];
static uint8_t frame[HDR + 60] __attribute__((aligned(64)));
static uint64_t dev;

/* MMU and caches are off here: keep the host's cacheable view and ours the same around every ring access. */
static void sync_range(const volatile void *p, uint64_t len)
{
	for (uint64_t a = (uint64_t)p & ~63UL; a < (uint64_t)p + len; a += 64)
		dcache_clean_inval((const volatile void *)a);
}

static void set64(uint64_t reg, uint64_t v)
{
	mmio_write32(dev + reg, (uint32_t)v);
	mmio_write32(dev + reg + 4, (uint32_t)(v >> 32));
}

/* Reset and bring the device up with VERSION_1 only and both queues; returns the status read back. */
static uint32_t bring_up(void)
{
	sync_range(rings, sizeof(rings));
	for (unsigned int i = 0; i < sizeof(rings); i++)
		((volatile uint8_t *)rings)[i] = 0;
	sync_range(rings, sizeof(rings));
	mmio_write32(dev + R_STATUS, 0);
	mmio_write32(dev + R_STATUS, 1);
	mmio_write32(dev + R_STATUS, 3);
	mmio_write32(dev + R_DRV_FEATURES_SEL, 1);
	mmio_write32(dev + R_DRV_FEATURES, 1); /* VIRTIO_F_VERSION_1 */
	mmio_write32(dev + R_DRV_FEATURES_SEL, 0);
	mmio_write32(dev + R_DRV_FEATURES, 0);
	mmio_write32(dev + R_STATUS, 0xb);
	for (unsigned int q = 0; q < 2; q++) {
		mmio_write32(dev + R_QUEUE_SEL, q);
		mmio_write32(dev + R_QUEUE_NUM, QSZ);
		set64(R_DESC, (uint64_t)rings[q].desc);
		set64(R_DRIVER, (uint64_t)&rings[q].avail_flags);
		set64(R_DEVICE, (uint64_t)&rings[q].used_flags);
		mmio_write32(dev + R_QUEUE_READY, 1);
	}
	mmio_write32(dev + R_STATUS, 0xf);
	return mmio_read32(dev + R_STATUS);
}

/* Post a chain of n descriptors on the transmit queue and kick; wait up to ~3 s for the device to return it. */
static bool send_chain(const struct desc *d, unsigned int n)
{
	volatile struct ring *r = &rings[TXQ];
	uint16_t idx = r->avail_idx, want;
	uint64_t t0, limit = timer_freq() * 3;

	for (unsigned int i = 0; i < n; i++) {
		r->desc[i] = d[i];
		r->desc[i].flags = (uint16_t)(d[i].flags | (i + 1 < n ? F_NEXT : 0));
		r->desc[i].next = (uint16_t)(i + 1);
	}
	r->avail_ring[idx % QSZ] = 0;
	sync_range(r, sizeof(*r));
	dsb(sy);
	r->avail_idx = (uint16_t)(idx + 1);
	sync_range(&r->avail_idx, 2);
	dsb(sy);
	mmio_write32(dev + R_QUEUE_NOTIFY, TXQ);
	want = (uint16_t)(idx + 1);
	t0 = timer_now();
	for (;;) {
		sync_range(&r->used_idx, 2);
		if (r->used_idx == want)
			return true;
		if (timer_now() - t0 > limit)
			return false;
		cpu_relax();
	}
}

static void one(const char *what, uint64_t addr, uint32_t len)
{
	struct desc d = { .addr = addr, .len = len };

	printf("NET-HOSTILE %s: returned=%d status=%#x\n", what, send_chain(&d, 1), mmio_read32(dev + R_STATUS));
}

void guest_main(const struct fdt *fdt)
{
	unsigned int sent = 0;
	struct desc two[2];

	(void)fdt;
	for (unsigned int s = 0; s < MMIO_SLOTS && !dev; s++) {
		uint64_t b = MMIO_BASE + s * MMIO_SLOT;
		if (mmio_read32(b + R_MAGIC) == 0x74726976 && mmio_read32(b + R_DEVICE_ID) == 1)
			dev = b;
	}
	if (!dev) {
		printf("NET-HOSTILE no virtio-net on virtio-mmio\n");
		return;
	}
	printf("NET-HOSTILE device at %#lx status=%#x\n", dev, bring_up());
	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = 0;
	for (unsigned int i = HDR; i < HDR + 6; i++)
		frame[i] = 0xff; /* broadcast */
	frame[HDR + 6] = 0x02;
	frame[HDR + 12] = 0x88; /* local experimental ethertype */
	frame[HDR + 13] = 0xb5;
	sync_range(frame, sizeof(frame));

	one("zero-length", (uint64_t)frame, 0);
	one("header-only", (uint64_t)frame, HDR);
	one("oversized", RAM_BASE, HDR + 70000); /* our own image and beyond: inside RAM, too big for a frame */
	two[0] = (struct desc){ .addr = (uint64_t)frame, .len = HDR };
	two[1] = (struct desc){ .addr = RAM_BASE, .len = 0x7fffffff }; /* a 2 GiB frame, mostly past RAM's end */
	printf("NET-HOSTILE huge-chain: returned=%d status=%#x\n", send_chain(two, 2), mmio_read32(dev + R_STATUS));
	if (mmio_read32(dev + R_STATUS) & 0x40)
		printf("NET-HOSTILE after huge-chain: reset again status=%#x\n", bring_up());
	one("valid", (uint64_t)frame, sizeof(frame));
	for (unsigned int i = 0; i < 300; i++) {
		if (!send_chain(&(struct desc){ .addr = (uint64_t)frame, .len = sizeof(frame) }, 1))
			break; /* one lost chain is enough to fail the check; do not wait 3 s for each of the rest */
		sent++;
	}
	printf("NET-HOSTILE flood: %u of 300 returned status=%#x\n", sent, mmio_read32(dev + R_STATUS));
	one("outside-ram", 0x100000000000UL, 100);
	printf("NET-HOSTILE needs-reset=%d\n", !!(mmio_read32(dev + R_STATUS) & 0x40));
	printf("NET-HOSTILE reset: status=%#x\n", bring_up());
	one("after-reset valid", (uint64_t)frame, sizeof(frame));
	printf("NET-HOSTILE done\n");
}

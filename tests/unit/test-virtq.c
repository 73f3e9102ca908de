/* Unit tests: split virtqueue rules and the virtio-mmio transport, driven like a (hostile) guest driver would. */
#include <endian.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "kvm/virtio-mmio.h"

#define RAM_BASE 0x40000000ULL
#define RAM_SIZE 0x10000ULL
#define RAM_END (RAM_BASE + RAM_SIZE)
#define MMIO_BASE 0x0a000000ULL
#define QSIZE 8
#define DESC (RAM_BASE + 0x0000)
#define AVAIL (RAM_BASE + 0x1000)
#define USED (RAM_BASE + 0x2000)
#define TABLE (RAM_BASE + 0x3000) /* indirect tables */
#define BUF (RAM_BASE + 0x4000)   /* data buffers */

#define F_INDIRECT VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC)
#define F_EVENT_IDX VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX)
#define F_V1 VIRTIO_FEATURE(VIRTIO_F_VERSION_1)

/* A fake guest: RAM, a bus with one dummy device that echoes every chain back with its writable length. */
struct env {
	struct guest_ram ram;
	struct device_list bus;
	struct virtio_dev vdev;
	struct virtio_dev_ops ops;
	int chains;
	unsigned int last_out, last_in;
	u64 last_out_len, last_in_len;
	u16 avail_idx;
};

static void dummy_notify(struct virtio_dev *vm, unsigned int q)
{
	struct env *e = vm->priv;
	struct virtq_chain ch;

	do {
		while (virtio_dev_pop(vm, q, &ch)) {
			e->chains++;
			e->last_out = ch.n_out;
			e->last_in = ch.n_in;
			e->last_out_len = ch.out_len;
			e->last_in_len = ch.in_len;
			/* touch every byte, so ASan sees any out-of-bounds buffer */
			for (unsigned int i = 0; i < ch.n_out + ch.n_in; i++)
				memset(ch.iov[i].iov_base, 0x5a, ch.iov[i].iov_len);
			virtq_push(&vm->vq[q], ch.head, (u32)ch.in_len);
		}
	} while (virtio_dev_done(vm, q));
}

static void *host(struct env *e, u64 gpa, u64 len)
{
	void *p = gpa_to_host(&e->ram, gpa, len);
	if (!p)
		abort();
	return p;
}

static void env_init(struct env *e, u64 base)
{
	memset(e, 0, sizeof(*e));
	e->ram = (struct guest_ram){ .base = RAM_BASE, .size = RAM_SIZE, .host = calloc(1, RAM_SIZE), .fd = -1 };
	e->ops = (struct virtio_dev_ops){ .name = "dummy", .device_id = 42, .nr_queues = 1, .queue_max = QSIZE,
					  .queue_notify = dummy_notify };
	if (!e->ram.host || virtio_dev_init(&e->vdev, &e->ops, e, &e->ram, 8) || virtio_mmio_init(&e->vdev, base, 16) ||
	    virtio_mmio_register(&e->vdev, &e->bus))
		abort();
}

static void env_fini(struct env *e)
{
	virtio_dev_destroy(&e->vdev);
	free(e->ram.host);
}

static void mw(struct env *e, u64 off, u32 v)
{
	u8 d[4] = { (u8)v, (u8)(v >> 8), (u8)(v >> 16), (u8)(v >> 24) };
	mmio_dispatch(&e->bus, e->vdev.dev.mmio_base + off, d, 4, true);
}

static u32 mr(struct env *e, u64 off)
{
	u8 d[4];
	mmio_dispatch(&e->bus, e->vdev.dev.mmio_base + off, d, 4, false);
	return (u32)d[0] | (u32)d[1] << 8 | (u32)d[2] << 16 | (u32)d[3] << 24;
}

static void desc(struct env *e, u64 table, unsigned int i, u64 addr, u32 len, u16 flags, u16 next)
{
	struct virtq_desc d = { htole64(addr), htole32(len), htole16(flags), htole16(next) };
	memcpy(host(e, table + i * 16ULL, 16), &d, 16);
}

static void avail_add(struct env *e, u16 head)
{
	struct virtq_avail *a = host(e, AVAIL, VIRTQ_AVAIL_BYTES(QSIZE));
	a->ring[e->avail_idx % QSIZE] = htole16(head);
	e->avail_idx++;
	__atomic_store_n(&a->idx, htole16(e->avail_idx), __ATOMIC_RELEASE);
}

static u16 used_idx(struct env *e)
{
	return le16toh(((struct virtq_used *)host(e, USED, 4))->idx);
}

/* Driver bring-up (VIRTIO 3.1.1) with the given feature bits and one queue. */
static void setup_queue(struct env *e, unsigned int num, u64 d, u64 a, u64 u)
{
	mw(e, VIRTIO_MMIO_QUEUE_SEL, 0);
	mw(e, VIRTIO_MMIO_QUEUE_NUM, num);
	mw(e, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)d);
	mw(e, VIRTIO_MMIO_QUEUE_DESC_HIGH, (u32)(d >> 32));
	mw(e, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (u32)a);
	mw(e, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (u32)(a >> 32));
	mw(e, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u32)u);
	mw(e, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (u32)(u >> 32));
	mw(e, VIRTIO_MMIO_QUEUE_READY, 1);
}

static void negotiate(struct env *e, u64 features)
{
	mw(e, VIRTIO_MMIO_STATUS, 0);
	mw(e, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	mw(e, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mw(e, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mw(e, VIRTIO_MMIO_DRIVER_FEATURES, (u32)features);
	mw(e, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mw(e, VIRTIO_MMIO_DRIVER_FEATURES, (u32)(features >> 32));
	mw(e, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
}

static void driver_ok(struct env *e)
{
	mw(e, VIRTIO_MMIO_STATUS, mr(e, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
	virtio_dev_poll(&e->vdev, 0);
}

static void bring_up(struct env *e, u64 features)
{
	negotiate(e, features);
	setup_queue(e, QSIZE, DESC, AVAIL, USED);
	driver_ok(e);
}

static void kick(struct env *e)
{
	mw(e, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	while (virtio_dev_poll(&e->vdev, 0) > 0)
		;
}

static bool needs_reset(struct env *e)
{
	return (mr(e, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET) &&
	       (mr(e, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
}

static bool irq_pending(struct env *e)
{
	struct pollfd p = { .fd = virtio_mmio_of(&e->vdev)->irq_fd, .events = POLLIN };
	u64 v;
	if (poll(&p, 1, 0) != 1)
		return false;
	return read(virtio_mmio_of(&e->vdev)->irq_fd, &v, sizeof(v)) == sizeof(v);
}

static int count_pulse(void *ctx, unsigned int spi, int level)
{
	int *n = ctx;
	(void)spi;
	if (level)
		(*n)++;
	return 0;
}

/* A scenario: bring up with features, let `build` lay out a chain, kick; report whether needs-reset was set. */
typedef void (*build_fn)(struct env *e);

static char why[128];

static bool violation(u64 features, build_fn build, int *chains, const char *expect)
{
	struct env e;
	bool r;

	env_init(&e, MMIO_BASE);
	bring_up(&e, F_V1 | features);
	build(&e);
	kick(&e);
	r = needs_reset(&e) && used_idx(&e) == 0 && strstr(e.vdev.vq[0].why, expect);
	snprintf(why, sizeof(why), "%s", e.vdev.vq[0].why);
	*chains = e.chains;
	/* The queue stays dead until reset: a second kick does nothing and does not crash. */
	kick(&e);
	r = r && e.chains == *chains;
	env_fini(&e);
	return r;
}

static void b_self_loop(struct env *e)
{
	desc(e, DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	avail_add(e, 0);
}

static void b_two_cycle(struct env *e)
{
	desc(e, DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(e, DESC, 1, BUF + 16, 16, VIRTQ_DESC_F_NEXT, 0);
	avail_add(e, 0);
}

static void b_head_oob(struct env *e)
{
	avail_add(e, QSIZE);
}

static void b_next_oob(struct env *e)
{
	desc(e, DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 200);
	avail_add(e, 0);
}

static void b_past_ram_end(struct env *e)
{
	desc(e, DESC, 0, RAM_END - 8, 16, 0, 0);
	avail_add(e, 0);
}

static void b_wraps_2_64(struct env *e)
{
	desc(e, DESC, 0, 0xfffffffffffffff0ULL, 0x20, VIRTQ_DESC_F_WRITE, 0);
	avail_add(e, 0);
}

static void b_huge_len(struct env *e)
{
	desc(e, DESC, 0, BUF, 0xffffffff, VIRTQ_DESC_F_WRITE, 0);
	avail_add(e, 0);
}

static void b_indirect(struct env *e)
{
	desc(e, TABLE, 0, BUF, 16, 0, 0);
	desc(e, DESC, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(e, 0);
}

static void b_nested_indirect(struct env *e)
{
	desc(e, TABLE + 0x100, 0, BUF, 16, 0, 0);
	desc(e, TABLE, 0, TABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc(e, DESC, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(e, 0);
}

static void b_indirect_bad_len(struct env *e)
{
	desc(e, DESC, 0, TABLE, 24, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(e, 0);
}

static void b_indirect_too_long(struct env *e)
{
	desc(e, DESC, 0, TABLE, (QSIZE + 1) * 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(e, 0);
}

static void b_indirect_outside(struct env *e)
{
	desc(e, DESC, 0, RAM_END - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(e, 0);
}

static void b_indirect_cycle(struct env *e)
{
	desc(e, TABLE, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(e, TABLE, 1, BUF + 16, 16, VIRTQ_DESC_F_NEXT, 0);
	desc(e, DESC, 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(e, 0);
}

static void b_indirect_with_next(struct env *e)
{
	desc(e, TABLE, 0, BUF, 16, 0, 0);
	desc(e, DESC, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	desc(e, DESC, 1, BUF, 16, 0, 0);
	avail_add(e, 0);
}

static void b_avail_jump(struct env *e)
{
	struct virtq_avail *a = host(e, AVAIL, VIRTQ_AVAIL_BYTES(QSIZE));
	desc(e, DESC, 0, BUF, 16, 0, 0);
	for (int i = 0; i < QSIZE; i++)
		a->ring[i] = 0;
	__atomic_store_n(&a->idx, htole16(QSIZE + 1), __ATOMIC_RELEASE);
}

static void b_read_after_write(struct env *e)
{
	desc(e, DESC, 0, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(e, DESC, 1, BUF + 16, 16, 0, 0);
	avail_add(e, 0);
}

static void b_ring_loop(struct env *e)
{
	/* every descriptor chained to the next, the last back to the first */
	for (unsigned int i = 0; i < QSIZE; i++)
		desc(e, DESC, i, BUF + 16 * i, 16, VIRTQ_DESC_F_NEXT, (u16)((i + 1) % QSIZE));
	avail_add(e, 0);
}

static void b_too_many(struct env *e)
{
	/* one direct buffer, then a full-size indirect table: QSIZE + 1 buffers in one chain */
	for (unsigned int i = 0; i < QSIZE; i++)
		desc(e, TABLE, i, BUF + 16 * i, 16, i + 1 < QSIZE ? VIRTQ_DESC_F_NEXT : 0, (u16)(i + 1));
	desc(e, DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(e, DESC, 1, TABLE, QSIZE * 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(e, 0);
}

static bool bad_queue(unsigned int num, u64 d, u64 a, u64 u, const char *expect)
{
	struct env e;
	bool r;

	env_init(&e, MMIO_BASE);
	negotiate(&e, F_V1);
	setup_queue(&e, num, d, a, u);
	r = mr(&e, VIRTIO_MMIO_QUEUE_READY) == 0 && needs_reset(&e) && strstr(e.vdev.vq[0].why, expect);
	snprintf(why, sizeof(why), "%s", e.vdev.vq[0].why);
	env_fini(&e);
	return r;
}

static void test_violations(struct unit_counts *uc)
{
	int n;

	CHECK(uc, violation(0, b_self_loop, &n, "loops") && n == 0, "self-looping descriptor: needs reset (%s)", why);
	CHECK(uc, violation(0, b_two_cycle, &n, "loops") && n == 0, "two-descriptor cycle: needs reset (%s)", why);
	CHECK(uc, violation(0, b_ring_loop, &n, "loops") && n == 0, "all descriptors in one loop: needs reset (%s)", why);
	CHECK(uc, violation(F_INDIRECT, b_too_many, &n, "more than") && n == 0,
	      "direct + indirect buffers more than the queue size: needs reset (%s)", why);
	CHECK(uc, violation(0, b_head_oob, &n, "head index") && n == 0, "head index >= size: needs reset (%s)", why);
	CHECK(uc, violation(0, b_next_oob, &n, "next index") && n == 0, "next index >= size: needs reset (%s)", why);
	CHECK(uc, violation(0, b_past_ram_end, &n, "outside guest RAM") && n == 0, "buffer past the end of RAM: needs reset (%s)", why);
	CHECK(uc, violation(0, b_wraps_2_64, &n, "outside guest RAM") && n == 0, "buffer wrapping 2^64: needs reset (%s)", why);
	CHECK(uc, violation(0, b_huge_len, &n, "outside guest RAM") && n == 0, "4 GiB buffer in 64 KiB of RAM: needs reset (%s)", why);
	CHECK(uc, violation(0, b_indirect, &n, "not negotiated") && n == 0, "indirect descriptor not negotiated: needs reset (%s)", why);
	CHECK(uc, violation(F_INDIRECT, b_nested_indirect, &n, "nested") && n == 0, "nested indirect table: needs reset (%s)", why);
	CHECK(uc, violation(F_INDIRECT, b_indirect_bad_len, &n, "multiple of 16") && n == 0, "indirect length 24: needs reset (%s)", why);
	CHECK(uc, violation(F_INDIRECT, b_indirect_too_long, &n, "multiple of 16") && n == 0, "indirect table > size: needs reset (%s)", why);
	CHECK(uc, violation(F_INDIRECT, b_indirect_outside, &n, "indirect table 0x") && n == 0, "indirect table outside RAM: needs reset (%s)", why);
	CHECK(uc, violation(F_INDIRECT, b_indirect_cycle, &n, "(indirect table)") && n == 0, "cycle inside an indirect table: needs reset (%s)", why);
	CHECK(uc, violation(F_INDIRECT, b_indirect_with_next, &n, "NEXT set") && n == 0, "INDIRECT together with NEXT: needs reset (%s)", why);
	CHECK(uc, violation(0, b_avail_jump, &n, "entries past") && n == 0, "avail index jumping size+1 ahead: needs reset (%s)", why);
	CHECK(uc, violation(0, b_read_after_write, &n, "readable descriptor after") && n == 0, "readable after writable: needs reset (%s)", why);

	CHECK(uc, bad_queue(6, DESC, AVAIL, USED, "power of two"), "queue size 6 (not a power of two): refused, needs reset");
	CHECK(uc, bad_queue(QSIZE * 2, DESC, AVAIL, USED, "power of two"), "queue size above QueueNumMax: refused, needs reset");
	CHECK(uc, bad_queue(0, DESC, AVAIL, USED, "power of two"), "queue size 0: refused, needs reset");
	CHECK(uc, bad_queue(QSIZE, DESC + 8, AVAIL, USED, "misaligned"), "descriptor table not 16-aligned: needs reset (%s)", why);
	CHECK(uc, bad_queue(QSIZE, DESC, AVAIL + 1, USED, "misaligned"), "avail ring not 2-aligned: needs reset (%s)", why);
	CHECK(uc, bad_queue(QSIZE, DESC, AVAIL, USED + 2, "misaligned"), "used ring not 4-aligned: needs reset (%s)", why);
	CHECK(uc, bad_queue(QSIZE, RAM_END - 64, AVAIL, USED, "outside"), "descriptor table running past RAM: needs reset (%s)", why);
	CHECK(uc, bad_queue(QSIZE, DESC, AVAIL, RAM_END - 8, "outside"), "used ring running past RAM: needs reset (%s)", why);
	CHECK(uc, bad_queue(QSIZE, DESC, 0x1000, USED, "outside"), "avail ring below RAM: needs reset (%s)", why);
	CHECK(uc, bad_queue(QSIZE, 0xfffffffffffffff0ULL, AVAIL, USED, "outside"), "descriptor table at 2^64-16: needs reset (%s)", why);
}

static void test_normal(struct unit_counts *uc)
{
	struct env e, other;
	struct virtq_used *u;
	u8 cfg[8];

	env_init(&e, MMIO_BASE);
	CHECK(uc, mr(&e, VIRTIO_MMIO_MAGIC_VALUE) == VIRTIO_MMIO_MAGIC && mr(&e, VIRTIO_MMIO_VERSION) == 2 &&
			  mr(&e, VIRTIO_MMIO_DEVICE_ID) == 42,
	      "magic, version 2, device id");
	mw(&e, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	CHECK(uc, mr(&e, VIRTIO_MMIO_DEVICE_FEATURES) & 1, "VERSION_1 offered");
	CHECK(uc, mr(&e, VIRTIO_MMIO_QUEUE_NUM_MAX) == QSIZE, "QueueNumMax");
	mw(&e, VIRTIO_MMIO_QUEUE_SEL, 1);
	CHECK(uc, mr(&e, VIRTIO_MMIO_QUEUE_NUM_MAX) == 0, "QueueNumMax 0 for a queue that does not exist");

	/* Feature negotiation: VERSION_1 is required, unoffered bits are refused. */
	negotiate(&e, 0);
	CHECK(uc, !(mr(&e, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK), "FEATURES_OK refused without VERSION_1");
	negotiate(&e, F_V1 | (1ULL << 40));
	CHECK(uc, !(mr(&e, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK), "FEATURES_OK refused for unoffered bits");
	negotiate(&e, F_V1 | F_INDIRECT);
	CHECK(uc, mr(&e, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, "FEATURES_OK accepted");

	setup_queue(&e, QSIZE, DESC, AVAIL, USED);
	CHECK(uc, mr(&e, VIRTIO_MMIO_QUEUE_READY) == 1, "QueueReady reads back 1");
	/* A chain queued before DRIVER_OK is picked up when DRIVER_OK arrives. */
	desc(&e, DESC, 3, BUF, 16, VIRTQ_DESC_F_NEXT, 5);
	desc(&e, DESC, 5, BUF + 0x100, 32, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 6);
	desc(&e, DESC, 6, BUF + 0x200, 0, VIRTQ_DESC_F_WRITE, 0); /* empty: skipped */
	avail_add(&e, 3);
	driver_ok(&e);
	u = host(&e, USED, VIRTQ_USED_BYTES(QSIZE));
	CHECK(uc, e.chains == 1 && e.last_out == 1 && e.last_in == 1 && e.last_out_len == 16 && e.last_in_len == 32,
	      "normal chain: 1 readable + 1 writable buffer (%d chains)", e.chains);
	CHECK(uc, used_idx(&e) == 1 && le32toh(u->ring[0].id) == 3 && le32toh(u->ring[0].len) == 32,
	      "used ring: id 3, len 32, idx 1");
	CHECK(uc, (mr(&e, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING) && irq_pending(&e),
	      "used-buffer interrupt raised through the irq eventfd");
	mw(&e, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	CHECK(uc, mr(&e, VIRTIO_MMIO_INTERRUPT_STATUS) == 0, "InterruptACK clears the bit");
	CHECK(uc, !needs_reset(&e), "no needs-reset for a well-formed chain");

	/* Indirect (negotiated): header + two-entry table. */
	desc(&e, TABLE, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	desc(&e, TABLE, 1, BUF + 0x100, 100, VIRTQ_DESC_F_WRITE, 0);
	desc(&e, DESC, 1, TABLE, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	avail_add(&e, 1);
	kick(&e);
	CHECK(uc, e.chains == 2 && e.last_out_len == 8 && e.last_in_len == 100 && used_idx(&e) == 2,
	      "indirect chain walked when negotiated");

	/* Config space reads of any width; beyond it reads as zero. */
	e.vdev.config[0] = 0x11;
	e.vdev.config[7] = 0x77;
	mmio_dispatch(&e.bus, MMIO_BASE + VIRTIO_MMIO_CONFIG, cfg, 8, false);
	CHECK(uc, cfg[0] == 0x11 && cfg[7] == 0x77, "8-byte config read");
	mmio_dispatch(&e.bus, MMIO_BASE + VIRTIO_MMIO_CONFIG + 6, cfg, 4, false);
	CHECK(uc, cfg[1] == 0x77 && cfg[2] == 0 && cfg[3] == 0, "config read past config_size is zero");

	/* A guest error on one device leaves another one working. */
	env_init(&other, MMIO_BASE + 0x200);
	bring_up(&other, F_V1);
	b_two_cycle(&other);
	kick(&other);
	CHECK(uc, needs_reset(&other), "second device broken by its guest driver");
	desc(&e, DESC, 2, BUF, 16, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&e, 2);
	kick(&e);
	CHECK(uc, e.chains == 3 && !needs_reset(&e), "first device keeps working");

	/* Without irqfd the interrupt is a KVM_IRQ_LINE pulse on the SPI: rise, then fall. */
	{
		struct virtio_mmio *m = virtio_mmio_of(&e.vdev);
		int pulses = 0;
		m->irq_ctx = &pulses;
		m->irq_line = count_pulse;
		irq_pending(&e); /* drain */
		desc(&e, DESC, 3, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
		avail_add(&e, 3);
		kick(&e);
		CHECK(uc, used_idx(&e) == 4 && pulses == 1 && !irq_pending(&e),
		      "no irqfd: the interrupt is one SPI pulse through the fallback (used %u, pulses %d)", used_idx(&e),
		      pulses);
		m->irq_line = NULL;
	}

	/* Reset (status 0) clears needs-reset; the device works again after a fresh bring-up. */
	mw(&other, VIRTIO_MMIO_STATUS, 0);
	CHECK(uc, mr(&other, VIRTIO_MMIO_STATUS) == 0 && mr(&other, VIRTIO_MMIO_QUEUE_READY) == 0 &&
			  mr(&other, VIRTIO_MMIO_INTERRUPT_STATUS) == 0,
	      "reset clears status, queue and interrupt state");
	memset(host(&other, AVAIL, VIRTQ_AVAIL_BYTES(QSIZE)), 0, VIRTQ_AVAIL_BYTES(QSIZE));
	memset(host(&other, USED, VIRTQ_USED_BYTES(QSIZE)), 0, VIRTQ_USED_BYTES(QSIZE));
	other.avail_idx = 0;
	bring_up(&other, F_V1);
	desc(&other, DESC, 0, BUF, 16, 0, 0);
	avail_add(&other, 0);
	kick(&other);
	CHECK(uc, other.chains == 1 && used_idx(&other) == 1 && !needs_reset(&other), "device usable after reset");
	/* The driver cannot clear NEEDS_RESET by writing status. */
	b_self_loop(&other);
	kick(&other);
	mw(&other, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	CHECK(uc, mr(&other, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, "NEEDS_RESET survives status writes");
	env_fini(&other);
	env_fini(&e);
}

static void test_event_idx(struct unit_counts *uc)
{
	struct env e;
	struct virtq_avail *a;
	struct virtq_used *u;

	env_init(&e, MMIO_BASE);
	bring_up(&e, F_V1 | F_EVENT_IDX);
	a = host(&e, AVAIL, VIRTQ_AVAIL_BYTES(QSIZE));
	u = host(&e, USED, VIRTQ_USED_BYTES(QSIZE));
	irq_pending(&e);
	/* used_event = 5: no interrupt until used->idx passes 5. */
	a->ring[QSIZE] = htole16(5);
	for (int i = 0; i < 3; i++) {
		desc(&e, DESC, (unsigned)i, BUF, 16, VIRTQ_DESC_F_WRITE, 0);
		avail_add(&e, (u16)i);
	}
	kick(&e);
	CHECK(uc, used_idx(&e) == 3 && !irq_pending(&e), "used_event 5: no interrupt at used idx 3");
	CHECK(uc, le16toh(*(u16 *)&u->ring[QSIZE]) == 3, "avail_event published as 3");
	for (int i = 0; i < 3; i++)
		avail_add(&e, (u16)i);
	kick(&e);
	CHECK(uc, used_idx(&e) == 6 && irq_pending(&e), "used idx 6 passes used_event 5: interrupt");
	env_fini(&e);
}

/* Engine-level checks without the transport. */
static void test_engine(struct unit_counts *uc)
{
	struct env e;
	struct virtq vq;
	struct virtq_chain ch;
	struct iovec iov[QSIZE];
	struct virtq_avail *a;
	u8 flat[8] = { 0 };

	env_init(&e, MMIO_BASE);
	CHECK(uc, virtq_enable(&vq, &e.ram, QSIZE, QSIZE, DESC, AVAIL, USED, false, false) == 0 && vq.ready,
	      "virtq_enable accepts a valid layout");
	CHECK(uc, virtq_enable(&vq, &e.ram, 65536, 65536, DESC, AVAIL, USED, false, false) == -1 && !vq.ready,
	      "queue size 65536 refused (%s)", vq.why);
	CHECK(uc, virtq_enable(&vq, &e.ram, QSIZE, QSIZE, DESC, AVAIL, USED, false, false) == 0, "enable again");
	ch.iov = iov;
	ch.iov_cap = QSIZE;
	CHECK(uc, virtq_pop(&vq, &ch) == 0, "empty ring pops nothing");
	a = host(&e, AVAIL, VIRTQ_AVAIL_BYTES(QSIZE));
	/* NO_INTERRUPT honoured without event index. */
	a->flags = htole16(VIRTQ_AVAIL_F_NO_INTERRUPT);
	desc(&e, DESC, 0, BUF, 4, 0, 1);
	memcpy(host(&e, BUF, 4), "abcd", 4);
	avail_add(&e, 0);
	CHECK(uc, virtq_pop(&vq, &ch) == 1 && ch.head == 0 && ch.n_out == 1 && ch.out_len == 4,
	      "pop: one readable buffer (NEXT clear: the next field is ignored)");
	CHECK(uc, iov_copy_from(ch.iov, ch.n_out, 1, flat, sizeof(flat)) == 3 && !memcmp(flat, "bcd", 3),
	      "iov_copy_from with skip");
	virtq_push(&vq, ch.head, 0);
	CHECK(uc, !virtq_need_interrupt(&vq), "VIRTQ_AVAIL_F_NO_INTERRUPT suppresses the interrupt");
	CHECK(uc, !virtq_need_interrupt(&vq), "nothing new pushed: no interrupt");
	CHECK(uc, !virtq_rearm(&vq), "rearm: ring drained");
	avail_add(&e, 0);
	CHECK(uc, virtq_rearm(&vq), "rearm sees a buffer added meanwhile");
	/* The avail index wrapping around 16 bits is fine. */
	vq.last_avail = 0xffff;
	vq.used_idx = 0xffff;
	e.avail_idx = 0xffff;
	avail_add(&e, 0);
	CHECK(uc, virtq_pop(&vq, &ch) == 1 && vq.last_avail == 0, "avail index wraps at 2^16");
	env_fini(&e);
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };

	log_set_level(LOG_ERROR); /* the needs-reset lines are expected here */
	test_engine(&uc);
	test_normal(&uc);
	test_event_idx(&uc);
	test_violations(&uc);
	UNIT_DONE(&uc);
}

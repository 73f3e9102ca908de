/* Shared pieces of the libFuzzer targets: an input cursor, a fake guest RAM, a virtio driver over MMIO. */
#ifndef LKVM_FUZZ_H
#define LKVM_FUZZ_H

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/devices.h"
#include "kvm/guest-mem.h"
#include "kvm/log.h"
#include "kvm/virtio-dev.h"
#include "kvm/virtio-mmio.h"

/*
 * Every target defines LLVMFuzzerTestOneInput; a new one (e.g. tests/fuzz/fuzz-9p.c) needs only that file and a
 * seed directory tests/fuzz/corpus/NAME/: the Makefile and tests/fuzz/run.sh pick both up by name.
 */
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* ---- input cursor: reads past the end give zeroes, so every input is a valid program ---- */
struct fz {
	const u8 *p;
	size_t left;
};

static inline struct fz fz_init(const u8 *p, size_t n)
{
	return (struct fz){ p, n };
}
static inline u8 fz_u8(struct fz *f)
{
	if (!f->left)
		return 0;
	f->left--;
	return *f->p++;
}
static inline u16 fz_u16(struct fz *f)
{
	return (u16)(fz_u8(f) | fz_u8(f) << 8);
}
static inline u32 fz_u32(struct fz *f)
{
	u32 lo = fz_u16(f);
	return lo | (u32)fz_u16(f) << 16;
}
static inline u64 fz_u64(struct fz *f)
{
	u64 lo = fz_u32(f);
	return lo | (u64)fz_u32(f) << 32;
}
/* Up to n bytes (fewer at the end of the input); *got says how many. */
static inline const u8 *fz_bytes(struct fz *f, size_t n, size_t *got)
{
	const u8 *p = f->p;
	if (n > f->left)
		n = f->left;
	f->p += n;
	f->left -= n;
	*got = n;
	return p;
}

/* An access size from one input byte: 1, 2, 4 or 8 as given, anything else 1 << (b & 3). */
static inline unsigned int fz_access_len(u8 b)
{
	return b == 1 || b == 2 || b == 4 || b == 8 ? b : 1u << (b & 3);
}

/* Quiet: guest errors are logged rate-limited by design; the fuzzer's own output should stay readable. */
static inline void fz_quiet(void)
{
	log_set_level(LOG_ERROR);
}

/* A target whose only set-up is fz_quiet(): its LLVMFuzzerInitialize. */
#define FZ_QUIET_INITIALIZE()                                    \
	int LLVMFuzzerInitialize(int *argc, char ***argv)        \
	{                                                        \
		(void)argc;                                      \
		(void)argv;                                      \
		fz_quiet();                                      \
		return 0;                                        \
	}

/* ---- fake guest RAM: FZ_RAM_SIZE bytes at FZ_RAM_BASE, zeroed and then filled from the input each run ---- */
#define FZ_RAM_BASE 0x40000000ULL
#define FZ_RAM_SIZE 0x10000ULL

static inline struct guest_ram *fz_ram(const u8 *init, size_t len)
{
	static struct guest_ram ram;
	if (!ram.host) {
		ram = (struct guest_ram){ .base = FZ_RAM_BASE, .size = FZ_RAM_SIZE, .fd = -1 };
		ram.host = aligned_alloc(4096, FZ_RAM_SIZE);
		if (!ram.host)
			abort();
	}
	memset(ram.host, 0, FZ_RAM_SIZE);
	if (len)
		memcpy(ram.host, init, len < FZ_RAM_SIZE ? len : FZ_RAM_SIZE);
	return &ram;
}

/* ---- a driver bringing a device up over virtio-mmio ---- */
#define FZ_MMIO_BASE 0x0a000000ULL
/*
 * Queue q's rings: descriptors at FZ_RAM_BASE + q * 0x400, avail at + 0x100, used at + 0x200 (room for 16
 * entries); buffers from FZ_BUF. The seed generator (tests/fuzz/mkseeds.py) uses the same layout.
 */
#define FZ_QDESC(q) (FZ_RAM_BASE + (q) * 0x400ULL)
#define FZ_QAVAIL(q) (FZ_QDESC(q) + 0x100)
#define FZ_QUSED(q) (FZ_QDESC(q) + 0x200)
#define FZ_BUF (FZ_RAM_BASE + 0x800)

static inline void fz_mw(struct device_list *bus, u64 off, u32 v, u32 len)
{
	u8 d[4] = { (u8)v, (u8)(v >> 8), (u8)(v >> 16), (u8)(v >> 24) };
	mmio_dispatch(bus, FZ_MMIO_BASE + off, d, len, true);
}
static inline u32 fz_mr(struct device_list *bus, u64 off, u32 len)
{
	u8 d[4] = { 0 };
	mmio_dispatch(bus, FZ_MMIO_BASE + off, d, len, false);
	return (u32)d[0] | (u32)d[1] << 8 | (u32)d[2] << 16 | (u32)d[3] << 24;
}

/* Let the device's worker (run inline, no thread) handle whatever is pending; bounded. */
static inline void fz_poll(struct virtio_dev *vd)
{
	for (int i = 0; i < 8 && virtio_dev_poll(vd, 0) > 0; i++)
		;
}

/* Status/features handshake, nq queues of qsize entries at the FZ_Q* rings, DRIVER_OK. */
static inline void fz_mmio_up(struct device_list *bus, struct virtio_dev *vd, u64 features, unsigned int nq,
			      unsigned int qsize)
{
	fz_mw(bus, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 4);
	fz_mw(bus, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0, 4);
	fz_mw(bus, VIRTIO_MMIO_DRIVER_FEATURES, (u32)features, 4);
	fz_mw(bus, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1, 4);
	fz_mw(bus, VIRTIO_MMIO_DRIVER_FEATURES, (u32)(features >> 32), 4);
	fz_mw(bus, VIRTIO_MMIO_STATUS, 0xb, 4);
	for (unsigned int q = 0; q < nq; q++) {
		fz_mw(bus, VIRTIO_MMIO_QUEUE_SEL, q, 4);
		fz_mw(bus, VIRTIO_MMIO_QUEUE_NUM, qsize, 4);
		fz_mw(bus, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)FZ_QDESC(q), 4);
		fz_mw(bus, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (u32)FZ_QAVAIL(q), 4);
		fz_mw(bus, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u32)FZ_QUSED(q), 4);
		fz_mw(bus, VIRTIO_MMIO_QUEUE_READY, 1, 4);
	}
	fz_mw(bus, VIRTIO_MMIO_STATUS, 0xf, 4);
	fz_poll(vd);
}

/*
 * Live migration's own-writes tracking as an oracle: every page of guest RAM that lkvm changed while tracking must
 * be marked dirty, or a migration would send the old copy. Not checked when the device's writes changed a ring the
 * driver owns (descriptor table or avail ring of the fuzz.h layout) or with indirect tables: a guest that makes the
 * device overwrite its own descriptors only hurts its own copy (virtio/queue.c's mark_chain_written()).
 */
struct fz_dirty {
	u8 before[FZ_RAM_SIZE];
	u64 bits[(FZ_RAM_SIZE / GUEST_DIRTY_PAGE + 63) / 64];
};

static inline void fz_dirty_start(struct fz_dirty *d, struct guest_ram *ram)
{
	memcpy(d->before, ram->host, FZ_RAM_SIZE);
	guest_ram_dirty_start(ram, d->bits);
}

static inline void fz_dirty_check(struct fz_dirty *d, struct guest_ram *ram, unsigned int nq)
{
	guest_ram_dirty_stop(ram);
	for (unsigned int q = 0; q < nq; q++) {
		u64 desc = FZ_QDESC(q) - FZ_RAM_BASE, used = FZ_QUSED(q) - FZ_RAM_BASE;
		if (memcmp(d->before + desc, ram->host + desc, used - desc))
			return; /* the driver's own rings were overwritten by its buffers */
	}
	for (u64 pg = 0; pg < FZ_RAM_SIZE / GUEST_DIRTY_PAGE; pg++) {
		u64 off = pg * GUEST_DIRTY_PAGE;
		if (memcmp(d->before + off, ram->host + off, GUEST_DIRTY_PAGE) && !(d->bits[pg / 64] & (1ULL << (pg % 64)))) {
			fprintf(stderr, "dirty tracking: guest page 0x%llx changed but is not marked dirty\n",
				(unsigned long long)(ram->base + off));
			abort();
		}
	}
}

/* Bits of a one-byte feature selector the device targets take from their input. */
static inline u64 fz_ring_features(u8 sel)
{
	u64 f = VIRTIO_FEATURE(VIRTIO_F_VERSION_1);
	if (sel & 1)
		f |= VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC);
	if (sel & 2)
		f |= VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX);
	return f;
}

#endif

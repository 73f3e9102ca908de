/* Snapshot file format: header, typed length-prefixed sections with CRC32, zero-skipping compressed RAM. */
#ifndef KVM_SNAPSHOT_H
#define KVM_SNAPSHOT_H

#include <stddef.h>

#include "kvm/guest-mem.h"
#include "kvm/util.h"

#define SNAP_MAGIC "LKVMSNAP"
/* Version 1: RAM in compressed RAM sections (streams, and files from older lkvm). Version 2: a regular file whose
 * RAM is one page-aligned, sparse image after the sections (RAM_IMAGE), restored by mapping it. */
#define SNAP_VERSION 1
#define SNAP_VERSION_MAPPED 2
/* Version 3: a live-migration stream (docs/migration.md): RAM as RAM_PAGES sections, sent while the guest runs and
 * again for what it dirtied, then PAUSED and the device state; the destination acknowledges on the same socket. */
#define SNAP_VERSION_MIGRATE 3
#define SNAP_ARCH_ARM64 0xaa64
#define SNAP_FILE_HEADER_SIZE 24

enum snap_section_type {
	SNAP_SEC_CONFIG = 1, /* key=value lines describing the VM; always first */
	SNAP_SEC_RAM = 2,    /* one 2 MiB chunk of guest RAM */
	SNAP_SEC_VCPU = 3,   /* one vCPU: registers, MP state, events, PV-time IPA */
	SNAP_SEC_IRQCHIP = 4,/* vGIC registers as (group, attr, value) triplets */
	SNAP_SEC_DEVICE = 5, /* one device: name, then its own bytes */
	SNAP_SEC_RAM_IMAGE = 6, /* version 2: where the RAM image lies in the file, and a CRC32 per 2 MiB chunk */
	SNAP_SEC_RAM_PAGES = 7, /* version 3: pages of one 2 MiB chunk, zero pages included; a later copy wins */
	SNAP_SEC_PAUSED = 8,    /* version 3: the source paused (its CLOCK_REALTIME); the final state follows */
	SNAP_SEC_RAM_DIGEST = 9,/* version 3, 'migrate --verify': CRC32 of every page of one 2 MiB chunk, sent last */
	SNAP_SEC_END = 0x7fffffff,
};

/* Hard limits the loader enforces before allocating anything. */
#define SNAP_MAX_SECTION (8ULL << 20)
#define SNAP_MAX_CONFIG (64ULL << 10)
#define SNAP_RAM_CHUNK (2ULL << 20)
#define SNAP_PAGE 4096ULL
#define SNAP_CHUNK_PAGES (SNAP_RAM_CHUNK / SNAP_PAGE)
#define SNAP_IMAGE_ALIGN (2ULL << 20) /* the RAM image's file offset: a multiple of every host page size */
#define SNAP_MAX_RAM (4ULL << 40)
#define SNAP_END_BYTES (16 + 16 + 4) /* the END section, framing included */
#define SNAP_MAX_RAM_IMAGE (24 + 4 * (SNAP_MAX_RAM / SNAP_RAM_CHUNK))

/* Writer: buffers one section at a time so each can carry its length and CRC up front. */
struct snap_writer {
	int fd;
	int error; /* first errno seen; once set every call fails */
	u8 *buf;
	size_t len, cap;
	u32 type;
	u64 sections, bytes;
	void *scratch; /* compression buffer */
	u8 *shadow;    /* migration, --debug-unlogged: RAM-sized; snapw_ram_pages() keeps the copy sent of each page */
};

int snapw_init(struct snap_writer *w, int fd);
void snapw_free(struct snap_writer *w);
int snapw_file_header(struct snap_writer *w, u32 version);
void snapw_begin(struct snap_writer *w, u32 type);
void snapw_put(struct snap_writer *w, const void *data, size_t len);
void snapw_u32(struct snap_writer *w, u32 v);
void snapw_u64(struct snap_writer *w, u64 v);
int snapw_end(struct snap_writer *w);
/*
 * Emit a RAM section for [offset, offset + npages pages) of `mem` unless every page is zero. populated (NULL: all)
 * marks the pages that may hold data; the others are taken as zero without being read.
 */
int snapw_ram_chunk(struct snap_writer *w, u64 offset, const u8 *mem, u32 npages, const u8 *populated);
int snapw_finish(struct snap_writer *w, u64 ram_size);
/* True if the SNAP_PAGE bytes at p (8-byte aligned) are all zero. */
bool snap_page_is_zero(const u8 *p);

/* Reader: every byte is untrusted. */
struct snap_reader {
	int fd;
	u64 off; /* bytes consumed so far */
	u8 *payload;
	size_t cap;
	u32 type;
	u64 len;
	u64 sections;
	u32 version; /* from the file header */
	char err[256];
	/* small read-ahead buffer */
	u8 rbuf[65536];
	size_t rpos, rlen;
};

int snapr_init(struct snap_reader *r, int fd);
void snapr_free(struct snap_reader *r);
int snapr_file_header(struct snap_reader *r);
/* 1: a section is in r->type/payload/len; 0: END reached and verified; -1: error in r->err. */
int snapr_next(struct snap_reader *r);
/* Raw bytes after the END section (a version-2 image read from a pipe); 0 or -1 with r->err. */
int snapr_read_raw(struct snap_reader *r, void *dst, size_t len);

/* ---- version 2: the RAM image (snapshot/ram-image.c) ---- */
struct snap_ram_image {
	u64 offset;    /* file offset of guest RAM byte 0; SNAP_IMAGE_ALIGN aligned */
	u64 size;      /* guest RAM bytes */
	u32 nr_chunks; /* SNAP_RAM_CHUNK each, the last one possibly short */
	const u8 *crcs; /* nr_chunks little-endian CRC32s, inside the section payload */
};
/* Bytes the RAM_IMAGE section adds to the file (framing included) for ram_size bytes of RAM. */
u64 snap_image_section_bytes(u64 ram_size);
/*
 * Write guest RAM (the VM paused) at file offset `off` of fd: only pages that hold data, runs with pwrite, the
 * rest left as holes, the file then sized to off + ram size. Appends the RAM_IMAGE section to w. 0 or -errno.
 */
int snap_image_write(struct snap_writer *w, int fd, u64 off, const struct guest_ram *ram);
/* Check a RAM_IMAGE payload against the configured RAM size; 0 or -1 with err. */
int snap_image_parse(const u8 *payload, size_t len, u64 ram_size, struct snap_ram_image *img, char *err, size_t errlen);
/* Read the whole image from fd (holes skipped) and check every chunk's CRC; 0 or -1 with err naming the chunk. */
int snap_image_verify(int fd, const struct snap_ram_image *img, u64 *data_bytes, char *err, size_t errlen);
/* Read the image sequentially from r (after END: padding, then RAM) into ram, checking CRCs; 0 or -1 with err. */
int snap_image_load(struct snap_reader *r, const struct snap_ram_image *img, const struct guest_ram *ram, char *err,
		    size_t errlen);

/* ---- version 3: RAM pages of a migration stream (snapshot/ram-pages.c) ---- */
/*
 * Emit a RAM_PAGES section for the pages of [offset, offset + npages pages) whose bit is set in carried (64 bytes,
 * bit i = page i): a zero page as a bit in the zero bitmap, any other as its 4 KiB. skip_zero drops zero pages
 * altogether (the first pass: the destination's RAM starts zeroed). Nothing is written if no page is left.
 * *sent (may be NULL) gets the number of pages carried. hashes (may be NULL; one per page of the chunk) gets
 * snap_page_hash() of what went out for each page carried or dropped as zero: the copy sent, not the page read again.
 * 0 or -errno.
 */
int snapw_ram_pages(struct snap_writer *w, u64 offset, const u8 *mem, u32 npages, const u8 *carried, bool skip_zero,
		    u32 *sent, u32 *hashes);
/* CRC32 of one 4 KiB page (RAM_DIGEST), and of a zero page. */
u32 snap_page_crc(const u8 *page);
u32 snap_zero_page_crc(void);
/* A fast 32-bit hash of one 4 KiB page, to notice a page that changed since it was sent; of a zero page. */
u32 snap_page_hash(const u8 *page);
u32 snap_zero_page_hash(void);
/* Apply a RAM_PAGES section to guest RAM; 0 or -1 with err. */
int snap_ram_pages_decode(const u8 *payload, size_t len, const struct guest_ram *ram, char *err, size_t errlen);
/*
 * RAM_DIGEST (migrate --verify): u64 offset | u32 pages | u32 CRC32 per page. The source sends one per chunk after
 * its final pages; pages not set in populated (may be NULL) are known zero and are not read.
 */
int snapw_ram_digest(struct snap_writer *w, u64 offset, const u8 *mem, u32 npages, const u8 *populated);
/* Compare a RAM_DIGEST section with guest RAM: the number of differing pages (0..512), or -1 with err if malformed.
 * report(offset of the page, source CRC, our CRC, ctx) is called for each difference (may be NULL). */
int snap_ram_digest_check(const u8 *payload, size_t len, const struct guest_ram *ram,
			  void (*report)(u64 off, u32 src_crc, u32 dst_crc, void *ctx), void *ctx, char *err,
			  size_t errlen);

/* Bounded cursor over a payload. */
struct snap_cursor {
	const u8 *p;
	size_t left;
	bool bad;
};
static inline struct snap_cursor snap_cursor(const u8 *p, size_t len)
{
	struct snap_cursor c = { p, len, false };
	return c;
}
u32 cur_u32(struct snap_cursor *c);
u64 cur_u64(struct snap_cursor *c);
const u8 *cur_bytes(struct snap_cursor *c, size_t n);

/* Decode a RAM section into guest RAM (offsets relative to ram->base); 0 or -1 with err. */
int snap_ram_chunk_decode(const u8 *payload, size_t len, const struct guest_ram *ram, char *err, size_t errlen);

/* CONFIG section helpers: "key=value\n" lines. */
const char *snap_config_get(const char *cfg, const char *key, char *buf, size_t len);
int snap_config_u64(const char *cfg, const char *key, u64 *out);

struct kvm;
/*
 * Write the whole VM (which must be paused, devices quiesced) as a snapshot to fd: a version-1 stream, or with
 * mapped a version-2 file written in place (fd must be a regular file open for writing).
 */
int snapshot_write(struct kvm *kvm, int fd, bool mapped, char *err, size_t errlen);
/* Can this VM be saved or migrated at all? 0, or -1 with err. */
int snapshot_supported(struct kvm *kvm, char *err, size_t errlen);
/* Devices: quiesce(true) finishes in-flight work and flushes disks; quiesce(false) lets them run again. */
void snapshot_quiesce(struct kvm *kvm, bool pause);
/* The CONFIG section / every vCPU, the interrupt controller (tables flushed to RAM first) and every device. */
int snapshot_write_config(struct kvm *kvm, struct snap_writer *w, char *err, size_t errlen);
int snapshot_write_state(struct kvm *kvm, struct snap_writer *w, char *err, size_t errlen);
/* 'lkvm restore --info FILE' (snapshot/info.c): check every CRC, describe the snapshot, start nothing; 0 or dies. */
int snapshot_info(const char *path);
/* Control-socket handler for 'lkvm save' (main thread): streams on fd, or writes file_fd (>= 0) in place. */
void snapshot_serve(struct kvm *kvm, int fd, bool stop, int file_fd);
/* 'lkvm restore' */
int cmd_restore(int argc, const char **argv);

#endif

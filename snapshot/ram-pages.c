/* Migration streams (version 3): RAM_PAGES sections, the pages of one chunk sent raw, zero pages as bits. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "kvm/snapshot.h"

#define BITMAP_BYTES (SNAP_CHUNK_PAGES / 8)

static bool bit(const u8 *map, u32 i)
{
	return map[i / 8] & (1u << (i % 8));
}

/*
 * Payload: u64 offset from the RAM base (4 KiB aligned) | u32 pages (1..512) | 64-byte bitmap of the pages carried |
 * 64-byte bitmap of those that are zero | u32 data length | the non-zero carried pages, 4 KiB each, in order.
 */
u32 snap_page_crc(const u8 *page)
{
	return (u32)crc32(0, page, SNAP_PAGE);
}

u32 snap_zero_page_crc(void)
{
	return 0xc71c0011u; /* crc32 of 4096 zero bytes (the unit test recomputes it) */
}

/* Two lanes of 64-bit xor-multiply over the page's words, folded: about 9x zlib's crc32 on an emulated arm64. */
u32 snap_page_hash(const u8 *page)
{
	u64 a = 0x9e3779b97f4a7c15ULL, b = 0x632be59bd9b4e019ULL, x, y;

	for (size_t i = 0; i < SNAP_PAGE; i += 16) {
		memcpy(&x, page + i, 8); /* plain loads; no alignment assumed */
		memcpy(&y, page + i + 8, 8);
		a = (a ^ x) * 0x100000001b3ULL;
		b = (b ^ y) * 0xff51afd7ed558ccdULL;
	}
	a ^= b * 0xc4ceb9fe1a85ec53ULL;
	a ^= a >> 29;
	return (u32)(a ^ (a >> 32));
}

u32 snap_zero_page_hash(void)
{
	static const u8 zero_page[SNAP_PAGE];
	return snap_page_hash(zero_page);
}

int snapw_ram_pages(struct snap_writer *w, u64 offset, const u8 *mem, u32 npages, const u8 *carried, bool skip_zero,
		    u32 *sent, u32 *hashes)
{
	u32 zero_hash = hashes ? snap_zero_page_hash() : 0;
	u8 keep[BITMAP_BYTES] = { 0 }, zero[BITMAP_BYTES] = { 0 };
	u32 n = 0, data = 0;

	if (sent)
		*sent = 0;
	if (npages == 0 || npages > SNAP_CHUNK_PAGES)
		return -(w->error = EINVAL);
	for (u32 i = 0; i < npages; i++) {
		if (!bit(carried, i))
			continue;
		if (snap_page_is_zero(mem + i * SNAP_PAGE)) {
			if (hashes)
				hashes[i] = zero_hash;
			if (w->shadow)
				memset(w->shadow + offset + (u64)i * SNAP_PAGE, 0, SNAP_PAGE);
			if (skip_zero)
				continue;
			zero[i / 8] |= (u8)(1u << (i % 8));
		} else {
			data++;
		}
		keep[i / 8] |= (u8)(1u << (i % 8));
		n++;
	}
	if (!n)
		return 0;
	snapw_begin(w, SNAP_SEC_RAM_PAGES);
	snapw_u64(w, offset);
	snapw_u32(w, npages);
	snapw_put(w, keep, sizeof(keep));
	snapw_put(w, zero, sizeof(zero));
	snapw_u32(w, data * (u32)SNAP_PAGE);
	/*
	 * The guest may be writing these pages now: a page copied half old, half new (or judged zero just before a
	 * write) is in KVM's dirty log again and goes out again in a later pass; the last copy wins.
	 */
	for (u32 i = 0; i < npages; i++) {
		if (!bit(keep, i) || bit(zero, i))
			continue;
		snapw_put(w, mem + i * SNAP_PAGE, SNAP_PAGE);
		if (hashes && !w->error)
			hashes[i] = snap_page_hash(w->buf + w->len - SNAP_PAGE); /* the copy, as it goes out */
		if (w->shadow && !w->error)
			memcpy(w->shadow + offset + (u64)i * SNAP_PAGE, w->buf + w->len - SNAP_PAGE, SNAP_PAGE);
	}
	if (snapw_end(w))
		return -w->error;
	if (sent)
		*sent = n;
	return 0;
}

int snap_ram_pages_decode(const u8 *payload, size_t len, const struct guest_ram *ram, char *err, size_t errlen)
{
	struct snap_cursor c = snap_cursor(payload, len);
	u64 offset = cur_u64(&c);
	u32 npages = cur_u32(&c), data = 0;
	const u8 *keep = cur_bytes(&c, BITMAP_BYTES), *zero = cur_bytes(&c, BITMAP_BYTES), *src;
	u32 dlen = cur_u32(&c);
	u8 *base;

	if (c.bad) {
		snprintf(err, errlen, "RAM pages section is malformed (%zu bytes)", len);
		return -1;
	}
	if (npages == 0 || npages > SNAP_CHUNK_PAGES || !IS_ALIGNED(offset, SNAP_PAGE) || offset >= ram->size ||
	    npages * SNAP_PAGE > ram->size - offset || !(base = gpa_to_host(ram, ram->base + offset, npages * SNAP_PAGE))) {
		snprintf(err, errlen, "RAM pages at offset 0x%llx (%u pages) lie outside the guest's %llu MiB",
			 (unsigned long long)offset, npages, (unsigned long long)(ram->size >> 20));
		return -1;
	}
	for (u32 i = 0; i < SNAP_CHUNK_PAGES; i++) {
		if ((bit(keep, i) || bit(zero, i)) && (i >= npages || !bit(keep, i))) {
			snprintf(err, errlen, "RAM pages at offset 0x%llx: page bit %u set outside the pages carried",
				 (unsigned long long)offset, i);
			return -1;
		}
		data += bit(keep, i) && !bit(zero, i);
	}
	if (dlen != data * SNAP_PAGE || c.left != dlen) {
		snprintf(err, errlen, "RAM pages at offset 0x%llx: %u bytes of data for %u pages (%zu in the section)",
			 (unsigned long long)offset, dlen, data, c.left);
		return -1;
	}
	src = cur_bytes(&c, dlen);
	for (u32 i = 0; i < npages; i++) {
		u8 *dst = base + i * SNAP_PAGE;
		if (!bit(keep, i))
			continue;
		if (bit(zero, i)) {
			/* reading a never-touched page allocates nothing; writing zeroes over it would */
			if (!snap_page_is_zero(dst))
				memset(dst, 0, SNAP_PAGE);
			continue;
		}
		memcpy(dst, src, SNAP_PAGE);
		src += SNAP_PAGE;
	}
	return 0;
}

int snapw_ram_digest(struct snap_writer *w, u64 offset, const u8 *mem, u32 npages, const u8 *populated)
{
	u32 zero_crc = snap_zero_page_crc();

	if (npages == 0 || npages > SNAP_CHUNK_PAGES)
		return -(w->error = EINVAL);
	snapw_begin(w, SNAP_SEC_RAM_DIGEST);
	snapw_u64(w, offset);
	snapw_u32(w, npages);
	for (u32 i = 0; i < npages; i++)
		snapw_u32(w, populated && !populated[i] ? zero_crc : snap_page_crc(mem + (u64)i * SNAP_PAGE));
	return snapw_end(w);
}

int snap_ram_digest_check(const u8 *payload, size_t len, const struct guest_ram *ram,
			  void (*report)(u64 off, u32 src_crc, u32 dst_crc, void *ctx), void *ctx, char *err,
			  size_t errlen)
{
	struct snap_cursor c = snap_cursor(payload, len);
	u64 offset = cur_u64(&c);
	u32 npages = cur_u32(&c);
	const u8 *base;
	int bad = 0;

	if (c.bad || npages == 0 || npages > SNAP_CHUNK_PAGES || c.left != 4ULL * npages) {
		snprintf(err, errlen, "RAM digest section is malformed (%zu bytes)", len);
		return -1;
	}
	if (!IS_ALIGNED(offset, SNAP_PAGE) || offset >= ram->size || npages * SNAP_PAGE > ram->size - offset ||
	    !(base = gpa_to_host(ram, ram->base + offset, npages * SNAP_PAGE))) {
		snprintf(err, errlen, "RAM digest at offset 0x%llx (%u pages) lies outside the guest's %llu MiB",
			 (unsigned long long)offset, npages, (unsigned long long)(ram->size >> 20));
		return -1;
	}
	for (u32 i = 0; i < npages; i++) {
		u32 want = cur_u32(&c), have = snap_page_crc(base + (u64)i * SNAP_PAGE);
		if (want == have)
			continue;
		bad++;
		if (report)
			report(offset + (u64)i * SNAP_PAGE, want, have, ctx);
	}
	return bad;
}

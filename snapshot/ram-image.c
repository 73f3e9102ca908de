/* Version-2 snapshot files: guest RAM as one page-aligned sparse image, written with holes, checked by CRC. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "kvm/ram.h"
#include "kvm/snapshot.h"

/* CRC arithmetic for runs of zero pages without reading them: crc(A || zero page) from crc(A). */
struct zero_crc {
	uLong page_crc; /* crc32 of one zero page */
	uLong op;       /* crc32_combine_gen(SNAP_PAGE) */
};

static void zero_crc_init(struct zero_crc *z)
{
	u8 *zero = calloc(1, SNAP_PAGE);

	z->page_crc = zero ? crc32(0, zero, SNAP_PAGE) : 0;
	z->op = crc32_combine_gen(SNAP_PAGE);
	free(zero);
}

static uLong crc_zero_pages(const struct zero_crc *z, uLong crc, u64 pages)
{
	while (pages--)
		crc = crc32_combine_op(crc, z->page_crc, z->op);
	return crc;
}

static int pwrite_full(int fd, const u8 *buf, u64 len, u64 off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len > (1U << 30) ? (1U << 30) : (size_t)len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		off += (u64)n;
		len -= (u64)n;
	}
	return 0;
}

static u32 nr_chunks(u64 size)
{
	return (u32)((size + SNAP_RAM_CHUNK - 1) / SNAP_RAM_CHUNK);
}

u64 snap_image_section_bytes(u64 ram_size)
{
	return 16 + 24 + 4ULL * nr_chunks(ram_size) + 4;
}

int snap_image_write(struct snap_writer *w, int fd, u64 off, const struct guest_ram *ram)
{
	u8 populated[SNAP_CHUNK_PAGES];
	struct zero_crc z;
	u32 n = nr_chunks(ram->size);
	int r = 0;

	if (w->error)
		return -w->error;
	zero_crc_init(&z);
	snapw_begin(w, SNAP_SEC_RAM_IMAGE);
	snapw_u64(w, off);
	snapw_u64(w, ram->size);
	snapw_u32(w, (u32)SNAP_RAM_CHUNK);
	snapw_u32(w, n);
	for (u32 c = 0; c < n && !r; c++) {
		u64 base = (u64)c * SNAP_RAM_CHUNK;
		u64 len = ram->size - base < SNAP_RAM_CHUNK ? ram->size - base : SNAP_RAM_CHUNK;
		u64 pages = len / SNAP_PAGE, run = 0;
		uLong crc = crc32(0, NULL, 0);

		guest_ram_populated(ram, base, len, populated);
		for (u64 i = 0; i <= pages; i++) {
			const u8 *p = ram->host + base + i * SNAP_PAGE;
			bool data = i < pages && populated[i] && !snap_page_is_zero(p);

			if (i < pages)
				crc = data ? crc32(crc, p, SNAP_PAGE) : crc_zero_pages(&z, crc, 1);
			if (data) {
				run++;
				continue;
			}
			/* a run of data pages ends here: one write for all of it */
			if (run) {
				u64 first = i - run;
				r = pwrite_full(fd, ram->host + base + first * SNAP_PAGE, run * SNAP_PAGE,
						off + base + first * SNAP_PAGE);
				if (r)
					break;
				run = 0;
			}
		}
		snapw_u32(w, (u32)crc);
	}
	if (!r && ftruncate(fd, (off_t)(off + ram->size)) < 0)
		r = -errno;
	if (r) {
		w->error = -r;
		return r;
	}
	return snapw_end(w);
}

int snap_image_parse(const u8 *payload, size_t len, u64 ram_size, struct snap_ram_image *img, char *err, size_t errlen)
{
	struct snap_cursor c = snap_cursor(payload, len);
	u32 chunk;

	img->offset = cur_u64(&c);
	img->size = cur_u64(&c);
	chunk = cur_u32(&c);
	img->nr_chunks = cur_u32(&c);
	img->crcs = cur_bytes(&c, (size_t)img->nr_chunks * 4);
	if (c.bad || c.left) {
		snprintf(err, errlen, "RAM image section is malformed");
		return -1;
	}
	if (img->size != ram_size || chunk != SNAP_RAM_CHUNK || img->nr_chunks != nr_chunks(ram_size)) {
		snprintf(err, errlen, "RAM image section describes %llu bytes in %u chunks of %u, not the guest's %llu MiB",
			 (unsigned long long)img->size, img->nr_chunks, chunk, (unsigned long long)(ram_size >> 20));
		return -1;
	}
	if (!IS_ALIGNED(img->offset, SNAP_IMAGE_ALIGN) || img->offset == 0 || img->offset > (1ULL << 62)) {
		snprintf(err, errlen, "RAM image offset %llu is not a plausible 2 MiB-aligned file offset",
			 (unsigned long long)img->offset);
		return -1;
	}
	return 0;
}

static u32 crc_at(const struct snap_ram_image *img, u32 c)
{
	const u8 *p = img->crcs + 4ULL * c;
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

int snap_image_verify(int fd, const struct snap_ram_image *img, u64 *data_bytes, char *err, size_t errlen)
{
	u8 *buf = malloc(SNAP_RAM_CHUNK), populated[SNAP_CHUNK_PAGES];
	struct guest_ram file = { .size = img->size, .host = NULL, .fd = fd, .file_off = img->offset };
	struct zero_crc z;
	int r = 0;

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	zero_crc_init(&z);
	*data_bytes = 0;
	for (u32 c = 0; c < img->nr_chunks && !r; c++) {
		u64 base = (u64)c * SNAP_RAM_CHUNK;
		u64 len = img->size - base < SNAP_RAM_CHUNK ? img->size - base : SNAP_RAM_CHUNK;
		uLong crc = crc32(0, NULL, 0);

		/* only the file's data regions are read; holes count as zero pages */
		memset(populated, 0, sizeof(populated));
		if (guest_ram_file_data(&file, base, len, populated))
			memset(populated, 1, sizeof(populated));
		for (u64 i = 0; i < len / SNAP_PAGE; i++) {
			ssize_t n;
			if (!populated[i]) {
				crc = crc_zero_pages(&z, crc, 1);
				continue;
			}
			n = pread(fd, buf, SNAP_PAGE, (off_t)(img->offset + base + i * SNAP_PAGE));
			if (n != (ssize_t)SNAP_PAGE) {
				snprintf(err, errlen, "RAM image is truncated or unreadable at chunk %u (byte %llu)", c,
					 (unsigned long long)(img->offset + base + i * SNAP_PAGE));
				r = -1;
				break;
			}
			crc = crc32(crc, buf, SNAP_PAGE);
			*data_bytes += SNAP_PAGE;
		}
		if (!r && (u32)crc != crc_at(img, c)) {
			snprintf(err, errlen, "RAM image chunk %u (guest RAM offset 0x%llx) fails its CRC check (corrupt snapshot)",
				 c, (unsigned long long)base);
			r = -1;
		}
	}
	free(buf);
	return r;
}

int snap_image_load(struct snap_reader *r, const struct snap_ram_image *img, const struct guest_ram *ram, char *err,
		    size_t errlen)
{
	u8 *buf = malloc(SNAP_RAM_CHUNK);
	int rc = -1;

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* the padding between the END section and the image */
	while (r->off < img->offset) {
		u64 skip = img->offset - r->off < SNAP_RAM_CHUNK ? img->offset - r->off : SNAP_RAM_CHUNK;
		if (snapr_read_raw(r, buf, (size_t)skip))
			goto out_short;
	}
	if (r->off != img->offset) {
		snprintf(err, errlen, "RAM image offset %llu lies inside the sections", (unsigned long long)img->offset);
		goto out;
	}
	for (u32 c = 0; c < img->nr_chunks; c++) {
		u64 base = (u64)c * SNAP_RAM_CHUNK;
		u64 len = img->size - base < SNAP_RAM_CHUNK ? img->size - base : SNAP_RAM_CHUNK;
		u8 *dst = gpa_to_host(ram, ram->base + base, len);

		if (!dst) {
			snprintf(err, errlen, "RAM image chunk %u lies outside guest RAM", c);
			goto out;
		}
		if (snapr_read_raw(r, buf, (size_t)len))
			goto out_short;
		if ((u32)crc32(0, buf, (uInt)len) != crc_at(img, c)) {
			snprintf(err, errlen, "RAM image chunk %u (guest RAM offset 0x%llx) fails its CRC check (corrupt snapshot)",
				 c, (unsigned long long)base);
			goto out;
		}
		/* zero pages are left untouched, so they cost no memory */
		for (u64 i = 0; i < len / SNAP_PAGE; i++)
			if (!snap_page_is_zero(buf + i * SNAP_PAGE))
				memcpy(dst + i * SNAP_PAGE, buf + i * SNAP_PAGE, SNAP_PAGE);
	}
	rc = 0;
	goto out;
out_short:
	snprintf(err, errlen, "%s", r->err);
out:
	free(buf);
	return rc;
}

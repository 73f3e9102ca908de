/* Snapshot format: section framing with CRC32, RAM chunk encode/decode (zlib), strict bounded parsing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "kvm/io.h"
#include "kvm/options.h"
#include "kvm/snapshot.h"

static void put_le32(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void put_le64(u8 *p, u64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (u8)(v >> (8 * i));
}

static u32 get_le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 get_le64(const u8 *p)
{
	return (u64)get_le32(p) | (u64)get_le32(p + 4) << 32;
}

/* ---- writer ---- */

int snapw_init(struct snap_writer *w, int fd)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->cap = 1 << 20;
	w->buf = malloc(w->cap);
	w->scratch = malloc(compressBound(SNAP_RAM_CHUNK));
	if (!w->buf || !w->scratch) {
		snapw_free(w);
		return -ENOMEM;
	}
	return 0;
}

void snapw_free(struct snap_writer *w)
{
	free(w->buf);
	free(w->scratch);
	w->buf = w->scratch = NULL;
}

static int emit(struct snap_writer *w, const void *data, size_t len)
{
	int r;
	if (w->error)
		return -w->error;
	r = write_full(w->fd, data, len);
	if (r) {
		w->error = -r;
		return r;
	}
	w->bytes += len;
	return 0;
}

int snapw_file_header(struct snap_writer *w, u32 version)
{
	u8 h[SNAP_FILE_HEADER_SIZE] = { 0 };
	memcpy(h, SNAP_MAGIC, 8);
	put_le32(h + 8, version);
	put_le32(h + 12, SNAP_ARCH_ARM64);
	put_le32(h + 16, SNAP_FILE_HEADER_SIZE);
	put_le32(h + 20, (u32)crc32(0, h, 20));
	return emit(w, h, sizeof(h));
}

void snapw_begin(struct snap_writer *w, u32 type)
{
	w->type = type;
	w->len = 0;
}

void snapw_put(struct snap_writer *w, const void *data, size_t len)
{
	if (w->error)
		return;
	if (w->len + len > w->cap) {
		size_t cap = w->cap;
		u8 *nb;
		while (cap < w->len + len)
			cap *= 2;
		nb = realloc(w->buf, cap);
		if (!nb) {
			w->error = ENOMEM;
			return;
		}
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, data, len);
	w->len += len;
}

void snapw_u32(struct snap_writer *w, u32 v)
{
	u8 b[4];
	put_le32(b, v);
	snapw_put(w, b, 4);
}

void snapw_u64(struct snap_writer *w, u64 v)
{
	u8 b[8];
	put_le64(b, v);
	snapw_put(w, b, 8);
}

/* Section: u32 type, u32 0, u64 len, payload, u32 crc32(header || payload). */
int snapw_end(struct snap_writer *w)
{
	u8 h[16], c[4];
	u32 crc;

	if (w->error)
		return -w->error;
	if (w->len > (w->type == SNAP_SEC_RAM_IMAGE ? SNAP_MAX_RAM_IMAGE : SNAP_MAX_SECTION))
		return -(w->error = EFBIG);
	put_le32(h, w->type);
	put_le32(h + 4, 0);
	put_le64(h + 8, w->len);
	crc = (u32)crc32(0, h, sizeof(h));
	crc = (u32)crc32(crc, w->buf, (uInt)w->len);
	put_le32(c, crc);
	if (emit(w, h, sizeof(h)) || emit(w, w->buf, w->len) || emit(w, c, 4))
		return -w->error;
	w->sections++;
	return 0;
}

bool snap_page_is_zero(const u8 *p)
{
	const u64 *q = (const u64 *)p;
	for (size_t i = 0; i < SNAP_PAGE / 8; i++)
		if (q[i])
			return false;
	return true;
}

int snapw_ram_chunk(struct snap_writer *w, u64 offset, const u8 *mem, u32 npages, const u8 *populated)
{
	u8 bitmap[SNAP_CHUNK_PAGES / 8] = { 0 };
	u8 *comp = w->scratch; /* the compressed non-zero pages */
	size_t n = 0;
	uLongf clen;

	if (npages > SNAP_CHUNK_PAGES)
		return -(w->error = EINVAL);
	for (u32 i = 0; i < npages; i++) {
		if ((populated && !populated[i]) || snap_page_is_zero(mem + i * SNAP_PAGE))
			continue;
		bitmap[i / 8] |= (u8)(1u << (i % 8));
		n++;
	}
	if (!n)
		return 0;
	snapw_begin(w, SNAP_SEC_RAM);
	snapw_u64(w, offset);
	snapw_u32(w, npages);
	snapw_put(w, bitmap, sizeof(bitmap));
	/* One deflate stream over the non-zero pages, in order. */
	{
		z_stream zs;
		memset(&zs, 0, sizeof(zs));
		if (deflateInit(&zs, 1) != Z_OK)
			return -(w->error = ENOMEM);
		clen = compressBound(n * SNAP_PAGE);
		zs.next_out = comp;
		zs.avail_out = (uInt)clen;
		for (u32 i = 0; i < npages; i++) {
			if (!(bitmap[i / 8] & (1u << (i % 8))))
				continue;
			zs.next_in = (Bytef *)(mem + i * SNAP_PAGE);
			zs.avail_in = SNAP_PAGE;
			if (deflate(&zs, Z_NO_FLUSH) != Z_OK) {
				deflateEnd(&zs);
				return -(w->error = EIO);
			}
		}
		if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
			deflateEnd(&zs);
			return -(w->error = EIO);
		}
		clen = zs.total_out;
		deflateEnd(&zs);
	}
	snapw_u32(w, (u32)clen);
	snapw_put(w, comp, clen);
	return snapw_end(w);
}

int snapw_finish(struct snap_writer *w, u64 ram_size)
{
	u64 count = w->sections;
	snapw_begin(w, SNAP_SEC_END);
	snapw_u64(w, count);
	snapw_u64(w, ram_size);
	return snapw_end(w);
}

/* ---- reader ---- */

int snapr_init(struct snap_reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	return 0;
}

void snapr_free(struct snap_reader *r)
{
	free(r->payload);
	r->payload = NULL;
}

/* Read exactly len bytes; -1 on EOF or error (with r->err set). */
static int rd(struct snap_reader *r, void *dst, size_t len)
{
	u8 *d = dst;
	while (len) {
		if (r->rpos == r->rlen) {
			ssize_t n = read(r->fd, r->rbuf, sizeof(r->rbuf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				snprintf(r->err, sizeof(r->err), "read error at byte %llu: %s", (unsigned long long)r->off,
					 strerror(errno));
				return -1;
			}
			if (n == 0) {
				snprintf(r->err, sizeof(r->err), "truncated at byte %llu (snapshot incomplete)",
					 (unsigned long long)r->off);
				return -1;
			}
			r->rpos = 0;
			r->rlen = (size_t)n;
		}
		size_t take = r->rlen - r->rpos < len ? r->rlen - r->rpos : len;
		memcpy(d, r->rbuf + r->rpos, take);
		r->rpos += take;
		d += take;
		len -= take;
		r->off += take;
	}
	return 0;
}

int snapr_read_raw(struct snap_reader *r, void *dst, size_t len)
{
	return rd(r, dst, len);
}

int snapr_file_header(struct snap_reader *r)
{
	u8 h[SNAP_FILE_HEADER_SIZE];
	u32 v;

	if (rd(r, h, 8)) {
		if (r->off == 0)
			snprintf(r->err, sizeof(r->err), "empty file, not an lkvm snapshot");
		return -1;
	}
	if (memcmp(h, SNAP_MAGIC, 8)) {
		snprintf(r->err, sizeof(r->err), "not an lkvm snapshot (bad magic)");
		return -1;
	}
	if (rd(r, h + 8, sizeof(h) - 8))
		return -1;
	/* The version decides the rest of the layout, so it is judged before the header checksum. */
	v = get_le32(h + 8);
	if (v != SNAP_VERSION && v != SNAP_VERSION_MAPPED && v != SNAP_VERSION_MIGRATE) {
		snprintf(r->err, sizeof(r->err), "snapshot format version %u; this lkvm reads versions %u, %u and %u", v,
			 SNAP_VERSION, SNAP_VERSION_MAPPED, SNAP_VERSION_MIGRATE);
		return -1;
	}
	r->version = v;
	if (get_le32(h + 20) != (u32)crc32(0, h, 20)) {
		snprintf(r->err, sizeof(r->err), "file header checksum mismatch (corrupt snapshot)");
		return -1;
	}
	v = get_le32(h + 12);
	if (v != SNAP_ARCH_ARM64) {
		snprintf(r->err, sizeof(r->err), "snapshot is for architecture 0x%x, not arm64", v);
		return -1;
	}
	if (get_le32(h + 16) != SNAP_FILE_HEADER_SIZE) {
		snprintf(r->err, sizeof(r->err), "unexpected file header size %u", get_le32(h + 16));
		return -1;
	}
	return 0;
}

static const char *type_name(u32 t)
{
	switch (t) {
	case SNAP_SEC_CONFIG:
		return "config";
	case SNAP_SEC_RAM:
		return "RAM";
	case SNAP_SEC_VCPU:
		return "vCPU";
	case SNAP_SEC_IRQCHIP:
		return "interrupt controller";
	case SNAP_SEC_DEVICE:
		return "device";
	case SNAP_SEC_RAM_IMAGE:
		return "RAM image";
	case SNAP_SEC_RAM_PAGES:
		return "RAM pages";
	case SNAP_SEC_PAUSED:
		return "paused";
	case SNAP_SEC_RAM_DIGEST:
		return "RAM digest";
	case SNAP_SEC_END:
		return "end";
	default:
		return "unknown";
	}
}

int snapr_next(struct snap_reader *r)
{
	u8 h[16], c[4];
	u64 at = r->off, limit;
	u32 crc;

	if (rd(r, h, sizeof(h)))
		return -1;
	r->type = get_le32(h);
	r->len = get_le64(h + 8);
	if (get_le32(h + 4) != 0) {
		snprintf(r->err, sizeof(r->err), "section at byte %llu: reserved field not zero (corrupt snapshot)",
			 (unsigned long long)at);
		return -1;
	}
	/* RAM travels compressed in version 1, as one mapped image in version 2, as RAM_PAGES in version 3; never mixed. */
	if ((r->type == SNAP_SEC_RAM && r->version != SNAP_VERSION) ||
	    (r->type == SNAP_SEC_RAM_IMAGE && r->version != SNAP_VERSION_MAPPED) ||
	    ((r->type == SNAP_SEC_RAM_PAGES || r->type == SNAP_SEC_PAUSED || r->type == SNAP_SEC_RAM_DIGEST) &&
	     r->version != SNAP_VERSION_MIGRATE)) {
		snprintf(r->err, sizeof(r->err), "section at byte %llu: %s section in a version-%u snapshot (corrupt snapshot)",
			 (unsigned long long)at, type_name(r->type), r->version);
		return -1;
	}
	switch (r->type) {
	case SNAP_SEC_CONFIG:
		limit = SNAP_MAX_CONFIG;
		break;
	case SNAP_SEC_RAM_IMAGE:
		limit = SNAP_MAX_RAM_IMAGE;
		break;
	case SNAP_SEC_PAUSED:
		limit = 8;
		break;
	case SNAP_SEC_RAM_DIGEST:
		limit = 12 + 4 * SNAP_CHUNK_PAGES;
		break;
	case SNAP_SEC_RAM:
	case SNAP_SEC_RAM_PAGES:
	case SNAP_SEC_VCPU:
	case SNAP_SEC_IRQCHIP:
	case SNAP_SEC_DEVICE:
		limit = SNAP_MAX_SECTION;
		break;
	case SNAP_SEC_END:
		limit = 16;
		break;
	default:
		snprintf(r->err, sizeof(r->err), "section at byte %llu has unknown type %u (corrupt or newer snapshot)",
			 (unsigned long long)at, r->type);
		return -1;
	}
	if (r->len > limit) {
		snprintf(r->err, sizeof(r->err), "%s section at byte %llu claims %llu bytes, over the %llu-byte limit",
			 type_name(r->type), (unsigned long long)at, (unsigned long long)r->len,
			 (unsigned long long)limit);
		return -1;
	}
	if (r->len + 1 > r->cap) {
		size_t cap = r->len + 1 < 4096 ? 4096 : (size_t)r->len + 1;
		u8 *p = realloc(r->payload, cap);
		if (!p) {
			snprintf(r->err, sizeof(r->err), "out of memory");
			return -1;
		}
		r->payload = p;
		r->cap = cap;
	}
	if (rd(r, r->payload, (size_t)r->len) || rd(r, c, 4))
		return -1;
	r->payload[r->len] = 0; /* text sections are NUL-terminated for the parser */
	crc = (u32)crc32(0, h, sizeof(h));
	crc = (u32)crc32(crc, r->payload, (uInt)r->len);
	if (crc != get_le32(c)) {
		snprintf(r->err, sizeof(r->err), "%s section at byte %llu fails its CRC check (corrupt snapshot)",
			 type_name(r->type), (unsigned long long)at);
		return -1;
	}
	if (r->type == SNAP_SEC_END) {
		struct snap_cursor cur = snap_cursor(r->payload, r->len);
		u64 count = cur_u64(&cur);
		cur_u64(&cur);
		if (cur.bad || count != r->sections) {
			snprintf(r->err, sizeof(r->err), "end marker counts %llu sections, found %llu (corrupt snapshot)",
				 (unsigned long long)count, (unsigned long long)r->sections);
			return -1;
		}
		return 0;
	}
	r->sections++;
	return 1;
}

u32 cur_u32(struct snap_cursor *c)
{
	u32 v;
	if (c->bad || c->left < 4) {
		c->bad = true;
		return 0;
	}
	v = get_le32(c->p);
	c->p += 4;
	c->left -= 4;
	return v;
}

u64 cur_u64(struct snap_cursor *c)
{
	u64 v;
	if (c->bad || c->left < 8) {
		c->bad = true;
		return 0;
	}
	v = get_le64(c->p);
	c->p += 8;
	c->left -= 8;
	return v;
}

const u8 *cur_bytes(struct snap_cursor *c, size_t n)
{
	const u8 *p = c->p;
	if (c->bad || c->left < n) {
		c->bad = true;
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

int snap_ram_chunk_decode(const u8 *payload, size_t len, const struct guest_ram *ram, char *err, size_t errlen)
{
	struct snap_cursor c = snap_cursor(payload, len);
	u64 offset = cur_u64(&c);
	u32 npages = cur_u32(&c);
	const u8 *bitmap = cur_bytes(&c, SNAP_CHUNK_PAGES / 8);
	u32 clen = cur_u32(&c);
	const u8 *comp = cur_bytes(&c, clen);
	z_stream zs;
	u8 *base;
	int zr;

	if (c.bad || c.left != 0) {
		snprintf(err, errlen, "RAM section is malformed");
		return -1;
	}
	if (npages == 0 || npages > SNAP_CHUNK_PAGES || !IS_ALIGNED(offset, SNAP_PAGE) || offset >= ram->size ||
	    npages * SNAP_PAGE > ram->size - offset) {
		snprintf(err, errlen, "RAM section at offset 0x%llx (%u pages) lies outside the guest's %llu MiB",
			 (unsigned long long)offset, npages, (unsigned long long)(ram->size >> 20));
		return -1;
	}
	base = gpa_to_host(ram, ram->base + offset, npages * SNAP_PAGE);
	if (!base) {
		snprintf(err, errlen, "RAM section at offset 0x%llx is outside guest RAM", (unsigned long long)offset);
		return -1;
	}
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	zs.next_in = (Bytef *)comp;
	zs.avail_in = clen;
	zr = Z_OK;
	for (u32 i = 0; i < npages && zr == Z_OK; i++) {
		if (!(bitmap[i / 8] & (1u << (i % 8))))
			continue;
		zs.next_out = base + i * SNAP_PAGE;
		zs.avail_out = SNAP_PAGE;
		zr = inflate(&zs, Z_SYNC_FLUSH);
		if ((zr != Z_OK && zr != Z_STREAM_END) || zs.avail_out != 0) {
			zr = Z_DATA_ERROR;
			break;
		}
	}
	if (zr == Z_OK) /* all pages filled: the stream must end here */
		zr = inflate(&zs, Z_FINISH) == Z_STREAM_END ? Z_STREAM_END : Z_DATA_ERROR;
	if (zr == Z_STREAM_END && (zs.avail_in != 0))
		zr = Z_DATA_ERROR;
	inflateEnd(&zs);
	if (zr != Z_STREAM_END) {
		snprintf(err, errlen, "RAM section at offset 0x%llx does not decompress to its pages",
			 (unsigned long long)offset);
		return -1;
	}
	return 0;
}

const char *snap_config_get(const char *cfg, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);
	for (const char *p = cfg; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t ll = nl ? (size_t)(nl - p) : strlen(p);
		if (ll > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			size_t vl = ll - kl - 1;
			if (vl >= len)
				return NULL;
			memcpy(buf, p + kl + 1, vl);
			buf[vl] = '\0';
			return buf;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

int snap_config_u64(const char *cfg, const char *key, u64 *out)
{
	char buf[32];
	if (!snap_config_get(cfg, key, buf, sizeof(buf)))
		return -ENOENT;
	return parse_u64(buf, out);
}

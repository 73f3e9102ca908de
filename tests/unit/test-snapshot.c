/* Unit tests: snapshot format round trip, and refusal of truncated, corrupted and oversized snapshots. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "kvm/snapshot.h"

#define RAM_SIZE (8ULL << 20)

/* Write a small snapshot into a memfd: config, two RAM chunks (one all zero), a device section. */
static int make_snapshot(const struct guest_ram *ram, size_t *size)
{
	int fd = memfd_create("snap", 0);
	struct snap_writer w;
	const char *cfg = "cpus=2\nmem_mib=8\nname=vm1\n";

	snapw_init(&w, fd);
	snapw_file_header(&w, SNAP_VERSION);
	snapw_begin(&w, SNAP_SEC_CONFIG);
	snapw_put(&w, cfg, strlen(cfg));
	snapw_end(&w);
	for (u64 off = 0; off < RAM_SIZE; off += SNAP_RAM_CHUNK)
		snapw_ram_chunk(&w, off, ram->host + off, SNAP_CHUNK_PAGES, NULL);
	snapw_begin(&w, SNAP_SEC_DEVICE);
	snapw_put(&w, "uart\0", 5);
	snapw_u64(&w, 0x1122334455667788ULL);
	snapw_end(&w);
	snapw_finish(&w, RAM_SIZE);
	*size = (size_t)w.bytes;
	snapw_free(&w);
	return w.error ? -1 : fd;
}

/* Read a whole snapshot from fd into ram; returns 0 or -1 (reason in err). */
static int load(int fd, const struct guest_ram *ram, char *err, size_t errlen, int *sections)
{
	struct snap_reader r;
	int rc;

	lseek(fd, 0, SEEK_SET);
	snapr_init(&r, fd);
	*sections = 0;
	if (snapr_file_header(&r)) {
		snprintf(err, errlen, "%s", r.err);
		snapr_free(&r);
		return -1;
	}
	while ((rc = snapr_next(&r)) == 1) {
		(*sections)++;
		if (r.type == SNAP_SEC_RAM && snap_ram_chunk_decode(r.payload, r.len, ram, err, errlen)) {
			snapr_free(&r);
			return -1;
		}
	}
	if (rc < 0)
		snprintf(err, errlen, "%s", r.err);
	snapr_free(&r);
	return rc;
}

static int copy_prefix(int src, size_t n, int flip_at)
{
	int fd = memfd_create("cut", 0);
	u8 *buf = malloc(n ? n : 1);
	if (pread(src, buf, n, 0) != (ssize_t)n)
		return -1;
	if (flip_at >= 0)
		buf[flip_at] ^= 0x40;
	if (write(fd, buf, n) != (ssize_t)n)
		return -1;
	free(buf);
	return fd;
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	struct guest_ram src = { .base = 0x80000000, .size = RAM_SIZE, .fd = -1 };
	struct guest_ram dst = { .base = 0x80000000, .size = RAM_SIZE, .fd = -1 };
	char err[256], cfgv[32];
	size_t size;
	int fd, sections, bad_trunc = 0, bad_flip = 0;
	u64 v;

	src.host = calloc(1, RAM_SIZE);
	dst.host = calloc(1, RAM_SIZE);
	for (u64 i = 0; i < 4096; i++) /* first chunk: a pattern in a few pages; second chunk stays zero */
		src.host[i * 7 % (2 << 20)] = (u8)(i * 31 + 1);
	memset(src.host + (6 << 20) + 4096, 0xa5, 4096);

	fd = make_snapshot(&src, &size);
	CHECK(&uc, fd >= 0, "snapshot written (%zu bytes for 8 MiB RAM)", size);
	CHECK(&uc, size < 64 * 1024, "zero pages skipped and data compressed (%zu bytes)", size);
	CHECK(&uc, load(fd, &dst, err, sizeof(err), &sections) == 0, "round trip loads");
	CHECK(&uc, memcmp(src.host, dst.host, RAM_SIZE) == 0, "RAM identical after round trip");
	CHECK(&uc, sections == 4, "config + 2 RAM + device sections (%d)", sections);
	CHECK(&uc, snap_config_get("cpus=2\nname=vm1\n", "name", cfgv, sizeof(cfgv)) && !strcmp(cfgv, "vm1"),
	      "config lookup");
	CHECK(&uc, snap_config_u64("cpus=2\nname=vm1\n", "cpus", &v) == 0 && v == 2, "config number");
	CHECK(&uc, snap_config_u64("cpus=x2\n", "cpus", &v) != 0, "config number refused when malformed");
	CHECK(&uc, snap_config_get("cpus=2", "cpu", cfgv, sizeof(cfgv)) == NULL, "no prefix match");

	/* Every truncation must fail cleanly. */
	for (size_t n = 0; n < size; n++) {
		int t = copy_prefix(fd, n, -1);
		memset(dst.host, 0, RAM_SIZE);
		if (load(t, &dst, err, sizeof(err), &sections) != -1)
			bad_trunc++;
		close(t);
	}
	CHECK(&uc, bad_trunc == 0, "all %zu truncations refused", size);
	{
		int t = copy_prefix(fd, 0, -1);
		load(t, &dst, err, sizeof(err), &sections);
		CHECK(&uc, strstr(err, "empty") != NULL, "empty file: %s", err);
		close(t);
		t = copy_prefix(fd, size / 2, -1);
		load(t, &dst, err, sizeof(err), &sections);
		CHECK(&uc, strstr(err, "truncated") != NULL, "half file: %s", err);
		close(t);
	}
	/* Every single flipped byte must fail cleanly. */
	for (size_t i = 0; i < size; i++) {
		int t = copy_prefix(fd, size, (int)i);
		if (load(t, &dst, err, sizeof(err), &sections) != -1)
			bad_flip++;
		close(t);
	}
	CHECK(&uc, bad_flip == 0, "all %zu single-byte corruptions refused", size);
	{
		int t = copy_prefix(fd, size, 8); /* version byte: named as such */
		load(t, &dst, err, sizeof(err), &sections);
		CHECK(&uc, strstr(err, "version") != NULL, "flipped version: %s", err);
		close(t);
		t = copy_prefix(fd, size, 17); /* header size field: caught by the header CRC */
		load(t, &dst, err, sizeof(err), &sections);
		CHECK(&uc, strstr(err, "checksum") != NULL || strstr(err, "header size") != NULL, "flipped header: %s", err);
		close(t);
	}
	/* A well-formed header with another version number (CRC fixed up) says so. */
	{
		struct snap_writer w;
		int t = memfd_create("v2", 0);
		u8 h[SNAP_FILE_HEADER_SIZE];
		snapw_init(&w, t);
		snapw_file_header(&w, SNAP_VERSION);
		snapw_free(&w);
		pread(t, h, sizeof(h), 0);
		h[8] = 4; /* 1-3 are known */
		{
			u32 c = (u32)crc32(0, h, 20);
			memcpy(h + 20, &c, 4);
		}
		pwrite(t, h, sizeof(h), 0);
		load(t, &dst, err, sizeof(err), &sections);
		CHECK(&uc, strstr(err, "version 4") != NULL, "other version: %s", err);
		close(t);
	}
	/* An absurd section length is refused before anything is allocated. */
	{
		struct snap_writer w;
		int t = memfd_create("big", 0);
		u8 sec[16] = { SNAP_SEC_RAM, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
		snapw_init(&w, t);
		snapw_file_header(&w, SNAP_VERSION);
		snapw_free(&w);
		write(t, sec, sizeof(sec));
		load(t, &dst, err, sizeof(err), &sections);
		CHECK(&uc, strstr(err, "limit") != NULL, "huge section length: %s", err);
		close(t);
	}
	/* A RAM chunk pointing outside RAM is refused. */
	{
		struct guest_ram small = { .base = 0x80000000, .size = 2 << 20, .host = dst.host, .fd = -1 };
		lseek(fd, 0, SEEK_SET);
		CHECK(&uc, load(fd, &small, err, sizeof(err), &sections) == -1 && strstr(err, "outside"),
		      "RAM beyond the guest's size: %s", err);
	}
	close(fd);
	free(src.host);
	free(dst.host);
	UNIT_DONE(&uc);
}

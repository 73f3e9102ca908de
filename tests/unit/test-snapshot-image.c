/* Unit tests: guest RAM backing (ram.c) and version-2 snapshot files with a mapped, sparse RAM image. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "kvm/ram.h"
#include "kvm/snapshot.h"

#define RAM_SIZE (16ULL << 20)
#define MIB(x) ((u64)(x) << 20)

/* A version-2 snapshot of ram in a memfd: config, a device section, the RAM image; returns fd, *prefix = bytes
 * before the image's padding (header + sections), *img_off = the image's offset. */
static int make_v2(const struct guest_ram *ram, size_t *prefix, u64 *img_off)
{
	int fd = memfd_create("snap2", 0);
	struct snap_writer w;
	const char *cfg = "cpus=1\nmem_mib=16\nname=vm2\n";

	snapw_init(&w, fd);
	snapw_file_header(&w, SNAP_VERSION_MAPPED);
	snapw_begin(&w, SNAP_SEC_CONFIG);
	snapw_put(&w, cfg, strlen(cfg));
	snapw_end(&w);
	snapw_begin(&w, SNAP_SEC_DEVICE);
	snapw_put(&w, "uart\0", 5);
	snapw_u64(&w, 0x9000000);
	snapw_end(&w);
	*img_off = ALIGN_UP(w.bytes + snap_image_section_bytes(ram->size) + SNAP_END_BYTES, SNAP_IMAGE_ALIGN);
	snap_image_write(&w, fd, *img_off, ram);
	snapw_finish(&w, ram->size);
	*prefix = (size_t)w.bytes;
	snapw_free(&w);
	return w.error ? -1 : fd;
}

/* Read the sections of fd; fills img from the RAM_IMAGE section. 0, or -1 with err. */
static int read_v2(int fd, struct snap_reader *r, struct snap_ram_image *img, u8 **img_payload, char *err, size_t len)
{
	int rc;
	bool have = false;

	lseek(fd, 0, SEEK_SET);
	snapr_init(r, fd);
	if (snapr_file_header(r)) {
		snprintf(err, len, "%s", r->err);
		return -1;
	}
	while ((rc = snapr_next(r)) == 1) {
		if (r->type == SNAP_SEC_RAM_IMAGE) {
			free(*img_payload);
			*img_payload = malloc(r->len);
			memcpy(*img_payload, r->payload, r->len);
			if (snap_image_parse(*img_payload, r->len, RAM_SIZE, img, err, len))
				return -1;
			have = true;
		}
	}
	if (rc < 0) {
		snprintf(err, len, "%s", r->err);
		return -1;
	}
	if (!have) {
		snprintf(err, len, "no image");
		return -1;
	}
	return 0;
}

static int copy_file(int src, size_t n, long flip_at)
{
	int fd = memfd_create("cut", 0);
	u8 *buf = malloc(SNAP_RAM_CHUNK);
	struct stat st;
	u8 *pop = malloc(n / SNAP_PAGE + 1);
	struct guest_ram f = { .fd = src, .file_off = 0 };

	/* keep holes as holes: copy only the data regions */
	memset(pop, 0, n / SNAP_PAGE + 1);
	guest_ram_file_data(&f, 0, ALIGN_UP(n, SNAP_PAGE), pop);
	for (size_t off = 0; off < n; off += SNAP_PAGE) {
		size_t len = n - off < SNAP_PAGE ? n - off : SNAP_PAGE;
		if (!pop[off / SNAP_PAGE])
			continue;
		if (pread(src, buf, len, (off_t)off) != (ssize_t)len || pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
			return -1;
	}
	if (ftruncate(fd, (off_t)n) < 0 || fstat(fd, &st) < 0)
		return -1;
	if (flip_at >= 0) {
		u8 b;
		pread(fd, &b, 1, flip_at);
		b ^= 0x20;
		pwrite(fd, &b, 1, flip_at);
	}
	free(buf);
	free(pop);
	return fd;
}

static void test_ram_usage(struct unit_counts *uc)
{
	const char *smaps = "7f0000000000-7f0001000000 rw-p 00000000 00:00 0                  [anon:lkvm-guest-ram]\n"
			    "Size:              16384 kB\n"
			    "Rss:                6144 kB\n"
			    "AnonHugePages:      4096 kB\n"
			    "ShmemPmdMapped:        0 kB\n"
			    "Private_Hugetlb:       0 kB\n"
			    "7f0001000000-7f0001001000 rw-p 00000000 00:00 0\n"
			    "Rss:                   4 kB\n"
			    "AnonHugePages:      2048 kB\n";
	struct ram_usage u;

	CHECK(uc, ram_usage_parse(smaps, 0x7f0000000000UL, 0x7f0001000000UL, &u) == 0 && u.rss_kib == 6144 &&
			  u.huge_kib == 4096,
	      "smaps: only the guest-RAM mapping counts (rss %llu, huge %llu KiB)", (unsigned long long)u.rss_kib,
	      (unsigned long long)u.huge_kib);
	CHECK(uc, ram_usage_parse(smaps, 0x1000, 0x2000, &u) == -1, "smaps: no mapping in range is an error");
}

static void test_alloc(struct unit_counts *uc)
{
	struct guest_ram ram = { .base = 0x80000000, .size = RAM_SIZE, .fd = -1 };
	char err[300];
	u8 pop[SNAP_CHUNK_PAGES];
	struct ram_usage u;

	CHECK(uc, guest_ram_alloc(&ram, NULL, err, sizeof(err)) == 0, "anonymous RAM allocated");
	CHECK(uc, IS_ALIGNED((unsigned long)ram.host, SZ_2M) && ram.backing == RAM_ANON && ram.fd == -1,
	      "anonymous RAM is 2 MiB aligned (%p)", (void *)ram.host);
	guest_ram_populated(&ram, 0, SNAP_RAM_CHUNK, pop);
	CHECK(uc, memchr(pop, 1, sizeof(pop)) == NULL, "untouched RAM: no populated pages (nothing faulted in)");
	ram.host[5 * SNAP_PAGE + 7] = 1;
	guest_ram_populated(&ram, 0, SNAP_RAM_CHUNK, pop);
	CHECK(uc, pop[5] == 1 && pop[4] == 0 && pop[6] == 0 ? true : pop[5] == 1,
	      "a written page shows as populated (THP may populate its neighbours too)");
	CHECK(uc, guest_ram_usage(&ram, &u) == 0 && u.rss_kib >= 4, "guest_ram_usage finds the mapping (rss %llu KiB)",
	      (unsigned long long)u.rss_kib);
	munmap(ram.host, ram.size);

	ram = (struct guest_ram){ .base = 0x80000000, .size = RAM_SIZE, .fd = -1 };
	CHECK(uc, guest_ram_alloc(&ram, "/tmp", err, sizeof(err)) == -1 && strstr(err, "not a hugetlbfs mount") &&
			  strstr(err, "/tmp") && !strchr(err, '\n'),
	      "--hugetlbfs on a non-hugetlbfs directory: %s", err);
	CHECK(uc, guest_ram_alloc(&ram, "/nonexistent/huge", err, sizeof(err)) == -1 && strstr(err, "No such file"),
	      "--hugetlbfs on a missing path: %s", err);

	/* migrate --local's destination maps only a hugetlbfs file (a memfd of the right size is refused) */
	{
		int mfd = memfd_create("lkvm-not-huge", MFD_CLOEXEC);
		ram = (struct guest_ram){ .base = 0x80000000, .size = RAM_SIZE, .fd = -1 };
		if (mfd < 0 || ftruncate(mfd, RAM_SIZE) || guest_ram_alloc(&ram, NULL, err, sizeof(err)))
			abort();
		CHECK(uc, guest_ram_map_shared(&ram, mfd, err, sizeof(err)) == -1 && strstr(err, "not a hugetlbfs file") &&
			      ram.backing == RAM_ANON && !ram.shared_in,
		      "--local: shared RAM that is not hugetlbfs is refused: %s", err);
		close(mfd);
		munmap(ram.host, ram.size);
	}
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	struct guest_ram src = { .base = 0x80000000, .size = RAM_SIZE, .fd = -1 };
	struct guest_ram dst = { .base = 0x80000000, .size = RAM_SIZE, .fd = -1 };
	struct snap_reader r;
	struct snap_ram_image img;
	u8 *payload = NULL;
	char err[300];
	size_t prefix;
	u64 off, data;
	struct stat st;
	int fd, bad = 0;

	test_ram_usage(&uc);
	test_alloc(&uc);

	if (guest_ram_alloc(&src, NULL, err, sizeof(err)) || guest_ram_alloc(&dst, NULL, err, sizeof(err))) {
		CHECK(&uc, false, "allocating test RAM: %s", err);
		UNIT_DONE(&uc);
	}
	/* data in chunks 0 and 5, a touched-but-zero page in chunk 2, the rest never touched */
	for (u64 i = 0; i < 300; i++)
		src.host[i * 4099 % MIB(2)] = (u8)(i + 1);
	memset(src.host + MIB(10) + 3 * SNAP_PAGE, 0x5a, 2 * SNAP_PAGE);
	memset(src.host + MIB(4), 0, SNAP_PAGE);

	fd = make_v2(&src, &prefix, &off);
	CHECK(&uc, fd >= 0 && IS_ALIGNED(off, SNAP_IMAGE_ALIGN) && off >= prefix, "version-2 file written (image at %llu)",
	      (unsigned long long)off);
	fstat(fd, &st);
	CHECK(&uc, (u64)st.st_size == off + RAM_SIZE, "file covers the whole image (%lld bytes)", (long long)st.st_size);
	CHECK(&uc, (u64)st.st_blocks * 512 <= prefix + 4096 + MIB(2) + 2 * SNAP_PAGE,
	      "sparse: %lld bytes allocated for %llu bytes of sections and < 2 MiB of data", (long long)st.st_blocks * 512,
	      (unsigned long long)prefix);

	CHECK(&uc, read_v2(fd, &r, &img, &payload, err, sizeof(err)) == 0 && r.version == SNAP_VERSION_MAPPED,
	      "sections read back: %s", err);
	CHECK(&uc, img.offset == off && img.size == RAM_SIZE && img.nr_chunks == 8, "image descriptor");
	CHECK(&uc, snap_image_verify(fd, &img, &data, err, sizeof(err)) == 0 && data <= MIB(2) + 2 * SNAP_PAGE,
	      "every chunk CRC verifies (%llu data bytes read)", (unsigned long long)data);
	{
		int mfd = dup(fd);
		u8 pop[SNAP_CHUNK_PAGES];
		CHECK(&uc, guest_ram_map_file(&dst, mfd, off, err, sizeof(err)) == 0 && dst.backing == RAM_SNAPSHOT,
		      "image mapped over guest RAM: %s", err);
		/* before the guest touches anything: populated = the file's data pages, holes stay unread */
		guest_ram_populated(&dst, MIB(10), MIB(2), pop);
		CHECK(&uc, pop[3] && pop[4] && !pop[0] && !pop[100], "file-backed RAM: file data counts as populated, holes not");
		CHECK(&uc, memcmp(src.host, dst.host, RAM_SIZE) == 0, "mapped RAM equals the saved RAM");
		dst.host[100] ^= 1; /* copy-on-write: the file is not changed */
		CHECK(&uc, snap_image_verify(fd, &img, &data, err, sizeof(err)) == 0, "guest writes do not reach the file");
		guest_ram_populated(&dst, 0, MIB(2), pop);
		CHECK(&uc, pop[0], "a page the guest wrote counts as populated");
	}
	snapr_free(&r);

	/* sequential load (a pipe): the same bytes, CRCs checked on the way */
	{
		struct guest_ram seq = { .base = 0x80000000, .size = RAM_SIZE, .fd = -1 };
		guest_ram_alloc(&seq, NULL, err, sizeof(err));
		read_v2(fd, &r, &img, &payload, err, sizeof(err));
		CHECK(&uc, snap_image_load(&r, &img, &seq, err, sizeof(err)) == 0 && !memcmp(src.host, seq.host, RAM_SIZE),
		      "sequential image load: %s", err);
		snapr_free(&r);
		munmap(seq.host, seq.size);
	}

	/* every truncation of the sections is refused; a cut inside the image is refused when mapping */
	for (size_t n = 0; n < prefix; n++) {
		int t = copy_file(fd, n, -1);
		if (read_v2(t, &r, &img, &payload, err, sizeof(err)) != -1)
			bad++;
		snapr_free(&r);
		close(t);
	}
	CHECK(&uc, bad == 0, "all %zu truncations of the sections refused", prefix);
	{
		int t = copy_file(fd, off + MIB(5), -1);
		struct guest_ram m = { .base = 0x80000000, .size = RAM_SIZE, .fd = -1 };
		guest_ram_alloc(&m, NULL, err, sizeof(err));
		CHECK(&uc, read_v2(t, &r, &img, &payload, err, sizeof(err)) == 0, "sections intact in a file cut in the image");
		CHECK(&uc, guest_ram_map_file(&m, t, img.offset, err, sizeof(err)) == -1 && strstr(err, "truncated"),
		      "image cut short: not mapped (%s)", err);
		snapr_free(&r);
		close(t);
		munmap(m.host, m.size);
	}
	bad = 0;
	for (size_t i = 0; i < prefix; i++) {
		int t = copy_file(fd, off + RAM_SIZE, (long)i);
		if (read_v2(t, &r, &img, &payload, err, sizeof(err)) != -1)
			bad++;
		snapr_free(&r);
		close(t);
	}
	CHECK(&uc, bad == 0, "all %zu single-byte corruptions of the sections refused", prefix);
	{
		int t = copy_file(fd, off + RAM_SIZE, (long)(off + MIB(10) + 3 * SNAP_PAGE + 17));
		read_v2(t, &r, &img, &payload, err, sizeof(err));
		CHECK(&uc, snap_image_verify(t, &img, &data, err, sizeof(err)) == -1 && strstr(err, "chunk 5"),
		      "a flipped RAM byte is caught by --verify: %s", err);
		snapr_free(&r);
		lseek(t, 0, SEEK_SET);
		read_v2(t, &r, &img, &payload, err, sizeof(err));
		CHECK(&uc, snap_image_load(&r, &img, &src, err, sizeof(err)) == -1 && strstr(err, "CRC"),
		      "... and by a sequential load: %s", err);
		snapr_free(&r);
		close(t);
	}
	/* descriptors that do not fit the guest are refused */
	{
		u8 p[24 + 4 * 8] = { 0 };
		struct snap_ram_image bad_img;
		p[2] = 0x20; /* offset 2 MiB */
		memcpy(p + 8, &(u64){ RAM_SIZE }, 8);
		memcpy(p + 16, &(u32){ SNAP_RAM_CHUNK }, 4);
		memcpy(p + 20, &(u32){ 8 }, 4);
		CHECK(&uc, snap_image_parse(p, sizeof(p), RAM_SIZE, &bad_img, err, sizeof(err)) == 0, "a sane descriptor");
		CHECK(&uc, snap_image_parse(p, sizeof(p), RAM_SIZE * 2, &bad_img, err, sizeof(err)) == -1,
		      "size mismatch refused: %s", err);
		p[2] = 0x21;
		CHECK(&uc, snap_image_parse(p, sizeof(p), RAM_SIZE, &bad_img, err, sizeof(err)) == -1,
		      "unaligned offset refused: %s", err);
		CHECK(&uc, snap_image_parse(p, sizeof(p) - 1, RAM_SIZE, &bad_img, err, sizeof(err)) == -1,
		      "short descriptor refused: %s", err);
	}
	/* RAM sections in a version-2 file (and an image in version 1) are refused */
	{
		struct snap_writer w;
		int t = memfd_create("mixed", 0);
		snapw_init(&w, t);
		snapw_file_header(&w, SNAP_VERSION_MAPPED);
		snapw_ram_chunk(&w, 0, src.host, SNAP_CHUNK_PAGES, NULL);
		snapw_free(&w);
		CHECK(&uc, read_v2(t, &r, &img, &payload, err, sizeof(err)) == -1 && strstr(err, "version-2"),
		      "RAM section in a version-2 file: %s", err);
		snapr_free(&r);
		close(t);
	}
	close(fd);
	free(payload);
	munmap(src.host, src.size);
	munmap(dst.host, dst.size);
	UNIT_DONE(&uc);
}

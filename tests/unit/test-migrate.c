/* Unit tests: live migration's dirty bookkeeping (lkvm's own writes), RAM_PAGES sections, version-3 streams. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "kvm/control.h"
#include "kvm/migrate.h"
#include "kvm/snapshot.h"
#include "kvm/virtio-queue.h"

#define BASE 0x80000000ULL
#define RAM_SIZE (8ULL << 20)

static bool dirty_bit(const u64 *bits, u64 gpa)
{
	u64 pg = (gpa - BASE) / 4096;
	return bits[pg / 64] & (1ULL << (pg % 64));
}

static u64 popcount(const u64 *bits, u64 words)
{
	u64 n = 0;
	for (u64 i = 0; i < words; i++)
		n += (u64)__builtin_popcountll(bits[i]);
	return n;
}

static void test_bitmap(struct unit_counts *uc, struct guest_ram *ram)
{
	u64 words = guest_ram_bitmap_words(ram);
	u64 *own = calloc(words, 8), *out = calloc(words, 8);

	guest_ram_mark_dirty(ram, BASE, 4096);
	CHECK(uc, words == RAM_SIZE / 4096 / 64, "bitmap words for 8 MiB: %llu", (unsigned long long)words);
	memset(own, 0xff, words * 8);
	guest_ram_dirty_start(ram, own);
	CHECK(uc, popcount(own, words) == 0, "start clears the bitmap (a write before it is read by pass 1 anyway)");
	guest_ram_mark_dirty(ram, BASE + 4095, 2); /* straddles pages 0 and 1 */
	guest_ram_mark_dirty(ram, BASE + RAM_SIZE - 1, 100); /* runs past the end: clamped */
	guest_ram_mark_dirty(ram, BASE - 4096, 8192); /* starts below RAM: clamped to page 0..0 */
	guest_ram_mark_dirty(ram, ~0ULL - 10, 100); /* wraps: nothing inside */
	guest_ram_mark_dirty(ram, 0x1000, 0x1000); /* below RAM */
	guest_ram_mark_dirty(ram, BASE + 5 * 4096, 0); /* empty */
	guest_ram_mark_dirty_host(ram, ram->host + 10 * 4096 + 100, 1);
	guest_ram_mark_dirty_host(ram, ram->host + RAM_SIZE, 1); /* not guest RAM */
	CHECK(uc, dirty_bit(own, BASE) && dirty_bit(own, BASE + 4096), "a write across a page boundary marks both");
	CHECK(uc, dirty_bit(own, BASE + RAM_SIZE - 4096), "a write at the end is clamped to RAM");
	CHECK(uc, dirty_bit(own, BASE + 10 * 4096), "host-pointer variant marks its page");
	CHECK(uc, !dirty_bit(own, BASE + 5 * 4096), "a zero-length write marks nothing");
	CHECK(uc, popcount(own, words) == 4, "exactly 4 pages marked (%llu)", (unsigned long long)popcount(own, words));
	CHECK(uc, guest_ram_dirty_take(ram, out) == 4 && popcount(out, words) == 4 && popcount(own, words) == 0,
	      "take moves the marks out and clears them");
	guest_ram_mark_dirty(ram, BASE + 4096 * 3, 1);
	CHECK(uc, guest_ram_dirty_take(ram, out) == 1 && popcount(out, words) == 5, "take ORs into what is pending");
	CHECK(uc, guest_ram_dirty_stop(ram) == own, "stop hands the bitmap back");
	guest_ram_mark_dirty(ram, BASE + 4096 * 7, 1);
	CHECK(uc, popcount(own, words) == 0 && guest_ram_dirty_take(ram, out) == 0, "marks after stop are ignored");
	free(own);
	free(out);
}

/* A split queue in fake RAM: desc table at 0x1000, avail 0x2000, used 0x3000, buffers further up. */
static void test_virtq_marks(struct unit_counts *uc, struct guest_ram *ram)
{
	u64 words = guest_ram_bitmap_words(ram), *own = calloc(words, 8), *out = calloc(words, 8);
	struct virtq vq;
	struct iovec iov[16];
	struct virtq_chain ch = { .iov = iov, .iov_cap = 16 };
	struct virtq_desc *d = (struct virtq_desc *)(ram->host + 0x1000), *ind = (struct virtq_desc *)(ram->host + 0x1800);
	struct virtq_avail *av = (struct virtq_avail *)(ram->host + 0x2000);

	memset(ram->host, 0, 0x10000);
	/* head 0: readable 0x10000 (16 B) -> writable 0x20000 (8 KiB) -> indirect table: writable 0x40000 (1 B) */
	d[0] = (struct virtq_desc){ BASE + 0x10000, 16, VIRTQ_DESC_F_NEXT, 1 };
	d[1] = (struct virtq_desc){ BASE + 0x20000, 8192, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2 };
	d[2] = (struct virtq_desc){ BASE + 0x1800, 16, VIRTQ_DESC_F_INDIRECT, 0 };
	ind[0] = (struct virtq_desc){ BASE + 0x40000, 1, VIRTQ_DESC_F_WRITE, 0 };
	av->ring[0] = 0;
	av->idx = 1;
	CHECK(uc, virtq_enable(&vq, ram, 8, 8, BASE + 0x1000, BASE + 0x2000, BASE + 0x3000, true, true) == 0,
	      "queue enabled");
	CHECK(uc, virtq_pop(&vq, &ch) == 1 && ch.n_in == 2 && ch.in_len == 8193, "chain popped (2 writable buffers)");
	virtq_push(&vq, ch.head, 5);
	CHECK(uc, guest_ram_dirty_take(ram, out) == 0, "no marks while no migration runs");
	guest_ram_dirty_start(ram, own);
	av->ring[1] = 0;
	av->idx = 2;
	CHECK(uc, virtq_pop(&vq, &ch) == 1, "chain popped again");
	virtq_push(&vq, ch.head, 5);
	virtq_rearm(&vq);
	guest_ram_dirty_take(ram, out);
	CHECK(uc, dirty_bit(out, BASE + 0x20000) && dirty_bit(out, BASE + 0x21000), "writable buffer's 2 pages marked");
	CHECK(uc, dirty_bit(out, BASE + 0x40000), "writable buffer behind an indirect table marked");
	CHECK(uc, !dirty_bit(out, BASE + 0x10000), "device-readable buffer not marked");
	CHECK(uc, dirty_bit(out, BASE + 0x3000), "used ring (element, index, avail_event) marked");
	CHECK(uc, popcount(out, words) == 4, "nothing else marked (%llu pages)", (unsigned long long)popcount(out, words));
	/* a used ring that straddles a page: element and index on different pages */
	guest_ram_dirty_stop(ram);
	free(own);
	free(out);
}

/* Pages 0-3 of chunk 0: data, zero, data, untouched; the destination holds garbage in page 1. */
static void test_ram_pages(struct unit_counts *uc, struct guest_ram *src, struct guest_ram *dst)
{
	int fd = memfd_create("pages", 0);
	struct snap_writer w;
	struct snap_reader r;
	u8 carried[64] = { 0x7 };
	u32 sent;
	char err[256];
	int rc, n = 0;

	memset(src->host, 0, RAM_SIZE);
	memset(dst->host, 0, RAM_SIZE);
	memset(src->host, 0x11, 4096);
	memset(src->host + 2 * 4096, 0x33, 4096);
	memset(src->host + 3 * 4096, 0x44, 4096);
	memset(dst->host + 4096, 0xee, 4096);
	snapw_init(&w, fd);
	snapw_file_header(&w, SNAP_VERSION_MIGRATE);
	CHECK(uc, snapw_ram_pages(&w, 0, src->host, 512, carried, true, &sent, NULL) == 0 && sent == 2,
	      "first pass drops the zero page (%u carried)", sent);
	{
		u32 crcs[512] = { 0 };
		CHECK(uc, snapw_ram_pages(&w, 0, src->host, 512, carried, false, &sent, crcs) == 0 && sent == 3,
		      "later passes carry it as a zero bit (%u carried)", sent);
		CHECK(uc, crcs[0] == snap_page_hash(src->host) && crcs[1] == snap_zero_page_hash() &&
			  crcs[2] == snap_page_hash(src->host + 2 * 4096) && crcs[3] == 0,
		      "the hash of each page as sent (%08x %08x %08x %08x)", crcs[0], crcs[1], crcs[2], crcs[3]);
		CHECK(uc, snap_zero_page_crc() == snap_page_crc(src->host + 100 * 4096), "the zero page's CRC constant");
		CHECK(uc, snap_zero_page_hash() == snap_page_hash(src->host + 100 * 4096), "the zero page's hash");
		src->host[2 * 4096 + 4095] ^= 1; /* one bit in the last word of the second lane */
		CHECK(uc, snap_page_hash(src->host + 2 * 4096) != crcs[2], "one flipped bit changes the page's hash");
		src->host[2 * 4096 + 4095] ^= 1;
	}
	memset(src->host + 2 * 4096, 0x55, 4096); /* rewritten: the later copy must win */
	carried[0] = 0x4;
	snapw_ram_pages(&w, 0, src->host, 512, carried, false, &sent, NULL);
	memset(carried, 0, sizeof(carried));
	CHECK(uc, snapw_ram_pages(&w, 0, src->host, 512, carried, false, &sent, NULL) == 0 && sent == 0 && w.sections == 3,
	      "nothing carried: no section");
	snapw_finish(&w, RAM_SIZE);
	snapw_free(&w);
	lseek(fd, 0, SEEK_SET);
	snapr_init(&r, fd);
	rc = snapr_file_header(&r) ? -1 : 1;
	while (rc == 1 && (rc = snapr_next(&r)) == 1) {
		n++;
		if (r.type == SNAP_SEC_RAM_PAGES && snap_ram_pages_decode(r.payload, r.len, dst, err, sizeof(err)))
			rc = -1;
	}
	CHECK(uc, rc == 0 && n == 3, "three RAM_PAGES sections read (%d, %s)", n, rc ? r.err : "ok");
	snapr_free(&r);
	CHECK(uc, dst->host[0] == 0x11 && dst->host[4096] == 0 && dst->host[2 * 4096] == 0x55 &&
		  dst->host[3 * 4096] == 0,
	      "data arrives, a page that became zero is zeroed, the last copy wins, pages not carried stay");
	close(fd);
}

/* A whole small version-3 stream: config, RAM pages, PAUSED, a device, END. */
static int make_stream(const struct guest_ram *ram, size_t *size)
{
	int fd = memfd_create("mig", 0);
	struct snap_writer w;
	u8 all[64];
	const char *cfg = "cpus=1\nmem_mib=8\nname=vm1\n";

	memset(all, 0xff, sizeof(all));
	snapw_init(&w, fd);
	snapw_file_header(&w, SNAP_VERSION_MIGRATE);
	snapw_begin(&w, SNAP_SEC_CONFIG);
	snapw_put(&w, cfg, strlen(cfg));
	snapw_end(&w);
	snapw_ram_pages(&w, 0, ram->host, 4, all, true, NULL, NULL);
	snapw_begin(&w, SNAP_SEC_PAUSED);
	snapw_u64(&w, 123456789);
	snapw_end(&w);
	snapw_ram_pages(&w, 4096, ram->host + 4096, 2, all, false, NULL, NULL);
	snapw_begin(&w, SNAP_SEC_DEVICE);
	snapw_put(&w, "uart\0", 5);
	snapw_u64(&w, 0x9000000);
	snapw_end(&w);
	snapw_finish(&w, RAM_SIZE);
	*size = (size_t)w.bytes;
	snapw_free(&w);
	return w.error ? -1 : fd;
}

static int load_stream(int fd, size_t n, int flip, const struct guest_ram *ram)
{
	u8 *buf = malloc(n ? n : 1);
	int t = memfd_create("cut", 0), rc;
	struct snap_reader r;
	char err[256];

	if (pread(fd, buf, n, 0) != (ssize_t)n)
		return 9;
	if (flip >= 0)
		buf[flip] ^= 0x20;
	if (write(t, buf, n) != (ssize_t)n)
		return 9;
	lseek(t, 0, SEEK_SET);
	snapr_init(&r, t);
	rc = snapr_file_header(&r) ? -1 : 1;
	while (rc == 1 && (rc = snapr_next(&r)) == 1)
		if (r.type == SNAP_SEC_RAM_PAGES && snap_ram_pages_decode(r.payload, r.len, ram, err, sizeof(err)))
			rc = -1;
	snapr_free(&r);
	close(t);
	free(buf);
	return rc;
}

static void test_stream(struct unit_counts *uc, struct guest_ram *src, struct guest_ram *dst)
{
	size_t size;
	int fd, bad_trunc = 0, bad_flip = 0;

	memset(src->host, 0, RAM_SIZE);
	memset(src->host, 0x5a, 3 * 4096);
	fd = make_stream(src, &size);
	CHECK(uc, fd >= 0 && load_stream(fd, size, -1, dst) == 0, "version-3 stream round trip (%zu bytes)", size);
	CHECK(uc, !memcmp(src->host, dst->host, 4 * 4096), "RAM identical");
	for (size_t n = 0; n < size; n++)
		bad_trunc += load_stream(fd, n, -1, dst) != -1;
	CHECK(uc, bad_trunc == 0, "all %zu truncations refused", size);
	for (size_t i = 0; i < size; i++)
		bad_flip += load_stream(fd, size, (int)i, dst) != -1;
	CHECK(uc, bad_flip == 0, "all %zu single-byte corruptions refused", size);
	close(fd);
	{
		/* a RAM_PAGES section in a version-1 snapshot, and a compressed RAM section in a migration stream */
		int f = memfd_create("mix", 0);
		struct snap_writer w;
		struct snap_reader r;
		u8 all[64];
		memset(all, 0xff, sizeof(all));
		snapw_init(&w, f);
		snapw_file_header(&w, SNAP_VERSION);
		snapw_ram_pages(&w, 0, src->host, 1, all, false, NULL, NULL);
		snapw_free(&w);
		lseek(f, 0, SEEK_SET);
		snapr_init(&r, f);
		CHECK(uc, snapr_file_header(&r) == 0 && snapr_next(&r) == -1 && strstr(r.err, "version-1"),
		      "RAM pages refused in a version-1 snapshot: %s", r.err);
		snapr_free(&r);
		close(f);
		f = memfd_create("mix", 0);
		snapw_init(&w, f);
		snapw_file_header(&w, SNAP_VERSION_MIGRATE);
		snapw_ram_chunk(&w, 0, src->host, 512, NULL);
		snapw_free(&w);
		lseek(f, 0, SEEK_SET);
		snapr_init(&r, f);
		CHECK(uc, snapr_file_header(&r) == 0 && snapr_next(&r) == -1 && strstr(r.err, "version-3"),
		      "compressed RAM refused in a migration stream: %s", r.err);
		snapr_free(&r);
		close(f);
	}
	{
		/* hostile RAM_PAGES payloads */
		u8 p[8 + 4 + 128 + 4 + 4096] = { 0 };
		char err[256];
		p[8] = 1;       /* 1 page */
		p[12] = 0x3;    /* carried: pages 0 and 1, but only 1 page */
		CHECK(uc, snap_ram_pages_decode(p, 8 + 4 + 128 + 4, dst, err, sizeof(err)) == -1,
		      "bit outside the pages: %s", err);
		p[12] = 0x1;
		p[12 + 64] = 0x2; /* zero bit without carried bit */
		CHECK(uc, snap_ram_pages_decode(p, 8 + 4 + 128 + 4, dst, err, sizeof(err)) == -1,
		      "zero bit for a page not carried: %s", err);
		p[12 + 64] = 0;
		p[141] = 0x10; /* 4096 bytes of data claimed */
		CHECK(uc, snap_ram_pages_decode(p, sizeof(p), dst, err, sizeof(err)) == 0, "one page with data accepted");
		CHECK(uc, snap_ram_pages_decode(p, sizeof(p) - 1, dst, err, sizeof(err)) == -1, "short data: %s", err);
		p[0] = 0xff; p[1] = 0xff; p[2] = 0x7f; /* offset 8 MiB - ...: outside */
		CHECK(uc, snap_ram_pages_decode(p, sizeof(p), dst, err, sizeof(err)) == -1, "outside RAM: %s", err);
		p[0] = 0; p[1] = 0xf0; p[2] = 0x7f; /* last page: fits */
		CHECK(uc, snap_ram_pages_decode(p, sizeof(p), dst, err, sizeof(err)) == 0, "last page accepted");
		p[0] = 1;
		CHECK(uc, snap_ram_pages_decode(p, sizeof(p), dst, err, sizeof(err)) == -1, "unaligned offset: %s", err);
	}
}

static void test_addr(struct unit_counts *uc)
{
	struct migrate_addr a;
	struct migrate_params p;
	char err[256];

	CHECK(uc, migrate_addr_parse("tcp:127.0.0.1:4444", &a, err, sizeof(err)) == 0 && a.family == AF_INET, "tcp v4");
	CHECK(uc, migrate_addr_parse("tcp:[::1]:4444", &a, err, sizeof(err)) == 0 && a.family == AF_INET6, "tcp v6");
	CHECK(uc, migrate_addr_parse("tcp:localhost:1", &a, err, sizeof(err)) == 0, "localhost");
	CHECK(uc, migrate_addr_parse("unix:/tmp/x.sock", &a, err, sizeof(err)) == 0 && a.family == AF_UNIX, "unix");
	CHECK(uc, migrate_addr_parse("tcp::4444", &a, err, sizeof(err)) == -1, "no host (no wildcard): %s", err);
	CHECK(uc, migrate_addr_parse("tcp:127.0.0.1:0", &a, err, sizeof(err)) == -1, "port 0 refused");
	CHECK(uc, migrate_addr_parse("tcp:127.0.0.1:65536", &a, err, sizeof(err)) == -1, "port too big");
	CHECK(uc, migrate_addr_parse("tcp:example.com:80", &a, err, sizeof(err)) == -1, "names: %s", err);
	CHECK(uc, migrate_addr_parse("udp:1.2.3.4:5", &a, err, sizeof(err)) == -1, "unknown scheme: %s", err);
	CHECK(uc, migrate_addr_parse("unix:", &a, err, sizeof(err)) == -1, "empty path");
	CHECK(uc, migrate_params_parse("downtime_ms=50 bandwidth_mibs=10 timeout_s=3 strategy=force", &p, err,
				       sizeof(err)) == 0 && p.max_downtime_ms == 50 && p.max_bw == 10 << 20 &&
		      p.timeout_ms == 3000 && p.force,
	      "request knobs parsed");
	CHECK(uc, migrate_params_parse("downtime_ms=x", &p, err, sizeof(err)) == -1, "bad knob refused");
	CHECK(uc, migrate_params_parse("strategy=maybe", &p, err, sizeof(err)) == -1, "bad strategy refused");
	CHECK(uc, migrate_params_parse("verify=0 local=1", &p, err, sizeof(err)) == 0 && p.local && !p.verify,
	      "local=1 parsed");
	CHECK(uc, migrate_params_parse("local=2", &p, err, sizeof(err)) == -1, "local=2 refused");
}

/* migrate --local: the hello carrying RAM's descriptor is taken off the stream; anything else is left alone. */
static void test_ram_fd(struct unit_counts *uc)
{
	int sv[2], mfd, got;
	char err[200], buf[16];
	struct stat a, b;

	mfd = memfd_create("lkvm-test-ram", MFD_CLOEXEC);
	if (mfd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	CHECK(uc, control_send_fd(sv[0], MIGRATE_RAM_FD_HELLO, mfd) == 0 && write(sv[0], "LKVMSNAP", 8) == 8,
	      "hello with a descriptor, then the stream, sent");
	got = migrate_take_ram_fd(sv[1], err, sizeof(err));
	CHECK(uc, got >= 0 && fstat(got, &a) == 0 && fstat(mfd, &b) == 0 && a.st_ino == b.st_ino,
	      "the descriptor arrives: the same file");
	CHECK(uc, read(sv[1], buf, 8) == 8 && !memcmp(buf, "LKVMSNAP", 8), "the stream after the hello is untouched");
	if (got >= 0)
		close(got);
	/* an ordinary stream: nothing is consumed */
	CHECK(uc, write(sv[0], "LKVMSNAP-and-more-bytes", 23) == 23 && migrate_take_ram_fd(sv[1], err, sizeof(err)) == -2 &&
		      read(sv[1], buf, 8) == 8 && !memcmp(buf, "LKVMSNAP", 8),
	      "an ordinary stream is left as it was (-2)");
	while (recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	/* the hello without a descriptor: an error, not a guess */
	CHECK(uc, write(sv[0], MIGRATE_RAM_FD_HELLO, 16) == 16 && migrate_take_ram_fd(sv[1], err, sizeof(err)) == -1 &&
		      strstr(err, "0 descriptors"),
	      "a hello without a descriptor is refused: %s", err);
	/* a hello cut short by the peer going away: an ordinary (truncated) stream for the reader to report */
	CHECK(uc, write(sv[0], "LKVM-RAM", 8) == 8 && close(sv[0]) == 0 && migrate_take_ram_fd(sv[1], err, sizeof(err)) == -2,
	      "a half hello then EOF: left to the stream reader (-2)");
	close(sv[1]);
	close(mfd);
}

/* RAM_DIGEST (migrate --verify): equal RAM passes, one changed byte is found at its page, garbage is refused. */
struct digest_seen {
	int n;
	u64 off;
};
static void digest_seen(u64 off, u32 src_crc, u32 dst_crc, void *ctx)
{
	struct digest_seen *d = ctx;
	d->n++;
	d->off = off;
	(void)src_crc;
	(void)dst_crc;
}

static void test_digest(struct unit_counts *uc, struct guest_ram *src, struct guest_ram *dst)
{
	int fd = memfd_create("digest", 0);
	struct snap_writer w;
	struct snap_reader r;
	u8 populated[512];
	struct digest_seen seen = { 0, 0 };
	char err[256];
	int bad = -2;

	memset(src->host, 0, RAM_SIZE);
	memset(dst->host, 0, RAM_SIZE);
	memset(src->host + 5 * 4096, 0x5a, 4096);
	memcpy(dst->host, src->host, 2 << 20);
	memset(populated, 1, sizeof(populated));
	populated[7] = 0; /* known zero: not read */
	dst->host[300 * 4096 + 17] = 1;
	snapw_init(&w, fd);
	snapw_file_header(&w, SNAP_VERSION_MIGRATE);
	CHECK(uc, snapw_ram_digest(&w, 0, src->host, 512, populated) == 0, "digest of a chunk written");
	snapw_finish(&w, RAM_SIZE);
	snapw_free(&w);
	lseek(fd, 0, SEEK_SET);
	snapr_init(&r, fd);
	if (!snapr_file_header(&r) && snapr_next(&r) == 1 && r.type == SNAP_SEC_RAM_DIGEST)
		bad = snap_ram_digest_check(r.payload, r.len, dst, digest_seen, &seen, err, sizeof(err));
	CHECK(uc, bad == 1 && seen.n == 1 && seen.off == 300 * 4096,
	      "one changed byte: one page differs, at 0x%llx (%d)", (unsigned long long)seen.off, bad);
	dst->host[300 * 4096 + 17] = 0;
	CHECK(uc, snap_ram_digest_check(r.payload, r.len, dst, NULL, NULL, err, sizeof(err)) == 0,
	      "equal RAM: no page differs");
	CHECK(uc, snap_ram_digest_check(r.payload, r.len - 4, dst, NULL, NULL, err, sizeof(err)) < 0,
	      "a short digest is refused: %s", err);
	{
		u8 *p = malloc(r.len);
		memcpy(p, r.payload, r.len);
		u64 past = RAM_SIZE; /* past the end of RAM */
		memcpy(p, &past, 8);
		CHECK(uc, snap_ram_digest_check(p, r.len, dst, NULL, NULL, err, sizeof(err)) < 0,
		      "a digest outside RAM is refused: %s", err);
		free(p);
	}
	snapr_free(&r);
	close(fd);
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	struct guest_ram src = { .base = BASE, .size = RAM_SIZE, .fd = -1 };
	struct guest_ram dst = { .base = BASE, .size = RAM_SIZE, .fd = -1 };

	src.host = calloc(1, RAM_SIZE);
	dst.host = calloc(1, RAM_SIZE);
	test_bitmap(&uc, &src);
	test_virtq_marks(&uc, &src);
	test_ram_pages(&uc, &src, &dst);
	test_stream(&uc, &src, &dst);
	test_digest(&uc, &src, &dst);
	test_addr(&uc);
	test_ram_fd(&uc);
	free(src.host);
	free(dst.host);
	UNIT_DONE(&uc);
}

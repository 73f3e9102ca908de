/* Unit tests: virtio-blk request parsing and execution on a temporary raw image, and one request end to end. */
#include <endian.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "kvm/virtio-mmio.h"
#include "kvm/virtio-blk.h"

#define DISK_SECTORS 16

struct hdr {
	u32 type, reserved;
	u64 sector;
};

static void mkhdr(u8 *p, u32 type, u64 sector)
{
	struct hdr h = { htole32(type), 0, htole64(sector) };
	memcpy(p, &h, sizeof(h));
}

/* A chain over host buffers: n_out readable then n_in writable entries of iov. */
static struct virtq_chain chain(struct iovec *iov, unsigned int n_out, unsigned int n_in)
{
	struct virtq_chain ch = { .iov = iov, .iov_cap = 16, .n_out = n_out, .n_in = n_in };
	for (unsigned int i = 0; i < n_out; i++)
		ch.out_len += iov[i].iov_len;
	for (unsigned int i = n_out; i < n_out + n_in; i++)
		ch.in_len += iov[i].iov_len;
	return ch;
}

static int make_disk(char *path, const char *name)
{
	u8 sec[512];
	int fd;

	snprintf(path, 64, "/tmp/lkvm-test-%s-XXXXXX", name);
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	for (int s = 0; s < DISK_SECTORS; s++) {
		memset(sec, 'A' + s, sizeof(sec));
		if (write(fd, sec, sizeof(sec)) != (ssize_t)sizeof(sec))
			abort();
	}
	return fd;
}

static void test_parse(struct unit_counts *uc)
{
	u8 h[16], data[1024], status = 0xff, tail[8];
	struct iovec iov[8], out[8];
	struct virtq_chain ch;
	struct virtio_blk_req r;

	mkhdr(h, VIRTIO_BLK_T_IN, 3);
	iov[0] = (struct iovec){ h, 16 };
	iov[1] = (struct iovec){ data, 512 };
	iov[2] = (struct iovec){ &status, 1 };
	ch = chain(iov, 1, 2);
	CHECK(uc, virtio_blk_parse(&ch, out, 8, &r) == 0 && r.type == VIRTIO_BLK_T_IN && r.sector == 3 &&
			  r.n_data == 1 && r.data_len == 512 && r.data[0].iov_base == data && r.status == &status &&
			  !r.bad_header,
	      "IN: header, one data buffer, separate status byte");

	/* header split over two descriptors; data and status sharing one buffer */
	mkhdr(h, VIRTIO_BLK_T_IN, 0x123456789aULL);
	iov[0] = (struct iovec){ h, 5 };
	iov[1] = (struct iovec){ h + 5, 11 };
	iov[2] = (struct iovec){ data, 513 };
	ch = chain(iov, 2, 1);
	CHECK(uc, virtio_blk_parse(&ch, out, 8, &r) == 0 && r.sector == 0x123456789aULL && r.n_data == 1 &&
			  r.data_len == 512 && r.status == data + 512,
	      "split header; status is the last byte of a shared buffer");

	/* OUT with header and data in one readable buffer */
	mkhdr(data, VIRTIO_BLK_T_OUT, 1);
	iov[0] = (struct iovec){ data, 16 + 512 };
	iov[1] = (struct iovec){ &status, 1 };
	ch = chain(iov, 1, 1);
	CHECK(uc, virtio_blk_parse(&ch, out, 8, &r) == 0 && r.type == VIRTIO_BLK_T_OUT && r.n_data == 1 &&
			  r.data_len == 512 && r.data[0].iov_base == data + 16,
	      "OUT: payload follows the header inside one buffer");

	iov[0] = (struct iovec){ h, 16 };
	ch = chain(iov, 1, 0);
	CHECK(uc, virtio_blk_parse(&ch, out, 8, &r) == -1, "no writable status byte: refused");

	iov[0] = (struct iovec){ h, 8 };
	iov[1] = (struct iovec){ &status, 1 };
	ch = chain(iov, 1, 1);
	CHECK(uc, virtio_blk_parse(&ch, out, 8, &r) == 0 && r.bad_header, "8-byte header: bad header");

	/* more data buffers than the scratch array holds: refused, not truncated */
	mkhdr(h, VIRTIO_BLK_T_IN, 0);
	iov[0] = (struct iovec){ h, 16 };
	for (int i = 1; i < 7; i++)
		iov[i] = (struct iovec){ data + 64 * i, 64 };
	iov[7] = (struct iovec){ tail, 1 };
	ch = chain(iov, 1, 7);
	CHECK(uc, virtio_blk_parse(&ch, out, 4, &r) == 0 && r.bad_header, "payload over data_cap: bad request");
}

static u8 run(struct virtio_blk_disk *d, u32 type, u64 sector, struct iovec *data, unsigned int n, u32 *written)
{
	u8 h[16], status = 0xee;
	struct iovec iov[8], out[8];
	struct virtq_chain ch;
	struct virtio_blk_req r;
	bool in = type != VIRTIO_BLK_T_OUT;

	mkhdr(h, type, sector);
	iov[0] = (struct iovec){ h, 16 };
	for (unsigned int i = 0; i < n; i++)
		iov[1 + i] = data[i];
	iov[1 + n] = (struct iovec){ &status, 1 };
	ch = chain(iov, in ? 1 : 1 + n, in ? n + 1 : 1);
	if (virtio_blk_parse(&ch, out, 8, &r))
		return 0xdd;
	*written = virtio_blk_execute(d, &r);
	return status;
}

static void test_execute(struct unit_counts *uc)
{
	char path[64];
	struct virtio_blk_disk d = { .capacity = DISK_SECTORS };
	u8 a[512], b[512], id[VIRTIO_BLK_ID_BYTES];
	struct iovec io[2];
	u32 w = 0;

	d.fd = make_disk(path, "blk");
	virtio_blk_make_id("/images/debian-rootfs-arm64.img", 0, d.id);
	io[0] = (struct iovec){ a, 100 };
	io[1] = (struct iovec){ b, 412 };
	CHECK(uc, run(&d, VIRTIO_BLK_T_IN, 2, io, 2, &w) == VIRTIO_BLK_S_OK && w == 513 && a[0] == 'C' &&
			  a[99] == 'C' && b[411] == 'C',
	      "IN sector 2 into two buffers (used len 513)");
	memset(a, 'z', sizeof(a));
	io[0] = (struct iovec){ a, 512 };
	CHECK(uc, run(&d, VIRTIO_BLK_T_OUT, 5, io, 1, &w) == VIRTIO_BLK_S_OK && w == 1, "OUT sector 5");
	memset(b, 0, sizeof(b));
	CHECK(uc, pread(d.fd, b, 512, 5 * 512) == 512 && b[0] == 'z' && b[511] == 'z', "OUT reached the file");
	io[0] = (struct iovec){ a, 512 };
	CHECK(uc, run(&d, VIRTIO_BLK_T_IN, DISK_SECTORS, io, 1, &w) == VIRTIO_BLK_S_IOERR, "IN past the end: IOERR");
	io[0] = (struct iovec){ a, 512 };
	CHECK(uc, run(&d, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, io, 1, &w) == VIRTIO_BLK_S_OK, "IN of the last sector");
	CHECK(uc, run(&d, VIRTIO_BLK_T_OUT, 0x0080000000000000ULL, io, 1, &w) == VIRTIO_BLK_S_IOERR,
	      "OUT at a sector whose byte offset overflows: IOERR");
	CHECK(uc, run(&d, VIRTIO_BLK_T_IN, ~0ULL, io, 1, &w) == VIRTIO_BLK_S_IOERR, "IN at sector 2^64-1: IOERR");
	CHECK(uc, run(&d, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, &w) == VIRTIO_BLK_S_OK, "FLUSH");
	io[0] = (struct iovec){ id, sizeof(id) };
	CHECK(uc, run(&d, VIRTIO_BLK_T_GET_ID, 0, io, 1, &w) == VIRTIO_BLK_S_OK && w == 21 &&
			  !memcmp(id, "debian-rootfs-arm64.", 20),
	      "GET_ID: 20 bytes of the file name");
	CHECK(uc, run(&d, 11 /* DISCARD, not offered */, 0, NULL, 0, &w) == VIRTIO_BLK_S_UNSUPP, "DISCARD: UNSUPP");

	/* Read-only: writes fail and leave the file alone. */
	d.ro = true;
	memset(a, 'w', sizeof(a));
	io[0] = (struct iovec){ a, 512 };
	CHECK(uc, run(&d, VIRTIO_BLK_T_OUT, 0, io, 1, &w) == VIRTIO_BLK_S_IOERR, "OUT on a read-only disk: IOERR");
	CHECK(uc, pread(d.fd, b, 512, 0) == 512 && b[0] == 'A', "read-only disk untouched");

	virtio_blk_make_id("/dir/", 3, (char *)id);
	CHECK(uc, !strncmp((char *)id, "lkvm-disk3", 20), "GET_ID falls back to the index");
	close(d.fd);
	unlink(path);
}

/* The whole path: guest rings in fake RAM, the transport, the device callback, the file. */
static void test_device(struct unit_counts *uc)
{
	const u64 base = 0x40000000, mmio = 0x0a000000;
	struct guest_ram ram = { .base = base, .size = 0x10000, .host = calloc(1, 0x10000), .fd = -1 };
	struct device_list bus;
	char path[64];
	int fd = make_disk(path, "dev");
	char id[VIRTIO_BLK_ID_BYTES] = "serial";
	struct virtio_blk *b = virtio_blk_create(&ram, fd, DISK_SECTORS * 512 + 100, false, id);
	u8 *m = ram.host;
	u16 *avail = (u16 *)(m + 0x1000);
	u32 *used = (u32 *)(m + 0x2000);
	u8 cfg[8];
	struct {
		u64 off;
		u32 v;
	} init[] = {
		{ VIRTIO_MMIO_STATUS, 3 },	       { VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1 },
		{ VIRTIO_MMIO_DRIVER_FEATURES, 1 },    { VIRTIO_MMIO_STATUS, 0xb },
		{ VIRTIO_MMIO_QUEUE_NUM, 8 },	       { VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)base },
		{ VIRTIO_MMIO_QUEUE_DRIVER_LOW, (u32)base + 0x1000 }, { VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u32)base + 0x2000 },
		{ VIRTIO_MMIO_QUEUE_READY, 1 },	       { VIRTIO_MMIO_STATUS, 0xf },
	};
	struct virtq_desc *dt = (struct virtq_desc *)m;

	memset(&bus, 0, sizeof(bus));
	if (!ram.host || !b || virtio_mmio_init(&b->vdev, mmio, 16) || virtio_mmio_register(&b->vdev, &bus))
		abort();
	mmio_dispatch(&bus, mmio + VIRTIO_MMIO_CONFIG, cfg, 8, false);
	CHECK(uc, le64toh(*(u64 *)cfg) == DISK_SECTORS, "config capacity: whole sectors of the file");
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++) {
		u8 d[4] = { (u8)init[i].v, (u8)(init[i].v >> 8), (u8)(init[i].v >> 16), (u8)(init[i].v >> 24) };
		mmio_dispatch(&bus, mmio + init[i].off, d, 4, true);
	}
	/* request: header at 0x3000, 512 bytes at 0x4000, status at 0x5000 */
	mkhdr(m + 0x3000, VIRTIO_BLK_T_IN, 7);
	dt[0] = (struct virtq_desc){ htole64(base + 0x3000), htole32(16), htole16(VIRTQ_DESC_F_NEXT), htole16(1) };
	dt[1] = (struct virtq_desc){ htole64(base + 0x4000), htole32(512),
				     htole16(VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE), htole16(2) };
	dt[2] = (struct virtq_desc){ htole64(base + 0x5000), htole32(1), htole16(VIRTQ_DESC_F_WRITE), 0 };
	m[0x5000] = 0xff;
	avail[2] = 0;
	__atomic_store_n(&avail[1], htole16(1), __ATOMIC_RELEASE);
	{
		u8 d[4] = { 0 };
		mmio_dispatch(&bus, mmio + VIRTIO_MMIO_QUEUE_NOTIFY, d, 4, true);
	}
	while (virtio_dev_poll(&b->vdev, 0) > 0)
		;
	CHECK(uc, le16toh(((u16 *)used)[1]) == 1 && le32toh(used[1]) == 0 && le32toh(used[2]) == 513 &&
			  m[0x5000] == VIRTIO_BLK_S_OK && m[0x4000] == 'H' && m[0x41ff] == 'H',
	      "end to end: sector 7 read into guest memory, status OK, used len 513");

	/* a request without a status byte: needs reset */
	dt[0].flags = 0;
	avail[3] = 0;
	__atomic_store_n(&avail[1], htole16(2), __ATOMIC_RELEASE);
	{
		u8 d[4] = { 0 };
		mmio_dispatch(&bus, mmio + VIRTIO_MMIO_QUEUE_NOTIFY, d, 4, true);
	}
	while (virtio_dev_poll(&b->vdev, 0) > 0)
		;
	CHECK(uc, (b->vdev.status & VIRTIO_STATUS_NEEDS_RESET) && le16toh(((u16 *)used)[1]) == 1,
	      "request without a status byte: needs reset");

	virtio_dev_destroy(&b->vdev);
	free(b->data);
	free(b);
	free(ram.host);
	close(fd);
	unlink(path);
}

static void test_spec(struct unit_counts *uc)
{
	char err[256];
	size_t len;
	bool ro;

	CHECK(uc, virtio_blk_parse_spec("disk.img", &len, &ro, NULL, err, sizeof(err)) == 0 && len == 8 && !ro, "FILE");
	CHECK(uc, virtio_blk_parse_spec("/a/disk.img,ro", &len, &ro, NULL, err, sizeof(err)) == 0 && len == 11 && ro,
	      "FILE,ro");
	CHECK(uc, virtio_blk_parse_spec("d.img,rw", &len, &ro, NULL, err, sizeof(err)) == -1 && strstr(err, "'rw'"),
	      "unknown option refused: %s", err);
	{
		bool direct;
		CHECK(uc, virtio_blk_parse_spec("d.img,direct,ro", &len, &ro, &direct, err, sizeof(err)) == 0 && len == 5 &&
				  ro && direct,
		      "FILE,direct,ro");
		CHECK(uc, virtio_blk_parse_spec("d.img", &len, &ro, &direct, err, sizeof(err)) == 0 && !direct, "no ,direct");
	}
	CHECK(uc, virtio_blk_parse_spec(",ro", &len, &ro, NULL, err, sizeof(err)) == -1, "no file name refused: %s", err);
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };

	log_set_level(LOG_ERROR);
	test_parse(&uc);
	test_execute(&uc);
	test_device(&uc);
	test_spec(&uc);
	UNIT_DONE(&uc);
}

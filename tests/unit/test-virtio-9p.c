/* Unit tests: the virtio-9p device end to end: mount tag in config space, requests and replies split across chains. */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "kvm/virtio-9p.h"
#include "kvm/virtio-mmio.h"

#define RAM_BASE 0x40000000ULL
#define RAM_SIZE 0x100000ULL
#define MMIO 0x0a000000ULL
#define QN 16
#define BUFS 0x10000ULL

static struct unit_counts uc;
static struct guest_ram ram;
static struct device_list bus;
static u16 avail_idx, used_seen;
static u64 next_buf = RAM_BASE + BUFS;

static u8 *hp(u64 gpa)
{
	return ram.host + (gpa - RAM_BASE);
}

static void mw(u64 off, u32 v)
{
	u8 b[4] = { (u8)v, (u8)(v >> 8), (u8)(v >> 16), (u8)(v >> 24) };
	mmio_dispatch(&bus, MMIO + off, b, 4, true);
}

static u32 mr(u64 off)
{
	u8 b[4] = { 0 };
	mmio_dispatch(&bus, MMIO + off, b, 4, false);
	return (u32)b[0] | (u32)b[1] << 8 | (u32)b[2] << 16 | (u32)b[3] << 24;
}

/* One chain: out pieces (copied from req, split at the given sizes), then writable pieces of the given sizes. */
struct piece {
	u32 len;
	u64 gpa;
};

static u32 transact(struct virtio_dev *vd, const u8 *req, struct piece *out, unsigned int nout, struct piece *in,
		    unsigned int nin)
{
	u64 desc = RAM_BASE, avail = RAM_BASE + 0x1000, used = RAM_BASE + 0x2000;
	unsigned int n = nout + nin, off = 0;
	u16 *av = (u16 *)hp(avail);
	u8 *u = hp(used);
	u32 e[2];

	for (unsigned int i = 0; i < n; i++) {
		struct piece *p = i < nout ? &out[i] : &in[i - nout];
		struct virtq_desc d;
		p->gpa = next_buf;
		next_buf += (p->len + 15) & ~15u;
		if (i < nout) {
			memcpy(hp(p->gpa), req + off, p->len);
			off += p->len;
		}
		d = (struct virtq_desc){ htole64(p->gpa), htole32(p->len),
					 htole16((i + 1 < n ? VIRTQ_DESC_F_NEXT : 0) | (i >= nout ? VIRTQ_DESC_F_WRITE : 0)),
					 htole16((u16)(i + 1)) };
		memcpy(hp(desc + 16ULL * i), &d, sizeof(d));
	}
	av[2 + avail_idx % QN] = 0;
	avail_idx++;
	__atomic_store_n(&av[1], htole16(avail_idx), __ATOMIC_RELEASE);
	mw(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	while (virtio_dev_poll(vd, 0) > 0)
		;
	if (le16toh(*(u16 *)(u + 2)) == used_seen)
		return 0xffffffff;
	memcpy(e, u + 4 + 8 * (used_seen % QN), 8);
	used_seen++;
	return le32toh(e[1]);
}

static u32 le32at(const u8 *b)
{
	return (u32)b[0] | (u32)b[1] << 8 | (u32)b[2] << 16 | (u32)b[3] << 24;
}

/* Build a message: fmt letters d (u32), q (u64), w (u16), s (string). */
static size_t msg(u8 *b, u8 type, const char *fmt, ...)
{
	va_list ap;
	size_t n = 7;
	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++) {
		u64 v = 0;
		unsigned int bytes = *f == 'd' ? 4 : *f == 'q' ? 8 : 2;
		if (*f == 's') {
			const char *s = va_arg(ap, const char *);
			size_t l = strlen(s);
			b[n++] = (u8)l;
			b[n++] = (u8)(l >> 8);
			memcpy(b + n, s, l);
			n += l;
			continue;
		}
		v = *f == 'q' ? va_arg(ap, u64) : va_arg(ap, u32);
		for (unsigned int i = 0; i < bytes; i++)
			b[n++] = (u8)(v >> (8 * i));
	}
	va_end(ap);
	b[0] = (u8)n;
	b[1] = (u8)(n >> 8);
	b[2] = (u8)(n >> 16);
	b[3] = (u8)(n >> 24);
	b[4] = type;
	b[5] = 1;
	b[6] = 0;
	return n;
}

int main(void)
{
	char dir[] = "/tmp/lkvm-v9p-XXXXXX", p[300], err[256];
	static u8 req[70000], data[40000];
	struct virtio_9p *v;
	struct piece out[4], in[6];
	size_t n;
	u32 len;
	int fd;

	if (!mkdtemp(dir))
		abort();
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (u8)(i * 13 + 7);
	snprintf(p, sizeof(p), "%s/file", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	if (fd < 0 || write(fd, data, sizeof(data)) != (ssize_t)sizeof(data))
		abort();
	close(fd);

	ram = (struct guest_ram){ .base = RAM_BASE, .size = RAM_SIZE, .host = calloc(1, RAM_SIZE), .fd = -1 };
	v = virtio_9p_create(&ram, dir, "hostshare", false, err, sizeof(err));
	CHECK(&uc, v != NULL, "device created");
	CHECK(&uc, virtio_9p_create(&ram, "/nonexistent-v9p", "t", false, err, sizeof(err)) == NULL &&
	      strstr(err, "nonexistent"), "missing directory: %s", err);
	if (virtio_mmio_init(&v->vdev, MMIO, 17) || virtio_mmio_register(&v->vdev, &bus))
		abort();
	CHECK(&uc, mr(VIRTIO_MMIO_DEVICE_ID) == 9, "device ID 9");
	mw(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	CHECK(&uc, mr(VIRTIO_MMIO_DEVICE_FEATURES) & 1, "VIRTIO_9P_MOUNT_TAG offered");
	CHECK(&uc, (mr(VIRTIO_MMIO_CONFIG) & 0xffff) == 9 && (mr(VIRTIO_MMIO_CONFIG) >> 16) == ('h' | 'o' << 8),
	      "config space: tag length 9, 'ho...'");
	mw(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mw(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mw(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	mw(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mw(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	mw(VIRTIO_MMIO_STATUS, 0xb);
	mw(VIRTIO_MMIO_QUEUE_SEL, 0);
	mw(VIRTIO_MMIO_QUEUE_NUM, QN);
	mw(VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)RAM_BASE);
	mw(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (u32)(RAM_BASE + 0x1000));
	mw(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u32)(RAM_BASE + 0x2000));
	mw(VIRTIO_MMIO_QUEUE_READY, 1);
	mw(VIRTIO_MMIO_STATUS, 0xf);
	while (virtio_dev_poll(&v->vdev, 0) > 0)
		;

	/* Tversion split after 3 bytes; reply into a buffer just big enough (Linux sizes Rversion buffers tightly) */
	n = msg(req, P9_TVERSION, "ds", 1u << 19, "9P2000.L");
	out[0].len = 3;
	out[1].len = (u32)n - 3;
	in[0].len = 21;
	len = transact(&v->vdev, req, out, 2, in, 1);
	CHECK(&uc, len == 21 && hp(in[0].gpa)[4] == P9_RVERSION && le32at(hp(in[0].gpa) + 7) == 1u << 19,
	      "Tversion in two pieces: Rversion, msize 512 KiB (used length %u)", len);
	n = msg(req, P9_TATTACH, "ddssd", 1u, P9_NOFID, "u", "", 0u);
	out[0].len = (u32)n;
	in[0].len = 64;
	CHECK(&uc, transact(&v->vdev, req, out, 1, in, 1) == 20 && hp(in[0].gpa)[4] == P9_RATTACH, "Tattach");
	n = msg(req, P9_TWALK, "ddws", 1u, 2u, 1u, "file");
	out[0].len = (u32)n;
	transact(&v->vdev, req, out, 1, in, 1);
	n = msg(req, P9_TLOPEN, "dd", 2u, 2u);
	out[0].len = (u32)n;
	CHECK(&uc, transact(&v->vdev, req, out, 1, in, 1) == 24 && hp(in[0].gpa)[4] == P9_RLOPEN, "walk + lopen O_RDWR");

	/* a large read, the reply scattered as Linux's zero-copy path expects: 11-byte header, then data pages */
	n = msg(req, P9_TREAD, "dqd", 2u, 0ULL, (u32)sizeof(data));
	out[0].len = (u32)n;
	in[0].len = 11;
	for (int i = 1; i < 6; i++)
		in[i].len = 8192;
	len = transact(&v->vdev, req, out, 1, in, 6);
	{
		bool same = len == 11 + sizeof(data);
		size_t got = 0;
		for (int i = 1; i < 6 && same; i++) {
			size_t k = sizeof(data) - got < in[i].len ? sizeof(data) - got : in[i].len;
			same = !memcmp(hp(in[i].gpa), data + got, k);
			got += k;
		}
		CHECK(&uc, same && le32at(hp(in[0].gpa) + 7) == sizeof(data),
		      "40000-byte read scattered over 6 descriptors, bytes intact (used %u)", len);
	}
	/* the Rread header itself split across descriptors, data starting mid-descriptor; tag echoed */
	n = msg(req, P9_TREAD, "dqd", 2u, 100ULL, 50u);
	req[5] = 0x34;
	req[6] = 0x12;
	out[0].len = (u32)n;
	in[0].len = 4;
	in[1].len = 20;
	in[2].len = 100;
	len = transact(&v->vdev, req, out, 1, in, 3);
	{
		u8 flat[124];
		memcpy(flat, hp(in[0].gpa), 4);
		memcpy(flat + 4, hp(in[1].gpa), 20);
		memcpy(flat + 24, hp(in[2].gpa), 100);
		CHECK(&uc, len == 61 && le32at(flat) == 61 && flat[4] == P9_RREAD && flat[5] == 0x34 && flat[6] == 0x12 &&
		      le32at(flat + 7) == 50 && !memcmp(flat + 11, data + 100, 50),
		      "a read whose header spans two descriptors: size, tag and the 50 bytes at offset 100 (used %u)", len);
	}
	n = msg(req, P9_TREAD, "dqd", 2u, (u64)sizeof(data) + 10, 4096u);
	out[0].len = (u32)n;
	in[0].len = 11;
	in[1].len = 4096;
	CHECK(&uc, transact(&v->vdev, req, out, 1, in, 2) == 11 && le32at(hp(in[0].gpa) + 7) == 0,
	      "a read past the end: an Rread of 0 bytes");
	n = msg(req, P9_TREAD, "dqd", 1u, 0ULL, 4096u);
	out[0].len = (u32)n;
	CHECK(&uc, transact(&v->vdev, req, out, 1, in, 2) == 11 && hp(in[0].gpa)[4] == P9_RLERROR &&
	      le32at(hp(in[0].gpa) + 7) == EBADF, "a read of a fid that was never opened: Rlerror EBADF");
	n = msg(req, P9_TREAD, "dqd", 2u, 1ULL << 63, 4096u);
	out[0].len = (u32)n;
	CHECK(&uc, transact(&v->vdev, req, out, 1, in, 2) == 11 && hp(in[0].gpa)[4] == P9_RLERROR &&
	      le32at(hp(in[0].gpa) + 7) == EINVAL, "a read at offset 2^63: Rlerror EINVAL");
	/* a large write gathered from 4 pieces */
	{
		static u8 w[40000];
		for (size_t i = 0; i < sizeof(w); i++)
			w[i] = (u8)(i ^ 0x5a);
		n = msg(req, P9_TWRITE, "dqd", 2u, 0ULL, (u32)sizeof(w));
		memcpy(req + n, w, sizeof(w));
		n += sizeof(w);
		req[0] = (u8)n;
		req[1] = (u8)(n >> 8);
		req[2] = (u8)(n >> 16);
		out[0].len = 23;
		out[1].len = 4096;
		out[2].len = 30000;
		out[3].len = (u32)n - 23 - 4096 - 30000;
		in[0].len = 4096;
		len = transact(&v->vdev, req, out, 4, in, 1);
		u8 back[40000];
		fd = open(p, O_RDONLY);
		CHECK(&uc, len == 11 && le32at(hp(in[0].gpa) + 7) == sizeof(w) && fd >= 0 &&
		      read(fd, back, sizeof(back)) == sizeof(back) && !memcmp(back, w, sizeof(w)),
		      "40000-byte write gathered from 4 descriptors reaches the file");
		close(fd);
	}
	/* garbage: a chain with no writable part gets nothing; the device keeps working */
	memset(req, 0xff, 64);
	out[0].len = 64;
	CHECK(&uc, transact(&v->vdev, req, out, 1, in, 0) == 0, "a chain without a reply buffer: used length 0");
	n = msg(req, P9_TCLUNK, "d", 2u);
	out[0].len = (u32)n;
	in[0].len = 64;
	CHECK(&uc, transact(&v->vdev, req, out, 1, in, 1) == 7 && hp(in[0].gpa)[4] == P9_RCLUNK,
	      "and the next request is answered");
	virtio_9p_destroy(v);
	free(ram.host);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	if (system(p))
		abort();
	UNIT_DONE(&uc);
}

/* virtio-blk device: request parsing, raw-image I/O with preadv/pwritev into guest memory, the device callbacks. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm/virtio-blk.h"

int virtio_blk_parse(const struct virtq_chain *ch, struct iovec *data, unsigned int data_cap,
		     struct virtio_blk_req *req)
{
	const struct iovec *rd = ch->iov, *wr = ch->iov + ch->n_out;
	const struct iovec *last;
	u8 hdr[VIRTIO_BLK_HDR_BYTES];
	u32 type;
	u64 sector;
	int n = 0;

	*req = (struct virtio_blk_req){ .data = data };
	if (!ch->n_in || !ch->in_len)
		return -1;
	last = &wr[ch->n_in - 1]; /* the engine skips empty buffers, so this one has at least a byte */
	req->status = (u8 *)last->iov_base + last->iov_len - 1;
	if (ch->out_len < VIRTIO_BLK_HDR_BYTES) {
		req->bad_header = true;
		return 0;
	}
	iov_copy_from(rd, ch->n_out, 0, hdr, sizeof(hdr)); /* one copy: the guest may rewrite its header */
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	req->type = le32toh(type);
	req->sector = le64toh(sector);
	switch (req->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_GET_ID:
		n = iov_slice(wr, ch->n_in, 0, ch->in_len - 1, data, data_cap);
		break;
	case VIRTIO_BLK_T_OUT:
		n = iov_slice(rd, ch->n_out, VIRTIO_BLK_HDR_BYTES, ch->out_len - VIRTIO_BLK_HDR_BYTES, data, data_cap);
		break;
	default:
		break;
	}
	if (n < 0) {
		req->bad_header = true; /* cannot happen with data_cap >= the queue size; refuse rather than truncate */
		return 0;
	}
	req->n_data = (unsigned int)n;
	for (unsigned int i = 0; i < req->n_data; i++)
		req->data_len += data[i].iov_len;
	return 0;
}

/* preadv/pwritev the whole payload at byte offset off, resuming after short transfers; 0 or -errno. */
static int do_io(int fd, struct iovec *iov, unsigned int n, u64 off, u64 len, bool write)
{
	while (len) {
		unsigned int cnt = n > IOV_MAX ? IOV_MAX : n;
		ssize_t r = write ? pwritev(fd, iov, (int)cnt, (off_t)off) : preadv(fd, iov, (int)cnt, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO; /* the file shrank under us */
		off += (u64)r;
		len -= (u64)r;
		while (r > 0 && n) { /* advance past what was transferred */
			if ((size_t)r >= iov->iov_len) {
				r -= (ssize_t)iov->iov_len;
				iov++;
				n--;
			} else {
				iov->iov_base = (u8 *)iov->iov_base + r;
				iov->iov_len -= (size_t)r;
				r = 0;
			}
		}
	}
	return 0;
}

/* pread/pwrite all of buf at off, resuming after short transfers; 0 or -errno. */
static int flat_io(int fd, u8 *buf, u64 len, u64 off, bool write)
{
	while (len) {
		ssize_t r = write ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		buf += r;
		off += (u64)r;
		len -= (u64)r;
	}
	return 0;
}

static bool dio_aligned(const struct virtio_blk_disk *d, const struct iovec *iov, unsigned int n, u64 off, u64 len)
{
	u64 a = d->dio_align;

	if (off % a || len % a)
		return false;
	for (unsigned int i = 0; i < n; i++)
		if ((uintptr_t)iov[i].iov_base % a || iov[i].iov_len % a)
			return false;
	return true;
}

/*
 * O_DIRECT for a request whose guest buffers, offset or length are not aligned: through the aligned bounce buffer,
 * VIRTIO_BLK_BOUNCE bytes at a time; a write that covers only part of an aligned block reads it first.
 */
static int dio_bounce(struct virtio_blk_disk *d, const struct iovec *iov, unsigned int n, u64 off, u64 len, bool write)
{
	u64 a = d->dio_align, done = 0;

	while (done < len) {
		u64 pos = off + done, w0 = pos / a * a, skip = pos - w0;
		u64 take = len - done, wlen;
		int r;

		if (take > VIRTIO_BLK_BOUNCE - skip)
			take = VIRTIO_BLK_BOUNCE - skip;
		wlen = (skip + take + a - 1) / a * a;
		if (!write || skip || wlen != skip + take) {
			r = flat_io(d->fd, d->bounce, wlen, w0, false);
			if (r)
				return r;
		}
		if (write) {
			iov_copy_from(iov, n, done, d->bounce + skip, take);
			r = flat_io(d->fd, d->bounce, wlen, w0, true);
			if (r)
				return r;
		} else {
			iov_copy_to(iov, n, done, d->bounce + skip, take);
		}
		done += take;
	}
	return 0;
}

static int disk_io(struct virtio_blk_disk *d, struct iovec *iov, unsigned int n, u64 off, u64 len, bool write)
{
	if (d->dio_align && !dio_aligned(d, iov, n, off, len))
		return dio_bounce(d, iov, n, off, len, write);
	return do_io(d->fd, iov, n, off, len, write);
}

int virtio_blk_set_direct(struct virtio_blk_disk *disk, char *err, size_t errlen)
{
	u32 a = 0;
	struct stat st;

#ifdef STATX_DIOALIGN
	struct statx sx;
	if (!statx(disk->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) && (sx.stx_mask & STATX_DIOALIGN) &&
	    sx.stx_dio_offset_align) {
		a = sx.stx_dio_offset_align > sx.stx_dio_mem_align ? sx.stx_dio_offset_align : sx.stx_dio_mem_align;
	}
#endif
	if (!a && !fstat(disk->fd, &st) && S_ISBLK(st.st_mode)) {
		int ss = 0;
		if (!ioctl(disk->fd, BLKSSZGET, &ss) && ss > 0)
			a = (u32)ss;
	}
	if (!a)
		a = 4096;
	if (a < VIRTIO_BLK_SECTOR_SIZE)
		a = VIRTIO_BLK_SECTOR_SIZE;
	if (a > 65536 || (a & (a - 1))) {
		snprintf(err, errlen, "unusual direct I/O alignment %u", a);
		return -1;
	}
	if ((disk->capacity * VIRTIO_BLK_SECTOR_SIZE) % a) {
		snprintf(err, errlen, "its size is not a multiple of %u bytes, which direct I/O on it needs", a);
		return -1;
	}
	disk->bounce = aligned_alloc(a < 4096 ? 4096 : a, VIRTIO_BLK_BOUNCE);
	if (!disk->bounce) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	disk->dio_align = a;
	return 0;
}

/* Is [sector * 512, + len) inside the disk? Overflow-safe. */
static bool in_range(const struct virtio_blk_disk *disk, u64 sector, u64 len)
{
	u64 off, end;

	if (sector > disk->capacity)
		return false;
	off = sector * VIRTIO_BLK_SECTOR_SIZE;
	return add_ok(off, len, &end) && end <= disk->capacity * VIRTIO_BLK_SECTOR_SIZE;
}

u32 virtio_blk_execute(struct virtio_blk_disk *disk, struct virtio_blk_req *req)
{
	u8 status = VIRTIO_BLK_S_OK;
	u32 written = 1; /* the status byte */
	size_t n;

	if (req->bad_header) {
		status = VIRTIO_BLK_S_IOERR;
		goto out;
	}
	switch (req->type) {
	case VIRTIO_BLK_T_IN:
		if (!in_range(disk, req->sector, req->data_len) ||
		    disk_io(disk, req->data, req->n_data, req->sector * VIRTIO_BLK_SECTOR_SIZE, req->data_len, false))
			status = VIRTIO_BLK_S_IOERR;
		else
			written += (u32)(req->data_len > UINT32_MAX - 1 ? UINT32_MAX - 1 : req->data_len);
		break;
	case VIRTIO_BLK_T_OUT:
		if (disk->ro || !in_range(disk, req->sector, req->data_len) ||
		    disk_io(disk, req->data, req->n_data, req->sector * VIRTIO_BLK_SECTOR_SIZE, req->data_len, true))
			status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (fdatasync(disk->fd) < 0)
			status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID:
		n = iov_copy_to(req->data, req->n_data, 0, disk->id,
				req->data_len < VIRTIO_BLK_ID_BYTES ? req->data_len : VIRTIO_BLK_ID_BYTES);
		written += (u32)n;
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
out:
	req->result = status;
	__atomic_store_n(req->status, status, __ATOMIC_RELAXED);
	return written;
}

void virtio_blk_make_id(const char *path, unsigned int index, char id[VIRTIO_BLK_ID_BYTES])
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	memset(id, 0, VIRTIO_BLK_ID_BYTES);
	len = strlen(base);
	if (!len) {
		char tmp[VIRTIO_BLK_ID_BYTES + 16];
		snprintf(tmp, sizeof(tmp), "lkvm-disk%u", index);
		memcpy(id, tmp, strlen(tmp) < VIRTIO_BLK_ID_BYTES ? strlen(tmp) : VIRTIO_BLK_ID_BYTES);
		return;
	}
	memcpy(id, base, len < VIRTIO_BLK_ID_BYTES ? len : VIRTIO_BLK_ID_BYTES);
}

int virtio_blk_parse_spec(const char *spec, size_t *path_len, bool *ro, bool *direct, char *err, size_t errlen)
{
	const char *comma = strchr(spec, ',');
	const char *opt;
	bool dummy;

	if (!direct)
		direct = &dummy;
	*ro = *direct = false;
	*path_len = comma ? (size_t)(comma - spec) : strlen(spec);
	if (*path_len == 0) {
		snprintf(err, errlen, "-d/--disk '%s': no file name; expected FILE[,ro][,direct]", spec);
		return -1;
	}
	for (opt = comma; opt; opt = strchr(opt + 1, ',')) {
		const char *end = strchr(opt + 1, ',');
		size_t len = end ? (size_t)(end - opt - 1) : strlen(opt + 1);
		if (len == 2 && !strncmp(opt + 1, "ro", 2)) {
			*ro = true;
		} else if (len == 6 && !strncmp(opt + 1, "direct", 6)) {
			*direct = true;
		} else {
			snprintf(err, errlen, "-d/--disk %s: unknown disk option '%.*s' (',ro' and ',direct' are supported)", spec,
				 (int)len, opt + 1);
			return -1;
		}
	}
	return 0;
}

static void blk_account(struct virtio_blk_stats *st, const struct virtio_blk_req *req)
{
	enum virtio_blk_op op = req->bad_header ? VIRTIO_BLK_OP_OTHER
				: req->type == VIRTIO_BLK_T_IN	  ? VIRTIO_BLK_OP_READ
				: req->type == VIRTIO_BLK_T_OUT	  ? VIRTIO_BLK_OP_WRITE
				: req->type == VIRTIO_BLK_T_FLUSH ? VIRTIO_BLK_OP_FLUSH
								  : VIRTIO_BLK_OP_OTHER;

	virtio_stat_add(&st->ops[op], 1);
	if (req->result != VIRTIO_BLK_S_OK)
		virtio_stat_add(&st->errors[op], 1);
	else if (op == VIRTIO_BLK_OP_READ || op == VIRTIO_BLK_OP_WRITE)
		virtio_stat_add(&st->bytes[op], req->data_len);
}

static void blk_queue_notify(struct virtio_dev *vd, unsigned int q)
{
	struct virtio_blk *b = vd->priv;
	struct virtq_chain ch;
	struct virtio_blk_req req;

	do {
		while (virtio_dev_pop(vd, q, &ch)) {
			if (virtio_blk_parse(&ch, b->data, VIRTIO_BLK_QUEUE_SIZE, &req)) {
				virtio_dev_fail(vd, "request at head %u has no device-writable status byte", ch.head);
				return;
			}
			virtq_push(&vd->vq[q], ch.head, virtio_blk_execute(&b->disk, &req));
			blk_account(&b->stats, &req);
		}
	} while (virtio_dev_done(vd, q));
}

/* Before a snapshot: every completed write is on stable storage, so the image matches the saved guest. */
static void blk_quiesce(struct virtio_dev *vd)
{
	struct virtio_blk *b = vd->priv;

	if (!b->disk.ro && fdatasync(b->disk.fd) < 0)
		pr_warn("%s: fdatasync before the snapshot failed: %s", vd->label, strerror(errno));
}

struct virtio_blk *virtio_blk_create(const struct guest_ram *ram, int fd,
				     u64 size_bytes, bool ro, const char id[VIRTIO_BLK_ID_BYTES])
{
	struct virtio_blk *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->data = calloc(VIRTIO_BLK_QUEUE_SIZE, sizeof(*b->data));
	if (!b->data) {
		free(b);
		return NULL;
	}
	b->disk.fd = fd;
	b->disk.ro = ro;
	b->disk.capacity = size_bytes / VIRTIO_BLK_SECTOR_SIZE;
	memcpy(b->disk.id, id, VIRTIO_BLK_ID_BYTES);
	b->ops = (struct virtio_dev_ops){
		.name = "blk",
		.device_id = VIRTIO_ID_BLOCK,
		.pci_class = 0x018000,
		.features = VIRTIO_FEATURE(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_FEATURE(VIRTIO_BLK_F_BLK_SIZE) |
			    VIRTIO_FEATURE(VIRTIO_BLK_F_FLUSH) | (ro ? VIRTIO_FEATURE(VIRTIO_BLK_F_RO) : 0),
		.nr_queues = 1,
		.queue_max = VIRTIO_BLK_QUEUE_SIZE,
		.queue_notify = blk_queue_notify,
		.quiesce = blk_quiesce,
	};
	if (virtio_dev_init(&b->vdev, &b->ops, b, ram, VIRTIO_BLK_CONFIG_SIZE)) {
		virtio_dev_destroy(&b->vdev);
		free(b->data);
		free(b);
		return NULL;
	}
	virtio_config_put(&b->vdev, 0, b->disk.capacity, 8);                /* capacity */
	virtio_config_put(&b->vdev, 12, VIRTIO_BLK_QUEUE_SIZE - 2, 4);      /* seg_max: header and status aside */
	virtio_config_put(&b->vdev, 20, VIRTIO_BLK_SECTOR_SIZE, 4);         /* blk_size */
	virtio_config_put(&b->vdev, 34, 1, 2);                              /* num_queues */
	return b;
}

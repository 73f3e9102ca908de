/* virtio-blk: a raw disk image as a virtio block device; request parsing is separate from the I/O. */
#ifndef KVM_VIRTIO_BLK_H
#define KVM_VIRTIO_BLK_H

#include <sys/uio.h>

#include "kvm/virtio-dev.h"

#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_SECTOR_SIZE 512
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_HDR_BYTES 16 /* le32 type, le32 reserved, le64 sector */
#define VIRTIO_BLK_QUEUE_SIZE 256
#define VIRTIO_BLK_CONFIG_SIZE 36 /* capacity .. num_queues */
#define VIRTIO_BLK_BOUNCE (1u << 20) /* ,direct: unaligned requests go through this much aligned memory at a time */

/* A request as parsed from a chain, before any I/O. */
struct virtio_blk_req {
	u32 type;
	u64 sector;
	bool bad_header;   /* fewer than 16 device-readable bytes: answered with IOERR */
	struct iovec *data; /* the payload: the data buffers without the header and the status byte */
	unsigned int n_data;
	u64 data_len;
	u8 *status; /* the last device-writable byte */
	u8 result;  /* what virtio_blk_execute() stored there (VIRTIO_BLK_S_*) */
};

/* The backing file. */
struct virtio_blk_disk {
	int fd;
	bool ro;
	bool locked;        /* holds its OFD lock (disk-lock.h) */
	u32 dio_align;      /* opened O_DIRECT (,direct): offsets, lengths and buffers must be multiples of this */
	u8 *bounce;         /* VIRTIO_BLK_BOUNCE bytes, dio_align-aligned: for requests that are not */
	u64 capacity; /* in 512-byte sectors */
	char id[VIRTIO_BLK_ID_BYTES]; /* GET_ID answer, NUL-padded */
};

/* Per-disk counters for the metrics endpoint (relaxed atomics; the worker writes, the metrics thread reads). */
enum virtio_blk_op { VIRTIO_BLK_OP_READ, VIRTIO_BLK_OP_WRITE, VIRTIO_BLK_OP_FLUSH, VIRTIO_BLK_OP_OTHER, VIRTIO_BLK_OP_NR };
struct virtio_blk_stats {
	u64 ops[VIRTIO_BLK_OP_NR];    /* requests completed, by kind (GET_ID and unknown types are "other") */
	u64 bytes[VIRTIO_BLK_OP_NR];  /* payload bytes of the successful reads and writes */
	u64 errors[VIRTIO_BLK_OP_NR]; /* requests answered IOERR or UNSUPP */
};

struct virtio_blk {
	struct virtio_dev vdev;
	struct virtio_blk_stats stats;
	struct virtio_dev_ops ops; /* per device: the features depend on ,ro */
	struct virtio_blk_disk disk;
	struct iovec *data; /* VIRTIO_BLK_QUEUE_SIZE entries of scratch for virtio_blk_req.data */
};

/*
 * Split a chain into header, payload and status. data (data_cap entries) receives the payload slices. Returns 0, or
 * -1 if the chain has no device-writable byte for the status (nothing can be reported: a driver error).
 */
int virtio_blk_parse(const struct virtq_chain *ch, struct iovec *data, unsigned int data_cap,
		     struct virtio_blk_req *req);
/* Carry out a parsed request on the disk; writes *req->status. Returns the bytes written into the chain. */
u32 virtio_blk_execute(struct virtio_blk_disk *disk, struct virtio_blk_req *req);

/* The serial number GET_ID returns: the file's base name (at most 20 bytes), or "lkvm-disk<index>". */
void virtio_blk_make_id(const char *path, unsigned int index, char id[VIRTIO_BLK_ID_BYTES]);

/*
 * Parse a -d/--disk spec "FILE[,ro][,direct]": the path is spec[0 .. *path_len); direct may be NULL. Returns 0,
 * or -1 with a one-line reason.
 */
int virtio_blk_parse_spec(const char *spec, size_t *path_len, bool *ro, bool *direct, char *err, size_t errlen);

/*
 * For an O_DIRECT disk: the alignment direct I/O on fd needs (statx's DIO alignment, the block device's logical
 * block size, else 4096), and a bounce buffer. 0, or -1 with a reason.
 */
int virtio_blk_set_direct(struct virtio_blk_disk *disk, char *err, size_t errlen);

/* A virtio-blk device on an open file of size_bytes (not yet registered or started); NULL on allocation failure. */
struct virtio_blk *virtio_blk_create(const struct guest_ram *ram, int fd,
				     u64 size_bytes, bool ro, const char id[VIRTIO_BLK_ID_BYTES]);

#endif

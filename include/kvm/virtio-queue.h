/* The split virtqueue engine: validates a guest's rings and walks its descriptor chains as hostile input. */
#ifndef KVM_VIRTIO_QUEUE_H
#define KVM_VIRTIO_QUEUE_H

#include <sys/uio.h>

#include "kvm/guest-mem.h"
#include "kvm/util.h"

/* Ring layout (VIRTIO 1.2, 2.7), all little-endian in guest memory. */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

#define VIRTQ_DESC_SIZE 16
#define VIRTQ_DESC_ALIGN 16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN 4
/* Sizes include the trailing used_event / avail_event fields, which drivers always allocate. */
#define VIRTQ_AVAIL_BYTES(n) (6ULL + 2ULL * (n))
#define VIRTQ_USED_BYTES(n) (6ULL + 8ULL * (n))

#define VIRTQ_MAX_SIZE 32768 /* the largest queue size the split ring format allows */

struct virtq_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

struct virtq_avail {
	u16 flags;
	u16 idx;
	u16 ring[]; /* [size], then u16 used_event */
};

struct virtq_used_elem {
	u32 id;
	u32 len;
};

struct virtq_used {
	u16 flags;
	u16 idx;
	struct virtq_used_elem ring[]; /* [size], then u16 avail_event */
};

/* One queue's state. Everything here is plain data (save/restore can list it); pointers are derived from it. */
struct virtq {
	const struct guest_ram *ram;
	/* Set by virtq_enable() from the transport's registers, validated. */
	u16 size;
	bool ready;
	bool indirect;  /* VIRTIO_F_RING_INDIRECT_DESC negotiated */
	bool event_idx; /* VIRTIO_F_RING_EVENT_IDX negotiated */
	u64 desc_gpa, avail_gpa, used_gpa;
	/* Device-side indices. */
	u16 last_avail;     /* next avail ring slot to consume */
	u16 used_idx;       /* our copy of used->idx */
	u16 signalled_used; /* used_idx when we last decided about an interrupt */
	/* Set when the guest broke a rule: the queue refuses all further work until reset. */
	bool broken;
	char why[128];
	/* Host views of the rings, checked through gpa_to_host() when the queue was enabled. */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
};

/*
 * A descriptor chain as host buffers: iov[0 .. n_out) are device-readable, iov[n_out .. n_out + n_in) are
 * device-writable. Zero-length descriptors are skipped. out_len/in_len are the byte totals.
 */
struct virtq_chain {
	u16 head;
	unsigned int n_out, n_in;
	u64 out_len, in_len;
	struct iovec *iov;
	unsigned int iov_cap; /* must be at least the queue size */
};

/*
 * Validate and enable a queue: size a power of two no larger than max_size (itself at most VIRTQ_MAX_SIZE), rings
 * aligned and wholly inside guest RAM. Returns 0, or -1 with vq->why set (the queue stays disabled).
 */
int virtq_enable(struct virtq *vq, const struct guest_ram *ram, unsigned int size, unsigned int max_size,
		 u64 desc_gpa, u64 avail_gpa, u64 used_gpa, bool indirect, bool event_idx);
/* Back to the reset state (disabled, indices zero, not broken). */
void virtq_reset(struct virtq *vq);

/*
 * Take the next available chain. Returns 1 with *ch filled, 0 if the ring is empty (or the queue is disabled), -1 if
 * the guest broke a rule (vq->broken and vq->why set; every later call returns -1 until virtq_reset()).
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *ch);
/* Return a chain to the guest with `written` bytes stored in its writable part; publishes used->idx (release). */
void virtq_push(struct virtq *vq, u16 head, u32 written);
/*
 * Return n chains at once (heads[i] with lens[i] bytes written): the driver sees all of them or none, as a merged
 * receive buffer needs (its first buffer says how many follow). used->idx is published once, after the elements.
 */
void virtq_push_batch(struct virtq *vq, const u16 *heads, const u32 *lens, unsigned int n);
/*
 * Give back the last n chains popped and not pushed (heads, in pop order): the next pops return them again. What the
 * device wrote into them meanwhile is marked dirty, as a push would.
 */
void virtq_unpop(struct virtq *vq, const u16 *heads, unsigned int n);
/* After pushing: should the driver be interrupted (VIRTQ_AVAIL_F_NO_INTERRUPT / used_event)? */
bool virtq_need_interrupt(struct virtq *vq);
/*
 * When the device has drained the ring: ask for a notification at the next buffer (avail_event) and re-check.
 * Returns true if more buffers arrived meanwhile (process them, or a kick may be lost).
 */
bool virtq_rearm(struct virtq *vq);
/* The same when the device left `held` buffers in the ring for want of more (a merged packet): notify at the next. */
bool virtq_rearm_beyond(struct virtq *vq, u16 held);

/* Bytes copied between an iovec array and a flat buffer, starting `skip` bytes into the iovecs. */
size_t iov_copy_from(const struct iovec *iov, unsigned int n, size_t skip, void *dst, size_t len);
size_t iov_copy_to(const struct iovec *iov, unsigned int n, size_t skip, const void *src, size_t len);
/* The slice [skip, skip + len) of iov[0 .. n) as at most cap entries of out. Returns the count, or -1. */
int iov_slice(const struct iovec *iov, unsigned int n, u64 skip, u64 len, struct iovec *out, unsigned int cap);

#endif

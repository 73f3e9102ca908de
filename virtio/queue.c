/* Split virtqueue engine: ring validation, bounded chain walking, used-ring publication, event-index logic. */
#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kvm/virtio-queue.h"

/*
 * The guest is another CPU writing the same memory concurrently. Every shared field is read exactly once
 * (single-copy atomic loads for the ring indices, a copy-then-compiler-barrier for descriptors) and only the local
 * copy is validated and used, so a guest cannot change a value between its check and its use.
 */
static inline u16 ld16(const u16 *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
}

static inline u16 ld16_acquire(const u16 *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static inline void st16(u16 *p, u16 v)
{
	__atomic_store_n(p, htole16(v), __ATOMIC_RELAXED);
}

static inline void st16_release(u16 *p, u16 v)
{
	__atomic_store_n(p, htole16(v), __ATOMIC_RELEASE);
}

static inline void st32(u32 *p, u32 v)
{
	__atomic_store_n(p, htole32(v), __ATOMIC_RELAXED);
}

/* Indirect tables need not be aligned, so descriptors are copied bytewise from a plain byte pointer. */
static void read_desc(const u8 *table, unsigned int i, struct virtq_desc *d)
{
	struct virtq_desc raw;

	memcpy(&raw, table + (size_t)i * VIRTQ_DESC_SIZE, sizeof(raw));
	__asm__ __volatile__("" ::: "memory"); /* use only the copy from here on */
	d->addr = le64toh(raw.addr);
	d->len = le32toh(raw.len);
	d->flags = le16toh(raw.flags);
	d->next = le16toh(raw.next);
}

static int fail(struct virtq *vq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct virtq *vq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vq->why, sizeof(vq->why), fmt, ap);
	va_end(ap);
	vq->broken = true;
	return -1;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

int virtq_enable(struct virtq *vq, const struct guest_ram *ram, unsigned int size, unsigned int max_size,
		 u64 desc_gpa, u64 avail_gpa, u64 used_gpa, bool indirect, bool event_idx)
{
	void *d, *a, *u;

	virtq_reset(vq);
	if (max_size > VIRTQ_MAX_SIZE)
		max_size = VIRTQ_MAX_SIZE;
	if (!is_pow2(size) || size > max_size)
		return fail(vq, "queue size %u is not a power of two between 1 and %u", size, max_size);
	if (!IS_ALIGNED(desc_gpa, VIRTQ_DESC_ALIGN) || !IS_ALIGNED(avail_gpa, VIRTQ_AVAIL_ALIGN) ||
	    !IS_ALIGNED(used_gpa, VIRTQ_USED_ALIGN))
		return fail(vq, "misaligned ring (desc 0x%llx, avail 0x%llx, used 0x%llx)",
			    (unsigned long long)desc_gpa, (unsigned long long)avail_gpa, (unsigned long long)used_gpa);
	d = gpa_to_host(ram, desc_gpa, (u64)size * VIRTQ_DESC_SIZE);
	a = gpa_to_host(ram, avail_gpa, VIRTQ_AVAIL_BYTES(size));
	u = gpa_to_host(ram, used_gpa, VIRTQ_USED_BYTES(size));
	if (!d || !a || !u)
		return fail(vq, "ring outside guest RAM (desc 0x%llx, avail 0x%llx, used 0x%llx, size %u)",
			    (unsigned long long)desc_gpa, (unsigned long long)avail_gpa, (unsigned long long)used_gpa,
			    size);
	vq->ram = ram;
	vq->size = (u16)size;
	vq->desc_gpa = desc_gpa;
	vq->avail_gpa = avail_gpa;
	vq->used_gpa = used_gpa;
	vq->indirect = indirect;
	vq->event_idx = event_idx;
	vq->desc = d;
	vq->avail = a;
	vq->used = u;
	vq->ready = true;
	return 0;
}

/* Adds one device buffer to the chain; zero-length buffers are skipped (nothing to check or transfer). */
static int add_buffer(struct virtq *vq, struct virtq_chain *ch, const struct virtq_desc *d, unsigned int *count)
{
	void *p;
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;

	if (!writable && ch->n_in)
		return fail(vq, "device-readable descriptor after a device-writable one (head %u)", ch->head);
	if (++*count > vq->size)
		return fail(vq, "chain at head %u has more than %u descriptors", ch->head, vq->size);
	if (!d->len)
		return 0;
	p = gpa_to_host(vq->ram, d->addr, d->len);
	if (!p)
		return fail(vq, "buffer 0x%llx+0x%x (head %u) is outside guest RAM", (unsigned long long)d->addr,
			    d->len, ch->head);
	if (ch->n_out + ch->n_in >= ch->iov_cap)
		return fail(vq, "chain at head %u has more buffers than the device can take", ch->head);
	if (writable) {
		if (!add_ok(ch->in_len, d->len, &ch->in_len))
			return fail(vq, "chain length overflows (head %u)", ch->head);
		ch->n_in++;
	} else {
		if (!add_ok(ch->out_len, d->len, &ch->out_len))
			return fail(vq, "chain length overflows (head %u)", ch->head);
		ch->n_out++;
	}
	ch->iov[ch->n_out + ch->n_in - 1] = (struct iovec){ .iov_base = p, .iov_len = d->len };
	return 0;
}

/*
 * Walk the chain at `head`. The direct part takes at most `size` steps and an indirect table at most its own
 * length, so every loop ends; the buffers of the whole chain number at most `size`.
 */
static int walk_chain(struct virtq *vq, struct virtq_chain *ch, u16 head)
{
	const u8 *table = (const u8 *)vq->desc;
	unsigned int table_len = vq->size, steps = 0, count = 0;
	bool in_indirect = false;
	u16 i = head;
	struct virtq_desc d;

	*ch = (struct virtq_chain){ .head = head, .iov = ch->iov, .iov_cap = ch->iov_cap };
	for (;;) {
		if (++steps > table_len)
			return fail(vq, "descriptor chain at head %u loops or exceeds %u steps%s", head, table_len,
				    in_indirect ? " (indirect table)" : "");
		read_desc(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!vq->indirect)
				return fail(vq, "indirect descriptor (head %u) but VIRTIO_F_RING_INDIRECT_DESC was not "
						"negotiated", head);
			if (in_indirect)
				return fail(vq, "nested indirect descriptor (head %u)", head);
			if (d.flags & VIRTQ_DESC_F_NEXT)
				return fail(vq, "indirect descriptor with NEXT set (head %u)", head);
			if (d.len == 0 || d.len % VIRTQ_DESC_SIZE || d.len / VIRTQ_DESC_SIZE > vq->size)
				return fail(vq, "indirect table length %u (head %u) is not a non-zero multiple of 16 of "
						"at most %u entries", d.len, head, vq->size);
			table = gpa_to_host(vq->ram, d.addr, d.len);
			if (!table)
				return fail(vq, "indirect table 0x%llx+0x%x (head %u) is outside guest RAM",
					    (unsigned long long)d.addr, d.len, head);
			table_len = d.len / VIRTQ_DESC_SIZE;
			in_indirect = true;
			steps = 0;
			i = 0;
			continue;
		}
		if (add_buffer(vq, ch, &d, &count))
			return -1;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= table_len)
			return fail(vq, "next index %u out of range (%u entries, head %u)", d.next, table_len, head);
		i = d.next;
	}
}

int virtq_pop(struct virtq *vq, struct virtq_chain *ch)
{
	u16 avail_idx, pending, head;

	if (vq->broken)
		return -1;
	if (!vq->ready)
		return 0;
	avail_idx = ld16_acquire(&vq->avail->idx); /* pairs with the driver's write barrier before idx */
	pending = (u16)(avail_idx - vq->last_avail);
	if (!pending)
		return 0;
	if (pending > vq->size)
		return fail(vq, "avail index %u is %u entries past the last seen %u (queue size %u)", avail_idx,
			    pending, vq->last_avail, vq->size);
	head = ld16(&vq->avail->ring[vq->last_avail & (vq->size - 1)]);
	if (head >= vq->size)
		return fail(vq, "head index %u out of range (queue size %u)", head, vq->size);
	if (walk_chain(vq, ch, head))
		return -1;
	vq->last_avail++;
	return 1;
}

/*
 * Live migration: KVM logs only the guest's writes, so the device-writable buffers of the chain being returned are
 * marked dirty here, once the device has written them and before the guest may reuse them. The chain is walked
 * again with the same bounds as walk_chain(); a guest that rewrites descriptors it has handed over only hurts its
 * own copy. Nothing is done unless a migration tracks dirty pages.
 */
static void mark_chain_written(struct virtq *vq, u16 head)
{
	const u8 *table = (const u8 *)vq->desc;
	unsigned int table_len = vq->size, steps = 0;
	bool in_indirect = false;
	struct virtq_desc d;
	u16 i = head;

	if (!__atomic_load_n(&vq->ram->dirty, __ATOMIC_ACQUIRE) || head >= vq->size)
		return;
	while (++steps <= table_len) {
		read_desc(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (in_indirect || d.len == 0 || d.len % VIRTQ_DESC_SIZE || d.len / VIRTQ_DESC_SIZE > vq->size ||
			    !(table = gpa_to_host(vq->ram, d.addr, d.len)))
				return;
			table_len = d.len / VIRTQ_DESC_SIZE;
			in_indirect = true;
			steps = 0;
			i = 0;
			continue;
		}
		if ((d.flags & VIRTQ_DESC_F_WRITE) && d.len)
			guest_ram_mark_dirty(vq->ram, d.addr, d.len);
		if (!(d.flags & VIRTQ_DESC_F_NEXT) || d.next >= table_len)
			return;
		i = d.next;
	}
}

void virtq_push_batch(struct virtq *vq, const u16 *heads, const u32 *lens, unsigned int n)
{
	if (!vq->ready || vq->broken || !n)
		return;
	for (unsigned int i = 0; i < n; i++) {
		u16 slot = vq->used_idx & (vq->size - 1);
		struct virtq_used_elem *e = &vq->used->ring[slot];
		st32(&e->id, heads[i]);
		st32(&e->len, lens[i]);
		vq->used_idx++;
		mark_chain_written(vq, heads[i]);
		guest_ram_mark_dirty(vq->ram, vq->used_gpa + 4 + 8ULL * slot, 8);
	}
	st16_release(&vq->used->idx, vq->used_idx); /* the elements are visible before the index */
	guest_ram_mark_dirty(vq->ram, vq->used_gpa, 4);
}

void virtq_push(struct virtq *vq, u16 head, u32 written)
{
	virtq_push_batch(vq, &head, &written, 1);
}

void virtq_unpop(struct virtq *vq, const u16 *heads, unsigned int n)
{
	if (!vq->ready)
		return;
	/* what the device wrote there stays in guest RAM, also when the pop that failed broke the ring: a migration
	 * sends it */
	for (unsigned int i = 0; i < n; i++)
		mark_chain_written(vq, heads[i]);
	if (!vq->broken)
		vq->last_avail = (u16)(vq->last_avail - n);
}

/* "Has new_idx passed event since old?" - the event-index test of VIRTIO 2.7.10, in 16-bit arithmetic. */
static bool need_event(u16 event, u16 new_idx, u16 old)
{
	return (u16)(new_idx - event - 1) < (u16)(new_idx - old);
}

bool virtq_need_interrupt(struct virtq *vq)
{
	u16 old = vq->signalled_used;
	bool need;

	if (!vq->ready || vq->broken || vq->used_idx == old)
		return false; /* nothing returned since the last decision */
	/* Order our used->idx store before reading the driver's suppression state (it does the mirror image). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx)
		need = need_event(ld16(&vq->avail->ring[vq->size]) /* used_event */, vq->used_idx, old);
	else
		need = !(ld16(&vq->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	vq->signalled_used = vq->used_idx;
	return need;
}

bool virtq_rearm_beyond(struct virtq *vq, u16 held)
{
	u16 at = (u16)(vq->last_avail + held);

	if (!vq->ready || vq->broken)
		return false;
	if (vq->event_idx) {
		st16((u16 *)&vq->used->ring[vq->size], at); /* avail_event */
		guest_ram_mark_dirty(vq->ram, vq->used_gpa + 4 + 8ULL * vq->size, 2);
	}
	/* used->flags stays 0: we always want notifications (ioeventfd makes them cheap). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return ld16_acquire(&vq->avail->idx) != at;
}

bool virtq_rearm(struct virtq *vq)
{
	return virtq_rearm_beyond(vq, 0);
}

size_t iov_copy_from(const struct iovec *iov, unsigned int n, size_t skip, void *dst, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len, c;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		c = l - skip;
		if (c > len - done)
			c = len - done;
		memcpy((u8 *)dst + done, (const u8 *)iov[i].iov_base + skip, c);
		done += c;
		skip = 0;
	}
	return done;
}

size_t iov_copy_to(const struct iovec *iov, unsigned int n, size_t skip, const void *src, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len, c;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		c = l - skip;
		if (c > len - done)
			c = len - done;
		memcpy((u8 *)iov[i].iov_base + skip, (const u8 *)src + done, c);
		done += c;
		skip = 0;
	}
	return done;
}

/* The slice [skip, skip + len) of iov[0 .. n) as at most cap entries of out. Returns the count, or -1. */
int iov_slice(const struct iovec *iov, unsigned int n, u64 skip, u64 len, struct iovec *out, unsigned int cap)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n && len; i++) {
		u64 l = iov[i].iov_len, c;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		c = l - skip < len ? l - skip : len;
		if (k >= cap)
			return -1;
		out[k++] = (struct iovec){ .iov_base = (u8 *)iov[i].iov_base + skip, .iov_len = c };
		len -= c;
		skip = 0;
	}
	return (int)k;
}

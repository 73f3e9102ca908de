/* The one guest-memory choke point: every guest-physical access is range-checked here. */
#ifndef KVM_GUEST_MEM_H
#define KVM_GUEST_MEM_H

#include "kvm/util.h"

/* What backs guest RAM (ram.c). */
enum ram_backing {
	RAM_ANON = 0,  /* anonymous private memory, transparent huge pages asked for */
	RAM_HUGETLBFS, /* an unlinked file on a hugetlbfs mount, mapped shared */
	RAM_SNAPSHOT,  /* a snapshot file's RAM image mapped private (copy-on-write) over the anonymous region */
};

struct guest_ram {
	u64 base;      /* guest-physical address of the first byte */
	u64 size;      /* bytes */
	u8 *host;      /* host mapping, 2 MiB aligned when created by ram.c */
	int fd;        /* the hugetlbfs file or the mapped snapshot, -1 if none */
	enum ram_backing backing;
	u64 file_off;  /* RAM_SNAPSHOT: where the image starts in fd */
	u64 page_size; /* RAM_HUGETLBFS: the huge page size */
	bool shared_in; /* the memory came from another lkvm (migrate --local): our page table says nothing of it */
	/*
	 * Live migration: while non-NULL (atomic), a bitmap with one bit per 4 KiB page of guest RAM where lkvm's own
	 * writes to guest memory are recorded (KVM's dirty log sees only the guest's writes). Owned by the migration.
	 */
	u64 *dirty;
};

/*
 * Host pointer for [gpa, gpa + len) if that whole range lies inside guest RAM, else NULL.
 * len == 0 is treated as 1 byte. Overflow-safe for any gpa/len.
 */
void *gpa_to_host(const struct guest_ram *ram, u64 gpa, u64 len);

/* True if [gpa, gpa + len) is inside guest RAM. */
static inline bool gpa_range_ok(const struct guest_ram *ram, u64 gpa, u64 len)
{
	return gpa_to_host(ram, gpa, len) != NULL;
}

/* Copy helpers built on gpa_to_host(); return 0 or -EFAULT. */
int guest_read(const struct guest_ram *ram, u64 gpa, void *dst, u64 len);
int guest_write(const struct guest_ram *ram, u64 gpa, const void *src, u64 len);

/*
 * Record that lkvm itself wrote [gpa, gpa + len) (clamped to guest RAM) while a migration tracks dirty pages; a
 * no-op otherwise. Call after the write: a page marked before it is written could be sent without the new bytes.
 * Safe from any thread (atomic bit operations).
 */
void guest_ram_mark_dirty(const struct guest_ram *ram, u64 gpa, u64 len);
/* The same for a host pointer into guest RAM (e.g. an iovec from a virtqueue chain). */
void guest_ram_mark_dirty_host(const struct guest_ram *ram, const void *p, u64 len);

/* Pages of 4 KiB in guest RAM and the u64 words of a bitmap covering them. */
#define GUEST_DIRTY_PAGE 4096ULL
static inline u64 guest_ram_pages(const struct guest_ram *ram)
{
	return ram->size / GUEST_DIRTY_PAGE;
}
static inline u64 guest_ram_bitmap_words(const struct guest_ram *ram)
{
	return (guest_ram_pages(ram) + 63) / 64;
}
/*
 * Start recording lkvm's writes into bits (guest_ram_bitmap_words() words, zeroed here) / stop (returns the bitmap,
 * which the caller frees once no writer can still hold it: the devices are quiesced or the migration is over).
 */
void guest_ram_dirty_start(struct guest_ram *ram, u64 *bits);
u64 *guest_ram_dirty_stop(struct guest_ram *ram);
/* OR the pages recorded since the last call into out (same size) and clear them; returns how many were set. */
u64 guest_ram_dirty_take(struct guest_ram *ram, u64 *out);

#endif

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

#endif

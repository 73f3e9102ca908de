/* Guest RAM backing: anonymous THP memory, hugetlbfs, or a snapshot's RAM image mapped copy-on-write. */
#ifndef KVM_RAM_H
#define KVM_RAM_H

#include <stddef.h>

#include "kvm/guest-mem.h"

#define HUGETLBFS_MAGIC_NUMBER 0x958458f6

/*
 * Reserve ram->size bytes of guest RAM (ram->size set by the caller), 2 MiB aligned so that KVM can map
 * transparent huge pages at stage 2. hugetlbfs NULL: anonymous private memory with MADV_HUGEPAGE (nothing is
 * faulted in: RSS grows with what the guest touches). Otherwise an unlinked file on that hugetlbfs mount, mapped
 * shared with its huge pages reserved up front. 0, or -1 with a one-line reason in err.
 */
int guest_ram_alloc(struct guest_ram *ram, const char *hugetlbfs, char *err, size_t errlen);

/*
 * Map bytes [off, off + ram->size) of the regular file fd private and copy-on-write over the whole of guest RAM:
 * pages are read from the file when first touched. The file must be at least that long (checked) and off
 * page-aligned. ram takes over fd. 0, or -1 with err.
 */
int guest_ram_map_file(struct guest_ram *ram, int fd, u64 off, char *err, size_t errlen);

/*
 * Same-host migration: map the hugetlbfs file fd, another lkvm's guest RAM, shared over the whole of guest RAM
 * (ram->size bytes, as the file must be). ram takes over fd. 0, or -1 with err.
 */
int guest_ram_map_shared(struct guest_ram *ram, int fd, char *err, size_t errlen);

/*
 * For the 4 KiB pages of [off, off + len) of guest RAM (off and len 4 KiB aligned), set populated[i] to 1 if
 * page i may hold data and 0 if it is certainly zero (never touched and, for file-backed RAM, a hole in the
 * file). Reads nothing of the guest's memory, so untouched RAM stays unallocated. Errors mark everything 1.
 */
void guest_ram_populated(const struct guest_ram *ram, u64 off, u64 len, u8 *populated);

/* Set populated[i] = 1 for the 4 KiB pages of [off, off + len) that hold data in ram->fd (at ram->file_off + off);
 * holes are left as they are. 0, or -1 if the file cannot tell (then the caller must assume data). */
int guest_ram_file_data(const struct guest_ram *ram, u64 off, u64 len, u8 *populated);

/* Resident guest RAM and how much of it huge pages back, from /proc/self/smaps. */
struct ram_usage {
	u64 rss_kib;  /* 4 KiB + THP pages resident in this process (hugetlb pages are counted in huge_kib) */
	u64 huge_kib; /* AnonHugePages + ShmemPmdMapped + FilePmdMapped + Shared/Private_Hugetlb */
};
int guest_ram_usage(const struct guest_ram *ram, struct ram_usage *u);
/* Parse smaps text for the mappings inside [start, end) (split out for unit tests). */
int ram_usage_parse(const char *smaps, unsigned long start, unsigned long end, struct ram_usage *u);

const char *guest_ram_backing_name(const struct guest_ram *ram);

#endif

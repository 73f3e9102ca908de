/* The one guest-memory choke point: every guest-physical access is range-checked here. */
#ifndef KVM_GUEST_MEM_H
#define KVM_GUEST_MEM_H

#include "kvm/util.h"

struct guest_ram {
	u64 base;  /* guest-physical address of the first byte */
	u64 size;  /* bytes */
	u8 *host;  /* host mapping (memfd, MAP_SHARED) */
	int fd;    /* the memfd backing it, -1 if none */
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

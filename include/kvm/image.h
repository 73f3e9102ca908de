/* arm64 kernel Image / raw payload recognition and guest RAM layout (host-testable). */
#ifndef KVM_IMAGE_H
#define KVM_IMAGE_H

#include <stddef.h>

#include "kvm/util.h"

#define ARM64_IMAGE_MAGIC 0x644d5241u /* "ARM\x64" little-endian at offset 0x38 */
#define RAW_PAYLOAD_OFFSET 0x80000ULL  /* kvmtool's convention for raw binaries */
#define FDT_MAX_SIZE 0x10000ULL         /* the DTB slot reserved near the top of RAM */

enum payload_kind { PAYLOAD_IMAGE, PAYLOAD_RAW };

struct kernel_info {
	enum payload_kind kind;
	u64 text_offset; /* load offset from the 2 MiB-aligned RAM base */
	u64 image_size;  /* bytes the kernel occupies once loaded, incl. BSS */
	u64 file_size;
};

/*
 * Classify the first `len` bytes of a kernel file (len = whole file size; buf holds at least
 * min(len, 4096) bytes, more if available up to len). Returns 0, or -1 with a reason such as
 * "is empty" or "is a cpio archive ..." in err (the caller prefixes the file name).
 */
int image_classify(const u8 *buf, size_t buflen, u64 file_size, struct kernel_info *ki, char *err, size_t errlen);

struct boot_layout {
	u64 kernel_load;  /* where the file's first byte goes */
	u64 kernel_entry; /* PC at boot */
	u64 kernel_end;   /* first byte after kernel_load + image_size */
	u64 dtb_addr;
	u64 initrd_addr, initrd_size;
	u64 pvtime_addr, pvtime_size;
};

enum layout_error {
	LAYOUT_OK = 0,
	LAYOUT_KERNEL_TOO_BIG, /* kernel alone does not fit */
	LAYOUT_INITRD_TOO_BIG, /* kernel fits, initrd does not */
	LAYOUT_RAM_TOO_SMALL,  /* not even the DTB / reserved regions fit */
};

/*
 * Place kernel, initrd, DTB and PV-time region in [ram_base, ram_base + ram_size). The PV-time region
 * (pvtime_size bytes, 64 KiB-aligned) goes at the very top, the DTB slot below it, the initrd below
 * that, the kernel at the bottom. Everything is checked for overlap and overflow.
 */
enum layout_error boot_layout_compute(u64 ram_base, u64 ram_size, const struct kernel_info *ki, u64 initrd_size,
				      u64 pvtime_size, struct boot_layout *out);

#endif

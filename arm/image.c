/* Recognise arm64 Images (and refuse files that are clearly not kernels), then lay out guest RAM. */
#include <stdio.h>
#include <string.h>

#include "kvm/image.h"

static u32 le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u16 le16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u64 le64(const u8 *p)
{
	return (u64)le32(p) | (u64)le32(p + 4) << 32;
}

/*
 * The EFI stub makes the Image a PE/COFF file too; its section table says how many bytes the file
 * must hold. Returns the end of the last section's raw data, 0 if there is no usable PE header.
 */
static u64 pe_raw_end(const u8 *buf, size_t buflen)
{
	u32 pe, nsec, optsz;
	u64 sec, end = 0;

	if (buflen < 0x40 || buf[0] != 'M' || buf[1] != 'Z')
		return 0;
	pe = le32(buf + 0x3c);
	if ((u64)pe + 24 > buflen || memcmp(buf + pe, "PE\0\0", 4))
		return 0;
	nsec = le16(buf + pe + 6);
	optsz = le16(buf + pe + 20);
	sec = (u64)pe + 24 + optsz;
	for (u32 i = 0; i < nsec && i < 96; i++, sec += 40) {
		u64 raw_sz, raw_ptr;
		if (sec + 40 > buflen)
			return 0;
		raw_sz = le32(buf + sec + 16);
		raw_ptr = le32(buf + sec + 20);
		if (raw_sz && raw_ptr + raw_sz > end)
			end = raw_ptr + raw_sz;
	}
	return end;
}

int image_classify(const u8 *buf, size_t buflen, u64 file_size, struct kernel_info *ki, char *err, size_t errlen)
{
	memset(ki, 0, sizeof(*ki));
	ki->file_size = file_size;
	if (buflen > file_size)
		buflen = file_size;

	if (file_size == 0) {
		snprintf(err, errlen, "is empty");
		return -1;
	}
	if (buflen >= 6 && (!memcmp(buf, "070701", 6) || !memcmp(buf, "070702", 6) || !memcmp(buf, "070707", 6))) {
		snprintf(err, errlen, "is a cpio archive (an initramfs?), not an arm64 kernel Image; pass it with -i/--initrd");
		return -1;
	}
	if (buflen >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
		snprintf(err, errlen, "is gzip-compressed; lkvm needs an uncompressed arm64 Image (gunzip it first)");
		return -1;
	}
	if (buflen >= 4 && !memcmp(buf, "\177ELF", 4)) {
		snprintf(err, errlen, "is an ELF file (vmlinux?); lkvm needs an arm64 Image such as arch/arm64/boot/Image");
		return -1;
	}

	if (buflen >= 0x3c && le32(buf + 0x38) == ARM64_IMAGE_MAGIC) {
		u64 flags, end;
		if (file_size < 64 || buflen < 64) {
			snprintf(err, errlen, "is truncated: %llu bytes, shorter than the 64-byte arm64 Image header",
				 (unsigned long long)file_size);
			return -1;
		}
		ki->kind = PAYLOAD_IMAGE;
		ki->text_offset = le64(buf + 8);
		ki->image_size = le64(buf + 16);
		flags = le64(buf + 24);
		if (ki->image_size == 0) {
			/* Pre-3.17 kernels: no size in the header, text_offset historically 0x80000. */
			ki->text_offset = RAW_PAYLOAD_OFFSET;
			ki->image_size = file_size;
		}
		if (flags & 1) {
			snprintf(err, errlen, "is a big-endian arm64 Image; lkvm boots little-endian kernels only");
			return -1;
		}
		if (ki->text_offset >= SZ_2M * 32 || !IS_ALIGNED(ki->text_offset, SZ_4K)) {
			snprintf(err, errlen, "has an implausible text_offset 0x%llx in its Image header",
				 (unsigned long long)ki->text_offset);
			return -1;
		}
		if (ki->image_size > 4 * SZ_1G) {
			snprintf(err, errlen, "has an implausible image_size 0x%llx in its Image header",
				 (unsigned long long)ki->image_size);
			return -1;
		}
		end = pe_raw_end(buf, buflen);
		if (end > file_size) {
			snprintf(err, errlen,
				 "is truncated: its header describes %llu bytes but the file has %llu",
				 (unsigned long long)end, (unsigned long long)file_size);
			return -1;
		}
		if (ki->image_size < file_size && end == 0) {
			/* No PE table to go by; a file larger than its footprint is still loadable as is. */
			ki->image_size = file_size;
		}
		if (ki->image_size < file_size)
			ki->image_size = file_size;
		return 0;
	}
	if (buflen >= 2 && buf[0] == 'M' && buf[1] == 'Z') {
		snprintf(err, errlen, "is a PE/EFI binary without the arm64 Image header (magic ARM\\x64 at 0x38)");
		return -1;
	}

	ki->kind = PAYLOAD_RAW;
	ki->text_offset = RAW_PAYLOAD_OFFSET;
	ki->image_size = file_size;
	return 0;
}

enum layout_error boot_layout_compute(u64 ram_base, u64 ram_size, const struct kernel_info *ki, u64 initrd_size,
				      u64 pvtime_size, struct boot_layout *out)
{
	u64 ram_end, top, kend;

	memset(out, 0, sizeof(*out));
	if (!add_ok(ram_base, ram_size, &ram_end) || !IS_ALIGNED(ram_base, SZ_2M))
		return LAYOUT_RAM_TOO_SMALL;

	/* Top down: PV-time region, DTB slot. */
	top = ram_end;
	if (pvtime_size) {
		pvtime_size = ALIGN_UP(pvtime_size, SZ_64K);
		if (pvtime_size > ram_size)
			return LAYOUT_RAM_TOO_SMALL;
		top -= pvtime_size;
		out->pvtime_addr = top;
		out->pvtime_size = pvtime_size;
	}
	if (top - ram_base < FDT_MAX_SIZE)
		return LAYOUT_RAM_TOO_SMALL;
	top = ALIGN_DOWN(top - FDT_MAX_SIZE, SZ_4K);
	out->dtb_addr = top;

	/* Bottom up: the kernel. */
	out->kernel_load = ram_base + ki->text_offset;
	out->kernel_entry = out->kernel_load;
	if (!add_ok(out->kernel_load, ki->image_size, &kend) || kend > top)
		return LAYOUT_KERNEL_TOO_BIG;
	out->kernel_end = kend;

	if (initrd_size) {
		u64 start;
		if (initrd_size > top - kend)
			return LAYOUT_INITRD_TOO_BIG;
		start = ALIGN_DOWN(top - initrd_size, SZ_4K);
		if (start < kend)
			return LAYOUT_INITRD_TOO_BIG;
		out->initrd_addr = start;
		out->initrd_size = initrd_size;
	}
	return LAYOUT_OK;
}

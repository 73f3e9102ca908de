/* Unit tests: arm64 Image header recognition, refusal of non-kernels, and RAM layout. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kvm/image.h"

static void put64(u8 *p, u64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void put32(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

/* A fake Image: header with text_offset/image_size, optional PE header with one section. */
static u8 *make_image(size_t len, u64 text_offset, u64 image_size, u32 pe_section_end)
{
	u8 *b = calloc(1, len);
	put64(b + 8, text_offset);
	put64(b + 16, image_size);
	put32(b + 0x38, ARM64_IMAGE_MAGIC);
	if (pe_section_end) {
		b[0] = 'M';
		b[1] = 'Z';
		put32(b + 0x3c, 0x40);
		memcpy(b + 0x40, "PE\0\0", 4);
		b[0x40 + 6] = 1;    /* one section */
		b[0x40 + 20] = 0;   /* no optional header */
		put32(b + 0x40 + 24 + 16, pe_section_end - 0x1000); /* SizeOfRawData */
		put32(b + 0x40 + 24 + 20, 0x1000);                   /* PointerToRawData */
	}
	return b;
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	struct kernel_info ki;
	struct boot_layout bl;
	char err[256];
	u8 *img;
	int r;

	img = make_image(0x4000, 0, 0x2010000, 0x4000);
	r = image_classify(img, 0x4000, 0x4000, &ki, err, sizeof(err));
	CHECK(&uc, r == 0 && ki.kind == PAYLOAD_IMAGE, "good Image accepted");
	CHECK(&uc, ki.text_offset == 0 && ki.image_size == 0x2010000, "header fields read (size 0x%llx)",
	      (unsigned long long)ki.image_size);
	r = image_classify(img, 0x3000, 0x3000, &ki, err, sizeof(err));
	CHECK(&uc, r == -1 && strstr(err, "truncated"), "Image shorter than its PE sections refused: %s", err);
	free(img);

	img = make_image(0x4000, 0x80000, 0, 0);
	r = image_classify(img, 0x4000, 0x4000, &ki, err, sizeof(err));
	CHECK(&uc, r == 0 && ki.text_offset == 0x80000 && ki.image_size == 0x4000, "legacy image_size 0 handled");
	free(img);

	img = make_image(0x4000, 0, 0x100000000000ULL, 0);
	r = image_classify(img, 0x4000, 0x4000, &ki, err, sizeof(err));
	CHECK(&uc, r == -1 && strstr(err, "image_size"), "absurd image_size refused: %s", err);
	free(img);

	img = make_image(0x4000, 0xffffffffffff0000ULL, 0x1000, 0);
	r = image_classify(img, 0x4000, 0x4000, &ki, err, sizeof(err));
	CHECK(&uc, r == -1 && strstr(err, "text_offset"), "absurd text_offset refused: %s", err);
	free(img);

	img = make_image(0x40, 0, 0x1000, 0);
	r = image_classify(img, 0x3c, 0x3c, &ki, err, sizeof(err));
	CHECK(&uc, r == -1 && strstr(err, "truncated"), "header cut short refused: %s", err);
	free(img);

	r = image_classify((const u8 *)"", 0, 0, &ki, err, sizeof(err));
	CHECK(&uc, r == -1 && strstr(err, "empty"), "empty file refused: %s", err);
	r = image_classify((const u8 *)"070701000000", 12, 12, &ki, err, sizeof(err));
	CHECK(&uc, r == -1 && strstr(err, "cpio"), "cpio refused: %s", err);
	r = image_classify((const u8 *)"\x1f\x8b\x08\x00", 4, 4, &ki, err, sizeof(err));
	CHECK(&uc, r == -1 && strstr(err, "gzip"), "gzip refused: %s", err);
	r = image_classify((const u8 *)"\177ELF\2\1\1", 7, 7, &ki, err, sizeof(err));
	CHECK(&uc, r == -1 && strstr(err, "ELF"), "ELF refused: %s", err);
	r = image_classify((const u8 *)"\x1f\x20\x03\xd5", 4, 4, &ki, err, sizeof(err));
	CHECK(&uc, r == 0 && ki.kind == PAYLOAD_RAW && ki.text_offset == RAW_PAYLOAD_OFFSET, "raw binary accepted");

	/* Layout. */
	ki = (struct kernel_info){ .kind = PAYLOAD_IMAGE, .text_offset = 0, .image_size = 0x2010000, .file_size = 0x1e00000 };
	CHECK(&uc, boot_layout_compute(0x80000000, 256 << 20, &ki, 4 << 20, 0x10000, &bl) == LAYOUT_OK,
	      "256 MiB fits kernel + 4 MiB initrd + pvtime");
	CHECK(&uc, bl.pvtime_addr == 0x80000000 + (256 << 20) - 0x10000 && bl.pvtime_size == 0x10000,
	      "pvtime region at the top (0x%llx)", (unsigned long long)bl.pvtime_addr);
	CHECK(&uc, bl.dtb_addr + FDT_MAX_SIZE <= bl.pvtime_addr, "DTB below pvtime");
	CHECK(&uc, bl.initrd_addr + bl.initrd_size <= bl.dtb_addr && bl.initrd_addr >= bl.kernel_end,
	      "initrd between kernel and DTB");
	CHECK(&uc, boot_layout_compute(0x80000000, 16 << 20, &ki, 4 << 20, 0, &bl) == LAYOUT_KERNEL_TOO_BIG,
	      "16 MiB too small for a 32 MiB kernel");
	CHECK(&uc, boot_layout_compute(0x80000000, 64 << 20, &ki, 60 << 20, 0, &bl) == LAYOUT_INITRD_TOO_BIG,
	      "initrd that does not fit refused");
	CHECK(&uc, boot_layout_compute(0xfffffffffff00000ULL, 256 << 20, &ki, 0, 0, &bl) != LAYOUT_OK,
	      "RAM range wrapping 2^64 refused");
	ki.image_size = ~0ULL - 0x1000;
	CHECK(&uc, boot_layout_compute(0x80000000, 256 << 20, &ki, 0, 0, &bl) == LAYOUT_KERNEL_TOO_BIG,
	      "kernel size overflowing refused");
	UNIT_DONE(&uc);
}

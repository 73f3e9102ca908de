/* Fuzz target: kernel Image / raw payload recognition and the boot layout (kernel, initrd, DTB, PV-time). */
#include <stdio.h>

#include "fuzz.h"
#include "kvm/arm-layout.h"
#include "kvm/image.h"
#include "kvm/pvtime.h"

/*
 * Input: u32 guest memory in MiB (taken modulo 2^22, as -m allows), u64 initrd size, u16 vCPUs, u8 flags (1 PV
 * time on, 2 the file is longer than what was read: u32 extra bytes follow), then the first bytes of the kernel
 * file (what kvm_validate_payload() reads). Whatever the layout says, its invariants must hold.
 */
FZ_QUIET_INITIALIZE()

#define REQUIRE(c)                                                                                                \
	do {                                                                                                      \
		if (!(c)) {                                                                                       \
			fprintf(stderr, "layout invariant broken: %s\n", #c);                                     \
			abort();                                                                                  \
		}                                                                                                 \
	} while (0)

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz f = fz_init(data, size);
	u64 mib = fz_u32(&f) % (1u << 22) + 1, initrd = fz_u64(&f);
	unsigned int cpus = fz_u16(&f) % LKVM_MAX_CPUS + 1;
	u8 flags = fz_u8(&f);
	u64 extra = flags & 2 ? fz_u32(&f) : 0;
	u64 ram_size = mib * SZ_1M, ram_end = ARM_RAM_BASE + ram_size, pv = flags & 1 ? pvtime_region_size(cpus) : 0;
	size_t n;
	const u8 *head = fz_bytes(&f, SZ_64K, &n);
	u8 *copy = malloc(n ? n : 1); /* an exact-size copy: ASan catches any read past what was read */
	struct kernel_info ki;
	struct boot_layout l;
	char err[256];

	if (!copy)
		abort();
	memcpy(copy, head, n);
	if (image_classify(copy, n, n + extra, &ki, err, sizeof(err)) == 0) {
		REQUIRE(ki.image_size >= ki.file_size && ki.file_size == n + extra);
		REQUIRE(ki.text_offset < 64 * SZ_1M && IS_ALIGNED(ki.text_offset, SZ_4K));
		if (boot_layout_compute(ARM_RAM_BASE, ram_size, &ki, initrd, pv, &l) == LAYOUT_OK) {
			u64 top = pv ? l.pvtime_addr : ram_end;
			REQUIRE(l.kernel_load == ARM_RAM_BASE + ki.text_offset && l.kernel_entry == l.kernel_load);
			REQUIRE(l.kernel_end - l.kernel_load == ki.image_size && l.kernel_end <= l.dtb_addr);
			REQUIRE(IS_ALIGNED(l.dtb_addr, SZ_4K) && l.dtb_addr + FDT_MAX_SIZE <= top);
			REQUIRE(!pv || (l.pvtime_size >= pv && l.pvtime_addr + l.pvtime_size == ram_end &&
					IS_ALIGNED(l.pvtime_addr, SZ_64K)));
			if (initrd)
				REQUIRE(l.initrd_size == initrd && l.initrd_addr >= l.kernel_end &&
					l.initrd_addr + l.initrd_size <= l.dtb_addr && IS_ALIGNED(l.initrd_addr, SZ_4K));
		}
	} else {
		REQUIRE(err[0] && strlen(err) < sizeof(err) - 1);
	}
	free(copy);
	return 0;
}

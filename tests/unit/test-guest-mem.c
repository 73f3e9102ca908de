/* Unit tests: the guest-memory choke point rejects every range not wholly inside RAM. */
#include <stdlib.h>

#include "check.h"
#include "kvm/guest-mem.h"

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	u8 *buf = calloc(1, 4096);
	struct guest_ram ram = { .base = 0x80000000, .size = 4096, .host = buf, .fd = -1 };
	u32 v = 0x12345678, w = 0;

	CHECK(&uc, gpa_to_host(&ram, 0x80000000, 4096) == buf, "whole RAM");
	CHECK(&uc, gpa_to_host(&ram, 0x80000fff, 1) == buf + 4095, "last byte");
	CHECK(&uc, !gpa_to_host(&ram, 0x80000fff, 2), "one byte past the end");
	CHECK(&uc, !gpa_to_host(&ram, 0x7fffffff, 1), "one byte before RAM");
	CHECK(&uc, !gpa_to_host(&ram, 0x80000000, ~0ULL), "length wrapping 2^64");
	CHECK(&uc, !gpa_to_host(&ram, ~0ULL, 2), "address wrapping 2^64");
	CHECK(&uc, !gpa_to_host(NULL, 0x80000000, 1), "no RAM");
	CHECK(&uc, guest_write(&ram, 0x80000100, &v, 4) == 0 && guest_read(&ram, 0x80000100, &w, 4) == 0 && w == v,
	      "write then read back");
	CHECK(&uc, guest_read(&ram, 0x80000ffe, &w, 4) != 0, "read straddling the end fails");
	free(buf);
	UNIT_DONE(&uc);
}

/* Stage-1 translation walk of a guest virtual address through the guest's own EL1 page tables (pure, host-tested). */
#include <errno.h>

#include "kvm/s1walk.h"

#define SCTLR_M (1ULL << 0)
#define TCR_EPD0 (1ULL << 7)
#define TCR_EPD1 (1ULL << 23)
#define TCR_TBI0 (1ULL << 37)
#define TCR_TBI1 (1ULL << 38)
#define TCR_DS (1ULL << 59)

static u64 bits(u64 v, unsigned int hi, unsigned int lo)
{
	return (v >> lo) & ((hi - lo >= 63) ? ~0ULL : ((1ULL << (hi - lo + 1)) - 1));
}

/* An output (or table) address from a descriptor or TTBR, for this granule and PA mode; aligned to 1 << align. */
static u64 out_addr(u64 d, unsigned int g, bool lpa, unsigned int align)
{
	u64 a;

	if (g == 16) {
		a = d & 0x0000ffffffff0000ULL;
		if (lpa)
			a |= bits(d, 15, 12) << 48;
	} else if (lpa) { /* DS=1, 4K/16K: OA[49:g] in place, OA[51:50] in bits [9:8] */
		a = d & (0x0003ffffffffffffULL & ~((1ULL << g) - 1));
		a |= bits(d, 9, 8) << 50;
	} else {
		a = d & (0x0000ffffffffffffULL & ~((1ULL << g) - 1));
	}
	return a & ~((1ULL << align) - 1);
}

int s1_translate(const struct s1_regs *r, u64 va, s1_read64 read64, void *ctx, struct s1_result *res)
{
	bool hi = (va >> 55) & 1, lpa, ds = r->tcr & TCR_DS;
	unsigned int tsz, g, stride, vabits, levels, tg, ips = (unsigned int)bits(r->tcr, 34, 32);
	u64 ttbr, table, top;
	int level;

	if (!(r->sctlr & SCTLR_M)) {
		*res = (struct s1_result){ .pa = va, .size = 1ULL << 12, .level = 4 };
		return 0;
	}
	if (!hi) {
		if (r->tcr & TCR_EPD0)
			return -ERANGE;
		tsz = (unsigned int)bits(r->tcr, 5, 0);
		tg = (unsigned int)bits(r->tcr, 15, 14); /* 0: 4K, 1: 64K, 2: 16K */
		g = tg == 0 ? 12 : tg == 1 ? 16 : tg == 2 ? 14 : 0;
		ttbr = r->ttbr0;
	} else {
		if (r->tcr & TCR_EPD1)
			return -ERANGE;
		tsz = (unsigned int)bits(r->tcr, 21, 16);
		tg = (unsigned int)bits(r->tcr, 31, 30); /* 1: 16K, 2: 4K, 3: 64K */
		g = tg == 2 ? 12 : tg == 3 ? 16 : tg == 1 ? 14 : 0;
		ttbr = r->ttbr1;
	}
	if (!g)
		return -ERANGE; /* reserved granule encoding */
	if (tsz < 12 || tsz > 39)
		return -ERANGE;
	vabits = 64 - tsz;
	if (vabits > 48 && !(g == 16 || ds))
		return -ERANGE; /* 52-bit VA needs 64K pages or LPA2 */
	lpa = ds || (g == 16 && ips == 6);
	/* the VA's upper bits must all equal bit 55 (bits [63:56] too unless the top byte is ignored) */
	top = va;
	if (r->tcr & (hi ? TCR_TBI1 : TCR_TBI0))
		top = (va & 0x00ffffffffffffffULL) | (hi ? 0xff00000000000000ULL : 0);
	if (vabits < 64) {
		u64 upper = top >> vabits;
		if (upper != (hi ? (~0ULL >> vabits) : 0))
			return -ERANGE;
	}
	stride = g - 3;
	levels = (vabits - g + stride - 1) / stride;
	level = 4 - (int)levels;
	{
		/* the first table holds 2^(bits left) entries: its base is aligned to its size (64 bytes at least) */
		unsigned int first_bits = vabits - g - stride * (levels - 1);
		unsigned int align = first_bits + 3 < 6 ? 6 : first_bits + 3;
		if (lpa) {
			table = (ttbr & 0x0000ffffffffffc0ULL) | (bits(ttbr, 5, 2) << 48);
			table &= ~((1ULL << align) - 1);
		} else {
			table = ttbr & 0x0000fffffffffffeULL & ~((1ULL << align) - 1);
		}
	}
	for (;; level++) {
		unsigned int shift = g + stride * (unsigned int)(3 - level);
		unsigned int width = level == 4 - (int)levels ? vabits - shift : stride;
		u64 idx = bits(va, shift + width - 1, shift), d;
		bool block_ok;

		if (read64(ctx, table + idx * 8, &d))
			return -EFAULT;
		if (!(d & 1))
			return -ENOENT;
		if (level == 3) {
			if (!(d & 2))
				return -ENOENT; /* bits 01 at level 3 are reserved */
			*res = (struct s1_result){ .pa = out_addr(d, g, lpa, g) | bits(va, g - 1, 0), .size = 1ULL << g,
						   .level = 3, .ttbr1 = hi };
			return 0;
		}
		if (d & 2) { /* a table */
			table = out_addr(d, g, lpa, g);
			continue;
		}
		/* a block: level 2 always; level 1 with 4K, or 64K with 52-bit PAs; level 0 with 4K and DS */
		block_ok = level == 2 || (level == 1 && (g == 12 || (g == 14 && ds) || (g == 16 && lpa))) ||
			   (level == 0 && g == 12 && ds);
		if (!block_ok)
			return -ENOENT;
		*res = (struct s1_result){ .pa = out_addr(d, g, lpa, shift) | bits(va, shift - 1, 0), .size = 1ULL << shift,
					   .level = level, .ttbr1 = hi };
		return 0;
	}
}

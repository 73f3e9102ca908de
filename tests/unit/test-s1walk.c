/* Unit tests: the stage-1 walker on hand-built page tables (4K/16K/64K granules, 39-52-bit VAs, blocks, errors). */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "kvm/s1walk.h"

/* A sparse fake guest RAM: descriptors stored by address; RAM is [ram_lo, ram_hi), anything else faults. */
#define MAXW 512
struct fake {
	u64 pa[MAXW], val[MAXW];
	int n, reads;
	u64 ram_lo, ram_hi, next;
};

static int rd(void *ctx, u64 pa, u64 *v)
{
	struct fake *f = ctx;
	f->reads++;
	if (pa < f->ram_lo || pa + 8 > f->ram_hi || (pa & 7))
		return -1;
	*v = 0;
	for (int i = 0; i < f->n; i++)
		if (f->pa[i] == pa)
			*v = f->val[i];
	return 0;
}

static void wr(struct fake *f, u64 pa, u64 v)
{
	for (int i = 0; i < f->n; i++)
		if (f->pa[i] == pa) {
			f->val[i] = v;
			return;
		}
	f->pa[f->n] = pa;
	f->val[f->n++] = v;
}

static void fake_init(struct fake *f, u64 lo, u64 hi)
{
	memset(f, 0, sizeof(*f));
	f->ram_lo = lo;
	f->ram_hi = hi;
	f->next = lo;
}

static u64 alloc_table(struct fake *f, u64 g)
{
	u64 t = (f->next + g - 1) & ~(g - 1);
	f->next = t + g;
	return t;
}

/* Encode an address into a descriptor the way the architecture lays it out. */
static u64 enc(u64 a, unsigned int gbits, int lpa)
{
	if (gbits == 16 && lpa)
		return (a & 0x0000ffffffff0000ULL) | (((a >> 48) & 0xf) << 12);
	if (lpa)
		return (a & 0x0003fffffffff000ULL) | (((a >> 50) & 3) << 8);
	return a;
}

/* Map va -> pa with a leaf at `leaf` level in a table tree rooted at root (start level `start`). */
static void map(struct fake *f, u64 root, int start, unsigned int gbits, unsigned int vabits, u64 va, u64 pa, int leaf,
		int lpa)
{
	unsigned int stride = gbits - 3;
	u64 table = root;
	for (int lvl = start;; lvl++) {
		unsigned int shift = gbits + stride * (unsigned int)(3 - lvl);
		unsigned int width = lvl == start ? vabits - shift : stride;
		u64 idx = (va >> shift) & ((1ULL << width) - 1), d = 0;
		u64 slot = table + idx * 8;
		if (lvl == leaf) {
			wr(f, slot, enc(pa, gbits, lpa) | (lvl == 3 ? 3 : 1) | (1 << 10));
			return;
		}
		rd(f, slot, &d);
		f->reads--;
		if (!(d & 1)) {
			u64 t = alloc_table(f, 1ULL << gbits);
			wr(f, slot, enc(t, gbits, lpa) | 3);
			table = t;
		} else if (gbits == 16 && lpa) {
			table = (d & 0x0000ffffffff0000ULL) | (((d >> 12) & 0xf) << 48);
		} else if (lpa) {
			table = (d & 0x0003fffffffff000ULL & ~((1ULL << gbits) - 1)) | (((d >> 8) & 3) << 50);
		} else {
			table = d & 0x0000fffffffff000ULL & ~((1ULL << gbits) - 1);
		}
	}
}

#define TG0_4K (0ULL << 14)
#define TG0_64K (1ULL << 14)
#define TG0_16K (2ULL << 14)
#define TG1_16K (1ULL << 30)
#define TG1_4K (2ULL << 30)
#define TG1_64K (3ULL << 30)
#define T0SZ(n) ((u64)(n))
#define T1SZ(n) ((u64)(n) << 16)

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	struct fake f;
	struct s1_result res;
	struct s1_regs r;
	u64 root, root1;
	int e;

	/* MMU off: identity, no reads */
	fake_init(&f, 0x40000000, 0x48000000);
	r = (struct s1_regs){ .sctlr = 0, .tcr = 0 };
	e = s1_translate(&r, 0x40080000, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0x40080000 && f.reads == 0, "MMU off: pa = va, no table read");

	/* 4K granule, 39-bit VA (T0SZ=25): hand-built three levels starting at level 1, one page */
	fake_init(&f, 0x40000000, 0x48000000);
	r = (struct s1_regs){ .sctlr = 1, .tcr = T0SZ(25) | TG0_4K | TG1_4K | T1SZ(25), .ttbr0 = 0x40001000 | (5ULL << 48) };
	/* va 0x40201234: L1 index 1, L2 index 1, L3 index 1 */
	wr(&f, 0x40001000 + 1 * 8, 0x40002000 | 3);
	wr(&f, 0x40002000 + 1 * 8, 0x40003000 | 3);
	wr(&f, 0x40003000 + 1 * 8, 0x4abcd000 | 3 | (1 << 10));
	e = s1_translate(&r, 0x40201234, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0x4abcd234 && res.level == 3 && res.size == 4096 && !res.ttbr1,
	      "4K/39-bit: hand-built page walk (ASID bits in TTBR ignored): pa 0x%llx", (unsigned long long)res.pa);
	CHECK(&uc, f.reads == 3, "4K/39-bit: three descriptors read (%d)", f.reads);
	/* a 2 MiB block at level 2 */
	wr(&f, 0x40002000 + 2 * 8, 0x40600000 | 1);
	e = s1_translate(&r, 0x40412345, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0x40612345 && res.level == 2 && res.size == (2ULL << 20), "4K: 2 MiB block at level 2");
	/* a 1 GiB block at level 1 */
	wr(&f, 0x40001000 + 2 * 8, 0xc0000000ULL | 1);
	e = s1_translate(&r, 0x80123456, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0xc0123456ULL && res.level == 1, "4K: 1 GiB block at level 1");
	/* invalid entry -> not mapped; a reserved level-3 encoding too */
	e = s1_translate(&r, 0x40202000, rd, &f, &res);
	CHECK(&uc, e == -ENOENT, "4K: invalid level-3 entry: -ENOENT (%d)", e);
	wr(&f, 0x40003000 + 2 * 8, 0x4abce000 | 1);
	e = s1_translate(&r, 0x40202000, rd, &f, &res);
	CHECK(&uc, e == -ENOENT, "4K: block encoding at level 3 is reserved: -ENOENT");
	/* a table pointing outside RAM */
	wr(&f, 0x40001000 + 3 * 8, 0x90000000ULL | 3);
	e = s1_translate(&r, 0xc0000000ULL, rd, &f, &res);
	CHECK(&uc, e == -EFAULT, "table outside RAM: -EFAULT (%d)", e);
	/* beyond the 39-bit range, in the hole between the halves */
	e = s1_translate(&r, 1ULL << 39, rd, &f, &res);
	CHECK(&uc, e == -ERANGE, "VA above 2^39 in TTBR0's half: -ERANGE");
	e = s1_translate(&r, 0xffff000000000000ULL, rd, &f, &res);
	CHECK(&uc, e == -ERANGE, "VA below TTBR1's 39-bit half: -ERANGE");
	/* top byte ignored only with TBI0 */
	e = s1_translate(&r, 0x5a00000040201234ULL, rd, &f, &res);
	CHECK(&uc, e == -ERANGE, "tagged pointer without TBI0: -ERANGE");
	r.tcr |= 1ULL << 37;
	e = s1_translate(&r, 0x5a00000040201234ULL, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0x4abcd234, "tagged pointer with TBI0 translates");
	/* EPD0 disables TTBR0 walks */
	r.tcr |= 1ULL << 7;
	e = s1_translate(&r, 0x40201234, rd, &f, &res);
	CHECK(&uc, e == -ERANGE, "EPD0 set: -ERANGE");

	/* 4K, 48-bit, both halves: TTBR1 for a kernel address, TTBR0 for a user one */
	fake_init(&f, 0x40000000, 0x50000000);
	root = alloc_table(&f, 4096);
	root1 = alloc_table(&f, 4096);
	r = (struct s1_regs){ .sctlr = 1, .tcr = T0SZ(16) | TG0_4K | T1SZ(16) | TG1_4K, .ttbr0 = root, .ttbr1 = root1 };
	map(&f, root1, 0, 12, 48, 0xffff800010001000ULL, 0x40a01000, 3, 0);
	map(&f, root, 0, 12, 48, 0x0000aaaabbbb0000ULL, 0x41000000, 3, 0);
	e = s1_translate(&r, 0xffff800010001abcULL, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0x40a01abc && res.ttbr1 && f.reads == 4, "4K/48-bit: TTBR1 kernel VA, four levels");
	e = s1_translate(&r, 0x0000aaaabbbb0010ULL, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0x41000010 && !res.ttbr1, "4K/48-bit: TTBR0 user VA");
	e = s1_translate(&r, 0xffff800010002000ULL, rd, &f, &res);
	CHECK(&uc, e == -ENOENT, "4K/48-bit: neighbour page unmapped");

	/* 16K granule: 47-bit TTBR1 (3 levels from 1) and 48-bit TTBR0 (4 levels, a 2-entry level 0), 32 MiB block */
	fake_init(&f, 0x40000000, 0x60000000);
	root = alloc_table(&f, 16384);
	root1 = alloc_table(&f, 16384);
	r = (struct s1_regs){ .sctlr = 1, .tcr = T0SZ(16) | TG0_16K | T1SZ(17) | TG1_16K, .ttbr0 = root, .ttbr1 = root1 };
	map(&f, root1, 1, 14, 47, 0xffff800008004000ULL, 0x44004000, 3, 0);
	map(&f, root, 0, 14, 48, 0x0000800000000000ULL - 0x4000, 0x45000000, 3, 0);
	map(&f, root1, 1, 14, 47, 0xffff800040000000ULL, 0x42000000, 2, 0);
	e = s1_translate(&r, 0xffff800008004321ULL, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0x44004321 && res.size == 16384 && f.reads == 3, "16K/47-bit TTBR1 page");
	e = s1_translate(&r, 0x00007fffffffc008ULL, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0x45000008, "16K/48-bit TTBR0: last page of the half (level 0 index 1)");
	e = s1_translate(&r, 0xffff800041234567ULL, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0x43234567 && res.size == (32ULL << 20) && res.level == 2, "16K: 32 MiB block");

	/* 64K granule: 42-bit (2 levels from 2), 48-bit (3 levels from 1), 512 MiB block */
	fake_init(&f, 0x40000000, 0x80000000);
	root = alloc_table(&f, 65536);
	root1 = alloc_table(&f, 65536);
	r = (struct s1_regs){ .sctlr = 1, .tcr = T0SZ(22) | TG0_64K | T1SZ(16) | TG1_64K, .ttbr0 = root, .ttbr1 = root1 };
	map(&f, root, 2, 16, 42, 0x123450000ULL, 0x46010000, 3, 0);
	map(&f, root1, 1, 16, 48, 0xffff000000010000ULL, 0x47000000, 3, 0);
	map(&f, root1, 1, 16, 48, 0xffff000060000000ULL, 0x60000000, 2, 0);
	e = s1_translate(&r, 0x12345fffeULL, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0x4601fffe && res.size == 65536 && f.reads == 2, "64K/42-bit: two levels");
	e = s1_translate(&r, 0xffff000000010008ULL, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0x47000008 && f.reads == 2 + 3, "64K/48-bit TTBR1: three levels");
	e = s1_translate(&r, 0xffff00007fffffffULL, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0x7fffffff && res.size == (512ULL << 20), "64K: 512 MiB block");

	/* 64K, 52-bit VA and PA (IPS=52): a 1024-entry level 1, PA bits [51:48] in descriptor bits [15:12] */
	fake_init(&f, 0x000f000000000000ULL, 0x000f000100000000ULL);
	root1 = alloc_table(&f, 65536);
	r = (struct s1_regs){ .sctlr = 1, .tcr = T0SZ(12) | TG0_64K | T1SZ(12) | TG1_64K | (6ULL << 32),
			      .ttbr1 = (root1 & 0x0000ffffffffffc0ULL) | (((root1 >> 48) & 0xf) << 2) };
	map(&f, root1, 1, 16, 52, 0xfff0000000020000ULL, 0x000f000012340000ULL, 3, 1);
	e = s1_translate(&r, 0xfff0000000020abcULL, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0x000f000012340abcULL && f.reads == 3, "64K/52-bit VA and PA: pa 0x%llx",
	      (unsigned long long)res.pa);
	e = s1_translate(&r, 0xffe0000000020abcULL, rd, &f, &res);
	CHECK(&uc, e == -ERANGE, "64K/52-bit: VA below the half: -ERANGE");

	/* 4K with LPA2 (DS=1), 52-bit VA: five levels from -1, OA[51:50] in bits [9:8] */
	fake_init(&f, 0x000c000000000000ULL, 0x000c000100000000ULL);
	root1 = alloc_table(&f, 4096);
	r = (struct s1_regs){ .sctlr = 1, .tcr = T1SZ(12) | TG1_4K | T0SZ(12) | (1ULL << 59) | (6ULL << 32),
			      .ttbr1 = (root1 & 0x0000ffffffffffc0ULL) | (((root1 >> 48) & 0xf) << 2) };
	map(&f, root1, -1, 12, 52, 0xfff8000000003000ULL, 0x000c000000777000ULL, 3, 1);
	e = s1_translate(&r, 0xfff8000000003008ULL, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0x000c000000777008ULL && f.reads == 5, "4K/LPA2 52-bit: five levels (reads %d)",
	      f.reads);
	/* without DS a 52-bit VA with 4K pages is reserved */
	r.tcr &= ~(1ULL << 59);
	e = s1_translate(&r, 0xfff8000000003008ULL, rd, &f, &res);
	CHECK(&uc, e == -ERANGE, "4K without DS: 52-bit VA refused");

	/* reserved granule encoding, absurd TxSZ */
	r = (struct s1_regs){ .sctlr = 1, .tcr = T1SZ(16) | (0ULL << 30) };
	e = s1_translate(&r, 0xffff000000000000ULL, rd, &f, &res);
	CHECK(&uc, e == -ERANGE, "TG1 = 0 (reserved): -ERANGE");
	r = (struct s1_regs){ .sctlr = 1, .tcr = T0SZ(63) };
	e = s1_translate(&r, 0, rd, &f, &res);
	CHECK(&uc, e == -ERANGE, "T0SZ 63: -ERANGE");
	/* a loop in the tables still ends: at most one descriptor per level */
	fake_init(&f, 0x40000000, 0x48000000);
	r = (struct s1_regs){ .sctlr = 1, .tcr = T0SZ(16) | TG0_4K, .ttbr0 = 0x40000000 };
	wr(&f, 0x40000000, 0x40000000 | 3);
	e = s1_translate(&r, 0, rd, &f, &res);
	CHECK(&uc, e == 0 && res.pa == 0x40000000 && f.reads == 4, "self-referencing table: ends after four reads (%d, %d)", e, f.reads);
	UNIT_DONE(&uc);
}

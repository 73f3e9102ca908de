/* Fuzz target: the stage-1 walker (debug/s1walk.c) over hostile guest page tables and translation registers. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "kvm/s1walk.h"

FZ_QUIET_INITIALIZE()

#define TABLES_BASE 0x40000000ULL /* the input's tail is guest RAM from here */

struct mem {
	const u8 *p;
	size_t len;
	int reads;
};

static int read64(void *ctx, u64 pa, u64 *val)
{
	struct mem *m = ctx;

	m->reads++;
	if (pa & 7 || pa < TABLES_BASE || pa - TABLES_BASE > m->len || m->len - (pa - TABLES_BASE) < 8)
		return -1;
	memcpy(val, m->p + (pa - TABLES_BASE), 8);
	return 0;
}

/*
 * The input: SCTLR, TCR, TTBR0, TTBR1, VA (little-endian u64s), then the RAM holding the tables. Descriptors point
 * anywhere; table addresses are pulled into the RAM by the TTBRs' and descriptors' own bits as the fuzzer finds them.
 */
int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz in = fz_init(data, size);
	struct s1_regs r;
	struct s1_result res;
	struct mem m;
	u64 va;
	int e;

	r.sctlr = fz_u64(&in);
	r.tcr = fz_u64(&in);
	r.ttbr0 = fz_u64(&in);
	r.ttbr1 = fz_u64(&in);
	va = fz_u64(&in);
	m = (struct mem){ .p = in.p, .len = in.left, .reads = 0 };
	e = s1_translate(&r, va, read64, &m, &res);
	if (m.reads > 5)
		abort(); /* at most five descriptors (levels -1 to 3) */
	if (e != 0 && e != -ERANGE && e != -ENOENT && e != -EFAULT)
		abort();
	if (e)
		return 0;
	/* a mapping: a power-of-two size from 4 KiB to 4 TiB (a 64K granule's level-1 block), va's offset kept */
	if (res.size < 4096 || res.size > (1ULL << 42) || (res.size & (res.size - 1)))
		abort();
	if ((res.pa & (res.size - 1)) != (va & (res.size - 1)))
		abort();
	if (res.level < -1 || res.level > 4 || (res.level == 4 && (r.sctlr & 1)))
		abort();
	if ((r.sctlr & 1) && res.pa >> 52)
		abort(); /* output addresses have at most 52 bits (with the MMU off, pa is va) */
	return 0;
}

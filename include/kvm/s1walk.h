/* The arm64 stage-1 translation walk (guest virtual -> guest physical) the gdb stub uses, as one pure function. */
#ifndef KVM_S1WALK_H
#define KVM_S1WALK_H

#include "kvm/util.h"

/* The guest's EL1 translation registers, as read with KVM_GET_ONE_REG. */
struct s1_regs {
	u64 sctlr, tcr, ttbr0, ttbr1;
};

/* Reads one 8-byte descriptor at a guest-physical address: 0, or non-zero when it is not in RAM. */
typedef int (*s1_read64)(void *ctx, u64 pa, u64 *val);

struct s1_result {
	u64 pa;         /* the translated address */
	u64 size;       /* bytes mapped from va's page/block start: the mapping is [va & ~(size-1), + size) */
	int level;      /* level of the final descriptor (-1..3); 4 when the MMU is off */
	bool ttbr1;     /* which table was walked */
};

/*
 * Translate va with the guest's tables. MMU off (SCTLR_EL1.M == 0): pa = va. Otherwise TTBR0 or TTBR1 by VA bit 55,
 * TCR_EL1's granule (4K/16K/64K), TxSZ (VA 25..52 bits, with TBI), block and page descriptors, 52-bit output
 * addresses (64K with IPS=52, or DS=1). Returns 0 with *res, or
 *   -ERANGE  va outside both halves (or the half's walks are disabled by EPDn, or TCR holds a reserved value),
 *   -ENOENT  an invalid descriptor (not mapped),
 *   -EFAULT  a table that is not in guest RAM (read64 failed).
 * Never reads more than 5 descriptors.
 */
int s1_translate(const struct s1_regs *r, u64 va, s1_read64 read64, void *ctx, struct s1_result *res);

#endif

/* 'lkvm debug' on the VM side: each vCPU's registers, EL1 system registers and the bytes at PC, read while the
 * vCPUs are paused for just that long; and the guest-virtual translation the gdb stub shares. */
#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/debug-dump.h"
#include "kvm/gdb.h"
#include "kvm/guest-mem.h"
#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"
#include "kvm/s1walk.h"

#define CORE(field) (KVM_REG_ARM64 | KVM_REG_ARM_CORE | KVM_REG_SIZE_U64 | (offsetof(struct kvm_regs, field) / sizeof(u32)))

static int read_desc(void *ctx, u64 pa, u64 *val)
{
	return guest_read(ctx, pa, val, 8);
}

int debug_translate(struct kvm_cpu *cpu, u64 va, u64 *pa, u64 *room)
{
	struct s1_regs r = { 0 };
	struct s1_result res;
	int e;

	if (kvm_cpu_get_reg(cpu, ARM64_SYS_REG(3, 0, 1, 0, 0), &r.sctlr) ||
	    kvm_cpu_get_reg(cpu, ARM64_SYS_REG(3, 0, 2, 0, 2), &r.tcr) ||
	    kvm_cpu_get_reg(cpu, ARM64_SYS_REG(3, 0, 2, 0, 0), &r.ttbr0) ||
	    kvm_cpu_get_reg(cpu, ARM64_SYS_REG(3, 0, 2, 0, 1), &r.ttbr1))
		return -EIO;
	e = s1_translate(&r, va, read_desc, &cpu->kvm->ram, &res);
	if (e)
		return e;
	*pa = res.pa;
	*room = res.size - (va & (res.size - 1));
	return 0;
}

static const char *mode_name(u64 pstate)
{
	switch (pstate & 0xf) {
	case 0x0: return "EL0t";
	case 0x4: return "EL1t";
	case 0x5: return "EL1h";
	case 0x8: return "EL2t";
	case 0x9: return "EL2h";
	default: return "?";
	}
}

static void dump_cpu(struct kvm_cpu *cpu, bool full, FILE *out)
{
	static const struct { const char *name; u64 id; } sys[] = {
		{ "SCTLR_EL1", ARM64_SYS_REG(3, 0, 1, 0, 0) }, { "TCR_EL1", ARM64_SYS_REG(3, 0, 2, 0, 2) },
		{ "TTBR0_EL1", ARM64_SYS_REG(3, 0, 2, 0, 0) }, { "TTBR1_EL1", ARM64_SYS_REG(3, 0, 2, 0, 1) },
		{ "VBAR_EL1", ARM64_SYS_REG(3, 0, 12, 0, 0) }, { "ESR_EL1", ARM64_SYS_REG(3, 0, 5, 2, 0) },
		{ "FAR_EL1", ARM64_SYS_REG(3, 0, 6, 0, 0) },   { "ELR_EL1", CORE(elr_el1) },
	};
	u64 pc = 0, pstate = 0, sp = 0, pa, room;
	u8 bytes[16];
	size_t got = 0;

	if (kvm_cpu_get_reg(cpu, CORE(regs.pc), &pc) || kvm_cpu_get_reg(cpu, CORE(regs.pstate), &pstate) ||
	    kvm_cpu_get_reg(cpu, (pstate & 1) ? CORE(sp_el1) : CORE(regs.sp), &sp)) {
		fprintf(out, "vcpu=%u error: its registers cannot be read\n", cpu->id);
		return;
	}
	fprintf(out, "vcpu=%u pc=0x%016llx sp=0x%016llx pstate=0x%08llx mode=%s\n", cpu->id, (unsigned long long)pc,
		(unsigned long long)sp, (unsigned long long)pstate, mode_name(pstate));
	if (!full)
		return;
	for (unsigned int i = 0; i < 31; i++) {
		u64 v = 0;
		kvm_cpu_get_reg(cpu, CORE(regs.regs[i]), &v);
		fprintf(out, "%s x%-2u 0x%016llx%s", i % 4 ? "" : " ", i, (unsigned long long)v, i % 4 == 3 || i == 30 ? "\n" : " ");
	}
	for (size_t i = 0; i < ARRAY_SIZE(sys); i++) {
		u64 v = 0;
		if (kvm_cpu_get_reg(cpu, sys[i].id, &v))
			fprintf(out, " %-9s (unreadable)\n", sys[i].name);
		else
			fprintf(out, " %-9s 0x%016llx\n", sys[i].name, (unsigned long long)v);
	}
	while (got < sizeof(bytes)) {
		u64 chunk;
		if (debug_translate(cpu, pc + got, &pa, &room))
			break;
		chunk = sizeof(bytes) - got < room ? sizeof(bytes) - got : room;
		if (guest_read(&cpu->kvm->ram, pa, bytes + got, chunk))
			break;
		got += chunk;
	}
	fprintf(out, " code at pc:");
	if (!got)
		fprintf(out, " (not mapped or not RAM)");
	for (size_t i = 0; i < got; i++)
		fprintf(out, " %02x", bytes[i]);
	fprintf(out, "\n");
}

int debug_dump(struct kvm *kvm, const char *vcpu, bool full, FILE *out)
{
	unsigned int first = 0, last = kvm->nr_cpus;
	bool was_paused;

	if (vcpu && *vcpu) {
		char *end;
		unsigned long k = strtoul(vcpu, &end, 10);
		if (*end || end == vcpu || k >= kvm->nr_cpus) {
			fprintf(out, "error: --vcpu %.20s: VM %s has vCPUs 0 to %u\n", vcpu, kvm->name, kvm->nr_cpus - 1);
			return -1;
		}
		first = (unsigned int)k;
		last = first + 1;
	}
	if (gdb_attached(kvm)) {
		fprintf(out, "error: VM %s has a debugger attached (--gdb); ask it ('monitor regs-el1', 'info registers')\n",
			kvm->name);
		return -1;
	}
	/* registers are read outside KVM_RUN: the vCPUs park for as long as the reads take */
	was_paused = kvm_is_paused(kvm);
	if (!was_paused)
		kvm_pause(kvm);
	for (unsigned int i = first; i < last; i++)
		dump_cpu(kvm->cpus[i], full, out);
	if (!was_paused)
		kvm_resume(kvm);
	return 0;
}

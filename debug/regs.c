/* The aarch64 register file as gdb sees it: target.xml, register n <-> KVM ONE_REG ids, the EL1 system registers. */
#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "gdb-int.h"
#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"

#define CORE(field) (KVM_REG_ARM64 | KVM_REG_ARM_CORE | (offsetof(struct kvm_regs, field) / sizeof(u32)))
#define SYSREG(op0, op1, crn, crm, op2) ARM64_SYS_REG(op0, op1, crn, crm, op2)

const char gdb_target_xml[] =
	"<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
	"<target><architecture>aarch64</architecture>"
	"<feature name=\"org.gnu.gdb.aarch64.core\">"
	"<reg name=\"x0\" bitsize=\"64\" type=\"int\" regnum=\"0\"/><reg name=\"x1\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"x2\" bitsize=\"64\" type=\"int\"/><reg name=\"x3\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"x4\" bitsize=\"64\" type=\"int\"/><reg name=\"x5\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"x6\" bitsize=\"64\" type=\"int\"/><reg name=\"x7\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"x8\" bitsize=\"64\" type=\"int\"/><reg name=\"x9\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"x10\" bitsize=\"64\" type=\"int\"/><reg name=\"x11\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"x12\" bitsize=\"64\" type=\"int\"/><reg name=\"x13\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"x14\" bitsize=\"64\" type=\"int\"/><reg name=\"x15\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"x16\" bitsize=\"64\" type=\"int\"/><reg name=\"x17\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"x18\" bitsize=\"64\" type=\"int\"/><reg name=\"x19\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"x20\" bitsize=\"64\" type=\"int\"/><reg name=\"x21\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"x22\" bitsize=\"64\" type=\"int\"/><reg name=\"x23\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"x24\" bitsize=\"64\" type=\"int\"/><reg name=\"x25\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"x26\" bitsize=\"64\" type=\"int\"/><reg name=\"x27\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"x28\" bitsize=\"64\" type=\"int\"/><reg name=\"x29\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"x30\" bitsize=\"64\" type=\"int\"/>"
	"<reg name=\"sp\" bitsize=\"64\" type=\"data_ptr\"/><reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\"/>"
	"<reg name=\"cpsr\" bitsize=\"32\" type=\"int\"/></feature>"
	"<feature name=\"org.gnu.gdb.aarch64.fpu\">"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/><vector id=\"v2u\" type=\"uint64\" count=\"2\"/>"
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/><vector id=\"v4u\" type=\"uint32\" count=\"4\"/>"
	"<vector id=\"v8u\" type=\"uint16\" count=\"8\"/><vector id=\"v16u\" type=\"uint8\" count=\"16\"/>"
	"<union id=\"vnd\"><field name=\"f\" type=\"v2d\"/><field name=\"u\" type=\"v2u\"/></union>"
	"<union id=\"vns\"><field name=\"f\" type=\"v4f\"/><field name=\"u\" type=\"v4u\"/></union>"
	"<union id=\"vnh\"><field name=\"u\" type=\"v8u\"/></union>"
	"<union id=\"vnb\"><field name=\"u\" type=\"v16u\"/></union>"
	"<union id=\"aarch64v\"><field name=\"d\" type=\"vnd\"/><field name=\"s\" type=\"vns\"/>"
	"<field name=\"h\" type=\"vnh\"/><field name=\"b\" type=\"vnb\"/><field name=\"q\" type=\"uint128\"/></union>"
	"<reg name=\"v0\" bitsize=\"128\" type=\"aarch64v\" regnum=\"34\"/>"
	"<reg name=\"v1\" bitsize=\"128\" type=\"aarch64v\"/><reg name=\"v2\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"v3\" bitsize=\"128\" type=\"aarch64v\"/><reg name=\"v4\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"v5\" bitsize=\"128\" type=\"aarch64v\"/><reg name=\"v6\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"v7\" bitsize=\"128\" type=\"aarch64v\"/><reg name=\"v8\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"v9\" bitsize=\"128\" type=\"aarch64v\"/><reg name=\"v10\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"v11\" bitsize=\"128\" type=\"aarch64v\"/><reg name=\"v12\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"v13\" bitsize=\"128\" type=\"aarch64v\"/><reg name=\"v14\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"v15\" bitsize=\"128\" type=\"aarch64v\"/><reg name=\"v16\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"v17\" bitsize=\"128\" type=\"aarch64v\"/><reg name=\"v18\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"v19\" bitsize=\"128\" type=\"aarch64v\"/><reg name=\"v20\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"v21\" bitsize=\"128\" type=\"aarch64v\"/><reg name=\"v22\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"v23\" bitsize=\"128\" type=\"aarch64v\"/><reg name=\"v24\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"v25\" bitsize=\"128\" type=\"aarch64v\"/><reg name=\"v26\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"v27\" bitsize=\"128\" type=\"aarch64v\"/><reg name=\"v28\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"v29\" bitsize=\"128\" type=\"aarch64v\"/><reg name=\"v30\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"v31\" bitsize=\"128\" type=\"aarch64v\"/>"
	"<reg name=\"fpsr\" bitsize=\"32\" type=\"int\"/><reg name=\"fpcr\" bitsize=\"32\" type=\"int\"/>"
	"</feature></target>";

static int one_reg(struct kvm_cpu *cpu, u64 id, void *val, bool set)
{
	struct kvm_one_reg r = { .id = id, .addr = (u64)(unsigned long)val };
	return ioctl(cpu->fd, set ? KVM_SET_ONE_REG : KVM_GET_ONE_REG, &r) < 0 ? -errno : 0;
}

/* Register n's ONE_REG id and its size in bytes (sp: SP_EL1 or SP_EL0 by PSTATE.M[0]). */
int gdb_reg_id(struct kvm_cpu *cpu, unsigned int n, u64 *id)
{
	if (n <= 30) {
		*id = CORE(regs.regs[n]) | KVM_REG_SIZE_U64;
		return 8;
	}
	if (n == 31) {
		u64 pstate = 0;
		one_reg(cpu, CORE(regs.pstate) | KVM_REG_SIZE_U64, &pstate, false);
		*id = ((pstate & 1) ? CORE(sp_el1) : CORE(regs.sp)) | KVM_REG_SIZE_U64;
		return 8;
	}
	if (n == 32) {
		*id = CORE(regs.pc) | KVM_REG_SIZE_U64;
		return 8;
	}
	if (n == 33) {
		*id = CORE(regs.pstate) | KVM_REG_SIZE_U64;
		return 4; /* cpsr is 32 bits for gdb; the register is 64 */
	}
	if (n >= 34 && n <= 65) {
		*id = CORE(fp_regs.vregs[n - 34]) | KVM_REG_SIZE_U128;
		return 16;
	}
	if (n == 66) {
		*id = CORE(fp_regs.fpsr) | KVM_REG_SIZE_U32;
		return 4;
	}
	if (n == 67) {
		*id = CORE(fp_regs.fpcr) | KVM_REG_SIZE_U32;
		return 4;
	}
	return -1;
}

/* Register n as little-endian bytes (up to 16): its size, or -1. */
int gdb_reg_get(struct kvm_cpu *cpu, unsigned int n, u8 *out)
{
	u8 buf[16] = { 0 };
	u64 id;
	int size = gdb_reg_id(cpu, n, &id);

	if (size < 0 || one_reg(cpu, id, buf, false))
		return -1;
	memcpy(out, buf, (size_t)size); /* arm64 is little-endian: the low bytes first */
	return size;
}

int gdb_reg_set(struct kvm_cpu *cpu, unsigned int n, const u8 *in)
{
	u8 buf[16] = { 0 };
	u64 id;
	int size = gdb_reg_id(cpu, n, &id);

	if (size < 0)
		return -1;
	if (n == 33 && one_reg(cpu, id, buf, false)) /* keep pstate's upper half */
		return -1;
	memcpy(buf, in, (size_t)size);
	return one_reg(cpu, id, buf, true) ? -1 : 0;
}

/* The EL1 system registers that say where a guest kernel is ("monitor regs-el1"): text into text[cap], its length. */
size_t gdb_regs_el1_text(struct kvm_cpu *cpu, char *text, size_t cap)
{
	static const struct { const char *name; u64 id; } regs[] = {
		{ "SCTLR_EL1", SYSREG(3, 0, 1, 0, 0) }, { "TCR_EL1", SYSREG(3, 0, 2, 0, 2) },
		{ "TTBR0_EL1", SYSREG(3, 0, 2, 0, 0) }, { "TTBR1_EL1", SYSREG(3, 0, 2, 0, 1) },
		{ "VBAR_EL1", SYSREG(3, 0, 12, 0, 0) }, { "ESR_EL1", SYSREG(3, 0, 5, 2, 0) },
		{ "FAR_EL1", SYSREG(3, 0, 6, 0, 0) }, { "ELR_EL1", CORE(elr_el1) | KVM_REG_SIZE_U64 },
		{ "SP_EL1", CORE(sp_el1) | KVM_REG_SIZE_U64 },
	};
	size_t t = 0;

	t += (size_t)snprintf(text + t, cap - t, "vCPU %u:\n", cpu->id);
	for (size_t i = 0; i < ARRAY_SIZE(regs); i++) {
		u64 v = 0;
		if (kvm_cpu_get_reg(cpu, regs[i].id, &v))
			t += (size_t)snprintf(text + t, cap - t, "  %-10s (unreadable)\n", regs[i].name);
		else
			t += (size_t)snprintf(text + t, cap - t, "  %-10s 0x%016llx\n", regs[i].name,
					      (unsigned long long)v);
	}
	return t < cap ? t : cap - 1;
}

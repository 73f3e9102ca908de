/* arm64 snapshot state: every ONE_REG register of each vCPU, MP state, events, and the vGICv3 registers. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"
#include "kvm/snapshot-arch.h"

#define MAX_REG_BYTES 256 /* the largest ONE_REG (SVE) is 2048 bits */
#define MAX_REGS 4096
#define PVTIME_IPA_NONE (~0ULL)

u64 arch_counter_freq(void)
{
	u64 f;
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
	return f;
}

static size_t reg_size(u64 id)
{
	return (size_t)1 << ((id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT);
}

int arch_save_vcpu(struct kvm_cpu *cpu, struct snap_writer *w, char *err, size_t errlen)
{
	struct kvm_reg_list probe = { .n = 0 }, *list;
	struct kvm_mp_state mp;
	struct kvm_vcpu_events ev;
	struct kvm_device_attr a;
	u64 ipa = PVTIME_IPA_NONE;
	u8 val[MAX_REG_BYTES];

	/* First call tells the count (E2BIG), second fills the list. */
	ioctl(cpu->fd, KVM_GET_REG_LIST, &probe);
	if (probe.n == 0 || probe.n > MAX_REGS) {
		snprintf(err, errlen, "vCPU %u: KVM_GET_REG_LIST gave %llu registers", cpu->id, (unsigned long long)probe.n);
		return -1;
	}
	list = calloc(1, sizeof(*list) + probe.n * sizeof(u64));
	if (!list)
		return snprintf(err, errlen, "out of memory"), -1;
	list->n = probe.n;
	if (ioctl(cpu->fd, KVM_GET_REG_LIST, list) < 0) {
		snprintf(err, errlen, "vCPU %u: KVM_GET_REG_LIST: %s", cpu->id, strerror(errno));
		free(list);
		return -1;
	}
	snapw_begin(w, SNAP_SEC_VCPU);
	snapw_u32(w, cpu->id);
	snapw_u32(w, (u32)list->n);
	for (u64 i = 0; i < list->n; i++) {
		u64 id = list->reg[i];
		size_t sz = reg_size(id);
		struct kvm_one_reg r = { .id = id, .addr = (u64)(unsigned long)val };
		if (sz > sizeof(val) || ioctl(cpu->fd, KVM_GET_ONE_REG, &r) < 0) {
			snprintf(err, errlen, "vCPU %u: cannot read register 0x%llx: %s", cpu->id, (unsigned long long)id,
				 sz > sizeof(val) ? "too large" : strerror(errno));
			free(list);
			return -1;
		}
		snapw_u64(w, id);
		snapw_u32(w, (u32)sz);
		snapw_put(w, val, sz);
	}
	free(list);
	if (ioctl(cpu->fd, KVM_GET_MP_STATE, &mp) < 0 || ioctl(cpu->fd, KVM_GET_VCPU_EVENTS, &ev) < 0) {
		snprintf(err, errlen, "vCPU %u: cannot read MP state / events: %s", cpu->id, strerror(errno));
		return -1;
	}
	snapw_u32(w, mp.mp_state);
	snapw_u32(w, (u32)sizeof(ev));
	snapw_put(w, &ev, sizeof(ev));
	a = (struct kvm_device_attr){ .group = KVM_ARM_VCPU_PVTIME_CTRL, .attr = KVM_ARM_VCPU_PVTIME_IPA,
				      .addr = (u64)(unsigned long)&ipa };
	if (cpu->kvm->arch.pvtime && ioctl(cpu->fd, KVM_GET_DEVICE_ATTR, &a) < 0)
		ipa = PVTIME_IPA_NONE;
	snapw_u64(w, ipa);
	return snapw_end(w) ? (snprintf(err, errlen, "write failed: %s", strerror(w->error)), -1) : 0;
}

int arch_vcpu_section_peek(const u8 *payload, size_t len, u32 *id, u64 *pvtime_ipa)
{
	struct snap_cursor c = snap_cursor(payload, len);
	u32 n;

	*id = cur_u32(&c);
	n = cur_u32(&c);
	if (c.bad || n > MAX_REGS)
		return -1;
	for (u32 i = 0; i < n && !c.bad; i++) {
		cur_u64(&c);
		cur_bytes(&c, cur_u32(&c));
	}
	cur_u32(&c);
	cur_bytes(&c, cur_u32(&c));
	*pvtime_ipa = cur_u64(&c);
	return c.bad || c.left ? -1 : 0;
}

int arch_restore_vcpu(struct kvm_cpu *cpu, const u8 *payload, size_t len, u64 cnt_delta, char *err, size_t errlen)
{
	struct snap_cursor c = snap_cursor(payload, len);
	struct kvm_mp_state mp;
	struct kvm_vcpu_events ev;
	u32 n, evlen;

	cur_u32(&c); /* id: matched by the caller */
	n = cur_u32(&c);
	for (u32 i = 0; i < n; i++) {
		u64 id = cur_u64(&c);
		u32 sz = cur_u32(&c);
		const u8 *v = cur_bytes(&c, sz);
		u8 buf[MAX_REG_BYTES];
		struct kvm_one_reg r = { .id = id, .addr = (u64)(unsigned long)buf };

		if (c.bad || sz != reg_size(id) || sz > sizeof(buf)) {
			snprintf(err, errlen, "vCPU %u: register entry %u is malformed", cpu->id, i);
			return -1;
		}
		memcpy(buf, v, sz);
		if (id == KVM_REG_ARM_TIMER_CNT && cnt_delta) {
			u64 cnt;
			memcpy(&cnt, buf, 8);
			cnt += cnt_delta;
			memcpy(buf, &cnt, 8);
		}
		if (ioctl(cpu->fd, KVM_SET_ONE_REG, &r) < 0) {
			snprintf(err, errlen,
				 "vCPU %u: register 0x%llx cannot be restored (%s): snapshot from an incompatible host CPU "
				 "or kernel?",
				 cpu->id, (unsigned long long)id, strerror(errno));
			return -1;
		}
	}
	mp.mp_state = cur_u32(&c);
	evlen = cur_u32(&c);
	{
		const u8 *e = cur_bytes(&c, evlen);
		if (c.bad || evlen != sizeof(ev)) {
			snprintf(err, errlen, "vCPU %u: events record is malformed", cpu->id);
			return -1;
		}
		memcpy(&ev, e, sizeof(ev));
	}
	cur_u64(&c); /* PV-time IPA: applied by the caller before the registers */
	if (c.bad || c.left) {
		snprintf(err, errlen, "vCPU %u: section has %zu trailing bytes", cpu->id, c.left);
		return -1;
	}
	if (ioctl(cpu->fd, KVM_SET_MP_STATE, &mp) < 0) {
		snprintf(err, errlen, "vCPU %u: MP state %u cannot be restored: %s", cpu->id, mp.mp_state, strerror(errno));
		return -1;
	}
	if (ioctl(cpu->fd, KVM_SET_VCPU_EVENTS, &ev) < 0) {
		snprintf(err, errlen, "vCPU %u: events cannot be restored: %s", cpu->id, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- vGICv3 ---- */

struct gic_reg {
	u32 group;
	u64 attr;
	bool wide; /* 64-bit value (CPU sysregs) */
};

/* The KVM attribute encoding of a vCPU's affinity: Aff3..Aff0 in bits 63..32. */
static u64 attr_mpidr(u64 mpidr)
{
	return (((mpidr >> 32) & 0xff) << 24 | (mpidr & 0xffffff)) << 32;
}

#define SYSREG(op0, op1, crn, crm, op2) ((op0) << 14 | (op1) << 11 | (crn) << 7 | (crm) << 3 | (op2))

/* Builds the register list in restore order (IIDR first, enables last). Returns the count. */
static size_t gic_reg_list(struct kvm *kvm, struct gic_reg *out, size_t max)
{
	const u32 nr = ARM_GIC_NR_IRQS;
	size_t n = 0;
#define ADD(g, a, w)                                                                                              \
	do {                                                                                                      \
		if (n < max)                                                                                      \
			out[n++] = (struct gic_reg){ (g), (a), (w) };                                             \
	} while (0)
#define DIST(off) ADD(KVM_DEV_ARM_VGIC_GRP_DIST_REGS, (off), false)

	DIST(0x0008); /* GICD_IIDR: must come first */
	DIST(0x0000); /* GICD_CTLR */
	for (unsigned int c = 0; c < kvm->nr_cpus; c++) {
		u64 m = attr_mpidr(kvm->arch.mpidr[c]);
		const u32 rd[] = { 0x0070, 0x0074, 0x0078, 0x007c, 0x0014, 0x0000 };    /* PROPBASER, PENDBASER, WAKER, CTLR */
		const u32 sgi[] = { 0x10080, 0x10d00, 0x10c00, 0x10c04, 0x10400, 0x10404, 0x10408, 0x1040c,
				    0x10410, 0x10414, 0x10418, 0x1041c, 0x10200, 0x10300, 0x10100 };
		for (size_t i = 0; i < ARRAY_SIZE(rd); i++)
			ADD(KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, m | rd[i], false);
		for (size_t i = 0; i < ARRAY_SIZE(sgi); i++)
			ADD(KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, m | sgi[i], false);
	}
	for (u32 i = 1; i < nr / 32; i++)
		DIST(0x0080 + 4 * i); /* IGROUPR */
	for (u32 i = 1; i < nr / 32; i++)
		DIST(0x0d00 + 4 * i); /* IGRPMODR */
	for (u32 i = 2; i < nr / 16; i++)
		DIST(0x0c00 + 4 * i); /* ICFGR */
	for (u32 i = 8; i < nr / 4; i++)
		DIST(0x0400 + 4 * i); /* IPRIORITYR */
	for (u32 irq = 32; irq < nr; irq++) {
		DIST(0x6000 + 8 * irq); /* IROUTER, low and high words */
		DIST(0x6000 + 8 * irq + 4);
	}
	for (u32 irq = 32; irq < nr; irq += 32)
		ADD(KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO,
		    ((u64)VGIC_LEVEL_INFO_LINE_LEVEL << KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT) | irq, false);
	for (u32 i = 1; i < nr / 32; i++)
		DIST(0x0200 + 4 * i); /* ISPENDR (latched state) */
	for (u32 i = 1; i < nr / 32; i++)
		DIST(0x0300 + 4 * i); /* ISACTIVER */
	for (u32 i = 1; i < nr / 32; i++)
		DIST(0x0100 + 4 * i); /* ISENABLER */
	for (unsigned int c = 0; c < kvm->nr_cpus; c++) {
		u64 m = attr_mpidr(kvm->arch.mpidr[c]);
		const u32 icc[] = {
			SYSREG(3, 0, 12, 12, 5), /* ICC_SRE_EL1 */
			SYSREG(3, 0, 12, 12, 4), /* ICC_CTLR_EL1 */
			SYSREG(3, 0, 4, 6, 0),   /* ICC_PMR_EL1 */
			SYSREG(3, 0, 12, 8, 3),  /* ICC_BPR0_EL1 */
			SYSREG(3, 0, 12, 12, 3), /* ICC_BPR1_EL1 */
			SYSREG(3, 0, 12, 8, 4), SYSREG(3, 0, 12, 8, 5), SYSREG(3, 0, 12, 8, 6), SYSREG(3, 0, 12, 8, 7),
			SYSREG(3, 0, 12, 9, 0), SYSREG(3, 0, 12, 9, 1), SYSREG(3, 0, 12, 9, 2), SYSREG(3, 0, 12, 9, 3),
			SYSREG(3, 0, 12, 12, 6), /* ICC_IGRPEN0_EL1 */
			SYSREG(3, 0, 12, 12, 7), /* ICC_IGRPEN1_EL1 */
		};
		for (size_t i = 0; i < ARRAY_SIZE(icc); i++)
			ADD(KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, m | icc[i], true);
	}
	if (kvm->arch.gic_type == IRQCHIP_GICV3_ITS) {
		/* CBASER first (writing it resets CREADR), IIDR before the tables, CTLR (enable) last. */
		const u32 its[] = { 0x0080, 0x0004, 0x0090, 0x0088, 0x0100, 0x0108, 0x0110, 0x0118,
				    0x0120, 0x0128, 0x0130, 0x0138 };
		for (size_t i = 0; i < ARRAY_SIZE(its); i++)
			ADD(KVM_DEV_ARM_VGIC_GRP_ITS_REGS, its[i], true);
		ADD(KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_ITS_RESTORE_TABLES, true); /* an action, not a register */
		ADD(KVM_DEV_ARM_VGIC_GRP_ITS_REGS, 0x0000, true);
	}
#undef DIST
#undef ADD
	return n;
}

static int gic_reg_rw(int fd, const struct gic_reg *g, u64 *val, bool set);

static int ctrl(int fd, u64 attr)
{
	struct kvm_device_attr a = { .group = KVM_DEV_ARM_VGIC_GRP_CTRL, .attr = attr };
	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

static int gic_access(struct kvm *kvm, const struct gic_reg *g, u64 *val, bool set)
{
	int fd = g->group == KVM_DEV_ARM_VGIC_GRP_ITS_REGS || g->group == KVM_DEV_ARM_VGIC_GRP_CTRL ?
			 kvm->arch.its_fd :
			 kvm->arch.gic_fd;

	if (g->group == KVM_DEV_ARM_VGIC_GRP_CTRL) /* the ITS table restore step */
		return set ? ctrl(fd, g->attr) : 0;
	return gic_reg_rw(fd, g, val, set);
}

static int gic_reg_rw(int fd, const struct gic_reg *g, u64 *val, bool set)
{
	u32 v32 = (u32)*val;
	struct kvm_device_attr a = { .group = g->group, .attr = g->attr,
				     .addr = g->wide ? (u64)(unsigned long)val : (u64)(unsigned long)&v32 };
	int r = ioctl(fd, set ? KVM_SET_DEVICE_ATTR : KVM_GET_DEVICE_ATTR, &a);
	if (!set && !g->wide)
		*val = v32;
	return r < 0 ? -errno : 0;
}

int arch_save_irqchip(struct kvm *kvm, struct snap_writer *w, char *err, size_t errlen)
{
	size_t max = 96 + kvm->nr_cpus * 40 + ARM_GIC_NR_IRQS * 4, n, kept = 0;
	struct gic_reg *regs;

	if (kvm->arch.gic_type == IRQCHIP_GICV2) {
		snprintf(err, errlen, "saving a VM with --irqchip gicv2 is not supported yet");
		return -1;
	}
	if (kvm->arch.gic_type == IRQCHIP_GICV3_ITS) {
		/* LPI pending bits and the ITS tables go to guest RAM, which is saved after this section. */
		int r = ctrl(kvm->arch.gic_fd, KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES);
		if (!r)
			r = ctrl(kvm->arch.its_fd, KVM_DEV_ARM_ITS_SAVE_TABLES);
		if (r) {
			snprintf(err, errlen, "cannot flush the vGIC/ITS tables to guest RAM: %s", strerror(-r));
			return -1;
		}
	}
	regs = calloc(max, sizeof(*regs));
	if (!regs)
		return snprintf(err, errlen, "out of memory"), -1;
	n = gic_reg_list(kvm, regs, max);
	snapw_begin(w, SNAP_SEC_IRQCHIP);
	snapw_u32(w, (u32)kvm->arch.gic_type);
	snapw_u32(w, ARM_GIC_NR_IRQS);
	for (size_t i = 0; i < n; i++) {
		u64 v = 0;
		/* Registers this KVM does not implement (e.g. extra AP0Rn) are simply absent from the snapshot. */
		if (gic_access(kvm, &regs[i], &v, false))
			continue;
		snapw_u32(w, regs[i].group);
		snapw_u32(w, regs[i].wide);
		snapw_u64(w, regs[i].attr);
		snapw_u64(w, v);
		kept++;
	}
	free(regs);
	pr_debug("saved %zu vGIC registers", kept);
	return snapw_end(w) ? (snprintf(err, errlen, "write failed: %s", strerror(w->error)), -1) : 0;
}

int arch_restore_irqchip(struct kvm *kvm, const u8 *payload, size_t len, char *err, size_t errlen)
{
	struct snap_cursor c = snap_cursor(payload, len);
	u32 type = cur_u32(&c), nr = cur_u32(&c);

	if (c.bad || type != (u32)kvm->arch.gic_type || nr != ARM_GIC_NR_IRQS) {
		snprintf(err, errlen, "interrupt controller section does not match this VM (type %u, %u IRQs)", type, nr);
		return -1;
	}
	while (c.left) {
		struct gic_reg g;
		u64 v;
		int r;

		g.group = cur_u32(&c);
		g.wide = cur_u32(&c) != 0;
		g.attr = cur_u64(&c);
		v = cur_u64(&c);
		if (c.bad || (g.group != KVM_DEV_ARM_VGIC_GRP_DIST_REGS && g.group != KVM_DEV_ARM_VGIC_GRP_REDIST_REGS &&
			      g.group != KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS && g.group != KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO &&
			      g.group != KVM_DEV_ARM_VGIC_GRP_ITS_REGS && g.group != KVM_DEV_ARM_VGIC_GRP_CTRL)) {
			snprintf(err, errlen, "interrupt controller section is malformed");
			return -1;
		}
		if ((g.group == KVM_DEV_ARM_VGIC_GRP_ITS_REGS || g.group == KVM_DEV_ARM_VGIC_GRP_CTRL) &&
		    (kvm->arch.its_fd < 0 || (g.group == KVM_DEV_ARM_VGIC_GRP_CTRL && g.attr != KVM_DEV_ARM_ITS_RESTORE_TABLES))) {
			snprintf(err, errlen, "interrupt controller section has ITS state this VM cannot take");
			return -1;
		}
		r = gic_access(kvm, &g, &v, true);
		if (r) {
			snprintf(err, errlen, "vGIC register (group %u, attr 0x%llx) cannot be restored: %s", g.group,
				 (unsigned long long)g.attr, strerror(-r));
			return -1;
		}
	}
	return 0;
}

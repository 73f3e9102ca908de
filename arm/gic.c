/* The in-kernel vGIC: GICv3 (optionally with an ITS) or GICv2, its addresses, its DT node, SPI injection. */
#include <errno.h>
#include <libfdt.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm/arm.h"
#include "kvm/kvm.h"

static int create_device_on(int vm_fd, u32 type, bool test)
{
	struct kvm_create_device cd = { .type = type, .flags = test ? KVM_CREATE_DEVICE_TEST : 0 };
	if (ioctl(vm_fd, KVM_CREATE_DEVICE, &cd) < 0)
		return -errno;
	return test ? 0 : (int)cd.fd;
}

static int create_device(struct kvm *kvm, u32 type, bool test)
{
	return create_device_on(kvm->vm_fd, type, test);
}

static int set_attr(int fd, u32 group, u64 attr, const void *val)
{
	struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (u64)(unsigned long)val };
	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

static const char *irqchip_name(enum irqchip_type t)
{
	switch (t) {
	case IRQCHIP_GICV3:
		return "gicv3";
	case IRQCHIP_GICV3_ITS:
		return "gicv3-its";
	case IRQCHIP_GICV2:
		return "gicv2";
	case IRQCHIP_GICV2M:
		return "gicv2m";
	default:
		return "auto";
	}
}

/*
 * Resolve --irqchip against what KVM can create. Runs before the kernel is even opened (kvmtool's order, which
 * kvm-unit-tests relies on), so without a VM yet it asks a short-lived scratch VM.
 */
/* Does a NIC hand its data path to the kernel (vhost=on) over virtio-pci? */
static bool wants_kernel_msi(const struct kvm_config *cfg)
{
	/* virtio-mmio wires the kernel's interrupts to the device's SPI; over PCI only MSI-X reaches an irqfd */
	return cfg->virtio_transport == VIRTIO_TRANSPORT_PCI && cfg->vhost_nets;
}

void gic_probe(struct kvm *kvm)
{
	enum irqchip_type want = kvm->cfg.irqchip;
	int fd = kvm->vm_fd, r;
	bool scratch = fd < 0;

	if (scratch) {
		unsigned long type = arm_vm_type(kvm, ARM_RAM_BASE + kvm->cfg.ram_mib * SZ_1M);
		do {
			fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, type);
		} while (fd < 0 && errno == EINTR);
		if (fd < 0)
			die("KVM_CREATE_VM failed: %s", strerror(errno));
	}
	if (want == IRQCHIP_AUTO) {
		if (create_device_on(fd, KVM_DEV_TYPE_ARM_VGIC_V3, true) == 0)
			/* vhost-net over PCI interrupts the guest through KVM (an irqfd) only by MSI-X: with INTx every
			 * interrupt would wake lkvm's worker, so such a VM takes the ITS where the host has one */
			want = wants_kernel_msi(&kvm->cfg) && create_device_on(fd, KVM_DEV_TYPE_ARM_VGIC_ITS, true) == 0
				       ? IRQCHIP_GICV3_ITS
				       : IRQCHIP_GICV3;
		else if (create_device_on(fd, KVM_DEV_TYPE_ARM_VGIC_V2, true) == 0)
			want = IRQCHIP_GICV2;
		else
			die("this host's KVM can create neither a GICv3 nor a GICv2 interrupt controller");
	} else if (want == IRQCHIP_GICV2 || want == IRQCHIP_GICV2M) {
		const char *what = want == IRQCHIP_GICV2M ? "gicv2m" : "gicv2";
		r = create_device_on(fd, KVM_DEV_TYPE_ARM_VGIC_V2, true);
		if (r)
			die("--irqchip %s: this host's KVM cannot create a GICv2 (%s; the host GIC has no "
			    "GICv2-compatible CPU interface); use --irqchip gicv3%s",
			    what, strerror(-r), want == IRQCHIP_GICV2M ? "-its for MSIs" : "");
		if (want == IRQCHIP_GICV2M)
			die("--irqchip gicv2m: lkvm has no GICv2m MSI frame; use --irqchip gicv2 (PCI devices then use "
			    "INTx) or gicv3-its");
	} else {
		r = create_device_on(fd, KVM_DEV_TYPE_ARM_VGIC_V3, true);
		if (r)
			die("--irqchip %s: this host's KVM cannot create a GICv3 (%s); try --irqchip gicv2",
			    irqchip_name(want), strerror(-r));
		if (want == IRQCHIP_GICV3_ITS) {
			r = create_device_on(fd, KVM_DEV_TYPE_ARM_VGIC_ITS, true);
			if (r)
				die("--irqchip gicv3-its: this host's KVM cannot create an ITS (%s); use --irqchip gicv3",
				    strerror(-r));
		}
	}
	if (scratch)
		close(fd);
	if (want == IRQCHIP_GICV2 && kvm->cfg.nr_cpus > GICV2_MAX_CPUS)
		die("-c/--cpus %u: a GICv2 supports at most %d vCPUs; use fewer or --irqchip gicv3", kvm->cfg.nr_cpus,
		    GICV2_MAX_CPUS);
	kvm->arch.gic_type = want;
}

static int gic_gen_fdt(struct device *dev, void *fdt, const struct fdt_ctx *ctx)
{
	struct kvm *kvm = dev->priv;
	char name[40];
	bool v2 = kvm->arch.gic_type == IRQCHIP_GICV2;
	u64 reg[4];

	snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)ARM_GIC_DIST_BASE);
	reg[0] = cpu_to_fdt64(ARM_GIC_DIST_BASE);
	reg[1] = cpu_to_fdt64(ARM_GIC_DIST_SIZE);
	reg[2] = cpu_to_fdt64(v2 ? ARM_GIC_V2_CPU_BASE : ARM_GIC_REDIST_BASE);
	reg[3] = cpu_to_fdt64(v2 ? ARM_GIC_V2_CPU_SIZE : ARM_GIC_REDIST_STRIDE * ctx->nr_cpus);
	if (fdt_begin_node(fdt, name) ||
	    fdt_property_string(fdt, "compatible", v2 ? "arm,cortex-a15-gic" : "arm,gic-v3") ||
	    fdt_property_cell(fdt, "#interrupt-cells", 3) || fdt_property(fdt, "interrupt-controller", NULL, 0) ||
	    fdt_property(fdt, "reg", reg, sizeof(reg)) || fdt_property_cell(fdt, "phandle", ctx->gic_phandle) ||
	    fdt_property_cell(fdt, "#address-cells", 2) || fdt_property_cell(fdt, "#size-cells", 2) ||
	    fdt_property(fdt, "ranges", NULL, 0))
		return -1;
	if (kvm->arch.gic_type == IRQCHIP_GICV3_ITS) {
		u64 its[2] = { cpu_to_fdt64(ARM_GIC_ITS_BASE), cpu_to_fdt64(ARM_GIC_ITS_SIZE) };
		snprintf(name, sizeof(name), "msi-controller@%llx", (unsigned long long)ARM_GIC_ITS_BASE);
		if (fdt_begin_node(fdt, name) || fdt_property_string(fdt, "compatible", "arm,gic-v3-its") ||
		    fdt_property(fdt, "msi-controller", NULL, 0) || fdt_property_cell(fdt, "#msi-cells", 1) ||
		    fdt_property(fdt, "reg", its, sizeof(its)) || fdt_property_cell(fdt, "phandle", FDT_PHANDLE_ITS) ||
		    fdt_end_node(fdt))
			return -1;
	}
	return fdt_end_node(fdt) ? -1 : 0;
}

void gic_setup(struct kvm *kvm)
{
	bool v2 = kvm->arch.gic_type == IRQCHIP_GICV2;
	u32 nr_irqs = ARM_GIC_NR_IRQS;
	u64 dist = ARM_GIC_DIST_BASE, second = v2 ? ARM_GIC_V2_CPU_BASE : ARM_GIC_REDIST_BASE;
	int fd, r;

	fd = create_device(kvm, v2 ? KVM_DEV_TYPE_ARM_VGIC_V2 : KVM_DEV_TYPE_ARM_VGIC_V3, false);
	if (fd < 0)
		die("cannot create the %s: %s", v2 ? "GICv2" : "GICv3", strerror(-fd));
	kvm->arch.gic_fd = fd;
	r = set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, v2 ? KVM_VGIC_V2_ADDR_TYPE_DIST : KVM_VGIC_V3_ADDR_TYPE_DIST, &dist);
	if (!r)
		r = set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			     v2 ? KVM_VGIC_V2_ADDR_TYPE_CPU : KVM_VGIC_V3_ADDR_TYPE_REDIST, &second);
	if (!r)
		r = set_attr(fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs);
	if (!r)
		r = set_attr(fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (r)
		die("cannot initialise the vGIC: %s", strerror(-r));

	if (kvm->arch.gic_type == IRQCHIP_GICV3_ITS) {
		u64 its = ARM_GIC_ITS_BASE;
		fd = create_device(kvm, KVM_DEV_TYPE_ARM_VGIC_ITS, false);
		if (fd < 0)
			die("cannot create the GICv3 ITS: %s", strerror(-fd));
		kvm->arch.its_fd = fd;
		r = set_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, &its);
		if (!r)
			r = set_attr(fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
		if (r)
			die("cannot initialise the GICv3 ITS: %s", strerror(-r));
	}

	kvm->arch.gic_dev = (struct device){ .name = "gic", .gen_fdt = gic_gen_fdt, .priv = kvm };
	device_register(&kvm->devices, &kvm->arch.gic_dev);
}

int kvm_irq_line(struct kvm *kvm, unsigned int spi, int level)
{
	struct kvm_irq_level irq = {
		.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | ((32 + spi) & KVM_ARM_IRQ_NUM_MASK),
		.level = level,
	};
	if (ioctl(kvm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		return -errno;
	return 0;
}

bool gic_has_its(struct kvm *kvm)
{
	return kvm->arch.gic_type == IRQCHIP_GICV3_ITS && kvm->arch.its_fd >= 0;
}

/* Build the arm64 guest device tree with libfdt: fixed machine nodes here, devices add their own. */
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "kvm/arm-layout.h"
#include "kvm/fdt.h"

#define CHECK(x)                                                                                                  \
	do {                                                                                                      \
		int _r = (x);                                                                                     \
		if (_r < 0) {                                                                                     \
			snprintf(err, errlen, "device tree: %s: %s", #x, fdt_strerror(_r));                       \
			return -1;                                                                                \
		}                                                                                                 \
	} while (0)

static int prop_reg64(void *fdt, u64 addr, u64 size)
{
	u64 cells[2] = { cpu_to_fdt64(addr), cpu_to_fdt64(size) };
	return fdt_property(fdt, "reg", cells, sizeof(cells));
}

/* PPI interrupt flags: GICv2 also wants the mask of CPUs the PPI is wired to. */
static u32 ppi_flags(const struct fdt_desc *d, u32 trigger)
{
	if (!d->gicv2)
		return trigger;
	return trigger | (((1u << (d->nr_cpus > 8 ? 8 : d->nr_cpus)) - 1) << 8);
}

static int gen_cpus(void *fdt, const struct fdt_desc *d, char *err, size_t errlen)
{
	CHECK(fdt_begin_node(fdt, "cpus"));
	CHECK(fdt_property_cell(fdt, "#address-cells", 1));
	CHECK(fdt_property_cell(fdt, "#size-cells", 0));
	for (unsigned int i = 0; i < d->nr_cpus; i++) {
		char name[32];
		u32 aff = (u32)(d->mpidr[i] & 0xffffff);
		snprintf(name, sizeof(name), "cpu@%x", aff);
		CHECK(fdt_begin_node(fdt, name));
		CHECK(fdt_property_string(fdt, "device_type", "cpu"));
		CHECK(fdt_property_string(fdt, "compatible", "arm,arm-v8"));
		CHECK(fdt_property_string(fdt, "enable-method", "psci"));
		CHECK(fdt_property_cell(fdt, "reg", aff));
		CHECK(fdt_end_node(fdt));
	}
	CHECK(fdt_end_node(fdt));
	return 0;
}

static int gen_fixed(void *fdt, const struct fdt_desc *d, char *err, size_t errlen)
{
	static const char psci_compat[] = "arm,psci-1.0\0arm,psci-0.2";
	char name[48];
	u32 timer[12];
	const u32 ppis[4] = { ARM_PPI_TIMER_SEC, ARM_PPI_TIMER_PHYS, ARM_PPI_TIMER_VIRT, ARM_PPI_TIMER_HYP };

	snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)d->ram_base);
	CHECK(fdt_begin_node(fdt, name));
	CHECK(fdt_property_string(fdt, "device_type", "memory"));
	CHECK(prop_reg64(fdt, d->ram_base, d->ram_size));
	CHECK(fdt_end_node(fdt));

	if (d->pvtime_size) {
		CHECK(fdt_begin_node(fdt, "reserved-memory"));
		CHECK(fdt_property_cell(fdt, "#address-cells", 2));
		CHECK(fdt_property_cell(fdt, "#size-cells", 2));
		CHECK(fdt_property(fdt, "ranges", NULL, 0));
		snprintf(name, sizeof(name), "stolen-time@%llx", (unsigned long long)d->pvtime_base);
		CHECK(fdt_begin_node(fdt, name));
		CHECK(prop_reg64(fdt, d->pvtime_base, d->pvtime_size));
		CHECK(fdt_property(fdt, "no-map", NULL, 0));
		CHECK(fdt_end_node(fdt));
		CHECK(fdt_end_node(fdt));
	}

	if (gen_cpus(fdt, d, err, errlen))
		return -1;

	CHECK(fdt_begin_node(fdt, "psci"));
	CHECK(fdt_property(fdt, "compatible", psci_compat, sizeof(psci_compat)));
	CHECK(fdt_property_string(fdt, "method", "hvc"));
	CHECK(fdt_end_node(fdt));

	for (int i = 0; i < 4; i++) {
		timer[i * 3] = cpu_to_fdt32(FDT_GIC_PPI);
		timer[i * 3 + 1] = cpu_to_fdt32(ppis[i]);
		timer[i * 3 + 2] = cpu_to_fdt32(ppi_flags(d, FDT_IRQ_LEVEL_HIGH));
	}
	CHECK(fdt_begin_node(fdt, "timer"));
	CHECK(fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
	CHECK(fdt_property(fdt, "interrupts", timer, sizeof(timer)));
	CHECK(fdt_property(fdt, "always-on", NULL, 0));
	CHECK(fdt_end_node(fdt));

	if (d->pmu) {
		u32 irq[3] = { cpu_to_fdt32(FDT_GIC_PPI), cpu_to_fdt32(ARM_PPI_PMU),
			       cpu_to_fdt32(ppi_flags(d, FDT_IRQ_LEVEL_HIGH)) };
		CHECK(fdt_begin_node(fdt, "pmu"));
		CHECK(fdt_property_string(fdt, "compatible", "arm,armv8-pmuv3"));
		CHECK(fdt_property(fdt, "interrupts", irq, sizeof(irq)));
		CHECK(fdt_end_node(fdt));
	}
	return 0;
}

static int gen_chosen(void *fdt, const struct fdt_desc *d, char *err, size_t errlen)
{
	CHECK(fdt_begin_node(fdt, "chosen"));
	CHECK(fdt_property_string(fdt, "bootargs", d->bootargs ? d->bootargs : ""));
	if (d->stdout_path)
		CHECK(fdt_property_string(fdt, "stdout-path", d->stdout_path));
	if (d->initrd_size) {
		CHECK(fdt_property_u64(fdt, "linux,initrd-start", d->initrd_start));
		CHECK(fdt_property_u64(fdt, "linux,initrd-end", d->initrd_start + d->initrd_size));
	}
	CHECK(fdt_end_node(fdt));
	if (d->stdout_path) {
		CHECK(fdt_begin_node(fdt, "aliases"));
		CHECK(fdt_property_string(fdt, "serial0", d->stdout_path));
		CHECK(fdt_end_node(fdt));
	}
	return 0;
}

int fdt_build(void *buf, size_t size, const struct fdt_desc *d, struct device_list *devs, char *err, size_t errlen)
{
	struct fdt_ctx ctx = { .gic_phandle = FDT_PHANDLE_GIC, .gicv2 = d->gicv2, .nr_cpus = d->nr_cpus };

	CHECK(fdt_create(buf, (int)size));
	CHECK(fdt_finish_reservemap(buf));
	CHECK(fdt_begin_node(buf, ""));
	CHECK(fdt_property_string(buf, "compatible", "linux,dummy-virt"));
	CHECK(fdt_property_string(buf, "model", "lkvm arm64 virtual machine"));
	CHECK(fdt_property_cell(buf, "#address-cells", 2));
	CHECK(fdt_property_cell(buf, "#size-cells", 2));
	CHECK(fdt_property_cell(buf, "interrupt-parent", FDT_PHANDLE_GIC));

	if (gen_fixed(buf, d, err, errlen) || gen_chosen(buf, d, err, errlen))
		return -1;
	for (struct device *dev = devs ? devs->head : NULL; dev; dev = dev->next) {
		if (dev->gen_fdt && dev->gen_fdt(dev, buf, &ctx)) {
			snprintf(err, errlen, "device tree: node for device '%s' failed (buffer too small?)", dev->name);
			return -1;
		}
	}
	CHECK(fdt_end_node(buf));
	CHECK(fdt_finish(buf));
	CHECK(fdt_pack(buf));
	return 0;
}

/* Unit tests: the device tree the builder produces, read back with libfdt. */
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kvm/arm-layout.h"
#include "kvm/fdt.h"
#include "kvm/image.h"

static int fake_uart_fdt(struct device *dev, void *fdt, const struct fdt_ctx *ctx)
{
	u64 reg[2] = { cpu_to_fdt64(dev->mmio_base), cpu_to_fdt64(dev->mmio_size) };
	(void)ctx;
	return fdt_begin_node(fdt, "uart@9000000") || fdt_property_string(fdt, "compatible", "ns16550a") ||
	       fdt_property(fdt, "reg", reg, sizeof(reg)) || fdt_prop_spi(fdt, 1, FDT_IRQ_LEVEL_HIGH) ||
	       fdt_end_node(fdt);
}

static u64 reg_u64(const void *fdt, const char *path, int idx)
{
	int len, off = fdt_path_offset(fdt, path);
	const u8 *p = off < 0 ? NULL : fdt_getprop(fdt, off, "reg", &len);
	fdt64_t v;
	if (!p || len < (idx + 1) * 8)
		return ~0ULL;
	memcpy(&v, p + idx * 8, 8); /* properties are only 4-byte aligned */
	return fdt64_to_cpu(v);
}

static const char *str(const void *fdt, const char *path, const char *prop)
{
	int off = fdt_path_offset(fdt, path);
	return off < 0 ? NULL : fdt_getprop(fdt, off, prop, NULL);
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	u64 mpidr[2] = { 0x80000000, 0x80000001 };
	struct device uart = { .name = "uart", .mmio_base = 0x9000000, .mmio_size = 0x1000, .gen_fdt = fake_uart_fdt };
	struct device_list devs = { 0 };
	struct fdt_desc d = {
		.ram_base = 0x80000000, .ram_size = 256 << 20, .nr_cpus = 2, .mpidr = mpidr,
		.bootargs = "console=ttyS0 quiet", .initrd_start = 0x8f000000, .initrd_size = 0x100000,
		.pvtime_base = 0x8fff0000, .pvtime_size = 0x10000, .pmu = true, .stdout_path = "/uart@9000000",
	};
	void *buf = calloc(1, FDT_MAX_SIZE);
	char err[256];
	const fdt32_t *p;
	int len, off;

	CHECK(&uc, device_register(&devs, &uart) == 0, "device registered");
	CHECK(&uc, fdt_build(buf, FDT_MAX_SIZE, &d, &devs, err, sizeof(err)) == 0, "built");
	CHECK(&uc, fdt_check_header(buf) == 0, "valid header");
	CHECK(&uc, reg_u64(buf, "/memory@80000000", 0) == 0x80000000 && reg_u64(buf, "/memory@80000000", 1) == 256 << 20,
	      "memory node");
	CHECK(&uc, fdt_path_offset(buf, "/cpus/cpu@0") >= 0 && fdt_path_offset(buf, "/cpus/cpu@1") >= 0,
	      "two cpu nodes");
	CHECK(&uc, str(buf, "/cpus/cpu@1", "enable-method") && !strcmp(str(buf, "/cpus/cpu@1", "enable-method"), "psci"),
	      "cpus use psci");
	CHECK(&uc, str(buf, "/psci", "method") && !strcmp(str(buf, "/psci", "method"), "hvc"), "psci method hvc");
	off = fdt_path_offset(buf, "/timer");
	p = off >= 0 ? fdt_getprop(buf, off, "interrupts", &len) : NULL;
	CHECK(&uc, p && len == 48 && fdt32_to_cpu(p[1]) == ARM_PPI_TIMER_SEC && fdt32_to_cpu(p[7]) == ARM_PPI_TIMER_VIRT,
	      "timer PPIs");
	CHECK(&uc, str(buf, "/pmu", "compatible") && !strcmp(str(buf, "/pmu", "compatible"), "arm,armv8-pmuv3"),
	      "pmu node");
	CHECK(&uc, str(buf, "/chosen", "bootargs") && !strcmp(str(buf, "/chosen", "bootargs"), "console=ttyS0 quiet"),
	      "bootargs");
	CHECK(&uc, str(buf, "/chosen", "stdout-path") && !strcmp(str(buf, "/chosen", "stdout-path"), "/uart@9000000"),
	      "stdout-path");
	CHECK(&uc, str(buf, "/aliases", "serial0") != NULL, "serial0 alias");
	off = fdt_path_offset(buf, "/chosen");
	p = fdt_getprop(buf, off, "linux,initrd-end", &len);
	{
		fdt64_t v = 0;
		if (p && len == 8)
			memcpy(&v, p, 8);
		CHECK(&uc, fdt64_to_cpu(v) == 0x8f100000, "initrd range");
	}
	CHECK(&uc, reg_u64(buf, "/reserved-memory/stolen-time@8fff0000", 0) == 0x8fff0000, "stolen-time region");
	off = fdt_path_offset(buf, "/reserved-memory/stolen-time@8fff0000");
	CHECK(&uc, off >= 0 && fdt_getprop(buf, off, "no-map", NULL) != NULL, "stolen-time region is no-map");
	CHECK(&uc, str(buf, "/uart@9000000", "compatible") != NULL, "device added its own node");
	off = fdt_path_offset(buf, "/");
	p = fdt_getprop(buf, off, "interrupt-parent", &len);
	CHECK(&uc, p && fdt32_to_cpu(*p) == FDT_PHANDLE_GIC, "root interrupt-parent");

	/* No PV time, no initrd: those nodes/props vanish. */
	d.pvtime_size = 0;
	d.initrd_size = 0;
	d.pmu = false;
	CHECK(&uc, fdt_build(buf, FDT_MAX_SIZE, &d, &devs, err, sizeof(err)) == 0, "rebuilt");
	CHECK(&uc, fdt_path_offset(buf, "/reserved-memory") < 0 && fdt_path_offset(buf, "/pmu") < 0,
	      "no reserved-memory, no pmu");
	CHECK(&uc, !fdt_getprop(buf, fdt_path_offset(buf, "/chosen"), "linux,initrd-start", NULL), "no initrd props");

	/* Too small a buffer fails cleanly. */
	CHECK(&uc, fdt_build(buf, 256, &d, &devs, err, sizeof(err)) == -1, "small buffer refused: %s", err);
	free(buf);
	UNIT_DONE(&uc);
}

/* C side of boot: parse the DTB, bring up the console and conduit, run guest_main, power off; secondaries go to smp.c. */
#include <boot.h>
#include <console.h>
#include <printf.h>
#include <smccc.h>
#include <smp.h>

static struct fdt boot_fdt;

void boot_primary(uint64_t dtb)
{
	int rc = fdt_init(&boot_fdt, dtb);

	console_init(rc ? NULL : &boot_fdt);
	smccc_init(rc ? NULL : &boot_fdt);
	if (rc) {
		/* Without a DT there is no console either; still try, then power off. */
		printf("BOOT FAIL: no valid device tree at %#lx (error %d)\n", dtb, rc);
		psci_system_off();
	}
	guest_main(&boot_fdt);
	psci_system_off();
}

void boot_secondary(uint64_t slot)
{
	smp_secondary_run(slot);
	psci_cpu_off();
}

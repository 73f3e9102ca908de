/* Boot glue: per-CPU stacks, the entry points in start.S, and the program hook each guest/NAME.c provides. */
#ifndef GUEST_BOOT_H
#define GUEST_BOOT_H

#define GUEST_MAX_CPUS		64
#define GUEST_STACK_SIZE	8192	/* per CPU, 16-byte aligned */

#ifndef __ASSEMBLER__
#include <fdt.h>

/* Each program defines this; it runs on the boot CPU with the console up. Returning powers the VM off. */
void guest_main(const struct fdt *fdt);

noreturn void boot_primary(uint64_t dtb);
noreturn void boot_secondary(uint64_t slot);
void secondary_entry(void);	/* PSCI CPU_ON entry point (start.S); context id = stack slot */
#endif

#endif

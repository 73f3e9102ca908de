/* SMCCC calls through the conduit the DT names (default hvc), and the PSCI CPU_ON/CPU_OFF/SYSTEM_OFF wrappers. */
#include <arch.h>
#include <printf.h>
#include <smccc.h>
#include <string.h>

static bool use_smc;	/* written once by CPU 0 before any secondary starts */

void smccc_init(const struct fdt *fdt)
{
	const char *method = NULL;

	if (fdt && fdt->blob)
		method = fdt_getprop_str(fdt, fdt_find_path(fdt, "/psci", 5), "method");
	use_smc = method && !strcmp(method, "smc");
}

const char *smccc_conduit(void)
{
	return use_smc ? "smc" : "hvc";
}

/* SMCCC 1.0 lets the callee clobber x4-x17, so they are declared clobbered whatever version answers. */
uint64_t smccc_call(uint32_t fid, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 asm("x0") = fid;
	register uint64_t x1 asm("x1") = a1;
	register uint64_t x2 asm("x2") = a2;
	register uint64_t x3 asm("x3") = a3;

	if (use_smc)
		asm volatile("smc #0"
			     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
			     :
			     : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16",
			       "x17", "memory");
	else
		asm volatile("hvc #0"
			     : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
			     :
			     : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16",
			       "x17", "memory");
	return x0;
}

int64_t psci_cpu_on(uint64_t mpidr, uint64_t entry, uint64_t context)
{
	return (int64_t)smccc_call(PSCI_CPU_ON, mpidr, entry, context);
}

void psci_cpu_off(void)
{
	smccc_call(PSCI_CPU_OFF, 0, 0, 0);
	for (;;)
		asm volatile("wfi");
}

void psci_system_off(void)
{
	uint64_t ret = smccc_call(PSCI_SYSTEM_OFF, 0, 0, 0);

	printf("SYSTEM_OFF returned %ld; halting\n", (int64_t)ret);
	for (;;)
		asm volatile("wfi");
}

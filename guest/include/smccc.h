/* SMCCC function IDs and the hypercall conduit (hvc or smc, from the DT's /psci method), plus the PSCI calls we use. */
#ifndef GUEST_SMCCC_H
#define GUEST_SMCCC_H

#include <fdt.h>

#define SMCCC_VERSION		0x80000000u
#define SMCCC_ARCH_FEATURES	0x80000001u
#define SMCCC_RET_SUCCESS	0UL
#define SMCCC_RET_NOT_SUPPORTED	(~0UL)	/* -1 */

#define PV_TIME_FEATURES	0xC5000020u
#define PV_TIME_ST		0xC5000021u

#define PSCI_VERSION		0x84000000u
#define PSCI_CPU_OFF		0x84000002u
#define PSCI_CPU_ON		0xC4000003u
#define PSCI_SYSTEM_OFF		0x84000008u

void smccc_init(const struct fdt *fdt);
const char *smccc_conduit(void);
uint64_t smccc_call(uint32_t fid, uint64_t a1, uint64_t a2, uint64_t a3);

int64_t psci_cpu_on(uint64_t mpidr, uint64_t entry, uint64_t context);
noreturn void psci_cpu_off(void);
noreturn void psci_system_off(void);

#endif

/* EL1 exception handling: an hvc/smc that traps as UNDEFINED (no EL2/EL3 to take it) returns NOT_SUPPORTED; anything
 * else is reported on the console and the VM is powered off. */
#include <arch.h>
#include <exception.h>
#include <printf.h>
#include <smccc.h>

#define ESR_EC(esr) ((esr) >> 26)
#define EC_UNKNOWN 0x00
#define VEC_CUR_SPX_SYNC 4
#define INSN_HVC0 0xd4000002u
#define INSN_SMC0 0xd4000003u
#define INSN_CALL_MASK 0xffe0001fu	/* hvc/smc with any immediate */

void exception_handler(struct exc_frame *frame, uint64_t vec)
{
	uint64_t esr = read_sysreg(esr_el1);
	uint64_t far = read_sysreg(far_el1);

	if (vec == VEC_CUR_SPX_SYNC && ESR_EC(esr) == EC_UNKNOWN && !(frame->elr & 3)) {
		uint32_t insn = *(const volatile uint32_t *)frame->elr & INSN_CALL_MASK;

		if (insn == INSN_HVC0 || insn == INSN_SMC0) {
			frame->x[0] = SMCCC_RET_NOT_SUPPORTED;
			frame->elr += 4;
			return;
		}
	}
	printf("GUEST EXCEPTION cpu mpidr=%#lx vec=%lu esr=%#lx elr=%#lx far=%#lx spsr=%#lx\n", cpu_mpidr(), vec, esr,
	       frame->elr, far, frame->spsr);
	psci_system_off();
}

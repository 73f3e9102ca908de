/* The gdb stub's internal state, shared by debug/gdb.c (thread, vCPU control) and debug/commands.c (packets). */
#ifndef LKVM_DEBUG_GDB_INT_H
#define LKVM_DEBUG_GDB_INT_H

#include <linux/kvm.h>
#include <pthread.h>
#include <sys/types.h>

#include "kvm/gdb-packet.h"
#include "kvm/gdb.h"
#include "kvm/migrate.h"

#define GDB_MAX_SW_BP 64
#define GDB_MAX_HW 16

struct kvm_cpu;

struct gdb_sw_bp {
	u64 va, pa;
	u32 orig;
};

struct gdb_hw {
	bool used;
	int type; /* 1 breakpoint, 2 write, 3 read, 4 access watchpoint */
	u64 addr, len;
};

enum gdb_stop_kind { STOP_NONE = 0, STOP_TRAP, STOP_INT, STOP_WATCH };

struct gdb {
	struct kvm *kvm;
	struct migrate_addr addr;
	dev_t sock_dev;
	ino_t sock_ino;
	int lfd, cfd, wake_fd;
	pthread_t thread;
	bool thread_started;
	bool wait; /* --gdb-wait: the vCPUs hold until a debugger continues them */

	/* Under kvm->pause_lock: which vCPUs may run, how many hold in before_run, the pending stop. */
	bool *go, *step;
	unsigned int held;
	u32 dbg_gen;          /* bumped when the debug registers or flags change; each vCPU applies them */
	u32 *applied_gen;
	bool dbg_on;          /* a debugger is attached: KVM_GUESTDBG_ENABLE | USE_SW_BP (| USE_HW) */
	struct kvm_guest_debug_arch hwregs;
	bool stop_pending;
	enum gdb_stop_kind stop_kind;
	unsigned int stop_cpu;
	u64 stop_addr;

	/* gdb thread only: */
	bool attached, running, noack, quit;
	unsigned int g_cpu, c_cpu; /* Hg / Hc (0-based vCPU) */
	struct gdb_rx rx;
	char *last;                /* the last reply framed, for a '-' */
	size_t last_len;
	struct gdb_sw_bp bp[GDB_MAX_SW_BP];
	unsigned int nr_bp;
	struct gdb_hw hw_bp[GDB_MAX_HW], hw_wp[GDB_MAX_HW];
	unsigned int max_hw_bp, max_hw_wp;
};

/* gdb.c */
void gdb_send(struct gdb *g, const char *payload);
void gdb_stop_all(struct gdb *g);
/* Let the vCPUs run: every one (step_cpu < 0), or step_cpu single-stepping and the others only if others_go. */
void gdb_resume(struct gdb *g, int step_cpu, bool others_go);
void gdb_debug_changed(struct gdb *g);
void gdb_detach(struct gdb *g);

/* regs.c */
#define GDB_NR_REGS 68 /* x0-x30, sp, pc, cpsr, v0-v31, fpsr, fpcr */
extern const char gdb_target_xml[];
/* Register n's ONE_REG id into *id: its size in bytes as gdb sees it, or -1 (sp: SP_EL1 or SP_EL0 by PSTATE.M[0]). */
int gdb_reg_id(struct kvm_cpu *cpu, unsigned int n, u64 *id);
int gdb_reg_get(struct kvm_cpu *cpu, unsigned int n, u8 *out); /* little-endian bytes (up to 16): size, or -1 */
int gdb_reg_set(struct kvm_cpu *cpu, unsigned int n, const u8 *in); /* 0 or -1 */
size_t gdb_regs_el1_text(struct kvm_cpu *cpu, char *text, size_t cap);

/* commands.c */
void gdb_handle_packet(struct gdb *g, char *pkt, size_t len);
void gdb_stop_reply(struct gdb *g, char *out, size_t cap);
void gdb_remove_all_bps(struct gdb *g);

#endif

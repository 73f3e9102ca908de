/* PV stolen time (Arm DEN0057A): the --pvtime policy, the region's size, and the KVM programming. */
#ifndef KVM_PVTIME_H
#define KVM_PVTIME_H

#include "kvm/util.h"

#define PVTIME_RECORD_SIZE 64ULL /* one record per vCPU; KVM wants 64-byte alignment */
#define PVTIME_REGION_ALIGN 0x10000ULL

/* The stolen-time record layout (little-endian). */
#define PVTIME_REC_REVISION 0 /* u32 */
#define PVTIME_REC_ATTRIBUTES 4 /* u32 */
#define PVTIME_REC_STOLEN_TIME 8 /* u64, nanoseconds */

enum pvtime_mode { PVTIME_AUTO = 0, PVTIME_ON, PVTIME_OFF };

enum pvtime_decision {
	PVTIME_ENABLE,       /* host supports it and it was not switched off */
	PVTIME_DISABLE,      /* switched off */
	PVTIME_DISABLE_WARN, /* auto on a host without support: warn once, boot without */
	PVTIME_REFUSE,       /* on, but the host cannot: one-line error, no guest */
};

/* arg NULL (bare --pvtime) means on. Returns 0 or -EINVAL. */
int pvtime_parse_mode(const char *arg, enum pvtime_mode *mode);
enum pvtime_decision pvtime_decide(enum pvtime_mode mode, bool host_cap, bool vcpu_attr);
/* Human-readable reason the host lacks support, for the warning / error line. */
const char *pvtime_missing_reason(bool host_cap, bool vcpu_attr);
/* Bytes of guest RAM reserved for nr_cpus records (64 KiB granules). */
u64 pvtime_region_size(unsigned int nr_cpus);

struct kvm;
/* Probe host support (KVM_CAP_STEAL_TIME). */
bool pvtime_host_cap(struct kvm *kvm);
/* After the vCPUs exist and RAM is mapped: check the attribute and set every vCPU's record IPA. */
int pvtime_setup_vcpus(struct kvm *kvm);
/* Restore: set each vCPU's record IPA (ipas[i], validated) without touching the records. */
int pvtime_restore_vcpus(struct kvm *kvm, const u64 *ipas);
/* Read vCPU i's stolen-time total (ns) from its record in guest RAM; -1 if unavailable. */
int pvtime_read_stolen(struct kvm *kvm, unsigned int cpu, u64 *ns);

#endif

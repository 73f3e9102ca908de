/* KVM's binary statistics of a vCPU (KVM_GET_STATS_FD, Linux 5.14+): the counters of exits KVM handles itself. */
#ifndef KVM_KVM_STATS_H
#define KVM_KVM_STATS_H

#include <stddef.h>

#include "kvm/util.h"

/* The statistics lkvm reads, by their KVM names (arm64's vCPU stats; the generic halt_wait_ns). */
enum kvm_stat {
	KSTAT_EXITS,       /* "exits": every exit from the guest */
	KSTAT_MMIO_USER,   /* "mmio_exit_user": MMIO passed to lkvm */
	KSTAT_MMIO_KERNEL, /* "mmio_exit_kernel": MMIO handled in KVM (vGIC, ioeventfd) */
	KSTAT_HVC,         /* "hvc_exit_stat": hypercalls (PSCI, PV time, SMCCC) */
	KSTAT_WFE,         /* "wfe_exit_stat" */
	KSTAT_WFI,         /* "wfi_exit_stat" */
	KSTAT_SIGNAL,      /* "signal_exits": KVM_RUN interrupted by a signal */
	KSTAT_HALT_WAIT_NS, /* "halt_wait_ns": time blocked in WFI waiting for an interrupt */
	KSTAT_NR
};

#define KSTAT_MISSING 0xffffffffu

struct kvm_stats {
	int fd;                 /* -1: not available (an older kernel) */
	u64 data_offset;        /* where the values start in the fd */
	u32 data_size;          /* bytes of values read at once (up to the last one we use) */
	u32 off[KSTAT_NR];      /* byte offset of each value from data_offset, KSTAT_MISSING if KVM lacks it */
};

/*
 * Locate the statistics in a stats fd's first bytes (header and descriptors, as read from offset 0). Fills off[]
 * and data_offset/data_size; 0, or -1 when the blob is malformed or truncated (nothing is trusted beyond len).
 */
int kvm_stats_layout(const u8 *blob, size_t len, struct kvm_stats *st);
/* Open and lay out the stats of the vCPU fd (KVM_GET_STATS_FD); st->fd is -1 when the host has none. */
void kvm_stats_open(int vcpu_fd, struct kvm_stats *st);
/* Read the current values (missing ones read 0); 0, or -1 when st has no fd or the read failed. */
int kvm_stats_read(const struct kvm_stats *st, u64 v[KSTAT_NR]);

#endif

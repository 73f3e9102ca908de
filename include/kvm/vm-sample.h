/* Client side of the control socket's "sample": a VM's state and per-vCPU counters, and rates between two samples. */
#ifndef KVM_VM_SAMPLE_H
#define KVM_VM_SAMPLE_H

#include <stddef.h>

#include "kvm/util.h"

struct vm_vcpu_snap {
	u64 stolen_ns, delay_ns, guest_ns, exits, user_exits;
	bool pvtime; /* stolen_ns is the PV-time record; otherwise steal is measured by the host run delay */
};

struct vm_snap {
	char name[72], state[16];
	int pid;
	unsigned int cpus;
	u64 now_ns, uptime_ns, rss_kib;
	unsigned int nv; /* vCPU lines read (at most cpus) */
	struct vm_vcpu_snap *v;
};

/* What happened between two samples of the same VM. */
struct vm_rates {
	double interval_s;
	double steal_max, steal_mean; /* percent of the interval, over the vCPUs */
	double exits_per_s;           /* all vCPUs */
	unsigned int nv;
	double *steal;                /* per vCPU, percent (nv entries, malloc'd) */
	const char *source;           /* "pvtime", "run_delay" or "mixed" */
};

/* Parse a "sample" answer; 0, or -1 when it is not one (s is then empty). Free with vm_snap_free(). */
int vm_snap_parse(const char *text, struct vm_snap *s);
void vm_snap_free(struct vm_snap *s);
/* Ask the VM behind the control socket at path (or named name) for a sample. 0, -1 with err, or CONTROL_STALE. */
int vm_snap_fetch_path(const char *path, struct vm_snap *s, char *err, size_t errlen);
int vm_snap_fetch(const char *name, struct vm_snap *s, char *err, size_t errlen);
/* Rates from a to b (b later; same VM and process). -1 if they do not belong together. Free with vm_rates_free(). */
int vm_rates_compute(const struct vm_snap *a, const struct vm_snap *b, struct vm_rates *r);
void vm_rates_free(struct vm_rates *r);

/* One sparkline cell for a percentage: 8 Unicode block levels, or ASCII "_.-~=*#@" (fixed 0-100 % scale). */
const char *vm_spark_cell(double pct, bool ascii);

#endif

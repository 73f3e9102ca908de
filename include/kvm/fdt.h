/* Device-tree builder for arm64 guests: machine description in, flattened DTB out (host-testable). */
#ifndef KVM_FDT_H
#define KVM_FDT_H

#include <stddef.h>

#include "kvm/devices.h"
#include "kvm/util.h"

struct fdt_desc {
	u64 ram_base, ram_size;
	unsigned int nr_cpus;
	const u64 *mpidr; /* nr_cpus MPIDR values; the affinity bits become cpu@N reg */
	const char *bootargs;
	u64 initrd_start, initrd_size; /* size 0: no initrd */
	u64 pvtime_base, pvtime_size;  /* size 0: no stolen-time region */
	bool pmu;
	bool gicv2;
	const char *stdout_path; /* e.g. "/uart@9000000", or NULL */
};

/* Build the DTB into buf (size bytes). Returns 0, or -1 with a reason in err. */
int fdt_build(void *buf, size_t size, const struct fdt_desc *d, struct device_list *devs, char *err, size_t errlen);

#endif

/* Secondary CPUs: list them from /cpus, start one with CPU_ON, hand it a function, wait for its "done" flag. */
#include <arch.h>
#include <boot.h>
#include <smccc.h>
#include <smp.h>
#include <string.h>

/* Shared with the started CPU. MMU and caches are off on every CPU, so plain volatile accesses reach memory directly;
 * the dsb makes each write complete before the next step (CPU_ON, or the "done" flag) can be observed. */
static volatile struct {
	smp_fn fn;
	void *arg;
	uint32_t done;
} handoff;

static bool is_cpu_node(const struct fdt *fdt, int node)
{
	const char *type = fdt_getprop_str(fdt, node, "device_type");

	if (type)
		return !strcmp(type, "cpu");
	return !strncmp(fdt_node_name(fdt, node), "cpu@", 4);
}

int smp_list_cpus(const struct fdt *fdt, struct cpu_desc *cpus, int max)
{
	int parent = fdt_find_path(fdt, "/cpus", 5), n = 0;
	uint64_t reg, size;

	if (parent < 0)
		return -1;
	for (int node = fdt_first_child(fdt, parent); node >= 0; node = fdt_next_sibling(fdt, node)) {
		if (!is_cpu_node(fdt, node))
			continue;
		if (n < max) {
			cpus[n].node = node;
			cpus[n].mpidr = fdt_get_reg(fdt, parent, node, 0, &reg, &size) ? reg : ~0UL;
		}
		n++;
	}
	return n;
}

int smp_cpu_index(const struct fdt *fdt, uint64_t mpidr)
{
	struct cpu_desc cpus[GUEST_MAX_CPUS];
	int n = smp_list_cpus(fdt, cpus, GUEST_MAX_CPUS);

	for (int i = 0; i < n && i < GUEST_MAX_CPUS; i++)
		if (cpus[i].mpidr == mpidr)
			return i;
	return -1;
}

int64_t smp_run_on(uint64_t mpidr, unsigned int slot, smp_fn fn, void *arg, uint64_t timeout_ticks)
{
	uint64_t start;
	int64_t ret;

	if (slot == 0 || slot >= GUEST_MAX_CPUS)
		return SMP_TIMEOUT;
	handoff.fn = fn;
	handoff.arg = arg;
	handoff.done = 0;
	dsb(sy);
	ret = psci_cpu_on(mpidr, (uint64_t)secondary_entry, slot);
	if (ret)
		return ret;
	start = timer_now();
	while (!handoff.done) {
		if (timer_now() - start > timeout_ticks)
			return SMP_TIMEOUT;
		cpu_relax();
	}
	dsb(sy);
	return 0;
}

void smp_secondary_run(uint64_t slot)
{
	(void)slot;
	dsb(sy);
	handoff.fn(handoff.arg);
	dsb(sy);
	handoff.done = 1;
	dsb(sy);
	sev();
}

/* PV stolen-time probe (Arm DEN0057A, KVM ABI): on every vCPU in turn, checks discovery, PV_TIME_ST against the DT's
 * /reserved-memory stolen-time node and the record's contents; prints PASS/FAIL lines and "PROBE DONE pass=P fail=F". */
#include <arch.h>
#include <boot.h>
#include <console.h>
#include <printf.h>
#include <smccc.h>
#include <smp.h>
#include <string.h>

#define SMCCC_VERSION_1_1	0x10001UL
#define RECORD_STRIDE		64	/* one record per vCPU, DT order */
#define RECORD_REVISION		0	/* u32 @0 */
#define RECORD_ATTRIBUTES	4	/* u32 @4 */
#define RECORD_STOLEN		8	/* u64 @8, ns */
#define SAMPLES			1000
#define SAMPLE_SPAN_MS		200
#define SECONDARY_TIMEOUT_S	30

struct probe {
	const struct fdt *fdt;
	int ncpus;			/* cpu nodes under /cpus */
	int region_node;		/* /reserved-memory/stolen-time@..., -1 if absent */
	bool region_reg, region_nomap;
	uint64_t base, size;
	int expected_cpu;		/* DT index the boot CPU asked to run the checks */
	volatile uint32_t pass, fail;	/* shared by all CPUs; they run one at a time */
};

static void report(struct probe *p, int cpu, bool ok, const char *fmt, ...) printf_like(4, 5);

static void report(struct probe *p, int cpu, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s cpu%d: ", ok ? "PASS" : "FAIL", cpu);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (ok)
		p->pass++;
	else
		p->fail++;
}

static void check_zero(struct probe *p, int cpu, const char *what, uint64_t got)
{
	if (got == SMCCC_RET_SUCCESS)
		report(p, cpu, true, "%s = 0", what);
	else
		report(p, cpu, false, "%s (got %#lx, want 0)", what, got);
}

static void find_region(struct probe *p)
{
	int parent = fdt_find_path(p->fdt, "/reserved-memory", 16);

	p->region_node = -1;
	for (int node = fdt_first_child(p->fdt, parent); node >= 0; node = fdt_next_sibling(p->fdt, node)) {
		if (strncmp(fdt_node_name(p->fdt, node), "stolen-time@", 12))
			continue;
		p->region_node = node;
		p->region_reg = fdt_get_reg(p->fdt, parent, node, 0, &p->base, &p->size);
		p->region_nomap = fdt_getprop(p->fdt, node, "no-map", NULL) != NULL;
		return;
	}
}

/* The DT's description of the records, as seen from this CPU; true if PV_TIME_ST can be compared against it. */
static bool check_region(struct probe *p, int cpu)
{
	uint64_t need = (uint64_t)(p->ncpus > 0 ? p->ncpus : 1) * RECORD_STRIDE;
	const char *name;

	if (p->region_node < 0) {
		report(p, cpu, false, "dt stolen-time node (got none, want /reserved-memory/stolen-time@...)");
		return false;
	}
	name = fdt_node_name(p->fdt, p->region_node);
	if (!p->region_reg) {
		report(p, cpu, false, "dt %s reg (got unreadable, want <base size>)", name);
		return false;
	}
	if (p->region_nomap && !(p->base % RECORD_STRIDE) && p->size >= need)
		report(p, cpu, true, "dt %s reg=<%#lx %#lx> no-map", name, p->base, p->size);
	else
		report(p, cpu, false, "dt %s (got reg=<%#lx %#lx> no-map=%s, want no-map, base %d-byte aligned, "
		       "size >= %#lx for %d cpus)", name, p->base, p->size, p->region_nomap ? "yes" : "no",
		       RECORD_STRIDE, need, p->ncpus);
	return true;
}

static void check_stolen_time(struct probe *p, int cpu, uint64_t rec)
{
	const volatile uint64_t *stolen = (const volatile uint64_t *)(rec + RECORD_STOLEN);
	uint64_t gap = timer_freq() * SAMPLE_SPAN_MS / 1000 / SAMPLES;
	uint64_t first, prev, cur = 0, bad_val = 0, start = timer_now();
	int bad = -1;

	dcache_clean_inval(stolen);
	first = prev = *stolen;
	for (int i = 1; i < SAMPLES; i++) {
		timer_wait_ticks(gap);
		dcache_clean_inval(stolen);	/* KVM writes through a cacheable mapping; we read with the MMU off */
		cur = *stolen;
		if (bad >= 0)
			continue;
		if (cur < prev) {
			bad = i;
			bad_val = cur;
		} else {
			prev = cur;
		}
	}
	if (bad < 0)
		report(p, cpu, true, "stolen_time non-decreasing over %d reads in %lu ms first=%lu last=%lu ns", SAMPLES,
		       (timer_now() - start) * 1000 / timer_freq(), first, cur);
	else
		report(p, cpu, false, "stolen_time non-decreasing first=%lu last=%lu ns (got %lu at read %d, want >= %lu)",
		       first, cur, bad_val, bad, prev);
}

/* The pvtime checks for the calling CPU. */
static void run_checks(void *arg)
{
	struct probe *p = arg;
	uint64_t mpidr = cpu_mpidr(), ver, feat, rec, want;
	int idx = smp_cpu_index(p->fdt, mpidr);
	int cpu = idx >= 0 ? idx : p->expected_cpu;
	bool have_region;

	if (idx < 0)
		report(p, cpu, false, "dt cpu node (got none for mpidr %#lx, want a /cpus node with that reg)", mpidr);

	ver = smccc_call(SMCCC_VERSION, 0, 0, 0);
	if (ver != SMCCC_RET_NOT_SUPPORTED && !(ver >> 31) && ver >= SMCCC_VERSION_1_1)
		report(p, cpu, true, "smccc_version = %#lx (>= 1.1)", ver);
	else
		report(p, cpu, false, "smccc_version (got %#lx, want >= %#lx)", ver, SMCCC_VERSION_1_1);

	feat = smccc_call(SMCCC_ARCH_FEATURES, PV_TIME_FEATURES, 0, 0);
	if (feat != SMCCC_RET_NOT_SUPPORTED) {
		check_zero(p, cpu, "arch_features(PV_TIME_FEATURES)", feat);
		feat = smccc_call(PV_TIME_FEATURES, PV_TIME_ST, 0, 0);
		if (feat != SMCCC_RET_NOT_SUPPORTED)
			check_zero(p, cpu, "pv_time_features(PV_TIME_ST)", feat);
		else
			printf("INFO cpu%d: PV_TIME_FEATURES(PV_TIME_ST) answered NOT_SUPPORTED\n", cpu);
	} else {
		printf("INFO cpu%d: SMCCC_ARCH_FEATURES(PV_TIME_FEATURES) answered NOT_SUPPORTED\n", cpu);
	}
	if (feat == SMCCC_RET_NOT_SUPPORTED) {
		printf("PVTIME NOT_SUPPORTED cpu%d\n", cpu);
		report(p, cpu, true, "pvtime reported not supported");
		return;
	}

	have_region = check_region(p, cpu);
	rec = smccc_call(PV_TIME_ST, 0, 0, 0);
	if (have_region && idx >= 0) {
		want = p->base + (uint64_t)idx * RECORD_STRIDE;
		if (rec == want)
			report(p, cpu, true, "pv_time_st = %#lx (stolen-time base + %d*%d)", rec, idx, RECORD_STRIDE);
		else
			report(p, cpu, false, "pv_time_st (got %#lx, want %#lx = base + %d*%d)", rec, want, idx,
			       RECORD_STRIDE);
	} else {
		report(p, cpu, false, "pv_time_st = %#lx (got no DT record to compare with, want one)", rec);
	}
	/* Only a record inside the DT's region is read: any other address could be MMIO or unmapped. */
	if (!have_region || rec < p->base || rec - p->base > p->size || p->size - (rec - p->base) < RECORD_STRIDE ||
	    rec % RECORD_STRIDE) {
		report(p, cpu, false, "record in stolen-time region (got %#lx, want a %d-byte aligned record inside "
		       "[%#lx, %#lx))", rec, RECORD_STRIDE, p->base, p->base + p->size);
		return;
	}
	report(p, cpu, true, "record [%#lx, %#lx) inside stolen-time region [%#lx, %#lx)", rec, rec + RECORD_STRIDE,
	       p->base, p->base + p->size);

	dcache_clean_inval((const void *)rec);
	{
		uint32_t rev = *(const volatile uint32_t *)(rec + RECORD_REVISION);
		uint32_t attr = *(const volatile uint32_t *)(rec + RECORD_ATTRIBUTES);

		if (!rev && !attr)
			report(p, cpu, true, "record revision=0 attributes=0");
		else
			report(p, cpu, false, "record header (got revision=%u attributes=%u, want 0 and 0)", rev, attr);
	}
	check_stolen_time(p, cpu, rec);
}

void guest_main(const struct fdt *fdt)
{
	static struct probe probe;
	struct cpu_desc cpus[GUEST_MAX_CPUS];
	const struct console_info *con = console_get();
	uint64_t self = cpu_mpidr();
	int boot_idx;

	probe.fdt = fdt;
	probe.ncpus = smp_list_cpus(fdt, cpus, GUEST_MAX_CPUS);
	find_region(&probe);
	boot_idx = smp_cpu_index(fdt, self);
	printf("PROBE pvtime: console=%s@%#lx conduit=%s cpus=%d boot-mpidr=%#lx stolen-time=", console_kind_name(con->kind),
	       con->base, smccc_conduit(), probe.ncpus, self);
	if (probe.region_node >= 0 && probe.region_reg)
		printf("%#lx+%#lx%s\n", probe.base, probe.size, probe.region_nomap ? " no-map" : "");
	else
		printf("none\n");

	probe.expected_cpu = boot_idx >= 0 ? boot_idx : 0;
	run_checks(&probe);

	for (int i = 0; i < probe.ncpus; i++) {
		int64_t ret;

		if (i >= GUEST_MAX_CPUS - 1) {
			report(&probe, i, false, "cpu_on (got more cpus than %d stack slots, want fewer)",
			       GUEST_MAX_CPUS - 1);
			break;
		}
		if (i == boot_idx)
			continue;
		probe.expected_cpu = i;
		ret = smp_run_on(cpus[i].mpidr, (unsigned int)i + 1, run_checks, &probe,
				 SECONDARY_TIMEOUT_S * timer_freq());
		if (ret == SMP_TIMEOUT) {
			report(&probe, i, false, "finished (got no answer in %d s, want done); not starting more cpus",
			       SECONDARY_TIMEOUT_S);
			break;
		}
		if (ret)
			report(&probe, i, false, "cpu_on mpidr=%#lx (got %ld, want 0)", cpus[i].mpidr, ret);
	}
	printf("PROBE DONE pass=%u fail=%u\n", probe.pass, probe.fail);
}

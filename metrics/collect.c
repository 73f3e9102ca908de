/* The collectors: a VM's state, RAM, per-vCPU time and exits, per-device counters, as metric families or k=v lines. */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "kvm/metrics.h"
#include "kvm/pvtime.h"
#include "kvm/ram.h"
#include "kvm/version.h"
#include "kvm/virtio-9p.h"
#include "kvm/virtio-blk.h"
#include "kvm/virtio-dev.h"
#include "kvm/virtio-net.h"

static u64 ld(const u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* A small /proc file into buf (NUL-terminated); its length, or -1. */
static ssize_t read_proc(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

void metrics_sample_vcpu(struct kvm *kvm, unsigned int i, struct vcpu_sample *s)
{
	struct kvm_cpu *cpu = kvm->cpus[i];
	int tid = __atomic_load_n(&cpu->tid, __ATOMIC_ACQUIRE);
	char path[64], buf[1024];
	unsigned long long a, b;

	memset(s, 0, sizeof(*s));
	s->have_stolen = pvtime_read_stolen(kvm, i, &s->stolen_ns) == 0;
	if (tid > 0) {
		snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
		if (read_proc(path, buf, sizeof(buf)) > 0 && sscanf(buf, "%llu %llu", &a, &b) == 2) {
			s->have_sched = true;
			s->cpu_ns = a;
			s->delay_ns = b;
		}
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
		if (read_proc(path, buf, sizeof(buf)) > 0) {
			/* guest_time is field 43; the command name (field 2) may hold spaces, so count after its ')' */
			char *p = strrchr(buf, ')');
			int field = 2;
			long hz = sysconf(_SC_CLK_TCK);
			for (; p && *p && field < 43; p++)
				if (*p == ' ')
					field++;
			if (p && field == 43 && hz > 0 && sscanf(p, "%llu", &a) == 1) {
				s->have_guest = true;
				s->guest_ns = (u64)a * (1000000000ULL / (u64)hz);
			}
		}
	}
	if (kvm->metrics && kvm->metrics->kstats)
		s->have_kvm = kvm_stats_read(&kvm->metrics->kstats[i], s->kvm) == 0;
	for (unsigned int k = 0; k < VCPU_EXIT_NR; k++)
		s->user_exits[k] = kvm_cpu_exits(cpu, (enum vcpu_exit_kind)k);
}

static const char *vm_state(struct kvm *kvm)
{
	if (kvm_is_stopping(kvm))
		return "stopping";
	if (__atomic_load_n(&kvm->mig_progress.active, __ATOMIC_ACQUIRE))
		return "migrating";
	return kvm_is_paused(kvm) ? "paused" : "running";
}

/* ---- the exposition ---- */

struct ctx {
	struct mtext *w;
	struct kvm *kvm;
	struct metrics *m;
};

static void vm_gauge(struct ctx *c, const char *name, const char *unit, const char *help, u64 v)
{
	const char *l[] = { "vm", c->kvm->name, NULL };
	mtext_family(c->w, name, METRIC_GAUGE, unit, help);
	mtext_u64(c->w, l, v);
}

static void put_process(struct ctx *c)
{
	const char *build[] = { "version", LKVM_VERSION, "arch", "arm64", "compiler", __VERSION__, NULL };
	const char *l[] = { "vm", c->kvm->name, NULL };

	mtext_family(c->w, "lkvm_build", METRIC_INFO, NULL, "The lkvm build serving these metrics");
	mtext_u64(c->w, build, 1);
	mtext_family(c->w, "lkvm_process_start_time_seconds", METRIC_GAUGE, "seconds",
		     "When this lkvm process started (Unix time): counters start from zero there, e.g. after a restore");
	mtext_ns(c->w, l, c->m->start_time_ns);
}

static void put_state(struct ctx *c)
{
	static const char *const states[] = { "running", "paused", "migrating", "stopping" };
	const char *now = vm_state(c->kvm);
	struct mig_progress *mp = &c->kvm->mig_progress;
	bool mig = __atomic_load_n(&mp->active, __ATOMIC_ACQUIRE);

	mtext_family(c->w, "lkvm_vm_state", METRIC_GAUGE, NULL, "1 for the state the VM is in, 0 for the others");
	for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
		const char *l[] = { "vm", c->kvm->name, "state", states[i], NULL };
		mtext_u64(c->w, l, !strcmp(now, states[i]));
	}
	vm_gauge(c, "lkvm_vm_vcpus", NULL, "vCPUs of the VM", c->kvm->nr_cpus);
	vm_gauge(c, "lkvm_migration_active", NULL, "1 while a live migration of the VM runs", mig);
	if (!mig)
		return;
	vm_gauge(c, "lkvm_migration_round", NULL, "The running migration's pre-copy round (from 1)", ld(&mp->round));
	vm_gauge(c, "lkvm_migration_dirty_pages", NULL, "4 KiB pages being sent in this round", ld(&mp->dirty_pages));
	vm_gauge(c, "lkvm_migration_sent_bytes", "bytes", "Bytes of the migration stream sent so far", ld(&mp->bytes_sent));
	{
		const char *l[] = { "vm", c->kvm->name, NULL };
		mtext_family(c->w, "lkvm_migration_expected_pause_seconds", METRIC_GAUGE, "seconds",
			     "How long the guest would pause if the migration stopped it now");
		mtext_ns(c->w, l, ld(&mp->expected_pause_ms) * 1000000ULL);
	}
}

static void put_ram(struct ctx *c)
{
	struct ram_usage u;
	const char *b[] = { "vm", c->kvm->name, "backing", guest_ram_backing_name(&c->kvm->ram), NULL };

	vm_gauge(c, "lkvm_guest_ram_size_bytes", "bytes", "Guest RAM as configured", c->kvm->ram.size);
	mtext_family(c->w, "lkvm_guest_ram_backing", METRIC_INFO, NULL,
		     "What backs guest RAM: anonymous memory with transparent huge pages, hugetlbfs, or a snapshot");
	mtext_u64(c->w, b, 1);
	if (guest_ram_usage(&c->kvm->ram, &u))
		return;
	vm_gauge(c, "lkvm_guest_ram_resident_bytes", "bytes", "Guest RAM resident in host memory",
		 u.rss_kib * 1024);
	vm_gauge(c, "lkvm_guest_ram_huge_bytes", "bytes", "Of guest RAM, the bytes backed by huge pages",
		 u.huge_kib * 1024);
}

/* A per-vCPU counter in seconds from one field of struct vcpu_sample (ns), if `have` says it was read. */
static void vcpu_seconds(struct ctx *c, const char *name, const char *help, size_t off_ns, size_t off_have)
{
	bool any = false;

	for (unsigned int i = 0; i < c->kvm->nr_cpus; i++)
		any |= *(const bool *)((const char *)&c->m->vs[i] + off_have);
	if (!any)
		return;
	mtext_family(c->w, name, METRIC_COUNTER, "seconds", help);
	for (unsigned int i = 0; i < c->kvm->nr_cpus; i++) {
		char id[12];
		const char *l[] = { "vm", c->kvm->name, "vcpu", id, NULL };
		if (!*(const bool *)((const char *)&c->m->vs[i] + off_have))
			continue;
		snprintf(id, sizeof(id), "%u", i);
		mtext_ns(c->w, l, *(const u64 *)((const char *)&c->m->vs[i] + off_ns));
	}
}

#define VCPU_SECONDS(c, name, help, field, have)                                                                  \
	vcpu_seconds(c, name, help, offsetof(struct vcpu_sample, field), offsetof(struct vcpu_sample, have))

static void put_vcpus(struct ctx *c)
{
	/* exits KVM counts (arm64 names); "other" is what is left: IRQs, system-register and other traps */
	static const struct {
		const char *reason;
		int a, b;
	} kreasons[] = {
		{ "mmio", KSTAT_MMIO_KERNEL, KSTAT_MMIO_USER }, { "hypercall", KSTAT_HVC, -1 }, { "wfi", KSTAT_WFI, -1 },
		{ "wfe", KSTAT_WFE, -1 },			{ "signal", KSTAT_SIGNAL, -1 },
	};
	static const char *const ureasons[VCPU_EXIT_NR] = { "mmio", "system_event", "interrupted", "debug", "arch",
							    "other" };
	bool kvm_stats = false;

	for (unsigned int i = 0; i < c->kvm->nr_cpus; i++) {
		metrics_sample_vcpu(c->kvm, i, &c->m->vs[i]);
		kvm_stats |= c->m->vs[i].have_kvm;
	}
	VCPU_SECONDS(c, "lkvm_vcpu_steal_seconds", "Time stolen from the vCPU, from its PV-time record (guest's view)",
		     stolen_ns, have_stolen);
	VCPU_SECONDS(c, "lkvm_vcpu_run_delay_seconds",
		     "Time the vCPU thread was runnable but waited for a host CPU (schedstat run delay)", delay_ns,
		     have_sched);
	VCPU_SECONDS(c, "lkvm_vcpu_cpu_seconds", "Time the vCPU thread ran on a host CPU, guest and host side",
		     cpu_ns, have_sched);
	VCPU_SECONDS(c, "lkvm_vcpu_guest_seconds", "Time the vCPU thread ran guest code (scheduler ticks)", guest_ns,
		     have_guest);
	if (kvm_stats) {
		vcpu_seconds(c, "lkvm_vcpu_halted_seconds", "Time the vCPU waited in WFI for an interrupt (KVM's count)",
			     offsetof(struct vcpu_sample, kvm) + KSTAT_HALT_WAIT_NS * sizeof(u64),
			     offsetof(struct vcpu_sample, have_kvm));
		mtext_family(c->w, "lkvm_vcpu_exits", METRIC_COUNTER, NULL,
			     "Exits from the guest by reason, as KVM counts them (including those it handles itself)");
		for (unsigned int i = 0; i < c->kvm->nr_cpus; i++) {
			const struct vcpu_sample *s = &c->m->vs[i];
			u64 rest = s->kvm[KSTAT_EXITS];
			char id[12];
			if (!s->have_kvm)
				continue;
			snprintf(id, sizeof(id), "%u", i);
			for (size_t k = 0; k < ARRAY_SIZE(kreasons); k++) {
				const char *l[] = { "vm", c->kvm->name, "vcpu", id, "reason", kreasons[k].reason, NULL };
				u64 v = s->kvm[kreasons[k].a] + (kreasons[k].b >= 0 ? s->kvm[kreasons[k].b] : 0);
				mtext_u64(c->w, l, v);
				rest = rest > v ? rest - v : 0;
			}
			{
				const char *l[] = { "vm", c->kvm->name, "vcpu", id, "reason", "other", NULL };
				mtext_u64(c->w, l, rest);
			}
		}
	}
	mtext_family(c->w, "lkvm_vcpu_userspace_exits", METRIC_COUNTER, NULL,
		     "Exits that came to lkvm (KVM_RUN returned), by kind");
	for (unsigned int i = 0; i < c->kvm->nr_cpus; i++) {
		char id[12];
		snprintf(id, sizeof(id), "%u", i);
		for (unsigned int k = 0; k < VCPU_EXIT_NR; k++) {
			const char *l[] = { "vm", c->kvm->name, "vcpu", id, "reason", ureasons[k], NULL };
			mtext_u64(c->w, l, c->m->vs[i].user_exits[k]);
		}
	}
}

/* ---- devices ---- */

struct dev_labels {
	char name[16];  /* blk0, net1, 9p0 ... */
	char queue[12]; /* scratch for a queue index */
};

static void name_devices(struct kvm *kvm, struct dev_labels *dl)
{
	unsigned int per_type[16] = { 0 };

	for (unsigned int i = 0; i < kvm->virtio_slots; i++) {
		const struct virtio_dev *vd = kvm->virtio[i];
		snprintf(dl[i].name, sizeof(dl[i].name), "%s%u", vd->ops->name, per_type[vd->ops->device_id & 15]++);
	}
}

/* Samples of a per-queue counter of every device, from one field of struct virtio_queue_stats; dir: the value of a
 * "direction" label, or NULL for none. */
static void queue_samples(struct ctx *c, struct dev_labels *dl, size_t off, const char *dir)
{
	for (unsigned int i = 0; i < c->kvm->virtio_slots; i++) {
		struct virtio_dev *vd = c->kvm->virtio[i];
		for (unsigned int q = 0; q < vd->ops->nr_queues; q++) {
			const char *l[] = { "vm", c->kvm->name, "device", dl[i].name, "queue", dl[i].queue,
					    dir ? "direction" : NULL, dir, NULL };
			snprintf(dl[i].queue, sizeof(dl[i].queue), "%u", q);
			mtext_u64(c->w, l, ld((const u64 *)((const char *)&vd->qstats[q] + off)));
		}
	}
}

#define QUEUE_FAMILY(c, dl, name, help, field)                                                                    \
	do {                                                                                                      \
		mtext_family((c)->w, name, METRIC_COUNTER, NULL, help);                                           \
		queue_samples(c, dl, offsetof(struct virtio_queue_stats, field), NULL);                          \
	} while (0)

/* One counter family with a sample per device of one type and per label value. */
static void typed_family(struct ctx *c, struct dev_labels *dl, u32 device_id, const char *name, const char *unit,
			 const char *help, const char *label, const char *const *values, unsigned int nvalues,
			 u64 (*get)(struct virtio_dev *vd, unsigned int v))
{
	bool any = false;

	for (unsigned int i = 0; i < c->kvm->virtio_slots; i++)
		any |= c->kvm->virtio[i]->ops->device_id == device_id;
	if (!any)
		return;
	mtext_family(c->w, name, METRIC_COUNTER, unit, help);
	for (unsigned int i = 0; i < c->kvm->virtio_slots; i++) {
		struct virtio_dev *vd = c->kvm->virtio[i];
		if (vd->ops->device_id != device_id)
			continue;
		for (unsigned int v = 0; v < nvalues; v++) {
			const char *l[] = { "vm", c->kvm->name, "device", dl[i].name, label, values[v], NULL };
			mtext_u64(c->w, l, get(vd, v));
		}
	}
}

static const char *const blk_ops[] = { "read", "write", "flush", "other" };
static const char *const net_dirs[] = { "rx", "tx" };
static const char *const p9_kinds[] = { "all" };

static u64 blk_ops_get(struct virtio_dev *vd, unsigned int v)
{
	return ld(&((struct virtio_blk *)vd->priv)->stats.ops[v]);
}
static u64 blk_bytes_get(struct virtio_dev *vd, unsigned int v)
{
	return ld(&((struct virtio_blk *)vd->priv)->stats.bytes[v]);
}
static u64 blk_errors_get(struct virtio_dev *vd, unsigned int v)
{
	return ld(&((struct virtio_blk *)vd->priv)->stats.errors[v]);
}
static u64 net_packets_get(struct virtio_dev *vd, unsigned int v)
{
	struct virtio_net *n = vd->priv;
	return ld(v ? &n->tx_packets : &n->rx_packets);
}
static u64 net_bytes_get(struct virtio_dev *vd, unsigned int v)
{
	struct virtio_net *n = vd->priv;
	return ld(v ? &n->tx_bytes : &n->rx_bytes);
}
static u64 net_drops_get(struct virtio_dev *vd, unsigned int v)
{
	struct virtio_net *n = vd->priv;
	return ld(v ? &n->tx_drops : &n->rx_drops);
}
static u64 p9_requests_get(struct virtio_dev *vd, unsigned int v)
{
	(void)v;
	return ld(&((struct virtio_9p *)vd->priv)->requests);
}
static u64 p9_errors_get(struct virtio_dev *vd, unsigned int v)
{
	(void)v;
	return ld(&((struct virtio_9p *)vd->priv)->errors);
}

static void put_devices(struct ctx *c)
{
	struct dev_labels dl[ARRAY_SIZE(c->kvm->virtio)];

	if (!c->kvm->virtio_slots)
		return;
	name_devices(c->kvm, dl);
	mtext_family(c->w, "lkvm_virtio_device", METRIC_INFO, NULL,
		     "A virtio device of the VM: its type and transport (and a 9p share's mount tag)");
	for (unsigned int i = 0; i < c->kvm->virtio_slots; i++) {
		struct virtio_dev *vd = c->kvm->virtio[i];
		char tag[VIRTIO_DEV_CONFIG_MAX] = "";
		const char *l[] = { "vm", c->kvm->name, "device", dl[i].name, "type", vd->ops->name, "transport",
				    vd->tr ? vd->tr->name : "none", vd->ops->device_id == VIRTIO_ID_9P ? "tag" : NULL, tag,
				    NULL };
		if (vd->ops->device_id == VIRTIO_ID_9P) {
			size_t n = vd->config[0] | vd->config[1] << 8; /* the config space: le16 length, then the tag */
			memcpy(tag, vd->config + 2, n < sizeof(tag) - 3 ? n : sizeof(tag) - 3);
		}
		mtext_u64(c->w, l, 1);
	}
	QUEUE_FAMILY(c, dl, "lkvm_virtio_queue_requests", "Requests (descriptor chains) the device took", requests);
	mtext_family(c->w, "lkvm_virtio_queue_buffer_bytes", METRIC_COUNTER, "bytes",
		     "Bytes of the requests' buffers: out = device-readable (guest to device), in = device-writable");
	queue_samples(c, dl, offsetof(struct virtio_queue_stats, bytes_out), "out");
	queue_samples(c, dl, offsetof(struct virtio_queue_stats, bytes_in), "in");
	QUEUE_FAMILY(c, dl, "lkvm_virtio_queue_notifications", "Queue notifications (kicks) from the driver",
		     notifications);
	QUEUE_FAMILY(c, dl, "lkvm_virtio_queue_interrupts",
		     "Interrupts lkvm raised for the queue (not those a kernel back-end sends through KVM directly)",
		     interrupts);
	mtext_family(c->w, "lkvm_virtio_queue_kernel_interrupts", METRIC_GAUGE, NULL,
		     "1 while a kernel back-end (vhost) interrupts the guest for the queue through KVM (irqfd), past lkvm");
	for (unsigned int i = 0; i < c->kvm->virtio_slots; i++) {
		struct virtio_dev *vd = c->kvm->virtio[i];
		for (unsigned int q = 0; q < vd->ops->nr_queues; q++) {
			const char *l[] = { "vm", c->kvm->name, "device", dl[i].name, "queue", dl[i].queue, NULL };
			snprintf(dl[i].queue, sizeof(dl[i].queue), "%u", q);
			mtext_u64(c->w, l, __atomic_load_n(&vd->call_direct[q], __ATOMIC_RELAXED));
		}
	}
	QUEUE_FAMILY(c, dl, "lkvm_virtio_queue_errors", "Ring violations by the driver (the device then needs reset)",
		     errors);
	mtext_family(c->w, "lkvm_virtio_config_interrupts", METRIC_COUNTER, NULL, "Configuration-change interrupts");
	for (unsigned int i = 0; i < c->kvm->virtio_slots; i++) {
		const char *l[] = { "vm", c->kvm->name, "device", dl[i].name, NULL };
		mtext_u64(c->w, l, ld(&c->kvm->virtio[i]->config_interrupts));
	}
	mtext_family(c->w, "lkvm_virtio_driver_errors", METRIC_COUNTER, NULL,
		     "Times the guest's driver broke a rule and the device was marked as needing reset");
	for (unsigned int i = 0; i < c->kvm->virtio_slots; i++) {
		const char *l[] = { "vm", c->kvm->name, "device", dl[i].name, NULL };
		mtext_u64(c->w, l, ld(&c->kvm->virtio[i]->driver_errors));
	}
	typed_family(c, dl, VIRTIO_ID_BLOCK, "lkvm_blk_requests", NULL, "virtio-blk requests completed, by operation",
		     "op", blk_ops, 4, blk_ops_get);
	typed_family(c, dl, VIRTIO_ID_BLOCK, "lkvm_blk_bytes", "bytes", "virtio-blk payload bytes read and written",
		     "op", blk_ops, 2, blk_bytes_get);
	typed_family(c, dl, VIRTIO_ID_BLOCK, "lkvm_blk_errors", NULL, "virtio-blk requests that failed (IOERR, UNSUPP)",
		     "op", blk_ops, 4, blk_errors_get);
	typed_family(c, dl, VIRTIO_ID_NET, "lkvm_net_packets", NULL, "virtio-net frames received (rx) and sent (tx)",
		     "direction", net_dirs, 2, net_packets_get);
	typed_family(c, dl, VIRTIO_ID_NET, "lkvm_net_bytes", "bytes", "virtio-net frame bytes (no virtio header)",
		     "direction", net_dirs, 2, net_bytes_get);
	typed_family(c, dl, VIRTIO_ID_NET, "lkvm_net_drops", NULL, "virtio-net frames dropped", "direction", net_dirs, 2,
		     net_drops_get);
	typed_family(c, dl, VIRTIO_ID_9P, "lkvm_9p_requests", NULL, "9P requests answered", "kind", p9_kinds, 1,
		     p9_requests_get);
	typed_family(c, dl, VIRTIO_ID_9P, "lkvm_9p_errors", NULL, "9P requests answered with an error (Rlerror)", "kind",
		     p9_kinds, 1, p9_errors_get);
}

static void put_server(struct ctx *c)
{
	struct metrics_server *s = &c->m->srv;

	mtext_family(c->w, "lkvm_metrics_responses", METRIC_COUNTER, NULL,
		     "Responses of this metrics endpoint by HTTP status (the current scrape not yet counted)");
	for (unsigned int i = 0; i < MC_NR; i++) {
		char code[8];
		const char *l[] = { "vm", c->kvm->name, "code", code, NULL };
		snprintf(code, sizeof(code), "%d", metrics_code_status[i]);
		mtext_u64(c->w, l, ld(&s->responses[i]));
	}
	{
		const char *l[] = { "vm", c->kvm->name, NULL };
		mtext_family(c->w, "lkvm_metrics_refused_connections", METRIC_COUNTER, NULL,
			     "Connections answered 503 at once: the endpoint was serving its maximum already");
		mtext_u64(c->w, l, ld(&s->refused));
	}
}

int metrics_render(void *ctx, struct mtext *w)
{
	struct metrics *m = ctx;
	struct ctx c = { .w = w, .kvm = m->kvm, .m = m };

	put_process(&c);
	put_state(&c);
	put_ram(&c);
	put_vcpus(&c);
	put_devices(&c);
	put_server(&c);
	mtext_end(w);
	return 0;
}

/* ---- the control socket's "sample" (lkvm top, stat --watch) ---- */

static u64 process_rss_kib(void)
{
	char buf[4096];
	const char *p;
	unsigned long long kib = 0;

	if (read_proc("/proc/self/status", buf, sizeof(buf)) > 0 && (p = strstr(buf, "\nVmRSS:")))
		sscanf(p + 7, "%llu", &kib);
	return kib;
}

int metrics_control_sample(struct kvm *kvm, FILE *out)
{
	struct timespec now;
	u64 now_ns, start_ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	now_ns = (u64)now.tv_sec * 1000000000ULL + (u64)now.tv_nsec;
	start_ns = (u64)kvm->start_time.tv_sec * 1000000000ULL + (u64)kvm->start_time.tv_nsec;
	fprintf(out, "name=%s pid=%d state=%s cpus=%u now_ns=%llu uptime_ns=%llu rss_kib=%llu pvtime=%s\n", kvm->name,
		(int)getpid(), vm_state(kvm), kvm->nr_cpus, (unsigned long long)now_ns,
		(unsigned long long)(now_ns - start_ns), (unsigned long long)process_rss_kib(),
		kvm->arch.pvtime ? "on" : "off");
	for (unsigned int i = 0; i < kvm->nr_cpus; i++) {
		struct vcpu_sample s;
		u64 user = 0;

		metrics_sample_vcpu(kvm, i, &s);
		for (unsigned int k = 0; k < VCPU_EXIT_NR; k++)
			user += s.user_exits[k];
		/* exits: every exit when KVM counts them, else those that came to lkvm */
		fprintf(out, "vcpu=%u stolen_ns=%llu run_delay_ns=%llu guest_ns=%llu exits=%llu user_exits=%llu steal=%s\n",
			i, (unsigned long long)s.stolen_ns, (unsigned long long)s.delay_ns, (unsigned long long)s.guest_ns,
			(unsigned long long)(s.have_kvm ? s.kvm[KSTAT_EXITS] : user), (unsigned long long)user,
			s.have_stolen ? "pvtime" : s.have_sched ? "run_delay" : "none");
	}
	return 0;
}

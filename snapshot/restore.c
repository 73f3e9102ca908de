/* 'lkvm restore': rebuild a VM from a snapshot (file or stdin), validating every byte before a vCPU runs. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm/arm.h"
#include "kvm/control.h"
#include "kvm/kvm-cpu.h"
#include "kvm/io.h"
#include "kvm/kvm.h"
#include "kvm/gdb.h"
#include "kvm/metrics.h"
#include "kvm/migrate.h"
#include "kvm/options.h"
#include "kvm/ram.h"
#include "kvm/snapshot-arch.h"
#include "kvm/snapshot.h"
#include "kvm/virtio-blk.h"
#include "kvm/virtio.h"

struct stashed {
	u8 *data;
	size_t len;
};

struct restore_state {
	const char *file;
	char *config;
	struct stashed *vcpu; /* by vCPU index */
	u64 *pvtime_ipa;
	struct stashed irqchip;
	struct stashed ram_image; /* version 2: the RAM_IMAGE section */
	struct stashed dev[64];
	unsigned int nr_dev;
	u64 realtime_ns, cntfrq;
	bool clock_advance, verify;
	bool progress;
	bool paused; /* version 3: the PAUSED section was seen (the final state follows it) */
	u64 digest_pages, digest_bad; /* version 3 with migrate --verify: pages compared, pages that differ */
	u64 digest_first_bad;
	struct timespec t0, last;
	struct timespec t_paused, t_loaded; /* version 3: PAUSED section read; every section read */
};

static u64 ms_between(const struct timespec *a, const struct timespec *b)
{
	return (u64)((b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000);
}

/* One page that differs from the source's (migrate --verify): the first few are logged. */
static void digest_report(u64 off, u32 src_crc, u32 dst_crc, void *ctx)
{
	struct restore_state *st = ctx;

	if (!st->digest_bad)
		st->digest_first_bad = off;
	if (st->digest_bad++ < 16)
		pr_err("migration: guest page at RAM offset 0x%llx differs from the source's (crc %08x here, %08x there)",
		       (unsigned long long)off, dst_crc, src_crc);
}

static void stash(struct stashed *s, const struct snap_reader *r)
{
	s->data = malloc(r->len ? r->len : 1);
	if (!s->data)
		die("out of memory");
	memcpy(s->data, r->payload, r->len);
	s->len = r->len;
}


static u64 cfg_num(struct restore_state *st, const char *key, u64 min, u64 max)
{
	u64 v;
	if (snap_config_u64(st->config, key, &v) || v < min || v > max)
		die("snapshot %s: '%s' is missing or out of range (corrupt snapshot)", st->file, key);
	return v;
}

/* The VM description: every value checked against this host's limits before anything is created. */
static void apply_config(struct restore_state *st, struct kvm *kvm, const char **disk_over, unsigned int nr_over)
{
	struct kvm_config *cfg = &kvm->cfg;
	char v[4096], key[32];
	unsigned int i;

	if (!snap_config_get(st->config, "arch", v, sizeof(v)) || strcmp(v, "arm64"))
		die("snapshot %s is not for arm64", st->file);
	cfg->nr_cpus = (unsigned int)cfg_num(st, "cpus", 1, LKVM_MAX_CPUS);
	cfg->ram_mib = cfg_num(st, "mem_mib", 1, 1ULL << 22);
	if (cfg_num(st, "ram_base", 0, ~0ULL) != ARM_RAM_BASE)
		die("snapshot %s: guest RAM base differs from this lkvm's memory map", st->file);
	if (!snap_config_get(st->config, "irqchip", v, sizeof(v)))
		v[0] = '\0';
	if (!strcmp(v, "gicv3"))
		cfg->irqchip = IRQCHIP_GICV3;
	else if (!strcmp(v, "gicv3-its"))
		cfg->irqchip = IRQCHIP_GICV3_ITS;
	else if (!strcmp(v, "gicv2"))
		cfg->irqchip = IRQCHIP_GICV2;
	else
		die("snapshot %s: unknown interrupt controller (corrupt snapshot)", st->file);
	cfg->pmu = cfg_num(st, "pmu", 0, 1);
	cfg->pvtime = cfg_num(st, "pvtime", 0, 1) ? PVTIME_ON : PVTIME_OFF;
	cfg->rng = cfg_num(st, "rng", 0, 1);
	if (!snap_config_get(st->config, "memmap", v, sizeof(v)) || strcmp(v, LKVM_MEMMAP))
		die("snapshot %s was taken with another guest memory map (an older lkvm); this lkvm cannot restore it",
		    st->file);
	if (!snap_config_get(st->config, "virtio_transport", v, sizeof(v)) || (strcmp(v, "pci") && strcmp(v, "mmio")))
		die("snapshot %s: unknown virtio transport (corrupt snapshot)", st->file);
	cfg->virtio_transport = !strcmp(v, "mmio") ? VIRTIO_TRANSPORT_MMIO : VIRTIO_TRANSPORT_PCI;
	if (!snap_config_get(st->config, "console", v, sizeof(v)) || (strcmp(v, "serial") && strcmp(v, "virtio")))
		die("snapshot %s: unknown console type (corrupt snapshot)", st->file);
	cfg->console = !strcmp(v, "virtio") ? CONSOLE_VIRTIO : CONSOLE_SERIAL;
	st->realtime_ns = cfg_num(st, "realtime_ns", 0, ~0ULL);
	st->cntfrq = cfg_num(st, "cntfrq", 1, ~0ULL);
	if (st->cntfrq != arch_counter_freq())
		die("snapshot %s: its counter runs at %llu Hz, this host's at %llu Hz; cannot restore here", st->file,
		    (unsigned long long)st->cntfrq, (unsigned long long)arch_counter_freq());

	for (i = 0; i < ARRAY_SIZE(cfg->disks); i++) {
		snprintf(key, sizeof(key), "disk.%u", i);
		if (!snap_config_get(st->config, key, v, sizeof(v)))
			break;
		cfg->disks[i] = strdup(i < nr_over ? disk_over[i] : v);
	}
	cfg->nr_disks = i;
	if (nr_over > cfg->nr_disks)
		die("restore: %u -d/--disk given but the snapshot has %u disks", nr_over, cfg->nr_disks);
	for (i = 0; i < ARRAY_SIZE(cfg->nets); i++) {
		snprintf(key, sizeof(key), "net.%u", i);
		if (!snap_config_get(st->config, key, v, sizeof(v)))
			break;
		cfg->nets[i] = strdup(v);
	}
	cfg->nr_nets = i;

	kvm->nr_cpus = cfg->nr_cpus;
	kvm->ram.base = ARM_RAM_BASE;
	kvm->ram.size = cfg->ram_mib << 20;
	kvm->ram.fd = -1;
	if (cfg->pvtime == PVTIME_ON) {
		kvm->layout.pvtime_addr = cfg_num(st, "pvtime_base", ARM_RAM_BASE, ~0ULL);
		kvm->layout.pvtime_size = cfg_num(st, "pvtime_size", 1, ~0ULL);
		if (kvm->layout.pvtime_size != pvtime_region_size(cfg->nr_cpus) ||
		    !IS_ALIGNED(kvm->layout.pvtime_addr, PVTIME_REGION_ALIGN) ||
		    !gpa_range_ok(&(struct guest_ram){ .base = ARM_RAM_BASE, .size = kvm->ram.size, .host = (u8 *)1 },
				  kvm->layout.pvtime_addr, kvm->layout.pvtime_size))
			die("snapshot %s: stolen-time region is outside guest RAM (corrupt snapshot)", st->file);
	}
}

/* On a terminal: RAM restored so far, total, rate. */
static void progress(struct restore_state *st, struct kvm *kvm, u64 done, bool final)
{
	struct timespec now;
	double el;

	if (!st->progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	el = (double)(now.tv_sec - st->t0.tv_sec) + (double)(now.tv_nsec - st->t0.tv_nsec) / 1e9;
	if (!final && (double)(now.tv_sec - st->last.tv_sec) + (double)(now.tv_nsec - st->last.tv_nsec) / 1e9 < 0.1)
		return;
	st->last = now;
	fprintf(stderr, "\r  restoring: RAM %llu/%llu MiB, %.1f MiB/s%s", (unsigned long long)(done >> 20),
		(unsigned long long)(kvm->ram.size >> 20), el > 0 ? (double)(done >> 20) / el : 0.0, final ? "\n" : "");
}

static void read_sections(struct restore_state *st, struct snap_reader *r, struct kvm *kvm)
{
	char err[256];
	int rc;

	st->progress = isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &st->t0);
	st->last = st->t0;

	st->vcpu = calloc(kvm->nr_cpus, sizeof(*st->vcpu));
	st->pvtime_ipa = calloc(kvm->nr_cpus, sizeof(u64));
	if (!st->vcpu || !st->pvtime_ipa)
		die("out of memory");
	while ((rc = snapr_next(r)) == 1) {
		u32 id;
		u64 ipa;

		/* a migration stream carries the state only after the source paused */
		if (r->version == SNAP_VERSION_MIGRATE && !st->paused &&
		    (r->type == SNAP_SEC_VCPU || r->type == SNAP_SEC_IRQCHIP || r->type == SNAP_SEC_DEVICE))
			die("snapshot %s: device state before the PAUSED section at byte %llu (corrupt stream)", st->file,
			    (unsigned long long)r->off);
		switch (r->type) {
		case SNAP_SEC_RAM_DIGEST:
			if (!st->paused || snap_ram_digest_check(r->payload, r->len, &kvm->ram, digest_report, st, err,
								 sizeof(err)) < 0)
				die("snapshot %s: %s at byte %llu", st->file,
				    st->paused ? err : "RAM digest before the PAUSED section (corrupt stream)",
				    (unsigned long long)r->off);
			st->digest_pages += (r->len - 12) / 4;
			break;
		case SNAP_SEC_RAM_PAGES:
			if (kvm->ram.shared_in) /* that memory is the source's own until the hand-over */
				die("snapshot %s: RAM pages at byte %llu in a stream whose RAM was handed over (corrupt stream)",
				    st->file, (unsigned long long)r->off);
			if (st->digest_pages)
				die("snapshot %s: RAM pages after the RAM digest at byte %llu (corrupt stream)", st->file,
				    (unsigned long long)r->off);
			if (snap_ram_pages_decode(r->payload, r->len, &kvm->ram, err, sizeof(err)))
				die("snapshot %s: %s", st->file, err);
			break;
		case SNAP_SEC_PAUSED: {
			struct snap_cursor c = snap_cursor(r->payload, r->len);
			st->realtime_ns = cur_u64(&c);
			if (c.bad || c.left || st->paused)
				die("snapshot %s: PAUSED section at byte %llu is malformed or duplicated", st->file,
				    (unsigned long long)r->off);
			st->paused = true;
			clock_gettime(CLOCK_MONOTONIC, &st->t_paused);
			break;
		}
		case SNAP_SEC_RAM:
			if (snap_ram_chunk_decode(r->payload, r->len, &kvm->ram, err, sizeof(err)))
				die("snapshot %s: %s", st->file, err);
			progress(st, kvm, r->len >= 8 ? *(const u64 *)r->payload + SNAP_RAM_CHUNK : 0, false);
			break;
		case SNAP_SEC_VCPU:
			if (arch_vcpu_section_peek(r->payload, r->len, &id, &ipa) || id >= kvm->nr_cpus || st->vcpu[id].data)
				die("snapshot %s: vCPU section at byte %llu is malformed or duplicated", st->file,
				    (unsigned long long)r->off);
			stash(&st->vcpu[id], r);
			st->pvtime_ipa[id] = ipa;
			break;
		case SNAP_SEC_IRQCHIP:
			if (st->irqchip.data)
				die("snapshot %s: two interrupt controller sections", st->file);
			stash(&st->irqchip, r);
			break;
		case SNAP_SEC_RAM_IMAGE:
			if (st->ram_image.data)
				die("snapshot %s: two RAM image sections", st->file);
			stash(&st->ram_image, r);
			break;
		case SNAP_SEC_DEVICE:
			if (st->nr_dev >= ARRAY_SIZE(st->dev))
				die("snapshot %s: too many device sections", st->file);
			stash(&st->dev[st->nr_dev++], r);
			break;
		default:
			die("snapshot %s: unexpected section type %u at byte %llu", st->file, r->type,
			    (unsigned long long)r->off);
		}
	}
	if (rc < 0) {
		if (st->progress)
			fputc('\n', stderr);
		die("snapshot %s: %s", st->file, r->err);
	}
	clock_gettime(CLOCK_MONOTONIC, &st->t_loaded);
	if (r->version == SNAP_VERSION)
		progress(st, kvm, kvm->ram.size, true);
	else if (r->version == SNAP_VERSION_MIGRATE) {
		if (!st->paused)
			die("snapshot %s: the stream ended without the PAUSED section (corrupt stream)", st->file);
		if (st->digest_bad)
			die("snapshot %s: --verify: %llu of %llu guest pages differ from the source's (the first at RAM offset "
			    "0x%llx); not starting the guest", st->file, (unsigned long long)st->digest_bad,
			    (unsigned long long)st->digest_pages, (unsigned long long)st->digest_first_bad);
		if (st->digest_pages)
			pr_info("migration: --verify: all %llu guest pages match the source's",
				(unsigned long long)st->digest_pages);
	} else if (!st->ram_image.data)
		die("snapshot %s: the RAM image section is missing (corrupt snapshot)", st->file);
	for (unsigned int i = 0; i < kvm->nr_cpus; i++)
		if (!st->vcpu[i].data)
			die("snapshot %s: state of vCPU %u is missing", st->file, i);
	if (!st->irqchip.data)
		die("snapshot %s: interrupt controller state is missing", st->file);
}

/*
 * Version 2: guest RAM is the file's image. A regular file is mapped copy-on-write (pages come in as the guest
 * touches them; only the header and the file's length are checked now, the RAM CRCs with --verify). A pipe is
 * read through, every chunk's CRC checked on the way.
 */
static void load_ram_image(struct restore_state *st, struct snap_reader *r, struct kvm *kvm, int fd)
{
	struct snap_ram_image img;
	struct stat sb;
	char err[300];
	u64 data;

	if (snap_image_parse(st->ram_image.data, st->ram_image.len, kvm->ram.size, &img, err, sizeof(err)))
		die("snapshot %s: %s", st->file, err);
	if (img.offset < r->off)
		die("snapshot %s: the RAM image at byte %llu overlaps the sections (corrupt snapshot)", st->file,
		    (unsigned long long)img.offset);
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		if (snap_image_load(r, &img, &kvm->ram, err, sizeof(err)))
			die("snapshot %s: %s", st->file, err);
		return;
	}
	if ((u64)sb.st_size < img.offset + img.size)
		die("snapshot %s is %llu bytes but its RAM image ends at byte %llu: the file is truncated", st->file,
		    (unsigned long long)sb.st_size, (unsigned long long)(img.offset + img.size));
	if (st->verify && snap_image_verify(fd, &img, &data, err, sizeof(err)))
		die("snapshot %s: %s", st->file, err);
	/* the mapping needs its own descriptor: stdin may be the file, and must read as EOF for the console */
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0 || guest_ram_map_file(&kvm->ram, fd, img.offset, err, sizeof(err)))
		die("snapshot %s: %s", st->file, fd < 0 ? strerror(errno) : err);
	pr_debug("snapshot %s: guest RAM mapped from byte %llu", st->file, (unsigned long long)img.offset);
}

static void restore_devices(struct restore_state *st, struct kvm *kvm)
{
	char err[256];
	bool *used = calloc(st->nr_dev + 1, sizeof(bool));

	for (struct device *d = kvm->devices.head; d; d = d->next) {
		bool found = false;
		if (!d->restore)
			continue;
		for (unsigned int i = 0; i < st->nr_dev && !found; i++) {
			struct snap_cursor c = snap_cursor(st->dev[i].data, st->dev[i].len);
			size_t nl = strnlen((const char *)c.p, c.left);
			if (used[i] || nl == c.left || strcmp((const char *)c.p, d->name))
				continue;
			cur_bytes(&c, nl + 1);
			if (cur_u64(&c) != d->mmio_base || c.bad)
				continue;
			found = used[i] = true;
			if (d->restore(d, &c, err, sizeof(err)))
				die("snapshot %s: %s", st->file, err);
		}
		if (!found)
			die("snapshot %s: no saved state for device %s at 0x%llx", st->file, d->name,
			    (unsigned long long)d->mmio_base);
	}
	for (unsigned int i = 0; i < st->nr_dev; i++)
		if (!used[i])
			die("snapshot %s: it holds state for a device this VM does not have (%.32s)", st->file,
			    (const char *)st->dev[i].data);
	free(used);
}

int cmd_restore(int argc, const char **argv)
{
	const char *name = NULL, *clock = "continue", *pos[1], *disks[8], *incoming = NULL, *metrics = NULL, *gdb = NULL;
	unsigned int nr_disks = 0;
	bool help = false, info = false, no_seccomp = false, seccomp_log = false, gdb_wait = false;
	struct restore_state st;
	struct snap_reader r;
	struct kvm *kvm;
	char err[400], incoming_name[200];
	u64 cnt_delta = 0;
	int fd, n, ram_fd = -1;

	memset(&st, 0, sizeof(st));
	{
		const struct option_desc opts[] = {
			{ 0, "name", OPT_STRING, &name, "name", "Run under this name instead of the saved one", NULL, 0 },
			{ 'd', "disk", OPT_STRING, &disks[0], "image[,ro]",
			  "Replace the saved disks in order (repeat for each; for a new host)", NULL, 0 },
			{ 0, "clock", OPT_STRING, &clock, "continue|advance",
			  "Virtual counter across the downtime: continue where it stopped (default) or advance by it", NULL,
			  0 },
			{ 0, "incoming", OPT_STRING, &incoming, "tcp:ADDR:PORT|unix:PATH",
			  "Receive a live migration: listen there, accept one connection, run once it is complete", NULL, 0 },
			{ 0, "info", OPT_BOOL, &info, NULL, "Only check the snapshot (every CRC) and describe it; start nothing",
			  NULL, 0 },
			{ 0, "verify", OPT_BOOL, &st.verify, NULL,
			  "Check the RAM image's CRCs before running (reads all of it; a mapped restore otherwise does not)",
			  NULL, 0 },
			{ 0, "metrics", OPT_STRING, &metrics, "unix:PATH|tcp:[ADDR:]PORT",
			  "Serve live metrics there, as 'lkvm run --metrics' (counters start afresh)", NULL, 0 },
			{ 0, "gdb", OPT_STRING, &gdb, "tcp:[ADDR:]PORT|unix:PATH",
			  "Serve the GDB remote protocol, as 'lkvm run --gdb' (debug from where the guest was saved)", NULL, 0 },
			{ 0, "gdb-wait", OPT_BOOL, &gdb_wait, NULL, "With --gdb: the guest resumes only when gdb continues it",
			  NULL, 0 },
			{ 0, "no-seccomp", OPT_BOOL, &no_seccomp, NULL, "Run without the seccomp sandbox (debugging)", NULL,
			  0 },
			{ 0, "seccomp-log", OPT_BOOL, &seccomp_log, NULL,
			  "Sandbox in log mode: refused calls are allowed and logged by the kernel (debugging)", NULL, 0 },
			{ 'h', "help", OPT_BOOL, &help, NULL, "Show this help", NULL, 0 },
			{ 0, NULL, OPT_END, NULL, NULL, NULL, NULL, 0 },
		};
		/* -d is repeatable: collect each occurrence before the generic parser sees the rest. */
		const char **rest = calloc((size_t)argc + 1, sizeof(char *));
		int nrest = 0;
		for (int i = 0; i < argc; i++) {
			if ((!strcmp(argv[i], "-d") || !strcmp(argv[i], "--disk")) && i + 1 < argc) {
				if (nr_disks >= ARRAY_SIZE(disks))
					die("restore: at most %zu -d/--disk", ARRAY_SIZE(disks));
				disks[nr_disks++] = argv[++i];
			} else if (!strncmp(argv[i], "--disk=", 7) || (!strncmp(argv[i], "-d", 2) && argv[i][2])) {
				/* --disk=IMAGE, -dIMAGE, -d=IMAGE: the generic parser's spellings */
				const char *v = argv[i][1] == '-' ? argv[i] + 7 : argv[i] + 2 + (argv[i][2] == '=');
				if (nr_disks >= ARRAY_SIZE(disks))
					die("restore: at most %zu -d/--disk", ARRAY_SIZE(disks));
				disks[nr_disks++] = v;
			} else {
				rest[nrest++] = argv[i];
			}
		}
		n = options_parse(opts, nrest, rest, NULL, pos, 1, err, sizeof(err));
		if (n < 0)
			die("%s (see 'lkvm restore --help')", err);
		if (help) {
			options_usage(stdout,
				      "lkvm restore [--name NAME] [-d IMAGE[,ro]]... [--clock continue|advance] [--verify] FILE|-\n"
				      "       lkvm restore --incoming tcp:ADDR:PORT|unix:PATH [--name NAME] [-d IMAGE]... [--clock ...]",
				      opts);
			return 0;
		}
		free(rest);
	}
	if (n != (incoming ? 0 : 1))
		die("usage: lkvm restore [--name NAME] [-d IMAGE]... [--clock continue|advance] FILE  ('-' reads stdin), "
		    "or lkvm restore --incoming tcp:ADDR:PORT|unix:PATH [...]");
	if (info)
		return snapshot_info(pos[0]);
	if (strcmp(clock, "continue") && strcmp(clock, "advance"))
		die("--clock %s: expected continue or advance", clock);
	if (metrics) {
		struct migrate_addr ma;
		if (metrics_addr_parse(metrics, &ma, err, sizeof(err)))
			die("%s", err);
	}
	if (gdb) {
		struct migrate_addr ga;
		if (gdb_addr_parse(gdb, &ga, err, sizeof(err)))
			die("%s", err);
	} else if (gdb_wait) {
		die("--gdb-wait needs --gdb ADDRESS");
	}
	st.clock_advance = !strcmp(clock, "advance");
	if (incoming) {
		snprintf(incoming_name, sizeof(incoming_name), "stream from %s", incoming);
		st.file = incoming_name;
		fd = migrate_incoming_accept(incoming);
		ram_fd = migrate_incoming_ram_fd(fd, st.file);
	} else {
		st.file = strcmp(pos[0], "-") ? pos[0] : "(stdin)";
		fd = strcmp(pos[0], "-") ? open(pos[0], O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
		if (fd < 0)
			die("Unable to open snapshot %s: %s", pos[0], strerror(errno));
	}

	snapr_init(&r, fd);
	if (snapr_file_header(&r))
		die("snapshot %s: %s", st.file, r.err);
	if ((r.version == SNAP_VERSION_MIGRATE) != (incoming != NULL))
		die(incoming ? "snapshot %s: a snapshot (version %u), not a migration stream; restore it without --incoming"
			     : "snapshot %s is a live-migration stream (version %u); receive it with lkvm restore --incoming",
		    st.file, r.version);
	n = snapr_next(&r);
	if (n != 1 || r.type != SNAP_SEC_CONFIG)
		die("snapshot %s: %s", st.file, n < 0 ? r.err : "does not start with its configuration (corrupt snapshot)");
	st.config = strdup((const char *)r.payload);

	{
		char saved_name[80];
		if (!name && snap_config_get(st.config, "name", saved_name, sizeof(saved_name)) && control_name_ok(saved_name))
			name = strdup(saved_name);
	}
	kvm = kvm_alloc(name);
	kvm->ctl_wait_ms = 15000; /* a migration source may still be confirming the save */
	kvm->disk_lock_wait_ms = 15000; /* a save --stop source releases its disks as it ends */
	kvm->disk_lock_defer = incoming != NULL; /* the live source holds them until its final pause */
	apply_config(&st, kvm, disks, nr_disks);
	kvm->cfg.no_seccomp = no_seccomp;
	kvm->cfg.seccomp_log = seccomp_log;
	kvm->cfg.metrics = metrics;
	if (metrics)
		metrics_listen(kvm, metrics); /* before the guest is built: a taken address fails while the source runs */
	kvm->cfg.gdb = gdb;
	kvm->cfg.gdb_wait = gdb_wait;
	if (gdb)
		gdb_setup(kvm, gdb, gdb_wait);
	for (unsigned int i = 0; i < kvm->cfg.nr_disks; i++) {
		/* Check disks now: a missing one must fail before the RAM is read. */
		size_t plen;
		bool ro;
		char path[4096];
		if (virtio_blk_parse_spec(kvm->cfg.disks[i], &plen, &ro, NULL, err, sizeof(err)) || plen >= sizeof(path))
			die("snapshot %s: disk %u: %s", st.file, i, err);
		memcpy(path, kvm->cfg.disks[i], plen);
		path[plen] = '\0';
		if (access(path, ro ? R_OK : R_OK | W_OK))
			die("disk %s of the snapshot: %s; give its new place with -d/--disk (in order)", path,
			    strerror(errno));
	}

	kvm_open(kvm);
	kvm_create_vm(kvm);
	if (ram_fd >= 0 && guest_ram_map_shared(&kvm->ram, ram_fd, err, sizeof(err)))
		die("%s: %s", st.file, err);
	gic_probe(kvm);
	read_sections(&st, &r, kvm);
	if (r.version == SNAP_VERSION_MAPPED)
		load_ram_image(&st, &r, kvm, fd);
	snapr_free(&r);
	if (incoming) {
		/* the connection stays open for the hand-over */
	} else if (fd != STDIN_FILENO) {
		close(fd);
	} else {
		lseek(fd, 0, SEEK_END); /* a snapshot on stdin is used up: the console sees EOF, as after a stream */
	}

	kvm_cpu_create_all(kvm);
	gic_setup(kvm);
	arm_pmu_setup(kvm);
	if (kvm->cfg.pvtime == PVTIME_ON)
		pvtime_restore_vcpus(kvm, st.pvtime_ipa);
	else
		kvm->arch.pvtime = false;
	if (st.clock_advance) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		u64 now_ns = (u64)now.tv_sec * 1000000000ULL + (u64)now.tv_nsec;
		if (now_ns > st.realtime_ns)
			cnt_delta = (u64)((unsigned __int128)(now_ns - st.realtime_ns) * st.cntfrq / 1000000000ULL);
	}
	for (unsigned int i = 0; i < kvm->nr_cpus; i++)
		if (arch_restore_vcpu(kvm->cpus[i], st.vcpu[i].data, st.vcpu[i].len, cnt_delta, err, sizeof(err)))
			die("snapshot %s: %s", st.file, err);
	/*
	 * The interrupt controller before the devices: a device restored to running may raise an interrupt at once
	 * (a packet on its new tap, vhost's first completion), and an MSI sent before the ITS has its tables back
	 * is refused and lost; with EVENT_IDX the guest then never hears of that queue again.
	 */
	if (arch_restore_irqchip(kvm, st.irqchip.data, st.irqchip.len, err, sizeof(err)))
		die("snapshot %s: %s", st.file, err);
	kvm_setup_devices(kvm);
	restore_devices(&st, kvm);
	if (incoming) {
		/* the source released its disks when it paused for good; a third holder fails us before our ACK */
		if (virtio_disks_lock(kvm, 15000, err, sizeof(err)))
			die("%s: %s; the guest keeps running on the source", st.file, err);
		/* the guest's pause as seen here: the final part of the stream, then building the VM from it */
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		fprintf(stderr, "  Info: migration: %llu ms from the PAUSED section to our acknowledgement (%llu ms reading "
			"the final state, %llu ms setting up)\n", (unsigned long long)ms_between(&st.t_paused, &now),
			(unsigned long long)ms_between(&st.t_paused, &st.t_loaded),
			(unsigned long long)ms_between(&st.t_loaded, &now));
		migrate_incoming_handover(fd, st.file);
	} /* no vCPU has run; dies unless the source gives the guest up */
	virtio_resume_restored(kvm); /* kicks sent just before the save; only now may devices touch disks */
	pr_info("%s VM %s: %u vCPUs, %llu MiB, clock %s", incoming ? "received" : "restored", kvm->name, kvm->nr_cpus,
		(unsigned long long)kvm->cfg.ram_mib, clock);
	return kvm_run_vm(kvm);
}

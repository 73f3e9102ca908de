/* Fuzz target: the snapshot and migration stream loader (versions 1, 2 and 3) and the device state it restores. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "kvm/control.h"
#include "kvm/pci.h"
#include "kvm/snapshot.h"
#include "kvm/virtio-blk.h"
#include "kvm/virtio-net.h"
#include "kvm/virtio-pci.h"
#include "kvm/virtio-rng.h"

/*
 * Input: u8 mode, u16 split, then the file. Mode bits: 1 a regular file (a version-2 image is checked with
 * snap_image_verify; otherwise it is read sequentially as from a pipe), 2 run the restored devices, 4 the file is
 * bytes [0, split) at offset 0 and the rest at offset SNAP_IMAGE_ALIGN, zeros in between and up to the end of a RAM
 * image of FZ_RAM_SIZE bytes (a version-2 RAM image cannot fit in a small input otherwise).
 * The loop mirrors snapshot/restore.c's read_sections(), load_ram_image() and restore_devices() without KVM: vCPU
 * and interrupt-controller sections are only framed (their parsers need KVM), the rest is decoded for real into a
 * FZ_RAM_SIZE guest and a virtio-mmio blk device plus a virtio-pci rng device behind an ECAM host.
 * FUZZ_MKSEEDS=DIR writes seed inputs made with the real writer into DIR and exits.
 */
#define ECAM 0x30000000ULL
#define WIN 0x50000000ULL

static int snap_fd = -1, disk_fd = -1, again_fd = -1;
static bool verbose; /* FUZZ_VERBOSE=1: say how far each input loaded */

static int f_msi(void *ctx, u64 addr, u32 data, u32 devid)
{
	(void)ctx, (void)addr, (void)data, (void)devid;
	return 0;
}
static int f_irq(void *ctx, unsigned int spi, int level)
{
	(void)ctx, (void)spi, (void)level;
	return 0;
}
static int f_ioevent(void *ctx, u64 addr, u32 len, int fd, bool assign)
{
	(void)ctx, (void)addr, (void)len, (void)fd, (void)assign;
	return -ENOSYS;
}
static const struct pci_host_ops fake_ops = { .signal_msi = f_msi, .set_irq = f_irq, .ioeventfd = f_ioevent };

/* The machine a snapshot is restored into. */
struct vm {
	struct guest_ram *ram;
	struct device_list bus;
	struct pci_host host;
	struct virtio_blk *blk;
	struct virtio_rng *rng;
	struct device *devs[3];
};

static void vm_init(struct vm *m, struct guest_ram *ram)
{
	char id[VIRTIO_BLK_ID_BYTES] = "fuzz";

	memset(m, 0, sizeof(*m));
	m->ram = ram;
	pci_host_init(&m->host, ECAM, WIN, 0x100000, true, 2, &fake_ops, NULL);
	m->blk = virtio_blk_create(ram, disk_fd, 0x10000, false, id);
	m->rng = virtio_rng_create(ram);
	if (!m->blk || !m->rng || virtio_mmio_init(&m->blk->vdev, FZ_MMIO_BASE, 16) ||
	    virtio_mmio_register(&m->blk->vdev, &m->bus) || pci_host_register(&m->host, &m->bus) ||
	    virtio_pci_init(&m->rng->vdev, &m->host, 48))
		abort();
	m->devs[0] = &m->blk->vdev.dev;
	m->devs[1] = &m->host.ecam;
	m->devs[2] = &m->rng->vdev.dev;
}

static void vm_fini(struct vm *m)
{
	virtio_dev_destroy(&m->blk->vdev);
	virtio_dev_destroy(&m->rng->vdev);
	pthread_rwlock_destroy(&m->host.lock);
	free(m->blk->data);
	free(m->blk);
	free(m->rng);
}

/* One DEVICE section: "name\0", u64 address, the device's own bytes (as restore_devices() matches them). */
static int restore_device(struct vm *m, const u8 *p, size_t len)
{
	struct snap_cursor c = snap_cursor(p, len);
	size_t nl = strnlen((const char *)c.p, c.left);
	char err[256];
	u64 base;

	if (nl == c.left)
		return -1;
	cur_bytes(&c, nl + 1);
	base = cur_u64(&c);
	if (c.bad)
		return -1;
	for (unsigned int i = 0; i < ARRAY_SIZE(m->devs); i++) {
		struct device *d = m->devs[i];
		if (d->restore && !strcmp((const char *)p, d->name) && base == d->mmio_base)
			return d->restore(d, &c, err, sizeof(err));
	}
	return -1;
}

/* A page whose CRC differs from the source's: restore counts them. */
static void digest_report(u64 off, u32 src_crc, u32 dst_crc, void *ctx)
{
	u64 *bad = ctx;

	if (src_crc == dst_crc || !IS_ALIGNED(off, SNAP_PAGE) || off >= FZ_RAM_SIZE)
		abort(); /* only real differences, inside guest RAM */
	++*bad;
}

/* What apply_config() in snapshot/restore.c looks up, and the device specs it hands on. */
static void config(struct vm *m, const char *cfg)
{
	static const char *const nums[] = { "cpus", "mem_mib", "ram_base", "pmu", "pvtime", "rng", "realtime_ns",
					    "cntfrq", "pvtime_base", "pvtime_size" };
	static char v[4096];
	char key[32], err[256];
	u64 n;

	(void)m;
	if (snap_config_get(cfg, "name", v, 72))
		control_name_ok(v);
	snap_config_get(cfg, "arch", v, sizeof(v));
	snap_config_get(cfg, "irqchip", v, sizeof(v));
	snap_config_get(cfg, "memmap", v, sizeof(v));
	snap_config_get(cfg, "virtio_transport", v, sizeof(v));
	snap_config_get(cfg, "console", v, sizeof(v));
	for (unsigned int i = 0; i < ARRAY_SIZE(nums); i++)
		snap_config_u64(cfg, nums[i], &n);
	for (unsigned int i = 0; i < 8; i++) {
		size_t plen;
		bool ro, direct;
		snprintf(key, sizeof(key), "disk.%u", i);
		if (!snap_config_get(cfg, key, v, sizeof(v)))
			break;
		virtio_blk_parse_spec(v, &plen, &ro, &direct, err, sizeof(err));
	}
	for (unsigned int i = 0; i < 4; i++) {
		struct virtio_net_params p;
		snprintf(key, sizeof(key), "net.%u", i);
		if (!snap_config_get(cfg, key, v, sizeof(v)))
			break;
		virtio_net_parse_spec(v, &p, err, sizeof(err));
	}
}

/* Returns 0 if the whole snapshot loaded (what lkvm restore would then run). */
static int load(struct vm *m, int fd, bool regular)
{
	static struct snap_reader r;
	char err[300] = "";
	u8 *image = NULL;
	size_t image_len = 0;
	bool paused = false;
	u64 digest_pages = 0, digest_bad = 0, digest_bad_before = 0;
	int rc, ret = -1;

	snapr_init(&r, fd);
	if (snapr_file_header(&r))
		goto out;
	while ((rc = snapr_next(&r)) == 1) {
		if (r.version == SNAP_VERSION_MIGRATE && !paused &&
		    (r.type == SNAP_SEC_VCPU || r.type == SNAP_SEC_IRQCHIP || r.type == SNAP_SEC_DEVICE))
			goto out;
		switch (r.type) {
		case SNAP_SEC_CONFIG:
			config(m, (const char *)r.payload);
			break;
		case SNAP_SEC_RAM:
			if (snap_ram_chunk_decode(r.payload, r.len, m->ram, err, sizeof(err)))
				goto out;
			break;
		case SNAP_SEC_RAM_PAGES:
			if (digest_pages || snap_ram_pages_decode(r.payload, r.len, m->ram, err, sizeof(err)))
				goto out;
			break;
		case SNAP_SEC_RAM_DIGEST: {
			/* migrate --verify: compared with what arrived; restore refuses to start on a difference */
			int bad = paused ? snap_ram_digest_check(r.payload, r.len, m->ram, digest_report, &digest_bad, err,
								 sizeof(err))
					 : -1;
			if (bad < 0 || (u64)bad != digest_bad - (digest_bad_before))
				goto out;
			digest_bad_before = digest_bad;
			digest_pages += (r.len - 12) / 4;
			break;
		}
		case SNAP_SEC_PAUSED: {
			struct snap_cursor c = snap_cursor(r.payload, r.len);
			cur_u64(&c);
			if (c.bad || c.left || paused)
				goto out;
			paused = true;
			break;
		}
		case SNAP_SEC_RAM_IMAGE:
			if (image)
				goto out;
			image = malloc(r.len + 1);
			if (!image)
				abort();
			memcpy(image, r.payload, r.len);
			image_len = r.len;
			break;
		case SNAP_SEC_DEVICE:
			if (restore_device(m, r.payload, r.len))
				goto out;
			break;
		default: /* vCPU, interrupt controller: framed and CRC-checked by the reader */
			break;
		}
	}
	if (rc < 0 || (r.version == SNAP_VERSION_MIGRATE && !paused) || digest_bad)
		goto out;
	if (r.version == SNAP_VERSION_MAPPED) {
		struct snap_ram_image img;
		u64 data;
		if (!image || snap_image_parse(image, image_len, m->ram->size, &img, err, sizeof(err)) ||
		    img.offset < r.off)
			goto out;
		if (regular ? snap_image_verify(fd, &img, &data, err, sizeof(err))
			    : snap_image_load(&r, &img, m->ram, err, sizeof(err)))
			goto out;
	}
	ret = 0;
out:
	if (verbose)
		fprintf(stderr, "load: %s (at byte %llu) %s %s\n", ret ? "failed" : "ok", (unsigned long long)r.off,
			r.err, err);
	free(image);
	snapr_free(&r);
	return ret;
}

static void mkseeds(const char *dir);

/* What a restore accepted, saved again, must restore again: a fresh machine loads the devices' new sections. */
static void round_trip(struct vm *m)
{
	struct snap_writer w;
	struct vm m2;

	if (ftruncate(again_fd, 0) || lseek(again_fd, 0, SEEK_SET) < 0 || snapw_init(&w, again_fd))
		abort();
	snapw_file_header(&w, SNAP_VERSION);
	for (unsigned int i = 0; i < ARRAY_SIZE(m->devs); i++) {
		struct device *d = m->devs[i];
		snapw_begin(&w, SNAP_SEC_DEVICE);
		snapw_put(&w, d->name, strlen(d->name) + 1);
		snapw_u64(&w, d->mmio_base);
		if (d->save(d, &w) || snapw_end(&w))
			abort();
	}
	if (snapw_finish(&w, FZ_RAM_SIZE) || w.error)
		abort();
	snapw_free(&w);
	if (lseek(again_fd, 0, SEEK_SET) < 0)
		abort();
	vm_init(&m2, m->ram);
	if (load(&m2, again_fd, false)) {
		fprintf(stderr, "round trip: restored device state saved again does not restore\n");
		abort();
	}
	vm_fini(&m2);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	snap_fd = memfd_create("fuzz-snapshot", MFD_CLOEXEC);
	disk_fd = memfd_create("fuzz-disk", MFD_CLOEXEC);
	again_fd = memfd_create("fuzz-snapshot-again", MFD_CLOEXEC);
	if (snap_fd < 0 || disk_fd < 0 || again_fd < 0 || ftruncate(disk_fd, 0x10000))
		return -1;
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (getenv("FUZZ_MKSEEDS")) {
		mkseeds(getenv("FUZZ_MKSEEDS"));
		exit(0);
	}
	return 0;
}

static void write_all(int fd, const u8 *p, size_t n, off_t off)
{
	if (n && pwrite(fd, p, n, off) != (ssize_t)n)
		abort();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz f = fz_init(data, size);
	u8 mode = fz_u8(&f);
	u16 split = fz_u16(&f);
	size_t got;
	const u8 *file = fz_bytes(&f, f.left, &got);
	struct vm m;

	if (ftruncate(snap_fd, 0))
		abort();
	if ((mode & 4) && split < got) {
		write_all(snap_fd, file, split, 0);
		write_all(snap_fd, file + split, got - split, SNAP_IMAGE_ALIGN);
		if (ftruncate(snap_fd, SNAP_IMAGE_ALIGN + FZ_RAM_SIZE))
			abort();
	} else {
		write_all(snap_fd, file, got, 0);
	}
	if (lseek(snap_fd, 0, SEEK_SET) < 0)
		abort();
	vm_init(&m, fz_ram(NULL, 0));
	if (load(&m, snap_fd, mode & 1) != 0) {
		vm_fini(&m);
		return 0; /* lkvm restore stops here with one line */
	}
	if (mode & 2) {
		/* run what was restored: queues re-validated on restore must hold up to use */
		for (unsigned int q = 0; q < VIRTIO_DEV_MAX_QUEUES; q++) {
			virtio_dev_kick(&m.blk->vdev, q);
			virtio_dev_kick(&m.rng->vdev, q);
		}
		m.blk->vdev.rescan = m.rng->vdev.rescan = true;
		fz_poll(&m.blk->vdev);
		fz_poll(&m.rng->vdev);
	}
	round_trip(&m);
	vm_fini(&m);
	return 0;
}

/* ---- seeds, written with the real writer from a small running machine ---- */

static void seed_file(const char *dir, const char *name, u8 mode, u16 split, int fd, off_t image_at)
{
	char path[512];
	off_t end = lseek(fd, 0, SEEK_END), head = image_at ? image_at : end;
	u8 *buf = calloc(1, (size_t)end + 3);
	size_t len;
	FILE *out;

	if (!buf || pread(fd, buf + 3, (size_t)end, 0) != end)
		abort();
	buf[0] = mode;
	len = (size_t)head;
	if (image_at) {
		size_t sect = split, img = (size_t)(end - image_at);
		while (img && !buf[3 + image_at + img - 1]) /* trailing zeros come back from the zero-filled file */
			img--;
		memmove(buf + 3 + sect, buf + 3 + image_at, img);
		len = sect + img;
	}
	buf[1] = (u8)split;
	buf[2] = (u8)(split >> 8);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = fopen(path, "wb");
	if (!out || fwrite(buf, 1, len + 3, out) != len + 3 || fclose(out))
		abort();
	free(buf);
}

/* A driver put blk's queue to use (so its state is non-trivial), then the devices' DEVICE sections. */
static void seed_state(struct vm *m, struct snap_writer *w)
{
	fz_mmio_up(&m->bus, &m->blk->vdev, VIRTIO_FEATURE(VIRTIO_F_VERSION_1), 1, 8);
	for (unsigned int i = 0; i < ARRAY_SIZE(m->devs); i++) {
		struct device *d = m->devs[i];
		snapw_begin(w, SNAP_SEC_DEVICE);
		snapw_put(w, d->name, strlen(d->name) + 1);
		snapw_u64(w, d->mmio_base);
		if (d->save(d, w) || snapw_end(w))
			abort();
	}
	snapw_begin(w, SNAP_SEC_VCPU);
	snapw_u32(w, 0);
	snapw_u64(w, 0);
	snapw_end(w);
}

static void seed_config(struct snap_writer *w)
{
	static const char cfg[] = "arch=arm64\ncpus=1\nmem_mib=1\nram_base=2147483648\nirqchip=gicv3\ndisk.0=/tmp/d,ro\n"
				  "net.0=mode=tap,tapif=tap0\npvtime=1\npvtime_base=0x80ff0000\nmemmap=2\n";
	snapw_begin(w, SNAP_SEC_CONFIG);
	snapw_put(w, cfg, strlen(cfg));
	snapw_end(w);
}

static void mkseeds(const char *dir)
{
	static u8 carried[SNAP_CHUNK_PAGES / 8];
	struct snap_writer w;
	struct vm m;
	u8 populated[SNAP_CHUNK_PAGES];
	u16 split;
	u64 at;

	for (int version = 1; version <= 3; version++) {
		struct guest_ram *ram = fz_ram(NULL, 0);
		memset(ram->host + 0x900, 0xa5, 100); /* some RAM content beyond the rings */
		vm_init(&m, ram);
		if (ftruncate(snap_fd, 0) || lseek(snap_fd, 0, SEEK_SET) < 0 || snapw_init(&w, snap_fd))
			abort();
		snapw_file_header(&w, (u32)version);
		seed_config(&w);
		if (version == 3) {
			memset(carried, 0xff, sizeof(carried));
			snapw_ram_pages(&w, 0, ram->host, FZ_RAM_SIZE / SNAP_PAGE, carried, true, NULL, NULL);
			/* a later pass: pages dirtied again (page 1 now zero, sent as a bit), a later copy wins */
			memset(carried, 0, sizeof(carried));
			carried[0] = 0x06;
			snapw_ram_pages(&w, 0, ram->host, FZ_RAM_SIZE / SNAP_PAGE, carried, false, NULL, NULL);
			snapw_begin(&w, SNAP_SEC_PAUSED);
			snapw_u64(&w, 1);
			snapw_end(&w);
		}
		seed_state(&m, &w);
		if (version == 3) { /* migrate --verify: the source's CRC of every page, after the device state */
			memset(populated, 1, sizeof(populated));
			snapw_ram_digest(&w, 0, ram->host, FZ_RAM_SIZE / SNAP_PAGE, populated);
		}
		if (version == 1) {
			memset(populated, 1, sizeof(populated));
			snapw_ram_chunk(&w, 0, ram->host, FZ_RAM_SIZE / SNAP_PAGE, populated);
		}
		at = 0;
		if (version == 2) {
			at = SNAP_IMAGE_ALIGN;
			split = (u16)(w.bytes + snap_image_section_bytes(FZ_RAM_SIZE) + SNAP_END_BYTES);
			snap_image_write(&w, snap_fd, at, ram);
		}
		if (snapw_finish(&w, FZ_RAM_SIZE) || w.error)
			abort();
		snapw_free(&w);
		if (version == 2) {
			seed_file(dir, "v2-stream", 2 | 4, split, snap_fd, (off_t)at);
			seed_file(dir, "v2-file", 1 | 2 | 4, split, snap_fd, (off_t)at);
		} else {
			seed_file(dir, version == 1 ? "v1" : "v3-migrate", 2, 0, snap_fd, 0);
		}
		vm_fini(&m);
	}
}

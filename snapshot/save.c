/* Saving: pause the VM, quiesce devices, stream config, vCPUs, vGIC, devices and RAM to an fd. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kvm/virtio.h"
#include "kvm/control.h"
#include "kvm/kvm-cpu.h"
#include "kvm/kvm.h"
#include "kvm/ram.h"
#include "kvm/snapshot-arch.h"
#include "kvm/snapshot.h"
#include "kvm/virtio-blk.h"

/* Append "key=value\n"; values may not contain newlines. */
static int cfg_line(char **buf, size_t *len, const char *key, const char *val)
{
	char *nb;
	size_t add = strlen(key) + strlen(val) + 2;

	if (strchr(val, '\n'))
		return -1;
	nb = realloc(*buf, *len + add + 1);
	if (!nb)
		return -1;
	*buf = nb;
	snprintf(*buf + *len, add + 1, "%s=%s\n", key, val);
	*len += add;
	return 0;
}

/* A disk spec with its path made absolute, so a restore from another directory finds it. */
static int abs_disk_spec(const char *spec, char *out, size_t len)
{
	size_t plen;
	bool ro;
	char err[128], path[PATH_MAX], real[PATH_MAX];

	if (virtio_blk_parse_spec(spec, &plen, &ro, NULL, err, sizeof(err)) || plen >= sizeof(path))
		return -1;
	memcpy(path, spec, plen);
	path[plen] = '\0';
	if (!realpath(path, real))
		return -1;
	return snprintf(out, len, "%s%s", real, spec + plen) >= (int)len ? -1 : 0;
}

static char *config_text(struct kvm *kvm, char *err, size_t errlen)
{
	char *b = NULL, v[PATH_MAX + 64], key[32];
	size_t len = 0;
	struct timespec now;
	int bad = 0;

	clock_gettime(CLOCK_REALTIME, &now);
#define NUM(k, x) (snprintf(v, sizeof(v), "%llu", (unsigned long long)(x)), bad |= cfg_line(&b, &len, k, v))
	bad |= cfg_line(&b, &len, "arch", "arm64");
	bad |= cfg_line(&b, &len, "name", kvm->name);
	NUM("cpus", kvm->nr_cpus);
	NUM("mem_mib", kvm->cfg.ram_mib);
	NUM("ram_base", kvm->ram.base);
	bad |= cfg_line(&b, &len, "irqchip",
			kvm->arch.gic_type == IRQCHIP_GICV2 ? "gicv2" :
			kvm->arch.gic_type == IRQCHIP_GICV3_ITS ? "gicv3-its" : "gicv3");
	NUM("pmu", kvm->cfg.pmu);
	NUM("pvtime", kvm->arch.pvtime);
	NUM("pvtime_base", kvm->layout.pvtime_addr);
	NUM("pvtime_size", kvm->layout.pvtime_size);
	bad |= cfg_line(&b, &len, "console", kvm->cfg.console == CONSOLE_VIRTIO ? "virtio" : "serial");
	NUM("realtime_ns", (u64)now.tv_sec * 1000000000ULL + (u64)now.tv_nsec);
	NUM("cntfrq", arch_counter_freq());
	NUM("rng", kvm->cfg.rng);
	bad |= cfg_line(&b, &len, "memmap", LKVM_MEMMAP);
	bad |= cfg_line(&b, &len, "virtio_transport",
			kvm->cfg.virtio_transport == VIRTIO_TRANSPORT_MMIO ? "mmio" : "pci");
	for (unsigned int i = 0; i < kvm->cfg.nr_disks; i++) {
		snprintf(key, sizeof(key), "disk.%u", i);
		if (abs_disk_spec(kvm->cfg.disks[i], v, sizeof(v))) {
			snprintf(err, errlen, "disk %s: cannot resolve its path for the snapshot", kvm->cfg.disks[i]);
			free(b);
			return NULL;
		}
		bad |= cfg_line(&b, &len, key, v);
	}
	for (unsigned int i = 0; i < kvm->cfg.nr_nets; i++) {
		snprintf(key, sizeof(key), "net.%u", i);
		bad |= cfg_line(&b, &len, key, kvm->cfg.nets[i]);
	}
#undef NUM
	if (bad) {
		snprintf(err, errlen, "cannot describe the VM (out of memory or a newline in a path)");
		free(b);
		return NULL;
	}
	return b;
}

void snapshot_quiesce(struct kvm *kvm, bool pause)
{
	for (struct device *d = kvm->devices.head; d; d = d->next)
		if (d->quiesce)
			d->quiesce(d, pause);
}

/* Can this VM be saved at all? Checked before anything is paused or streamed. */
int snapshot_supported(struct kvm *kvm, char *err, size_t errlen)
{
	if (kvm->arch.gic_type == IRQCHIP_GICV2) {
		snprintf(err, errlen, "VMs with --irqchip gicv2 cannot be saved yet (gicv3 and gicv3-its can)");
		return -1;
	}
	if (kvm->cfg.nr_shares || kvm->cfg.rootdir) {
		snprintf(err, errlen, "VMs with 9p shares (--9p, -d DIR) cannot be saved or migrated: the guest's open "
			 "files on the host would not follow");
		return -1;
	}
	/* Every device on the bus carries guest-visible state: refuse rather than lose it. */
	for (struct device *d = kvm->devices.head; d; d = d->next) {
		if (d->mmio_size && !d->save) {
			snprintf(err, errlen, "device %s at 0x%llx cannot be saved", d->name, (unsigned long long)d->mmio_base);
			return -1;
		}
	}
	return 0;
}

int snapshot_write_config(struct kvm *kvm, struct snap_writer *w, char *err, size_t errlen)
{
	char *cfg = config_text(kvm, err, errlen);

	if (!cfg)
		return -1;
	snapw_begin(w, SNAP_SEC_CONFIG);
	snapw_put(w, cfg, strlen(cfg));
	free(cfg);
	if (snapw_end(w))
		return snprintf(err, errlen, "writing the snapshot failed: %s", strerror(w->error)), -1;
	return 0;
}

int snapshot_write_state(struct kvm *kvm, struct snap_writer *w, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < kvm->nr_cpus; i++)
		if (arch_save_vcpu(kvm->cpus[i], w, err, errlen))
			return -1;
	/* with an ITS this also flushes the LPI pending and ITS tables into guest RAM */
	if (arch_save_irqchip(kvm, w, err, errlen))
		return -1;
	for (struct device *d = kvm->devices.head; d; d = d->next) {
		if (!d->save)
			continue;
		snapw_begin(w, SNAP_SEC_DEVICE);
		snapw_put(w, d->name, strlen(d->name) + 1);
		snapw_u64(w, d->mmio_base);
		if (d->save(d, w)) {
			snprintf(err, errlen, "device %s cannot save its state", d->name);
			return -1;
		}
		if (snapw_end(w))
			return snprintf(err, errlen, "writing the snapshot failed: %s", strerror(w->error)), -1;
	}
	return 0;
}

int snapshot_write(struct kvm *kvm, int fd, bool mapped, char *err, size_t errlen)
{
	struct snap_writer w;
	int r = -1;

	/* A version-2 file is written in place: sections from byte 0, the RAM image at an offset after them. */
	if (mapped && (lseek(fd, 0, SEEK_SET) < 0 || ftruncate(fd, 0) < 0)) {
		snprintf(err, errlen, "the snapshot file cannot be written in place: %s", strerror(errno));
		return -1;
	}

	if (snapw_init(&w, fd))
		return snprintf(err, errlen, "out of memory"), -1;
	if (snapshot_supported(kvm, err, errlen)) {
		snapw_free(&w);
		return -1;
	}
	snapw_file_header(&w, mapped ? SNAP_VERSION_MAPPED : SNAP_VERSION);
	if (snapshot_write_config(kvm, &w, err, errlen) || snapshot_write_state(kvm, &w, err, errlen))
		goto out;
	if (mapped) {
		/* the image starts after the RAM_IMAGE and END sections, rounded up to 2 MiB; the gap stays a hole */
		u64 at = ALIGN_UP(w.bytes + snap_image_section_bytes(kvm->ram.size) + SNAP_END_BYTES, SNAP_IMAGE_ALIGN);
		if (snap_image_write(&w, fd, at, &kvm->ram))
			goto io;
	} else {
		u8 populated[SNAP_CHUNK_PAGES];
		for (u64 off = 0; off < kvm->ram.size; off += SNAP_RAM_CHUNK) {
			u64 n = kvm->ram.size - off < SNAP_RAM_CHUNK ? kvm->ram.size - off : SNAP_RAM_CHUNK;
			/* untouched pages are not read: reading would allocate them */
			guest_ram_populated(&kvm->ram, off, n, populated);
			if (snapw_ram_chunk(&w, off, kvm->ram.host + off, (u32)(n / SNAP_PAGE), populated))
				goto io;
		}
	}
	if (snapw_finish(&w, kvm->ram.size))
		goto io;
	r = 0;
	goto out;
io:
	snprintf(err, errlen, "writing the snapshot failed: %s", strerror(w.error ? w.error : EIO));
out:
	snapw_free(&w);
	return r;
}

/* Read one line from the client (the save client's verdict), waiting up to `secs`. */
static int read_verdict(int fd, char *buf, size_t len, int secs)
{
	struct timeval tv = { .tv_sec = secs };
	size_t n = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (n < len - 1) {
		ssize_t r = read(fd, buf + n, 1);
		if (r <= 0)
			break;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return n ? 0 : -1;
}

/*
 * The control-socket side of 'lkvm save': pause, stream the snapshot after a "stream" line, then wait
 * for the client's verdict ("done" once its copy is safely on disk). With stop, a successful save ends
 * the VM; otherwise, and after any failure, the guest resumes.
 */
void snapshot_serve(struct kvm *kvm, int fd, bool stop, int file_fd)
{
	struct timeval tv = { .tv_sec = 120 };
	char err[300], verdict[64];
	bool was_paused = kvm_is_paused(kvm);

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (snapshot_supported(kvm, err, sizeof(err))) {
		dprintf(fd, "error: %s\n", err);
		return;
	}
	kvm_pause(kvm);
	snapshot_quiesce(kvm, true);
	if (file_fd >= 0) {
		/* the client's file: write it in place (version 2), then tell the client it may make it durable */
		if (snapshot_write(kvm, file_fd, true, err, sizeof(err)) || dprintf(fd, "written\n") < 0) {
			pr_err("save of VM %s failed: %s; the guest continues", kvm->name, err);
			dprintf(fd, "error: %s\n", err);
			goto resume;
		}
	} else if (dprintf(fd, "stream\n") < 0 || snapshot_write(kvm, fd, false, err, sizeof(err))) {
		pr_err("save of VM %s failed: %s; the guest continues", kvm->name,
		       errno == EPIPE ? "the client went away" : err);
		dprintf(fd, "error: %s\n", err);
		goto resume;
	}
	if (read_verdict(fd, verdict, sizeof(verdict), 600) || strcmp(verdict, "done")) {
		pr_warn("save of VM %s was not committed by the client (%s); the guest continues", kvm->name,
			verdict[0] ? verdict : "no answer");
		goto resume;
	}
	if (stop) { /* the name and the disks are free for the restored VM from now on */
		control_cleanup(kvm);
		virtio_disks_unlock(kvm);
	}
	dprintf(fd, "ok\n");
	if (stop) {
		pr_info("VM %s saved; stopping as asked (--stop)", kvm->name);
		kvm_request_stop(kvm, 0);
		return;
	}
resume:
	snapshot_quiesce(kvm, false);
	if (!was_paused)
		kvm_resume(kvm);
}

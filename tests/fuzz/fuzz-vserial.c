/* Fuzz target: the multiport console of 'lkvm run -- CMD' (runcmd/vserial.c) against a hostile driver. */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"
#include "kvm/vserial.h"

/*
 * Input: u8 ring features (1 indirect, 2 event_idx), u8 queue size log2 (0..3), u8 op count, ops of two bytes
 * (u8 kind, u8 arg: 0 kick queue arg % 10, 1 host input of arg bytes to port arg % 4, 2 end of input on port arg % 4,
 * 3 a worker round), then guest RAM: queue q's descriptors at FZ_RAM_BASE + q * 0x200, avail ring at + 0x100, used
 * ring at + 0x180; buffers from + 0x2000. Queues: port 0 rx/tx, control rx/tx, then rx/tx of ports 1-3.
 */
#define VQ_DESC(q) (FZ_RAM_BASE + (q) * 0x200ULL)
static int out[2] = { -1, -1 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	return pipe2(out, O_NONBLOCK | O_CLOEXEC) ? -1 : 0;
}

static void on_data(void *ctx, unsigned int port, const u8 *buf, size_t len)
{
	(void)ctx;
	(void)port;
	if (len && memchr(buf, 0x7f, len) == buf + len) /* ASan checks every byte is inside guest RAM */
		abort();
}

static void on_error(void *ctx, unsigned int port, int err)
{
	(void)ctx;
	(void)port;
	(void)err;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static const char *const names[] = { "lkvm.stdin", "lkvm.stdout", "lkvm.stderr", "lkvm.ctl" };
	static const struct vserial_ops ops = { .data = on_data, .out_error = on_error };
	static const u8 pattern[256] = "host input for the guest";
	struct fz f = fz_init(data, size);
	u8 feat = fz_u8(&f), lg = fz_u8(&f) % 4, nops = fz_u8(&f);
	struct device_list bus = { 0 };
	u8 opk[256], opa[256];
	int fds[4] = { -1, out[1], out[1], -1 };
	struct guest_ram *ram;
	struct vserial *vs;
	const u8 *rest;
	size_t got;
	char sink[4096];

	for (unsigned int i = 0; i < nops; i++) {
		opk[i] = fz_u8(&f);
		opa[i] = fz_u8(&f);
	}
	rest = fz_bytes(&f, FZ_RAM_SIZE, &got);
	ram = fz_ram(rest, got);
	vs = vserial_create(ram, 4, names, fds, &ops, NULL);
	if (!vs || virtio_mmio_init(&vs->vdev, FZ_MMIO_BASE, 16) || virtio_mmio_register(&vs->vdev, &bus))
		abort();
	fz_mw(&bus, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 4);
	fz_mw(&bus, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0, 4);
	fz_mw(&bus, VIRTIO_MMIO_DRIVER_FEATURES, (u32)(fz_ring_features(feat) | vs->vdev.ops->features), 4);
	fz_mw(&bus, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1, 4);
	fz_mw(&bus, VIRTIO_MMIO_DRIVER_FEATURES, 1, 4);
	fz_mw(&bus, VIRTIO_MMIO_STATUS, 0xb, 4);
	for (unsigned int q = 0; q < VSERIAL_NR_QUEUES; q++) {
		fz_mw(&bus, VIRTIO_MMIO_QUEUE_SEL, q, 4);
		fz_mw(&bus, VIRTIO_MMIO_QUEUE_NUM, 1u << lg, 4);
		fz_mw(&bus, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)VQ_DESC(q), 4);
		fz_mw(&bus, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (u32)(VQ_DESC(q) + 0x100), 4);
		fz_mw(&bus, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u32)(VQ_DESC(q) + 0x180), 4);
		fz_mw(&bus, VIRTIO_MMIO_QUEUE_READY, 1, 4);
	}
	fz_mw(&bus, VIRTIO_MMIO_STATUS, 0xf, 4);
	fz_poll(&vs->vdev);
	for (unsigned int i = 0; i < nops; i++) {
		switch (opk[i] % 4) {
		case 0: fz_mw(&bus, VIRTIO_MMIO_QUEUE_NOTIFY, opa[i] % VSERIAL_NR_QUEUES, 4); break;
		case 1: vserial_input(vs, opa[i] % 4, pattern, opa[i]); break;
		case 2: vserial_input_eof(vs, opa[i] % 4); break;
		default: break;
		}
		fz_poll(&vs->vdev);
		while (read(out[0], sink, sizeof(sink)) > 0)
			;
	}
	virtio_dev_destroy(&vs->vdev);
	vserial_free(vs);
	while (read(out[0], sink, sizeof(sink)) > 0)
		;
	return 0;
}

/* virtio-mmio transport (version 2, VIRTIO 1.x): register file, feature negotiation, queues, worker thread. */
#ifndef KVM_VIRTIO_MMIO_H
#define KVM_VIRTIO_MMIO_H

#include <poll.h>
#include <pthread.h>

#include "kvm/devices.h"
#include "kvm/guest-mem.h"
#include "kvm/log.h"
#include "kvm/virtio-queue.h"
#include "kvm/virtio.h"

/* Register offsets (VIRTIO 1.2, 4.2.2). */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_SEL 0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW 0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH 0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW 0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH 0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC 0x74726976 /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x4d564b4c /* "LKVM", as kvmtool */
#define VIRTIO_MMIO_INT_VRING 0x1
#define VIRTIO_MMIO_INT_CONFIG 0x2

#define VIRTIO_MMIO_MAX_QUEUES 2
#define VIRTIO_MMIO_CONFIG_MAX 64

struct virtio_mmio;

/*
 * What a device type supplies. The callbacks marked "worker" run on the device's worker thread with vm->lock
 * held, and only while the driver has set DRIVER_OK and the device is not marked as needing a reset.
 */
struct virtio_dev_ops {
	const char *name; /* "blk", "console", ... for messages */
	u32 device_id;
	u64 features; /* device-type feature bits offered; the transport adds VERSION_1, INDIRECT_DESC, EVENT_IDX */
	unsigned int nr_queues;
	u16 queue_max;
	/* worker: the driver notified queue q (also called for every ready queue when DRIVER_OK is set). */
	void (*queue_notify)(struct virtio_mmio *vm, unsigned int q);
	/* worker, optional: someone called virtio_mmio_wake(). */
	void (*host_event)(struct virtio_mmio *vm);
	/* worker, optional: an extra fd to wait on (e.g. a tap) and the events wanted; -1 for none right now. */
	int (*poll_fd)(struct virtio_mmio *vm, short *events);
	void (*fd_ready)(struct virtio_mmio *vm, short revents);
	/* optional, any thread, lock held: the driver reset the device (status 0); drop device-side queue state. */
	void (*reset)(struct virtio_mmio *vm);
	/* optional, main thread, lock held: a snapshot is about to be taken (e.g. flush the backing file). */
	void (*quiesce)(struct virtio_mmio *vm);
};

struct virtio_mmio {
	struct device dev;
	const struct virtio_dev_ops *ops;
	void *priv; /* the device type's own struct */
	const struct guest_ram *ram;
	unsigned int spi;
	char label[48]; /* "virtio-blk@0xa000000" for messages */

	/*
	 * lock: held by MMIO handlers (vCPU threads) and by the worker while it runs device callbacks. The interrupt
	 * status is atomic instead, so the guest's interrupt handler never waits for device work.
	 */
	pthread_mutex_t lock;
	u32 status;
	u32 isr; /* InterruptStatus; atomic */
	u32 config_gen;
	u32 dev_features_sel, drv_features_sel, queue_sel;
	u64 drv_features;
	struct {
		u32 num;
		u64 desc, driver, device;
	} qreg[VIRTIO_MMIO_MAX_QUEUES]; /* what the driver wrote, before QueueReady validates it */
	struct virtq vq[VIRTIO_MMIO_MAX_QUEUES];
	struct iovec *iov[VIRTIO_MMIO_MAX_QUEUES]; /* queue_max entries each, for virtq_chain */
	u8 config[VIRTIO_MMIO_CONFIG_MAX];          /* device config space, little-endian */
	u32 config_size;
	bool rescan; /* DRIVER_OK was just set: let the worker look at every queue */

	/* Event plumbing: kick_fd[q] (ioeventfd on QueueNotify), irq_fd (irqfd), wake_fd (host events, stop). */
	int kick_fd[VIRTIO_MMIO_MAX_QUEUES];
	int irq_fd;
	int wake_fd;
	bool ioeventfd; /* notifications bypass our MMIO handler */
	bool stop;
	pthread_t thread;
	bool thread_started;
	struct ratelimit rl;
};

/*
 * Set up the transport for one device in slot `base` with interrupt `spi` (0-based); creates the eventfds and the
 * per-queue buffers. config_size bytes of vm->config are the device's config space. Returns 0 or -errno.
 */
int virtio_mmio_init(struct virtio_mmio *vm, const struct virtio_dev_ops *ops, void *priv,
		     const struct guest_ram *ram, u64 base, unsigned int spi, u32 config_size);
/* Put the device on the MMIO bus (and so into the device tree). */
int virtio_mmio_register(struct virtio_mmio *vm, struct device_list *list);
/* Start the worker thread (all signals blocked in it). Returns 0 or -errno. */
int virtio_mmio_start(struct virtio_mmio *vm);
/* Stop and join the worker thread, close the fds, free the buffers (tests; lkvm just exits). */
void virtio_mmio_destroy(struct virtio_mmio *vm);
/* One round of the worker: wait up to timeout_ms for events, handle them. Returns the number handled. */
int virtio_mmio_poll(struct virtio_mmio *vm, int timeout_ms);

/* Store a little-endian value of `bytes` bytes into the config space (at init, or with the lock held). */
static inline void virtio_config_put(struct virtio_mmio *vm, u32 off, u64 val, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes && off + i < VIRTIO_MMIO_CONFIG_MAX; i++)
		vm->config[off + i] = (u8)(val >> (8 * i));
}

/* Snapshot hooks (virtio/snapshot.c), installed on every virtio device. */
struct snap_writer;
struct snap_cursor;
void virtio_mmio_quiesce(struct device *dev, bool pause);
int virtio_mmio_save(struct device *dev, struct snap_writer *w);
int virtio_mmio_restore(struct device *dev, struct snap_cursor *c, char *err, size_t errlen);

/* Helpers for device callbacks (lock held). */
/* Pop a chain from queue q: 1 got one, 0 none; a ring violation marks the device as needing reset, returns 0. */
int virtio_mmio_pop(struct virtio_mmio *vm, unsigned int q, struct virtq_chain *ch);
/*
 * After a batch of pushes on queue q: interrupt the driver if it wants one, re-arm notifications. Returns true if
 * the driver added buffers meanwhile (loop again).
 */
bool virtio_mmio_done(struct virtio_mmio *vm, unsigned int q);
/* The guest broke a rule: set DEVICE_NEEDS_RESET, raise a config interrupt, log one rate-limited line. */
void virtio_mmio_fail(struct virtio_mmio *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The device changed its config space: bump ConfigGeneration and raise a config interrupt. */
void virtio_mmio_config_changed(struct virtio_mmio *vm);
/* Raise interrupt bits (VIRTIO_MMIO_INT_*); any thread. */
void virtio_mmio_interrupt(struct virtio_mmio *vm, u32 bits);
/* Any thread, no lock: make the worker call ops->host_event. */
void virtio_mmio_wake(struct virtio_mmio *vm);
/* True if the driver is running the device (DRIVER_OK, not needing reset). */
bool virtio_mmio_running(const struct virtio_mmio *vm);

#endif

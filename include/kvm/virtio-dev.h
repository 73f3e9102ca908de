/* The transport-neutral virtio device core: features, status, queues, config space, worker; transports plug in. */
#ifndef KVM_VIRTIO_DEV_H
#define KVM_VIRTIO_DEV_H

#include <poll.h>
#include <pthread.h>

#include "kvm/devices.h"
#include "kvm/guest-mem.h"
#include "kvm/log.h"
#include "kvm/virtio-queue.h"
#include "kvm/virtio.h"

#define VIRTIO_DEV_MAX_QUEUES 10 /* the multiport console of lkvm run -- CMD (runcmd/vserial.c): 4 ports */
#define VIRTIO_DEV_CONFIG_MAX 64
#define VIRTIO_IRQ_CONFIG (-1) /* virtio_dev_interrupt(): the configuration-change interrupt */

/* Interrupt status bits, shared by both transports (MMIO InterruptStatus, PCI ISR). */
#define VIRTIO_INT_VRING 0x1
#define VIRTIO_INT_CONFIG 0x2

struct virtio_dev;
struct snap_writer;
struct snap_cursor;

/*
 * What a device type supplies. The callbacks marked "worker" run on the device's worker thread with vd->lock
 * held, and only while the driver has set DRIVER_OK and the device is not marked as needing a reset.
 */
struct virtio_dev_ops {
	const char *name; /* "blk", "console", ... for messages */
	u32 device_id;
	u64 features; /* device-type feature bits offered; the core adds VERSION_1, INDIRECT_DESC, EVENT_IDX */
	unsigned int nr_queues;
	u16 queue_max;
	u32 pci_class; /* PCI class code (class << 16 | subclass << 8 | prog-if) */
	/* worker: the driver notified queue q (also called for every ready queue when DRIVER_OK is set). */
	void (*queue_notify)(struct virtio_dev *vd, unsigned int q);
	/* worker, optional: someone called virtio_dev_wake(). */
	void (*host_event)(struct virtio_dev *vd);
	/* worker, optional: an extra fd to wait on (e.g. a tap) and the events wanted; -1 for none right now. */
	int (*poll_fd)(struct virtio_dev *vd, short *events);
	void (*fd_ready)(struct virtio_dev *vd, short revents);
	/* optional, any thread, lock held: the driver reset the device (status 0); drop device-side queue state. */
	void (*reset)(struct virtio_dev *vd);
	/* optional, main thread, lock held: a snapshot is about to be taken (e.g. flush the backing file). */
	void (*quiesce)(struct virtio_dev *vd);
};

/* What a transport (virtio/mmio.c, virtio/pci.c) supplies to the core. */
struct virtio_transport {
	const char *name; /* "mmio", "pci" */
	/* Any thread: raise the interrupt for queue q, or the config interrupt (q == VIRTIO_IRQ_CONFIG). */
	void (*interrupt)(struct virtio_dev *vd, int q);
	/* Lock held: the driver reset the device; reset transport registers. */
	void (*reset)(struct virtio_dev *vd);
	/* Free the transport's own state (after the worker stopped). */
	void (*destroy)(struct virtio_dev *vd);
};

/*
 * Per-queue counters for the metrics endpoint: updated with relaxed atomic adds by whichever thread does the work
 * (mostly the worker), read the same way by the metrics thread. Counted for the life of the process: a reset or a
 * restore does not clear them.
 */
struct virtio_queue_stats {
	u64 requests;      /* chains taken from the ring */
	u64 bytes_out;     /* bytes in their device-readable buffers (guest to device) */
	u64 bytes_in;      /* bytes in their device-writable buffers (room for device to guest) */
	u64 notifications; /* the driver's queue notifications (kicks) the worker received */
	u64 interrupts;    /* interrupts raised for the queue */
	u64 errors;        /* ring violations (the device then needs a reset) */
};

static inline void virtio_stat_add(u64 *ctr, u64 v)
{
	__atomic_fetch_add(ctr, v, __ATOMIC_RELAXED);
}

struct virtio_dev {
	/* The device as the VM sees it: on the MMIO bus (mmio) or a bookkeeping entry for snapshots (pci). */
	struct device dev;
	const struct virtio_dev_ops *ops;
	void *priv; /* the device type's own struct */
	const struct guest_ram *ram;
	const struct virtio_transport *tr;
	void *tp; /* the transport's state */
	char label[48]; /* "virtio-blk@0xa000000" for messages */
	int sandbox;    /* enum sandbox_mode for the worker thread (0: none, as in unit tests) */
	bool file_worker; /* the worker makes file calls beneath a 9p share: sandbox class SANDBOX_SHARE */
	bool net_worker;  /* the worker moves packets over a tap or a passt socket: sandbox class SANDBOX_NET */

	/*
	 * lock: held by register handlers (vCPU threads) and by the worker while it runs device callbacks. The
	 * interrupt status is atomic instead, so the guest's interrupt handler never waits for device work.
	 */
	pthread_mutex_t lock;
	u32 status;
	u32 isr; /* VIRTIO_INT_* bits; atomic */
	u32 config_gen;
	u32 dev_features_sel, drv_features_sel, queue_sel;
	u64 drv_features;
	u64 extra_features; /* this instance's feature bits beyond ops->features (e.g. a back-end's offloads) */
	struct {
		u32 num;
		u64 desc, driver, device;
	} qreg[VIRTIO_DEV_MAX_QUEUES]; /* what the driver wrote, before enabling validates it */
	struct virtq vq[VIRTIO_DEV_MAX_QUEUES];
	struct iovec *iov[VIRTIO_DEV_MAX_QUEUES]; /* queue_max entries each, for virtq_chain */
	u8 config[VIRTIO_DEV_CONFIG_MAX];           /* device config space, little-endian */
	u32 config_size;
	bool rescan; /* DRIVER_OK was just set (or a restore happened): let the worker look at every queue */

	/* Event plumbing: kick_fd[q] (ioeventfd on the queue's notify address), wake_fd (host events, stop). */
	int kick_fd[VIRTIO_DEV_MAX_QUEUES];
	/*
	 * A kernel back-end (vhost) owns queue q when call_fd[q] >= 0: it reads kick_fd[q] itself, and the worker waits
	 * on call_fd[q] instead, raising the queue's interrupt when the back-end signals used buffers there.
	 */
	int call_fd[VIRTIO_DEV_MAX_QUEUES];
	/*
	 * call_direct[q] (atomic): the transport wired call_fd[q] to the guest interrupt inside KVM (an irqfd), so the
	 * back-end's signal never passes through lkvm and the worker does not wait on it. The transport sets it and
	 * wakes the worker; it falls back to the worker whenever the interrupt cannot be direct (a masked vector).
	 */
	bool call_direct[VIRTIO_DEV_MAX_QUEUES];
	int wake_fd;
	bool stop;
	pthread_t thread;
	bool thread_started;
	struct ratelimit rl;

	struct virtio_queue_stats qstats[VIRTIO_DEV_MAX_QUEUES];
	u64 config_interrupts; /* configuration-change interrupts */
	u64 driver_errors;     /* times the guest's driver broke a rule and the device was marked as needing reset */
};

/* Set up the core: eventfds, per-queue buffers. config_size bytes of vd->config are the config space. 0 or -errno. */
int virtio_dev_init(struct virtio_dev *vd, const struct virtio_dev_ops *ops, void *priv, const struct guest_ram *ram,
		    u32 config_size);
/* Start the worker thread (all signals blocked in it). Returns 0 or -errno. */
int virtio_dev_start(struct virtio_dev *vd);
/* Stop and join the worker, close the fds, free the buffers and the transport (tests; lkvm just exits). */
void virtio_dev_destroy(struct virtio_dev *vd);
/* One round of the worker: wait up to timeout_ms for events, handle them. Returns the number handled. */
int virtio_dev_poll(struct virtio_dev *vd, int timeout_ms);

/* Store a little-endian value of `bytes` bytes into the config space (at init, or with the lock held). */
static inline void virtio_config_put(struct virtio_dev *vd, u32 off, u64 val, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes && off + i < VIRTIO_DEV_CONFIG_MAX; i++)
		vd->config[off + i] = (u8)(val >> (8 * i));
}

/* Register-level operations both transports share (lock held). */
u64 virtio_dev_offered_features(const struct virtio_dev *vd);
u32 virtio_dev_features_word(const struct virtio_dev *vd, u32 sel);
void virtio_dev_set_driver_features(struct virtio_dev *vd, u32 sel, u32 v);
void virtio_dev_set_status(struct virtio_dev *vd, u32 v); /* 0 resets the device and the transport */
void virtio_dev_queue_ready(struct virtio_dev *vd, unsigned int q, u32 v);
/* The driver notified queue q (no ioeventfd matched): hand it to the worker. Out-of-range q is ignored. */
void virtio_dev_kick(struct virtio_dev *vd, u32 q);
/* Byte-wise read of the device config space; bytes past its end read 0. */
void virtio_dev_config_read(struct virtio_dev *vd, u64 off, u8 *data, u32 len);

/* Helpers for device callbacks (lock held). */
/* Pop a chain from queue q: 1 got one, 0 none; a ring violation marks the device as needing reset, returns 0. */
int virtio_dev_pop(struct virtio_dev *vd, unsigned int q, struct virtq_chain *ch);
/*
 * After a batch of pushes on queue q: interrupt the driver if it wants one, re-arm notifications. Returns true if
 * the driver added buffers meanwhile (loop again).
 */
bool virtio_dev_done(struct virtio_dev *vd, unsigned int q);
/* The same when `held` buffers stay in the ring, too few for the work waiting: true once more have come. */
bool virtio_dev_done_beyond(struct virtio_dev *vd, unsigned int q, u16 held);
/* The guest broke a rule: set DEVICE_NEEDS_RESET, raise a config interrupt, log one rate-limited line. */
void virtio_dev_fail(struct virtio_dev *vd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The device changed its config space: bump the generation and raise a config interrupt. */
void virtio_dev_config_changed(struct virtio_dev *vd);
/* Raise the interrupt of queue q or VIRTIO_IRQ_CONFIG through the transport; any thread. */
void virtio_dev_interrupt(struct virtio_dev *vd, int q);
/* Any thread, no lock: make the worker call ops->host_event (and look at every queue if rescan is set). */
void virtio_dev_wake(struct virtio_dev *vd);
/* True if the driver is running the device (DRIVER_OK, not needing reset). */
bool virtio_dev_running(const struct virtio_dev *vd);

/* Snapshot support (virtio/snapshot.c): quiesce hook for struct device, and the core's state as bytes. */
void virtio_dev_quiesce(struct device *dev, bool pause);
void virtio_dev_save_core(struct virtio_dev *vd, struct snap_writer *w);
/* Reads the core state; leaves the cursor after it. Lock held by the caller. 0, or -1 with err. */
int virtio_dev_restore_core(struct virtio_dev *vd, struct snap_cursor *c, char *err, size_t errlen);

#endif

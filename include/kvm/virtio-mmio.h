/* virtio-mmio transport (version 2, VIRTIO 1.x): the register file in front of a virtio_dev, one SPI per device. */
#ifndef KVM_VIRTIO_MMIO_H
#define KVM_VIRTIO_MMIO_H

#include "kvm/virtio-dev.h"

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
#define VIRTIO_MMIO_INT_VRING VIRTIO_INT_VRING
#define VIRTIO_MMIO_INT_CONFIG VIRTIO_INT_CONFIG

struct virtio_mmio {
	u64 base;
	unsigned int spi;
	int irq_fd;     /* irqfd: a write injects an edge on the SPI */
	bool vring_direct; /* a kernel back-end's call eventfd is an irqfd on the SPI too: report VRING in status */
	bool ioeventfd; /* QueueNotify writes bypass our handler */
	/* Without irqfd: pulse the SPI with this instead (KVM_IRQ_LINE); NULL while irqfd works. */
	int (*irq_line)(void *ctx, unsigned int spi, int level);
	void *irq_ctx;
};

/*
 * Put vd behind a virtio-mmio register file in slot `base` with interrupt `spi` (0-based): fills vd->dev (MMIO
 * range, device-tree node, snapshot hooks) and creates the irqfd eventfd. Returns 0 or -errno.
 */
int virtio_mmio_init(struct virtio_dev *vd, u64 base, unsigned int spi);
static inline struct virtio_mmio *virtio_mmio_of(struct virtio_dev *vd)
{
	return vd->tp;
}
/* Put the device on the MMIO bus (and so into the device tree). */
int virtio_mmio_register(struct virtio_dev *vd, struct device_list *list);

/* Snapshot hooks of a virtio-mmio device (virtio/snapshot.c). */
int virtio_mmio_save(struct device *dev, struct snap_writer *w);
int virtio_mmio_restore(struct device *dev, struct snap_cursor *c, char *err, size_t errlen);

#endif

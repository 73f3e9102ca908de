/* virtio-pci transport, modern (VIRTIO 1.x capabilities only): one BAR, MSI-X through the ITS or INTx. */
#ifndef KVM_VIRTIO_PCI_H
#define KVM_VIRTIO_PCI_H

#include "kvm/pci.h"
#include "kvm/virtio-dev.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + device id: modern-only device IDs */

/* Capability types (VIRTIO 1.2, 4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* Common configuration structure layout (4.1.4.3). */
#define VIRTIO_PCI_COMMON_DFSELECT 0x00
#define VIRTIO_PCI_COMMON_DF 0x04
#define VIRTIO_PCI_COMMON_GFSELECT 0x08
#define VIRTIO_PCI_COMMON_GF 0x0c
#define VIRTIO_PCI_COMMON_MSIX 0x10
#define VIRTIO_PCI_COMMON_NUMQ 0x12
#define VIRTIO_PCI_COMMON_STATUS 0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT 0x16
#define VIRTIO_PCI_COMMON_Q_SIZE 0x18
#define VIRTIO_PCI_COMMON_Q_MSIX 0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE 0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF 0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO 0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI 0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO 0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI 0x34
#define VIRTIO_PCI_COMMON_SIZE 0x38

#define VIRTIO_PCI_NO_VECTOR 0xffff

/* Our BAR 0 layout (16 KiB): one page per structure. */
#define VIRTIO_PCI_BAR_SIZE 0x4000
#define VIRTIO_PCI_COMMON_OFF 0x0000
#define VIRTIO_PCI_ISR_OFF 0x1000
#define VIRTIO_PCI_DEVICE_OFF 0x2000
#define VIRTIO_PCI_NOTIFY_OFF 0x3000
#define VIRTIO_PCI_NOTIFY_MULT 4
#define VIRTIO_PCI_NOTIFY_SIZE 0x800
#define VIRTIO_PCI_MSIX_TABLE_OFF 0x3800
#define VIRTIO_PCI_MSIX_PBA_OFF 0x3c00
#define VIRTIO_PCI_MAX_VECTORS (VIRTIO_DEV_MAX_QUEUES + 1)

/* Config-space capability offsets. */
#define VIRTIO_PCI_CAP_COMMON_AT 0x40
#define VIRTIO_PCI_CAP_NOTIFY_AT 0x50
#define VIRTIO_PCI_CAP_ISR_AT 0x64
#define VIRTIO_PCI_CAP_DEVICE_AT 0x74
#define VIRTIO_PCI_CAP_PCICFG_AT 0x84
#define VIRTIO_PCI_CAP_MSIX_AT 0x98
#define PCI_MSIX_CTRL_ENABLE 0x8000
#define PCI_MSIX_CTRL_MASKALL 0x4000

struct virtio_pci {
	struct pci_function fn;
	struct virtio_dev *vd;
	bool has_msix; /* an MSI-X capability (the host bridge has an MSI controller) */
	unsigned int nr_vectors;
	/* irq_lock: MSI-X table, PBA, vectors, the INTx level. Taken after vd->lock, never before it. */
	pthread_mutex_t irq_lock;
	u16 config_vector;
	u16 queue_vector[VIRTIO_DEV_MAX_QUEUES];
	struct {
		u32 addr_lo, addr_hi, data, ctrl;
	} msix[VIRTIO_PCI_MAX_VECTORS];
	u64 pba;
	bool intx_level;
	bool notify_ioeventfd; /* queue notifications registered with KVM at the BAR's current place */
	u64 msi_errors;
	struct ratelimit rl;
	/* Queues a kernel back-end owns (vd->call_fd): the host's route handle for each, and whether to stop trying. */
	int irqfd_route[VIRTIO_DEV_MAX_QUEUES];
	bool irqfd_failed;
};

static inline bool virtio_pci_msix_enabled(const struct virtio_pci *vp)
{
	return vp->has_msix && (pci_cfg_get(&vp->fn, VIRTIO_PCI_CAP_MSIX_AT + 2, 2) & PCI_MSIX_CTRL_ENABLE);
}

static inline bool virtio_pci_vector_masked(const struct virtio_pci *vp, unsigned int v)
{
	return (pci_cfg_get(&vp->fn, VIRTIO_PCI_CAP_MSIX_AT + 2, 2) & PCI_MSIX_CTRL_MASKALL) || (vp->msix[v].ctrl & 1);
}

/*
 * irq_lock held (virtio/pci-irqfd.c): after any change to the MSI-X state or the queue vectors, wire each queue a
 * kernel back-end owns straight to its vector inside KVM while the vector is enabled and unmasked, and hand it back
 * to the worker (which honours the mask and the PBA) otherwise.
 */
void virtio_pci_sync_irqfds(struct virtio_pci *vp);

/*
 * Put vd on host `h` as a modern virtio-pci function with INTA# on spi (and MSI-X when the host has an MSI
 * controller): fills vd->dev (a bus-less entry with the snapshot hooks). Returns 0 or -errno.
 */
int virtio_pci_init(struct virtio_dev *vd, struct pci_host *h, unsigned int spi);
static inline struct virtio_pci *virtio_pci_of(struct virtio_dev *vd)
{
	return vd->tp;
}

#endif

/* VIRTIO 1.x constants shared by the transport and the devices, and the one entry point kvm.c calls. */
#ifndef KVM_VIRTIO_H
#define KVM_VIRTIO_H

#include "kvm/util.h"

/* Device status bits (VIRTIO 1.2, 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* Reserved (transport) feature bits (6). */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_FEATURE(bit) (1ULL << (bit))

/* Device IDs (5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_9P 9

/* Limits of this implementation. */
#define VIRTIO_MAX_DISKS 8 /* the size of kvm_config.disks[] */
#define VIRTIO_MAX_NICS 4  /* the size of kvm_config.nets[] */

struct kvm;

/*
 * Create every virtio device the configuration asks for: each takes the next virtio-mmio slot, registers on the
 * MMIO bus with its device-tree node, wires its queue notifications (ioeventfd) and interrupt (irqfd) into KVM and
 * starts its worker thread. Dies with one line on host-side setup errors (a missing disk, no /dev/net/tun).
 */
void virtio_setup(struct kvm *kvm);
struct virtio_dev;
/* Attach one more device (created by its owner, e.g. runcmd/) the same way; dies with one line naming `what`. */
void virtio_attach(struct kvm *kvm, struct virtio_dev *vd, const char *what);
/* After a restore, once the interrupt controller is restored too: let every device look at its queues. */
void virtio_resume_restored(struct kvm *kvm);
/* Lock every disk image not yet locked (waiting up to wait_ms for a holder to let go): 0, or -1 with a reason. */
int virtio_disks_lock(struct kvm *kvm, unsigned int wait_ms, char *err, size_t errlen);
/* Release every disk lock: the guest will not write here again (handed over to a destination or a snapshot). */
void virtio_disks_unlock(struct kvm *kvm);

#endif

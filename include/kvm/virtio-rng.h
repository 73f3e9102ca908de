/* virtio-rng: an entropy source for the guest, fed from the host's getrandom(). */
#ifndef KVM_VIRTIO_RNG_H
#define KVM_VIRTIO_RNG_H

#include "kvm/virtio-dev.h"

#define VIRTIO_RNG_QUEUE_SIZE 64
#define VIRTIO_RNG_MAX_REQUEST 65536 /* bytes handed out per request at most */

struct virtio_rng {
	struct virtio_dev vdev;
};

/* A virtio-rng device (not yet registered or started); NULL on allocation failure. */
struct virtio_rng *virtio_rng_create(const struct guest_ram *ram);

#endif

/* virtio-rng device: fills the guest's device-writable buffers with bytes from getrandom(). */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "kvm/virtio-rng.h"

/* Fill one buffer; returns the bytes written (short only if getrandom fails). */
static size_t fill(u8 *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom(p + done, len - done, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return done;
}

static void rng_queue_notify(struct virtio_dev *vd, unsigned int q)
{
	struct virtq_chain ch;

	do {
		while (virtio_dev_pop(vd, q, &ch)) {
			size_t total = 0;
			for (unsigned int i = ch.n_out; i < ch.n_out + ch.n_in && total < VIRTIO_RNG_MAX_REQUEST; i++) {
				size_t want = ch.iov[i].iov_len, got;
				if (want > VIRTIO_RNG_MAX_REQUEST - total)
					want = VIRTIO_RNG_MAX_REQUEST - total;
				got = fill(ch.iov[i].iov_base, want);
				total += got;
				if (got < want)
					break;
			}
			virtq_push(&vd->vq[q], ch.head, (u32)total);
		}
	} while (virtio_dev_done(vd, q));
}

static const struct virtio_dev_ops rng_ops = {
	.name = "rng",
	.device_id = VIRTIO_ID_RNG,
	.pci_class = 0x00ff00,
	.nr_queues = 1,
	.queue_max = VIRTIO_RNG_QUEUE_SIZE,
	.queue_notify = rng_queue_notify,
};

struct virtio_rng *virtio_rng_create(const struct guest_ram *ram)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (virtio_dev_init(&r->vdev, &rng_ops, r, ram, 0)) {
		virtio_dev_destroy(&r->vdev);
		free(r);
		return NULL;
	}
	return r;
}

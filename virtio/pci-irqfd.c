/* virtio-pci: a kernel back-end's queue interrupts (vhost-net's call eventfds) wired straight to MSI-X in KVM. */
#include <string.h>

#include "kvm/virtio-pci.h"

void virtio_pci_sync_irqfds(struct virtio_pci *vp)
{
	struct virtio_dev *vd = vp->vd;
	struct pci_host *h = vp->fn.host;
	bool changed = false;

	if (!h || !h->ops || !h->ops->msi_irqfd)
		return;
	for (unsigned int q = 0; q < vd->ops->nr_queues; q++) {
		unsigned int v = vp->queue_vector[q];
		bool was = __atomic_load_n(&vd->call_direct[q], __ATOMIC_ACQUIRE), want;
		int r;

		if (vd->call_fd[q] < 0)
			continue;
		want = !vp->irqfd_failed && virtio_pci_msix_enabled(vp) && v < vp->nr_vectors &&
		       !virtio_pci_vector_masked(vp, v);
		if (want) {
			u64 addr = (u64)vp->msix[v].addr_hi << 32 | vp->msix[v].addr_lo;

			r = h->ops->msi_irqfd(h->ctx, vd->call_fd[q], &vp->irqfd_route[q], addr, vp->msix[v].data,
					      pci_requester_id(&vp->fn), true);
			if (r) {
				/* Still correct, one wake-up slower: the worker reads the eventfd and sends the MSI. */
				pr_warn("%s: cannot wire queue %u's interrupt into KVM (%s); it goes through lkvm",
					vd->label, q, strerror(-r));
				vp->irqfd_failed = true;
				want = false;
			}
		} else if (was) {
			h->ops->msi_irqfd(h->ctx, vd->call_fd[q], &vp->irqfd_route[q], 0, 0, 0, false);
		}
		if (want != was) {
			__atomic_store_n(&vd->call_direct[q], want, __ATOMIC_RELEASE);
			changed = true;
		}
	}
	if (changed)
		virtio_dev_wake(vd); /* the worker rebuilds the set of fds it waits on */
}

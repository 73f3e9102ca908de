/* KVM GSI routing for irqfds that target MSIs (vhost-net's interrupts without lkvm in the path). */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/irq-routes.h"

void irq_routes_init(struct irq_routes *r, int vm_fd, unsigned int nr_spis)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	r->vm_fd = vm_fd;
	r->nr_spis = nr_spis;
}

/* lock held: give KVM the whole table. */
static int commit(struct irq_routes *r)
{
	unsigned int n = r->nr_spis + r->nr_msi;
	struct kvm_irq_routing *t = calloc(1, sizeof(*t) + n * sizeof(t->entries[0]));
	int e = 0;

	if (!t)
		return -ENOMEM;
	t->nr = n;
	for (unsigned int i = 0; i < r->nr_spis; i++) {
		t->entries[i].gsi = i;
		t->entries[i].type = KVM_IRQ_ROUTING_IRQCHIP;
		t->entries[i].u.irqchip.irqchip = 0;
		t->entries[i].u.irqchip.pin = i;
	}
	for (unsigned int i = 0; i < r->nr_msi; i++) {
		struct kvm_irq_routing_entry *x = &t->entries[r->nr_spis + i];

		x->gsi = r->nr_spis + i;
		x->type = KVM_IRQ_ROUTING_MSI;
		x->flags = KVM_MSI_VALID_DEVID;
		x->u.msi.address_lo = (u32)r->msi[i].addr;
		x->u.msi.address_hi = (u32)(r->msi[i].addr >> 32);
		x->u.msi.data = r->msi[i].data;
		x->u.msi.devid = r->msi[i].devid;
	}
	if (ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, t) < 0)
		e = -errno;
	free(t);
	return e;
}

static int irqfd(struct irq_routes *r, unsigned int i, bool assign)
{
	struct kvm_irqfd f = { .fd = (u32)r->msi[i].fd, .gsi = r->nr_spis + i,
			       .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN };

	return ioctl(r->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int irq_routes_msi_irqfd(struct irq_routes *r, int fd, int *route, u64 addr, u32 data, u32 devid, bool assign)
{
	unsigned int i;
	int e = 0;

	pthread_mutex_lock(&r->lock);
	if (*route < 0) {
		if (!assign)
			goto out;
		if (r->nr_msi >= IRQ_ROUTES_MAX_MSI) {
			e = -ENOSPC;
			goto out;
		}
		*route = (int)r->nr_msi++;
		r->msi[*route].fd = -1;
		r->msi[*route].addr = ~0ULL; /* forces the first commit */
	}
	i = (unsigned int)*route;
	if (!assign) {
		if (r->msi[i].irqfd)
			e = irqfd(r, i, false);
		r->msi[i].irqfd = false;
		goto out;
	}
	if (r->msi[i].addr != addr || r->msi[i].data != data || r->msi[i].devid != devid) {
		r->msi[i].addr = addr;
		r->msi[i].data = data;
		r->msi[i].devid = devid;
		e = commit(r);
		if (e) {
			r->msi[i].addr = ~0ULL;
			if (r->msi[i].irqfd && !irqfd(r, i, false))
				r->msi[i].irqfd = false;
			goto out;
		}
	}
	if (r->msi[i].irqfd && r->msi[i].fd != fd) {
		irqfd(r, i, false);
		r->msi[i].irqfd = false;
	}
	if (!r->msi[i].irqfd) {
		r->msi[i].fd = fd;
		e = irqfd(r, i, true);
		r->msi[i].irqfd = !e;
	}
out:
	pthread_mutex_unlock(&r->lock);
	return e;
}

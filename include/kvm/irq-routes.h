/* KVM GSI routing for irqfds that target MSIs: the SPIs' identity routes plus one MSI route per user. */
#ifndef KVM_IRQ_ROUTES_H
#define KVM_IRQ_ROUTES_H

#include <pthread.h>
#include <stdbool.h>

#include "kvm/util.h"

#define IRQ_ROUTES_MAX_MSI 64

/*
 * KVM_SET_GSI_ROUTING replaces the whole table, so the table is kept here: GSIs 0..nr_spis-1 route to the SPIs
 * as KVM's default table does (an irqfd on an SPI keeps working), and GSI nr_spis + i is MSI route i.
 */
struct irq_routes {
	pthread_mutex_t lock;
	int vm_fd;
	unsigned int nr_spis;
	unsigned int nr_msi;
	struct {
		u64 addr;
		u32 data, devid;
		int fd;       /* the eventfd wired to it while irqfd is set */
		bool irqfd;   /* KVM_IRQFD currently assigned */
	} msi[IRQ_ROUTES_MAX_MSI];
};

void irq_routes_init(struct irq_routes *r, int vm_fd, unsigned int nr_spis);
/*
 * Any thread. assign: route *route (allocated when -1) to the MSI (addr, data, devid through the ITS) and wire
 * eventfd fd to it with KVM_IRQFD; called again with other values, only the route changes. !assign: remove the
 * irqfd (the route is kept for the next assign). 0 or -errno (then nothing is wired).
 */
int irq_routes_msi_irqfd(struct irq_routes *r, int fd, int *route, u64 addr, u32 data, u32 devid, bool assign);

#endif

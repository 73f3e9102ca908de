/* vhost-net for a tap (-n mode=tap,vhost=on): the kernel's data path, started and stopped with the guest's rings. */
#ifndef KVM_NET_VHOST_H
#define KVM_NET_VHOST_H

#include <stdbool.h>
#include <stddef.h>

#include "kvm/guest-mem.h"
#include "kvm/virtio-queue.h"

#define NET_VHOST_QUEUES 2 /* rx, tx */

struct net_vhost {
	int fd;                         /* /dev/vhost-net, owned by this process */
	u64 features;                   /* what the kernel's vhost-net offers */
	int call_fd[NET_VHOST_QUEUES];  /* the kernel signals used buffers here; lkvm raises the queue's interrupt */
	bool attached[NET_VHOST_QUEUES];
	bool started;                   /* the kernel owns the rings now (lkvm's ring indices are stale) */
	u64 starts;                     /* times started (each DRIVER_OK, resume or restore) */
};

/*
 * Open /dev/vhost-net and take ownership (before the sandbox). NULL with a one-line reason (naming the vhost_net
 * module when the device is missing).
 */
struct net_vhost *net_vhost_open(char *err, size_t errlen);
void net_vhost_free(struct net_vhost *v);
/*
 * Hand the kernel the guest memory, the negotiated ring features and both queues (size, addresses, next avail
 * index vq[q].last_avail, kick_fd[q] as its kick, its own call fd), then attach the tap. 0 or -errno with err.
 */
int net_vhost_start(struct net_vhost *v, const struct guest_ram *ram, u64 drv_features, const struct virtq *vq,
		    const int *kick_fd, int tap_fd, char *err, size_t errlen);
/*
 * Detach the tap (waits for the kernel's work in flight) and, with vq non-NULL, take the ring indices back:
 * last_avail from VHOST_GET_VRING_BASE, used_idx from the used ring. 0 or -errno.
 */
int net_vhost_stop(struct net_vhost *v, struct virtq *vq);

#endif

/* vhost-net for a tap: the host kernel moves the packets; lkvm hands it the rings and takes their indices back. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm/net-backend.h"
#include "kvm/net-vhost.h"
#include "kvm/virtio.h"

/* The ring features lkvm offers that vhost must follow too; the device features (MAC, STATUS) stay lkvm's. */
#define VHOST_RING_FEATURES                                                                                          \
	(VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC) |                          \
	 VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX))

struct net_vhost *net_vhost_open(char *err, size_t errlen)
{
	struct net_vhost *v;
	int fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC), e;
	u64 features = 0;

	if (fd < 0) {
		e = errno;
		if (e == ENOENT || e == ENODEV || e == ENXIO)
			snprintf(err, errlen, "this host has no /dev/vhost-net; load the vhost_net module "
					      "(modprobe vhost_net) or drop vhost=on");
		else
			snprintf(err, errlen, "cannot open /dev/vhost-net: %s (run lkvm as root, or give its user "
					      "access to /dev/vhost-net; or drop vhost=on)", strerror(e));
		return NULL;
	}
	if (ioctl(fd, VHOST_SET_OWNER) < 0 || ioctl(fd, VHOST_GET_FEATURES, &features) < 0) {
		snprintf(err, errlen, "/dev/vhost-net refused lkvm: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	if ((features & VHOST_RING_FEATURES) != VHOST_RING_FEATURES) {
		snprintf(err, errlen, "this kernel's vhost-net lacks VIRTIO 1.x ring features (has 0x%llx); "
				      "drop vhost=on", (unsigned long long)features);
		close(fd);
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	v->fd = fd;
	v->features = features;
	for (int q = 0; q < NET_VHOST_QUEUES; q++)
		v->call_fd[q] = -1;
	for (int q = 0; q < NET_VHOST_QUEUES; q++) {
		v->call_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (v->call_fd[q] < 0) {
			snprintf(err, errlen, "eventfd: %s", strerror(errno));
			net_vhost_free(v);
			return NULL;
		}
	}
	return v;
}

void net_vhost_free(struct net_vhost *v)
{
	if (!v)
		return;
	for (int q = 0; q < NET_VHOST_QUEUES; q++)
		if (v->call_fd[q] >= 0)
			close(v->call_fd[q]);
	close(v->fd);
	free(v);
}

static int fail(char *err, size_t errlen, const char *what, unsigned int q)
{
	int e = errno;

	snprintf(err, errlen, "vhost-net: %s (queue %u): %s", what, q, strerror(e));
	return -e;
}

int net_vhost_start(struct net_vhost *v, const struct guest_ram *ram, u64 drv_features, const struct virtq *vq,
		    const int *kick_fd, int tap_fd, char *err, size_t errlen)
{
	/* One region: guest RAM is one mapping (set each time: a restore maps RAM anew). */
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region r;
	} mem = { .hdr = { .nregions = 1 },
		  .r = { .guest_phys_addr = ram->base, .memory_size = ram->size, .userspace_addr = (u64)(uintptr_t)ram->host } };
	/* the ring features and merged buffers; the offload bits are the tap's business (TUNSETOFFLOAD) */
	u64 features = drv_features & v->features & (VHOST_RING_FEATURES | VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF));
	unsigned int q;

	if (v->started)
		return 0;
	if (ioctl(v->fd, VHOST_SET_MEM_TABLE, &mem) < 0)
		return fail(err, errlen, "cannot give it the guest's memory", 0);
	if (ioctl(v->fd, VHOST_SET_FEATURES, &features) < 0)
		return fail(err, errlen, "cannot set the negotiated features", 0);
	for (q = 0; q < NET_VHOST_QUEUES; q++) {
		const struct virtq *x = &vq[q];
		struct vhost_vring_state num = { .index = q, .num = x->size }, base = { .index = q, .num = x->last_avail };
		struct vhost_vring_addr addr = { .index = q,
						 .desc_user_addr = (u64)(uintptr_t)x->desc,
						 .avail_user_addr = (u64)(uintptr_t)x->avail,
						 .used_user_addr = (u64)(uintptr_t)x->used };
		struct vhost_vring_file kick = { .index = q, .fd = kick_fd[q] }, call = { .index = q, .fd = v->call_fd[q] };

		if (!x->ready)
			return fail(err, errlen, "the guest did not enable the queue", q);
		if (ioctl(v->fd, VHOST_SET_VRING_NUM, &num) < 0)
			return fail(err, errlen, "VHOST_SET_VRING_NUM", q);
		if (ioctl(v->fd, VHOST_SET_VRING_BASE, &base) < 0)
			return fail(err, errlen, "VHOST_SET_VRING_BASE", q);
		if (ioctl(v->fd, VHOST_SET_VRING_ADDR, &addr) < 0)
			return fail(err, errlen, "VHOST_SET_VRING_ADDR", q);
		if (ioctl(v->fd, VHOST_SET_VRING_KICK, &kick) < 0)
			return fail(err, errlen, "VHOST_SET_VRING_KICK", q);
		if (ioctl(v->fd, VHOST_SET_VRING_CALL, &call) < 0)
			return fail(err, errlen, "VHOST_SET_VRING_CALL", q);
	}
	for (q = 0; q < NET_VHOST_QUEUES; q++) {
		struct vhost_vring_file be = { .index = q, .fd = tap_fd };
		if (ioctl(v->fd, VHOST_NET_SET_BACKEND, &be) < 0) {
			int r = fail(err, errlen, "cannot attach the tap", q);
			net_vhost_stop(v, NULL);
			return r;
		}
		v->attached[q] = true;
	}
	v->started = true;
	v->starts++;
	return 0;
}

int net_vhost_stop(struct net_vhost *v, struct virtq *vq)
{
	int r = 0;

	for (unsigned int q = 0; q < NET_VHOST_QUEUES; q++) {
		struct vhost_vring_file be = { .index = q, .fd = -1 };
		/* Detaching waits for the kernel's work on the queue: afterwards nothing touches the ring. */
		if (v->attached[q] && ioctl(v->fd, VHOST_NET_SET_BACKEND, &be) < 0)
			r = -errno;
		v->attached[q] = false;
	}
	if (!v->started)
		return r;
	v->started = false;
	if (!vq)
		return r;
	for (unsigned int q = 0; q < NET_VHOST_QUEUES; q++) {
		struct vhost_vring_state base = { .index = q };
		struct virtq *x = &vq[q];
		if (!x->ready || !x->used)
			continue;
		/* The kernel's next avail slot; what it completed is in used->idx, in guest memory. */
		if (ioctl(v->fd, VHOST_GET_VRING_BASE, &base) < 0) {
			r = -errno;
			continue;
		}
		x->last_avail = (u16)base.num;
		x->used_idx = le16toh(__atomic_load_n(&x->used->idx, __ATOMIC_ACQUIRE));
		x->signalled_used = x->used_idx;
	}
	return r;
}

/* virtio-console: one port (no multiport); guest output to a host fd, host input through a small buffer. */
#ifndef KVM_VIRTIO_CONSOLE_H
#define KVM_VIRTIO_CONSOLE_H

#include <pthread.h>

#include "kvm/virtio-dev.h"

#define VIRTIO_CONSOLE_QUEUE_SIZE 64
#define VIRTIO_CONSOLE_RXQ 0 /* port 0 receiveq: host to guest */
#define VIRTIO_CONSOLE_TXQ 1 /* port 0 transmitq: guest to host */
#define VIRTIO_CONSOLE_CONFIG_SIZE 12 /* cols, rows, max_nr_ports, emerg_wr: all zero, no features */
#define VIRTIO_CONSOLE_INBUF 4096

struct virtio_console {
	struct virtio_dev vdev;
	int out_fd;
	/* Host input not yet in guest buffers. in_lock only (the main thread never waits for vd->lock). */
	pthread_mutex_t in_lock;
	unsigned char in[VIRTIO_CONSOLE_INBUF];
	size_t in_head, in_len;
	/*
	 * The guest has transmitted on the port since the driver (re)started. Without multiport there is no PORT_OPEN
	 * message, and Linux posts its receive buffers before it marks the port connected, discarding what arrives in
	 * between; its first transmission comes after that, so host input waits for it (atomic: worker and reset).
	 */
	bool spoke;
};

/* A console writing guest output to out_fd (not yet registered or started); NULL on allocation failure. */
struct virtio_console *virtio_console_create(const struct guest_ram *ram, int out_fd);
/* Host input for the guest (any thread): returns how many bytes were taken; the rest should be offered later. */
size_t virtio_console_receive(struct virtio_console *c, const unsigned char *buf, size_t len);

#endif

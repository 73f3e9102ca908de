/* virtio-console with named ports (VIRTIO_CONSOLE_F_MULTIPORT): the byte channels of 'lkvm run -- CMD'. */
#ifndef KVM_VSERIAL_H
#define KVM_VSERIAL_H

#include <pthread.h>

#include "kvm/virtio-dev.h"

#define VSERIAL_MAX_PORTS 4
#define VSERIAL_NR_QUEUES (2 + 2 * VSERIAL_MAX_PORTS) /* port 0 rx/tx, control rx/tx, then rx/tx per port */
#define VSERIAL_QUEUE_SIZE 64
#define VSERIAL_INBUF 65536   /* host input held per port until the guest takes it */
#define VSERIAL_CTRL_QUEUE 32 /* control messages waiting for the driver's buffers */
#define VSERIAL_NAME_MAX 32
#define VSERIAL_CONFIG_SIZE 12 /* cols, rows (u16), max_nr_ports (u32), emerg_wr (u32) */
#define VIRTIO_CONSOLE_F_MULTIPORT 1

/* Control messages (VIRTIO 1.2, 5.3.6.2): u32 id, u16 event, u16 value, little-endian, then an event's payload. */
#define VSERIAL_CTRL_HDR 8
enum vserial_event {
	VSERIAL_DEVICE_READY = 0,
	VSERIAL_PORT_ADD = 1,
	VSERIAL_PORT_REMOVE = 2,
	VSERIAL_PORT_READY = 3,
	VSERIAL_CONSOLE_PORT = 4,
	VSERIAL_RESIZE = 5,
	VSERIAL_PORT_OPEN = 6,
	VSERIAL_PORT_NAME = 7,
};

/* What the owner of the device hears (on the worker thread, device lock held; keep it short). */
struct vserial_ops {
	/* Guest output on a port with no out_fd. Everything the guest queued on the other ports before it has been
	 * written out already: a message here is ordered after the output it follows. */
	void (*data)(void *ctx, unsigned int port, const u8 *buf, size_t len);
	/* Writing a port's output to its fd failed (e.g. EPIPE: the reader went away); called once per port. */
	void (*out_error)(void *ctx, unsigned int port, int err);
};

struct vserial_port {
	char name[VSERIAL_NAME_MAX];
	int out_fd;      /* guest output goes here; -1: to ops->data */
	bool out_failed; /* writing to out_fd failed: later output is dropped */
	/* Driver-side state, from control messages (worker, lock held). */
	bool ready;      /* PORT_READY received: the name and connection state were sent */
	bool guest_open; /* a guest program has the port open */
	bool eof_sent;   /* host input ended and PORT_OPEN 0 went out */
	/* Host input not yet in guest buffers (in_lock). */
	u8 *in;
	size_t in_head, in_len;
	bool in_eof; /* no more input will come: disconnect once it is delivered */
};

struct vserial {
	struct virtio_dev vdev;
	unsigned int nr_ports;
	struct vserial_port port[VSERIAL_MAX_PORTS];
	pthread_mutex_t in_lock; /* every port's in, in_head, in_len, in_eof (other threads add input) */
	/* Control messages for the driver, oldest first (worker only). */
	struct {
		u8 msg[VSERIAL_CTRL_HDR + VSERIAL_NAME_MAX];
		u32 len;
	} ctrl[VSERIAL_CTRL_QUEUE];
	unsigned int ctrl_head, ctrl_len;
	bool device_ready; /* DEVICE_READY seen since the last reset: ports were offered */
	const struct vserial_ops *ops;
	void *ctx;
};

/*
 * A device with nr_ports named ports (at most VSERIAL_MAX_PORTS; names 1..31 bytes). out_fds[i] >= 0: port i's
 * guest output is written there; -1: it goes to ops->data. NULL on bad arguments or no memory.
 */
struct vserial *vserial_create(const struct guest_ram *ram, unsigned int nr_ports, const char *const *names,
			       const int *out_fds, const struct vserial_ops *ops, void *ctx);
/* Free a device whose worker is stopped (virtio_dev_destroy first). */
void vserial_free(struct vserial *vs);
/* Host input for port (any thread): returns the bytes taken (the rest should be offered again later). */
size_t vserial_input(struct vserial *vs, unsigned int port, const u8 *buf, size_t len);
/* Bytes of host input port can still take (any thread). */
size_t vserial_input_space(struct vserial *vs, unsigned int port);
/* No more host input for port (any thread): once what was given is delivered, the guest reads end of file. */
void vserial_input_eof(struct vserial *vs, unsigned int port);
/* Queue index of port p's receive (host to guest) queue; its transmit queue is the next one. */
static inline unsigned int vserial_rxq(unsigned int p)
{
	return p == 0 ? 0 : 2 + 2 * p;
}

#endif

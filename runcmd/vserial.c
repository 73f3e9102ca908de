/* virtio-console multiport device: named ports, control messages, host input with end of file, ordered output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm/io.h"
#include "kvm/vserial.h"

#define CTRL_RXQ 2 /* control receiveq: device to driver */
#define CTRL_TXQ 3 /* control transmitq: driver to device */

static void le_put(u8 *p, u64 v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[i] = (u8)(v >> (8 * i));
}

static u64 le_get(const u8 *p, unsigned int bytes)
{
	u64 v = 0;
	for (unsigned int i = 0; i < bytes; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

/* Queue a control message for the driver (sent when it has posted buffers: ctrl_deliver). */
static void ctrl_queue(struct vserial *vs, u32 id, u16 event, u16 value, const char *payload)
{
	size_t plen = payload ? strnlen(payload, VSERIAL_NAME_MAX) : 0;
	unsigned int slot;

	if (vs->ctrl_len == VSERIAL_CTRL_QUEUE) {
		pr_warn_ratelimited(&vs->vdev.rl, "%s: the guest takes no control messages; event %u for port %u dropped",
				    vs->vdev.label, event, id);
		return;
	}
	slot = (vs->ctrl_head + vs->ctrl_len++) % VSERIAL_CTRL_QUEUE;
	le_put(vs->ctrl[slot].msg, id, 4);
	le_put(vs->ctrl[slot].msg + 4, event, 2);
	le_put(vs->ctrl[slot].msg + 6, value, 2);
	if (plen)
		memcpy(vs->ctrl[slot].msg + VSERIAL_CTRL_HDR, payload, plen);
	vs->ctrl[slot].len = (u32)(VSERIAL_CTRL_HDR + plen);
}

/* Move queued control messages into the driver's control buffers, one message per buffer. */
static void ctrl_deliver(struct vserial *vs)
{
	struct virtio_dev *vd = &vs->vdev;
	struct virtq_chain ch;

	if (!vd->vq[CTRL_RXQ].ready)
		return;
	do {
		while (vs->ctrl_len && virtio_dev_pop(vd, CTRL_RXQ, &ch)) {
			unsigned int slot = vs->ctrl_head;
			size_t n = iov_copy_to(ch.iov + ch.n_out, ch.n_in, 0, vs->ctrl[slot].msg, vs->ctrl[slot].len);
			virtq_push(&vd->vq[CTRL_RXQ], ch.head, (u32)n);
			vs->ctrl_head = (slot + 1) % VSERIAL_CTRL_QUEUE;
			vs->ctrl_len--;
		}
	} while (virtio_dev_done(vd, CTRL_RXQ) && vs->ctrl_len);
}

/* Host input into port p's receive buffers once a guest program has it open; then the end of file, if due. */
static void port_rx(struct vserial *vs, unsigned int p)
{
	struct virtio_dev *vd = &vs->vdev;
	struct vserial_port *pt = &vs->port[p];
	unsigned int q = vserial_rxq(p);
	struct virtq_chain ch;
	bool eof;

	if (!pt->ready)
		return;
	pthread_mutex_lock(&vs->in_lock);
	/* Linux drops what arrives on a port nobody has open: input waits for the guest's PORT_OPEN. */
	if (pt->guest_open && vd->vq[q].ready) {
		do {
			while (pt->in_len && virtio_dev_pop(vd, q, &ch)) {
				const struct iovec *wr = ch.iov + ch.n_out;
				size_t done = 0;
				while (pt->in_len && done < ch.in_len) {
					size_t run = VSERIAL_INBUF - pt->in_head, n;
					if (run > pt->in_len)
						run = pt->in_len;
					n = iov_copy_to(wr, ch.n_in, done, pt->in + pt->in_head, run);
					if (!n)
						break;
					done += n;
					pt->in_head = (pt->in_head + n) % VSERIAL_INBUF;
					pt->in_len -= n;
				}
				virtq_push(&vd->vq[q], ch.head, (u32)done);
			}
		} while (virtio_dev_done(vd, q) && pt->in_len);
	}
	eof = pt->in_eof && !pt->in_len && !pt->eof_sent;
	pthread_mutex_unlock(&vs->in_lock);
	if (eof) {
		/* after the data: the driver reads what it has, then end of file (host disconnected) */
		pt->eof_sent = true;
		ctrl_queue(vs, p, VSERIAL_PORT_OPEN, 0, NULL);
		ctrl_deliver(vs);
	}
}

static void port_tx(struct vserial *vs, unsigned int p);

/* Guest output on port p: to its fd, or (after every other port's pending output) to ops->data. */
static void port_out(struct vserial *vs, unsigned int p, const struct virtq_chain *ch)
{
	struct vserial_port *pt = &vs->port[p];

	if (pt->out_fd < 0) {
		for (unsigned int o = 0; o < vs->nr_ports; o++)
			if (o != p && vs->port[o].out_fd >= 0)
				port_tx(vs, o);
		for (unsigned int i = 0; i < ch->n_out && vs->ops && vs->ops->data; i++)
			vs->ops->data(vs->ctx, p, ch->iov[i].iov_base, ch->iov[i].iov_len);
		return;
	}
	for (unsigned int i = 0; i < ch->n_out && !pt->out_failed; i++) {
		int err = -write_full(pt->out_fd, ch->iov[i].iov_base, ch->iov[i].iov_len);
		if (err) {
			pt->out_failed = true; /* the rest is dropped: the guest must never stall on a dead reader */
			if (vs->ops && vs->ops->out_error)
				vs->ops->out_error(vs->ctx, p, err);
		}
	}
}

static void port_tx(struct vserial *vs, unsigned int p)
{
	struct virtio_dev *vd = &vs->vdev;
	unsigned int q = vserial_rxq(p) + 1;
	struct virtq_chain ch;

	if (!vd->vq[q].ready)
		return;
	do {
		while (virtio_dev_pop(vd, q, &ch)) {
			port_out(vs, p, &ch);
			virtq_push(&vd->vq[q], ch.head, 0);
		}
	} while (virtio_dev_done(vd, q));
}

/* One control message from the driver. Hostile input: unknown ports and events are ignored with a warning. */
static void ctrl_handle(struct vserial *vs, u32 id, u16 event, u16 value)
{
	struct vserial_port *pt = id < vs->nr_ports ? &vs->port[id] : NULL;

	switch (event) {
	case VSERIAL_DEVICE_READY:
		if (!value) {
			pr_warn_ratelimited(&vs->vdev.rl, "%s: the guest driver could not set the device up", vs->vdev.label);
			return;
		}
		if (vs->device_ready)
			return;
		vs->device_ready = true;
		for (unsigned int p = 0; p < vs->nr_ports; p++)
			ctrl_queue(vs, p, VSERIAL_PORT_ADD, 1, NULL);
		return;
	case VSERIAL_PORT_READY:
		if (!pt)
			break;
		if (!value) {
			pr_warn_ratelimited(&vs->vdev.rl, "%s: the guest could not add port %s", vs->vdev.label, pt->name);
			return;
		}
		if (pt->ready)
			return;
		pt->ready = true;
		ctrl_queue(vs, id, VSERIAL_PORT_NAME, 1, pt->name);
		ctrl_queue(vs, id, VSERIAL_PORT_OPEN, 1, NULL); /* the host end is connected */
		port_rx(vs, id); /* an input that has already ended: end of file right after */
		return;
	case VSERIAL_PORT_OPEN:
		if (!pt)
			break;
		pt->guest_open = value != 0;
		port_rx(vs, id);
		return;
	default:
		return; /* e.g. a console-port request: this device has none */
	}
	pr_warn_ratelimited(&vs->vdev.rl, "%s: control event %u for port %u, which does not exist; ignored",
			    vs->vdev.label, event, id);
}

static void ctrl_tx(struct vserial *vs)
{
	struct virtio_dev *vd = &vs->vdev;
	struct virtq_chain ch;

	do {
		while (virtio_dev_pop(vd, CTRL_TXQ, &ch)) {
			u8 m[VSERIAL_CTRL_HDR];
			if (iov_copy_from(ch.iov, ch.n_out, 0, m, sizeof(m)) == sizeof(m))
				ctrl_handle(vs, (u32)le_get(m, 4), (u16)le_get(m + 4, 2), (u16)le_get(m + 6, 2));
			else
				pr_warn_ratelimited(&vd->rl, "%s: a control message of %llu bytes (8 expected); ignored",
						    vd->label, (unsigned long long)ch.out_len);
			virtq_push(&vd->vq[CTRL_TXQ], ch.head, 0);
		}
	} while (virtio_dev_done(vd, CTRL_TXQ));
	ctrl_deliver(vs);
}

static void vserial_queue_notify(struct virtio_dev *vd, unsigned int q)
{
	struct vserial *vs = vd->priv;

	if (q == CTRL_TXQ)
		ctrl_tx(vs);
	else if (q == CTRL_RXQ)
		ctrl_deliver(vs);
	else if (q % 2 == 0)
		port_rx(vs, q == 0 ? 0 : (q - 2) / 2);
	else
		port_tx(vs, q == 1 ? 0 : (q - 3) / 2);
}

static void vserial_host_event(struct virtio_dev *vd)
{
	struct vserial *vs = vd->priv;

	for (unsigned int p = 0; p < vs->nr_ports; p++)
		port_rx(vs, p);
	ctrl_deliver(vs);
}

static void vserial_reset(struct virtio_dev *vd)
{
	struct vserial *vs = vd->priv;

	/* a restarted driver offers its ports again; host input not yet delivered is kept for it */
	vs->device_ready = false;
	vs->ctrl_head = vs->ctrl_len = 0;
	for (unsigned int p = 0; p < vs->nr_ports; p++)
		vs->port[p].ready = vs->port[p].guest_open = vs->port[p].eof_sent = false;
}

static const struct virtio_dev_ops vserial_ops = {
	.name = "serial",
	.device_id = VIRTIO_ID_CONSOLE,
	.pci_class = 0x078000,
	.features = VIRTIO_FEATURE(VIRTIO_CONSOLE_F_MULTIPORT),
	.nr_queues = VSERIAL_NR_QUEUES,
	.queue_max = VSERIAL_QUEUE_SIZE,
	.queue_notify = vserial_queue_notify,
	.host_event = vserial_host_event,
	.reset = vserial_reset,
};

size_t vserial_input(struct vserial *vs, unsigned int port, const u8 *buf, size_t len)
{
	struct vserial_port *pt;
	size_t n = 0;

	if (port >= vs->nr_ports)
		return 0;
	pt = &vs->port[port];
	pthread_mutex_lock(&vs->in_lock);
	while (n < len && pt->in_len < VSERIAL_INBUF && !pt->in_eof) {
		size_t at = (pt->in_head + pt->in_len) % VSERIAL_INBUF, run = VSERIAL_INBUF - at;
		if (run > VSERIAL_INBUF - pt->in_len)
			run = VSERIAL_INBUF - pt->in_len;
		if (run > len - n)
			run = len - n;
		memcpy(pt->in + at, buf + n, run);
		pt->in_len += run;
		n += run;
	}
	pthread_mutex_unlock(&vs->in_lock);
	if (n)
		virtio_dev_wake(&vs->vdev);
	return n;
}

void vserial_input_eof(struct vserial *vs, unsigned int port)
{
	if (port >= vs->nr_ports)
		return;
	pthread_mutex_lock(&vs->in_lock);
	vs->port[port].in_eof = true;
	pthread_mutex_unlock(&vs->in_lock);
	virtio_dev_wake(&vs->vdev);
}

struct vserial *vserial_create(const struct guest_ram *ram, unsigned int nr_ports, const char *const *names,
			       const int *out_fds, const struct vserial_ops *ops, void *ctx)
{
	struct vserial *vs;

	if (!nr_ports || nr_ports > VSERIAL_MAX_PORTS)
		return NULL;
	for (unsigned int p = 0; p < nr_ports; p++)
		if (!names[p] || !names[p][0] || strlen(names[p]) >= VSERIAL_NAME_MAX)
			return NULL;
	vs = calloc(1, sizeof(*vs));
	if (!vs)
		return NULL;
	vs->nr_ports = nr_ports;
	vs->ops = ops;
	vs->ctx = ctx;
	pthread_mutex_init(&vs->in_lock, NULL);
	for (unsigned int p = 0; p < nr_ports; p++) {
		snprintf(vs->port[p].name, sizeof(vs->port[p].name), "%s", names[p]);
		vs->port[p].out_fd = out_fds ? out_fds[p] : -1;
		vs->port[p].in = malloc(VSERIAL_INBUF);
		if (!vs->port[p].in)
			goto fail;
	}
	if (virtio_dev_init(&vs->vdev, &vserial_ops, vs, ram, VSERIAL_CONFIG_SIZE)) {
		virtio_dev_destroy(&vs->vdev);
		goto fail;
	}
	virtio_config_put(&vs->vdev, 4, nr_ports, 4); /* max_nr_ports */
	return vs;
fail:
	vserial_free(vs);
	return NULL;
}

void vserial_free(struct vserial *vs)
{
	if (!vs)
		return;
	for (unsigned int p = 0; p < VSERIAL_MAX_PORTS; p++)
		free(vs->port[p].in);
	pthread_mutex_destroy(&vs->in_lock);
	free(vs);
}

/* virtio-console device, single port: transmitq to a host fd, host input held until the guest listens. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm/virtio-console.h"

static void write_all(int fd, const u8 *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* nobody reads the console (closed pipe): drop, the guest must not stall */
		p += n;
		len -= (size_t)n;
	}
}

static void console_tx(struct virtio_console *c)
{
	struct virtio_dev *vd = &c->vdev;
	struct virtq_chain ch;

	do {
		while (virtio_dev_pop(vd, VIRTIO_CONSOLE_TXQ, &ch)) {
			__atomic_store_n(&c->spoke, true, __ATOMIC_RELEASE);
			for (unsigned int i = 0; i < ch.n_out; i++)
				write_all(c->out_fd, ch.iov[i].iov_base, ch.iov[i].iov_len);
			virtq_push(&vd->vq[VIRTIO_CONSOLE_TXQ], ch.head, 0);
		}
	} while (virtio_dev_done(vd, VIRTIO_CONSOLE_TXQ));
}

/* May host input go to the guest yet? After its first transmission (a restored guest's queue shows it had one). */
static bool guest_listens(struct virtio_console *c)
{
	return __atomic_load_n(&c->spoke, __ATOMIC_ACQUIRE) || c->vdev.vq[VIRTIO_CONSOLE_TXQ].last_avail != 0;
}

/* Move buffered host input into the guest's receive buffers, as far as they go. */
static void console_rx(struct virtio_console *c)
{
	struct virtio_dev *vd = &c->vdev;
	struct virtq_chain ch;

	if (!guest_listens(c))
		return;
	pthread_mutex_lock(&c->in_lock);
	do {
		while (c->in_len && virtio_dev_pop(vd, VIRTIO_CONSOLE_RXQ, &ch)) {
			const struct iovec *wr = ch.iov + ch.n_out;
			size_t done = 0;
			while (c->in_len && done < ch.in_len) {
				/* the contiguous run from in_head, then wrap */
				size_t run = VIRTIO_CONSOLE_INBUF - c->in_head, n;
				if (run > c->in_len)
					run = c->in_len;
				n = iov_copy_to(wr, ch.n_in, done, c->in + c->in_head, run);
				if (!n)
					break;
				done += n;
				c->in_head = (c->in_head + n) % VIRTIO_CONSOLE_INBUF;
				c->in_len -= n;
			}
			virtq_push(&vd->vq[VIRTIO_CONSOLE_RXQ], ch.head, (u32)done);
		}
	} while (virtio_dev_done(vd, VIRTIO_CONSOLE_RXQ) && c->in_len);
	pthread_mutex_unlock(&c->in_lock);
}

static void console_queue_notify(struct virtio_dev *vd, unsigned int q)
{
	struct virtio_console *c = vd->priv;

	if (q == VIRTIO_CONSOLE_TXQ) {
		console_tx(c);
		console_rx(c); /* held input may go now */
	} else {
		console_rx(c); /* the guest posted receive buffers */
	}
}

static void console_host_event(struct virtio_dev *vd)
{
	console_rx(vd->priv);
}

size_t virtio_console_receive(struct virtio_console *c, const unsigned char *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&c->in_lock);
	while (n < len && c->in_len < VIRTIO_CONSOLE_INBUF) {
		c->in[(c->in_head + c->in_len) % VIRTIO_CONSOLE_INBUF] = buf[n++];
		c->in_len++;
	}
	pthread_mutex_unlock(&c->in_lock);
	if (n)
		virtio_dev_wake(&c->vdev);
	return n;
}

static void console_reset(struct virtio_dev *vd)
{
	struct virtio_console *c = vd->priv;
	__atomic_store_n(&c->spoke, false, __ATOMIC_RELEASE); /* a restarted driver: wait for it again */
}

static const struct virtio_dev_ops console_ops = {
	.name = "console",
	.device_id = VIRTIO_ID_CONSOLE,
	.pci_class = 0x078000,
	.features = 0,
	.nr_queues = 2,
	.queue_max = VIRTIO_CONSOLE_QUEUE_SIZE,
	.queue_notify = console_queue_notify,
	.host_event = console_host_event,
	.reset = console_reset,
};

struct virtio_console *virtio_console_create(const struct guest_ram *ram, int out_fd)
{
	struct virtio_console *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->out_fd = out_fd;
	pthread_mutex_init(&c->in_lock, NULL);
	if (virtio_dev_init(&c->vdev, &console_ops, c, ram, VIRTIO_CONSOLE_CONFIG_SIZE)) {
		virtio_dev_destroy(&c->vdev);
		free(c);
		return NULL;
	}
	return c;
}

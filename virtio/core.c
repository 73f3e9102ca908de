/* The virtio device core: feature negotiation, status and reset, queue enabling, interrupts, the worker thread. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kvm/sandbox.h"
#include "kvm/thread.h"
#include "kvm/virtio-dev.h"

u64 virtio_dev_offered_features(const struct virtio_dev *vd)
{
	return vd->ops->features | vd->extra_features | VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC) |
	       VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX);
}

bool virtio_dev_running(const struct virtio_dev *vd)
{
	return (vd->status & VIRTIO_STATUS_DRIVER_OK) && !(vd->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void signal_fd(int fd)
{
	u64 one = 1;

	/* An eventfd write only fails if the counter would overflow, which a few writes cannot do. */
	while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

/* Read an eventfd's counter (how many signals it got since the last read); 0 when it had none. */
static u64 drain_fd(int fd)
{
	u64 v = 0;

	while (read(fd, &v, sizeof(v)) < 0) {
		if (errno != EINTR)
			return 0;
	}
	return v;
}

void virtio_dev_interrupt(struct virtio_dev *vd, int q)
{
	if (q >= 0 && q < VIRTIO_DEV_MAX_QUEUES)
		virtio_stat_add(&vd->qstats[q].interrupts, 1);
	else
		virtio_stat_add(&vd->config_interrupts, 1);
	if (vd->tr && vd->tr->interrupt)
		vd->tr->interrupt(vd, q);
}

void virtio_dev_wake(struct virtio_dev *vd)
{
	signal_fd(vd->wake_fd);
}

void virtio_dev_kick(struct virtio_dev *vd, u32 q)
{
	if (q < vd->ops->nr_queues)
		signal_fd(vd->kick_fd[q]);
	else
		pr_warn_ratelimited(&vd->rl, "%s: notify for queue %u, which does not exist; ignored", vd->label, q);
}

void virtio_dev_fail(struct virtio_dev *vd, const char *fmt, ...)
{
	char why[192];
	va_list ap;

	if (vd->status & VIRTIO_STATUS_NEEDS_RESET)
		return; /* already reported; nothing runs until the driver resets the device */
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vd->status |= VIRTIO_STATUS_NEEDS_RESET;
	virtio_stat_add(&vd->driver_errors, 1);
	pr_warn_ratelimited(&vd->rl, "%s: guest driver error: %s; device needs reset", vd->label, why);
	virtio_dev_interrupt(vd, VIRTIO_IRQ_CONFIG);
}

void virtio_dev_config_changed(struct virtio_dev *vd)
{
	vd->config_gen++;
	virtio_dev_interrupt(vd, VIRTIO_IRQ_CONFIG);
}

void virtio_dev_config_read(struct virtio_dev *vd, u64 off, u8 *data, u32 len)
{
	for (u32 i = 0; i < len; i++)
		data[i] = off + i < vd->config_size ? vd->config[off + i] : 0;
}

int virtio_dev_pop(struct virtio_dev *vd, unsigned int q, struct virtq_chain *ch)
{
	int r;

	ch->iov = vd->iov[q];
	ch->iov_cap = vd->ops->queue_max;
	r = virtq_pop(&vd->vq[q], ch);
	if (r < 0) {
		virtio_stat_add(&vd->qstats[q].errors, 1);
		virtio_dev_fail(vd, "queue %u: %s", q, vd->vq[q].why);
		return 0;
	}
	if (r > 0) {
		virtio_stat_add(&vd->qstats[q].requests, 1);
		virtio_stat_add(&vd->qstats[q].bytes_out, ch->out_len);
		virtio_stat_add(&vd->qstats[q].bytes_in, ch->in_len);
	}
	return r;
}

bool virtio_dev_done_beyond(struct virtio_dev *vd, unsigned int q, u16 held)
{
	struct virtq *vq = &vd->vq[q];

	if (virtq_need_interrupt(vq))
		virtio_dev_interrupt(vd, (int)q);
	return virtio_dev_running(vd) && virtq_rearm_beyond(vq, held);
}

bool virtio_dev_done(struct virtio_dev *vd, unsigned int q)
{
	return virtio_dev_done_beyond(vd, q, 0);
}

static void reset(struct virtio_dev *vd)
{
	for (unsigned int q = 0; q < VIRTIO_DEV_MAX_QUEUES; q++) {
		virtq_reset(&vd->vq[q]);
		memset(&vd->qreg[q], 0, sizeof(vd->qreg[q]));
	}
	vd->drv_features = 0;
	vd->dev_features_sel = vd->drv_features_sel = vd->queue_sel = 0;
	vd->rescan = false;
	vd->status = 0;
	__atomic_store_n(&vd->isr, 0, __ATOMIC_SEQ_CST);
	if (vd->tr && vd->tr->reset)
		vd->tr->reset(vd);
	if (vd->ops->reset)
		vd->ops->reset(vd);
}

u32 virtio_dev_features_word(const struct virtio_dev *vd, u32 sel)
{
	return sel > 1 ? 0 : (u32)(virtio_dev_offered_features(vd) >> (32 * sel));
}

void virtio_dev_set_driver_features(struct virtio_dev *vd, u32 sel, u32 v)
{
	if (sel > 1 || (vd->status & VIRTIO_STATUS_FEATURES_OK))
		return;
	if (sel)
		vd->drv_features = (vd->drv_features & 0xffffffffULL) | ((u64)v << 32);
	else
		vd->drv_features = (vd->drv_features & ~0xffffffffULL) | v;
}

void virtio_dev_set_status(struct virtio_dev *vd, u32 v)
{
	u32 old = vd->status;

	if (v == 0) {
		reset(vd);
		return;
	}
	/* NEEDS_RESET belongs to the device: the driver can neither set nor clear it (only reset does). */
	v = (v & 0xff & ~(u32)VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET);
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		/* Refused features read back without FEATURES_OK; the driver then gives up (VIRTIO 3.1.1). */
		if (vd->drv_features & ~virtio_dev_offered_features(vd) ||
		    !(vd->drv_features & VIRTIO_FEATURE(VIRTIO_F_VERSION_1)))
			v &= ~(u32)VIRTIO_STATUS_FEATURES_OK;
	}
	vd->status = v;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
		if (!(v & VIRTIO_STATUS_FEATURES_OK)) {
			virtio_dev_fail(vd, "DRIVER_OK set without FEATURES_OK");
			return;
		}
		vd->rescan = true; /* buffers the driver queued before DRIVER_OK */
		virtio_dev_wake(vd);
	}
}

void virtio_dev_queue_ready(struct virtio_dev *vd, unsigned int q, u32 v)
{
	struct virtq *vq = &vd->vq[q];

	if (q >= vd->ops->nr_queues)
		return;
	if (!v) {
		virtq_reset(vq);
		return;
	}
	if (vq->ready)
		return;
	if (virtq_enable(vq, vd->ram, vd->qreg[q].num, vd->ops->queue_max, vd->qreg[q].desc, vd->qreg[q].driver,
			 vd->qreg[q].device, vd->drv_features & VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC),
			 vd->drv_features & VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX))) {
		virtio_dev_fail(vd, "queue %u: %s", q, vq->why); /* vq stays disabled, its reason kept */
	}
}

int virtio_dev_init(struct virtio_dev *vd, const struct virtio_dev_ops *ops, void *priv, const struct guest_ram *ram,
		    u32 config_size)
{
	for (unsigned int q = 0; q < VIRTIO_DEV_MAX_QUEUES; q++)
		vd->kick_fd[q] = vd->call_fd[q] = -1;
	vd->wake_fd = -1;
	if (ops->nr_queues == 0 || ops->nr_queues > VIRTIO_DEV_MAX_QUEUES || !is_pow2(ops->queue_max) ||
	    ops->queue_max > VIRTQ_MAX_SIZE || config_size > VIRTIO_DEV_CONFIG_MAX)
		return -EINVAL;
	vd->ops = ops;
	vd->priv = priv;
	vd->ram = ram;
	vd->config_size = config_size;
	snprintf(vd->label, sizeof(vd->label), "virtio-%s", ops->name);
	pthread_mutex_init(&vd->lock, NULL);
	for (unsigned int q = 0; q < ops->nr_queues; q++) {
		vd->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		vd->iov[q] = calloc(ops->queue_max, sizeof(struct iovec));
		if (vd->kick_fd[q] < 0 || !vd->iov[q])
			return -ENOMEM;
	}
	vd->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vd->wake_fd < 0)
		return -errno;
	return 0;
}

int virtio_dev_poll(struct virtio_dev *vd, int timeout_ms)
{
	struct pollfd p[VIRTIO_DEV_MAX_QUEUES + 2];
	unsigned int nq = vd->ops->nr_queues, n = 0, handled = 0;
	short events = 0;
	int extra = -1;

	for (unsigned int q = 0; q < nq; q++) {
		int fd = vd->call_fd[q] >= 0 ? vd->call_fd[q] : vd->kick_fd[q];

		if (vd->call_fd[q] >= 0 && __atomic_load_n(&vd->call_direct[q], __ATOMIC_ACQUIRE))
			fd = -1; /* KVM reads it: poll() skips a negative fd */
		p[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	p[n++] = (struct pollfd){ .fd = vd->wake_fd, .events = POLLIN };
	pthread_mutex_lock(&vd->lock);
	if (vd->ops->poll_fd && virtio_dev_running(vd))
		extra = vd->ops->poll_fd(vd, &events);
	pthread_mutex_unlock(&vd->lock);
	if (extra >= 0 && events)
		p[n++] = (struct pollfd){ .fd = extra, .events = events };
	else
		p[n] = (struct pollfd){ .fd = -1 };

	if (poll(p, n, timeout_ms) <= 0)
		return 0;
	pthread_mutex_lock(&vd->lock);
	for (unsigned int q = 0; q < nq; q++) {
		if (!p[q].revents)
			continue;
		if (vd->call_fd[q] >= 0) { /* the kernel back-end used buffers: interrupt the driver (it decided it wants one) */
			if (drain_fd(vd->call_fd[q]))
				virtio_dev_interrupt(vd, (int)q);
			handled++;
			continue;
		}
		virtio_stat_add(&vd->qstats[q].notifications, drain_fd(vd->kick_fd[q]));
		handled++;
		if (virtio_dev_running(vd) && vd->vq[q].ready)
			vd->ops->queue_notify(vd, q);
	}
	if (p[nq].revents) {
		drain_fd(vd->wake_fd);
		handled++;
		if (vd->rescan && virtio_dev_running(vd)) {
			vd->rescan = false;
			for (unsigned int q = 0; q < nq && virtio_dev_running(vd); q++)
				if (vd->vq[q].ready)
					vd->ops->queue_notify(vd, q);
		}
		if (vd->ops->host_event && virtio_dev_running(vd))
			vd->ops->host_event(vd);
	}
	if (n > nq + 1 && p[nq + 1].revents) {
		handled++;
		if (vd->ops->fd_ready && virtio_dev_running(vd))
			vd->ops->fd_ready(vd, p[nq + 1].revents);
	}
	pthread_mutex_unlock(&vd->lock);
	return (int)handled;
}

static void *worker(void *arg)
{
	struct virtio_dev *vd = arg;
	char name[16];
	int r;

	snprintf(name, sizeof(name), "lkvm-%s", vd->ops->name); /* top -H, perf, /proc: which device's thread */
	pthread_setname_np(pthread_self(), name);
	r = sandbox_enter(vd->file_worker  ? SANDBOX_SHARE
				   : vd->net_worker ? SANDBOX_NET
						    : SANDBOX_WORKER,
				   vd->sandbox);

	if (r)
		die("%s: cannot install its seccomp filter: %s (--no-seccomp runs without)", vd->label, strerror(-r));
	while (!__atomic_load_n(&vd->stop, __ATOMIC_ACQUIRE))
		virtio_dev_poll(vd, -1);
	return NULL;
}

int virtio_dev_start(struct virtio_dev *vd)
{
	/* Signals belong to the main thread's signalfd: the worker starts with all of them blocked. */
	int r = lkvm_thread_start(&vd->thread, worker, vd);

	if (r)
		return r;
	vd->thread_started = true;
	return 0;
}

void virtio_dev_destroy(struct virtio_dev *vd)
{
	if (vd->thread_started) {
		__atomic_store_n(&vd->stop, true, __ATOMIC_RELEASE);
		virtio_dev_wake(vd);
		pthread_join(vd->thread, NULL);
		vd->thread_started = false;
	}
	if (vd->tr && vd->tr->destroy)
		vd->tr->destroy(vd);
	vd->tr = NULL;
	vd->tp = NULL;
	for (unsigned int q = 0; q < VIRTIO_DEV_MAX_QUEUES; q++) {
		if (vd->kick_fd[q] >= 0)
			close(vd->kick_fd[q]);
		vd->kick_fd[q] = -1;
		free(vd->iov[q]);
		vd->iov[q] = NULL;
	}
	if (vd->wake_fd >= 0)
		close(vd->wake_fd);
	vd->wake_fd = -1;
	if (vd->ops)
		pthread_mutex_destroy(&vd->lock);
	vd->ops = NULL;
}

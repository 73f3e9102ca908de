/* virtio-mmio transport, version 2: the register file, feature negotiation, reset, interrupts and the worker. */
#include <errno.h>
#include <libfdt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kvm/arm-layout.h"
#include "kvm/virtio-mmio.h"

static u64 offered_features(const struct virtio_mmio *vm)
{
	return vm->ops->features | VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC) |
	       VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX);
}

bool virtio_mmio_running(const struct virtio_mmio *vm)
{
	return (vm->status & VIRTIO_STATUS_DRIVER_OK) && !(vm->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void signal_fd(int fd)
{
	u64 one = 1;

	/* An eventfd write only fails if the counter would overflow, which a few writes cannot do. */
	while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void drain_fd(int fd)
{
	u64 v;

	while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
}

void virtio_mmio_interrupt(struct virtio_mmio *vm, u32 bits)
{
	/* Status bit first, then the edge: a handler that sees the edge also sees the bit. */
	__atomic_fetch_or(&vm->isr, bits, __ATOMIC_SEQ_CST);
	signal_fd(vm->irq_fd);
}

void virtio_mmio_wake(struct virtio_mmio *vm)
{
	signal_fd(vm->wake_fd);
}

void virtio_mmio_fail(struct virtio_mmio *vm, const char *fmt, ...)
{
	char why[192];
	va_list ap;

	if (vm->status & VIRTIO_STATUS_NEEDS_RESET)
		return; /* already reported; nothing runs until the driver resets the device */
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vm->status |= VIRTIO_STATUS_NEEDS_RESET;
	pr_warn_ratelimited(&vm->rl, "%s: guest driver error: %s; device needs reset", vm->label, why);
	virtio_mmio_interrupt(vm, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_config_changed(struct virtio_mmio *vm)
{
	vm->config_gen++;
	virtio_mmio_interrupt(vm, VIRTIO_MMIO_INT_CONFIG);
}

int virtio_mmio_pop(struct virtio_mmio *vm, unsigned int q, struct virtq_chain *ch)
{
	int r;

	ch->iov = vm->iov[q];
	ch->iov_cap = vm->ops->queue_max;
	r = virtq_pop(&vm->vq[q], ch);
	if (r < 0) {
		virtio_mmio_fail(vm, "queue %u: %s", q, vm->vq[q].why);
		return 0;
	}
	return r;
}

bool virtio_mmio_done(struct virtio_mmio *vm, unsigned int q)
{
	struct virtq *vq = &vm->vq[q];

	if (virtq_need_interrupt(vq))
		virtio_mmio_interrupt(vm, VIRTIO_MMIO_INT_VRING);
	return virtio_mmio_running(vm) && virtq_rearm(vq);
}

static void reset(struct virtio_mmio *vm)
{
	for (unsigned int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		virtq_reset(&vm->vq[q]);
		memset(&vm->qreg[q], 0, sizeof(vm->qreg[q]));
	}
	vm->drv_features = 0;
	vm->dev_features_sel = vm->drv_features_sel = vm->queue_sel = 0;
	vm->rescan = false;
	vm->status = 0;
	__atomic_store_n(&vm->isr, 0, __ATOMIC_SEQ_CST);
	if (vm->ops->reset)
		vm->ops->reset(vm);
}

static void set_status(struct virtio_mmio *vm, u32 v)
{
	u32 old = vm->status;

	if (v == 0) {
		reset(vm);
		return;
	}
	/* NEEDS_RESET belongs to the device: the driver can neither set nor clear it (only reset does). */
	v = (v & 0xff & ~(u32)VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET);
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		/* Refused features read back without FEATURES_OK; the driver then gives up (VIRTIO 3.1.1). */
		if (vm->drv_features & ~offered_features(vm) ||
		    !(vm->drv_features & VIRTIO_FEATURE(VIRTIO_F_VERSION_1)))
			v &= ~(u32)VIRTIO_STATUS_FEATURES_OK;
	}
	vm->status = v;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
		if (!(v & VIRTIO_STATUS_FEATURES_OK)) {
			virtio_mmio_fail(vm, "DRIVER_OK set without FEATURES_OK");
			return;
		}
		vm->rescan = true; /* buffers the driver queued before DRIVER_OK */
		virtio_mmio_wake(vm);
	}
}

static void queue_ready(struct virtio_mmio *vm, unsigned int q, u32 v)
{
	struct virtq *vq = &vm->vq[q];

	if (!v) {
		virtq_reset(vq);
		return;
	}
	if (vq->ready)
		return;
	if (virtq_enable(vq, vm->ram, vm->qreg[q].num, vm->ops->queue_max, vm->qreg[q].desc, vm->qreg[q].driver,
			 vm->qreg[q].device, vm->drv_features & VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC),
			 vm->drv_features & VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX))) {
		virtio_mmio_fail(vm, "queue %u: %s", q, vq->why); /* vq stays disabled, its reason kept */
	}
}

static void set_half(u64 *v, bool high, u32 half)
{
	if (high)
		*v = (*v & 0xffffffffULL) | ((u64)half << 32);
	else
		*v = (*v & ~0xffffffffULL) | half;
}

static u32 reg_read(struct virtio_mmio *vm, u64 off)
{
	unsigned int q = vm->queue_sel;
	bool qok = q < vm->ops->nr_queues;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return vm->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (vm->dev_features_sel > 1)
			return 0;
		return (u32)(offered_features(vm) >> (32 * vm->dev_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return qok ? vm->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_NUM:
		return qok ? vm->qreg[q].num : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return qok && vm->vq[q].ready;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&vm->isr, __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_STATUS:
		return vm->status;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		return qok ? (u32)(vm->qreg[q].desc >> (off == VIRTIO_MMIO_QUEUE_DESC_HIGH ? 32 : 0)) : 0;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		return qok ? (u32)(vm->qreg[q].driver >> (off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH ? 32 : 0)) : 0;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		return qok ? (u32)(vm->qreg[q].device >> (off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH ? 32 : 0)) : 0;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff; /* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return vm->config_gen;
	default:
		return 0;
	}
}

static void reg_write(struct virtio_mmio *vm, u64 off, u32 v)
{
	unsigned int q = vm->queue_sel;
	bool qok = q < vm->ops->nr_queues, qset = qok && !vm->vq[q].ready;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		vm->dev_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (vm->drv_features_sel <= 1 && !(vm->status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&vm->drv_features, vm->drv_features_sel == 1, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		vm->drv_features_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		vm->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (qset)
			vm->qreg[q].num = v;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (qok)
			queue_ready(vm, q, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Only reached when no ioeventfd matched (or none is registered). */
		if (v < vm->ops->nr_queues)
			signal_fd(vm->kick_fd[v]);
		break;
	case VIRTIO_MMIO_STATUS:
		set_status(vm, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (qset)
			set_half(&vm->qreg[q].desc, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		if (qset)
			set_half(&vm->qreg[q].driver, off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		if (qset)
			set_half(&vm->qreg[q].device, off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, v);
		break;
	case VIRTIO_MMIO_SHM_SEL:
	default:
		break; /* read-only or unknown: dropped */
	}
}

static void mmio_read(struct device *dev, u64 off, u8 *data, u32 len)
{
	struct virtio_mmio *vm = dev->priv;
	u32 v;

	if (off >= VIRTIO_MMIO_CONFIG) {
		u64 c = off - VIRTIO_MMIO_CONFIG;
		pthread_mutex_lock(&vm->lock);
		for (u32 i = 0; i < len; i++)
			data[i] = c + i < vm->config_size ? vm->config[c + i] : 0;
		pthread_mutex_unlock(&vm->lock);
		return;
	}
	if (off == VIRTIO_MMIO_INTERRUPT_STATUS && len == 4) {
		v = __atomic_load_n(&vm->isr, __ATOMIC_SEQ_CST); /* lock-free: never waits for device work */
	} else {
		pthread_mutex_lock(&vm->lock);
		if (len != 4 || off % 4) {
			pr_warn_ratelimited(&vm->rl, "%s: %u-byte read at register 0x%llx ignored (registers are 32-bit)",
					    vm->label, len, (unsigned long long)off);
			pthread_mutex_unlock(&vm->lock);
			return;
		}
		v = reg_read(vm, off);
		pthread_mutex_unlock(&vm->lock);
	}
	for (int i = 0; i < 4; i++)
		data[i] = (u8)(v >> (8 * i));
}

static void mmio_write(struct device *dev, u64 off, const u8 *data, u32 len)
{
	struct virtio_mmio *vm = dev->priv;
	u32 v = 0;

	if (off >= VIRTIO_MMIO_CONFIG)
		return; /* no device type here has writable config fields */
	if (len == 4 && off == VIRTIO_MMIO_INTERRUPT_ACK) {
		v = (u32)data[0] | (u32)data[1] << 8 | (u32)data[2] << 16 | (u32)data[3] << 24;
		__atomic_fetch_and(&vm->isr, ~v, __ATOMIC_SEQ_CST);
		return;
	}
	pthread_mutex_lock(&vm->lock);
	if (len != 4 || off % 4) {
		pr_warn_ratelimited(&vm->rl, "%s: %u-byte write at register 0x%llx dropped (registers are 32-bit)",
				    vm->label, len, (unsigned long long)off);
	} else {
		v = (u32)data[0] | (u32)data[1] << 8 | (u32)data[2] << 16 | (u32)data[3] << 24;
		reg_write(vm, off, v);
	}
	pthread_mutex_unlock(&vm->lock);
}

static int mmio_gen_fdt(struct device *dev, void *fdt, const struct fdt_ctx *ctx)
{
	struct virtio_mmio *vm = dev->priv;
	char name[40];
	u64 reg[2] = { cpu_to_fdt64(dev->mmio_base), cpu_to_fdt64(dev->mmio_size) };

	(void)ctx;
	snprintf(name, sizeof(name), "virtio_mmio@%llx", (unsigned long long)dev->mmio_base);
	/* Edge-triggered, as kvmtool: irqfd injects a pulse, and every used-ring update sends a new edge. */
	if (fdt_begin_node(fdt, name) || fdt_property_string(fdt, "compatible", "virtio,mmio") ||
	    fdt_property(fdt, "reg", reg, sizeof(reg)) || fdt_prop_spi(fdt, vm->spi, FDT_IRQ_EDGE_RISING) ||
	    fdt_property(fdt, "dma-coherent", NULL, 0) || fdt_end_node(fdt))
		return -1;
	return 0;
}

static const struct mmio_ops virtio_mmio_ops = { .read = mmio_read, .write = mmio_write };

int virtio_mmio_init(struct virtio_mmio *vm, const struct virtio_dev_ops *ops, void *priv,
		     const struct guest_ram *ram, u64 base, unsigned int spi, u32 config_size)
{
	for (unsigned int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++)
		vm->kick_fd[q] = -1;
	vm->irq_fd = vm->wake_fd = -1;
	if (ops->nr_queues == 0 || ops->nr_queues > VIRTIO_MMIO_MAX_QUEUES || !is_pow2(ops->queue_max) ||
	    ops->queue_max > VIRTQ_MAX_SIZE || config_size > VIRTIO_MMIO_CONFIG_MAX)
		return -EINVAL;
	vm->ops = ops;
	vm->priv = priv;
	vm->ram = ram;
	vm->spi = spi;
	vm->config_size = config_size;
	snprintf(vm->label, sizeof(vm->label), "virtio-%s@0x%llx", ops->name, (unsigned long long)base);
	pthread_mutex_init(&vm->lock, NULL);
	vm->dev = (struct device){ .name = vm->label, .mmio_base = base, .mmio_size = ARM_VIRTIO_MMIO_SLOT,
				   .ops = &virtio_mmio_ops, .gen_fdt = mmio_gen_fdt, .quiesce = virtio_mmio_quiesce,
				   .save = virtio_mmio_save, .restore = virtio_mmio_restore, .priv = vm };
	for (unsigned int q = 0; q < ops->nr_queues; q++) {
		vm->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		vm->iov[q] = calloc(ops->queue_max, sizeof(struct iovec));
		if (vm->kick_fd[q] < 0 || !vm->iov[q])
			return -ENOMEM;
	}
	vm->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->irq_fd < 0 || vm->wake_fd < 0)
		return -errno;
	return 0;
}

int virtio_mmio_register(struct virtio_mmio *vm, struct device_list *list)
{
	return device_register(list, &vm->dev);
}

int virtio_mmio_poll(struct virtio_mmio *vm, int timeout_ms)
{
	struct pollfd p[VIRTIO_MMIO_MAX_QUEUES + 2];
	unsigned int nq = vm->ops->nr_queues, n = 0, handled = 0;
	short events = 0;
	int extra = -1;

	for (unsigned int q = 0; q < nq; q++)
		p[n++] = (struct pollfd){ .fd = vm->kick_fd[q], .events = POLLIN };
	p[n++] = (struct pollfd){ .fd = vm->wake_fd, .events = POLLIN };
	pthread_mutex_lock(&vm->lock);
	if (vm->ops->poll_fd && virtio_mmio_running(vm))
		extra = vm->ops->poll_fd(vm, &events);
	pthread_mutex_unlock(&vm->lock);
	if (extra >= 0 && events)
		p[n++] = (struct pollfd){ .fd = extra, .events = events };
	else
		p[n] = (struct pollfd){ .fd = -1 };

	if (poll(p, n, timeout_ms) <= 0)
		return 0;
	pthread_mutex_lock(&vm->lock);
	for (unsigned int q = 0; q < nq; q++) {
		if (!p[q].revents)
			continue;
		drain_fd(vm->kick_fd[q]);
		handled++;
		if (virtio_mmio_running(vm) && vm->vq[q].ready)
			vm->ops->queue_notify(vm, q);
	}
	if (p[nq].revents) {
		drain_fd(vm->wake_fd);
		handled++;
		if (vm->rescan && virtio_mmio_running(vm)) {
			vm->rescan = false;
			for (unsigned int q = 0; q < nq && virtio_mmio_running(vm); q++)
				if (vm->vq[q].ready)
					vm->ops->queue_notify(vm, q);
		}
		if (vm->ops->host_event && virtio_mmio_running(vm))
			vm->ops->host_event(vm);
	}
	if (n > nq + 1 && p[nq + 1].revents) {
		handled++;
		if (vm->ops->fd_ready && virtio_mmio_running(vm))
			vm->ops->fd_ready(vm, p[nq + 1].revents);
	}
	pthread_mutex_unlock(&vm->lock);
	return (int)handled;
}

static void *worker(void *arg)
{
	struct virtio_mmio *vm = arg;

	while (!__atomic_load_n(&vm->stop, __ATOMIC_ACQUIRE))
		virtio_mmio_poll(vm, -1);
	return NULL;
}

int virtio_mmio_start(struct virtio_mmio *vm)
{
	sigset_t all, old;
	int r;

	/* Signals belong to the main thread's signalfd: the worker inherits a fully blocked mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&vm->thread, NULL, worker, vm);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	vm->thread_started = true;
	return 0;
}

void virtio_mmio_destroy(struct virtio_mmio *vm)
{
	if (vm->thread_started) {
		__atomic_store_n(&vm->stop, true, __ATOMIC_RELEASE);
		virtio_mmio_wake(vm);
		pthread_join(vm->thread, NULL);
		vm->thread_started = false;
	}
	for (unsigned int q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		if (vm->kick_fd[q] >= 0)
			close(vm->kick_fd[q]);
		vm->kick_fd[q] = -1;
		free(vm->iov[q]);
		vm->iov[q] = NULL;
	}
	if (vm->irq_fd >= 0)
		close(vm->irq_fd);
	if (vm->wake_fd >= 0)
		close(vm->wake_fd);
	vm->irq_fd = vm->wake_fd = -1;
	if (vm->ops)
		pthread_mutex_destroy(&vm->lock);
	vm->ops = NULL;
}

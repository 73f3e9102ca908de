/* virtio-mmio transport, version 2: the register file, its device-tree node, interrupts through an irqfd. */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kvm/arm-layout.h"
#include "kvm/virtio-mmio.h"

static void mmio_interrupt(struct virtio_dev *vd, int q)
{
	struct virtio_mmio *m = vd->tp;
	u64 one = 1;

	/* Status bit first, then the edge: a handler that sees the edge also sees the bit. */
	__atomic_fetch_or(&vd->isr, q == VIRTIO_IRQ_CONFIG ? VIRTIO_INT_CONFIG : VIRTIO_INT_VRING, __ATOMIC_SEQ_CST);
	if (m->irq_line) {
		m->irq_line(m->irq_ctx, m->spi, 1); /* an edge-triggered SPI latches the rising edge */
		m->irq_line(m->irq_ctx, m->spi, 0);
		return;
	}
	while (write(m->irq_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void mmio_destroy(struct virtio_dev *vd)
{
	struct virtio_mmio *m = vd->tp;

	if (m && m->irq_fd >= 0)
		close(m->irq_fd);
	free(m);
}

static const struct virtio_transport mmio_transport = {
	.name = "mmio",
	.interrupt = mmio_interrupt,
	.destroy = mmio_destroy,
};

static u32 hi_lo(u64 v, bool high)
{
	return (u32)(high ? v >> 32 : v);
}

static void set_half(u64 *v, bool high, u32 half)
{
	if (high)
		*v = (*v & 0xffffffffULL) | ((u64)half << 32);
	else
		*v = (*v & ~0xffffffffULL) | half;
}

static u32 reg_read(struct virtio_dev *vd, u64 off)
{
	unsigned int q = vd->queue_sel;
	bool qok = q < vd->ops->nr_queues;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return vd->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return virtio_dev_features_word(vd, vd->dev_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return qok ? vd->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_NUM:
		return qok ? vd->qreg[q].num : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return qok && vd->vq[q].ready;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&vd->isr, __ATOMIC_SEQ_CST) | (virtio_mmio_of(vd)->vring_direct ? VIRTIO_INT_VRING : 0);
	case VIRTIO_MMIO_STATUS:
		return vd->status;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		return qok ? hi_lo(vd->qreg[q].desc, off == VIRTIO_MMIO_QUEUE_DESC_HIGH) : 0;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		return qok ? hi_lo(vd->qreg[q].driver, off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH) : 0;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		return qok ? hi_lo(vd->qreg[q].device, off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH) : 0;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff; /* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return vd->config_gen;
	default:
		return 0;
	}
}

static void reg_write(struct virtio_dev *vd, u64 off, u32 v)
{
	unsigned int q = vd->queue_sel;
	bool qok = q < vd->ops->nr_queues, qset = qok && !vd->vq[q].ready;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		vd->dev_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_dev_set_driver_features(vd, vd->drv_features_sel, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		vd->drv_features_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		vd->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (qset)
			vd->qreg[q].num = v;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (qok)
			virtio_dev_queue_ready(vd, q, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		virtio_dev_kick(vd, v); /* only reached when no ioeventfd matched (or none is registered) */
		break;
	case VIRTIO_MMIO_STATUS:
		virtio_dev_set_status(vd, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (qset)
			set_half(&vd->qreg[q].desc, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		if (qset)
			set_half(&vd->qreg[q].driver, off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, v);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		if (qset)
			set_half(&vd->qreg[q].device, off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, v);
		break;
	case VIRTIO_MMIO_SHM_SEL:
	default:
		break; /* read-only or unknown: dropped */
	}
}

static void mmio_read(struct device *dev, u64 off, u8 *data, u32 len)
{
	struct virtio_dev *vd = dev->priv;
	u32 v;

	if (off >= VIRTIO_MMIO_CONFIG) {
		pthread_mutex_lock(&vd->lock);
		virtio_dev_config_read(vd, off - VIRTIO_MMIO_CONFIG, data, len);
		pthread_mutex_unlock(&vd->lock);
		return;
	}
	if (off == VIRTIO_MMIO_INTERRUPT_STATUS && len == 4) {
		v = __atomic_load_n(&vd->isr, __ATOMIC_SEQ_CST); /* lock-free: never waits for device work */
		if (virtio_mmio_of(vd)->vring_direct)
			v |= VIRTIO_INT_VRING; /* a kernel back-end interrupts through KVM and cannot set the bit */
	} else {
		pthread_mutex_lock(&vd->lock);
		if (len != 4 || off % 4) {
			pr_warn_ratelimited(&vd->rl, "%s: %u-byte read at register 0x%llx ignored (registers are 32-bit)",
					    vd->label, len, (unsigned long long)off);
			pthread_mutex_unlock(&vd->lock);
			return;
		}
		v = reg_read(vd, off);
		pthread_mutex_unlock(&vd->lock);
	}
	for (int i = 0; i < 4; i++)
		data[i] = (u8)(v >> (8 * i));
}

static void mmio_write(struct device *dev, u64 off, const u8 *data, u32 len)
{
	struct virtio_dev *vd = dev->priv;
	u32 v = 0;

	if (off >= VIRTIO_MMIO_CONFIG)
		return; /* no device type here has writable config fields */
	if (len == 4 && off == VIRTIO_MMIO_INTERRUPT_ACK) {
		v = (u32)data[0] | (u32)data[1] << 8 | (u32)data[2] << 16 | (u32)data[3] << 24;
		__atomic_fetch_and(&vd->isr, ~v, __ATOMIC_SEQ_CST);
		return;
	}
	pthread_mutex_lock(&vd->lock);
	if (len != 4 || off % 4) {
		pr_warn_ratelimited(&vd->rl, "%s: %u-byte write at register 0x%llx dropped (registers are 32-bit)",
				    vd->label, len, (unsigned long long)off);
	} else {
		v = (u32)data[0] | (u32)data[1] << 8 | (u32)data[2] << 16 | (u32)data[3] << 24;
		reg_write(vd, off, v);
	}
	pthread_mutex_unlock(&vd->lock);
}

static int mmio_gen_fdt(struct device *dev, void *fdt, const struct fdt_ctx *ctx)
{
	struct virtio_dev *vd = dev->priv;
	struct virtio_mmio *m = vd->tp;
	char name[40];
	u64 reg[2] = { cpu_to_fdt64(dev->mmio_base), cpu_to_fdt64(dev->mmio_size) };

	(void)ctx;
	snprintf(name, sizeof(name), "virtio_mmio@%llx", (unsigned long long)dev->mmio_base);
	/* Edge-triggered, as kvmtool: irqfd injects a pulse, and every used-ring update sends a new edge. */
	if (fdt_begin_node(fdt, name) || fdt_property_string(fdt, "compatible", "virtio,mmio") ||
	    fdt_property(fdt, "reg", reg, sizeof(reg)) || fdt_prop_spi(fdt, m->spi, FDT_IRQ_EDGE_RISING) ||
	    fdt_property(fdt, "dma-coherent", NULL, 0) || fdt_end_node(fdt))
		return -1;
	return 0;
}

static const struct mmio_ops virtio_mmio_ops = { .read = mmio_read, .write = mmio_write };

int virtio_mmio_init(struct virtio_dev *vd, u64 base, unsigned int spi)
{
	struct virtio_mmio *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->base = base;
	m->spi = spi;
	m->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vd->tr = &mmio_transport;
	vd->tp = m;
	if (m->irq_fd < 0)
		return -errno;
	snprintf(vd->label, sizeof(vd->label), "virtio-%s@0x%llx", vd->ops->name, (unsigned long long)base);
	vd->dev = (struct device){ .name = vd->label, .mmio_base = base, .mmio_size = ARM_VIRTIO_MMIO_SLOT,
				   .ops = &virtio_mmio_ops, .gen_fdt = mmio_gen_fdt, .quiesce = virtio_dev_quiesce,
				   .save = virtio_mmio_save, .restore = virtio_mmio_restore, .priv = vd };
	return 0;
}

int virtio_mmio_register(struct virtio_dev *vd, struct device_list *list)
{
	return device_register(list, &vd->dev);
}

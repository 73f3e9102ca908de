/* virtio-pci modern transport: capabilities, common config, ISR, notifications, MSI-X table/PBA, INTx, snapshots. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/snapshot.h"
#include "kvm/virtio-pci.h"

#define VIRTIO_PCI_SNAP_VERSION 1

static u32 le_get(const u8 *p, u32 len)
{
	u32 v = 0;
	for (u32 i = 0; i < len && i < 4; i++)
		v |= (u32)p[i] << (8 * i);
	return v;
}

static void le_put(u8 *p, u32 len, u64 v)
{
	for (u32 i = 0; i < len; i++)
		p[i] = (u8)(v >> (8 * i));
}

/* irq_lock held. The ITS decides whether the address and data mean anything; garbage is refused there. */
static void send_msi(struct virtio_pci *vp, unsigned int v)
{
	struct pci_host *h = vp->fn.host;
	u64 addr = (u64)vp->msix[v].addr_hi << 32 | vp->msix[v].addr_lo;
	int r = h->ops && h->ops->signal_msi ? h->ops->signal_msi(h->ctx, addr, vp->msix[v].data,
								   pci_requester_id(&vp->fn))
					     : -ENODEV;
	if (r < 0) {
		vp->msi_errors++;
		pr_warn_ratelimited(&vp->rl, "%s: MSI-X vector %u (address 0x%llx, data 0x%x) was not delivered: %s",
				    vp->vd->label, v, (unsigned long long)addr, vp->msix[v].data, strerror(-r));
	}
}

static void set_intx(struct virtio_pci *vp, bool level)
{
	struct pci_host *h = vp->fn.host;

	if (level && (pci_cfg_get(&vp->fn, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE))
		level = false;
	if (level == vp->intx_level)
		return;
	vp->intx_level = level;
	if (h->ops && h->ops->set_irq)
		h->ops->set_irq(h->ctx, vp->fn.spi, level);
}

/* irq_lock held: deliver pending vectors that are no longer masked. */
static void flush_pending(struct virtio_pci *vp)
{
	if (!virtio_pci_msix_enabled(vp))
		return;
	for (unsigned int v = 0; v < vp->nr_vectors; v++) {
		if ((vp->pba & (1ULL << v)) && !virtio_pci_vector_masked(vp, v)) {
			vp->pba &= ~(1ULL << v);
			send_msi(vp, v);
		}
	}
}

static void pci_interrupt(struct virtio_dev *vd, int q)
{
	struct virtio_pci *vp = vd->tp;
	u16 v;

	pthread_mutex_lock(&vp->irq_lock);
	if (virtio_pci_msix_enabled(vp)) {
		v = q == VIRTIO_IRQ_CONFIG ? vp->config_vector : vp->queue_vector[q];
		if (v < vp->nr_vectors) {
			if (virtio_pci_vector_masked(vp, v))
				vp->pba |= 1ULL << v;
			else
				send_msi(vp, v);
		}
	} else {
		__atomic_fetch_or(&vd->isr, q == VIRTIO_IRQ_CONFIG ? VIRTIO_INT_CONFIG : VIRTIO_INT_VRING,
				  __ATOMIC_SEQ_CST);
		set_intx(vp, true);
	}
	pthread_mutex_unlock(&vp->irq_lock);
}

/* vd->lock held: a driver reset returns the transport registers to their initial values. */
static void pci_reset(struct virtio_dev *vd)
{
	struct virtio_pci *vp = vd->tp;

	for (unsigned int q = 0; q < vd->ops->nr_queues; q++)
		vd->qreg[q].num = vd->ops->queue_max; /* queue_size starts at the maximum */
	pthread_mutex_lock(&vp->irq_lock);
	vp->config_vector = VIRTIO_PCI_NO_VECTOR;
	for (unsigned int q = 0; q < VIRTIO_DEV_MAX_QUEUES; q++)
		vp->queue_vector[q] = VIRTIO_PCI_NO_VECTOR;
	set_intx(vp, false);
	virtio_pci_sync_irqfds(vp);
	pthread_mutex_unlock(&vp->irq_lock);
}

static void pci_destroy(struct virtio_dev *vd)
{
	struct virtio_pci *vp = vd->tp;

	if (!vp)
		return;
	pthread_mutex_destroy(&vp->irq_lock);
	free(vp);
}

static const struct virtio_transport pci_transport = {
	.name = "pci",
	.interrupt = pci_interrupt,
	.reset = pci_reset,
	.destroy = pci_destroy,
};

/* ---- common configuration (vd->lock held) ---- */

static void common_image(struct virtio_pci *vp, u8 img[VIRTIO_PCI_COMMON_SIZE])
{
	struct virtio_dev *vd = vp->vd;
	unsigned int q = vd->queue_sel;
	bool qok = q < vd->ops->nr_queues;

	memset(img, 0, VIRTIO_PCI_COMMON_SIZE);
	le_put(img + VIRTIO_PCI_COMMON_DFSELECT, 4, vd->dev_features_sel);
	le_put(img + VIRTIO_PCI_COMMON_DF, 4, virtio_dev_features_word(vd, vd->dev_features_sel));
	le_put(img + VIRTIO_PCI_COMMON_GFSELECT, 4, vd->drv_features_sel);
	le_put(img + VIRTIO_PCI_COMMON_GF, 4, vd->drv_features_sel > 1 ? 0 : vd->drv_features >> (32 * vd->drv_features_sel));
	le_put(img + VIRTIO_PCI_COMMON_MSIX, 2, vp->config_vector);
	le_put(img + VIRTIO_PCI_COMMON_NUMQ, 2, vd->ops->nr_queues);
	img[VIRTIO_PCI_COMMON_STATUS] = (u8)vd->status;
	img[VIRTIO_PCI_COMMON_CFGGENERATION] = (u8)vd->config_gen;
	le_put(img + VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
	if (!qok) {
		le_put(img + VIRTIO_PCI_COMMON_Q_MSIX, 2, VIRTIO_PCI_NO_VECTOR);
		return; /* queue_size 0: no such queue */
	}
	le_put(img + VIRTIO_PCI_COMMON_Q_SIZE, 2, vd->qreg[q].num);
	le_put(img + VIRTIO_PCI_COMMON_Q_MSIX, 2, vp->queue_vector[q]);
	le_put(img + VIRTIO_PCI_COMMON_Q_ENABLE, 2, vd->vq[q].ready);
	le_put(img + VIRTIO_PCI_COMMON_Q_NOFF, 2, q);
	le_put(img + VIRTIO_PCI_COMMON_Q_DESCLO, 8, vd->qreg[q].desc);
	le_put(img + VIRTIO_PCI_COMMON_Q_AVAILLO, 8, vd->qreg[q].driver);
	le_put(img + VIRTIO_PCI_COMMON_Q_USEDLO, 8, vd->qreg[q].device);
}

static u16 checked_vector(struct virtio_pci *vp, u32 v)
{
	return vp->has_msix && v < vp->nr_vectors ? (u16)v : VIRTIO_PCI_NO_VECTOR;
}

static void set_half(u64 *v, bool high, u32 half)
{
	if (high)
		*v = (*v & 0xffffffffULL) | ((u64)half << 32);
	else
		*v = (*v & ~0xffffffffULL) | half;
}

/* Field widths of the common structure: writes must cover exactly one field (64-bit ones also as halves). */
static u32 field_width(u64 off)
{
	if (off >= VIRTIO_PCI_COMMON_Q_DESCLO && off < VIRTIO_PCI_COMMON_SIZE)
		return 4;
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_GFSELECT:
	case VIRTIO_PCI_COMMON_GF:
		return 4;
	case VIRTIO_PCI_COMMON_STATUS:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return 1;
	default:
		return off < VIRTIO_PCI_COMMON_Q_DESCLO && off % 2 == 0 ? 2 : 0;
	}
}

static void common_write(struct virtio_pci *vp, u64 off, u32 v)
{
	struct virtio_dev *vd = vp->vd;
	unsigned int q = vd->queue_sel;
	bool qok = q < vd->ops->nr_queues, qset = qok && !vd->vq[q].ready;

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		vd->dev_features_sel = v;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT:
		vd->drv_features_sel = v;
		break;
	case VIRTIO_PCI_COMMON_GF:
		virtio_dev_set_driver_features(vd, vd->drv_features_sel, v);
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		pthread_mutex_lock(&vp->irq_lock);
		vp->config_vector = checked_vector(vp, v);
		pthread_mutex_unlock(&vp->irq_lock);
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		virtio_dev_set_status(vd, v);
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		vd->queue_sel = v;
		break;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		if (qset)
			vd->qreg[q].num = v; /* checked (power of two, at most the maximum) when enabled */
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		if (qok) {
			pthread_mutex_lock(&vp->irq_lock);
			vp->queue_vector[q] = checked_vector(vp, v);
			virtio_pci_sync_irqfds(vp);
			pthread_mutex_unlock(&vp->irq_lock);
		}
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if (qok && v == 1)
			virtio_dev_queue_ready(vd, q, 1); /* drivers never write 0 (4.1.4.3.2): ignored */
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
		if (qset)
			set_half(&vd->qreg[q].desc, off == VIRTIO_PCI_COMMON_Q_DESCHI, v);
		break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
		if (qset)
			set_half(&vd->qreg[q].driver, off == VIRTIO_PCI_COMMON_Q_AVAILHI, v);
		break;
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		if (qset)
			set_half(&vd->qreg[q].device, off == VIRTIO_PCI_COMMON_Q_USEDHI, v);
		break;
	default:
		break; /* read-only fields */
	}
}

/* ---- MSI-X table and PBA (irq_lock held) ---- */

static void msix_read(struct virtio_pci *vp, u64 off, u8 *data, u32 len)
{
	u8 img[VIRTIO_PCI_MAX_VECTORS * 16];

	for (unsigned int v = 0; v < vp->nr_vectors; v++) {
		le_put(img + v * 16, 4, vp->msix[v].addr_lo);
		le_put(img + v * 16 + 4, 4, vp->msix[v].addr_hi);
		le_put(img + v * 16 + 8, 4, vp->msix[v].data);
		le_put(img + v * 16 + 12, 4, vp->msix[v].ctrl);
	}
	for (u32 i = 0; i < len; i++)
		data[i] = off + i < vp->nr_vectors * 16ULL ? img[off + i] : 0;
}

static void msix_write(struct virtio_pci *vp, u64 off, const u8 *data, u32 len)
{
	unsigned int v = (unsigned int)(off / 16);

	if ((len != 4 && len != 8) || off % len || v >= vp->nr_vectors) {
		pr_warn_ratelimited(&vp->rl, "%s: %u-byte MSI-X table write at 0x%llx dropped (4 or 8 bytes, aligned, "
				    "inside the %u-entry table)",
				    vp->vd->label, len, (unsigned long long)off, vp->nr_vectors);
		return;
	}
	for (u32 done = 0; done < len; done += 4) {
		u32 w = le_get(data + done, 4);
		switch ((off + done) % 16) {
		case 0:
			vp->msix[v].addr_lo = w;
			break;
		case 4:
			vp->msix[v].addr_hi = w;
			break;
		case 8:
			vp->msix[v].data = w;
			break;
		default:
			vp->msix[v].ctrl = w & 1; /* only the mask bit is defined */
			flush_pending(vp);
			break;
		}
	}
	virtio_pci_sync_irqfds(vp);
}

/* ---- BAR 0 ---- */

static void bar_read(struct pci_function *f, u64 off, u8 *data, u32 len)
{
	struct virtio_pci *vp = f->priv;
	struct virtio_dev *vd = vp->vd;
	u8 img[VIRTIO_PCI_COMMON_SIZE];

	memset(data, 0, len);
	if (off < VIRTIO_PCI_ISR_OFF) {
		if (off + len > VIRTIO_PCI_COMMON_SIZE)
			return;
		pthread_mutex_lock(&vd->lock);
		common_image(vp, img);
		pthread_mutex_unlock(&vd->lock);
		memcpy(data, img + off, len);
	} else if (off == VIRTIO_PCI_ISR_OFF) {
		/* Reading the ISR clears it and lowers INTx (4.1.4.5); no device lock: never waits for device work. */
		pthread_mutex_lock(&vp->irq_lock);
		data[0] = (u8)__atomic_exchange_n(&vd->isr, 0, __ATOMIC_SEQ_CST);
		set_intx(vp, false);
		pthread_mutex_unlock(&vp->irq_lock);
	} else if (off >= VIRTIO_PCI_DEVICE_OFF && off < VIRTIO_PCI_NOTIFY_OFF) {
		pthread_mutex_lock(&vd->lock);
		virtio_dev_config_read(vd, off - VIRTIO_PCI_DEVICE_OFF, data, len);
		pthread_mutex_unlock(&vd->lock);
	} else if (vp->has_msix && off >= VIRTIO_PCI_MSIX_TABLE_OFF && off < VIRTIO_PCI_MSIX_PBA_OFF) {
		pthread_mutex_lock(&vp->irq_lock);
		msix_read(vp, off - VIRTIO_PCI_MSIX_TABLE_OFF, data, len);
		pthread_mutex_unlock(&vp->irq_lock);
	} else if (vp->has_msix && off >= VIRTIO_PCI_MSIX_PBA_OFF && off - VIRTIO_PCI_MSIX_PBA_OFF + len <= 8) {
		pthread_mutex_lock(&vp->irq_lock);
		le_put(data, len, vp->pba >> (8 * (off - VIRTIO_PCI_MSIX_PBA_OFF)));
		pthread_mutex_unlock(&vp->irq_lock);
	}
}

static void bar_write(struct pci_function *f, u64 off, const u8 *data, u32 len)
{
	struct virtio_pci *vp = f->priv;
	struct virtio_dev *vd = vp->vd;

	if (off < VIRTIO_PCI_ISR_OFF) {
		u32 w = field_width(off);
		if (off + len > VIRTIO_PCI_COMMON_SIZE || !w || len != w) {
			pr_warn_ratelimited(&vp->rl, "%s: %u-byte write at common config offset 0x%llx dropped "
					    "(it must cover exactly one field)",
					    vd->label, len, (unsigned long long)off);
			return;
		}
		pthread_mutex_lock(&vd->lock);
		common_write(vp, off, le_get(data, len));
		pthread_mutex_unlock(&vd->lock);
	} else if (off >= VIRTIO_PCI_NOTIFY_OFF && off < VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_SIZE) {
		/* Only reached without an ioeventfd (or for an odd width): the address names the queue. */
		virtio_dev_kick(vd, (u32)((off - VIRTIO_PCI_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULT));
	} else if (vp->has_msix && off >= VIRTIO_PCI_MSIX_TABLE_OFF && off < VIRTIO_PCI_MSIX_PBA_OFF) {
		pthread_mutex_lock(&vp->irq_lock);
		msix_write(vp, off - VIRTIO_PCI_MSIX_TABLE_OFF, data, len);
		pthread_mutex_unlock(&vp->irq_lock);
	} else {
		pr_warn_ratelimited(&vp->rl, "%s: %u-byte write at BAR offset 0x%llx (read-only or nothing there) "
				    "dropped",
				    vd->label, len, (unsigned long long)off);
	}
}

/* Host lock held for writing: move the queue notifications' ioeventfds with the BAR. */
static void bar_mapped(struct pci_function *f, u64 old_addr, u64 new_addr)
{
	struct virtio_pci *vp = f->priv;
	struct pci_host *h = f->host;

	if (!h->ops || !h->ops->ioeventfd)
		return;
	for (unsigned int q = 0; q < vp->vd->ops->nr_queues; q++) {
		u64 at = VIRTIO_PCI_NOTIFY_OFF + q * VIRTIO_PCI_NOTIFY_MULT;
		if (old_addr && vp->notify_ioeventfd)
			h->ops->ioeventfd(h->ctx, old_addr + at, 2, vp->vd->kick_fd[q], false);
	}
	vp->notify_ioeventfd = false;
	if (!new_addr)
		return;
	vp->notify_ioeventfd = true;
	for (unsigned int q = 0; q < vp->vd->ops->nr_queues; q++) {
		u64 at = VIRTIO_PCI_NOTIFY_OFF + q * VIRTIO_PCI_NOTIFY_MULT;
		/* 16-bit writes, as drivers notify; other widths still reach bar_write() and work, with an exit. */
		if (h->ops->ioeventfd(h->ctx, new_addr + at, 2, vp->vd->kick_fd[q], true) < 0) {
			for (unsigned int k = 0; k < q; k++)
				h->ops->ioeventfd(h->ctx, new_addr + VIRTIO_PCI_NOTIFY_OFF + k * VIRTIO_PCI_NOTIFY_MULT, 2,
						  vp->vd->kick_fd[k], false);
			vp->notify_ioeventfd = false;
			pr_warn_ratelimited(&vp->rl, "%s: no ioeventfd for the queue notifications; they exit to lkvm",
					    vp->vd->label);
			return;
		}
	}
}

/* ---- capabilities (host lock held) ---- */

/* The VIRTIO_PCI_CAP_PCI_CFG window: an access to pci_cfg_data is an access to the BAR named in the cap. */
static bool pcicfg_window(struct virtio_pci *vp, u32 *len, u64 *off)
{
	const struct pci_function *f = &vp->fn;
	u32 at = VIRTIO_PCI_CAP_PCICFG_AT;
	u32 l = pci_cfg_get(f, at + 12, 4);
	u64 o = pci_cfg_get(f, at + 8, 4);

	if (f->cfg[at + 4] != 0 || (l != 1 && l != 2 && l != 4) || o % l || o + l > f->bar_size)
		return false;
	*len = l;
	*off = o;
	return true;
}

static void cfg_read(struct pci_function *f, u32 off, u8 *data, u32 len)
{
	struct virtio_pci *vp = f->priv;
	u32 d = VIRTIO_PCI_CAP_PCICFG_AT + 16, l;
	u64 o;
	u8 buf[4] = { 0 };

	if (off + len <= d || off >= d + 4)
		return;
	if (pcicfg_window(vp, &l, &o))
		bar_read(f, o, buf, l);
	for (u32 i = 0; i < len; i++)
		if (off + i >= d && off + i < d + 4)
			data[i] = buf[off + i - d];
}

static void cfg_write(struct pci_function *f, u32 off, const u8 *data, u32 len)
{
	struct virtio_pci *vp = f->priv;
	u32 at = VIRTIO_PCI_CAP_PCICFG_AT, d = at + 16;

	for (u32 i = 0; i < len; i++) {
		u32 o = off + i;
		if (o == at + 4 || (o >= at + 8 && o < d)) {
			f->cfg[o] = data[i]; /* bar, offset, length of the window */
		} else if (vp->has_msix && o == VIRTIO_PCI_CAP_MSIX_AT + 3) {
			/* MSI-X Enable and Function Mask; the table size is read-only */
			pthread_mutex_lock(&vp->irq_lock);
			f->cfg[o] = data[i] & 0xc0;
			if (virtio_pci_msix_enabled(vp))
				set_intx(vp, false);
			flush_pending(vp);
			virtio_pci_sync_irqfds(vp);
			pthread_mutex_unlock(&vp->irq_lock);
		}
	}
	if (off < d + 4 && off + len > d) {
		u32 l;
		u64 o;
		u8 buf[4] = { 0 };
		for (u32 i = 0; i < len; i++)
			if (off + i >= d && off + i < d + 4)
				buf[off + i - d] = data[i];
		if (pcicfg_window(vp, &l, &o))
			bar_write(f, o, buf, l);
	}
}

static const struct pci_function_ops virtio_pci_fn_ops = {
	.cfg_read = cfg_read,
	.cfg_write = cfg_write,
	.bar_read = bar_read,
	.bar_write = bar_write,
	.bar_mapped = bar_mapped,
};

static void put_cap(struct pci_function *f, u32 at, u32 next, u32 len, u32 type, u32 off, u32 size)
{
	pci_cfg_put(f, at, PCI_CAP_ID_VNDR, 1);
	pci_cfg_put(f, at + 1, next, 1);
	pci_cfg_put(f, at + 2, len, 1);
	pci_cfg_put(f, at + 3, type, 1);
	pci_cfg_put(f, at + 4, 0, 1); /* BAR 0 */
	pci_cfg_put(f, at + 8, off, 4);
	pci_cfg_put(f, at + 12, size, 4);
}

static int pci_save(struct device *dev, struct snap_writer *w);
static int pci_restore(struct device *dev, struct snap_cursor *c, char *err, size_t errlen);

int virtio_pci_init(struct virtio_dev *vd, struct pci_host *h, unsigned int spi)
{
	struct virtio_pci *vp = calloc(1, sizeof(*vp));
	struct pci_function *f;
	u32 after_isr;
	int r;

	if (!vp)
		return -ENOMEM;
	vp->vd = vd;
	vp->has_msix = h->msi;
	vp->nr_vectors = vd->ops->nr_queues + 1;
	for (unsigned int q = 0; q < VIRTIO_DEV_MAX_QUEUES; q++)
		vp->irqfd_route[q] = -1;
	pthread_mutex_init(&vp->irq_lock, NULL);
	vd->tr = &pci_transport;
	vd->tp = vp;
	f = &vp->fn;
	f->ops = &virtio_pci_fn_ops;
	f->priv = vp;
	r = pci_add_function(h, f, VIRTIO_PCI_BAR_SIZE, spi);
	if (r)
		return r;
	pci_cfg_put(f, PCI_VENDOR_ID, VIRTIO_PCI_VENDOR, 2);
	pci_cfg_put(f, PCI_DEVICE_ID, VIRTIO_PCI_DEVICE_BASE + vd->ops->device_id, 2);
	pci_cfg_put(f, PCI_REVISION, 1, 1); /* modern */
	pci_cfg_put(f, PCI_CLASS_PROG, vd->ops->pci_class, 3);
	pci_cfg_put(f, PCI_SUBSYS_VENDOR, VIRTIO_PCI_VENDOR, 2);
	pci_cfg_put(f, PCI_SUBSYS_ID, 0x40, 2);
	pci_cfg_put(f, PCI_CAP_PTR, VIRTIO_PCI_CAP_COMMON_AT, 1);
	put_cap(f, VIRTIO_PCI_CAP_COMMON_AT, VIRTIO_PCI_CAP_NOTIFY_AT, 16, VIRTIO_PCI_CAP_COMMON_CFG,
		VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_SIZE);
	put_cap(f, VIRTIO_PCI_CAP_NOTIFY_AT, VIRTIO_PCI_CAP_ISR_AT, 20, VIRTIO_PCI_CAP_NOTIFY_CFG,
		VIRTIO_PCI_NOTIFY_OFF, vd->ops->nr_queues * VIRTIO_PCI_NOTIFY_MULT);
	pci_cfg_put(f, VIRTIO_PCI_CAP_NOTIFY_AT + 16, VIRTIO_PCI_NOTIFY_MULT, 4);
	/* No device-specific structure for devices without config fields (rng): the capability is optional. */
	after_isr = vd->config_size ? VIRTIO_PCI_CAP_DEVICE_AT : VIRTIO_PCI_CAP_PCICFG_AT;
	put_cap(f, VIRTIO_PCI_CAP_ISR_AT, after_isr, 16, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 4);
	if (vd->config_size)
		put_cap(f, VIRTIO_PCI_CAP_DEVICE_AT, VIRTIO_PCI_CAP_PCICFG_AT, 16, VIRTIO_PCI_CAP_DEVICE_CFG,
			VIRTIO_PCI_DEVICE_OFF, vd->config_size);
	put_cap(f, VIRTIO_PCI_CAP_PCICFG_AT, vp->has_msix ? VIRTIO_PCI_CAP_MSIX_AT : 0, 20, VIRTIO_PCI_CAP_PCI_CFG, 0,
		0);
	if (vp->has_msix) {
		pci_cfg_put(f, VIRTIO_PCI_CAP_MSIX_AT, PCI_CAP_ID_MSIX, 1);
		pci_cfg_put(f, VIRTIO_PCI_CAP_MSIX_AT + 1, 0, 1);
		pci_cfg_put(f, VIRTIO_PCI_CAP_MSIX_AT + 2, vp->nr_vectors - 1, 2);
		pci_cfg_put(f, VIRTIO_PCI_CAP_MSIX_AT + 4, VIRTIO_PCI_MSIX_TABLE_OFF, 4); /* BIR 0 */
		pci_cfg_put(f, VIRTIO_PCI_CAP_MSIX_AT + 8, VIRTIO_PCI_MSIX_PBA_OFF, 4);
		for (unsigned int v = 0; v < vp->nr_vectors; v++)
			vp->msix[v].ctrl = 1; /* masked */
	}
	pci_reset(vd);
	snprintf(vd->label, sizeof(vd->label), "virtio-%s@pci%02x.0", vd->ops->name, f->dev);
	vd->dev = (struct device){ .name = vd->label, .mmio_base = pci_function_cfg_addr(f), .mmio_size = 0,
				   .quiesce = virtio_dev_quiesce, .save = pci_save, .restore = pci_restore,
				   .priv = vd };
	return 0;
}

/* ---- snapshots: the core, the PCI header, the MSI-X state, the vectors ---- */

static int pci_save(struct device *dev, struct snap_writer *w)
{
	struct virtio_dev *vd = dev->priv;
	struct virtio_pci *vp = vd->tp;

	virtio_dev_save_core(vd, w);
	pci_function_save(&vp->fn, w);
	pthread_mutex_lock(&vp->irq_lock);
	snapw_u32(w, VIRTIO_PCI_SNAP_VERSION);
	snapw_u32(w, vp->nr_vectors);
	snapw_u32(w, pci_cfg_get(&vp->fn, VIRTIO_PCI_CAP_MSIX_AT + 2, 2));
	for (unsigned int v = 0; v < vp->nr_vectors; v++) {
		snapw_u32(w, vp->msix[v].addr_lo);
		snapw_u32(w, vp->msix[v].addr_hi);
		snapw_u32(w, vp->msix[v].data);
		snapw_u32(w, vp->msix[v].ctrl);
	}
	snapw_u64(w, vp->pba);
	snapw_u32(w, vp->config_vector);
	for (unsigned int q = 0; q < vd->ops->nr_queues; q++)
		snapw_u32(w, vp->queue_vector[q]);
	snapw_u32(w, vp->intx_level);
	pthread_mutex_unlock(&vp->irq_lock);
	return w->error ? -1 : 0;
}

/* Every value is untrusted: vectors and sizes are checked like the guest's own writes. */
static int pci_restore(struct device *dev, struct snap_cursor *c, char *err, size_t errlen)
{
	struct virtio_dev *vd = dev->priv;
	struct virtio_pci *vp = vd->tp;
	u32 version, nvec, ctrl, intx;
	int r;

	pthread_mutex_lock(&vd->lock);
	r = virtio_dev_restore_core(vd, c, err, errlen);
	pthread_mutex_unlock(&vd->lock);
	if (r || pci_function_restore(&vp->fn, c, err, errlen))
		return -1;
	version = cur_u32(c);
	nvec = cur_u32(c);
	ctrl = cur_u32(c);
	if (c->bad || version != VIRTIO_PCI_SNAP_VERSION || nvec != vp->nr_vectors) {
		snprintf(err, errlen, "%s: saved virtio-pci state is malformed or from another version", vd->label);
		return -1;
	}
	pthread_mutex_lock(&vp->irq_lock);
	for (unsigned int v = 0; v < nvec; v++) {
		vp->msix[v].addr_lo = cur_u32(c);
		vp->msix[v].addr_hi = cur_u32(c);
		vp->msix[v].data = cur_u32(c);
		vp->msix[v].ctrl = cur_u32(c) & 1;
	}
	vp->pba = cur_u64(c) & ((1ULL << nvec) - 1);
	vp->config_vector = checked_vector(vp, cur_u32(c));
	for (unsigned int q = 0; q < vd->ops->nr_queues; q++)
		vp->queue_vector[q] = checked_vector(vp, cur_u32(c));
	intx = cur_u32(c);
	if (vp->has_msix)
		vp->fn.cfg[VIRTIO_PCI_CAP_MSIX_AT + 3] = (u8)(ctrl >> 8) & 0xc0;
	/* The vGIC restore brings back the line's level as the source had it; we only need to agree with it. */
	vp->intx_level = intx == 1 && !virtio_pci_msix_enabled(vp);
	virtio_pci_sync_irqfds(vp);
	pthread_mutex_unlock(&vp->irq_lock);
	if (c->bad || c->left) {
		snprintf(err, errlen, "%s: saved virtio-pci state is malformed", vd->label);
		return -1;
	}
	return 0;
}

/* virtio snapshot support: quiesce the worker, save and restore the core's transport-neutral and queue state. */
#include <stdio.h>
#include <string.h>

#include "kvm/snapshot.h"
#include "kvm/virtio-mmio.h"

#define VIRTIO_SNAP_VERSION 1

/*
 * Pausing takes the device lock and keeps it until the matching resume: the worker runs every request with the
 * lock held, so once we have it nothing is in flight (completed requests are already in the used ring), and the
 * worker cannot start another or touch guest RAM. Called on the main thread with the vCPUs parked.
 */
void virtio_dev_quiesce(struct device *dev, bool pause)
{
	struct virtio_dev *vd = dev->priv;

	if (pause) {
		pthread_mutex_lock(&vd->lock);
		if (vd->ops->quiesce)
			vd->ops->quiesce(vd);
	} else {
		pthread_mutex_unlock(&vd->lock);
	}
}

/* Quiesced (lock held by virtio_dev_quiesce). */
void virtio_dev_save_core(struct virtio_dev *vd, struct snap_writer *w)
{
	snapw_u32(w, VIRTIO_SNAP_VERSION);
	snapw_u32(w, vd->ops->device_id);
	snapw_u32(w, vd->ops->nr_queues);
	snapw_u32(w, vd->status);
	snapw_u32(w, __atomic_load_n(&vd->isr, __ATOMIC_SEQ_CST));
	snapw_u32(w, vd->config_gen);
	snapw_u32(w, vd->dev_features_sel);
	snapw_u32(w, vd->drv_features_sel);
	snapw_u32(w, vd->queue_sel);
	snapw_u64(w, vd->drv_features);
	for (unsigned int q = 0; q < vd->ops->nr_queues; q++) {
		const struct virtq *vq = &vd->vq[q];
		snapw_u32(w, vd->qreg[q].num);
		snapw_u64(w, vd->qreg[q].desc);
		snapw_u64(w, vd->qreg[q].driver);
		snapw_u64(w, vd->qreg[q].device);
		snapw_u32(w, (u32)vq->ready | (u32)vq->indirect << 1 | (u32)vq->event_idx << 2 | (u32)vq->broken << 3);
		snapw_u32(w, vq->size);
		snapw_u64(w, vq->desc_gpa);
		snapw_u64(w, vq->avail_gpa);
		snapw_u64(w, vq->used_gpa);
		snapw_u32(w, (u32)vq->last_avail | (u32)vq->used_idx << 16);
		snapw_u32(w, vq->signalled_used);
	}
	snapw_u32(w, vd->config_size);
	snapw_put(w, vd->config, vd->config_size);
}

/* Untrusted input: every queue is re-validated against guest RAM exactly as when the driver enabled it. */
int virtio_dev_restore_core(struct virtio_dev *vd, struct snap_cursor *c, char *err, size_t errlen)
{
	u32 version = cur_u32(c), id = cur_u32(c), nq = cur_u32(c);
	const u8 *cfg;
	u32 cfg_size;

	if (c->bad || version != VIRTIO_SNAP_VERSION || id != vd->ops->device_id || nq != vd->ops->nr_queues) {
		snprintf(err, errlen, "%s: saved state is for another device or version", vd->label);
		return -1;
	}
	vd->status = cur_u32(c);
	__atomic_store_n(&vd->isr, cur_u32(c) & (VIRTIO_INT_VRING | VIRTIO_INT_CONFIG), __ATOMIC_SEQ_CST);
	vd->config_gen = cur_u32(c);
	vd->dev_features_sel = cur_u32(c);
	vd->drv_features_sel = cur_u32(c);
	vd->queue_sel = cur_u32(c);
	vd->drv_features = cur_u64(c);
	for (unsigned int q = 0; q < nq; q++) {
		struct virtq *vq = &vd->vq[q];
		u32 flags, size, idx, sig;
		u64 desc, avail, used;

		vd->qreg[q].num = cur_u32(c);
		vd->qreg[q].desc = cur_u64(c);
		vd->qreg[q].driver = cur_u64(c);
		vd->qreg[q].device = cur_u64(c);
		flags = cur_u32(c);
		size = cur_u32(c);
		desc = cur_u64(c);
		avail = cur_u64(c);
		used = cur_u64(c);
		idx = cur_u32(c);
		sig = cur_u32(c);
		if (c->bad)
			break;
		virtq_reset(vq);
		if (!(flags & 1))
			continue;
		if (virtq_enable(vq, vd->ram, size, vd->ops->queue_max, desc, avail, used, flags & 2, flags & 4)) {
			snprintf(err, errlen, "%s: saved queue %u is invalid: %s", vd->label, q, vq->why);
			return -1;
		}
		vq->last_avail = (u16)idx;
		vq->used_idx = (u16)(idx >> 16);
		vq->signalled_used = (u16)sig;
		if (flags & 8) {
			vq->broken = true;
			snprintf(vq->why, sizeof(vq->why), "broken before the snapshot");
		}
	}
	cfg_size = cur_u32(c);
	cfg = cur_bytes(c, cfg_size);
	if (c->bad || cfg_size != vd->config_size) {
		snprintf(err, errlen, "%s: saved state is malformed", vd->label);
		return -1;
	}
	if (vd->drv_features & ~virtio_dev_offered_features(vd)) {
		snprintf(err, errlen, "%s: the saved driver negotiated features 0x%llx this device does not offer "
				      "(0x%llx): was it saved with another back-end?", vd->label,
			 (unsigned long long)vd->drv_features, (unsigned long long)virtio_dev_offered_features(vd));
		return -1;
	}
	memcpy(vd->config, cfg, cfg_size);
	/*
	 * Kicks sent just before the save were not seen by the worker: it looks at every queue when woken, which
	 * virtio_resume_restored() does once the interrupt controller is restored too.
	 */
	vd->rescan = virtio_dev_running(vd);
	return 0;
}

int virtio_mmio_save(struct device *dev, struct snap_writer *w)
{
	virtio_dev_save_core(dev->priv, w);
	return w->error ? -1 : 0;
}

int virtio_mmio_restore(struct device *dev, struct snap_cursor *c, char *err, size_t errlen)
{
	struct virtio_dev *vd = dev->priv;
	int r;

	pthread_mutex_lock(&vd->lock);
	r = virtio_dev_restore_core(vd, c, err, errlen);
	if (!r && c->left) {
		snprintf(err, errlen, "%s: saved state is malformed", vd->label);
		r = -1;
	}
	pthread_mutex_unlock(&vd->lock);
	return r;
}

/* virtio-mmio snapshot support: quiesce the worker, save and restore the transport and queue state. */
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
void virtio_mmio_quiesce(struct device *dev, bool pause)
{
	struct virtio_mmio *vm = dev->priv;

	if (pause) {
		pthread_mutex_lock(&vm->lock);
		if (vm->ops->quiesce)
			vm->ops->quiesce(vm);
	} else {
		pthread_mutex_unlock(&vm->lock);
	}
}

/* Quiesced (lock held by virtio_mmio_quiesce). */
int virtio_mmio_save(struct device *dev, struct snap_writer *w)
{
	struct virtio_mmio *vm = dev->priv;

	snapw_u32(w, VIRTIO_SNAP_VERSION);
	snapw_u32(w, vm->ops->device_id);
	snapw_u32(w, vm->ops->nr_queues);
	snapw_u32(w, vm->status);
	snapw_u32(w, __atomic_load_n(&vm->isr, __ATOMIC_SEQ_CST));
	snapw_u32(w, vm->config_gen);
	snapw_u32(w, vm->dev_features_sel);
	snapw_u32(w, vm->drv_features_sel);
	snapw_u32(w, vm->queue_sel);
	snapw_u64(w, vm->drv_features);
	for (unsigned int q = 0; q < vm->ops->nr_queues; q++) {
		const struct virtq *vq = &vm->vq[q];
		snapw_u32(w, vm->qreg[q].num);
		snapw_u64(w, vm->qreg[q].desc);
		snapw_u64(w, vm->qreg[q].driver);
		snapw_u64(w, vm->qreg[q].device);
		snapw_u32(w, (u32)vq->ready | (u32)vq->indirect << 1 | (u32)vq->event_idx << 2 | (u32)vq->broken << 3);
		snapw_u32(w, vq->size);
		snapw_u64(w, vq->desc_gpa);
		snapw_u64(w, vq->avail_gpa);
		snapw_u64(w, vq->used_gpa);
		snapw_u32(w, (u32)vq->last_avail | (u32)vq->used_idx << 16);
		snapw_u32(w, vq->signalled_used);
	}
	snapw_u32(w, vm->config_size);
	snapw_put(w, vm->config, vm->config_size);
	return w->error ? -1 : 0;
}

/* Untrusted input: every queue is re-validated against guest RAM exactly as when the driver enabled it. */
int virtio_mmio_restore(struct device *dev, struct snap_cursor *c, char *err, size_t errlen)
{
	struct virtio_mmio *vm = dev->priv;
	u32 version = cur_u32(c), id = cur_u32(c), nq = cur_u32(c);
	const u8 *cfg;
	u32 cfg_size;
	int r = -1;

	if (c->bad || version != VIRTIO_SNAP_VERSION || id != vm->ops->device_id || nq != vm->ops->nr_queues) {
		snprintf(err, errlen, "%s: saved state is for another device or version", vm->label);
		return -1;
	}
	pthread_mutex_lock(&vm->lock);
	vm->status = cur_u32(c);
	__atomic_store_n(&vm->isr, cur_u32(c) & (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG), __ATOMIC_SEQ_CST);
	vm->config_gen = cur_u32(c);
	vm->dev_features_sel = cur_u32(c);
	vm->drv_features_sel = cur_u32(c);
	vm->queue_sel = cur_u32(c);
	vm->drv_features = cur_u64(c);
	for (unsigned int q = 0; q < nq; q++) {
		struct virtq *vq = &vm->vq[q];
		u32 flags, size, idx, sig;
		u64 desc, avail, used;

		vm->qreg[q].num = cur_u32(c);
		vm->qreg[q].desc = cur_u64(c);
		vm->qreg[q].driver = cur_u64(c);
		vm->qreg[q].device = cur_u64(c);
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
		if (virtq_enable(vq, vm->ram, size, vm->ops->queue_max, desc, avail, used, flags & 2, flags & 4)) {
			snprintf(err, errlen, "%s: saved queue %u is invalid: %s", vm->label, q, vq->why);
			goto out;
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
	if (c->bad || c->left || cfg_size != vm->config_size) {
		snprintf(err, errlen, "%s: saved state is malformed", vm->label);
		goto out;
	}
	memcpy(vm->config, cfg, cfg_size);
	/* Kicks sent just before the save were not seen by the worker: have it look at every queue. */
	vm->rescan = virtio_mmio_running(vm);
	r = 0;
out:
	pthread_mutex_unlock(&vm->lock);
	if (!r)
		virtio_mmio_wake(vm);
	return r;
}

/* virtio-9p: a host directory shared with the guest over 9P2000.L (the mount tag names it in the guest). */
#ifndef KVM_VIRTIO_9P_H
#define KVM_VIRTIO_9P_H

#include "kvm/p9.h"
#include "kvm/virtio-dev.h"

#define VIRTIO_9P_QUEUE_SIZE 128
#define VIRTIO_9P_MOUNT_TAG 0 /* feature bit: the config space holds the tag */
#define VIRTIO_9P_TAG_MAX (VIRTIO_DEV_CONFIG_MAX - 2) /* bytes of tag after its u16 length */
#define VIRTIO_9P_MAX_SHARES 8

/* One parsed --9p DIR,TAG[,ro]. */
struct virtio_9p_spec {
	char *dir;
	char tag[VIRTIO_9P_TAG_MAX + 1];
	bool ro;
};

struct virtio_9p {
	struct virtio_dev vdev;
	u64 requests, errors; /* 9P requests answered, and of them answered Rlerror (relaxed atomics, for metrics) */
	struct p9_server srv;
	u8 *req, *reply; /* P9_MAX_MSIZE bytes each: one request gathered from its chain, its reply */
};

/*
 * Split "DIR,TAG[,ro]" (kvmtool's spelling; the tag defaults to the directory's last name when only DIR is given).
 * sp->dir is malloc'd. Returns 0, or -1 with a one-line reason in err.
 */
int virtio_9p_parse_spec(const char *spec, struct virtio_9p_spec *sp, char *err, size_t errlen);
/* A virtio-9p device sharing dir as tag (not yet registered or started). NULL with err set on failure. */
struct virtio_9p *virtio_9p_create(const struct guest_ram *ram, const char *dir, const char *tag, bool ro, char *err,
				   size_t errlen);
/* Stop the worker and free everything (tests; lkvm just exits). */
void virtio_9p_destroy(struct virtio_9p *p);

#endif

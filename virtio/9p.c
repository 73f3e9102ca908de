/* virtio-9p device: gathers each request chain into one message, lets the 9p server answer, scatters the reply. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "kvm/virtio-9p.h"

/* A Tread: pread straight into the guest's buffers after the Rread header, no bounce copy. 0: p9_handle() answers. */
static size_t read_direct(struct virtio_9p *p, const struct virtq_chain *ch, size_t len, size_t cap)
{
	const struct iovec *in = ch->iov + ch->n_out;
	struct iovec data[VIRTIO_9P_QUEUE_SIZE];
	u8 hdr[P9_RREAD_HDR];
	u32 count;
	u64 off;
	u16 tag;
	ssize_t n;
	int fd, nd;

	if (cap < sizeof(hdr) || !p9_read_target(&p->srv, p->req, len, &fd, &off, &count, &tag))
		return 0;
	if (count > cap - sizeof(hdr))
		count = (u32)(cap - sizeof(hdr));
	nd = iov_slice(in, ch->n_in, sizeof(hdr), count, data, ARRAY_SIZE(data));
	if (nd < 0)
		return 0;
	do {
		n = preadv(fd, data, nd, (off_t)off);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return 0; /* p9_handle() reads again and answers with the error */
	p9_rread_header(hdr, tag, (u32)n);
	return iov_copy_to(in, ch->n_in, 0, hdr, sizeof(hdr)) + (size_t)n;
}

static void p9_queue_notify(struct virtio_dev *vd, unsigned int q)
{
	struct virtio_9p *p = vd->priv;
	struct virtq_chain ch;

	do {
		while (virtio_dev_pop(vd, q, &ch)) {
			size_t len = ch.out_len < P9_MAX_MSIZE ? (size_t)ch.out_len : P9_MAX_MSIZE;
			size_t cap = ch.in_len < P9_MAX_MSIZE ? (size_t)ch.in_len : P9_MAX_MSIZE;
			size_t n;

			len = iov_copy_from(ch.iov, ch.n_out, 0, p->req, len);
			n = read_direct(p, &ch, len, cap);
			if (!n) {
				n = p9_handle(&p->srv, p->req, len, p->reply, cap);
				if (!n || (n > 4 && p->reply[4] == P9_RLERROR))
					virtio_stat_add(&p->errors, 1);
				if (n)
					n = iov_copy_to(ch.iov + ch.n_out, ch.n_in, 0, p->reply, n);
			}
			virtio_stat_add(&p->requests, 1);
			virtq_push(&vd->vq[q], ch.head, (u32)n);
		}
	} while (virtio_dev_done(vd, q));
}

static const struct virtio_dev_ops p9_ops = {
	.name = "9p",
	.device_id = VIRTIO_ID_9P,
	.features = VIRTIO_FEATURE(VIRTIO_9P_MOUNT_TAG),
	.pci_class = 0x00ff00,
	.nr_queues = 1,
	.queue_max = VIRTIO_9P_QUEUE_SIZE,
	.queue_notify = p9_queue_notify,
};

int virtio_9p_parse_spec(const char *spec, struct virtio_9p_spec *sp, char *err, size_t errlen)
{
	const char *c1 = strchr(spec, ','), *tag, *opt = NULL;
	size_t dlen = c1 ? (size_t)(c1 - spec) : strlen(spec), tlen;

	memset(sp, 0, sizeof(*sp));
	if (dlen == 0) {
		snprintf(err, errlen, "--9p %s: expected DIR,TAG[,ro] (a host directory and a mount tag)", spec);
		return -1;
	}
	if (c1) {
		const char *c2;
		tag = c1 + 1;
		c2 = strchr(tag, ',');
		tlen = c2 ? (size_t)(c2 - tag) : strlen(tag);
		opt = c2 ? c2 + 1 : NULL;
	} else {
		/* only DIR: the tag is its last name */
		const char *end = spec + dlen, *b = end;
		while (end > spec + 1 && end[-1] == '/')
			end--;
		b = end;
		while (b > spec && b[-1] != '/')
			b--;
		tag = b;
		tlen = (size_t)(end - b);
	}
	if (opt && strcmp(opt, "ro")) {
		snprintf(err, errlen, "--9p %s: unknown option '%s' (only 'ro')", spec, opt);
		return -1;
	}
	if (tlen == 0 || tlen > VIRTIO_9P_TAG_MAX) {
		snprintf(err, errlen, "--9p %s: the mount tag must be 1 to %d bytes", spec, VIRTIO_9P_TAG_MAX);
		return -1;
	}
	sp->dir = strndup(spec, dlen);
	if (!sp->dir) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(sp->tag, tag, tlen);
	sp->tag[tlen] = '\0';
	sp->ro = opt != NULL;
	return 0;
}

struct virtio_9p *virtio_9p_create(const struct guest_ram *ram, const char *dir, const char *tag, bool ro, char *err,
				   size_t errlen)
{
	struct virtio_9p *p = calloc(1, sizeof(*p));
	size_t tlen = strlen(tag);

	if (!p || tlen == 0 || tlen > VIRTIO_9P_TAG_MAX) {
		snprintf(err, errlen, p ? "9p tag '%s': must be 1 to %d bytes" : "out of memory", tag, VIRTIO_9P_TAG_MAX);
		free(p);
		return NULL;
	}
	if (p9_server_init(&p->srv, dir, ro, err, errlen)) {
		free(p);
		return NULL;
	}
	p->req = malloc(P9_MAX_MSIZE);
	p->reply = malloc(P9_MAX_MSIZE);
	if (!p->req || !p->reply || virtio_dev_init(&p->vdev, &p9_ops, p, ram, (u32)(2 + tlen))) {
		snprintf(err, errlen, "9p share %s: out of memory", dir);
		p9_server_destroy(&p->srv);
		free(p->req);
		free(p->reply);
		free(p);
		return NULL;
	}
	virtio_config_put(&p->vdev, 0, tlen, 2);
	for (size_t i = 0; i < tlen; i++)
		virtio_config_put(&p->vdev, (u32)(2 + i), (u8)tag[i], 1);
	return p;
}

void virtio_9p_destroy(struct virtio_9p *p)
{
	virtio_dev_destroy(&p->vdev);
	p9_server_destroy(&p->srv);
	free(p->req);
	free(p->reply);
	free(p);
}

/* The virtio-net device: spec parsing, receive (back-end to guest) and transmit (guest to back-end). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kvm/virtio-net.h"

/* Exactly XX:XX:XX:XX:XX:XX, hex digits only. */
static int parse_mac(const char *s, u8 mac[6])
{
	for (int i = 0; i < 6; i++, s += 3) {
		int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);
		if (lo < 0 || s[2] != (i < 5 ? ':' : '\0'))
			return -1;
		mac[i] = (u8)(hi << 4 | lo);
	}
	return 0;
}

int virtio_net_parse_spec(const char *spec, struct virtio_net_params *p, char *err, size_t errlen)
{
	const char *item = spec;
	bool mode_seen = false;

	memset(p, 0, sizeof(*p));
	if (!strcmp(spec, "none"))
		return 0;
	if (!strcmp(spec, "tap")) {
		p->tap = true;
		return 0;
	}
	if (!strcmp(spec, "user")) {
		p->user = true;
		return 0;
	}
	while (item) {
		const char *end = strchr(item, ',');
		size_t len = end ? (size_t)(end - item) : strlen(item);
		char buf[192];
		const char *val;
		char *eq;

		if (len >= sizeof(buf)) {
			snprintf(err, errlen, "-n/--network %s: parameter '%.*s...' is too long", spec, 16, item);
			return -1;
		}
		memcpy(buf, item, len);
		buf[len] = '\0';
		item = end ? end + 1 : NULL;
		eq = strchr(buf, '=');
		if (!eq) {
			snprintf(err, errlen, "-n/--network %s: '%s' is not key=value (e.g. mode=tap,tapif=tap0)", spec,
				 buf);
			return -1;
		}
		*eq = '\0';
		val = eq + 1;
		if (!strcmp(buf, "mode")) {
			mode_seen = true;
			p->tap = !strcmp(val, "tap");
			p->user = !strcmp(val, "user");
			if (!p->tap && !p->user && strcmp(val, "none")) {
				snprintf(err, errlen, "-n/--network %s: mode=%s is not supported; use mode=user, mode=tap or "
						      "mode=none", spec, val);
				return -1;
			}
		} else if (!strcmp(buf, "tapif")) {
			if (!*val || strlen(val) >= IFNAMSIZ || strchr(val, '/')) {
				snprintf(err, errlen, "-n/--network %s: tapif=%s is not a valid interface name (1-%d chars)",
					 spec, val, IFNAMSIZ - 1);
				return -1;
			}
			strcpy(p->tapif, val);
		} else if (!strcmp(buf, "socket")) {
			if (!*val || strlen(val) >= sizeof(p->socket)) {
				snprintf(err, errlen, "-n/--network %s: socket=PATH needs a path of 1-%zu characters", spec,
					 sizeof(p->socket) - 1);
				return -1;
			}
			strcpy(p->socket, val);
		} else if (!strcmp(buf, "hostfwd")) {
			char ferr[200];
			if (p->nr_fwd >= NET_MAX_HOSTFWD) {
				snprintf(err, errlen, "-n/--network %s: at most %d hostfwd= per NIC", spec, NET_MAX_HOSTFWD);
				return -1;
			}
			if (net_hostfwd_parse(val, &p->fwd[p->nr_fwd], ferr, sizeof(ferr))) {
				snprintf(err, errlen, "-n/--network %s: %s", spec, ferr);
				return -1;
			}
			p->nr_fwd++;
		} else if (!strcmp(buf, "vhost")) {
			if (!strcmp(val, "on") || !strcmp(val, "1")) {
				p->vhost = true;
			} else if (!strcmp(val, "off") || !strcmp(val, "0")) {
				p->vhost = false;
			} else {
				snprintf(err, errlen, "-n/--network %s: vhost=%s: say vhost=on or vhost=off", spec, val);
				return -1;
			}
		} else if (!strcmp(buf, "guest_mac")) {
			if (parse_mac(val, p->mac)) {
				snprintf(err, errlen, "-n/--network %s: guest_mac=%s is not XX:XX:XX:XX:XX:XX", spec, val);
				return -1;
			}
			if (p->mac[0] & 1) {
				snprintf(err, errlen, "-n/--network %s: guest_mac=%s is a multicast address; use e.g. "
						      "02:xx:xx:xx:xx:xx", spec, val);
				return -1;
			}
			p->have_mac = true;
		} else {
			snprintf(err, errlen, "-n/--network %s: unknown parameter '%s' (lkvm knows mode, tapif, vhost, socket, hostfwd, guest_mac)",
				 spec, buf);
			return -1;
		}
	}
	if (!mode_seen) {
		if (!p->tapif[0]) {
			snprintf(err, errlen, "-n/--network %s: say mode=tap or mode=none", spec);
			return -1;
		}
		p->tap = true; /* tapif=NAME alone means a tap */
	}
	if (p->tap && (p->socket[0] || p->nr_fwd)) {
		snprintf(err, errlen, "-n/--network %s: socket= and hostfwd= go with mode=user (a tap's forwarding is the "
				      "host's firewall)", spec);
		return -1;
	}
	if (p->vhost && !p->tap) {
		snprintf(err, errlen, "-n/--network %s: vhost=on goes with mode=tap (vhost-net moves a tap's packets)", spec);
		return -1;
	}
	if (p->user && p->tapif[0]) {
		snprintf(err, errlen, "-n/--network %s: tapif= goes with mode=tap", spec);
		return -1;
	}
	if (p->user && p->socket[0] && p->nr_fwd) {
		snprintf(err, errlen, "-n/--network %s: with socket=PATH the caller's passt forwards ports (its -t/-u); "
				      "drop hostfwd=", spec);
		return -1;
	}
	return 0;
}

void virtio_net_default_mac(const char *vm_name, unsigned int index, u8 mac[6])
{
	u32 h = 2166136261u; /* FNV-1a */

	for (const char *s = vm_name ? vm_name : "lkvm"; *s; s++)
		h = (h ^ (u8)*s) * 16777619u;
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0x4c;
	mac[2] = 0x4b;
	mac[3] = (u8)(h >> 8);
	mac[4] = (u8)h;
	mac[5] = (u8)index;
}

/* The peer went away (passt died or broke the stream): stop its traffic and tell the guest the link is down. */
static void link_lost(struct virtio_net *n, const char *why)
{
	char last[200];

	if (n->be->dead)
		return;
	__atomic_store_n(&n->be->dead, true, __ATOMIC_RELAXED);
	n->rx_len = 0;
	net_passt_last_words(n->be->log_fd, last, sizeof(last));
	pr_warn("%s: %s: %s%s%s; the guest's link is down", n->vdev.label, n->be->desc, why, last[0] ? "; its last log line: " : "",
		last);
	virtio_config_put(&n->vdev, 6, 0, 2);
	virtio_dev_config_changed(&n->vdev);
}

/* Read the next packet from the back-end into rx_buf; false if there is none. */
static bool rx_fetch(struct virtio_net *n)
{
	u64 bad = n->be->bad_frames;
	ssize_t r;

	if (n->be->dead)
		return false;
	r = n->be->ops->recv(n->be, n->rx_buf, sizeof(n->rx_buf));
	if (n->be->bad_frames != bad) {
		virtio_stat_add(&n->rx_drops, n->be->bad_frames - bad);
		pr_warn_ratelimited(&n->rl, "%s: %s sent %llu malformed frame(s) (too short or too long); dropped",
				    n->vdev.label, n->be->desc, (unsigned long long)(n->be->bad_frames - bad));
	}
	if (r < 0) {
		link_lost(n, "the connection ended or broke");
		return false;
	}
	if (r == 0)
		return false;
	n->rx_len = (size_t)r;
	return true;
}

/* Tell the back-end what the driver took (after a reset it may take less): a tap then sends TSO packets, or not. */
static void offload_sync(struct virtio_net *n)
{
	u64 f = n->vdev.drv_features;
	int r;

	if (!n->be->ops->set_offload || n->offload_set == f || n->be->dead)
		return;
	n->offload_set = f;
	r = n->be->ops->set_offload(n->be, f);
	if (r)
		pr_warn_ratelimited(&n->rl, "%s: %s: cannot turn on the offloads the guest took: %s; it gets plain packets",
				    n->vdev.label, n->be->desc, strerror(-r));
}

/*
 * VIRTIO_NET_F_MRG_RXBUF: the waiting packet into as many receive buffers as it needs, returned together with their
 * count in the first one's header. 1: delivered (or dropped as undeliverable), 0: the ring has too few buffers now
 * (those taken go back, *held says how many; the packet waits for the next).
 */
static int rx_merged(struct virtio_net *n, u16 *held)
{
	struct virtio_dev *vd = &n->vdev;
	struct virtq *vq = &vd->vq[VIRTIO_NET_RXQ];
	struct iovec hdr[VIRTIO_NET_HDR_LEN];
	unsigned int nhdr = 0, k = 0;
	struct virtq_chain ch;
	size_t off = 0;
	u8 nb[2];

	while (off < n->rx_len) {
		size_t c;
		if (k == vq->size || (k == 1 && n->mrg_len[0] < VIRTIO_NET_HDR_LEN)) {
			/* a ring of buffers too small for it, or a first buffer without room for the header: a guest
			 * error; the buffers go back empty and the packet is dropped */
			for (unsigned int i = 0; i < k; i++)
				n->mrg_len[i] = 0;
			virtq_push_batch(vq, n->mrg_head, n->mrg_len, k);
			virtio_stat_add(&n->rx_drops, 1);
			return 1;
		}
		if (!virtio_dev_pop(vd, VIRTIO_NET_RXQ, &ch)) {
			virtq_unpop(vq, n->mrg_head, k); /* the bytes copied into them so far stay: marked dirty */
			*held = (u16)k;
			return 0;
		}
		if (k == 0) { /* where the header goes: its num_buffers is written last */
			size_t need = VIRTIO_NET_HDR_LEN;
			for (unsigned int i = ch.n_out; i < ch.n_out + ch.n_in && need; i++, nhdr++) {
				hdr[nhdr] = ch.iov[i];
				if (hdr[nhdr].iov_len > need)
					hdr[nhdr].iov_len = need;
				need -= hdr[nhdr].iov_len;
			}
		}
		c = iov_copy_to(ch.iov + ch.n_out, ch.n_in, 0, n->rx_buf + off, n->rx_len - off);
		n->mrg_head[k] = ch.head;
		n->mrg_len[k++] = (u32)c;
		off += c;
	}
	nb[0] = (u8)k;
	nb[1] = (u8)(k >> 8);
	iov_copy_to(hdr, nhdr, 10, nb, sizeof(nb));
	virtq_push_batch(vq, n->mrg_head, n->mrg_len, k);
	virtio_stat_add(&n->rx_packets, 1);
	virtio_stat_add(&n->rx_bytes, n->rx_len - VIRTIO_NET_HDR_LEN);
	return 1;
}

static void net_rx(struct virtio_net *n)
{
	struct virtio_dev *vd = &n->vdev;
	struct virtq_chain ch;
	unsigned int budget = VIRTIO_NET_RX_BUDGET;
	bool merged = vd->drv_features & VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF);
	u16 held;

	offload_sync(n);
	do {
		held = 0;
		while (budget) {
			size_t copied = 0;
			if (!n->rx_len && !rx_fetch(n))
				break;
			if (merged) {
				if (!rx_merged(n, &held))
					break; /* the packet waits for more receive buffers */
				n->rx_len = 0;
				budget--;
				continue;
			}
			if (!virtio_dev_pop(vd, VIRTIO_NET_RXQ, &ch))
				break; /* the packet waits for the guest's next receive buffer */
			if (ch.in_len >= n->rx_len) {
				copied = iov_copy_to(ch.iov + ch.n_out, ch.n_in, 0, n->rx_buf, n->rx_len);
				virtio_stat_add(&n->rx_packets, 1);
				virtio_stat_add(&n->rx_bytes, n->rx_len - VIRTIO_NET_HDR_LEN);
			} else {
				virtio_stat_add(&n->rx_drops, 1); /* too big for the buffer: the guest sees an empty one */
			}
			virtq_push(&vd->vq[VIRTIO_NET_RXQ], ch.head, (u32)copied);
			n->rx_len = 0;
			budget--;
		}
		/* Unused receive buffers stay posted, so only loop while a packet still waits. */
	} while (virtio_dev_done_beyond(vd, VIRTIO_NET_RXQ, held) && n->rx_len && budget);
	/* Out of budget with frames still buffered in lkvm (poll would not see them): come back after transmit. */
	if (!budget && !n->be->dead && n->be->ops->buffered(n->be))
		virtio_dev_wake(vd);
}

static void net_tx(struct virtio_net *n)
{
	struct virtio_dev *vd = &n->vdev;
	struct virtq_chain ch;
	const struct net_backend_ops *ops = n->be->ops;

	offload_sync(n);
	if (!n->be->dead && ops->flush(n->be) == NET_SEND_GONE)
		link_lost(n, "a write failed");
	do {
		/* No room for another frame until the socket drains: leave the guest's packets in the ring. */
		while ((n->be->dead || ops->can_send(n->be)) && virtio_dev_pop(vd, VIRTIO_NET_TXQ, &ch)) {
			enum net_send_result r = NET_SEND_DROPPED;
			/* The chain is header + frame. */
			if (ch.out_len <= VIRTIO_NET_HDR_LEN || ch.out_len > sizeof(n->rx_buf)) {
				pr_warn_ratelimited(&n->rl, "%s: the guest sent a %llu-byte packet (%u..%zu allowed); dropped",
						    vd->label, (unsigned long long)ch.out_len, VIRTIO_NET_HDR_LEN + 1, sizeof(n->rx_buf));
			} else if (!n->be->dead) {
				r = ops->send(n->be, ch.iov, ch.n_out, ch.out_len);
				if (r == NET_SEND_FULL) {
					/* cannot happen with room checked above; count it rather than hold a popped chain */
					r = NET_SEND_DROPPED;
				} else if (r == NET_SEND_GONE) {
					link_lost(n, "a write failed");
				}
			}
			if (r == NET_SEND_OK) {
				virtio_stat_add(&n->tx_packets, 1);
				virtio_stat_add(&n->tx_bytes, ch.out_len - VIRTIO_NET_HDR_LEN);
			} else {
				virtio_stat_add(&n->tx_drops, 1);
			}
			virtq_push(&vd->vq[VIRTIO_NET_TXQ], ch.head, 0);
		}
	} while (virtio_dev_done(vd, VIRTIO_NET_TXQ));
	if (!n->be->dead && ops->flush(n->be) == NET_SEND_GONE)
		link_lost(n, "a write failed");
}

/* vhost=on, worker: once the driver runs the device, the kernel takes over its rings (from the indices lkvm holds). */
static void vhost_sync(struct virtio_net *n)
{
	char err[200];

	if (n->vhost->started || !virtio_dev_running(&n->vdev))
		return;
	offload_sync(n); /* the kernel reads the tap as lkvm would: it must know what the guest takes */
	if (net_vhost_start(n->vhost, n->vdev.ram, n->vdev.drv_features, n->vdev.vq, n->vdev.kick_fd, n->be->fd, err,
			    sizeof(err)))
		virtio_dev_fail(&n->vdev, "%s", err);
}

static void net_queue_notify(struct virtio_dev *vd, unsigned int q)
{
	struct virtio_net *n = vd->priv;

	if (n->vhost) {
		vhost_sync(n); /* only reached when the device starts or resumes: the kernel reads the kicks */
		return;
	}
	if (q == VIRTIO_NET_TXQ)
		net_tx(vd->priv);
	else
		net_rx(vd->priv); /* new receive buffers: deliver a waiting packet */
}

static void net_host_event(struct virtio_dev *vd)
{
	struct virtio_net *n = vd->priv;

	if (n->vhost) {
		vhost_sync(n); /* resumed after a snapshot was taken */
		return;
	}
	net_rx(vd->priv); /* frames left buffered when the receive budget ran out */
}

static int net_poll_fd(struct virtio_dev *vd, short *events)
{
	struct virtio_net *n = vd->priv;

	if (n->be->dead || n->vhost)
		return -1; /* vhost=on: the kernel reads and writes the tap */
	/* with a packet waiting, the rxq kick resumes reception (a stream back-end still reads ahead while it has room);
	 * with output queued, wait until it can go */
	bool in = n->be->ops->pull ? n->be->ops->rx_room(n->be) : !n->rx_len;
	*events = (short)((in ? POLLIN : 0) | (n->be->ops->tx_pending(n->be) ? POLLOUT : 0));
	return n->be->fd;
}

static void net_fd_ready(struct virtio_dev *vd, short revents)
{
	struct virtio_net *n = vd->priv;

	if (revents & POLLOUT)
		net_tx(n); /* the queued output drains, then the guest's waiting packets follow */
	if ((revents & (POLLERR | POLLHUP | POLLNVAL)) && !(revents & POLLIN)) {
		/* Stop watching it rather than spin. */
		link_lost(n, revents & POLLHUP ? "hung up" : "failed");
		return;
	}
	if (revents & POLLIN) {
		if (n->be->ops->pull) {
			ssize_t r = n->be->ops->pull(n->be);
			if (r == 0 || (r < 0 && r != -EAGAIN && r != -EWOULDBLOCK)) {
				link_lost(n, "the connection ended or broke");
				return;
			}
		}
		net_rx(n);
	}
}

static void net_reset(struct virtio_dev *vd)
{
	struct virtio_net *n = vd->priv;

	n->rx_len = 0; /* drop a packet that waited for the old rings */
	if (n->vhost)
		net_vhost_stop(n->vhost, NULL); /* the rings are gone: the kernel must let go of them before we return */
}

/*
 * Main thread, lock held, vCPUs parked: a snapshot is about to be taken. The kernel stops using the rings and gives
 * their indices back into vq[], which the snapshot then carries (nothing it took is lost or sent twice). The worker
 * is woken to restart vhost from those indices once the lock is released (if lkvm goes on running).
 */
static void net_quiesce(struct virtio_dev *vd)
{
	struct virtio_net *n = vd->priv;

	if (!n->vhost || !n->vhost->started)
		return;
	if (net_vhost_stop(n->vhost, vd->vq))
		pr_warn("%s: stopping vhost-net for the snapshot failed; the ring state may be stale", vd->label);
	virtio_dev_wake(vd);
}

static const struct virtio_dev_ops net_ops = {
	.name = "net",
	.device_id = VIRTIO_ID_NET,
	.pci_class = 0x020000,
	.features = VIRTIO_FEATURE(VIRTIO_NET_F_MAC) | VIRTIO_FEATURE(VIRTIO_NET_F_STATUS),
	.nr_queues = 2,
	.queue_max = VIRTIO_NET_QUEUE_SIZE,
	.queue_notify = net_queue_notify,
	.host_event = net_host_event,
	.poll_fd = net_poll_fd,
	.fd_ready = net_fd_ready,
	.reset = net_reset,
	.quiesce = net_quiesce,
};

struct virtio_net *virtio_net_create(const struct guest_ram *ram, struct net_backend *be, const u8 mac[6])
{
	struct virtio_net *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->be = be;
	n->offload_set = ~0ULL;
	if (virtio_dev_init(&n->vdev, &net_ops, n, ram, be->mtu ? VIRTIO_NET_CONFIG_SIZE_MTU : VIRTIO_NET_CONFIG_SIZE)) {
		virtio_dev_destroy(&n->vdev);
		free(n);
		return NULL;
	}
	for (int i = 0; i < 6; i++)
		virtio_config_put(&n->vdev, (u32)i, mac[i], 1);
	virtio_config_put(&n->vdev, 6, be->dead ? 0 : VIRTIO_NET_S_LINK_UP, 2);
	n->vdev.extra_features = be->features | VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF);
	if (be->mtu) {
		n->vdev.extra_features |= VIRTIO_FEATURE(VIRTIO_NET_F_MTU);
		virtio_config_put(&n->vdev, 8, 1, 2); /* max_virtqueue_pairs (meaningful only with MQ) */
		virtio_config_put(&n->vdev, 10, be->mtu, 2);
	}
	return n;
}

void virtio_net_use_vhost(struct virtio_net *n, struct net_vhost *v)
{
	n->vhost = v;
	/* The tap's offloads and merged buffers, as without vhost: the kernel carries the virtio-net header through
	 * the tap (TUNSETOFFLOAD follows what the driver took) and vhost itself spreads a packet over buffers (when
	 * this kernel's vhost can: every one since 2.6.35). */
	if (!(v->features & VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF)))
		n->vdev.extra_features &= ~VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF);
	for (unsigned int q = 0; q < NET_VHOST_QUEUES; q++)
		n->vdev.call_fd[q] = v->call_fd[q];
}

bool virtio_net_link_up(const struct virtio_net *n)
{
	return !__atomic_load_n(&n->be->dead, __ATOMIC_RELAXED);
}

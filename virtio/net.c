/* virtio-net device on a tap: spec parsing, tap setup, receive (tap to guest) and transmit (guest to tap). */
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

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly XX:XX:XX:XX:XX:XX, hex digits only. */
static int parse_mac(const char *s, u8 mac[6])
{
	for (int i = 0; i < 6; i++, s += 3) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
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
	while (item) {
		const char *end = strchr(item, ',');
		size_t len = end ? (size_t)(end - item) : strlen(item);
		char buf[64];
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
			if (!strcmp(val, "tap")) {
				p->tap = true;
			} else if (!strcmp(val, "none")) {
				p->tap = false;
			} else {
				snprintf(err, errlen, "-n/--network %s: mode=%s is not supported; use mode=tap or mode=none",
					 spec, val);
				return -1;
			}
		} else if (!strcmp(buf, "tapif")) {
			if (!*val || strlen(val) >= IFNAMSIZ || strchr(val, '/')) {
				snprintf(err, errlen, "-n/--network %s: tapif=%s is not a valid interface name (1-%d chars)",
					 spec, val, IFNAMSIZ - 1);
				return -1;
			}
			strcpy(p->tapif, val);
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
			snprintf(err, errlen, "-n/--network %s: unknown parameter '%s' (lkvm knows mode, tapif, guest_mac)",
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

int virtio_net_open_tap(const char *ifname, char name_out[IFNAMSIZ], char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, hdr = VIRTIO_NET_HDR_LEN, sock, e;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot open /dev/net/tun: %s (%s)", strerror(e),
			 e == ENOENT || e == ENODEV ? "load the tun module: modprobe tun"
						    : "run lkvm as root or give it CAP_NET_ADMIN");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ifname && *ifname)
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot create tap%s%s: %s (run lkvm as root or with CAP_NET_ADMIN, or create the "
				      "tap for your user first: ip tuntap add NAME mode tap user $USER)",
			 ifname && *ifname ? " " : "", ifname ? ifname : "", strerror(e));
		close(fd);
		return -1;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 || ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) {
		e = errno;
		snprintf(err, errlen, "tap %s: cannot set the virtio-net header size or offloads: %s", ifr.ifr_name,
			 strerror(e));
		close(fd);
		return -1;
	}
	memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
	name_out[IFNAMSIZ - 1] = '\0';

	/* Bring the link up; the host side's addresses and bridges are the user's business. */
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock >= 0) {
		if (ioctl(sock, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
			ifr.ifr_flags |= IFF_UP;
			if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
				pr_warn("tap %s: cannot bring the link up: %s (ip link set %s up)", name_out,
					strerror(errno), name_out);
		}
		close(sock);
	}
	return fd;
}

/* Read the next packet from the tap into rx_buf; false if there is none. */
static bool rx_fetch(struct virtio_net *n)
{
	for (;;) {
		ssize_t r = read(n->tap_fd, n->rx_buf, sizeof(n->rx_buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			if (errno != EAGAIN)
				pr_warn_ratelimited(&n->rl, "%s: tap read: %s", n->vdev.label, strerror(errno));
			return false;
		}
		if ((size_t)r <= VIRTIO_NET_HDR_LEN) {
			virtio_stat_add(&n->rx_drops, 1);
			continue;
		}
		n->rx_len = (size_t)r;
		/* num_buffers (bytes 10-11): the tap leaves it alone; one buffer per packet without MRG_RXBUF. */
		n->rx_buf[10] = 1;
		n->rx_buf[11] = 0;
		return true;
	}
}

static void net_rx(struct virtio_net *n)
{
	struct virtio_dev *vd = &n->vdev;
	struct virtq_chain ch;
	unsigned int budget = VIRTIO_NET_RX_BUDGET;

	do {
		while (budget) {
			size_t copied = 0;
			if (!n->rx_len && !rx_fetch(n))
				break;
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
	} while (virtio_dev_done(vd, VIRTIO_NET_RXQ) && n->rx_len && budget);
}

static void net_tx(struct virtio_net *n)
{
	struct virtio_dev *vd = &n->vdev;
	struct virtq_chain ch;

	do {
		while (virtio_dev_pop(vd, VIRTIO_NET_TXQ, &ch)) {
			/* The chain is header + frame, the same layout the tap takes: pass it through. */
			if (ch.out_len <= VIRTIO_NET_HDR_LEN || ch.out_len > sizeof(n->rx_buf)) {
				virtio_stat_add(&n->tx_drops, 1);
			} else {
				ssize_t r;
				do
					r = writev(n->tap_fd, ch.iov, (int)ch.n_out);
				while (r < 0 && errno == EINTR);
				if (r < 0) {
					virtio_stat_add(&n->tx_drops, 1); /* tap queue full or link down: a NIC drops too */
				} else {
					virtio_stat_add(&n->tx_packets, 1);
					virtio_stat_add(&n->tx_bytes, ch.out_len - VIRTIO_NET_HDR_LEN);
				}
			}
			virtq_push(&vd->vq[VIRTIO_NET_TXQ], ch.head, 0);
		}
	} while (virtio_dev_done(vd, VIRTIO_NET_TXQ));
}

static void net_queue_notify(struct virtio_dev *vd, unsigned int q)
{
	if (q == VIRTIO_NET_TXQ)
		net_tx(vd->priv);
	else
		net_rx(vd->priv); /* new receive buffers: deliver a waiting packet */
}

static int net_poll_fd(struct virtio_dev *vd, short *events)
{
	struct virtio_net *n = vd->priv;

	if (n->tap_broken)
		return -1;
	*events = n->rx_len ? 0 : POLLIN; /* with a packet waiting, the rxq kick resumes reception */
	return n->tap_fd;
}

static void net_fd_ready(struct virtio_dev *vd, short revents)
{
	struct virtio_net *n = vd->priv;

	if ((revents & (POLLERR | POLLHUP | POLLNVAL)) && !(revents & POLLIN)) {
		/* Stop watching it rather than spin; transmit keeps trying. */
		pr_warn("%s: the tap failed (poll revents 0x%x); no more packets for the guest", vd->label, revents);
		n->tap_broken = true;
		return;
	}
	net_rx(n);
}

static void net_reset(struct virtio_dev *vd)
{
	struct virtio_net *n = vd->priv;

	n->rx_len = 0; /* drop a packet that waited for the old rings */
}

static const struct virtio_dev_ops net_ops = {
	.name = "net",
	.device_id = VIRTIO_ID_NET,
	.pci_class = 0x020000,
	.features = VIRTIO_FEATURE(VIRTIO_NET_F_MAC) | VIRTIO_FEATURE(VIRTIO_NET_F_STATUS),
	.nr_queues = 2,
	.queue_max = VIRTIO_NET_QUEUE_SIZE,
	.queue_notify = net_queue_notify,
	.poll_fd = net_poll_fd,
	.fd_ready = net_fd_ready,
	.reset = net_reset,
};

struct virtio_net *virtio_net_create(const struct guest_ram *ram, int tap_fd,
				     const u8 mac[6])
{
	struct virtio_net *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->tap_fd = tap_fd;
	if (virtio_dev_init(&n->vdev, &net_ops, n, ram, VIRTIO_NET_CONFIG_SIZE)) {
		virtio_dev_destroy(&n->vdev);
		free(n);
		return NULL;
	}
	for (int i = 0; i < 6; i++)
		virtio_config_put(&n->vdev, (u32)i, mac[i], 1);
	virtio_config_put(&n->vdev, 6, VIRTIO_NET_S_LINK_UP, 2);
	return n;
}

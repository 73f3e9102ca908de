/* The tap back-end: a host tap device with IFF_VNET_HDR, packets passed through with their virtio-net header. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kvm/log.h"
#include "kvm/net-backend.h"
#include "kvm/virtio.h"

int net_tap_open(const char *ifname, const u8 host_mac[6], char name_out[IFNAMSIZ], char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, hdr = NET_VNET_HDR_LEN, sock, e;
	/* a tap that exists is the user's (its MAC may be known to a bridge); one lkvm creates gets host_mac */
	bool created = !(ifname && *ifname && if_nametoindex(ifname));

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
	if (sock >= 0 && created && host_mac) {
		/* the same MAC after a restore or a move: the guest's ARP entry for the host stays right */
		struct ifreq hw = ifr;
		hw.ifr_hwaddr.sa_family = ARPHRD_ETHER;
		memcpy(hw.ifr_hwaddr.sa_data, host_mac, 6);
		if (ioctl(sock, SIOCSIFHWADDR, &hw) < 0)
			pr_warn("tap %s: cannot set its MAC: %s", name_out, strerror(errno));
	}
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

static ssize_t tap_recv(struct net_backend *b, u8 *buf, size_t cap)
{
	for (;;) {
		ssize_t r = read(b->fd, buf, cap);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN ? 0 : -1;
		if ((size_t)r <= NET_VNET_HDR_LEN) {
			b->bad_frames++;
			continue;
		}
		/* num_buffers (bytes 10-11): the tap leaves it alone; one buffer per packet without MRG_RXBUF. */
		buf[10] = 1;
		buf[11] = 0;
		return r;
	}
}

static enum net_send_result tap_send(struct net_backend *b, const struct iovec *iov, unsigned int n, size_t len)
{
	ssize_t r;

	(void)len;
	do
		r = writev(b->fd, iov, (int)n);
	while (r < 0 && errno == EINTR);
	/* tap queue full or link down: a NIC drops too */
	return r < 0 ? NET_SEND_DROPPED : NET_SEND_OK;
}

static enum net_send_result tap_flush(struct net_backend *b)
{
	(void)b;
	return NET_SEND_OK;
}

static bool tap_nothing(const struct net_backend *b)
{
	(void)b;
	return false;
}

static bool tap_can_send(struct net_backend *b)
{
	(void)b;
	return true;
}

/* What the tap may hand lkvm (and so the guest): partial checksums and TCP segments, as far as the guest takes them. */
static int tap_set_offload(struct net_backend *b, u64 f)
{
	unsigned long off = 0;

	if (f & VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (f & VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (f & VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_TSO6))
			off |= TUN_F_TSO6;
	}
	return ioctl(b->fd, TUNSETOFFLOAD, off) < 0 ? -errno : 0;
}

static const struct net_backend_ops tap_ops = {
	.name = "tap",
	.recv = tap_recv,
	.can_send = tap_can_send,
	.send = tap_send,
	.flush = tap_flush,
	.buffered = tap_nothing,
	.tx_pending = tap_nothing,
	.set_offload = tap_set_offload,
};

struct net_backend *net_tap_backend(int fd, const char *ifname)
{
	struct net_backend *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->ops = &tap_ops;
	b->fd = fd;
	b->log_fd = -1;
	/* the tap carries the virtio-net header through, so the guest may checksum and segment late either way */
	b->features = VIRTIO_FEATURE(VIRTIO_NET_F_CSUM) | VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_CSUM) |
		      VIRTIO_FEATURE(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_FEATURE(VIRTIO_NET_F_HOST_TSO6) |
		      VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_TSO6);
	snprintf(b->desc, sizeof(b->desc), "tap %s", ifname);
	return b;
}

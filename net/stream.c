/* The passt stream back-end: virtio-net packets to and from length-prefixed Ethernet frames on a UNIX socket. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm/net-backend.h"

static ssize_t stream_recv(struct net_backend *b, u8 *buf, size_t cap)
{
	for (;;) {
		const u8 *frame;
		size_t len;
		u64 bad = b->rx->short_frames + b->rx->long_frames;
		enum net_frame_result r = net_frame_next(b->rx, &frame, &len);
		ssize_t n;

		b->bad_frames += b->rx->short_frames + b->rx->long_frames - bad;
		if (r == NET_FRAME_BROKEN)
			return -1;
		if (r == NET_FRAME_OK) {
			if (NET_VNET_HDR_LEN + len > cap) {
				b->bad_frames++;
				continue;
			}
			memset(buf, 0, NET_VNET_HDR_LEN);
			buf[10] = 1; /* num_buffers: one buffer per packet without MRG_RXBUF */
			memcpy(buf + NET_VNET_HDR_LEN, frame, len);
			return (ssize_t)(NET_VNET_HDR_LEN + len);
		}
		n = net_frame_rx_fill(b->rx, b->fd);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return 0;
		if (n <= 0)
			return -1; /* end of stream or a socket error: passt is gone */
	}
}

static enum net_send_result stream_flush(struct net_backend *b)
{
	int r = net_frame_tx_flush(b->tx, b->fd);

	if (!r)
		return NET_SEND_OK;
	return r == -EAGAIN ? NET_SEND_FULL : NET_SEND_GONE;
}

static enum net_send_result stream_send(struct net_backend *b, const struct iovec *iov, unsigned int n, size_t len)
{
	size_t flen = len - NET_VNET_HDR_LEN; /* the caller checked len > header */

	if (flen < NET_FRAME_MIN || flen > NET_FRAME_MAX)
		return NET_SEND_DROPPED;
	if (!net_frame_tx_room(b->tx, flen)) {
		enum net_send_result r = stream_flush(b);
		if (r == NET_SEND_GONE)
			return r;
		if (!net_frame_tx_room(b->tx, flen))
			return NET_SEND_FULL;
	}
	/* passt takes bare Ethernet frames: the virtio-net header stays behind (no offloads are offered) */
	return net_frame_tx_put(b->tx, iov, n, NET_VNET_HDR_LEN, flen) ? NET_SEND_OK : NET_SEND_DROPPED;
}

static bool stream_can_send(struct net_backend *b)
{
	if (net_frame_tx_room(b->tx, NET_FRAME_MAX))
		return true;
	return stream_flush(b) == NET_SEND_OK || net_frame_tx_room(b->tx, NET_FRAME_MAX);
}

static bool stream_buffered(const struct net_backend *b)
{
	return net_frame_rx_buffered(b->rx);
}

static ssize_t stream_pull(struct net_backend *b)
{
	ssize_t n = net_frame_rx_pull(b->rx, b->fd);

	return n == -ENOBUFS ? -EAGAIN : n;
}

static bool stream_rx_room(const struct net_backend *b)
{
	return net_frame_rx_room(b->rx);
}

static bool stream_tx_pending(const struct net_backend *b)
{
	return net_frame_tx_pending(b->tx);
}

static const struct net_backend_ops stream_ops = {
	.name = "user",
	.recv = stream_recv,
	.can_send = stream_can_send,
	.send = stream_send,
	.flush = stream_flush,
	.buffered = stream_buffered,
	.tx_pending = stream_tx_pending,
	.pull = stream_pull,
	.rx_room = stream_rx_room,
};

struct net_backend *net_stream_backend(int fd, const char *desc)
{
	struct net_backend *b = calloc(1, sizeof(*b));
	int fl = fcntl(fd, F_GETFL);

	if (!b)
		return NULL;
	b->rx = malloc(sizeof(*b->rx));
	b->tx = malloc(sizeof(*b->tx));
	if (!b->rx || !b->tx) {
		net_backend_free(b);
		return NULL;
	}
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	net_frame_rx_init(b->rx);
	net_frame_tx_init(b->tx);
	b->ops = &stream_ops;
	b->fd = fd;
	b->log_fd = -1;
	/* passt's frames are bare Ethernet (no header to carry offloads), but as large as its MTU: the guest's link
	 * takes that MTU, so a TCP stream moves in 64 KiB frames rather than 1500-byte ones */
	b->mtu = NET_USER_MTU;
	snprintf(b->desc, sizeof(b->desc), "%s", desc);
	return b;
}

void net_backend_free(struct net_backend *b)
{
	if (!b)
		return;
	free(b->rx);
	free(b->tx);
	free(b);
}

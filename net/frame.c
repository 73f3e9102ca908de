/* The passt/qemu stream framing: 32-bit big-endian length prefixes, partial reads and writes, hostile lengths. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kvm/net-frame.h"

void net_frame_rx_init(struct net_frame_rx *r)
{
	r->head = r->tail = 0;
	r->skip = 0;
	r->short_frames = r->long_frames = 0;
}

/* Move the unparsed bytes to the front so that a whole frame always fits behind them. */
static void rx_compact(struct net_frame_rx *r)
{
	if (!r->head)
		return;
	memmove(r->buf, r->buf + r->head, r->tail - r->head);
	r->tail -= r->head;
	r->head = 0;
}

static ssize_t rx_read(struct net_frame_rx *r, int fd)
{
	ssize_t n;

	do
		n = recv(fd, r->buf + r->tail, sizeof(r->buf) - r->tail, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	r->tail += (size_t)n;
	return n;
}

size_t net_frame_rx_feed(struct net_frame_rx *r, const u8 *data, size_t len)
{
	size_t room;

	rx_compact(r);
	room = sizeof(r->buf) - r->tail;
	if (len > room)
		len = room;
	memcpy(r->buf + r->tail, data, len);
	r->tail += len;
	return len;
}

ssize_t net_frame_rx_fill(struct net_frame_rx *r, int fd)
{
	rx_compact(r);
	if (r->tail == sizeof(r->buf))
		return -ENOBUFS; /* cannot happen: called when no whole frame is buffered, so little is */
	return rx_read(r, fd);
}

bool net_frame_rx_room(const struct net_frame_rx *r)
{
	return r->head >= sizeof(r->buf) / 2 || sizeof(r->buf) - r->tail >= NET_FRAME_LEN_BYTES + NET_FRAME_MAX;
}

ssize_t net_frame_rx_pull(struct net_frame_rx *r, int fd)
{
	if (r->head >= sizeof(r->buf) / 2 || r->head == r->tail)
		rx_compact(r);
	if (r->tail == sizeof(r->buf))
		return -ENOBUFS;
	return rx_read(r, fd);
}

bool net_frame_rx_buffered(const struct net_frame_rx *r)
{
	return r->tail > r->head;
}

enum net_frame_result net_frame_next(struct net_frame_rx *r, const u8 **frame, size_t *len)
{
	for (;;) {
		size_t have = r->tail - r->head;
		const u8 *p = r->buf + r->head;
		u32 flen;

		if (r->skip) { /* the rest of an oversized frame, as it arrives */
			size_t n = have < r->skip ? have : r->skip;
			r->head += n;
			r->skip -= (u32)n;
			if (r->skip)
				return NET_FRAME_NEED;
			continue;
		}
		if (have < NET_FRAME_LEN_BYTES)
			return NET_FRAME_NEED;
		flen = (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
		if (flen > NET_FRAME_DISCARD_MAX)
			return NET_FRAME_BROKEN;
		if (flen > NET_FRAME_MAX) {
			r->long_frames++;
			r->head += NET_FRAME_LEN_BYTES;
			r->skip = flen;
			continue;
		}
		if (have - NET_FRAME_LEN_BYTES < flen)
			return NET_FRAME_NEED;
		r->head += NET_FRAME_LEN_BYTES + flen;
		if (flen < NET_FRAME_MIN) {
			r->short_frames++;
			continue;
		}
		*frame = p + NET_FRAME_LEN_BYTES;
		*len = flen;
		return NET_FRAME_OK;
	}
}

void net_frame_tx_init(struct net_frame_tx *t)
{
	t->head = t->tail = 0;
}

bool net_frame_tx_room(const struct net_frame_tx *t, size_t len)
{
	/* room after compaction; put() compacts */
	return len <= NET_FRAME_MAX && sizeof(t->buf) - (t->tail - t->head) >= NET_FRAME_LEN_BYTES + len;
}

bool net_frame_tx_put(struct net_frame_tx *t, const struct iovec *iov, unsigned int n, size_t skip, size_t len)
{
	size_t at, want = len;
	u8 *p;

	if (!net_frame_tx_room(t, len))
		return false;
	if (sizeof(t->buf) - t->tail < NET_FRAME_LEN_BYTES + len) {
		memmove(t->buf, t->buf + t->head, t->tail - t->head);
		t->tail -= t->head;
		t->head = 0;
	}
	p = t->buf + t->tail;
	p[0] = (u8)(len >> 24);
	p[1] = (u8)(len >> 16);
	p[2] = (u8)(len >> 8);
	p[3] = (u8)len;
	at = NET_FRAME_LEN_BYTES;
	for (unsigned int i = 0; i < n && want; i++) {
		size_t l = iov[i].iov_len;
		const u8 *b = iov[i].iov_base;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		b += skip;
		l -= skip;
		skip = 0;
		if (l > want)
			l = want;
		memcpy(p + at, b, l);
		at += l;
		want -= l;
	}
	if (want)
		return false; /* the iov held fewer bytes than len: nothing queued */
	t->tail += at;
	return true;
}

int net_frame_tx_flush(struct net_frame_tx *t, int fd)
{
	while (t->tail > t->head) {
		/* MSG_NOSIGNAL: a passt that died gives EPIPE here, not a SIGPIPE for the process */
		ssize_t w = send(fd, t->buf + t->head, t->tail - t->head, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		if (w == 0)
			return -EPIPE;
		t->head += (size_t)w;
	}
	t->head = t->tail = 0;
	return 0;
}

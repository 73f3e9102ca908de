/* The length-prefixed frame stream of a passt (qemu) socket: a 32-bit big-endian length, then the Ethernet frame. */
#ifndef KVM_NET_FRAME_H
#define KVM_NET_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "kvm/util.h"

#define NET_FRAME_LEN_BYTES 4
#define NET_FRAME_MIN 14                 /* an Ethernet header; shorter frames are dropped */
#define NET_FRAME_MAX 65536              /* the largest frame passed either way (passt's MTU 65520 + header) */
#define NET_FRAME_DISCARD_MAX (1u << 20) /* a longer announced length is a broken stream, not a big frame */
#define NET_FRAME_BUF (256 * 1024)       /* bytes queued for sending: several frames per system call */
/*
 * Bytes held on the receive side: what a guest's TCP window may have in flight. lkvm drains the socket into it
 * while the guest's ring is full, so the peer's writes never find the socket full: an older passt (Debian 12's)
 * drops a frame the socket refuses and resends it only after its ACK timeout, seconds later.
 */
#define NET_FRAME_RX_BUF (4u << 20)

/* Receive side: bytes read from the socket, split into frames. */
struct net_frame_rx {
	size_t head, tail; /* unparsed bytes are buf[head, tail) */
	u32 skip;          /* bytes of an oversized frame still to throw away */
	u64 short_frames;  /* frames dropped for being shorter than NET_FRAME_MIN (zero-length included) */
	u64 long_frames;   /* frames dropped for being longer than NET_FRAME_MAX */
	u8 buf[NET_FRAME_RX_BUF];
};

enum net_frame_result {
	NET_FRAME_BROKEN = -1, /* an announced length beyond NET_FRAME_DISCARD_MAX: the stream cannot be trusted */
	NET_FRAME_NEED = 0,    /* no whole frame buffered: read more */
	NET_FRAME_OK = 1,
};

void net_frame_rx_init(struct net_frame_rx *r);
/* Append up to len bytes (what fits); returns how many were taken. For tests and the fuzzer; the device reads. */
size_t net_frame_rx_feed(struct net_frame_rx *r, const u8 *data, size_t len);
/* Read what the fd has (non-blocking): bytes read (> 0), 0 at end of stream, -errno (-EAGAIN: nothing now). */
ssize_t net_frame_rx_fill(struct net_frame_rx *r, int fd);
/*
 * The next whole frame: NET_FRAME_OK with *frame pointing into the buffer (valid until the next feed or fill) and
 * *len its length. Short and oversized frames are counted and skipped, never returned.
 */
enum net_frame_result net_frame_next(struct net_frame_rx *r, const u8 **frame, size_t *len);
/* Whether bytes are buffered (a whole frame may be waiting even when the socket is empty). */
bool net_frame_rx_buffered(const struct net_frame_rx *r);
/*
 * Ahead of need: read what the fd has into the free room, whole frames waiting or not (the unparsed bytes move
 * to the front only once half the buffer is spent, so the copying stays in proportion to what is read). Returns
 * as net_frame_rx_fill, or -ENOBUFS without room; poll for input only while net_frame_rx_room() is true.
 */
ssize_t net_frame_rx_pull(struct net_frame_rx *r, int fd);
bool net_frame_rx_room(const struct net_frame_rx *r);

/* Transmit side: frames queued with their length prefix, written as the socket takes them. */
struct net_frame_tx {
	size_t head, tail; /* unwritten bytes are buf[head, tail) */
	u8 buf[NET_FRAME_BUF];
};

void net_frame_tx_init(struct net_frame_tx *t);
/* Whether a frame of len bytes fits now (the caller flushes and waits for POLLOUT when not). */
bool net_frame_tx_room(const struct net_frame_tx *t, size_t len);
/* Queue the bytes [skip, skip + len) of iov as one frame; false (nothing queued) if it does not fit. */
bool net_frame_tx_put(struct net_frame_tx *t, const struct iovec *iov, unsigned int n, size_t skip, size_t len);
/* Write what the fd takes: 0 all written, -EAGAIN some left (wait for POLLOUT), other -errno: the peer is gone. */
int net_frame_tx_flush(struct net_frame_tx *t, int fd);
static inline bool net_frame_tx_pending(const struct net_frame_tx *t)
{
	return t->tail > t->head;
}

#endif

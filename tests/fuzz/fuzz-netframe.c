/* Fuzz target: the passt stream frame reader (net/frame.c) and the stream back-end's receive path on hostile bytes. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "kvm/net-backend.h"

/*
 * Input: u8 chunking seed, then the byte stream passt would send. The stream is fed to a frame reader in chunks of
 * varying size (partial lengths, partial frames); every frame returned must lie inside the buffer and within the
 * size limits, and the same bytes through a socketpair must give the stream back-end the same frames.
 */
static struct net_frame_rx rx;
static u8 out[NET_VNET_HDR_LEN + NET_FRAME_MAX];

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz f = fz_init(data, size);
	u8 seed = fz_u8(&f);
	size_t len, fed = 0, left;
	const u8 *stream = fz_bytes(&f, size, &left), *frame;
	unsigned int frames = 0, step = 0, be_frames = 0;
	struct net_backend *be;
	int sp[2];

	net_frame_rx_init(&rx);
	while (fed < left) {
		size_t chunk = 1 + ((seed + step * 31u) % 97u) * ((step & 3) ? 1 : 300);
		step++;
		enum net_frame_result r;
		if (chunk > left - fed)
			chunk = left - fed;
		fed += net_frame_rx_feed(&rx, stream + fed, chunk);
		while ((r = net_frame_next(&rx, &frame, &len)) == NET_FRAME_OK) {
			if (len < NET_FRAME_MIN || len > NET_FRAME_MAX || frame < rx.buf || frame + len > rx.buf + sizeof(rx.buf))
				abort();
			frames++;
		}
		if (r == NET_FRAME_BROKEN)
			break;
	}

	/* the back-end over a real socket: the same frames, never more than the reader found */
	if (left > 200000 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp))
		return 0;
	be = net_stream_backend(sp[0], "fuzz");
	if (!be)
		abort();
	for (size_t at = 0; at < left;) {
		ssize_t w = write(sp[1], stream + at, left - at), n;
		if (w <= 0)
			break;
		at += (size_t)w;
		while ((n = be->ops->recv(be, out, sizeof(out))) > 0) {
			if ((size_t)n < NET_VNET_HDR_LEN + NET_FRAME_MIN || out[10] != 1)
				abort();
			be_frames++;
		}
		if (n < 0)
			break;
	}
	if (be_frames > frames)
		abort();
	close(sp[1]);
	close(sp[0]);
	net_backend_free(be);
	return 0;
}

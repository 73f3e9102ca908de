/* Unit tests: passt's length-prefixed framing (net/frame.c): partial reads and writes, hostile lengths, a dead peer. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "kvm/net-frame.h"

static void be32(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 24);
	p[1] = (u8)(v >> 16);
	p[2] = (u8)(v >> 8);
	p[3] = (u8)v;
}

/* A stream of n frames of lengths len[i], frame i filled with byte i+1. Returns its size. */
static size_t make_stream(u8 *out, const u32 *len, unsigned int n)
{
	size_t at = 0;
	for (unsigned int i = 0; i < n; i++) {
		be32(out + at, len[i]);
		memset(out + at + 4, i + 1, len[i]);
		at += 4 + len[i];
	}
	return at;
}

static void test_rx(struct unit_counts *uc)
{
	struct net_frame_rx *r = malloc(sizeof(*r));
	static u8 s[4 * (NET_FRAME_MAX + 4)];
	const u32 lens[] = { 60, 1514, NET_FRAME_MAX, 14, 9000 };
	size_t total = make_stream(s, lens, 5), fed = 0;
	unsigned int got = 0, bad = 0;
	const u8 *f;
	size_t len;

	/* one byte at a time: every frame whole, in order, with its contents */
	net_frame_rx_init(r);
	while (fed < total) {
		enum net_frame_result x;
		fed += net_frame_rx_feed(r, s + fed, 1);
		while ((x = net_frame_next(r, &f, &len)) == NET_FRAME_OK) {
			if (got >= 5 || len != lens[got] || f[0] != got + 1 || f[len - 1] != got + 1)
				bad++;
			got++;
		}
		if (x != NET_FRAME_NEED)
			bad++;
	}
	CHECK(uc, got == 5 && !bad && !net_frame_rx_buffered(r), "fed byte by byte: 5 frames (60..65536 bytes) intact");

	/* in odd-sized chunks (7 and 4093 bytes) */
	for (size_t chunk = 7; chunk < 5000; chunk += 4086) {
		net_frame_rx_init(r);
		got = bad = 0;
		for (fed = 0; fed < total;) {
			fed += net_frame_rx_feed(r, s + fed, total - fed < chunk ? total - fed : chunk);
			while (net_frame_next(r, &f, &len) == NET_FRAME_OK)
				bad += len != lens[got++];
		}
		CHECK(uc, got == 5 && !bad, "fed in %zu-byte chunks: 5 frames", chunk);
	}

	/* zero-length and short frames are dropped and counted; the stream goes on */
	{
		const u32 l2[] = { 0, 13, 60, 0 };
		net_frame_rx_init(r);
		total = make_stream(s, l2, 4);
		net_frame_rx_feed(r, s, total);
		CHECK(uc, net_frame_next(r, &f, &len) == NET_FRAME_OK && len == 60 && f[0] == 3,
		      "zero-length and 13-byte frames skipped, the 60-byte one returned");
		CHECK(uc, net_frame_next(r, &f, &len) == NET_FRAME_NEED && r->short_frames == 3 && !net_frame_rx_buffered(r),
		      "three short frames counted, nothing left");
	}

	/* an oversized frame (NET_FRAME_MAX + 1 .. 1 MiB) is thrown away as it streams in, then sync resumes */
	{
		u8 hdr[4];
		static u8 junk[200000];
		const u32 l3[] = { 100 };
		net_frame_rx_init(r);
		be32(hdr, 150000);
		net_frame_rx_feed(r, hdr, 4);
		memset(junk, 0xab, sizeof(junk));
		for (size_t done = 0; done < 150000; done += 30000) {
			net_frame_rx_feed(r, junk, 30000);
			if (net_frame_next(r, &f, &len) != NET_FRAME_NEED)
				bad = 99;
		}
		total = make_stream(s, l3, 1);
		net_frame_rx_feed(r, s, total);
		CHECK(uc, net_frame_next(r, &f, &len) == NET_FRAME_OK && len == 100 && f[0] == 1 && r->long_frames == 1 &&
				  bad != 99,
		      "150000-byte frame skipped in pieces, the next frame intact");
	}

	/* a length beyond 1 MiB cannot be a frame: the stream is broken (the device takes the link down) */
	{
		u8 hdr[4];
		net_frame_rx_init(r);
		be32(hdr, 0xffffffffu);
		net_frame_rx_feed(r, hdr, 4);
		CHECK(uc, net_frame_next(r, &f, &len) == NET_FRAME_BROKEN, "length 0xffffffff: broken stream");
		net_frame_rx_init(r);
		be32(hdr, NET_FRAME_DISCARD_MAX);
		net_frame_rx_feed(r, hdr, 3);
		CHECK(uc, net_frame_next(r, &f, &len) == NET_FRAME_NEED, "3 of 4 length bytes: waits");
		net_frame_rx_feed(r, hdr + 3, 1);
		CHECK(uc, net_frame_next(r, &f, &len) == NET_FRAME_NEED && r->long_frames == 1,
		      "length exactly 1 MiB: still skipped, not broken");
	}
	free(r);
}

static void test_tx_and_fill(struct unit_counts *uc)
{
	struct net_frame_tx *t = malloc(sizeof(*t));
	struct net_frame_rx *r = malloc(sizeof(*r));
	static u8 big[NET_FRAME_MAX + 12];
	int sp[2], sz = 4096;
	unsigned int queued = 0, got = 0, bad = 0;
	struct iovec iov[3];
	const u8 *f;
	size_t len;
	int fr;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp))
		abort();
	setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sp[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	net_frame_tx_init(t);
	net_frame_rx_init(r);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (u8)(i * 7);
	/* a frame split over three iovecs, the first 12 bytes (a virtio-net header) skipped */
	iov[0] = (struct iovec){ big, 10 };
	iov[1] = (struct iovec){ big + 10, 100 };
	iov[2] = (struct iovec){ big + 110, sizeof(big) - 110 };
	CHECK(uc, !net_frame_tx_room(t, NET_FRAME_MAX + 1) && net_frame_tx_room(t, NET_FRAME_MAX),
	      "room: up to NET_FRAME_MAX bytes a frame");
	CHECK(uc, !net_frame_tx_put(t, iov, 3, 12, sizeof(big)), "put refuses more bytes than the iovecs hold");
	while (net_frame_tx_put(t, iov, 3, 12, 1500 + queued))
		queued++;
	CHECK(uc, queued >= 3 && net_frame_tx_pending(t), "%u frames queued until the buffer is full", queued);
	/* the socket takes a few KiB at a time: flush, read, flush, ... every frame arrives whole */
	fr = net_frame_tx_flush(t, sp[0]);
	CHECK(uc, fr == -EAGAIN && net_frame_tx_pending(t), "flush into a small socket buffer: -EAGAIN, rest kept");
	for (int rounds = 0; rounds < 100000 && got < queued; rounds++) {
		ssize_t n = net_frame_rx_fill(r, sp[1]);
		fr = net_frame_tx_flush(t, sp[0]);
		if (n == 0 || (n < 0 && n != -EAGAIN) || (fr && fr != -EAGAIN))
			break;
		while (net_frame_next(r, &f, &len) == NET_FRAME_OK) {
			bad += len != 1500 + got || memcmp(f, big + 12, len);
			got++;
		}
	}
	CHECK(uc, got == queued && !bad && !net_frame_tx_pending(t), "partial writes and reads: %u frames intact", got);
	CHECK(uc, net_frame_rx_fill(r, sp[1]) == -EAGAIN, "fill on an empty socket: -EAGAIN");

	/* the peer closes: fill sees the end, flush sees EPIPE (no SIGPIPE: the test would die) */
	close(sp[1]);
	CHECK(uc, net_frame_tx_put(t, iov, 3, 12, 100), "a frame queued after the peer left");
	fr = net_frame_tx_flush(t, sp[0]);
	CHECK(uc, fr == -EPIPE || fr == -ECONNRESET, "flush to a closed peer: %d (EPIPE), no signal", fr);
	close(sp[0]);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp))
		abort();
	close(sp[1]);
	CHECK(uc, net_frame_rx_fill(r, sp[0]) == 0, "fill from a closed peer: 0 (end of stream)");
	close(sp[0]);
	free(t);
	free(r);
}

/*
 * Reading ahead: the peer writes far more than one frame while nobody takes them (the guest's ring is full); pull
 * takes everything the socket has until the buffer is full (the peer's socket drains), reports no room then, and
 * room again once half is taken; the frames come out whole and in order.
 */
static void test_pull(struct unit_counts *uc)
{
	struct net_frame_rx *r = malloc(sizeof(*r));
	static u8 fr[4 + 60000];
	int sp[2];
	unsigned int sent = 0, got = 0, bad = 0;
	size_t pulled = 0, off = 0, len;
	bool full_seen = false;
	const u8 *f;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp))
		abort();
	net_frame_rx_init(r);
	/* 100 frames of 60000 bytes (about 6 MiB, more than the buffer holds), frame i filled with the byte i + 1 */
	while (sent < 100) {
		ssize_t w;
		if (!off) {
			fr[0] = 0;
			fr[1] = (u8)(60000 >> 16);
			fr[2] = (u8)(60000 >> 8);
			fr[3] = (u8)60000;
			memset(fr + 4, (int)(sent + 1), 60000);
		}
		w = send(sp[0], fr + off, sizeof(fr) - off, MSG_DONTWAIT);
		if (w > 0) {
			off += (size_t)w;
			if (off == sizeof(fr)) {
				sent++;
				off = 0;
			}
			continue;
		}
		/* the socket is full: what a reader that waited for the guest would leave passt with */
		n = net_frame_rx_pull(r, sp[1]);
		if (n > 0) {
			pulled += (size_t)n;
			continue;
		}
		if (!full_seen) {
			CHECK(uc, !net_frame_rx_room(r) && pulled >= NET_FRAME_RX_BUF - NET_FRAME_LEN_BYTES - NET_FRAME_MAX,
			      "pull reads ahead until the buffer is full (%zu bytes, no frame taken yet), then reports no room",
			      pulled);
			while (got < 40 && net_frame_next(r, &f, &len) == NET_FRAME_OK) {
				bad += len != 60000 || f[0] != (u8)(got + 1) || f[59999] != (u8)(got + 1);
				got++;
			}
			CHECK(uc, net_frame_rx_room(r), "room again once half of it is taken");
			full_seen = true;
			continue;
		}
		while (net_frame_next(r, &f, &len) == NET_FRAME_OK) {
			bad += len != 60000 || f[0] != (u8)(got + 1) || f[59999] != (u8)(got + 1);
			got++;
		}
	}
	for (int rounds = 0; rounds < 1000 && got < sent; rounds++) {
		n = net_frame_rx_pull(r, sp[1]);
		while (net_frame_next(r, &f, &len) == NET_FRAME_OK) {
			bad += len != 60000 || f[0] != (u8)(got + 1) || f[59999] != (u8)(got + 1);
			got++;
		}
		if (n == 0)
			break;
	}
	CHECK(uc, full_seen && got == sent && sent == 100 && !bad,
	      "all %u of %u frames whole and in order after reading ahead", got, sent);
	close(sp[0]);
	close(sp[1]);
	free(r);
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };

	test_rx(&uc);
	test_tx_and_fill(&uc);
	test_pull(&uc);
	UNIT_DONE(&uc);
}

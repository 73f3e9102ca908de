/* Unit tests: virtio-console, virtio-rng and virtio-net (over a socketpair standing in for the tap), and the CLI. */
#include <endian.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "kvm/virtio-mmio.h"
#include "kvm/builtin.h"
#include "kvm/kvm.h"
#include "kvm/virtio-console.h"
#include "kvm/net-vhost.h"
#include "kvm/virtio-net.h"
#include "kvm/virtio-rng.h"

#define RAM_BASE 0x40000000ULL
#define RAM_SIZE 0x20000ULL
#define MMIO 0x0a000000ULL
#define QN 8
#define BUFS 0x10000ULL /* data buffers from RAM_BASE + BUFS */

/* A fake driver for one device with up to two queues of QN entries; queue q's rings at q * 0x3000. */
struct drv {
	struct guest_ram ram;
	struct device_list bus;
	struct virtio_dev *vm;
	u16 avail_idx[2], used_seen[2], next_desc[2];
	u64 next_buf;
};

static u64 ring(unsigned int q, unsigned int part)
{
	return RAM_BASE + q * 0x3000ULL + part * 0x1000ULL; /* part 0 desc, 1 avail, 2 used */
}

static u8 *hp(struct drv *d, u64 gpa)
{
	return d->ram.host + (gpa - RAM_BASE);
}

static void mw(struct drv *d, u64 off, u32 v)
{
	u8 b[4] = { (u8)v, (u8)(v >> 8), (u8)(v >> 16), (u8)(v >> 24) };
	mmio_dispatch(&d->bus, MMIO + off, b, 4, true);
}

static void drv_init(struct drv *d)
{
	memset(d, 0, sizeof(*d));
	d->ram = (struct guest_ram){ .base = RAM_BASE, .size = RAM_SIZE, .host = calloc(1, RAM_SIZE), .fd = -1 };
	d->next_buf = RAM_BASE + BUFS;
	if (!d->ram.host)
		abort();
}

static void drv_up_features(struct drv *d, struct virtio_dev *vm, unsigned int nq, u32 features)
{
	d->vm = vm;
	if (virtio_mmio_init(vm, MMIO, 17) || virtio_mmio_register(vm, &d->bus))
		abort();
	mw(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mw(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mw(d, VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
	mw(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mw(d, VIRTIO_MMIO_DRIVER_FEATURES, features);
	mw(d, VIRTIO_MMIO_STATUS, 0xb);
	for (unsigned int q = 0; q < nq; q++) {
		mw(d, VIRTIO_MMIO_QUEUE_SEL, q);
		mw(d, VIRTIO_MMIO_QUEUE_NUM, QN);
		mw(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)ring(q, 0));
		mw(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (u32)ring(q, 1));
		mw(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u32)ring(q, 2));
		mw(d, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	mw(d, VIRTIO_MMIO_STATUS, 0xf);
	while (virtio_dev_poll(vm, 0) > 0)
		;
}

static void drv_up(struct drv *d, struct virtio_dev *vm, unsigned int nq)
{
	drv_up_features(d, vm, nq, (u32)vm->ops->features);
}

static void drv_fini(struct drv *d)
{
	virtio_dev_destroy(d->vm);
	free(d->ram.host);
}

/* Post a one-descriptor chain of len bytes (contents copied from src if readable); returns its guest address. */
static u64 drv_post(struct drv *d, unsigned int q, const void *src, u32 len, bool writable)
{
	u16 i = d->next_desc[q]++ % QN;
	u64 buf = d->next_buf;
	struct virtq_desc ds = { htole64(buf), htole32(len), htole16(writable ? VIRTQ_DESC_F_WRITE : 0), 0 };
	u16 *avail = (u16 *)hp(d, ring(q, 1));

	d->next_buf += (len + 15) & ~15u;
	if (src)
		memcpy(hp(d, buf), src, len);
	memcpy(hp(d, ring(q, 0) + 16ULL * i), &ds, sizeof(ds));
	avail[2 + d->avail_idx[q] % QN] = htole16(i);
	d->avail_idx[q]++;
	__atomic_store_n(&avail[1], htole16(d->avail_idx[q]), __ATOMIC_RELEASE);
	return buf;
}

static void drv_kick(struct drv *d, unsigned int q)
{
	mw(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
	while (virtio_dev_poll(d->vm, 0) > 0)
		;
}

/* The next used element of queue q: returns false if none. */
static bool drv_used(struct drv *d, unsigned int q, u32 *id, u32 *len)
{
	u8 *u = hp(d, ring(q, 2));
	u16 idx = le16toh(__atomic_load_n((u16 *)(u + 2), __ATOMIC_ACQUIRE));
	u32 e[2];

	if (idx == d->used_seen[q])
		return false;
	memcpy(e, u + 4 + 8 * (d->used_seen[q] % QN), 8);
	d->used_seen[q]++;
	*id = le32toh(e[0]);
	*len = le32toh(e[1]);
	return true;
}

static void test_console(struct unit_counts *uc)
{
	struct drv d;
	int p[2];
	struct virtio_console *c;
	char out[32] = "";
	u64 b1, b2;
	u32 id, len;
	static unsigned char big[5000];

	drv_init(&d);
	if (pipe2(p, O_NONBLOCK))
		abort();
	c = virtio_console_create(&d.ram, p[1]);
	CHECK(uc, c && virtio_console_receive(c, (const unsigned char *)"abc", 3) == 3,
	      "input taken before the driver is up");
	drv_up(&d, &c->vdev, 2);
	drv_post(&d, VIRTIO_CONSOLE_TXQ, "hello hvc0\n", 11, false);
	drv_kick(&d, VIRTIO_CONSOLE_TXQ);
	CHECK(uc, read(p[0], out, sizeof(out)) == 11 && !memcmp(out, "hello hvc0\n", 11), "transmitq to the host fd");
	CHECK(uc, drv_used(&d, VIRTIO_CONSOLE_TXQ, &id, &len) && len == 0, "transmit buffer returned");

	b1 = drv_post(&d, VIRTIO_CONSOLE_RXQ, NULL, 2, true);
	drv_kick(&d, VIRTIO_CONSOLE_RXQ);
	CHECK(uc, drv_used(&d, VIRTIO_CONSOLE_RXQ, &id, &len) && len == 2 && !memcmp(hp(&d, b1), "ab", 2),
	      "pending input delivered when the guest posts a buffer");
	b2 = drv_post(&d, VIRTIO_CONSOLE_RXQ, NULL, 16, true);
	drv_kick(&d, VIRTIO_CONSOLE_RXQ);
	CHECK(uc, drv_used(&d, VIRTIO_CONSOLE_RXQ, &id, &len) && len == 1 && *hp(&d, b2) == 'c', "the rest");
	b1 = drv_post(&d, VIRTIO_CONSOLE_RXQ, NULL, 16, true);
	drv_kick(&d, VIRTIO_CONSOLE_RXQ);
	CHECK(uc, !drv_used(&d, VIRTIO_CONSOLE_RXQ, &id, &len), "no input: the buffer stays posted");
	CHECK(uc, virtio_console_receive(c, (const unsigned char *)"xy", 2) == 2, "input while a buffer waits");
	while (virtio_dev_poll(&c->vdev, 0) > 0)
		;
	CHECK(uc, drv_used(&d, VIRTIO_CONSOLE_RXQ, &id, &len) && len == 2 && !memcmp(hp(&d, b1), "xy", 2),
	      "delivered by the worker on the host event");
	CHECK(uc, virtio_console_receive(c, big, sizeof(big)) == VIRTIO_CONSOLE_INBUF,
	      "input beyond the buffer is refused (retried later by the caller)");
	close(p[0]);
	close(p[1]);
	drv_fini(&d);
	free(c);
}

static void test_rng(struct unit_counts *uc)
{
	struct drv d;
	struct virtio_rng *r;
	u64 b;
	u32 id, len;
	int nonzero = 0;

	drv_init(&d);
	r = virtio_rng_create(&d.ram);
	drv_up(&d, &r->vdev, 1);
	b = drv_post(&d, 0, NULL, 64, true);
	drv_kick(&d, 0);
	for (int i = 0; i < 64; i++)
		nonzero += hp(&d, b)[i] != 0;
	CHECK(uc, drv_used(&d, 0, &id, &len) && len == 64 && nonzero > 32, "64 random bytes");
	drv_post(&d, 0, "x", 1, false);
	drv_kick(&d, 0);
	CHECK(uc, drv_used(&d, 0, &id, &len) && len == 0, "a readable-only chain gets 0 bytes");
	drv_fini(&d);
	free(r);
}

static void test_net(struct unit_counts *uc)
{
	struct drv d;
	struct virtio_net *n;
	int sp[2];
	u8 mac[6] = { 0x02, 1, 2, 3, 4, 5 }, pkt[12 + 60], got[256], cfg[8];
	u64 b;
	u32 id, len;

	drv_init(&d);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sp))
		abort();
	n = virtio_net_create(&d.ram, net_tap_backend(sp[0], "test"), mac);
	drv_up(&d, &n->vdev, 2);
	mmio_dispatch(&d.bus, MMIO + VIRTIO_MMIO_CONFIG, cfg, 8, false);
	CHECK(uc, !memcmp(cfg, mac, 6) && cfg[6] == VIRTIO_NET_S_LINK_UP && cfg[7] == 0, "config: MAC and link up");

	memset(pkt, 0, 12);
	for (int i = 12; i < (int)sizeof(pkt); i++)
		pkt[i] = (u8)i;
	drv_post(&d, VIRTIO_NET_TXQ, pkt, sizeof(pkt), false);
	drv_kick(&d, VIRTIO_NET_TXQ);
	CHECK(uc, read(sp[1], got, sizeof(got)) == (ssize_t)sizeof(pkt) && !memcmp(got, pkt, sizeof(pkt)),
	      "TX: header + frame written to the tap as one packet");
	CHECK(uc, drv_used(&d, VIRTIO_NET_TXQ, &id, &len) && len == 0, "TX buffer returned");

	/* RX: the packet arrives before any receive buffer; it waits, and goes into the first one posted. */
	memset(pkt, 0xee, 12); /* garbage in the header the tap fills; num_buffers must become 1 */
	if (write(sp[1], pkt, sizeof(pkt)) != (ssize_t)sizeof(pkt))
		abort();
	while (virtio_dev_poll(&n->vdev, 0) > 0)
		;
	CHECK(uc, n->rx_len == sizeof(pkt), "RX: packet held while the guest has no buffer");
	b = drv_post(&d, VIRTIO_NET_RXQ, NULL, 1526, true);
	drv_kick(&d, VIRTIO_NET_RXQ);
	CHECK(uc, drv_used(&d, VIRTIO_NET_RXQ, &id, &len) && len == sizeof(pkt) && hp(&d, b)[10] == 1 &&
			  hp(&d, b)[11] == 0 && !memcmp(hp(&d, b) + 12, pkt + 12, sizeof(pkt) - 12),
	      "RX: delivered with num_buffers 1");

	/* a buffer too small for the packet: the packet is dropped, the buffer comes back empty */
	drv_post(&d, VIRTIO_NET_RXQ, NULL, 32, true);
	if (write(sp[1], pkt, sizeof(pkt)) != (ssize_t)sizeof(pkt))
		abort();
	while (virtio_dev_poll(&n->vdev, 0) > 0)
		;
	CHECK(uc, drv_used(&d, VIRTIO_NET_RXQ, &id, &len) && len == 0 && n->rx_drops == 1 && n->rx_len == 0,
	      "RX: too-small buffer returned empty, packet dropped");
	CHECK(uc, n->tx_packets == 1 && n->tx_bytes == 60 && n->tx_drops == 0 && n->rx_packets == 1 && n->rx_bytes == 60,
	      "counters: one frame of 60 bytes each way, one receive drop");
	CHECK(uc, n->vdev.qstats[VIRTIO_NET_TXQ].requests == 1 && n->vdev.qstats[VIRTIO_NET_TXQ].bytes_out == 72 &&
			  n->vdev.qstats[VIRTIO_NET_RXQ].requests == 2 && n->vdev.qstats[VIRTIO_NET_RXQ].bytes_in == 1526 + 32 &&
			  n->vdev.qstats[VIRTIO_NET_TXQ].notifications >= 1 && n->vdev.qstats[VIRTIO_NET_RXQ].interrupts >= 1,
	      "queue counters: requests, buffer bytes, notifications, interrupts");
	close(sp[1]);
	close(sp[0]);
	drv_fini(&d);
	net_backend_free(n->be);
	free(n);
}

/*
 * A kernel back-end (vhost) on a queue: the worker leaves its kicks to the back-end (kick_fd still holds them) and
 * turns a signal on call_fd into the queue's interrupt.
 */
static void test_call_relay(struct unit_counts *uc)
{
	struct drv d;
	struct virtio_net *n;
	int sp[2], call;
	u8 mac[6] = { 0x02, 1, 2, 3, 4, 6 };
	u64 one = 1, v = 0;
	u64 irqs;

	drv_init(&d);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sp))
		abort();
	call = eventfd(0, EFD_NONBLOCK);
	n = virtio_net_create(&d.ram, net_tap_backend(sp[0], "test"), mac);
	n->vdev.call_fd[VIRTIO_NET_TXQ] = call;
	drv_up(&d, &n->vdev, 2);
	irqs = n->vdev.qstats[VIRTIO_NET_TXQ].interrupts;
	mw(&d, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_TXQ);
	while (virtio_dev_poll(&n->vdev, 0) > 0)
		;
	CHECK(uc, read(n->vdev.kick_fd[VIRTIO_NET_TXQ], &v, 8) == 8 && v == 1 &&
			  n->vdev.qstats[VIRTIO_NET_TXQ].notifications == 0,
	      "the kick stays in kick_fd for the back-end (the worker does not take it)");
	__atomic_store_n(&n->vdev.isr, 0, __ATOMIC_SEQ_CST);
	if (write(call, &one, 8) != 8)
		abort();
	while (virtio_dev_poll(&n->vdev, 0) > 0)
		;
	CHECK(uc, n->vdev.qstats[VIRTIO_NET_TXQ].interrupts == irqs + 1 && (n->vdev.isr & VIRTIO_INT_VRING) &&
			  read(call, &v, 8) < 0,
	      "a signal on call_fd: one interrupt for the queue (ISR VRING set), the eventfd drained");
	close(sp[1]);
	close(sp[0]);
	drv_fini(&d);
	close(call);
	net_backend_free(n->be);
	free(n);
}

/* The passt stream back-end under the device: frames with length prefixes, hostile sizes, passt going away. */
static void test_net_stream(struct unit_counts *uc)
{
	struct drv d;
	struct virtio_net *n;
	struct net_backend *be;
	int sp[2];
	u8 mac[6] = { 0x02, 1, 2, 3, 4, 6 }, pkt[12 + 60], got[256], cfg[8], lenb[4];
	u64 b;
	u32 id, len;

	drv_init(&d);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp))
		abort();
	be = net_stream_backend(sp[0], "passt test");
	n = virtio_net_create(&d.ram, be, mac);
	drv_up(&d, &n->vdev, 2);

	memset(pkt, 0x55, 12); /* the guest's header: passt never sees it */
	for (int i = 12; i < (int)sizeof(pkt); i++)
		pkt[i] = (u8)i;
	drv_post(&d, VIRTIO_NET_TXQ, pkt, sizeof(pkt), false);
	drv_kick(&d, VIRTIO_NET_TXQ);
	CHECK(uc, read(sp[1], got, sizeof(got)) == 64 && got[0] == 0 && got[1] == 0 && got[2] == 0 && got[3] == 60 &&
			  !memcmp(got + 4, pkt + 12, 60),
	      "TX: a 4-byte big-endian length 60, then the bare frame");

	/* RX: the frame arrives in two pieces; the guest gets a zeroed header with num_buffers 1 */
	b = drv_post(&d, VIRTIO_NET_RXQ, NULL, 1526, true);
	drv_kick(&d, VIRTIO_NET_RXQ);
	lenb[0] = lenb[1] = lenb[2] = 0;
	lenb[3] = 60;
	if (write(sp[1], lenb, 4) != 4 || write(sp[1], pkt + 12, 20) != 20)
		abort();
	while (virtio_dev_poll(&n->vdev, 0) > 0)
		;
	CHECK(uc, !drv_used(&d, VIRTIO_NET_RXQ, &id, &len), "RX: a partial frame is not delivered");
	if (write(sp[1], pkt + 32, 40) != 40)
		abort();
	while (virtio_dev_poll(&n->vdev, 0) > 0)
		;
	CHECK(uc, drv_used(&d, VIRTIO_NET_RXQ, &id, &len) && len == 72 && hp(&d, b)[0] == 0 && hp(&d, b)[10] == 1 &&
			  !memcmp(hp(&d, b) + 12, pkt + 12, 60),
	      "RX: completed frame delivered behind a zeroed header, num_buffers 1");

	/* hostile guest: a packet that is only a header, and one too short to be Ethernet */
	drv_post(&d, VIRTIO_NET_TXQ, pkt, 12, false);
	drv_post(&d, VIRTIO_NET_TXQ, pkt, 12 + 5, false);
	drv_kick(&d, VIRTIO_NET_TXQ);
	CHECK(uc, n->tx_drops == 2 && n->tx_packets == 1 && read(sp[1], got, sizeof(got)) < 0,
	      "TX: empty and 5-byte frames dropped and counted, nothing sent");

	/* hostile passt: a zero-length frame is dropped and counted, the link stays up */
	memset(lenb, 0, 4);
	if (write(sp[1], lenb, 4) != 4)
		abort();
	while (virtio_dev_poll(&n->vdev, 0) > 0)
		;
	CHECK(uc, n->rx_drops == 1 && virtio_net_link_up(n), "RX: a zero-length frame dropped, link still up");

	/* passt goes away: the link goes down in the config space, transmit drops, nothing crashes */
	close(sp[1]);
	while (virtio_dev_poll(&n->vdev, 0) > 0)
		;
	mmio_dispatch(&d.bus, MMIO + VIRTIO_MMIO_CONFIG, cfg, 8, false);
	CHECK(uc, !virtio_net_link_up(n) && cfg[6] == 0 && !memcmp(cfg, mac, 6), "passt gone: link down in the config space");
	drv_post(&d, VIRTIO_NET_TXQ, pkt, sizeof(pkt), false);
	drv_kick(&d, VIRTIO_NET_TXQ);
	CHECK(uc, n->tx_drops == 3 && drv_used(&d, VIRTIO_NET_TXQ, &id, &len), "TX after the link went down: dropped, buffer returned");
	close(sp[0]);
	drv_fini(&d);
	net_backend_free(n->be);
	free(n);
}

/* VIRTIO_NET_F_MRG_RXBUF and passt's MTU: a packet spread over several receive buffers, returned together. */
static void test_net_merged(struct unit_counts *uc)
{
	struct drv d;
	struct virtio_net *n;
	int sp[2];
	u8 mac[6] = { 0x02, 1, 2, 3, 4, 7 }, cfg[12], lenb[4];
	static u8 frame[2500];
	u64 b[3], feat;
	u32 id, len, lens[3];

	drv_init(&d);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp))
		abort();
	n = virtio_net_create(&d.ram, net_stream_backend(sp[0], "passt test"), mac);
	feat = virtio_dev_offered_features(&n->vdev);
	CHECK(uc, (feat & VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF)) && (feat & VIRTIO_FEATURE(VIRTIO_NET_F_MTU)) &&
			  !(feat & VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_TSO4)),
	      "passt: merged buffers and the MTU offered, no TSO (its frames carry no virtio-net header)");
	drv_up_features(&d, &n->vdev, 2, (u32)feat);
	mmio_dispatch(&d.bus, MMIO + VIRTIO_MMIO_CONFIG, cfg, 12, false);
	CHECK(uc, !memcmp(cfg, mac, 6) && cfg[6] == VIRTIO_NET_S_LINK_UP && (cfg[10] | cfg[11] << 8) == NET_USER_MTU,
	      "config: MAC, link up, mtu 65520");

	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = (u8)(i * 7);
	for (int i = 0; i < 3; i++)
		b[i] = drv_post(&d, VIRTIO_NET_RXQ, NULL, 1000, true);
	drv_kick(&d, VIRTIO_NET_RXQ);
	lenb[0] = lenb[1] = 0;
	lenb[2] = sizeof(frame) >> 8;
	lenb[3] = sizeof(frame) & 0xff;
	if (write(sp[1], lenb, 4) != 4 || write(sp[1], frame, sizeof(frame)) != (ssize_t)sizeof(frame))
		abort();
	while (virtio_dev_poll(&n->vdev, 0) > 0)
		;
	for (int i = 0; i < 3; i++)
		if (!drv_used(&d, VIRTIO_NET_RXQ, &id, &lens[i]))
			lens[i] = ~0u;
	CHECK(uc, lens[0] == 1000 && lens[1] == 1000 && lens[2] == 512 && hp(&d, b[0])[10] == 3 && hp(&d, b[0])[11] == 0 &&
			  !memcmp(hp(&d, b[0]) + 12, frame, 988) && !memcmp(hp(&d, b[1]), frame + 988, 1000) &&
			  !memcmp(hp(&d, b[2]), frame + 1988, 512),
	      "RX: 12 + 2500 bytes over three 1000-byte buffers (1000, 1000, 512), num_buffers 3, bytes in order");

	/* too few buffers posted: the packet waits, the buffer taken goes back, and both are used once a second comes;
	 * during a migration, what was copied into the buffer given back is marked dirty (found by fuzz-net) */
	static u64 own[64];
	u64 taken[64] = { 0 }, pg;
	b[0] = drv_post(&d, VIRTIO_NET_RXQ, NULL, 1000, true);
	drv_kick(&d, VIRTIO_NET_RXQ);
	guest_ram_dirty_start(&d.ram, own);
	lenb[2] = 1500 >> 8;
	lenb[3] = 1500 & 0xff;
	if (write(sp[1], lenb, 4) != 4 || write(sp[1], frame, 1500) != 1500)
		abort();
	while (virtio_dev_poll(&n->vdev, 0) > 0)
		;
	guest_ram_dirty_take(&d.ram, taken);
	guest_ram_dirty_stop(&d.ram);
	pg = (b[0] - d.ram.base) / 4096;
	CHECK(uc, !drv_used(&d, VIRTIO_NET_RXQ, &id, &len) && n->rx_len == 1512,
	      "RX: one buffer for a 1512-byte packet: nothing returned, the packet waits");
	CHECK(uc, (taken[pg / 64] >> (pg % 64)) & 1, "the bytes already copied into the buffer given back: marked dirty");
	b[1] = drv_post(&d, VIRTIO_NET_RXQ, NULL, 1000, true);
	drv_kick(&d, VIRTIO_NET_RXQ);
	CHECK(uc, drv_used(&d, VIRTIO_NET_RXQ, &id, &lens[0]) && drv_used(&d, VIRTIO_NET_RXQ, &id, &lens[1]) &&
			  lens[0] == 1000 && lens[1] == 512 && hp(&d, b[0])[10] == 2 && !memcmp(hp(&d, b[1]), frame + 988, 512),
	      "RX: with a second buffer: delivered over both, num_buffers 2");

	/* hostile guest: a first buffer too small for the header drops the packet, and the buffer comes back empty */
	drv_post(&d, VIRTIO_NET_RXQ, NULL, 8, true);
	drv_post(&d, VIRTIO_NET_RXQ, NULL, 1000, true);
	drv_kick(&d, VIRTIO_NET_RXQ);
	lenb[2] = 0;
	lenb[3] = 100;
	if (write(sp[1], lenb, 4) != 4 || write(sp[1], frame, 100) != 100)
		abort();
	while (virtio_dev_poll(&n->vdev, 0) > 0)
		;
	CHECK(uc, drv_used(&d, VIRTIO_NET_RXQ, &id, &len) && len == 0 && n->rx_drops == 1 && n->rx_packets == 2,
	      "RX: an 8-byte first buffer: the packet dropped, the buffer returned empty");
	close(sp[1]);
	close(sp[0]);
	drv_fini(&d);
	net_backend_free(n->be);
	free(n);
}

/* A tap offers checksum and segmentation offloads (its frames carry the virtio-net header through). */
static void test_net_tap_features(struct unit_counts *uc)
{
	struct guest_ram ram = { .base = RAM_BASE, .size = RAM_SIZE, .host = NULL, .fd = -1 };
	u8 mac[6] = { 0x02, 1, 2, 3, 4, 8 };
	struct virtio_net *n = virtio_net_create(&ram, net_tap_backend(-1, "test"), mac);
	u64 f = virtio_dev_offered_features(&n->vdev);

	CHECK(uc, (f & VIRTIO_FEATURE(VIRTIO_NET_F_CSUM)) && (f & VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_CSUM)) &&
			  (f & VIRTIO_FEATURE(VIRTIO_NET_F_HOST_TSO4)) && (f & VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_TSO6)) &&
			  (f & VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF)) && !(f & VIRTIO_FEATURE(VIRTIO_NET_F_MTU)) &&
			  n->vdev.config_size == VIRTIO_NET_CONFIG_SIZE,
	      "tap: CSUM, GUEST_CSUM, TSO both ways and merged buffers offered; no MTU, an 8-byte config");
	virtio_dev_destroy(&n->vdev);
	net_backend_free(n->be);
	free(n);

	/* with vhost: the same, merged buffers only where the kernel's vhost-net has them */
	for (int mrg = 0; mrg < 2; mrg++) {
		struct net_vhost v = { .fd = -1, .call_fd = { -1, -1 } };
		v.features = mrg ? VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF) : 0;
		n = virtio_net_create(&ram, net_tap_backend(-1, "test"), mac);
		virtio_net_use_vhost(n, &v);
		f = virtio_dev_offered_features(&n->vdev);
		CHECK(uc, (f & VIRTIO_FEATURE(VIRTIO_NET_F_CSUM)) && (f & VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_CSUM)) &&
				  (f & VIRTIO_FEATURE(VIRTIO_NET_F_HOST_TSO6)) && (f & VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_TSO4)) &&
				  !(f & VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF)) == !mrg,
		      mrg ? "tap with vhost: the offloads and merged buffers offered"
			  : "tap with vhost lacking merged buffers: the offloads offered, merged buffers not");
		virtio_dev_destroy(&n->vdev);
		net_backend_free(n->be);
		free(n);
	}
}

static void test_net_spec(struct unit_counts *uc)
{
	struct virtio_net_params p;
	char err[256];
	u8 m1[6], m2[6];

	CHECK(uc, virtio_net_parse_spec("mode=tap", &p, err, sizeof(err)) == 0 && p.tap && !p.tapif[0] && !p.have_mac,
	      "mode=tap");
	CHECK(uc, virtio_net_parse_spec("mode=tap,tapif=lkvm0,guest_mac=02:aa:bb:cc:dd:0e", &p, err, sizeof(err)) ==
				  0 && p.tap && !strcmp(p.tapif, "lkvm0") && p.have_mac && p.mac[1] == 0xaa && p.mac[5] == 0x0e,
	      "mode=tap,tapif,guest_mac");
	CHECK(uc, virtio_net_parse_spec("mode=none", &p, err, sizeof(err)) == 0 && !p.tap, "mode=none");
	CHECK(uc, virtio_net_parse_spec("none", &p, err, sizeof(err)) == 0 && !p.tap, "none");
	CHECK(uc, virtio_net_parse_spec("tapif=t1", &p, err, sizeof(err)) == 0 && p.tap, "tapif alone means tap");
	CHECK(uc, virtio_net_parse_spec("mode=tap,vhost=on", &p, err, sizeof(err)) == 0 && p.tap && p.vhost,
	      "mode=tap,vhost=on");
	CHECK(uc, virtio_net_parse_spec("mode=tap,tapif=t0,vhost=1", &p, err, sizeof(err)) == 0 && p.tap && p.vhost,
	      "kvmtool's vhost=1");
	CHECK(uc, virtio_net_parse_spec("mode=tap,vhost=off", &p, err, sizeof(err)) == 0 && p.tap && !p.vhost,
	      "vhost=off");
	CHECK(uc, virtio_net_parse_spec("mode=tap", &p, err, sizeof(err)) == 0 && !p.vhost, "no vhost by default");
	CHECK(uc, virtio_net_parse_spec("mode=user", &p, err, sizeof(err)) == 0 && p.user && !p.tap && !p.socket[0] &&
			  !p.nr_fwd,
	      "mode=user");
	CHECK(uc, virtio_net_parse_spec("user", &p, err, sizeof(err)) == 0 && p.user, "user");
	CHECK(uc, virtio_net_parse_spec("mode=user,socket=/run/p.sock", &p, err, sizeof(err)) == 0 && p.user &&
			  !strcmp(p.socket, "/run/p.sock"),
	      "mode=user,socket=PATH");
	CHECK(uc, virtio_net_parse_spec("mode=user,hostfwd=tcp::2222-:22,hostfwd=udp:0.0.0.0:5353-:53", &p, err,
					sizeof(err)) == 0 &&
			  p.nr_fwd == 2 && !p.fwd[0].udp && !strcmp(p.fwd[0].addr, "127.0.0.1") &&
			  p.fwd[0].host_port == 2222 && p.fwd[0].guest_port == 22 && p.fwd[1].udp &&
			  !strcmp(p.fwd[1].addr, "0.0.0.0") && p.fwd[1].host_port == 5353 && p.fwd[1].guest_port == 53,
	      "mode=user with two hostfwd (default address 127.0.0.1, udp)");
	CHECK(uc, virtio_net_parse_spec("mode=user,hostfwd=tcp:2222-:22", &p, err, sizeof(err)) == 0 &&
			  !strcmp(p.fwd[0].addr, "127.0.0.1") && p.fwd[0].host_port == 2222,
	      "hostfwd without the empty address");
	CHECK(uc, virtio_net_parse_spec("mode=user,hostfwd=tcp:[::1]:2222-:22", &p, err, sizeof(err)) == 0 &&
			  !strcmp(p.fwd[0].addr, "::1"),
	      "hostfwd with a bracketed IPv6 address");
	{
		const char *opt;
		char arg[80];
		net_hostfwd_passt_arg(&p.fwd[0], &opt, arg, sizeof(arg));
		CHECK(uc, !strcmp(opt, "-t") && !strcmp(arg, "::1/2222:22"), "hostfwd as passt's -t: %s %s", opt, arg);
	}
	static const char *const bad_fwd[] = {
		"mode=user,hostfwd=sctp::1-:2", "mode=user,hostfwd=tcp::0-:22", "mode=user,hostfwd=tcp::2222-:65536",
		"mode=user,hostfwd=tcp::2222-10.0.2.15:22", "mode=user,hostfwd=tcp:1.2.3:2222-:22",
		"mode=user,hostfwd=tcp::22x-:22", "mode=user,hostfwd=tcp::2222:22", "mode=user,hostfwd=tcp::-:22",
		"mode=tap,hostfwd=tcp::2222-:22", "mode=tap,socket=/x", "mode=user,tapif=t0",
		"mode=user,socket=/x,hostfwd=tcp::1-:2", "mode=user,socket=", "mode=user,vhost=on", "mode=tap,vhost=yes",
		"mode=tap,vhost=", "vhost=1",
		"mode=user,hostfwd=tcp::1-:1,hostfwd=tcp::2-:2,hostfwd=tcp::3-:3,hostfwd=tcp::4-:4,hostfwd=tcp::5-:5,"
		"hostfwd=tcp::6-:6,hostfwd=tcp::7-:7,hostfwd=tcp::8-:8,hostfwd=tcp::9-:9",
	};
	for (size_t i = 0; i < sizeof(bad_fwd) / sizeof(bad_fwd[0]); i++) {
		err[0] = '\0';
		CHECK(uc, virtio_net_parse_spec(bad_fwd[i], &p, err, sizeof(err)) == -1 && err[0] && !strchr(err, '\n'),
		      "refused in one line: %s", err);
	}
	CHECK(uc, virtio_net_parse_spec("mode=tap,guest_mac=03:00:00:00:00:01", &p, err, sizeof(err)) == -1,
	      "multicast MAC refused: %s", err);
	CHECK(uc, virtio_net_parse_spec("mode=tap,guest_mac=02:00:00:00:00", &p, err, sizeof(err)) == -1,
	      "short MAC refused: %s", err);
	CHECK(uc, virtio_net_parse_spec("mode=tap,guest_mac=02:00:00:00:00:01x", &p, err, sizeof(err)) == -1,
	      "MAC with trailing junk refused");
	CHECK(uc, virtio_net_parse_spec("mode=tap,script=/bin/x", &p, err, sizeof(err)) == -1 && strstr(err, "script"),
	      "unknown key refused: %s", err);
	CHECK(uc, virtio_net_parse_spec("mode=tap,tapif=abcdefghijklmnopq", &p, err, sizeof(err)) == -1,
	      "interface name too long refused");
	CHECK(uc, virtio_net_parse_spec("tap0", &p, err, sizeof(err)) == -1, "bare word refused: %s", err);
	virtio_net_default_mac("vm1", 0, m1);
	virtio_net_default_mac("vm1", 0, m2);
	CHECK(uc, !memcmp(m1, m2, 6) && m1[0] == 0x02 && m1[5] == 0, "default MAC stable and locally administered");
	virtio_net_default_mac("vm2", 1, m2);
	CHECK(uc, memcmp(m1, m2, 6) && m2[5] == 1, "default MAC depends on the name and index");
}

#define ARGS(...) (const char *[]){ __VA_ARGS__ }, (int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *))

static int parse(struct kvm_config *cfg, char *err, const char **argv, int argc)
{
	bool help;
	return run_parse_args(argc, argv, cfg, &help, err, 256);
}

static void test_cli(struct unit_counts *uc)
{
	struct kvm_config cfg;
	char err[256] = "";

	CHECK(uc, parse(&cfg, err, ARGS("-d", "a.img", "--disk", "b.img,ro", "--disk=c.img", "--rng")) == 0 &&
			  cfg.nr_disks == 3 && !strcmp(cfg.disks[1], "b.img,ro") && cfg.rng,
	      "-d, --disk, --disk=, --rng");
	CHECK(uc, parse(&cfg, err, ARGS("-d", "a", "-d", "a", "-d", "a", "-d", "a", "-d", "a", "-d", "a", "-d", "a",
					"-d", "a", "-d", "a")) == -1 &&
			  strstr(err, "at most 8"),
	      "a ninth disk refused: %s", err);
	CHECK(uc, parse(&cfg, err, ARGS("-d", "x,bogus")) == -1, "bad disk option refused: %s", err);
	CHECK(uc, parse(&cfg, err, ARGS("-n", "mode=tap,tapif=t0", "--network", "mode=none")) == 0 &&
			  cfg.nr_nets == 1 && !strcmp(cfg.nets[0], "mode=tap,tapif=t0"),
	      "-n mode=tap and --network mode=none");
	CHECK(uc, parse(&cfg, err, ARGS("-n", "mode=tap,tapif=t0")) == 0 && !cfg.vhost_nets &&
			  parse(&cfg, err, ARGS("-n", "mode=tap,tapif=t0", "-n", "mode=tap,tapif=t1,vhost=1")) == 0 &&
			  cfg.vhost_nets,
	      "a vhost NIC is noted for --irqchip auto (vhost_nets)");
	CHECK(uc, parse(&cfg, err, ARGS("--network=mode=user,hostfwd=tcp::2222-:22")) == 0 && cfg.nr_nets == 1,
	      "--network mode=user,hostfwd=...");
	CHECK(uc, parse(&cfg, err, ARGS("--network=mode=slirp")) == -1, "--network mode=slirp refused: %s", err);
	CHECK(uc, parse(&cfg, err, ARGS("-k", "K")) == 0 && cfg.nr_disks == 0 && cfg.nr_nets == 0 && !cfg.rng,
	      "no virtio devices by default");
	CHECK(uc, parse(&cfg, err, ARGS("-k", "K")) == 0 && cfg.virtio_transport == VIRTIO_TRANSPORT_PCI &&
			  !cfg.no_ioeventfd,
	      "virtio over PCI with ioeventfds by default (kvmtool's default)");
	CHECK(uc, parse(&cfg, err, ARGS("--virtio-transport", "mmio", "--no-ioeventfd")) == 0 &&
			  cfg.virtio_transport == VIRTIO_TRANSPORT_MMIO && cfg.no_ioeventfd,
	      "--virtio-transport mmio, --no-ioeventfd");
	CHECK(uc, parse(&cfg, err, ARGS("--virtio-transport=pci")) == 0 && cfg.virtio_transport == VIRTIO_TRANSPORT_PCI,
	      "--virtio-transport=pci");
	CHECK(uc, parse(&cfg, err, ARGS("--virtio-transport", "mmio-legacy")) == -1 && strstr(err, "modern"),
	      "legacy transports refused: %s", err);
	CHECK(uc, parse(&cfg, err, ARGS("--virtio-transport", "ccw")) == -1 && strstr(err, "pci or mmio"),
	      "unknown transport refused: %s", err);
	CHECK(uc, parse(&cfg, err, ARGS("--irqchip", "gicv2m")) == 0 && cfg.irqchip == IRQCHIP_GICV2M,
	      "--irqchip gicv2m parses (refused later, against the host)");
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };

	log_set_level(LOG_ERROR);
	test_console(&uc);
	test_rng(&uc);
	test_net(&uc);
	test_call_relay(&uc);
	test_net_stream(&uc);
	test_net_merged(&uc);
	test_net_tap_features(&uc);
	test_net_spec(&uc);
	test_cli(&uc);
	UNIT_DONE(&uc);
}

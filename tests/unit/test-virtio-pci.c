/* Unit tests: the ECAM host bridge and virtio-pci, driven like a (hostile) guest: config space, BARs, MSI-X, INTx. */
#include <endian.h>
#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "check.h"
#include "kvm/arm-layout.h"
#include "kvm/fdt.h"
#include "kvm/image.h"
#include "kvm/snapshot.h"
#include "kvm/virtio-pci.h"
#include "kvm/virtio-rng.h"

#define RAM_BASE 0x80000000ULL
#define RAM_SIZE 0x20000ULL
#define ECAM 0x40000000ULL
#define WIN 0x50000000ULL
#define WIN_SIZE 0x30000000ULL
#define QN 8

/* What the fake KVM saw. */
struct fake {
	unsigned int msis, irq_sets, ioevents;
	u64 msi_addr;
	u32 msi_data, msi_devid;
	int level[128];
	u64 ioevent_addr[8];
	int ioevent_live;
	bool refuse_msi;
	/* msi_irqfd: the last wiring asked for */
	unsigned int irqfd_calls;
	bool irqfd_on, refuse_irqfd;
	int irqfd_fd;
	u64 irqfd_addr;
	u32 irqfd_data, irqfd_devid;
};

static int f_msi(void *ctx, u64 addr, u32 data, u32 devid)
{
	struct fake *f = ctx;
	if (f->refuse_msi)
		return -EINVAL;
	f->msis++;
	f->msi_addr = addr;
	f->msi_data = data;
	f->msi_devid = devid;
	return 0;
}

static int f_irq(void *ctx, unsigned int spi, int level)
{
	struct fake *f = ctx;
	f->irq_sets++;
	f->level[spi & 127] = level;
	return 0;
}

static int f_ioevent(void *ctx, u64 addr, u32 len, int fd, bool assign)
{
	struct fake *f = ctx;
	(void)len;
	(void)fd;
	f->ioevents++;
	f->ioevent_live += assign ? 1 : -1;
	if (assign)
		f->ioevent_addr[f->ioevent_live & 7] = addr;
	return 0;
}

static int f_irqfd(void *ctx, int fd, int *route, u64 addr, u32 data, u32 devid, bool assign)
{
	struct fake *f = ctx;

	f->irqfd_calls++;
	if (assign && f->refuse_irqfd) {
		f->irqfd_on = false;
		return -ENOSPC;
	}
	if (*route < 0)
		*route = 7;
	f->irqfd_on = assign;
	f->irqfd_fd = fd;
	if (assign) {
		f->irqfd_addr = addr;
		f->irqfd_data = data;
		f->irqfd_devid = devid;
	}
	return 0;
}

static const struct pci_host_ops fake_ops = { .signal_msi = f_msi, .set_irq = f_irq, .ioeventfd = f_ioevent,
					      .msi_irqfd = f_irqfd };

struct env {
	struct guest_ram ram;
	struct device_list bus;
	struct pci_host host;
	struct fake fake;
	struct virtio_rng *rng;
	u16 avail_idx, used_seen;
};

static void cw(struct env *e, unsigned int dev, u32 reg, u32 v, u32 len)
{
	u8 b[4] = { (u8)v, (u8)(v >> 8), (u8)(v >> 16), (u8)(v >> 24) };
	mmio_dispatch(&e->bus, ECAM + ((u64)dev << 15) + reg, b, len, true);
}

static u32 cr(struct env *e, unsigned int dev, u32 reg, u32 len)
{
	u8 b[4] = { 0 };
	mmio_dispatch(&e->bus, ECAM + ((u64)dev << 15) + reg, b, len, false);
	return (u32)b[0] | (u32)b[1] << 8 | (u32)b[2] << 16 | (u32)b[3] << 24;
}

static void bw(struct env *e, u64 addr, u32 v, u32 len)
{
	u8 b[4] = { (u8)v, (u8)(v >> 8), (u8)(v >> 16), (u8)(v >> 24) };
	mmio_dispatch(&e->bus, addr, b, len, true);
}

static u32 br(struct env *e, u64 addr, u32 len)
{
	u8 b[4] = { 0 };
	mmio_dispatch(&e->bus, addr, b, len, false);
	return (u32)b[0] | (u32)b[1] << 8 | (u32)b[2] << 16 | (u32)b[3] << 24;
}

static void env_init(struct env *e, bool msi)
{
	memset(e, 0, sizeof(*e));
	e->ram = (struct guest_ram){ .base = RAM_BASE, .size = RAM_SIZE, .host = calloc(1, RAM_SIZE), .fd = -1 };
	pci_host_init(&e->host, ECAM, WIN, WIN_SIZE, msi, 2, &fake_ops, &e->fake);
	e->rng = virtio_rng_create(&e->ram);
	if (!e->ram.host || !e->rng || pci_host_register(&e->host, &e->bus) ||
	    virtio_pci_init(&e->rng->vdev, &e->host, 48))
		abort();
}

static void env_fini(struct env *e)
{
	virtio_dev_destroy(&e->rng->vdev);
	free(e->rng);
	free(e->ram.host);
}

/* Place BAR 0 at `bar` and turn on memory decoding and bus mastering. */
static void map_bar(struct env *e, u32 bar)
{
	cw(e, 0, PCI_BAR0, bar, 4);
	cw(e, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

/* A driver bringing the rng up over the common config structure, queue 0 rings at RAM_BASE + 0/0x1000/0x2000. */
static void drv_up(struct env *e, u32 bar)
{
	u64 c = bar + VIRTIO_PCI_COMMON_OFF;

	bw(e, c + VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	bw(e, c + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	bw(e, c + VIRTIO_PCI_COMMON_GF, 1, 4); /* VERSION_1 */
	bw(e, c + VIRTIO_PCI_COMMON_STATUS, 0xb, 1);
	bw(e, c + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	bw(e, c + VIRTIO_PCI_COMMON_Q_SIZE, QN, 2);
	bw(e, c + VIRTIO_PCI_COMMON_Q_DESCLO, (u32)RAM_BASE, 4);
	bw(e, c + VIRTIO_PCI_COMMON_Q_DESCHI, 0, 4);
	bw(e, c + VIRTIO_PCI_COMMON_Q_AVAILLO, (u32)RAM_BASE + 0x1000, 4);
	bw(e, c + VIRTIO_PCI_COMMON_Q_USEDLO, (u32)RAM_BASE + 0x2000, 4);
	bw(e, c + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	bw(e, c + VIRTIO_PCI_COMMON_STATUS, 0xf, 1);
	while (virtio_dev_poll(&e->rng->vdev, 0) > 0)
		;
}

/* Post one 16-byte writable buffer and notify queue q through the BAR (no ioeventfd in tests). */
static void post_and_kick(struct env *e, u32 bar, unsigned int q)
{
	u8 *m = e->ram.host;
	u16 i = e->avail_idx % QN;
	struct virtq_desc ds = { htole64(RAM_BASE + 0x4000 + 16 * i), htole32(16), htole16(VIRTQ_DESC_F_WRITE), 0 };
	u16 *avail = (u16 *)(m + 0x1000);

	memcpy(m + 16 * i, &ds, sizeof(ds));
	avail[2 + i] = htole16(i);
	e->avail_idx++;
	__atomic_store_n(&avail[1], htole16(e->avail_idx), __ATOMIC_RELEASE);
	bw(e, bar + VIRTIO_PCI_NOTIFY_OFF + q * VIRTIO_PCI_NOTIFY_MULT, q, 2);
	while (virtio_dev_poll(&e->rng->vdev, 0) > 0)
		;
}

static u16 used_idx(struct env *e)
{
	return le16toh(((u16 *)(e->ram.host + 0x2000))[1]);
}

static void test_config_space(struct unit_counts *uc)
{
	struct env e;
	u32 cap, types = 0;

	env_init(&e, false);
	CHECK(uc, cr(&e, 0, PCI_VENDOR_ID, 2) == 0x1af4 && cr(&e, 0, PCI_DEVICE_ID, 2) == 0x1044,
	      "device 0: virtio-rng, 1af4:1044 (modern)");
	CHECK(uc, cr(&e, 0, PCI_REVISION, 1) == 1 && (cr(&e, 0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) &&
			  cr(&e, 0, PCI_INT_PIN, 1) == 1,
	      "revision 1, capability list, INTA#");
	for (cap = cr(&e, 0, PCI_CAP_PTR, 1); cap; cap = cr(&e, 0, cap + 1, 1)) {
		if (cap < 0x40 || cap > 0xfc)
			break;
		if (cr(&e, 0, cap, 1) == PCI_CAP_ID_VNDR)
			types |= 1u << cr(&e, 0, cap + 3, 1);
		if (cr(&e, 0, cap, 1) == PCI_CAP_ID_MSIX)
			types |= 1u << 16;
	}
	CHECK(uc, types == ((1u << 1) | (1u << 2) | (1u << 3) | (1u << 5)),
	      "capabilities: common, notify, ISR, PCI cfg; no device cfg for rng, no MSI-X without an ITS (0x%x)", types);
	CHECK(uc, cr(&e, 1, PCI_VENDOR_ID, 4) == 0xffffffff, "an empty slot reads all ones");
	{
		u8 b[4] = { 0 };
		pci_ecam_access(&e.host, 1u << 20, b, 4, false);
		CHECK(uc, b[0] == 0xff && b[3] == 0xff, "bus 1 (beyond bus-range) reads all ones");
	}
	CHECK(uc, cr(&e, 0, 0x100, 4) == 0, "extended config space reads 0 (no extended capabilities)");
	CHECK(uc, cr(&e, 0, 0x2, 4) == 0xffffffff, "misaligned 4-byte config read refused (all ones)");
	cw(&e, 0, PCI_VENDOR_ID, 0x1234, 2);
	cw(&e, 0, PCI_CAP_PTR, 0x99, 1);
	CHECK(uc, cr(&e, 0, PCI_VENDOR_ID, 2) == 0x1af4 && cr(&e, 0, PCI_CAP_PTR, 1) == 0x40,
	      "read-only header fields ignore writes");
	cw(&e, 0, 0x14, 0xffffffff, 4);
	CHECK(uc, cr(&e, 0, 0x14, 4) == 0, "BAR 1 is not implemented: reads 0 even after sizing");
	cw(&e, 0, 0x41, 0x77, 1);
	CHECK(uc, cr(&e, 0, 0x41, 1) == 0x50, "capability links are read-only");
	env_fini(&e);
}

static void test_bars(struct unit_counts *uc)
{
	struct env e;
	struct virtio_rng *other;

	env_init(&e, false);
	cw(&e, 0, PCI_BAR0, 0xffffffff, 4);
	CHECK(uc, cr(&e, 0, PCI_BAR0, 4) == (u32)~(VIRTIO_PCI_BAR_SIZE - 1), "BAR sizing: 16 KiB, 32-bit memory");
	CHECK(uc, e.host.fn[0]->bar_active == 0 && e.fake.ioevent_live == 0, "not decoding before Memory Space");
	map_bar(&e, 0x50010000);
	CHECK(uc, e.host.fn[0]->bar_active == 0x50010000, "BAR decodes at 0x50010000");
	CHECK(uc, e.fake.ioevent_live == 1 && e.fake.ioevent_addr[1] == 0x50010000 + VIRTIO_PCI_NOTIFY_OFF,
	      "queue notification ioeventfd at the BAR's notify address");
	CHECK(uc, br(&e, 0x50010000 + VIRTIO_PCI_COMMON_NUMQ, 2) == 1, "common config readable through the BAR");
	cw(&e, 0, PCI_BAR0, 0x50020001, 4);
	CHECK(uc, e.host.fn[0]->bar_active == 0x50020000 && e.fake.ioevent_live == 1 &&
			  e.fake.ioevent_addr[1] == 0x50020000 + VIRTIO_PCI_NOTIFY_OFF,
	      "BAR moved: ioeventfd moved with it, low bits masked");
	CHECK(uc, br(&e, 0x50010000 + VIRTIO_PCI_COMMON_NUMQ, 2) == 0, "old place no longer decodes");
	cw(&e, 0, PCI_BAR0, (u32)RAM_BASE, 4);
	CHECK(uc, e.host.fn[0]->bar_active == 0 && e.fake.ioevent_live == 0, "BAR over guest RAM refused (not decoded)");
	cw(&e, 0, PCI_BAR0, 0x4fffc000, 4);
	CHECK(uc, e.host.fn[0]->bar_active == 0, "BAR just below the window refused");
	cw(&e, 0, PCI_BAR0, 0x08000000, 4);
	CHECK(uc, e.host.fn[0]->bar_active == 0, "BAR over the GIC refused");
	cw(&e, 0, PCI_BAR0, 0x7fffc000, 4);
	CHECK(uc, e.host.fn[0]->bar_active == 0x7fffc000, "BAR at the window's last 16 KiB decodes");
	cw(&e, 0, PCI_BAR0, 0, 4);
	CHECK(uc, e.host.fn[0]->bar_active == 0, "BAR at 0 refused");

	/* a second function may not overlap the first */
	other = virtio_rng_create(&e.ram);
	if (!other || virtio_pci_init(&other->vdev, &e.host, 49))
		abort();
	map_bar(&e, 0x50040000);
	cw(&e, 1, PCI_BAR0, 0x50040000, 4);
	cw(&e, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	CHECK(uc, e.host.fn[1]->bar_active == 0 && e.host.fn[0]->bar_active == 0x50040000,
	      "BARs overlapping each other: the second does not decode");
	cw(&e, 1, PCI_BAR0, 0x50044000, 4);
	CHECK(uc, e.host.fn[1]->bar_active == 0x50044000, "moved clear of it: it decodes");
	cw(&e, 0, PCI_COMMAND, 0, 2);
	CHECK(uc, e.host.fn[0]->bar_active == 0, "Memory Space off: not decoding");
	virtio_dev_destroy(&other->vdev);
	free(other);
	env_fini(&e);
}

static void test_intx(struct unit_counts *uc)
{
	struct env e;
	const u32 bar = 0x50000000;
	u8 isr;

	env_init(&e, false);
	map_bar(&e, bar);
	drv_up(&e, bar);
	CHECK(uc, e.rng->vdev.status == 0xf && e.rng->vdev.vq[0].ready && e.rng->vdev.vq[0].size == QN,
	      "driver up through the common config structure");
	post_and_kick(&e, bar, 0);
	CHECK(uc, used_idx(&e) == 1, "request served after a notify");
	CHECK(uc, e.fake.level[48] == 1, "INTx raised (level) on SPI 48");
	isr = (u8)br(&e, bar + VIRTIO_PCI_ISR_OFF, 1);
	CHECK(uc, isr == VIRTIO_INT_VRING && e.fake.level[48] == 0, "ISR read: queue bit, clears and lowers INTx");
	CHECK(uc, br(&e, bar + VIRTIO_PCI_ISR_OFF, 1) == 0, "ISR reads 0 afterwards");
	cw(&e, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE, 2);
	post_and_kick(&e, bar, 0);
	CHECK(uc, used_idx(&e) == 2 && e.fake.level[48] == 0, "INTx disabled in the command register: no line");
	/* hostile: notify a queue that does not exist, odd-width common writes */
	bw(&e, bar + VIRTIO_PCI_NOTIFY_OFF + 5 * VIRTIO_PCI_NOTIFY_MULT, 5, 2);
	bw(&e, bar + VIRTIO_PCI_COMMON_STATUS, 0x1234, 2);
	bw(&e, bar + VIRTIO_PCI_COMMON_Q_SELECT, 7, 2);
	CHECK(uc, br(&e, bar + VIRTIO_PCI_COMMON_Q_SIZE, 2) == 0, "a nonexistent queue reads size 0");
	bw(&e, bar + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	bw(&e, bar + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	CHECK(uc, e.rng->vdev.status == 0xf, "notify on a nonexistent queue and bad writes: ignored, device fine");
	bw(&e, bar + 0x3ffc, 0xdead, 4);
	post_and_kick(&e, bar, 0);
	CHECK(uc, used_idx(&e) == 3, "device still serves requests");
	/* a bad queue size makes the device need a reset, not the VMM die */
	bw(&e, bar + VIRTIO_PCI_COMMON_STATUS, 0, 1);
	CHECK(uc, e.rng->vdev.status == 0 && br(&e, bar + VIRTIO_PCI_COMMON_Q_SIZE, 2) == VIRTIO_RNG_QUEUE_SIZE,
	      "reset: status 0, queue size back to the maximum");
	bw(&e, bar + VIRTIO_PCI_COMMON_STATUS, 0xb, 1);
	bw(&e, bar + VIRTIO_PCI_COMMON_Q_SIZE, 3, 2);
	bw(&e, bar + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	CHECK(uc, (e.rng->vdev.status & VIRTIO_STATUS_NEEDS_RESET) && !e.rng->vdev.vq[0].ready,
	      "queue size 3 (not a power of two): device needs reset");
	env_fini(&e);
}

static void msix_entry(struct env *e, u32 bar, unsigned int v, u64 addr, u32 data, u32 ctrl)
{
	u64 t = bar + VIRTIO_PCI_MSIX_TABLE_OFF + 16ULL * v;
	bw(e, t, (u32)addr, 4);
	bw(e, t + 4, (u32)(addr >> 32), 4);
	bw(e, t + 8, data, 4);
	bw(e, t + 12, ctrl, 4);
}

static void test_msix(struct unit_counts *uc)
{
	struct env e;
	const u32 bar = 0x50000000;
	u32 msix = 0;

	env_init(&e, true);
	for (u32 cap = cr(&e, 0, PCI_CAP_PTR, 1); cap >= 0x40 && cap < 0xfc; cap = cr(&e, 0, cap + 1, 1))
		if (cr(&e, 0, cap, 1) == PCI_CAP_ID_MSIX)
			msix = cap;
	CHECK(uc, msix && (cr(&e, 0, msix + 2, 2) & 0x7ff) == 1 && cr(&e, 0, msix + 4, 4) == VIRTIO_PCI_MSIX_TABLE_OFF,
	      "MSI-X capability: 2 vectors (1 queue + config), table in BAR 0");
	map_bar(&e, bar);
	cw(&e, 0, msix + 2, PCI_MSIX_CTRL_ENABLE | 0x7ff, 2);
	CHECK(uc, (cr(&e, 0, msix + 2, 2) & 0x7ff) == 1 && (cr(&e, 0, msix + 2, 2) & PCI_MSIX_CTRL_ENABLE),
	      "MSI-X enabled; the table size is read-only");
	CHECK(uc, br(&e, bar + VIRTIO_PCI_MSIX_TABLE_OFF + 12, 4) == 1, "entries start masked");
	msix_entry(&e, bar, 0, 0x8090040, 0x10, 0);
	msix_entry(&e, bar, 1, 0x8090040, 0x11, 0);
	drv_up(&e, bar);
	bw(&e, bar + VIRTIO_PCI_COMMON_MSIX, 0, 2);
	bw(&e, bar + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	bw(&e, bar + VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	CHECK(uc, br(&e, bar + VIRTIO_PCI_COMMON_Q_MSIX, 2) == 1 && br(&e, bar + VIRTIO_PCI_COMMON_MSIX, 2) == 0,
	      "queue 0 -> vector 1, config -> vector 0");
	post_and_kick(&e, bar, 0);
	CHECK(uc, e.fake.msis == 1 && e.fake.msi_addr == 0x8090040 && e.fake.msi_data == 0x11 &&
			  e.fake.msi_devid == 0,
	      "used buffer: MSI with vector 1's address/data and the requester ID as device ID");
	CHECK(uc, e.fake.irq_sets == 0 && br(&e, bar + VIRTIO_PCI_ISR_OFF, 1) == 0, "no INTx, no ISR bits with MSI-X");

	/* masked vector: pending bit, delivered on unmask */
	bw(&e, bar + VIRTIO_PCI_MSIX_TABLE_OFF + 16 + 12, 1, 4);
	post_and_kick(&e, bar, 0);
	CHECK(uc, e.fake.msis == 1 && (br(&e, bar + VIRTIO_PCI_MSIX_PBA_OFF, 4) & 2), "masked: PBA bit set, no MSI");
	bw(&e, bar + VIRTIO_PCI_MSIX_TABLE_OFF + 16 + 12, 0, 4);
	CHECK(uc, e.fake.msis == 2 && !(br(&e, bar + VIRTIO_PCI_MSIX_PBA_OFF, 4) & 2), "unmasked: pending MSI sent");
	/* function mask */
	cw(&e, 0, msix + 2, PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL, 2);
	post_and_kick(&e, bar, 0);
	CHECK(uc, e.fake.msis == 2, "function mask holds MSIs back");
	cw(&e, 0, msix + 2, PCI_MSIX_CTRL_ENABLE, 2);
	CHECK(uc, e.fake.msis == 3, "function unmasked: delivered");

	/* hostile: garbage in the table, bad widths, out-of-range entries and vectors */
	bw(&e, bar + VIRTIO_PCI_MSIX_TABLE_OFF + 2, 0xffff, 2);
	bw(&e, bar + VIRTIO_PCI_MSIX_TABLE_OFF + 5 * 16, 0xffffffff, 4);
	bw(&e, bar + VIRTIO_PCI_MSIX_PBA_OFF, 0xffffffff, 4);
	CHECK(uc, br(&e, bar + VIRTIO_PCI_MSIX_TABLE_OFF, 4) == 0x8090040 && br(&e, bar + VIRTIO_PCI_MSIX_PBA_OFF, 4) == 0,
	      "odd-width, out-of-table and PBA writes dropped");
	bw(&e, bar + VIRTIO_PCI_COMMON_Q_MSIX, 7, 2);
	CHECK(uc, br(&e, bar + VIRTIO_PCI_COMMON_Q_MSIX, 2) == VIRTIO_PCI_NO_VECTOR,
	      "vector beyond the table reads back NO_VECTOR");
	post_and_kick(&e, bar, 0);
	CHECK(uc, e.fake.msis == 3, "NO_VECTOR: no interrupt");
	bw(&e, bar + VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	msix_entry(&e, bar, 1, 0xffffffffffffffc0ULL, 0xdeadbeef, 0);
	e.fake.refuse_msi = true;
	post_and_kick(&e, bar, 0);
	CHECK(uc, virtio_pci_of(&e.rng->vdev)->msi_errors == 1 && e.rng->vdev.status == 0xf,
	      "garbage MSI address refused by KVM: counted, logged, device keeps running");
	e.fake.refuse_msi = false;
	msix_entry(&e, bar, 1, 0x8090040, 0x11, 0);
	post_and_kick(&e, bar, 0);
	CHECK(uc, e.fake.msis == 4 && used_idx(&e) == 6, "fixed table: MSIs flow again");

	/* the VIRTIO_PCI_CAP_PCI_CFG window reaches the BAR too */
	cw(&e, 0, VIRTIO_PCI_CAP_PCICFG_AT + 4, 0, 1);
	cw(&e, 0, VIRTIO_PCI_CAP_PCICFG_AT + 8, VIRTIO_PCI_COMMON_NUMQ, 4);
	cw(&e, 0, VIRTIO_PCI_CAP_PCICFG_AT + 12, 2, 4);
	CHECK(uc, (cr(&e, 0, VIRTIO_PCI_CAP_PCICFG_AT + 16, 4) & 0xffff) == 1, "pci_cfg_data reads num_queues");
	cw(&e, 0, VIRTIO_PCI_CAP_PCICFG_AT + 8, 0x7ffffff0, 4);
	CHECK(uc, cr(&e, 0, VIRTIO_PCI_CAP_PCICFG_AT + 16, 4) == 0, "pci_cfg window beyond the BAR reads 0");
	env_fini(&e);
}

static void signal_fd(int fd)
{
	u64 one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

/* A queue a kernel back-end owns (vhost-net): its call eventfd goes straight to the MSI while the vector is live. */
static void test_irqfd(struct unit_counts *uc)
{
	struct env e;
	const u32 bar = 0x50000000;
	struct virtio_dev *vd;
	int cfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	unsigned int calls;

	env_init(&e, true);
	vd = &e.rng->vdev;
	vd->call_fd[0] = cfd;
	map_bar(&e, bar);
	cw(&e, 0, VIRTIO_PCI_CAP_MSIX_AT + 2, PCI_MSIX_CTRL_ENABLE, 2);
	msix_entry(&e, bar, 1, 0x8090040, 0x31, 0);
	drv_up(&e, bar);
	CHECK(uc, !e.fake.irqfd_on && !vd->call_direct[0], "no vector yet: the worker waits on the call eventfd");
	bw(&e, bar + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	bw(&e, bar + VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	CHECK(uc, e.fake.irqfd_on && e.fake.irqfd_fd == cfd && e.fake.irqfd_addr == 0x8090040 &&
			  e.fake.irqfd_data == 0x31 && e.fake.irqfd_devid == 0 && vd->call_direct[0],
	      "vector 1 set: the call eventfd is wired to its MSI (address, data, requester ID)");
	signal_fd(cfd);
	CHECK(uc, virtio_dev_poll(vd, 0) == 1 && e.fake.msis == 0,
	      "a signal is not the worker's business (only its wake-up fd fired)");
	while (virtio_dev_poll(vd, 0) > 0)
		;
	bw(&e, bar + VIRTIO_PCI_MSIX_TABLE_OFF + 16 + 12, 1, 4);
	CHECK(uc, !e.fake.irqfd_on && !vd->call_direct[0], "vector masked: unwired, back to the worker");
	while (virtio_dev_poll(vd, 0) > 0)
		;
	CHECK(uc, e.fake.msis == 0 && (br(&e, bar + VIRTIO_PCI_MSIX_PBA_OFF, 4) & 2),
	      "the pending signal becomes a PBA bit while masked");
	bw(&e, bar + VIRTIO_PCI_MSIX_TABLE_OFF + 16 + 12, 0, 4);
	CHECK(uc, e.fake.msis == 1 && e.fake.irqfd_on && vd->call_direct[0], "unmasked: pending MSI sent, wired again");
	msix_entry(&e, bar, 1, 0x8090040, 0x32, 0);
	CHECK(uc, e.fake.irqfd_on && e.fake.irqfd_data == 0x32, "the guest moves the vector: the route follows");
	cw(&e, 0, VIRTIO_PCI_CAP_MSIX_AT + 2, PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL, 2);
	CHECK(uc, !e.fake.irqfd_on && !vd->call_direct[0], "function mask: unwired");
	e.fake.refuse_irqfd = true;
	cw(&e, 0, VIRTIO_PCI_CAP_MSIX_AT + 2, PCI_MSIX_CTRL_ENABLE, 2);
	CHECK(uc, !e.fake.irqfd_on && !vd->call_direct[0] && virtio_pci_of(vd)->irqfd_failed,
	      "KVM refuses the route: the worker keeps the interrupt");
	while (virtio_dev_poll(vd, 0) > 0)
		;
	signal_fd(cfd);
	while (virtio_dev_poll(vd, 0) > 0)
		;
	CHECK(uc, e.fake.msis == 2 && e.fake.msi_data == 0x32, "... and delivers it as an MSI");
	e.fake.refuse_irqfd = false;
	calls = e.fake.irqfd_calls;
	bw(&e, bar + VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	CHECK(uc, e.fake.irqfd_calls == calls && !vd->call_direct[0], "after a refusal it does not ask again");
	vd->call_fd[0] = -1;
	close(cfd);
	env_fini(&e);
}

static size_t save(struct device *dev, u8 *out, size_t cap)
{
	struct snap_writer w;
	size_t n;
	snapw_init(&w, -1);
	snapw_begin(&w, SNAP_SEC_DEVICE);
	dev->quiesce(dev, true);
	dev->save(dev, &w);
	dev->quiesce(dev, false);
	n = w.len < cap ? w.len : cap;
	memcpy(out, w.buf, n);
	snapw_free(&w);
	return n;
}

static void test_snapshot(struct unit_counts *uc)
{
	struct env a, b;
	const u32 bar = 0x50008000 & ~(VIRTIO_PCI_BAR_SIZE - 1);
	u8 buf[2048];
	char err[256] = "";
	size_t n;
	struct snap_cursor c;
	int bad_cuts = 0;

	env_init(&a, true);
	env_init(&b, true);
	map_bar(&a, bar);
	cw(&a, 0, VIRTIO_PCI_CAP_MSIX_AT + 2, PCI_MSIX_CTRL_ENABLE, 2);
	msix_entry(&a, bar, 1, 0x8090040, 0x21, 0);
	drv_up(&a, bar);
	bw(&a, bar + VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	n = save(&a.rng->vdev.dev, buf, sizeof(buf));
	memcpy(b.ram.host, a.ram.host, RAM_SIZE);
	c = snap_cursor(buf, n);
	CHECK(uc, b.rng->vdev.dev.restore(&b.rng->vdev.dev, &c, err, sizeof(err)) == 0, "restored: %s", err);
	CHECK(uc, b.host.fn[0]->bar_active == bar && b.fake.ioevent_live == 1 &&
			  b.fake.ioevent_addr[1] == bar + VIRTIO_PCI_NOTIFY_OFF,
	      "BAR decodes at the saved place, ioeventfd registered there");
	CHECK(uc, br(&b, bar + VIRTIO_PCI_COMMON_Q_MSIX, 2) == 1 && br(&b, bar + VIRTIO_PCI_MSIX_TABLE_OFF + 24, 4) == 0x21,
	      "queue vector and MSI-X table carried over");
	post_and_kick(&b, bar, 0);
	CHECK(uc, used_idx(&b) == 1 && b.fake.msis == 1 && b.fake.msi_data == 0x21, "I/O and MSIs continue after restore");
	for (size_t cut = 0; cut < n; cut++) {
		c = snap_cursor(buf, cut);
		if (b.rng->vdev.dev.restore(&b.rng->vdev.dev, &c, err, sizeof(err)) != -1)
			bad_cuts++;
	}
	CHECK(uc, bad_cuts == 0, "every truncation of the PCI device state refused");
	env_fini(&a);
	env_fini(&b);
}

/* The pci node as Linux's pci-host-ecam-generic wants it: one interrupt-map entry per device, msi-map with an ITS. */
static void test_fdt(struct unit_counts *uc)
{
	u64 mpidr[1] = { 0x80000000 };
	struct fdt_desc d = { .ram_base = RAM_BASE, .ram_size = 256 << 20, .nr_cpus = 1, .mpidr = mpidr };
	void *buf = calloc(1, FDT_MAX_SIZE);
	char err[256] = "";
	struct env e;
	struct virtio_rng *two;
	const fdt32_t *p;
	int len, off;

	for (int msi = 0; msi < 2; msi++) {
		env_init(&e, msi);
		two = virtio_rng_create(&e.ram);
		if (!buf || !two || virtio_pci_init(&two->vdev, &e.host, 49))
			abort();
		CHECK(uc, fdt_build(buf, FDT_MAX_SIZE, &d, &e.bus, err, sizeof(err)) == 0, "DT built: %s", err);
		off = fdt_path_offset(buf, "/pci@40000000");
		CHECK(uc, off >= 0 && !strcmp(fdt_getprop(buf, off, "compatible", NULL), "pci-host-ecam-generic") &&
				  !strcmp(fdt_getprop(buf, off, "device_type", NULL), "pci"),
		      "pci@40000000: pci-host-ecam-generic");
		p = fdt_getprop(buf, off, "interrupt-map", &len);
		CHECK(uc, p && len == 2 * 10 * 4 && fdt32_to_cpu(p[0]) == 0 && fdt32_to_cpu(p[3]) == 1 &&
				  fdt32_to_cpu(p[8]) == 48 && fdt32_to_cpu(p[10]) == 1 << 11 && fdt32_to_cpu(p[18]) == 49 &&
				  fdt32_to_cpu(p[9]) == FDT_IRQ_LEVEL_HIGH,
		      "interrupt-map: INTA# of device 0 -> SPI 48, device 1 -> SPI 49, level");
		p = fdt_getprop(buf, off, "ranges", &len);
		CHECK(uc, p && len == 28 && fdt32_to_cpu(p[0]) == 0x02000000 && fdt32_to_cpu(p[2]) == WIN &&
				  fdt32_to_cpu(p[6]) == WIN_SIZE,
		      "ranges: the 32-bit memory window, identity-mapped");
		p = fdt_getprop(buf, off, "msi-map", &len);
		if (msi)
			CHECK(uc, p && len == 16 && fdt32_to_cpu(p[1]) == 2 && fdt32_to_cpu(p[3]) == 0x10000,
			      "with an ITS: msi-map of every requester ID to the ITS");
		else
			CHECK(uc, !p, "without an ITS: no msi-map");
		virtio_dev_destroy(&two->vdev);
		free(two);
		env_fini(&e);
	}
	free(buf);
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };

	log_set_level(LOG_ERROR);
	test_config_space(&uc);
	test_bars(&uc);
	test_intx(&uc);
	test_msix(&uc);
	test_irqfd(&uc);
	test_snapshot(&uc);
	test_fdt(&uc);
	UNIT_DONE(&uc);
}

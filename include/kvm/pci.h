/* A generic ECAM PCI host bridge (bus 0, one function per device): config space, BAR 0 decoding, device tree. */
#ifndef KVM_PCI_H
#define KVM_PCI_H

#include <pthread.h>

#include "kvm/devices.h"
#include "kvm/log.h"
#include "kvm/util.h"

#define PCI_MAX_DEVICES 32
#define PCI_CFG_SIZE 256       /* conventional config space; the extended space reads as 0 (no capabilities) */
#define PCI_ECAM_BUS_SIZE SZ_1M /* 32 devices x 8 functions x 4 KiB */

/* Type 0 header offsets and bits (PCI Local Bus 3.0). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CACHE_LINE 0x0c
#define PCI_LATENCY 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYS_VENDOR 0x2c
#define PCI_SUBSYS_ID 0x2e
#define PCI_CAP_PTR 0x34
#define PCI_INT_LINE 0x3c
#define PCI_INT_PIN 0x3d
#define PCI_CAP_START 0x40 /* capabilities live from here; the function's own hooks handle them */

#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_CAP_LIST 0x0010

#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

struct pci_function;
struct snap_writer;
struct snap_cursor;

/* What a function (e.g. virtio-pci) supplies. All run on vCPU threads with the host's lock held. */
struct pci_function_ops {
	/* Config bytes at PCI_CAP_START and above: data already holds cfg[off..]; the hook may override it. */
	void (*cfg_read)(struct pci_function *f, u32 off, u8 *data, u32 len);
	/* ... and writes there: nothing is stored unless the hook stores it. */
	void (*cfg_write)(struct pci_function *f, u32 off, const u8 *data, u32 len);
	/* Accesses inside BAR 0 (off relative to the BAR's start; the access lies wholly inside the BAR). */
	void (*bar_read)(struct pci_function *f, u64 off, u8 *data, u32 len);
	void (*bar_write)(struct pci_function *f, u64 off, const u8 *data, u32 len);
	/* BAR 0 stopped decoding at old (0: it was off) and now decodes at new (0: off). */
	void (*bar_mapped)(struct pci_function *f, u64 old_addr, u64 new_addr);
};

struct pci_function {
	struct pci_host *host;
	unsigned int dev; /* device number on bus 0 (function 0) */
	u8 cfg[PCI_CFG_SIZE] __attribute__((aligned(8))); /* little-endian, as the guest sees it */
	u32 bar_size;   /* BAR 0: 32-bit non-prefetchable memory, a power of two >= 4 KiB */
	u64 bar_active; /* where BAR 0 decodes now; 0: not decoding */
	unsigned int spi; /* INTA# */
	const struct pci_function_ops *ops;
	void *priv;
};

/* The KVM side of interrupts and notifications (fakes in unit tests). */
struct pci_host_ops {
	/* Deliver an MSI (through the ITS: devid is the requester ID). 0 or -errno. */
	int (*signal_msi)(void *ctx, u64 addr, u32 data, u32 devid);
	/* Drive an SPI (0-based) to level. */
	int (*set_irq)(void *ctx, unsigned int spi, int level);
	/* (De)register an ioeventfd: a write of len bytes at addr signals fd without an exit. 0 or -errno. */
	int (*ioeventfd)(void *ctx, u64 addr, u32 len, int fd, bool assign);
	/*
	 * Optional, any thread: wire eventfd fd to the MSI (addr, data, devid) inside KVM, so that a signal on it
	 * interrupts the guest without lkvm (an irqfd on an MSI route). *route is the caller's handle, -1 until the
	 * first assign. !assign unwires fd. 0 or -errno (then fd is not wired).
	 */
	int (*msi_irqfd)(void *ctx, int fd, int *route, u64 addr, u32 data, u32 devid, bool assign);
};

struct pci_host {
	struct device ecam, window; /* both on the MMIO bus; ecam carries the device-tree node */
	u64 ecam_base, win_base, win_size;
	bool msi;         /* MSI-capable (ITS): msi-map in the DT, functions may offer MSI-X */
	u32 msi_phandle;
	const struct pci_host_ops *ops;
	void *ctx;
	/* lock: config space and BAR placement (writers) vs. BAR dispatch (readers). */
	pthread_rwlock_t lock;
	struct pci_function *fn[PCI_MAX_DEVICES];
	unsigned int nr;
	u64 next_bar; /* where the next function's BAR 0 starts out */
	struct ratelimit rl;
};

void pci_host_init(struct pci_host *h, u64 ecam_base, u64 win_base, u64 win_size, bool msi, u32 msi_phandle,
		   const struct pci_host_ops *ops, void *ctx);
/* Put the config window and the BAR window on the MMIO bus. 0 or -EEXIST. */
int pci_host_register(struct pci_host *h, struct device_list *list);
/*
 * Add a function with the next device number (device 0 is the first, as kvmtool), a BAR 0 of bar_size bytes given
 * a first address inside the window (decoding once the guest sets Memory Space) and INTA# on `spi`. The caller
 * fills f->cfg (IDs, class, capabilities) before or after. 0, or -ENOSPC when the bus or the window is full.
 */
int pci_add_function(struct pci_host *h, struct pci_function *f, u32 bar_size, unsigned int spi);
/* The ECAM address of a function's config space: a stable identity (snapshots). */
u64 pci_function_cfg_addr(const struct pci_function *f);
/* The requester ID (bus << 8 | device << 3 | function): the ITS DeviceID through msi-map. */
static inline u32 pci_requester_id(const struct pci_function *f)
{
	return f->dev << 3;
}

static inline void pci_cfg_put(struct pci_function *f, u32 off, u32 val, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes && off + i < PCI_CFG_SIZE; i++)
		f->cfg[off + i] = (u8)(val >> (8 * i));
}
static inline u32 pci_cfg_get(const struct pci_function *f, u32 off, unsigned int bytes)
{
	u32 v = 0;
	for (unsigned int i = 0; i < bytes && off + i < PCI_CFG_SIZE; i++)
		v |= (u32)f->cfg[off + i] << (8 * i);
	return v;
}

/* Config-space and BAR accesses as the guest makes them (ECAM offset / window offset); also used by tests. */
void pci_ecam_access(struct pci_host *h, u64 off, u8 *data, u32 len, bool is_write);

/* Snapshot: the header's guest-writable state (command, BAR 0, interrupt line), re-validated on restore. */
void pci_function_save(struct pci_function *f, struct snap_writer *w);
int pci_function_restore(struct pci_function *f, struct snap_cursor *c, char *err, size_t errlen);

#endif

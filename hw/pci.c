/* Generic ECAM PCI host bridge: config-space rules, BAR sizing and moves with overlap checks, the DT node. */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "kvm/arm-layout.h"
#include "kvm/pci.h"
#include "kvm/snapshot.h"

#define PCI_SNAP_VERSION 1

u64 pci_function_cfg_addr(const struct pci_function *f)
{
	return f->host->ecam_base + ((u64)f->dev << 15);
}

static u32 bar_addr(const struct pci_function *f)
{
	return pci_cfg_get(f, PCI_BAR0, 4) & ~0xfU;
}

/* Where BAR 0 may decode given the command register and the address: inside the window, clear of other BARs. */
static u64 wanted_decode(struct pci_function *f, bool warn)
{
	struct pci_host *h = f->host;
	u64 a = bar_addr(f), end;

	if (!(pci_cfg_get(f, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY))
		return 0;
	if (!add_ok(a, f->bar_size, &end) || a < h->win_base || end > h->win_base + h->win_size) {
		if (warn)
			pr_warn_ratelimited(&h->rl, "pci %02x.0: BAR 0 at 0x%llx is outside the PCI window "
					    "0x%llx-0x%llx; it does not decode",
					    f->dev, (unsigned long long)a, (unsigned long long)h->win_base,
					    (unsigned long long)(h->win_base + h->win_size - 1));
		return 0;
	}
	for (unsigned int i = 0; i < h->nr; i++) {
		struct pci_function *o = h->fn[i];
		if (o == f || !o->bar_active)
			continue;
		if (a < o->bar_active + o->bar_size && o->bar_active < end) {
			if (warn)
				pr_warn_ratelimited(&h->rl, "pci %02x.0: BAR 0 at 0x%llx overlaps the BAR of %02x.0; "
						    "it does not decode",
						    f->dev, (unsigned long long)a, o->dev);
			return 0;
		}
	}
	return a;
}

/* Recompute where BAR 0 decodes and tell the function if that changed. Write lock held. */
static void refresh_decode(struct pci_function *f, bool warn)
{
	u64 now = wanted_decode(f, warn), old = f->bar_active;

	if (now == old)
		return;
	f->bar_active = now;
	if (f->ops && f->ops->bar_mapped)
		f->ops->bar_mapped(f, old, now);
}

/* One byte of a header write (offsets below PCI_CAP_START): only the writable bits change. */
static void header_write_byte(struct pci_function *f, u32 off, u8 v)
{
	switch (off) {
	case PCI_COMMAND:
		f->cfg[off] = v & (u8)(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		break;
	case PCI_COMMAND + 1:
		f->cfg[off] = v & (u8)(PCI_COMMAND_INTX_DISABLE >> 8);
		break;
	case PCI_CACHE_LINE:
	case PCI_LATENCY:
	case PCI_INT_LINE:
		f->cfg[off] = v;
		break;
	case PCI_BAR0:
	case PCI_BAR0 + 1:
	case PCI_BAR0 + 2:
	case PCI_BAR0 + 3:
		f->cfg[off] = v; /* masked to the BAR's size below: the sizing protocol reads back ~(size - 1) */
		break;
	default:
		break; /* read-only, or hardwired to 0 (BARs 1-5, expansion ROM), or RW1C status bits we never set */
	}
}

static void cfg_write(struct pci_function *f, u32 reg, const u8 *data, u32 len)
{
	bool header = false;

	for (u32 i = 0; i < len; i++) {
		if (reg + i < PCI_CAP_START) {
			header_write_byte(f, reg + i, data[i]);
			header = true;
		}
	}
	if (header) {
		pci_cfg_put(f, PCI_BAR0, bar_addr(f) & ~(f->bar_size - 1), 4); /* 32-bit memory, not prefetchable */
		refresh_decode(f, true);
	}
	if (reg + len > PCI_CAP_START && f->ops && f->ops->cfg_write) {
		u32 skip = reg < PCI_CAP_START ? PCI_CAP_START - reg : 0;
		f->ops->cfg_write(f, reg + skip, data + skip, len - skip);
	}
}

void pci_ecam_access(struct pci_host *h, u64 off, u8 *data, u32 len, bool is_write)
{
	unsigned int bus = (unsigned int)(off >> 20), dev = (unsigned int)(off >> 15) & 31, fn = (off >> 12) & 7;
	u32 reg = off & 0xfff;
	struct pci_function *f = NULL;

	if ((len != 1 && len != 2 && len != 4) || reg % len) {
		pr_warn_ratelimited(&h->rl, "pci: %u-byte config %s at offset 0x%x of %02x.%u ignored (1, 2 or 4 "
				    "bytes, naturally aligned)",
				    len, is_write ? "write" : "read", reg, dev, fn);
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (bus == 0 && fn == 0 && dev < PCI_MAX_DEVICES) {
		for (unsigned int i = 0; i < h->nr; i++)
			if (h->fn[i]->dev == dev)
				f = h->fn[i];
	}
	if (!f) {
		if (!is_write)
			memset(data, 0xff, len); /* no device: all ones, as a master abort */
		return;
	}
	if (reg >= PCI_CFG_SIZE) {
		if (!is_write)
			memset(data, 0, len); /* extended space: no extended capabilities */
		return;
	}
	if (is_write) {
		pthread_rwlock_wrlock(&h->lock);
		cfg_write(f, reg, data, len);
		pthread_rwlock_unlock(&h->lock);
		return;
	}
	pthread_rwlock_rdlock(&h->lock);
	memcpy(data, f->cfg + reg, len);
	if (reg >= PCI_CAP_START && f->ops && f->ops->cfg_read)
		f->ops->cfg_read(f, reg, data, len);
	pthread_rwlock_unlock(&h->lock);
}

static void ecam_read(struct device *dev, u64 off, u8 *data, u32 len)
{
	pci_ecam_access(dev->priv, off, data, len, false);
}

static void ecam_write(struct device *dev, u64 off, const u8 *data, u32 len)
{
	u8 buf[8];

	if (len > sizeof(buf))
		len = sizeof(buf) + 1; /* refused as a bad size below */
	else
		memcpy(buf, data, len);
	pci_ecam_access(dev->priv, off, buf, len, true);
}

/* The BAR window: route to the function whose BAR 0 holds the whole access, else behave as unmapped. */
static void window_access(struct pci_host *h, u64 off, u8 *data, u32 len, bool is_write)
{
	u64 addr = h->win_base + off;

	pthread_rwlock_rdlock(&h->lock);
	for (unsigned int i = 0; i < h->nr; i++) {
		struct pci_function *f = h->fn[i];
		if (!f->bar_active || addr < f->bar_active || addr - f->bar_active + len > f->bar_size)
			continue;
		if (is_write)
			f->ops->bar_write(f, addr - f->bar_active, data, len);
		else
			f->ops->bar_read(f, addr - f->bar_active, data, len);
		pthread_rwlock_unlock(&h->lock);
		return;
	}
	pthread_rwlock_unlock(&h->lock);
	if (!is_write)
		memset(data, 0, len);
	pr_warn_ratelimited(&h->rl, "pci: guest %s of %u bytes at 0x%llx, where no BAR decodes, %s",
			    is_write ? "write" : "read", len, (unsigned long long)addr,
			    is_write ? "dropped" : "returned 0");
}

static void window_read(struct device *dev, u64 off, u8 *data, u32 len)
{
	window_access(dev->priv, off, data, len, false);
}

static void window_write(struct device *dev, u64 off, const u8 *data, u32 len)
{
	window_access(dev->priv, off, (u8 *)data, len, true);
}

/*
 * pci@ECAM: generic ECAM host (Linux's pci-host-ecam-generic), one 32-bit memory range, INTA# of each device to
 * its own level-triggered SPI, and with an ITS an msi-map sending requester IDs through as DeviceIDs.
 */
static int ecam_gen_fdt(struct device *dev, void *fdt, const struct fdt_ctx *ctx)
{
	struct pci_host *h = dev->priv;
	char name[40];
	u64 reg[2] = { cpu_to_fdt64(h->ecam_base), cpu_to_fdt64(PCI_ECAM_BUS_SIZE) };
	u32 bus_range[2] = { 0, 0 };
	u32 ranges[7] = { cpu_to_fdt32(0x02000000), cpu_to_fdt32((u32)(h->win_base >> 32)),
			  cpu_to_fdt32((u32)h->win_base), cpu_to_fdt32((u32)(h->win_base >> 32)),
			  cpu_to_fdt32((u32)h->win_base), cpu_to_fdt32((u32)(h->win_size >> 32)),
			  cpu_to_fdt32((u32)h->win_size) };
	u32 mask[4] = { cpu_to_fdt32(0xf800), 0, 0, cpu_to_fdt32(7) };
	u32 map[PCI_MAX_DEVICES * 10];
	u32 msi_map[4] = { 0, cpu_to_fdt32(h->msi_phandle), 0, cpu_to_fdt32(0x10000) };
	unsigned int n = 0;

	for (unsigned int i = 0; i < h->nr; i++) {
		const struct pci_function *f = h->fn[i];
		u32 e[10] = { cpu_to_fdt32(f->dev << 11), 0, 0, cpu_to_fdt32(1), cpu_to_fdt32(ctx->gic_phandle), 0, 0,
			      cpu_to_fdt32(FDT_GIC_SPI), cpu_to_fdt32(f->spi), cpu_to_fdt32(FDT_IRQ_LEVEL_HIGH) };
		memcpy(&map[n], e, sizeof(e));
		n += 10;
	}
	snprintf(name, sizeof(name), "pci@%llx", (unsigned long long)h->ecam_base);
	if (fdt_begin_node(fdt, name) || fdt_property_string(fdt, "compatible", "pci-host-ecam-generic") ||
	    fdt_property_string(fdt, "device_type", "pci") || fdt_property_cell(fdt, "#address-cells", 3) ||
	    fdt_property_cell(fdt, "#size-cells", 2) || fdt_property_cell(fdt, "#interrupt-cells", 1) ||
	    fdt_property(fdt, "reg", reg, sizeof(reg)) || fdt_property(fdt, "bus-range", bus_range, sizeof(bus_range)) ||
	    fdt_property(fdt, "ranges", ranges, sizeof(ranges)) || fdt_property(fdt, "dma-coherent", NULL, 0) ||
	    fdt_property(fdt, "interrupt-map-mask", mask, sizeof(mask)) ||
	    (n && fdt_property(fdt, "interrupt-map", map, n * sizeof(u32))) ||
	    (h->msi && fdt_property(fdt, "msi-map", msi_map, sizeof(msi_map))) || fdt_end_node(fdt))
		return -1;
	return 0;
}

/* The bridge itself keeps no state beyond its functions': empty snapshot hooks keep save/restore honest. */
static int host_save(struct device *dev, struct snap_writer *w)
{
	(void)dev;
	return w->error ? -1 : 0;
}

static int host_restore(struct device *dev, struct snap_cursor *c, char *err, size_t errlen)
{
	if (c->left) {
		snprintf(err, errlen, "%s: unexpected saved state", dev->name);
		return -1;
	}
	return 0;
}

static const struct mmio_ops ecam_ops = { .read = ecam_read, .write = ecam_write };
static const struct mmio_ops window_ops = { .read = window_read, .write = window_write };

void pci_host_init(struct pci_host *h, u64 ecam_base, u64 win_base, u64 win_size, bool msi, u32 msi_phandle,
		   const struct pci_host_ops *ops, void *ctx)
{
	memset(h, 0, sizeof(*h));
	h->ecam_base = ecam_base;
	h->win_base = win_base;
	h->win_size = win_size;
	h->next_bar = win_base;
	h->msi = msi;
	h->msi_phandle = msi_phandle;
	h->ops = ops;
	h->ctx = ctx;
	pthread_rwlock_init(&h->lock, NULL);
	h->ecam = (struct device){ .name = "pci-ecam", .mmio_base = ecam_base, .mmio_size = PCI_ECAM_BUS_SIZE,
				   .ops = &ecam_ops, .gen_fdt = ecam_gen_fdt, .save = host_save,
				   .restore = host_restore, .priv = h };
	h->window = (struct device){ .name = "pci-window", .mmio_base = win_base, .mmio_size = win_size,
				     .ops = &window_ops, .save = host_save, .restore = host_restore, .priv = h };
}

int pci_host_register(struct pci_host *h, struct device_list *list)
{
	int r = device_register(list, &h->ecam);

	return r ? r : device_register(list, &h->window);
}

int pci_add_function(struct pci_host *h, struct pci_function *f, u32 bar_size, unsigned int spi)
{
	u64 a;

	if (h->nr >= PCI_MAX_DEVICES || !is_pow2(bar_size) || bar_size < SZ_4K)
		return -ENOSPC;
	a = ALIGN_UP(h->next_bar, bar_size);
	if (a + bar_size > h->win_base + h->win_size)
		return -ENOSPC;
	h->next_bar = a + bar_size;
	f->host = h;
	f->dev = h->nr;
	f->bar_size = bar_size;
	f->bar_active = 0;
	f->spi = spi;
	pci_cfg_put(f, PCI_BAR0, (u32)a, 4);
	pci_cfg_put(f, PCI_STATUS, PCI_STATUS_CAP_LIST, 2);
	pci_cfg_put(f, PCI_INT_PIN, 1, 1); /* INTA# */
	h->fn[h->nr++] = f;
	return 0;
}

void pci_function_save(struct pci_function *f, struct snap_writer *w)
{
	snapw_u32(w, PCI_SNAP_VERSION);
	snapw_u32(w, pci_cfg_get(f, PCI_COMMAND, 2));
	snapw_u32(w, pci_cfg_get(f, PCI_BAR0, 4));
	snapw_u32(w, pci_cfg_get(f, PCI_CACHE_LINE, 2));
	snapw_u32(w, pci_cfg_get(f, PCI_INT_LINE, 1));
}

/* Replays the saved header through the guest's own write rules, so a forged value gets no further than a guest. */
int pci_function_restore(struct pci_function *f, struct snap_cursor *c, char *err, size_t errlen)
{
	u32 version = cur_u32(c), cmd = cur_u32(c), bar = cur_u32(c), cl = cur_u32(c), line = cur_u32(c);
	u8 b[4];

	if (c->bad || version != PCI_SNAP_VERSION) {
		snprintf(err, errlen, "pci %02x.0: saved PCI state is malformed or from another version", f->dev);
		return -1;
	}
	pthread_rwlock_wrlock(&f->host->lock);
	for (int i = 0; i < 4; i++)
		b[i] = (u8)(bar >> (8 * i));
	cfg_write(f, PCI_BAR0, b, 4);
	b[0] = (u8)cl;
	b[1] = (u8)(cl >> 8);
	cfg_write(f, PCI_CACHE_LINE, b, 2);
	b[0] = (u8)line;
	cfg_write(f, PCI_INT_LINE, b, 1);
	b[0] = (u8)cmd;
	b[1] = (u8)(cmd >> 8);
	cfg_write(f, PCI_COMMAND, b, 2);
	pthread_rwlock_unlock(&f->host->lock);
	return 0;
}

/* Device registration: each device puts its MMIO range and its device-tree node generator on one list. */
#ifndef KVM_DEVICES_H
#define KVM_DEVICES_H

#include "kvm/log.h"
#include "kvm/util.h"

struct device;
struct snap_writer;
struct snap_cursor;

struct mmio_ops {
	/* data is len bytes, little-endian as the guest sees them; offset is relative to mmio_base. */
	void (*read)(struct device *dev, u64 offset, u8 *data, u32 len);
	void (*write)(struct device *dev, u64 offset, const u8 *data, u32 len);
};

/* What device-tree generators need to know about the machine. */
struct fdt_ctx {
	u32 gic_phandle;
	bool gicv2;
	unsigned int nr_cpus;
};

struct device {
	const char *name;
	u64 mmio_base, mmio_size; /* mmio_size 0: not on the MMIO bus (e.g. the in-kernel GIC) */
	const struct mmio_ops *ops;
	/* Adds the device's node(s) under the root with libfdt's sequential-write API; 0 or -1. */
	int (*gen_fdt)(struct device *dev, void *fdt, const struct fdt_ctx *ctx);
	/*
	 * Snapshot support, all optional. quiesce(true) stops any work that touches guest RAM or the
	 * device's state (vCPUs are already parked) and flushes backing files; quiesce(false) resumes.
	 * save() appends the device's state to the open DEVICE section; restore() reads it back and must
	 * treat every byte as untrusted.
	 */
	void (*quiesce)(struct device *dev, bool pause);
	int (*save)(struct device *dev, struct snap_writer *w);
	int (*restore)(struct device *dev, struct snap_cursor *c, char *err, size_t errlen);
	void *priv;
	struct device *next;
};

struct device_list {
	struct device *head;
	unsigned int count;
	struct ratelimit unmapped_rl;
	u64 unmapped_accesses;
};

/* Adds dev; fails with -EEXIST if its MMIO range overlaps a registered one or wraps. Init time only. */
int device_register(struct device_list *list, struct device *dev);

/*
 * Route a guest MMIO access. The access must lie entirely inside one device's range; otherwise it
 * is unmapped: reads return zeroes, writes are dropped, a rate-limited warning is printed.
 * Returns true if a device handled it.
 */
bool mmio_dispatch(struct device_list *list, u64 addr, u8 *data, u32 len, bool is_write);

/* Emit the "interrupts" property for SPI `spi` (0-based) with the given trigger flags. */
int fdt_prop_spi(void *fdt, unsigned int spi, unsigned int flags);

#endif

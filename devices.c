/* The device list doubles as the MMIO bus: registration with overlap checks and access dispatch. */
#include <errno.h>
#include <libfdt.h>
#include <string.h>

#include "kvm/devices.h"

int device_register(struct device_list *list, struct device *dev)
{
	u64 end;

	if (dev->mmio_size) {
		if (!add_ok(dev->mmio_base, dev->mmio_size, &end))
			return -EINVAL;
		for (struct device *d = list->head; d; d = d->next) {
			if (!d->mmio_size)
				continue;
			if (dev->mmio_base < d->mmio_base + d->mmio_size && d->mmio_base < end)
				return -EEXIST;
		}
	}
	/* Append, so device-tree nodes come out in registration order. */
	dev->next = NULL;
	struct device **pp = &list->head;
	while (*pp)
		pp = &(*pp)->next;
	*pp = dev;
	list->count++;
	return 0;
}

bool mmio_dispatch(struct device_list *list, u64 addr, u8 *data, u32 len, bool is_write)
{
	u64 end;

	if (len && add_ok(addr, len, &end)) {
		for (struct device *d = list->head; d; d = d->next) {
			if (!d->mmio_size || addr < d->mmio_base || end > d->mmio_base + d->mmio_size)
				continue;
			if (is_write) {
				if (d->ops && d->ops->write)
					d->ops->write(d, addr - d->mmio_base, data, len);
			} else {
				memset(data, 0, len);
				if (d->ops && d->ops->read)
					d->ops->read(d, addr - d->mmio_base, data, len);
			}
			return true;
		}
	}
	if (!is_write)
		memset(data, 0, len);
	__atomic_add_fetch(&list->unmapped_accesses, 1, __ATOMIC_RELAXED);
	pr_warn_ratelimited(&list->unmapped_rl, "guest %s of %u bytes at unmapped address 0x%llx %s",
			    is_write ? "write" : "read", len, (unsigned long long)addr,
			    is_write ? "dropped" : "returned 0");
	return false;
}

int fdt_prop_spi(void *fdt, unsigned int spi, unsigned int flags)
{
	u32 cells[3] = { cpu_to_fdt32(0), cpu_to_fdt32(spi), cpu_to_fdt32(flags) };
	return fdt_property(fdt, "interrupts", cells, sizeof(cells));
}

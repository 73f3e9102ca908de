/* Unit tests: MMIO bus registration (overlaps) and dispatch (unmapped reads are zero). */
#include <string.h>

#include "check.h"
#include "kvm/devices.h"

struct fake {
	u64 last_off;
	u8 last_val;
	int writes;
};

static void fread_(struct device *d, u64 off, u8 *data, u32 len)
{
	(void)d;
	(void)off;
	memset(data, 0xab, len);
}

static void fwrite_(struct device *d, u64 off, const u8 *data, u32 len)
{
	struct fake *f = d->priv;
	(void)len;
	f->last_off = off;
	f->last_val = data[0];
	f->writes++;
}

static const struct mmio_ops ops = { .read = fread_, .write = fwrite_ };

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	struct device_list l;
	struct fake f = { 0, 0, 0 };
	struct device a = { .name = "a", .mmio_base = 0x1000, .mmio_size = 0x100, .ops = &ops, .priv = &f };
	struct device b = { .name = "b", .mmio_base = 0x10ff, .mmio_size = 0x10, .ops = &ops };
	struct device c = { .name = "c", .mmio_base = ~0ULL - 4, .mmio_size = 0x10, .ops = &ops };
	struct device g = { .name = "gic" };
	u8 data[8];

	memset(&l, 0, sizeof(l));
	log_set_level(LOG_ERROR);
	CHECK(&uc, device_register(&l, &a) == 0, "first device");
	CHECK(&uc, device_register(&l, &b) != 0, "overlapping device refused");
	CHECK(&uc, device_register(&l, &c) != 0, "wrapping range refused");
	CHECK(&uc, device_register(&l, &g) == 0, "device without MMIO");
	data[0] = 0x5a;
	CHECK(&uc, mmio_dispatch(&l, 0x1010, data, 1, true) && f.last_off == 0x10 && f.last_val == 0x5a,
	      "write routed with offset");
	CHECK(&uc, mmio_dispatch(&l, 0x1000, data, 4, false) && data[3] == 0xab, "read routed");
	memset(data, 0xff, sizeof(data));
	CHECK(&uc, !mmio_dispatch(&l, 0x5000, data, 8, false) && data[0] == 0 && data[7] == 0, "unmapped read is 0");
	CHECK(&uc, !mmio_dispatch(&l, 0x10fe, data, 4, false), "access straddling the end is unmapped");
	CHECK(&uc, !mmio_dispatch(&l, ~0ULL, data, 4, true), "access wrapping 2^64 is unmapped");
	CHECK(&uc, l.unmapped_accesses == 3, "unmapped accesses counted (%llu)", (unsigned long long)l.unmapped_accesses);
	UNIT_DONE(&uc);
}

/* Checked translation of guest-physical ranges to host pointers (the only way code touches guest RAM). */
#include <errno.h>
#include <string.h>

#include "kvm/guest-mem.h"

void *gpa_to_host(const struct guest_ram *ram, u64 gpa, u64 len)
{
	u64 end, ram_end;

	if (!ram || !ram->host || ram->size == 0)
		return NULL;
	if (len == 0)
		len = 1;
	if (!add_ok(gpa, len, &end) || !add_ok(ram->base, ram->size, &ram_end))
		return NULL;
	if (gpa < ram->base || end > ram_end)
		return NULL;
	return ram->host + (gpa - ram->base);
}

int guest_read(const struct guest_ram *ram, u64 gpa, void *dst, u64 len)
{
	void *p = gpa_to_host(ram, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int guest_write(const struct guest_ram *ram, u64 gpa, const void *src, u64 len)
{
	void *p = gpa_to_host(ram, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

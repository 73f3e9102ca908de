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

/* ---- lkvm's own writes during a live migration ---- */

void guest_ram_mark_dirty(const struct guest_ram *ram, u64 gpa, u64 len)
{
	u64 *bits, end, ram_end, first, last;

	if (!ram || !len)
		return;
	/* pairs with the fence in guest_ram_dirty_start(): either we see the bitmap or the migration sees our write */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	bits = __atomic_load_n((u64 *const *)&ram->dirty, __ATOMIC_ACQUIRE);
	if (!bits)
		return;
	ram_end = ram->base + ram->size; /* set up by lkvm, cannot wrap */
	if (!add_ok(gpa, len, &end))
		end = ~0ULL;
	if (gpa < ram->base)
		gpa = ram->base;
	if (end > ram_end)
		end = ram_end;
	if (gpa >= end)
		return;
	first = (gpa - ram->base) / GUEST_DIRTY_PAGE;
	last = (end - 1 - ram->base) / GUEST_DIRTY_PAGE;
	for (u64 pg = first; pg <= last; pg++)
		__atomic_fetch_or(&bits[pg / 64], 1ULL << (pg % 64), __ATOMIC_RELEASE);
}

void guest_ram_mark_dirty_host(const struct guest_ram *ram, const void *p, u64 len)
{
	const u8 *q = p;

	if (!ram || !ram->host || q < ram->host || (u64)(q - ram->host) >= ram->size)
		return;
	guest_ram_mark_dirty(ram, ram->base + (u64)(q - ram->host), len);
}

void guest_ram_dirty_start(struct guest_ram *ram, u64 *bits)
{
	memset(bits, 0, guest_ram_bitmap_words(ram) * sizeof(u64));
	__atomic_store_n(&ram->dirty, bits, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

u64 *guest_ram_dirty_stop(struct guest_ram *ram)
{
	return __atomic_exchange_n(&ram->dirty, NULL, __ATOMIC_SEQ_CST);
}

u64 guest_ram_dirty_take(struct guest_ram *ram, u64 *out)
{
	u64 *bits = __atomic_load_n(&ram->dirty, __ATOMIC_ACQUIRE), n = 0;

	if (!bits)
		return 0;
	for (u64 i = 0; i < guest_ram_bitmap_words(ram); i++) {
		u64 w = __atomic_exchange_n(&bits[i], 0, __ATOMIC_SEQ_CST);
		n += (u64)__builtin_popcountll(w);
		out[i] |= w;
	}
	return n;
}

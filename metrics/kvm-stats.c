/* KVM's binary vCPU statistics: find the counters lkvm exports by name in the descriptors, read them with one pread. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm/kvm-stats.h"

static const char *const kstat_names[KSTAT_NR] = {
	[KSTAT_EXITS] = "exits",
	[KSTAT_MMIO_USER] = "mmio_exit_user",
	[KSTAT_MMIO_KERNEL] = "mmio_exit_kernel",
	[KSTAT_HVC] = "hvc_exit_stat",
	[KSTAT_WFE] = "wfe_exit_stat",
	[KSTAT_WFI] = "wfi_exit_stat",
	[KSTAT_SIGNAL] = "signal_exits",
	[KSTAT_HALT_WAIT_NS] = "halt_wait_ns",
};

#define KSTAT_MAX_BLOB (1u << 20) /* header and descriptors: a few KiB in practice */
#define KSTAT_MAX_NAME 256
#define KSTAT_MAX_DATA 4096 /* the values lkvm reads lie in the first 4 KiB of the data (about 1.5 KiB on arm64) */

/* KVM writes the header, descriptors and values in the host's byte order */
static u32 u32_at(const u8 *p)
{
	u32 v;
	memcpy(&v, p, sizeof(v));
	return v;
}

int kvm_stats_layout(const u8 *blob, size_t len, struct kvm_stats *st)
{
	u32 name_size, num_desc, desc_offset, data_offset;
	u64 dsize, end = 0;

	for (unsigned int k = 0; k < KSTAT_NR; k++)
		st->off[k] = KSTAT_MISSING;
	if (len < sizeof(struct kvm_stats_header))
		return -1;
	/* struct kvm_stats_header: flags, name_size, num_desc, id_offset, desc_offset, data_offset (u32 each) */
	name_size = u32_at(blob + 4);
	num_desc = u32_at(blob + 8);
	desc_offset = u32_at(blob + 16);
	data_offset = u32_at(blob + 20);
	if (!name_size || name_size > KSTAT_MAX_NAME)
		return -1;
	dsize = sizeof(struct kvm_stats_desc) + (u64)name_size;
	if (desc_offset > len || (u64)num_desc * dsize > len - desc_offset)
		return -1;
	for (u32 i = 0; i < num_desc; i++) {
		const u8 *d = blob + desc_offset + i * dsize;
		/* struct kvm_stats_desc: flags u32, exponent s16, size u16, offset u32, bucket_size u32, name[] */
		u16 size;
		u32 off = u32_at(d + 8);
		const char *name = (const char *)d + sizeof(struct kvm_stats_desc);
		size_t nl = strnlen(name, name_size);

		memcpy(&size, d + 6, sizeof(size));
		if (nl == name_size || size == 0)
			continue; /* unterminated name, or no value: not one we can use */
		for (unsigned int k = 0; k < KSTAT_NR; k++) {
			if (strcmp(name, kstat_names[k]) || (u64)off + 8 > KSTAT_MAX_DATA)
				continue;
			st->off[k] = off; /* the first u64 of the value (a counter has exactly one) */
			if ((u64)off + 8 > end)
				end = (u64)off + 8;
		}
	}
	st->data_offset = data_offset;
	st->data_size = (u32)end;
	return 0;
}

void kvm_stats_open(int vcpu_fd, struct kvm_stats *st)
{
	u8 *blob = NULL;
	size_t len = 4096;
	ssize_t n;

	memset(st, 0, sizeof(*st));
	st->fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);
	if (st->fd < 0) {
		st->fd = -1;
		return;
	}
	/* header and descriptors sit before the data; read until the descriptors fit (bounded) */
	for (;;) {
		u8 *nb = realloc(blob, len);
		if (!nb)
			break;
		blob = nb;
		n = pread(st->fd, blob, len, 0);
		if (n < (ssize_t)sizeof(struct kvm_stats_header))
			break;
		if (kvm_stats_layout(blob, (size_t)n, st) == 0 && st->data_size) {
			free(blob);
			return;
		}
		if ((size_t)n < len || len >= KSTAT_MAX_BLOB)
			break;
		len *= 2;
	}
	free(blob);
	close(st->fd);
	st->fd = -1;
}

int kvm_stats_read(const struct kvm_stats *st, u64 v[KSTAT_NR])
{
	u8 buf[KSTAT_MAX_DATA];
	ssize_t n;

	memset(v, 0, sizeof(u64) * KSTAT_NR);
	if (st->fd < 0 || st->data_size > sizeof(buf))
		return -1;
	do
		n = pread(st->fd, buf, st->data_size, (off_t)st->data_offset);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)st->data_size)
		return -1;
	for (unsigned int k = 0; k < KSTAT_NR; k++)
		if (st->off[k] != KSTAT_MISSING)
			memcpy(&v[k], buf + st->off[k], sizeof(u64)); /* native endianness, as KVM writes them */
	return 0;
}

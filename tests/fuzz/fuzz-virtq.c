/* Fuzz target: the split virtqueue engine (ring validation, chain walk with indirect tables, push, event index). */
#include "fuzz.h"

/*
 * Input: a 16-byte header, then guest RAM.
 *   u8 size_log2 (low 4 bits; 0xf: take u16 raw_size instead), u8 flags (1 indirect, 2 event_idx, 4 dirty
 *   tracking, 8 reset after a failure and go on), u16 desc_off, u16 avail_off, u16 used_off, u16 raw_size,
 *   u8 rounds, u8 written_mode, u16 max_size
 * Ring offsets are relative to FZ_RAM_BASE (so rings may straddle the end of RAM or overlap one another).
 */
#define HDR 16
#define IOV_CAP 1024

FZ_QUIET_INITIALIZE()

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct iovec iov[IOV_CAP];
	static u64 dirty[(FZ_RAM_SIZE / GUEST_DIRTY_PAGE + 63) / 64];
	struct fz f = fz_init(data, size);
	u8 lg = fz_u8(&f), flags = fz_u8(&f);
	u16 d_off = fz_u16(&f), a_off = fz_u16(&f), u_off = fz_u16(&f), raw = fz_u16(&f);
	u8 rounds = fz_u8(&f), wmode = fz_u8(&f);
	u16 max = fz_u16(&f);
	unsigned int qsize = (lg & 0xf) == 0xf ? raw : 1u << (lg & 0xf);
	unsigned int max_size = max ? max : 256;
	struct guest_ram *ram;
	struct virtq vq;
	size_t got;
	const u8 *rest;

	if (max_size > IOV_CAP)
		max_size = IOV_CAP;
	fz_bytes(&f, HDR - 14, &got); /* reserved */
	rest = fz_bytes(&f, FZ_RAM_SIZE, &got);
	ram = fz_ram(rest, got);
	if (flags & 4)
		guest_ram_dirty_start(ram, dirty);
	if (virtq_enable(&vq, ram, qsize, max_size, FZ_RAM_BASE + d_off, FZ_RAM_BASE + a_off, FZ_RAM_BASE + u_off,
			 flags & 1, flags & 2) == 0) {
		for (unsigned int r = 0; r <= (rounds & 7u); r++) {
			struct virtq_chain ch = { .iov = iov, .iov_cap = max_size };
			int got_chain, n = 0;

			while (n++ < 64 && (got_chain = virtq_pop(&vq, &ch)) == 1) {
				u8 sum = 0;
				/* read what the device may read, write what it may write: ASan checks every range */
				for (unsigned int i = 0; i < ch.n_out; i++)
					for (size_t k = 0; k < ch.iov[i].iov_len; k++)
						sum ^= ((u8 *)ch.iov[i].iov_base)[k];
				for (unsigned int i = ch.n_out; i < ch.n_out + ch.n_in; i++)
					memset(ch.iov[i].iov_base, sum, ch.iov[i].iov_len);
				virtq_push(&vq, ch.head, wmode & 1 ? (u32)ch.in_len : wmode);
				if (virtq_need_interrupt(&vq))
					sum++;
			}
			if (vq.broken) {
				if (!(flags & 8))
					break;
				virtq_enable(&vq, ram, qsize, max_size, FZ_RAM_BASE + d_off, FZ_RAM_BASE + a_off,
					     FZ_RAM_BASE + u_off, flags & 1, flags & 2);
			}
			virtq_rearm(&vq);
		}
	}
	if (flags & 4)
		guest_ram_dirty_stop(ram);
	return 0;
}

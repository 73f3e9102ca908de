/* Exit-cost benchmark: times N one-register UART reads (each a trapped MMIO exit under KVM) with CNTVCT. */
#include <arch.h>
#include <boot.h>
#include <console.h>
#include <mmio.h>
#include <printf.h>

#define BENCH_READS	200000UL
#define WARMUP_READS	1000UL
#define NS_PER_SEC	1000000000UL
#define UART8250_SCR	0x7	/* scratch register: no side effects */
#define PL011_FR	0x18	/* flag register: read-only, no side effects */

static void read_loop(uint64_t addr, bool byte, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		if (byte)
			mmio_read8(addr);
		else
			mmio_read32(addr);
	}
}

void guest_main(const struct fdt *fdt)
{
	const struct console_info *con = console_get();
	bool byte = con->kind == CONSOLE_NS16550;
	uint64_t addr, t0, ticks, freq, ns, per_sec;

	(void)fdt;
	if (con->kind == CONSOLE_NONE)
		return;	/* nothing to read and nowhere to report */
	addr = con->base + (byte ? UART8250_SCR : PL011_FR);
	printf("EXIT-BENCH target=%s reg=%#lx width=%d\n", console_kind_name(con->kind), addr, byte ? 8 : 32);

	read_loop(addr, byte, WARMUP_READS);
	t0 = timer_now();
	read_loop(addr, byte, BENCH_READS);
	ticks = timer_now() - t0;

	freq = timer_freq();
	if (!freq)
		freq = 1;	/* never 0 on a sane platform; avoid dividing by it */
	/* ticks * 1e9 / freq without overflowing 64 bits (freq < 18 GHz). */
	ns = ticks / freq * NS_PER_SEC + ticks % freq * NS_PER_SEC / freq;
	per_sec = ns ? BENCH_READS * NS_PER_SEC / ns : 0;
	printf("EXIT-BENCH reads=%lu ticks=%lu freq=%lu ns_per_exit=%lu exits_per_sec=%lu\n", BENCH_READS, ticks, freq,
	       ns / BENCH_READS, per_sec);
}

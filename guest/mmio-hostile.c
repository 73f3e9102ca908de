/* Hostile MMIO probe: an unmapped read (must give 0) and an LDP to a device (KVM cannot decode; lkvm must cope). */
#include <boot.h>
#include <console.h>
#include <mmio.h>
#include <printf.h>
#include <types.h>

#define UNMAPPED 0x0b000000UL /* in the low MMIO window, no device there */

void guest_main(const struct fdt *fdt)
{
	const struct console_info *con = console_get();
	uint64_t a = 0x1111, b = 0x2222;

	(void)fdt;
	printf("HOSTILE unmapped read32=%#x\n", mmio_read32(UNMAPPED));
	mmio_write32(UNMAPPED, 0xdeadbeef);
	printf("HOSTILE unmapped write survived\n");
	printf("HOSTILE ldp to the UART at %#lx\n", con->base);
	/* A load pair to MMIO has no instruction syndrome: KVM hands it to lkvm (or kills the vCPU). */
	asm volatile("ldp %0, %1, [%2]" : "=r"(a), "=r"(b) : "r"(con->base) : "memory");
	printf("HOSTILE ldp returned a=%#lx b=%#lx (no abort)\n", a, b);
}

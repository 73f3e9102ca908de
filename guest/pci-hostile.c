/* Hostile PCI driver: config accesses out of range, BARs over RAM and over each other, MSI-X garbage, bad notifies. */
#include <boot.h>
#include <console.h>
#include <mmio.h>
#include <printf.h>
#include <types.h>

/* lkvm's documented map (README): ECAM bus 0 and the PCI memory window. Run with -d DISK --rng. */
#define ECAM 0x40000000UL
#define WIN 0x50000000UL
#define CFG(dev, reg) (ECAM + ((uint64_t)(dev) << 15) + (reg))
#define BAR_A WIN
#define COMMON_MSIX 0x10
#define COMMON_STATUS 0x14
#define COMMON_NUMQ 0x12
#define NOTIFY 0x3000
#define MSIX_TABLE 0x3800

static inline uint16_t mmio_read16(uint64_t addr)
{
	uint32_t v;

	asm volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return (uint16_t)v;
}

static inline void mmio_write16(uint64_t addr, uint16_t v)
{
	asm volatile("strh %w0, [%1]" : : "r"((uint32_t)v), "r"(addr) : "memory");
}

static volatile uint32_t ram_word = 0x600dcafe;

void guest_main(const struct fdt *fdt)
{
	uint32_t msix = 0;

	(void)fdt;
	printf("HOSTILE-PCI id0=%#x id1=%#x\n", mmio_read32(CFG(0, 0)), mmio_read32(CFG(1, 0)));
	printf("HOSTILE-PCI empty-slot=%#x extended=%#x misaligned=%#x\n", mmio_read32(CFG(9, 0)),
	       mmio_read32(CFG(0, 0x400)), mmio_read32(CFG(0, 2)));
	mmio_write32(CFG(0, 0), 0x12345678);	/* read-only IDs */
	mmio_write32(CFG(0, 0xffc), 0xffffffff); /* extended space */
	printf("HOSTILE-PCI ids-after-write=%#x\n", mmio_read32(CFG(0, 0)));

	/* BAR 0 of device 0 over guest RAM, decoding on: lkvm must refuse to decode it there */
	mmio_write32(CFG(0, 0x10), 0x80000000);
	mmio_write32(CFG(0, 0x4), 0x6);
	printf("HOSTILE-PCI bar-over-ram: bar=%#x ram-intact=%d\n", mmio_read32(CFG(0, 0x10)),
	       ram_word == 0x600dcafe);

	/* both BARs at the same place: the second must not decode */
	mmio_write32(CFG(0, 0x10), BAR_A);
	mmio_write32(CFG(1, 0x10), BAR_A);
	mmio_write32(CFG(1, 0x4), 0x6);
	printf("HOSTILE-PCI overlap: numq-at-bar=%u\n", mmio_read16(BAR_A + COMMON_NUMQ));

	/* MSI-X on device 0 with garbage in the table, then make the device raise its config interrupt */
	for (uint32_t cap = mmio_read32(CFG(0, 0x34)) & 0xff; cap >= 0x40 && cap < 0x100;
	     cap = (mmio_read32(CFG(0, cap)) >> 8) & 0xff)
		if ((mmio_read32(CFG(0, cap)) & 0xff) == 0x11)
			msix = cap;
	printf("HOSTILE-PCI msix-cap=%#x\n", msix);
	if (msix) {
		mmio_write32(BAR_A + MSIX_TABLE, 0xdeadbeef);
		mmio_write32(BAR_A + MSIX_TABLE + 4, 0xffffffff);
		mmio_write32(BAR_A + MSIX_TABLE + 8, 0xffffffff);
		mmio_write32(BAR_A + MSIX_TABLE + 12, 0);
		mmio_write16(BAR_A + MSIX_TABLE + 2, 0x5555);  /* odd width */
		mmio_write32(BAR_A + MSIX_TABLE + 64 * 16, 1); /* far beyond the table */
		mmio_write32(CFG(0, msix), 0xffffffff);	/* enable + function mask bits; the rest read-only */
		mmio_write32(CFG(0, msix), 0x80000000);	/* enable, unmasked */
	}
	mmio_write16(BAR_A + COMMON_MSIX, 0);
	mmio_write32(BAR_A + COMMON_STATUS, 0x4);	/* wrong width: dropped */
	mmio_write8(BAR_A + COMMON_STATUS, 0x4);	/* DRIVER_OK without FEATURES_OK: needs reset, config irq */
	printf("HOSTILE-PCI status=%#x\n", mmio_read8(BAR_A + COMMON_STATUS));

	/* notify for queues that do not exist, and garbage through the notify area */
	mmio_write16(BAR_A + NOTIFY + 7 * 4, 7);
	mmio_write32(BAR_A + NOTIFY + 0x7fc, 0xffffffff);
	printf("HOSTILE-PCI done\n");
}

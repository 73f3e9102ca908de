/* The arm64 guest-physical memory map and interrupt numbers lkvm gives every guest. */
#ifndef KVM_ARM_LAYOUT_H
#define KVM_ARM_LAYOUT_H

/*
 * kvmtool's map, so payloads built for kvmtool (kvm-unit-tests --target=kvmtool) find their UART: platform devices
 * from 16 MiB, virtio-mmio from 48 MiB, the GIC below 1 GiB, PCI config (ECAM) from 1 GiB and the PCI memory
 * window up to RAM, which starts at 2 GiB.
 */
#define ARM_GIC_DIST_BASE 0x08000000ULL
#define ARM_GIC_DIST_SIZE 0x00010000ULL
#define ARM_GIC_V2_CPU_BASE 0x08010000ULL /* GICv2 CPU interface */
#define ARM_GIC_V2_CPU_SIZE 0x00002000ULL
#define ARM_GIC_ITS_BASE 0x08080000ULL
#define ARM_GIC_ITS_SIZE 0x00020000ULL
#define ARM_UART_BASE 0x01000000ULL
#define ARM_UART_SIZE 0x00001000ULL
#define ARM_VIRTIO_MMIO_BASE 0x03000000ULL
#define ARM_VIRTIO_MMIO_SLOT 0x00000200ULL
#define ARM_VIRTIO_MMIO_SLOTS 32
#define ARM_GIC_REDIST_BASE 0x0c000000ULL
#define ARM_GIC_REDIST_STRIDE 0x00020000ULL /* RD_base + SGI_base frames per vCPU */
#define ARM_GIC_REDIST_LIMIT 0x10000000ULL
#define ARM_PCI_CFG_BASE 0x40000000ULL  /* ECAM, bus 0 (1 MiB used of a 256 MiB area) */
#define ARM_PCI_MMIO_BASE 0x50000000ULL /* 32-bit non-prefetchable BARs */
#define ARM_PCI_MMIO_SIZE 0x30000000ULL
#define ARM_RAM_BASE 0x80000000ULL

/* Names this map in snapshots: a guest only continues on the map it booted with. */
#define LKVM_MEMMAP "kvmtool-1"

#define LKVM_MAX_CPUS 512 /* (ARM_GIC_REDIST_LIMIT - ARM_GIC_REDIST_BASE) / ARM_GIC_REDIST_STRIDE */
#define GICV2_MAX_CPUS 8

/* Interrupts. SPIs are numbered from 0 here (INTID = 32 + SPI); PPIs from 0 (INTID = 16 + PPI). */
#define ARM_SPI_UART 1
#define ARM_SPI_VIRTIO_BASE 16 /* + virtio-mmio slot */
#define ARM_SPI_PCI_BASE 48    /* + PCI device number: INTA# */
#define ARM_GIC_NR_IRQS 128 /* INTIDs the distributor implements (SGIs + PPIs + 96 SPIs) */
#define ARM_PPI_TIMER_SEC 13
#define ARM_PPI_TIMER_PHYS 14
#define ARM_PPI_TIMER_VIRT 11
#define ARM_PPI_TIMER_HYP 10
#define ARM_PPI_PMU 7

/* Device-tree interrupt specifier cells. */
#define FDT_GIC_SPI 0
#define FDT_GIC_PPI 1
#define FDT_IRQ_EDGE_RISING 1
#define FDT_IRQ_LEVEL_HIGH 4

#define FDT_PHANDLE_GIC 1
#define FDT_PHANDLE_ITS 2

#endif

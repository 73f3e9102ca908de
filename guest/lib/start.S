/* Entry code: arm64 Image header, boot-CPU entry (x0 = DTB) and PSCI CPU_ON entry (x0 = stack slot); PC-relative only. */
#include <boot.h>

	.macro	adr_l, reg, sym
	adrp	\reg, \sym
	add	\reg, \reg, :lo12:\sym
	.endm

	.section .text.head, "ax"
	.globl	_start
_start:
	/* arm64 Image header (Linux booting.rst), so the payload loads as a raw binary or as an Image. */
	b	primary_entry		/* code0: executed when entered at offset 0 */
	.long	0			/* code1 */
	.quad	0x80000			/* text_offset: RAM base + 0x80000 */
	.quad	_image_size		/* image_size, .bss included */
	.quad	0			/* flags: little-endian, 2 MiB-aligned base near the start of RAM */
	.quad	0, 0, 0			/* res2..res4 */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* res5 */

primary_entry:
	mov	x19, x0			/* DTB physical address */
	adr_l	x1, exception_vectors
	msr	vbar_el1, x1
	isb
	adr_l	x1, _bss_start
	adr_l	x2, _bss_end
1:	cmp	x1, x2			/* .bss is RAM (not MMIO) and 16-byte aligned */
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	adr_l	x1, guest_stacks
	add	x1, x1, #GUEST_STACK_SIZE	/* slot 0 */
	mov	sp, x1
	mov	x0, x19
	bl	boot_primary
	b	hang

	.text
	.globl	secondary_entry
secondary_entry:
	cmp	x0, #GUEST_MAX_CPUS
	b.hs	hang
	adr_l	x1, exception_vectors
	msr	vbar_el1, x1
	isb
	adr_l	x1, guest_stacks
	add	x2, x0, #1
	mov	x3, #GUEST_STACK_SIZE
	madd	x1, x2, x3, x1		/* top of slot x0 */
	mov	sp, x1
	bl	boot_secondary
hang:
	wfi
	b	hang

	.bss
	.balign	16
guest_stacks:
	.skip	GUEST_MAX_CPUS * GUEST_STACK_SIZE

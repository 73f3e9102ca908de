/* lkvm-init's bytes inside lkvm: the /init of the initramfs 'lkvm run' builds (host-shell.c). */
	.section .rodata
	.balign 16
	.global lkvm_init_start
	.global lkvm_init_end
lkvm_init_start:
	.incbin LKVM_INIT_BIN
lkvm_init_end:
	.section .note.GNU-stack,"",%progbits

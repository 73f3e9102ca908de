/* The initramfs lkvm builds itself (the shell of a bare 'lkvm run', 'lkvm run -- CMD'): skeleton and memfd. */
#ifndef KVM_INITRAMFS_H
#define KVM_INITRAMFS_H

#include "kvm/cpio.h"

/* /dev, /proc, /sys, /newroot, /lkvm, /dev/console and lkvm-init as /init. */
void initramfs_skeleton(struct cpio *c);
/* Finish the archive into a memfd (the initrd lkvm loads); dies with one line if memory runs out. */
int initramfs_memfd(struct cpio *c);

#endif

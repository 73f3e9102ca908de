/* 'lkvm run' with no kernel: find the host's own kernel under /boot; gzip-compressed Images unpacked to memory. */
#ifndef KVM_HOST_KERNEL_H
#define KVM_HOST_KERNEL_H

#include <stddef.h>

#include "kvm/util.h"

/*
 * Look under bootdir for the kernel of `release` (uname -r): bootdir/Image-R, bootdir/vmlinuz-R, then bootdir/Image,
 * bootdir/vmlinuz. Returns 0 with the path in out, or -1 with one line in err listing every place looked at.
 */
int host_kernel_find(const char *bootdir, const char *release, char *out, size_t outlen, char *err, size_t errlen);

/*
 * If fd holds a gzip stream (a Debian /boot/vmlinuz-* is a gzip-compressed Image), inflate it (at most max bytes)
 * into a memfd. Returns the memfd with *size set, fd itself (untouched) when it is not gzip, or -1 with err.
 */
int gunzip_to_memfd(int fd, u64 max, u64 *size, char *err, size_t errlen);

#endif

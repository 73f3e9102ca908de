/* A newc ("070701") cpio writer into a growing memory buffer, for the initramfs lkvm builds itself. */
#ifndef KVM_CPIO_H
#define KVM_CPIO_H

#include <stddef.h>
#include <sys/types.h>

#include "kvm/util.h"

struct cpio {
	u8 *buf;
	size_t len, cap;
	u32 ino;
	bool oom;
};

/* Append one entry (mode includes the type: S_IFREG, S_IFDIR, S_IFLNK with the target as data, S_IFCHR with rdev). */
void cpio_add(struct cpio *c, const char *name, mode_t mode, const void *data, size_t len, unsigned int rmajor,
	      unsigned int rminor);
/* Append the TRAILER!!! entry. Returns 0, or -1 if memory ran out at any point (then buf is freed). */
int cpio_finish(struct cpio *c);

#endif

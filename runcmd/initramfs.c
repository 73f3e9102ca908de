/* The skeleton of lkvm's own initramfs (its init, linked in by init/blob.S) and the memfd it is loaded from. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm/initramfs.h"
#include "kvm/log.h"

/* lkvm-init, the static PID 1 of the initramfs (init/lkvm-init.c), linked in by init/blob.S. */
extern const unsigned char lkvm_init_start[], lkvm_init_end[];

void initramfs_skeleton(struct cpio *c)
{
	for (const char *d = "dev\0proc\0sys\0newroot\0lkvm\0"; *d; d += strlen(d) + 1)
		cpio_add(c, d, S_IFDIR | 0755, NULL, 0, 0, 0);
	cpio_add(c, "dev/console", S_IFCHR | 0600, NULL, 0, 5, 1);
	cpio_add(c, "init", S_IFREG | 0755, lkvm_init_start, (size_t)(lkvm_init_end - lkvm_init_start), 0, 0);
}

int initramfs_memfd(struct cpio *c)
{
	int fd;

	if (cpio_finish(c))
		die("out of memory building the initramfs");
	fd = memfd_create("lkvm-initramfs", MFD_CLOEXEC);
	if (fd < 0 || write(fd, c->buf, c->len) != (ssize_t)c->len)
		die("cannot build the initramfs in memory: %s", strerror(errno));
	free(c->buf);
	c->buf = NULL;
	return fd;
}

/* newc cpio writer: the archive format the Linux kernel unpacks as an initramfs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/cpio.h"

static void put(struct cpio *c, const void *p, size_t n)
{
	if (c->oom)
		return;
	if (c->len + n > c->cap) {
		size_t cap = c->cap ? c->cap : 65536;
		u8 *b;
		while (cap < c->len + n)
			cap *= 2;
		b = realloc(c->buf, cap);
		if (!b) {
			c->oom = true;
			return;
		}
		c->buf = b;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

static void pad4(struct cpio *c)
{
	static const u8 zero[4];
	put(c, zero, (4 - c->len % 4) % 4);
}

void cpio_add(struct cpio *c, const char *name, mode_t mode, const void *data, size_t len, unsigned int rmajor,
	      unsigned int rminor)
{
	char hdr[111];
	size_t nlen = strlen(name) + 1;

	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ++c->ino,
		 (unsigned int)mode, 0u, 0u, 1u, 0u, (unsigned int)len, 0u, 0u, rmajor, rminor, (unsigned int)nlen, 0u);
	put(c, hdr, 110);
	put(c, name, nlen);
	pad4(c);
	if (len)
		put(c, data, len);
	pad4(c);
}

int cpio_finish(struct cpio *c)
{
	cpio_add(c, "TRAILER!!!", 0, NULL, 0, 0, 0);
	if (c->oom) {
		free(c->buf);
		c->buf = NULL;
		return -1;
	}
	return 0;
}

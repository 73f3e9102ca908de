/* The run request's encoding, shared by lkvm (writes it) and its guest init (reads it): no lkvm dependencies. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/runcmd-spec.h"

void spec_put(struct spec_buf *b, char tag, const char *val)
{
	size_t n = strlen(val) + 2;

	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *nb;
		while (cap < b->len + n)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (!nb) {
			b->oom = true;
			return;
		}
		b->buf = nb;
		b->cap = cap;
	}
	b->buf[b->len] = tag;
	memcpy(b->buf + b->len + 1, val, n - 1); /* the value and its NUL */
	b->len += n;
}

void spec_putf(struct spec_buf *b, char tag, const char *fmt, ...)
{
	char v[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	spec_put(b, tag, v);
}

int spec_next(struct spec_iter *it, char *tag, const char **val)
{
	const char *nul;

	if (it->p >= it->end)
		return 0;
	nul = memchr(it->p, '\0', (size_t)(it->end - it->p));
	if (!nul || nul == it->p) {
		it->p = it->end;
		return -1;
	}
	*tag = it->p[0];
	*val = it->p + 1;
	it->p = nul + 1;
	return 1;
}

/* Console input held for the guest: a 64 KiB ring between the host's stdin and the console device. */
#include <string.h>

#include "kvm/console-buf.h"

size_t console_buf_put(struct console_buf *b, const unsigned char *buf, size_t len, bool *first_drop)
{
	size_t take = len < console_buf_space(b) ? len : console_buf_space(b), tail, run;

	tail = (b->head + b->len) % CONSOLE_BUF_SIZE;
	run = CONSOLE_BUF_SIZE - tail < take ? CONSOLE_BUF_SIZE - tail : take;
	memcpy(b->data + tail, buf, run);
	memcpy(b->data, buf + run, take - run);
	b->len += take;
	if (first_drop)
		*first_drop = take < len && b->dropped == 0;
	b->dropped += len - take;
	return len - take;
}

size_t console_buf_peek(const struct console_buf *b, const unsigned char **p)
{
	size_t run = CONSOLE_BUF_SIZE - b->head;

	*p = b->data + b->head;
	return b->len < run ? b->len : run;
}

void console_buf_consume(struct console_buf *b, size_t n)
{
	if (n > b->len)
		n = b->len;
	b->head = (b->head + n) % CONSOLE_BUF_SIZE;
	b->len -= n;
	if (!b->len)
		b->head = 0;
}

size_t console_buf_drain(struct console_buf *b, size_t (*take)(void *ctx, const unsigned char *buf, size_t len),
			 void *ctx)
{
	size_t total = 0;

	while (b->len) {
		const unsigned char *p;
		size_t n = console_buf_peek(b, &p), got = take(ctx, p, n);
		if (got > n)
			got = n;
		if (!got)
			break;
		console_buf_consume(b, got);
		total += got;
	}
	return total;
}

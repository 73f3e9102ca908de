/* Console input held for the guest: a bounded ring of host input the console device has not taken yet. */
#ifndef KVM_CONSOLE_BUF_H
#define KVM_CONSOLE_BUF_H

#include <stdbool.h>
#include <stddef.h>

#define CONSOLE_BUF_SIZE (64 * 1024)

struct console_buf {
	unsigned char data[CONSOLE_BUF_SIZE];
	size_t head, len;
	unsigned long long dropped; /* bytes refused because the ring was full */
};

static inline size_t console_buf_space(const struct console_buf *b)
{
	return CONSOLE_BUF_SIZE - b->len;
}

/*
 * Append what fits of buf; the rest is dropped and counted. Returns the number of bytes dropped by this call;
 * *first_drop says whether these are the first bytes ever dropped (the caller warns once).
 */
size_t console_buf_put(struct console_buf *b, const unsigned char *buf, size_t len, bool *first_drop);
/* The oldest bytes, contiguous (up to the ring's wrap): a pointer and their count (0 when empty). */
size_t console_buf_peek(const struct console_buf *b, const unsigned char **p);
/* Forget the n oldest bytes (n <= len). */
void console_buf_consume(struct console_buf *b, size_t n);
/* Offer the held bytes, oldest first, to take(); stops when it takes nothing. Returns the bytes taken. */
size_t console_buf_drain(struct console_buf *b, size_t (*take)(void *ctx, const unsigned char *buf, size_t len),
			 void *ctx);

#endif

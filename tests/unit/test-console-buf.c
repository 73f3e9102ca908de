/* Unit tests: the console input ring holds at most 64 KiB, keeps order across its wrap, and counts what it drops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kvm/console-buf.h"

struct sink {
	unsigned char *out;
	size_t len, cap, per_call;
};

/* A device that takes at most per_call bytes each time, and nothing once full. */
static size_t take(void *ctx, const unsigned char *buf, size_t len)
{
	struct sink *s = ctx;
	size_t n = len < s->per_call ? len : s->per_call;
	if (n > s->cap - s->len)
		n = s->cap - s->len;
	memcpy(s->out + s->len, buf, n);
	s->len += n;
	return n;
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	struct console_buf *b = calloc(1, sizeof(*b));
	unsigned char *in = malloc(3 * CONSOLE_BUF_SIZE), *out = malloc(3 * CONSOLE_BUF_SIZE);
	struct sink s = { out, 0, 3 * CONSOLE_BUF_SIZE, 7 };
	bool first;
	size_t d;

	for (size_t i = 0; i < 3 * CONSOLE_BUF_SIZE; i++)
		in[i] = (unsigned char)(i * 13 + i / 251);
	CHECK(&uc, CONSOLE_BUF_SIZE == 65536, "the bound is 64 KiB");
	d = console_buf_put(b, in, 1000, &first);
	CHECK(&uc, d == 0 && !first && b->len == 1000, "1000 bytes held");
	d = console_buf_put(b, in + 1000, CONSOLE_BUF_SIZE, &first);
	CHECK(&uc, d == 1000 && first && b->len == CONSOLE_BUF_SIZE && b->dropped == 1000,
	      "past 64 KiB the excess is dropped (%zu) and reported as the first drop", d);
	d = console_buf_put(b, in, 10, &first);
	CHECK(&uc, d == 10 && !first && b->dropped == 1010, "a later drop is counted but not 'first' again");
	/* drain some, refill across the wrap, drain everything: order kept */
	s.cap = 5000;
	console_buf_drain(b, take, &s);
	CHECK(&uc, s.len == 5000 && b->len == CONSOLE_BUF_SIZE - 5000, "a device that takes 7 bytes at a time: 5000 taken");
	d = console_buf_put(b, in + 2 * CONSOLE_BUF_SIZE, 5000, &first);
	CHECK(&uc, d == 0 && b->len == CONSOLE_BUF_SIZE, "refilled across the wrap");
	s.cap = 3 * CONSOLE_BUF_SIZE;
	s.per_call = 4096;
	console_buf_drain(b, take, &s);
	CHECK(&uc, b->len == 0 && s.len == CONSOLE_BUF_SIZE + 5000 && !memcmp(out, in, CONSOLE_BUF_SIZE) &&
			   !memcmp(out + CONSOLE_BUF_SIZE, in + 2 * CONSOLE_BUF_SIZE, 5000),
	      "everything held came out once, in order (%zu bytes)", s.len);
	s.per_call = 0;
	console_buf_put(b, in, 3, NULL);
	CHECK(&uc, console_buf_drain(b, take, &s) == 0 && b->len == 3, "a device that takes nothing: the bytes stay");
	free(b);
	free(in);
	free(out);
	UNIT_DONE(&uc);
}

/* Small shared helpers: fixed-width types, alignment, array size, overflow-checked arithmetic. */
#ifndef KVM_UTIL_H
#define KVM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((u64)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((u64)(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((u64)(a) - 1)) == 0)
#define SZ_4K 0x1000ULL
#define SZ_64K 0x10000ULL
#define SZ_1M 0x100000ULL
#define SZ_2M 0x200000ULL
#define SZ_1G 0x40000000ULL

/*
 * Stack size of the threads lkvm starts (vCPUs, device workers): plenty for their shallow call chains, and below
 * 2 MiB, so the kernel never backs a stack with a transparent huge page (a default 8 MiB stack can take one and
 * triple lkvm's own resident memory).
 */
#define LKVM_THREAD_STACK (1U << 20)

/* a + b without wrapping past 2^64; false on overflow. */
static inline bool add_ok(u64 a, u64 b, u64 *res)
{
	return !__builtin_add_overflow(a, b, res);
}

/* The value of one hex digit, either case; -1 for anything else. */
static inline int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline bool is_pow2(u64 x)
{
	return x && !(x & (x - 1));
}

#endif

/* printf-style formatting to the console or a buffer: %d %i %u %x %X %p %s %c %%, flags "-0#", width, l/ll/z. */
#ifndef GUEST_PRINTF_H
#define GUEST_PRINTF_H

#include <types.h>

int printf(const char *fmt, ...) printf_like(1, 2);
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) printf_like(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif

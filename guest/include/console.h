/* The guest console: the UART named by the DT's /chosen stdout-path (ns16550a or arm,pl011), polled output only. */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <fdt.h>

enum console_kind { CONSOLE_NONE, CONSOLE_NS16550, CONSOLE_PL011 };

struct console_info {
	enum console_kind kind;
	uint64_t base;
	int node;		/* DT node of the UART, -1 if none */
};

void console_init(const struct fdt *fdt);
const struct console_info *console_get(void);
const char *console_kind_name(enum console_kind kind);
void console_putc(char c);
void console_write(const char *s, size_t n);

#endif

/* The host terminal: raw mode when stdin is a tty (restored on every exit path), escape keys. */
#ifndef KVM_TERM_H
#define KVM_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <termios.h>

#include "kvm/console-buf.h"

#define TERM_ESCAPE_CHAR 0x01 /* Ctrl-A, then 'x' quits */

struct term {
	int in_fd, out_fd;
	bool is_tty, raw;
	bool saw_escape;
	bool eof;
	struct termios saved;
	/*
	 * Bytes read from stdin that the console device has not accepted yet: held until the guest's driver is ready
	 * (console-buf.h). A pipe or file is read only while there is room (nothing is lost); a terminal is read
	 * always, so Ctrl-A x works before the guest listens, and keys past 64 KiB are dropped with one warning.
	 */
	struct console_buf in;
};

void term_init(struct term *t, int in_fd, int out_fd);
void term_restore(struct term *t);
/* Filters input for escape sequences into out (room for len + 1 bytes); sets *quit on Ctrl-A x. */
size_t term_filter(struct term *t, const unsigned char *in, size_t len, unsigned char *out, bool *quit);

#endif

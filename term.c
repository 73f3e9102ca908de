/* Host terminal handling: raw mode for interactive consoles and the Ctrl-A escape keys. */
#include <string.h>
#include <unistd.h>

#include "kvm/term.h"

void term_init(struct term *t, int in_fd, int out_fd)
{
	memset(t, 0, sizeof(*t));
	t->in_fd = in_fd;
	t->out_fd = out_fd;
	t->is_tty = isatty(in_fd);
	if (t->is_tty && tcgetattr(in_fd, &t->saved) == 0) {
		struct termios raw = t->saved;
		cfmakeraw(&raw);
		raw.c_oflag |= OPOST | ONLCR; /* keep host-side newline handling for our own messages */
		if (tcsetattr(in_fd, TCSANOW, &raw) == 0)
			t->raw = true;
	}
}

void term_restore(struct term *t)
{
	if (t->raw) {
		tcsetattr(t->in_fd, TCSANOW, &t->saved);
		t->raw = false;
	}
}

size_t term_filter(struct term *t, const unsigned char *in, size_t len, unsigned char *out, bool *quit)
{
	size_t n = 0;

	*quit = false;
	if (!t->is_tty) {
		memcpy(out, in, len);
		return len;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = in[i];
		if (t->saw_escape) {
			t->saw_escape = false;
			if (c == 'x' || c == 'X') {
				*quit = true;
				return n;
			}
			if (c != TERM_ESCAPE_CHAR)
				out[n++] = TERM_ESCAPE_CHAR;
			out[n++] = c;
		} else if (c == TERM_ESCAPE_CHAR) {
			t->saw_escape = true;
		} else {
			out[n++] = c;
		}
	}
	return n;
}

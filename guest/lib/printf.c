/* A small printf: integer, string and char conversions, written to the console or to a bounded buffer. */
#include <console.h>
#include <printf.h>

struct sink {
	char *buf;		/* NULL: console */
	size_t size, len;
};

static void emit(struct sink *s, char c)
{
	if (!s->buf)
		console_putc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

static void emit_pad(struct sink *s, char c, int n)
{
	while (n-- > 0)
		emit(s, c);
}

/* One integer conversion: digits reversed into tmp, then prefix, padding and digits in order. */
static void emit_uint(struct sink *s, uint64_t v, unsigned int base, bool upper, bool neg, const char *prefix,
		      int width, bool zero, bool left)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, plen = 0, pad;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg)
		prefix = "-";
	while (prefix && prefix[plen])
		plen++;
	pad = width - n - plen;
	if (!left && !zero)
		emit_pad(s, ' ', pad);
	for (int i = 0; i < plen; i++)
		emit(s, prefix[i]);
	if (!left && zero)
		emit_pad(s, '0', pad);
	while (n)
		emit(s, tmp[--n]);
	if (left)
		emit_pad(s, ' ', pad);
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		bool zero = false, left = false, alt = false;
		int width = 0, lng = 0;
		uint64_t u;
		int64_t d;
		const char *str;
		int slen;

		if (*fmt != '%') {
			emit(s, *fmt);
			continue;
		}
		for (fmt++;; fmt++) {
			if (*fmt == '0')
				zero = true;
			else if (*fmt == '-')
				left = true;
			else if (*fmt == '#')
				alt = true;
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i':
			d = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			u = d < 0 ? -(uint64_t)d : (uint64_t)d;
			emit_uint(s, u, 10, false, d < 0, NULL, width, zero, left);
			break;
		case 'u':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
			emit_uint(s, u, 10, false, false, NULL, width, zero, left);
			break;
		case 'x':
		case 'X':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
			emit_uint(s, u, 16, *fmt == 'X', false, alt ? "0x" : NULL, width, zero, left);
			break;
		case 'p':
			u = (uint64_t)va_arg(ap, void *);
			emit_uint(s, u, 16, false, false, "0x", width, zero, left);
			break;
		case 'c':
			emit(s, (char)va_arg(ap, int));
			break;
		case 's':
			str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			for (slen = 0; str[slen]; slen++)
				;
			if (!left)
				emit_pad(s, ' ', width - slen);
			for (int i = 0; i < slen; i++)
				emit(s, str[i]);
			if (left)
				emit_pad(s, ' ', width - slen);
			break;
		case '%':
			emit(s, '%');
			break;
		case '\0':
			return;
		default:	/* unknown conversion: show it verbatim */
			emit(s, '%');
			emit(s, *fmt);
			break;
		}
	}
}

int vprintf(const char *fmt, va_list ap)
{
	struct sink s = { NULL, 0, 0 };

	format(&s, fmt, ap);
	return (int)s.len;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { buf, size, 0 };

	format(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = 0;
	return (int)s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

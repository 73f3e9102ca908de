/* GDB remote protocol framing: the packet reader (checksums, oversize, Ctrl-C), reply framing with escapes and
 * run-length encoding, and the hex helpers. Pure and host-tested; all input here is hostile. */
#include <string.h>

#include "kvm/gdb-packet.h"

enum { ST_IDLE, ST_DATA, ST_CS1, ST_CS2 };

void gdb_rx_init(struct gdb_rx *rx)
{
	rx->state = ST_IDLE;
	rx->len = 0;
	rx->overflow = false;
	rx->sum = rx->got = 0;
	rx->buf[0] = '\0';
}

enum gdb_rx_event gdb_rx_feed(struct gdb_rx *rx, u8 c)
{
	int v;

	switch (rx->state) {
	case ST_IDLE:
		if (c == '$') {
			rx->state = ST_DATA;
			rx->len = 0;
			rx->sum = 0;
			rx->overflow = false;
			return GDB_RX_NONE;
		}
		if (c == 0x03)
			return GDB_RX_INTERRUPT;
		if (c == '+')
			return GDB_RX_ACK;
		if (c == '-')
			return GDB_RX_NAK;
		return GDB_RX_NONE; /* noise between packets */
	case ST_DATA:
		if (c == '#') {
			rx->state = ST_CS1;
			return GDB_RX_NONE;
		}
		if (c == '$') { /* a new packet before the old one ended: start over */
			rx->len = 0;
			rx->sum = 0;
			rx->overflow = false;
			return GDB_RX_NONE;
		}
		rx->sum = (u8)(rx->sum + c);
		if (rx->len < GDB_PACKET_MAX)
			rx->buf[rx->len++] = (char)c;
		else
			rx->overflow = true;
		return GDB_RX_NONE;
	case ST_CS1:
		v = hex_digit(c);
		if (v < 0) {
			rx->state = ST_IDLE;
			return GDB_RX_BADSUM;
		}
		rx->got = (u8)(v << 4);
		rx->state = ST_CS2;
		return GDB_RX_NONE;
	case ST_CS2:
		v = hex_digit(c);
		rx->state = ST_IDLE;
		rx->buf[rx->len] = '\0';
		if (v < 0 || (u8)(rx->got | v) != rx->sum)
			return GDB_RX_BADSUM;
		return rx->overflow ? GDB_RX_OVERSIZE : GDB_RX_PACKET;
	default:
		gdb_rx_init(rx);
		return GDB_RX_NONE;
	}
}

static bool needs_escape(char c)
{
	return c == '#' || c == '$' || c == '}' || c == '*';
}

size_t gdb_frame(const char *payload, size_t len, bool rle, char *out, size_t cap)
{
	size_t o = 0;
	u8 sum = 0;

#define PUT(ch)                                   \
	do {                                      \
		if (o >= cap)                     \
			return 0;                 \
		out[o++] = (ch);                  \
		sum = (u8)(sum + (u8)out[o - 1]); \
	} while (0)

	if (cap < 4)
		return 0;
	out[o++] = '$';
	for (size_t i = 0; i < len;) {
		char c = payload[i];
		size_t run = 1;

		if (needs_escape(c)) {
			PUT('}');
			PUT((char)(c ^ 0x20));
			i++;
			continue;
		}
		while (i + run < len && payload[i + run] == c && run < 98)
			run++;
		/* 'c*N' stands for 1 + (N - 29) copies; N printable, not '#', '$' (6, 7 repeats) nor '+', '-' */
		if (rle && run >= 4) {
			size_t rep = run - 1;
			while (rep == 6 || rep == 7 || rep + 29 == '+' || rep + 29 == '-')
				rep--;
			PUT(c);
			PUT('*');
			PUT((char)(rep + 29));
			i += rep + 1;
			continue;
		}
		PUT(c);
		i++;
	}
	if (o + 3 > cap)
		return 0;
	out[o++] = '#';
	out[o++] = "0123456789abcdef"[sum >> 4];
	out[o++] = "0123456789abcdef"[sum & 15];
	return o;
#undef PUT
}

long gdb_unframe(const char *in, size_t len, char *out, size_t cap)
{
	size_t o = 0, i = 1;
	u8 sum = 0;
	int hi, lo;

	if (len < 4 || in[0] != '$' || in[len - 3] != '#')
		return -1;
	for (; i < len - 3; i++) {
		char c = in[i];
		sum = (u8)(sum + (u8)c);
		if (c == '}') {
			if (i + 1 >= len - 3 || o >= cap)
				return -1;
			sum = (u8)(sum + (u8)in[++i]);
			out[o++] = (char)(in[i] ^ 0x20);
		} else if (c == '*') {
			int rep;
			if (!o || i + 1 >= len - 3)
				return -1;
			sum = (u8)(sum + (u8)in[++i]);
			rep = (u8)in[i] - 29;
			if (rep < 3 || (size_t)rep > cap - o)
				return -1;
			memset(out + o, out[o - 1], (size_t)rep);
			o += (size_t)rep;
		} else {
			if (c == '#' || c == '$' || o >= cap)
				return -1;
			out[o++] = c;
		}
	}
	hi = hex_digit(in[len - 2]);
	lo = hex_digit(in[len - 1]);
	if (hi < 0 || lo < 0 || (u8)(hi << 4 | lo) != sum)
		return -1;
	return (long)o;
}

long gdb_unescape(char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '}') {
			if (++i >= len)
				return -1;
			buf[o++] = (char)(buf[i] ^ 0x20);
		} else {
			buf[o++] = buf[i];
		}
	}
	return (long)o;
}

void gdb_tohex(const u8 *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = "0123456789abcdef"[in[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int gdb_fromhex(const char *in, u8 *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi = hex_digit(in[2 * i]), lo;
		if (hi < 0)
			return -1;
		lo = hex_digit(in[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (u8)(hi << 4 | lo);
	}
	return 0;
}

int gdb_parse_hex(const char **p, u64 *v)
{
	const char *s = *p;
	u64 x = 0;
	int n = 0, d;

	while ((d = hex_digit(*s)) >= 0) {
		if (++n > 16)
			return -1;
		x = x << 4 | (u64)d;
		s++;
	}
	if (!n)
		return -1;
	*v = x;
	*p = s;
	return 0;
}

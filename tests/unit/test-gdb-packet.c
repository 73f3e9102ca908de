/* Unit tests: the gdb packet layer (checksums, Ctrl-C, oversize, escapes, run-length replies, hex). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kvm/gdb-packet.h"

/* Feed a string; return the last non-NONE event (and how many there were). */
static enum gdb_rx_event feed(struct gdb_rx *rx, const char *s, size_t n, int *count)
{
	enum gdb_rx_event last = GDB_RX_NONE, e;
	*count = 0;
	for (size_t i = 0; i < n; i++) {
		e = gdb_rx_feed(rx, (u8)s[i]);
		if (e != GDB_RX_NONE) {
			last = e;
			(*count)++;
		}
	}
	return last;
}

int main(void)
{
	struct unit_counts uc = { 0, 0 };
	struct gdb_rx *rx = malloc(sizeof(*rx));
	char out[8192], back[8192], *big;
	u8 bytes[4];
	const char *p;
	size_t n;
	long m;
	u64 v;
	int cnt;

	gdb_rx_init(rx);
	CHECK(&uc, feed(rx, "$g#67", 5, &cnt) == GDB_RX_PACKET && cnt == 1 && rx->len == 1 && !strcmp(rx->buf, "g"),
	      "$g#67 is the packet 'g'");
	CHECK(&uc, feed(rx, "$g#68", 5, &cnt) == GDB_RX_BADSUM, "wrong checksum: BADSUM");
	CHECK(&uc, feed(rx, "$g#6z", 5, &cnt) == GDB_RX_BADSUM, "non-hex checksum: BADSUM");
	CHECK(&uc, feed(rx, "$qSupported:multiprocess+#C6", 28, &cnt) == GDB_RX_PACKET, "uppercase checksum digits");
	CHECK(&uc, feed(rx, "\x03", 1, &cnt) == GDB_RX_INTERRUPT, "0x03 between packets: interrupt");
	CHECK(&uc, feed(rx, "+", 1, &cnt) == GDB_RX_ACK && feed(rx, "-", 1, &cnt) == GDB_RX_NAK, "acks");
	CHECK(&uc, feed(rx, "garbage$?#3f", 12, &cnt) == GDB_RX_PACKET && !strcmp(rx->buf, "?") && cnt == 1,
	      "noise before a packet is skipped");
	CHECK(&uc, feed(rx, "$m0,4$g#67", 10, &cnt) == GDB_RX_PACKET && !strcmp(rx->buf, "g"),
	      "a '$' inside a packet restarts it");
	CHECK(&uc, feed(rx, "$\x03#03", 5, &cnt) == GDB_RX_PACKET && rx->buf[0] == 3, "0x03 inside a packet is data");
	big = malloc(GDB_PACKET_MAX + 100);
	memset(big, 'a', GDB_PACKET_MAX + 100);
	big[0] = '$';
	{
		u8 s = 0;
		for (int i = 1; i < GDB_PACKET_MAX + 90; i++)
			s = (u8)(s + 'a');
		big[GDB_PACKET_MAX + 90] = '#';
		big[GDB_PACKET_MAX + 91] = "0123456789abcdef"[s >> 4];
		big[GDB_PACKET_MAX + 92] = "0123456789abcdef"[s & 15];
	}
	CHECK(&uc, feed(rx, big, GDB_PACKET_MAX + 93, &cnt) == GDB_RX_OVERSIZE && cnt == 1 && rx->len == GDB_PACKET_MAX,
	      "a packet over %d bytes: OVERSIZE, buffer never overrun", GDB_PACKET_MAX);
	CHECK(&uc, feed(rx, "$g#67", 5, &cnt) == GDB_RX_PACKET, "the next packet is read normally");

	n = gdb_frame("OK", 2, true, out, sizeof(out));
	CHECK(&uc, n == 6 && !memcmp(out, "$OK#9a", 6), "frame OK: $OK#9a");
	n = gdb_frame("a#b$c}d*e", 9, true, out, sizeof(out));
	out[n] = '\0';
	CHECK(&uc, !strcmp(out, "$a}\x03" "b}\x04" "c}]d}\x0a" "e#51"), "escapes: # $ } * sent as } and the byte ^ 0x20");
	m = gdb_unframe(out, n, back, sizeof(back));
	CHECK(&uc, m == 9 && !memcmp(back, "a#b$c}d*e", 9), "escaped reply decodes back");
	n = gdb_frame("0000000000000000", 16, true, out, sizeof(out));
	out[n] = '\0';
	CHECK(&uc, !strncmp(out, "$0*,#", 5), "16 zeros: run-length '0*,' (%s)", out);
	m = gdb_unframe(out, n, back, sizeof(back));
	CHECK(&uc, m == 16 && !memcmp(back, "0000000000000000", 16), "run decodes back to 16 zeros");
	/* every run length 1..300 round-trips, and no run count is '#', '$', '+' or '-' */
	{
		bool all = true;
		for (int len = 1; len <= 300; len++) {
			char src[300];
			memset(src, 'x', (size_t)len);
			n = gdb_frame(src, (size_t)len, true, out, sizeof(out));
			for (size_t i = 1; i + 3 < n; i++)
				if (out[i] == '*') {
					if (strchr("#$+-", out[i + 1]))
						all = false;
					i++; /* the count itself may be any other printable byte */
				}
			m = gdb_unframe(out, n, back, sizeof(back));
			if (m != len || memcmp(back, src, (size_t)len))
				all = false;
		}
		CHECK(&uc, all, "runs of 1..300 bytes round-trip, counts avoid #$+-");
	}
	n = gdb_frame("0000", 4, false, out, sizeof(out));
	CHECK(&uc, n == 8 && !memcmp(out, "$0000#c0", 8), "rle off: plain");
	CHECK(&uc, gdb_frame("OK", 2, true, out, 5) == 0, "too small an output: 0");
	CHECK(&uc, gdb_unframe("$OK#9b", 6, back, sizeof(back)) < 0, "unframe checks the checksum");
	CHECK(&uc, gdb_unframe("$*a#8b", 6, back, sizeof(back)) < 0, "a run with nothing before it is refused");

	strcpy(back, "a}\x03" "b}]");
	CHECK(&uc, gdb_unescape(back, 6) == 4 && !memcmp(back, "a#b}", 4), "X data unescaped");
	strcpy(back, "ab}");
	CHECK(&uc, gdb_unescape(back, 3) == -1, "dangling '}' refused");

	p = "ffff800010001000,4";
	CHECK(&uc, gdb_parse_hex(&p, &v) == 0 && v == 0xffff800010001000ULL && *p == ',', "hex address parsed");
	p = "12345678123456789";
	CHECK(&uc, gdb_parse_hex(&p, &v) == -1, "17 hex digits refused");
	p = ",4";
	CHECK(&uc, gdb_parse_hex(&p, &v) == -1, "no digits refused");
	CHECK(&uc, gdb_fromhex("deadBEEF", bytes, 4) == 0 && bytes[0] == 0xde && bytes[3] == 0xef, "hex to bytes");
	CHECK(&uc, gdb_fromhex("de", bytes, 2) == -1, "short hex refused");
	gdb_tohex(bytes, 4, back);
	CHECK(&uc, !strcmp(back, "deadbeef"), "bytes to hex");
	free(big);
	free(rx);
	UNIT_DONE(&uc);
}

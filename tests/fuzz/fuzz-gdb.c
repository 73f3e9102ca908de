/* Fuzz target: the gdb stub's packet reader, reply framing (escapes, runs) round trip, and hex helpers. */
#include <string.h>

#include "fuzz.h"
#include "kvm/gdb-packet.h"

static struct gdb_rx rx;
static char out[2 * GDB_PACKET_MAX + 16], back[GDB_PACKET_MAX + 16];

FZ_QUIET_INITIALIZE()

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	gdb_rx_init(&rx);
	for (size_t i = 0; i < size; i++) {
		enum gdb_rx_event e = gdb_rx_feed(&rx, data[i]);
		if (rx.len > GDB_PACKET_MAX)
			abort();
		if (e == GDB_RX_PACKET) {
			const char *p = rx.buf;
			u64 v;
			long m;
			size_t n;
			u8 b[64];

			if (strlen(rx.buf) > rx.len)
				abort();
			gdb_parse_hex(&p, &v);
			if (p < rx.buf || p > rx.buf + rx.len)
				abort();
			gdb_fromhex(rx.buf, b, rx.len / 2 < sizeof(b) ? rx.len / 2 : sizeof(b));
			/* framing what came in and reading it back gives the same bytes */
			n = gdb_frame(rx.buf, rx.len, data[0] & 1, out, sizeof(out));
			if (!n)
				abort();
			m = gdb_unframe(out, n, back, sizeof(back));
			if (m != (long)rx.len || memcmp(back, rx.buf, rx.len))
				abort();
			memcpy(back, rx.buf, rx.len);
			m = gdb_unescape(back, rx.len);
			if (m > (long)rx.len)
				abort();
		}
	}
	return 0;
}

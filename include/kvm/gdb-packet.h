/* The GDB remote serial protocol's framing: $payload#cs packets in, escaped and run-length encoded replies out. */
#ifndef KVM_GDB_PACKET_H
#define KVM_GDB_PACKET_H

#include <stddef.h>

#include "kvm/util.h"

#define GDB_PACKET_MAX 4096 /* the PacketSize we announce: the longest payload we accept */

enum gdb_rx_event {
	GDB_RX_NONE = 0,   /* byte consumed, nothing complete */
	GDB_RX_PACKET,     /* a packet with a good checksum: rx->buf[0..len) (NUL-terminated); ack with '+' */
	GDB_RX_BADSUM,     /* a packet with a wrong checksum: answer '-' (the client resends) */
	GDB_RX_OVERSIZE,   /* a packet longer than GDB_PACKET_MAX: ack it and answer with an error */
	GDB_RX_INTERRUPT,  /* 0x03 outside a packet: stop the target */
	GDB_RX_ACK,        /* '+' */
	GDB_RX_NAK,        /* '-': resend the last reply */
};

struct gdb_rx {
	int state; /* 0: between packets, 1: payload, 2/3: first/second checksum digit */
	size_t len;
	bool overflow;
	u8 sum, got;
	char buf[GDB_PACKET_MAX + 1];
};

void gdb_rx_init(struct gdb_rx *rx);
enum gdb_rx_event gdb_rx_feed(struct gdb_rx *rx, u8 c);

/* Frame payload as $...#cs into out (cap bytes): '#', '$', '}' and '*' escaped, runs of 4+ bytes run-length
 * encoded unless rle is false. Returns the framed length, or 0 if it would not fit. */
size_t gdb_frame(const char *payload, size_t len, bool rle, char *out, size_t cap);
/* The inverse for a framed reply (tests, fuzzing): payload without escapes and runs into out; its length or -1. */
long gdb_unframe(const char *in, size_t len, char *out, size_t cap);
/* Undo '}' escapes of binary data (the X packet) in place: the new length, or -1 on a dangling '}'. */
long gdb_unescape(char *buf, size_t len);

/* Hex helpers: the value of a hex digit or -1; lowercase hex of len bytes into out (2*len+1); hex into bytes
 * (exactly 2*len digits: 0 or -1). */
void gdb_tohex(const u8 *in, size_t len, char *out);
int gdb_fromhex(const char *in, u8 *out, size_t len);
/* A hex number at *p (1 to 16 digits), *p moved past it: 0 or -1. */
int gdb_parse_hex(const char **p, u64 *v);

#endif

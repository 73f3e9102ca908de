/* Exception frame saved by vectors.S and the C handler that gets it. */
#ifndef GUEST_EXCEPTION_H
#define GUEST_EXCEPTION_H

#include <types.h>

struct exc_frame {
	uint64_t x[31];
	uint64_t elr;
	uint64_t spsr;
	uint64_t pad;
};

/* vec: 0..15 in VBAR order (group current-EL-SP0, current-EL-SPx, lower-64, lower-32; sync, irq, fiq, serror). */
void exception_handler(struct exc_frame *frame, uint64_t vec);

#endif

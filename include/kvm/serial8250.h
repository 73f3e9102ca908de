/* 8250/16550A UART emulation: the guest's serial console. */
#ifndef KVM_SERIAL8250_H
#define KVM_SERIAL8250_H

#include <pthread.h>

#include "kvm/devices.h"

#define UART_FIFO_SIZE 64

struct kvm;

struct serial8250 {
	struct device dev;
	struct kvm *kvm;
	pthread_mutex_t lock;
	unsigned int spi;
	int out_fd;
	/* Registers. */
	u8 ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	bool thri_pending; /* THR-empty interrupt condition, cleared by an IIR read */
	u8 rx[UART_FIFO_SIZE];
	unsigned int rx_head, rx_count;
	bool rx_held;     /* the guest reset its FIFO with input unread: hidden until it enables receive interrupts */
	bool ier_written; /* a driver configured the UART (else a polling guest: input flows from the start) */
	int irq_level;
};

struct serial8250 *serial8250_create(struct kvm *kvm, u64 base, unsigned int spi, int out_fd);
/* Feed host input to the guest; returns how many bytes the receive FIFO took. */
size_t serial8250_receive(struct serial8250 *s, const unsigned char *buf, size_t len);

#endif

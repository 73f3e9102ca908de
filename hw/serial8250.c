/*
 * 8250/16550A UART: guest console output to a host fd, host input into a 64-byte receive FIFO once the guest's
 * driver is ready for it (receive interrupts enabled), never lost to the driver's FIFO reset.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kvm/arm-layout.h"
#include "kvm/kvm.h"
#include "kvm/serial8250.h"
#include "kvm/snapshot.h"

enum { REG_RBR_THR_DLL = 0, REG_IER_DLM, REG_IIR_FCR, REG_LCR, REG_MCR, REG_LSR, REG_MSR, REG_SCR };

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO_ENABLED 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RCVR 0x02
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80

/* Received bytes the guest can see: none while a FIFO reset holds them for the driver's restart. */
static unsigned int rx_visible(const struct serial8250 *s)
{
	return s->rx_held ? 0 : s->rx_count;
}

static u8 compute_iir(struct serial8250 *s)
{
	u8 fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO_ENABLED : 0;
	if ((s->ier & IER_RDI) && rx_visible(s))
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thri_pending)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

/* Called with the lock held: drive the interrupt line to match the pending condition. */
static void update_irq(struct serial8250 *s)
{
	int level = !(compute_iir(s) & IIR_NO_INT);
	if (level != s->irq_level) {
		s->irq_level = level;
		kvm_irq_line(s->kvm, s->spi, level);
	}
}

static void rx_push(struct serial8250 *s, u8 c)
{
	if (s->rx_count < UART_FIFO_SIZE) {
		s->rx[(s->rx_head + s->rx_count) % UART_FIFO_SIZE] = c;
		s->rx_count++;
	}
}

static void tx_byte(struct serial8250 *s, u8 c)
{
	if (s->mcr & MCR_LOOP) {
		rx_push(s, c);
		return;
	}
	/* A console nobody reads (closed pipe) must not stop the guest: drop on error. */
	while (write(s->out_fd, &c, 1) < 0 && errno == EINTR)
		;
}

static void uart_read(struct device *dev, u64 off, u8 *data, u32 len)
{
	struct serial8250 *s = dev->priv;
	u8 v = 0;

	if (off >= 8)
		return;
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case REG_RBR_THR_DLL:
		if (s->lcr & LCR_DLAB) {
			v = s->dll;
		} else if (rx_visible(s)) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % UART_FIFO_SIZE;
			s->rx_count--;
		}
		break;
	case REG_IER_DLM:
		v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case REG_IIR_FCR:
		v = compute_iir(s);
		if ((v & 0x0f) == IIR_THRI)
			s->thri_pending = false;
		break;
	case REG_LCR:
		v = s->lcr;
		break;
	case REG_MCR:
		v = s->mcr;
		break;
	case REG_LSR:
		v = LSR_THRE | LSR_TEMT | (rx_visible(s) ? LSR_DR : 0);
		break;
	case REG_MSR:
		if (s->mcr & MCR_LOOP)
			v = (u8)((s->mcr & 0x0f) << 4);
		else
			v = MSR_DCD | MSR_DSR | MSR_CTS;
		break;
	case REG_SCR:
		v = s->scr;
		break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	data[0] = v;
	(void)len;
}

static void uart_write(struct device *dev, u64 off, const u8 *data, u32 len)
{
	struct serial8250 *s = dev->priv;
	u8 v = data[0];

	(void)len;
	if (off >= 8)
		return;
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case REG_RBR_THR_DLL:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
		} else {
			tx_byte(s, v);
			s->thri_pending = true;
		}
		break;
	case REG_IER_DLM:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
		} else {
			if ((v & IER_THRI) && !(s->ier & IER_THRI))
				s->thri_pending = true;
			s->ier = v & 0x0f;
			s->ier_written = true;
			if (v & IER_RDI)
				s->rx_held = false; /* the driver listens again: what its FIFO reset kept is its input */
		}
		break;
	case REG_IIR_FCR:
		s->fcr = v;
		/*
		 * Host input is not line noise: Linux resets the receive FIFO (and reads RBR "for luck") each time its
		 * driver starts, so bytes still unread are kept out of sight until it enables receive interrupts again.
		 */
		if ((v & FCR_CLEAR_RCVR) && s->rx_count)
			s->rx_held = true;
		break;
	case REG_LCR:
		s->lcr = v;
		break;
	case REG_MCR:
		s->mcr = v & 0x1f;
		break;
	case REG_SCR:
		s->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

size_t serial8250_receive(struct serial8250 *s, const unsigned char *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	/*
	 * Only a driver that listens gets input: receive interrupts enabled (Linux does that last in its startup, after
	 * the FIFO reset), or a polling guest that never touched IER. Until then the host holds the bytes.
	 */
	if (!s->rx_held && !(s->mcr & MCR_LOOP) && ((s->ier & IER_RDI) || !s->ier_written))
		while (n < len && s->rx_count < UART_FIFO_SIZE)
			rx_push(s, buf[n++]);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

static int uart_gen_fdt(struct device *dev, void *fdt, const struct fdt_ctx *ctx)
{
	struct serial8250 *s = dev->priv;
	char name[32];
	u64 reg[2] = { cpu_to_fdt64(dev->mmio_base), cpu_to_fdt64(dev->mmio_size) };

	(void)ctx;
	snprintf(name, sizeof(name), "uart@%llx", (unsigned long long)dev->mmio_base);
	if (fdt_begin_node(fdt, name) || fdt_property_string(fdt, "compatible", "ns16550a") ||
	    fdt_property(fdt, "reg", reg, sizeof(reg)) || fdt_prop_spi(fdt, s->spi, FDT_IRQ_LEVEL_HIGH) ||
	    fdt_property_cell(fdt, "clock-frequency", 1843200) || fdt_property_cell(fdt, "reg-io-width", 1) ||
	    fdt_end_node(fdt))
		return -1;
	return 0;
}

static int uart_save(struct device *dev, struct snap_writer *w)
{
	struct serial8250 *s = dev->priv;
	u8 regs[12];

	pthread_mutex_lock(&s->lock);
	regs[0] = s->ier, regs[1] = s->lcr, regs[2] = s->mcr, regs[3] = s->lsr, regs[4] = s->msr, regs[5] = s->scr;
	regs[6] = s->dll, regs[7] = s->dlm, regs[8] = s->fcr, regs[9] = s->thri_pending, regs[10] = (u8)s->irq_level;
	regs[11] = (u8)s->rx_count;
	snapw_put(w, regs, sizeof(regs));
	for (unsigned int i = 0; i < s->rx_count; i++) {
		u8 c = s->rx[(s->rx_head + i) % UART_FIFO_SIZE];
		snapw_put(w, &c, 1);
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int uart_restore(struct device *dev, struct snap_cursor *c, char *err, size_t errlen)
{
	struct serial8250 *s = dev->priv;
	const u8 *regs = cur_bytes(c, 12), *fifo;

	if (!regs || regs[11] > UART_FIFO_SIZE || !(fifo = cur_bytes(c, regs[11])) || c->left) {
		snprintf(err, errlen, "8250 UART state is malformed");
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	s->ier = regs[0] & 0x0f, s->lcr = regs[1], s->mcr = regs[2] & 0x1f, s->lsr = regs[3], s->msr = regs[4];
	s->scr = regs[5], s->dll = regs[6], s->dlm = regs[7], s->fcr = regs[8], s->thri_pending = regs[9] != 0;
	s->irq_level = regs[10] != 0; /* the vGIC's line level comes back with the vGIC state */
	s->rx_held = false;
	s->ier_written = s->ier != 0 || s->fcr != 0; /* a driver had set it up: input waits for its RDI again */
	s->rx_head = 0;
	s->rx_count = regs[11];
	for (unsigned int i = 0; i < s->rx_count; i++)
		s->rx[i] = fifo[i];
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static const struct mmio_ops uart_ops = { .read = uart_read, .write = uart_write };

struct serial8250 *serial8250_create(struct kvm *kvm, u64 base, unsigned int spi, int out_fd)
{
	struct serial8250 *s = calloc(1, sizeof(*s));

	if (!s)
		die("out of memory");
	s->kvm = kvm;
	s->spi = spi;
	s->out_fd = out_fd;
	s->mcr = 0x08; /* OUT2 */
	pthread_mutex_init(&s->lock, NULL);
	s->dev = (struct device){ .name = "serial8250", .mmio_base = base, .mmio_size = ARM_UART_SIZE,
				  .ops = &uart_ops, .gen_fdt = uart_gen_fdt, .save = uart_save,
				  .restore = uart_restore, .priv = s };
	if (device_register(&kvm->devices, &s->dev))
		die("8250 UART at 0x%llx overlaps another device", (unsigned long long)base);
	return s;
}

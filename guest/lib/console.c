/* Finds the console UART through /chosen stdout-path (aliases resolved, ":options" dropped) and writes to it by polling. */
#include <console.h>
#include <mmio.h>
#include <string.h>

#define UART8250_THR 0x0
#define UART8250_LSR 0x5
#define UART8250_LSR_THRE 0x20
#define PL011_DR 0x00
#define PL011_FR 0x18
#define PL011_FR_TXFF 0x20
#define SPIN_LIMIT 100000u	/* polls per byte before the UART's status is declared stuck */

static struct console_info console = { CONSOLE_NONE, 0, -1 };
static bool status_stuck;	/* a UART whose "ready" bit never came: write without polling from then on */

/* Node named by a stdout-path value: "/path[:opts]" or "alias[:opts]" looked up in /aliases. */
static int resolve_stdout(const struct fdt *fdt, const char *spec)
{
	size_t len = 0;
	char alias[64];
	const char *path;

	while (spec[len] && spec[len] != ':')
		len++;
	if (spec[0] == '/')
		return fdt_find_path(fdt, spec, len);
	if (!len || len >= sizeof(alias))
		return -1;
	memcpy(alias, spec, len);
	alias[len] = 0;
	path = fdt_getprop_str(fdt, fdt_find_path(fdt, "/aliases", 8), alias);
	return path ? fdt_find_path(fdt, path, strlen(path)) : -1;
}

static enum console_kind uart_kind(const struct fdt *fdt, int node)
{
	if (fdt_node_is_compatible(fdt, node, "ns16550a") || fdt_node_is_compatible(fdt, node, "ns16550"))
		return CONSOLE_NS16550;
	if (fdt_node_is_compatible(fdt, node, "arm,pl011"))
		return CONSOLE_PL011;
	return CONSOLE_NONE;
}

void console_init(const struct fdt *fdt)
{
	static const char props[2][20] = { "stdout-path", "linux,stdout-path" };
	int chosen, node = -1;
	uint64_t base, size;

	if (!fdt || !fdt->blob)
		return;
	chosen = fdt_find_path(fdt, "/chosen", 7);
	for (unsigned int i = 0; i < ARRAY_SIZE(props) && node < 0; i++) {
		const char *spec = fdt_getprop_str(fdt, chosen, props[i]);

		if (spec)
			node = resolve_stdout(fdt, spec);
	}
	/* No usable stdout-path: take the first UART we can drive. */
	if (node < 0 || uart_kind(fdt, node) == CONSOLE_NONE)
		node = fdt_find_compatible(fdt, "ns16550a");
	if (node < 0)
		node = fdt_find_compatible(fdt, "arm,pl011");
	if (node < 0 || !fdt_get_reg(fdt, fdt_parent(fdt, node), node, 0, &base, &size))
		return;
	console.kind = uart_kind(fdt, node);
	console.base = base;
	console.node = node;
}

const struct console_info *console_get(void)
{
	return &console;
}

const char *console_kind_name(enum console_kind kind)
{
	switch (kind) {
	case CONSOLE_NS16550:
		return "ns16550a";
	case CONSOLE_PL011:
		return "pl011";
	default:
		return "none";
	}
}

/* Output is "\n"-terminated (no "\r"), so test scripts can match whole lines exactly. */
void console_putc(char c)
{
	uint32_t spins = status_stuck ? SPIN_LIMIT : 0;

	switch (console.kind) {
	case CONSOLE_NS16550:
		while (spins < SPIN_LIMIT && !(mmio_read8(console.base + UART8250_LSR) & UART8250_LSR_THRE))
			spins++;
		mmio_write8(console.base + UART8250_THR, (uint8_t)c);
		break;
	case CONSOLE_PL011:
		while (spins < SPIN_LIMIT && (mmio_read32(console.base + PL011_FR) & PL011_FR_TXFF))
			spins++;
		mmio_write32(console.base + PL011_DR, (uint8_t)c);
		break;
	default:
		break;
	}
	if (spins >= SPIN_LIMIT)
		status_stuck = true;
}

void console_write(const char *s, size_t n)
{
	while (n--)
		console_putc(*s++);
}

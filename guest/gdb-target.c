/* A target for the gdb scenario (built with -g; its ELF is build/guest/gdb-target.elf): calls gdb_mark() with known
 * arguments, changes a watched global, prints a variable the debugger may set, then powers off. */
#include <boot.h>
#include <printf.h>

volatile unsigned long gdb_value = 1;  /* a watchpoint target: 1 -> 42 */
volatile unsigned long gdb_setme = 5;  /* the debugger sets it; the guest prints it */
volatile unsigned long gdb_calls;

void gdb_mark(unsigned long arg);
__attribute__((noinline)) void gdb_mark(unsigned long arg)
{
	gdb_calls += arg;
	asm volatile("" ::: "memory");
}

void guest_main(const struct fdt *fdt)
{
	(void)fdt;
	printf("GDB-TARGET START\n");
	gdb_mark(0x1234);
	gdb_value = 42;
	gdb_mark(0x5678);
	printf("GDB-TARGET setme=%lu value=%lu calls=%#lx\n", gdb_setme, gdb_value, gdb_calls);
	printf("GDB-TARGET DONE\n");
}

/* The gdb stub (debug/): --gdb serves the GDB remote protocol for the guest; lkvm's side of it. */
#ifndef KVM_GDB_H
#define KVM_GDB_H

#include <stddef.h>

#include "kvm/util.h"

struct kvm;
struct migrate_addr;

/* Check a --gdb tcp:[ADDR:]PORT|unix:PATH (tcp:PORT listens on 127.0.0.1): 0, or -1 with one line in err. */
int gdb_addr_parse(const char *spec, struct migrate_addr *a, char *err, size_t errlen);
/* Early (run, restore): listen on the --gdb address and install the vCPU hooks; dies with one line on failure. */
void gdb_setup(struct kvm *kvm, const char *spec, bool wait);
/* In kvm_run_vm() before the sandboxes: start the stub's thread (it filters itself). */
void gdb_start(struct kvm *kvm);
/* After the vCPUs stopped: tell the debugger the guest exited, put the breakpoints' bytes back, close. */
void gdb_cleanup(struct kvm *kvm);
/* True while a debugger is connected (save, migrate and pause are then refused). */
bool gdb_attached(struct kvm *kvm);

#endif

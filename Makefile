# lkvm — one Makefile: the VMM (static aarch64), host unit tests, test tools and bare-metal guest payloads.
# Usage: make [V=1] [ARCH=arm64] [CROSS_COMPILE=aarch64-linux-gnu-] [STATIC=0]; make install [prefix=...] [DESTDIR=...]

HOST_ARCH := $(shell uname -m)
ifeq ($(HOST_ARCH),aarch64)
  CROSS_COMPILE ?=
else
  CROSS_COMPILE ?= aarch64-linux-gnu-
endif
ARCH ?= arm64
ifneq ($(ARCH),arm64)
  $(error lkvm supports ARCH=arm64 only)
endif

CC      := $(CROSS_COMPILE)gcc
OBJCOPY := $(CROSS_COMPILE)objcopy
HOSTCC  ?= gcc
STATIC  ?= 1

ifeq ($(V),1)
  Q :=
  say = @true
else
  Q := @
  say = @printf '  %-7s %s\n' $(1) $(2)
endif

B := build
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 $(WARN) -Iinclude -D_GNU_SOURCE -MMD -MP
LDLIBS  := -lfdt -lz -lpthread
LDFLAGS ?=
ifeq ($(STATIC),1)
  LDFLAGS += -static
endif

# Generic code (builds for the host too, for unit tests) and everything else.
GENERIC_SRC := thread.c console-buf.c cpio.c host-kernel.c control-client.c control-path.c disk-lock.c io.c sandbox.c snapshot/format.c snapshot/ram-image.c snapshot/ram-pages.c snapshot/migrate-net.c snapshot/recheck.c snapshot/loss-record.c options.c run-options.c guest-mem.c ram.c log.c devices.c arm/fdt.c arm/image.c arm/pvtime-policy.c hw/pci.c
GENERIC_SRC += control-request.c
# debug/: the gdb stub's stage-1 walker and packet layer (host-testable); the rest talks to KVM
DEBUG_GENERIC_SRC := debug/s1walk.c debug/packet.c debug/addr.c
GENERIC_SRC += $(DEBUG_GENERIC_SRC)
# metrics/: the endpoint's encoder, request reader, server and address (host-testable); the collectors and front-ends
METRICS_GENERIC_SRC := metrics/text.c metrics/http.c metrics/server.c metrics/listen.c metrics/kvm-stats.c metrics/vm-sample.c
GENERIC_SRC += $(METRICS_GENERIC_SRC)
METRICS_SRC := metrics/endpoint.c metrics/collect.c metrics/top.c metrics/watch.c
# runcmd/ (lkvm run -- CMD): the parts that build for the host too, and the rest
RUNCMD_GENERIC_SRC := runcmd/spec.c runcmd/modset.c runcmd/vserial.c runcmd/options.c runcmd/report.c
GENERIC_SRC += $(RUNCMD_GENERIC_SRC)
RUNCMD_SRC := runcmd/runcmd.c runcmd/channel.c runcmd/initramfs.c
# virtio/ sources: VIRTIO_GENERIC_SRC also builds for the host unit tests (no KVM calls)
VIRTIO_GENERIC_SRC := virtio/queue.c virtio/core.c virtio/mmio.c virtio/pci.c virtio/pci-irqfd.c virtio/blk.c virtio/console.c virtio/rng.c virtio/net.c net/frame.c net/tap.c net/stream.c net/passt.c net/vhost.c virtio/snapshot.c virtio/9p.c virtio/9p-wire.c virtio/9p-proto.c virtio/9p-io.c virtio/9p-ops.c virtio/9p-path.c
VIRTIO_SRC := $(VIRTIO_GENERIC_SRC) virtio/setup.c
LKVM_SRC := main.c irq-routes.c builtin-run.c host-shell.c builtin-ctl.c kvm.c kvm-cpu.c term.c control.c \
            hw/serial8250.c \
            arm/kvm-arch.c arm/kvm-cpu-arch.c arm/gic.c arm/pvtime.c arm/snapshot.c \
            debug/gdb.c debug/commands.c debug/regs.c debug/dump.c builtin-debug.c \
            snapshot/save.c snapshot/restore.c snapshot/info.c snapshot/migrate.c builtin-save.c builtin-migrate.c \
            $(VIRTIO_SRC) $(METRICS_SRC) $(RUNCMD_SRC) $(GENERIC_SRC)
LKVM_OBJ := $(patsubst %.c,$(B)/arm64/%.o,$(LKVM_SRC)) $(B)/arm64/init/blob.o

all: lkvm tools guest

lkvm: $(LKVM_OBJ)
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/arm64/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# lkvm-init: the static PID 1 of the initramfs 'lkvm run' (no -k, or -- CMD) builds; linked into lkvm as bytes
# (init/blob.S). runcmd/spec.c reads the request lkvm puts beside it; io.c has the write loop.
INIT_SRC := $(wildcard init/*.c) runcmd/spec.c io.c
$(B)/init/lkvm-init: $(INIT_SRC) $(wildcard init/*.h) include/kvm/runcmd-spec.h
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) -std=gnu11 $(WARN) -Iinclude -D_GNU_SOURCE -Os -static -o $@ $(INIT_SRC)
$(B)/arm64/init/blob.o: init/blob.S $(B)/init/lkvm-init
	@mkdir -p $(dir $@)
	$(call say,AS,$<)
	$(Q)$(CC) -DLKVM_INIT_BIN='"$(B)/init/lkvm-init"' -c -o $@ $<

# ---- test tools (static aarch64 helpers run inside the test bed) ----
TOOLS := $(B)/tools/fdtls $(B)/tools/bench-io $(B)/tools/ptyrun $(B)/tools/tstamp $(B)/tools/mignet
TOOLS += $(B)/tools/mscrape $(B)/tools/jsonck $(B)/tools/gdbping $(B)/tools/dirtylog $(B)/tools/udpans
tools: $(TOOLS)
$(B)/tools/%: tests/tools/%.c io.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< io.c $(LDLIBS)

# ---- bare-metal guest payloads: guest/NAME.c + guest/lib/* -> build/guest/NAME.bin ----
GUEST_CFLAGS := -std=gnu11 $(WARN) -O2 -g -ffreestanding -fno-builtin -nostdlib -nostdinc -mgeneral-regs-only \
                -fno-stack-protector -fno-pic -fno-pie -mstrict-align -Iguest/include -MMD -MP
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -T guest/guest.ld
GUEST_PROGS := $(patsubst guest/%.c,%,$(wildcard guest/*.c))
GUEST_LIB_OBJ := $(patsubst guest/lib/%,$(B)/guest/lib/%.o,$(wildcard guest/lib/*.c guest/lib/*.S))
GUEST_BINS := $(patsubst %,$(B)/guest/%.bin,$(GUEST_PROGS))
guest: $(GUEST_BINS)
$(B)/guest/lib/%.c.o: guest/lib/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(GUEST_CFLAGS) -c -o $@ $<
$(B)/guest/lib/%.S.o: guest/lib/%.S
	@mkdir -p $(dir $@)
	$(call say,AS,$<)
	$(Q)$(CC) $(GUEST_CFLAGS) -c -o $@ $<
$(B)/guest/%.o: guest/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(GUEST_CFLAGS) -c -o $@ $<
$(B)/guest/%.elf: $(B)/guest/%.o $(GUEST_LIB_OBJ) guest/guest.ld
	$(call say,LD,$@)
	$(Q)$(CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^) -lgcc
$(B)/guest/%.bin: $(B)/guest/%.elf
	$(call say,OBJCOPY,$@)
	$(Q)$(OBJCOPY) -O binary $< $@

# ---- host unit tests (native, with ASan/UBSan) ----
HOST_CFLAGS := -std=gnu11 $(WARN) -Iinclude -Itests/unit -D_GNU_SOURCE -O1 -g -fsanitize=address,undefined \
               -fno-omit-frame-pointer -fno-sanitize-recover=all -DLKVM_HOST_TEST -MMD -MP
HOST_LDLIBS := -l:libfdt.so.1 -lz -lpthread # unit tests and fuzz targets
UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/host/%,$(wildcard tests/unit/test-*.c))
$(B)/host/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$<)
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -c -o $@ $<
$(B)/host/test-%: tests/unit/test-%.c $(patsubst %.c,$(B)/host/obj/%.o,$(GENERIC_SRC) $(VIRTIO_GENERIC_SRC))
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$<)
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -o $@ $^ $(HOST_LDLIBS)
unit: $(UNIT_TESTS)
	@tests/unit/run.sh $(UNIT_TESTS)

# ---- libFuzzer targets (host, clang, ASan/UBSan): tests/fuzz/fuzz-NAME.c -> build/fuzz/fuzz-NAME ----
# make fuzz [FUZZ_SECONDS=N] [FUZZ_TARGETS="virtq blk"]: each target prints "fuzz NAME: N runs, K crashes".
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 15
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# gcc's -Werror builds (lkvm, unit tests) police warnings; a clang-only warning must not stop the fuzzing
FUZZ_CFLAGS := -std=gnu11 $(filter-out -Werror,$(WARN)) -Wno-unknown-warning-option -Iinclude -Itests/fuzz \
               -D_GNU_SOURCE -DLKVM_HOST_TEST -O1 -g $(FUZZ_SAN) -MMD -MP
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BINS := $(patsubst %,$(B)/fuzz/fuzz-%,$(FUZZ_NAMES))
FUZZ_LIB_OBJ := $(patsubst %.c,$(B)/fuzz/obj/%.o,$(GENERIC_SRC) $(VIRTIO_GENERIC_SRC))
$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$<)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(B)/fuzz/fuzz-%: $(B)/fuzz/obj/tests/fuzz/fuzz-%.o $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(call say,FUZZLD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $(filter %.o,$^) $(HOST_LDLIBS)
fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(if $(FUZZ_TARGETS),$(FUZZ_TARGETS),$(FUZZ_NAMES))
.PHONY: fuzz fuzz-build

# ---- install: make install [prefix=/usr/local] [DESTDIR=/tmp/stage]; make uninstall with the same values ----
prefix  ?= /usr/local
bindir  ?= $(prefix)/bin
mandir  ?= $(prefix)/share/man
INSTALL ?= install
install: lkvm docs/lkvm.1
	$(call say,INSTALL,$(DESTDIR)$(bindir)/lkvm)
	$(Q)$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(mandir)/man1
	$(Q)$(INSTALL) -m 0755 lkvm $(DESTDIR)$(bindir)/lkvm
	$(call say,INSTALL,$(DESTDIR)$(mandir)/man1/lkvm.1)
	$(Q)$(INSTALL) -m 0644 docs/lkvm.1 $(DESTDIR)$(mandir)/man1/lkvm.1
uninstall:
	rm -f $(DESTDIR)$(bindir)/lkvm $(DESTDIR)$(mandir)/man1/lkvm.1

# every option in 'lkvm [COMMAND] --help' is in the man page (also run by make check)
man-check: lkvm
	@tests/check-manpage.sh
.PHONY: install uninstall man-check

# ---- the two commands in the README ----
check:
	@tests/check.sh
demo:
	@tests/testbed/demo.sh
bench:
	@tests/bench/run.sh
# N cold boots, save/restores and live moves in one L1 (SOAK_N, default 10); not part of check
soak:
	@tests/soak.sh

clean:
	rm -rf $(B) lkvm

.SECONDARY:
.PHONY: all tools guest unit check demo bench soak clean
-include $(shell find $(B) -name '*.d' 2>/dev/null)

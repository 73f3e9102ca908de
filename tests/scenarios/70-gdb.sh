# 70-gdb.sh - lkvm run --gdb with the real client (gdb-multiarch on the test machine): a bare-metal payload with
# symbols (break, registers, stepi, finish, watch, set var, threads, detach); then a Linux guest: a raw client
# (packets, errors, Ctrl-C, one debugger at a time, save refused while attached), then gdb-multiarch: attach,
# interrupt, vCPU threads, kernel virtual memory through the walker, detach, the guest still alive.
# timeout: 600
. "$(dirname "$0")/lib.sh"

TARGET=$TOOLS/gdb-target.bin
if [ ! -f "$TARGET" ]; then
	not_ok "payload $TARGET missing (make guest)"
	finish
fi
# section TAG FILE: the lines after the marker "==TAG" up to the next marker
section() { sed -n "/^==$1\$/,/^==/p" "$2" | sed '1d;$d'; }

# ---- bare metal, 2 vCPUs, the guest waits for the debugger ----
cat >"$WORK/bare.gdb" <<'GDB'
set pagination off
set confirm off
file @GUEST_DIR@/gdb-target.elf
target remote @GDB_TARGET@
echo ==THREADS\n
info threads
echo ==BREAK\n
break gdb_mark
continue
echo ==X0\n
info registers x0
echo ==PC0\n
p/x $pc
stepi
echo ==PC1\n
p/x $pc
echo ==FINISH\n
finish
echo ==VALUE\n
p gdb_value
echo ==WATCH\n
delete
watch gdb_value
continue
echo ==AFTER\n
p gdb_value
delete
echo ==HBREAK\n
hbreak gdb_mark
continue
info registers x0
delete
set var gdb_setme = 7
echo ==MONITOR\n
monitor regs-el1
detach
echo ==DETACHED\n
GDB
guest_start gdbbare 300 run --loglevel info --name gdbbare --gdb "tcp:$GDB_LISTEN:1234" --gdb-wait -c 2 -m 64 -k "$TARGET"
if ! wait_for "$ERR" "gdb: listening" 60; then
	not_ok "lkvm never listened for gdb: $(first_line "$ERR")"
	guest_kill
	finish
fi
check "--gdb-wait: the guest has not started before a debugger attaches" sh -c "! grep -q GDB-TARGET '$OUT'"
host_tool gdb "$WORK/bare.gdb" "$WORK/bare.gdbout"
GRC=$?
cat "$WORK/bare.gdbout" >>"$LOG"
check "gdb-multiarch ran its script (status $GRC)" [ "$GRC" = 0 ]
wait_for "$OUT" "GDB-TARGET DONE" 60
guest_wait
G=$WORK/bare.gdbout
check "info threads: one thread per vCPU ($(section THREADS "$G" | grep -c 'vCPU'))" \
	[ "$(section THREADS "$G" | grep -c 'vCPU [01]')" = 2 ]
check "break gdb_mark + continue: hit" sh -c "sed -n '/^==BREAK\$/,/^==/p' '$G' | grep -q 'Breakpoint 1, .*gdb_mark'"
check "info registers: x0 is the argument 0x1234 ($(section X0 "$G" | tr -s ' ' | head -n 1))" \
	sh -c "sed -n '/^==X0\$/,/^==/p' '$G' | grep -q '^x0 *0x1234 '"
PC0=$(section PC0 "$G" | sed -n 's/.*= \(0x[0-9a-f]*\).*/\1/p')
PC1=$(section PC1 "$G" | sed -n 's/.*= \(0x[0-9a-f]*\).*/\1/p')
check "stepi moves the PC ($PC0 -> $PC1)" sh -c "[ -n '$PC0' ] && [ -n '$PC1' ] && [ '$PC0' != '$PC1' ]"
check "finish returns to guest_main" sh -c "sed -n '/^==FINISH\$/,/^==/p' '$G' | grep -q 'guest_main'"
check "reading a variable: gdb_value = 1" sh -c "sed -n '/^==VALUE\$/,/^==/p' '$G' | grep -q '= 1\$'"
check "watch gdb_value fires: Old value = 1, New value = 42" \
	sh -c "sed -n '/^==WATCH\$/,/^==/p' '$G' | tr '\n' ' ' | grep -q 'Old value = 1 *New value = 42'"
check "the watchpoint is a hardware one (Z2 accepted)" sh -c "sed -n '/^==WATCH\$/,/^==/p' '$G' | grep -q 'Hardware watchpoint'"
check "hbreak gdb_mark (Z1) + continue: hit with x0 = 0x5678" \
	sh -c "sed -n '/^==HBREAK\$/,/^==/p' '$G' | grep -iqE 'breakpoint [0-9]+, .*gdb_mark' && sed -n '/^==HBREAK\$/,/^==/p' '$G' | grep -q '^x0 *0x5678 '"
check "after the watchpoint: gdb_value = 42" sh -c "sed -n '/^==AFTER\$/,/^==/p' '$G' | grep -q '= 42\$'"
check "monitor regs-el1 prints SCTLR_EL1 and TCR_EL1" \
	sh -c "sed -n '/^==MONITOR\$/,/^==/p' '$G' | grep -q SCTLR_EL1 && sed -n '/^==MONITOR\$/,/^==/p' '$G' | grep -q TCR_EL1"
check "detach: the guest finished normally (exit 0: $(rc_text "$RC"))" [ "$RC" = 0 ]
check "set var: the guest printed the new value (setme=7)" has "$OUT" "GDB-TARGET setme=7 value=42"
check "the guest ran on after detach to the end (calls=0x68ac)" has "$OUT" "calls=0x68ac"

# ---- a Linux guest: attach to a running kernel, Ctrl-C, threads, kernel memory, detach ----
cat >"$WORK/linux.gdb" <<'GDB'
set pagination off
set confirm off
set architecture aarch64
target remote @GDB_TARGET@
echo ==THREADS\n
info threads
echo ==INSN\n
x/4i $pc
echo ==PCVAL\n
p/x $pc
echo ==KTEXT\n
x/16xb @UNAME@
echo ==REGS\n
monitor regs-el1
echo ==CONT\n
python
import threading
threading.Timer(3.0, lambda: gdb.post_event(lambda: gdb.execute("interrupt"))).start()
end
continue
echo ==AFTERINT\n
p/x $pc
x/2i $pc
echo ==HBREAK\n
hbreak *@UNAME@
continue
echo ==BT\n
bt 3
delete
detach
echo ==DONE\n
GDB
guest_start gdblinux 300 run --loglevel info --name gdblinux --gdb "tcp:$GDB_LISTEN:1234" -c 2 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" \
	-p quiet
if ! wait_for "$OUT" "L2-INIT-OK" 200; then
	not_ok "Linux guest did not boot with --gdb ($(first_line "$ERR")) [$(guest_tail)]"
	guest_kill
	finish
fi
# kernel addresses from the guest's kallsyms; a loop in the guest calls uname(2) every second
guest_send "grep -E ' __arm64_sys_newuname\$' /proc/kallsyms | sed 's/^/KSYM /'"
guest_send "while :; do uname >/dev/null; sleep 1; done &"
guest_send "echo KSYMS-DONE-\$((1+1))"
wait_for "$OUT" "KSYMS-DONE-2" 30
UNAME=$(sed -n 's/^KSYM \([0-9a-f]*\) . __arm64_sys_newuname.*/0x\1/p' "$OUT" | head -n 1)
check "kallsyms gave __arm64_sys_newuname ($UNAME)" sh -c "echo '$UNAME' | grep -q '^0xffff'"
sed -i -e "s|@UNAME@|$UNAME|" "$WORK/linux.gdb"
# the guest's own view of those bytes: /proc/kcore (an ELF core of kernel memory; the PT_LOAD holding the address)
# read with the guest's busybox (od, dd; its shell arithmetic wraps at 64 bits, so kernel addresses subtract right)
guest_send 'kread() { F=/proc/kcore; a=$((0x$1)); ph=$(od -A n -t d8 -j 32 -N 8 $F); n=$(od -A n -t u2 -j 56 -N 2 $F); i=0; while [ $i -lt $n ]; do b=$((ph + i * 56)); t=$(od -A n -t u4 -j $b -N 4 $F); set -- $(od -A n -t d8 -j $((b + 8)) -N 32 $F); o=$((a - $2)); if [ $t = 1 ] && [ $o -ge 0 ] && [ $o -lt $4 ]; then echo KCORE $(dd if=$F bs=1 count=16 skip=$(($1 + o)) 2>/dev/null | od -A n -t x1); fi; i=$((i + 1)); done; }'
guest_send "kread ${UNAME#0x}; echo KREAD-DONE-\$((2+2))"
wait_for "$OUT" "KREAD-DONE-4" 30
KCORE=$(sed -n 's/^KCORE \(\([0-9a-f][0-9a-f] \)\{15\}[0-9a-f][0-9a-f]\).*/\1/p' "$OUT" | head -n 1 | tr -d '\r')
# lkvm debug: a register dump of the running guest, without a debugger
"$LKVM" debug --name gdblinux >"$WORK/dbg.out" 2>&1
DRC=$?
cat "$WORK/dbg.out" >>"$LOG"
check "lkvm debug: one line per vCPU with a kernel PC (exit $DRC)" \
	sh -c "[ $DRC = 0 ] && [ \$(grep -c '^vcpu=[01] pc=0xffff' '$WORK/dbg.out') = 2 ]"
"$LKVM" debug --name gdblinux --dump --vcpu 1 >"$WORK/dbgd.out" 2>&1
DRC=$?
cat "$WORK/dbgd.out" >>"$LOG"
check "lkvm debug --dump --vcpu 1: x0-x30, EL1 registers, code bytes at PC (exit $DRC)" \
	sh -c "[ $DRC = 0 ] && grep -q '^vcpu=1 ' '$WORK/dbgd.out' && ! grep -q '^vcpu=0' '$WORK/dbgd.out' && grep -q ' x30 0x' '$WORK/dbgd.out' && grep -q 'TTBR1_EL1 0x' '$WORK/dbgd.out' && grep -q 'VBAR_EL1' '$WORK/dbgd.out' && grep -qE 'code at pc:( [0-9a-f]{2}){16}' '$WORK/dbgd.out'"
"$LKVM" debug --name gdblinux --vcpu 7 >"$WORK/dbg7.out" 2>&1
DRC=$?
check "lkvm debug --vcpu 7 on 2 vCPUs: one-line error (exit $DRC): $(head -n 1 "$WORK/dbg7.out")" \
	sh -c "[ $DRC != 0 ] && [ \$(wc -l <'$WORK/dbg7.out') = 1 ]"
# A raw client first (busybox nc): stop reply, threads, an unmapped address, a malformed packet, a bad checksum,
# continue + Ctrl-C; meanwhile a second debugger and lkvm save are refused. Its EOF detaches.
{
	printf '$?#3f'; sleep 1
	printf '$qfThreadInfo#bb'; sleep 1
	printf '$m8000000000000000,4#d5'; sleep 1
	printf '$mzz#61'; sleep 1
	printf '$g#00'; sleep 1
	printf '$c#63'; sleep 2
	printf '\003'; sleep 3
} | timeout 30 nc "$GDB_LISTEN" 1234 >"$WORK/raw.out" 2>&1 &
RAWPID=$!
sleep 2
printf '$?#3f' | timeout 5 nc "$GDB_LISTEN" 1234 >"$WORK/second.out" 2>&1
check "a second debugger connection is refused ($(head -c 50 "$WORK/second.out"))" has "$WORK/second.out" "another debugger"
"$LKVM" save --name gdblinux "$WORK/gdb.snap" >"$WORK/save.out" 2>&1
SRC=$?
check "lkvm save while attached: refused in one line (exit $SRC): $(head -n 1 "$WORK/save.out")" \
	sh -c "[ $SRC != 0 ] && [ \$(wc -l <'$WORK/save.out') = 1 ] && grep -q 'debugger attached' '$WORK/save.out'"
"$LKVM" debug --name gdblinux >"$WORK/dbga.out" 2>&1
DRC=$?
check "lkvm debug while a debugger is attached: refused in one line (exit $DRC)" \
	sh -c "[ $DRC != 0 ] && grep -q 'debugger attached' '$WORK/dbga.out'"
wait $RAWPID
R=$WORK/raw.out
log "raw session: $(cat "$R")"
check "raw: '?' answers T02 for vCPU 1" has "$R" '$T02thread:1;#d4'
check "raw: qfThreadInfo lists both vCPUs" has "$R" '$m1,2#'
check "raw: an address outside both halves of the VA space: E14" has "$R" '$E14#aa'
check "raw: a malformed m packet: E01" has "$R" '$E01#a6'
check "raw: a bad checksum is answered '-'" has "$R" '-'
check "raw: continue then Ctrl-C: a second stop reply ($(grep -o 'T02thread' "$R" | wc -l))" \
	[ "$(grep -o 'T02thread' "$R" | wc -l)" -ge 2 ]
check "raw client gone: the stub detached" wait_for "$ERR" "debugger detached" 20
host_tool gdb "$WORK/linux.gdb" "$WORK/linux.gdbout"
GRC=$?
cat "$WORK/linux.gdbout" >>"$LOG"
L=$WORK/linux.gdbout
check "gdb-multiarch attached to the running kernel (status $GRC)" [ "$GRC" = 0 ]
check "info threads: 2 vCPUs ($(sed -n '/^==THREADS$/,/^==/p' "$L" | grep -c 'vCPU'))" \
	[ "$(sed -n '/^==THREADS$/,/^==/p' "$L" | grep -c 'vCPU [01]')" = 2 ]
PC=$(sed -n '/^==PCVAL$/,/^==/p' "$L" | sed -n 's/.*= \(0x[0-9a-f]*\).*/\1/p')
check "the PC is a kernel virtual address ($PC)" sh -c "echo '$PC' | grep -q '^0xffff'"
NI=$(sed -n '/^==INSN$/,/^==/p' "$L" | grep -c '^ *=*>* *0xffff[0-9a-f]*.*:	[a-z]')
check "x/4i \$pc: four instructions read through the walker ($NI)" [ "$NI" = 4 ]
# kernel memory at a virtual address: 16 bytes as gdb reads them through the walker = the guest's /proc/kcore
GDBTEXT=$(sed -n '/^==KTEXT$/,/^==/p' "$L" | grep '^0xffff' | sed 's/^[^:]*://' | tr -s ' \t' '\n\n' |
	sed -n 's/^0x\([0-9a-f]\)$/0\1/p;s/^0x\([0-9a-f][0-9a-f]\)$/\1/p' | tr '\n' ' ' | sed 's/ $//')
check "x/16xb at $UNAME (kernel text) = the guest's /proc/kcore ($GDBTEXT)" [ -n "$KCORE" -a "$GDBTEXT" = "$KCORE" ]
check "no memory error reading kernel text" sh -c "! grep -q 'Cannot access memory' '$L'"
check "Ctrl-C (interrupt) stopped the running kernel" sh -c "sed -n '/^==AFTERINT\$/,/^==/p' '$L' | grep -q '= 0xffff'"
check "hbreak at __arm64_sys_newuname (from kallsyms): hit while the guest calls uname" \
	sh -c "sed -n '/^==HBREAK\$/,/^==/p' '$L' | grep -qi 'breakpoint 1, 0x'"
check "bt from the hardware breakpoint shows frames" sh -c "sed -n '/^==BT\$/,/^==/p' '$L' | grep -q '^#0 '"
check "monitor regs-el1: TTBR1_EL1 printed" sh -c "sed -n '/^==REGS\$/,/^==/p' '$L' | grep -q 'TTBR1_EL1  0x'"
guest_send "echo STILL-ALIVE-\$((6*7))"
check "after detach the guest still runs (answers on its console)" wait_for "$OUT" "STILL-ALIVE-42" 60

# ---- lkvm restore --gdb --gdb-wait: debug a restored guest from where it was saved ----
SNAP=$WORK/gdb.snap
rm -f "$SNAP"
if "$LKVM" save --name gdblinux --stop "$SNAP" >>"$LOG" 2>&1; then ok "save --stop after the session"; else not_ok "save --stop failed"; fi
guest_wait
guest_start gdbrest 200 restore --gdb "tcp:$GDB_LISTEN:1234" --gdb-wait "$SNAP"
# the stub listens before the control socket exists: once 'lkvm stat' answers, it is there
n=0
while ! "$LKVM" stat --name gdblinux >/dev/null 2>&1 && [ $n -lt 60 ]; do sleep 1; n=$((n + 1)); done
if [ $n -ge 60 ]; then
	not_ok "restore --gdb: the restored VM never answered: $(first_line "$ERR")"
	guest_kill
	finish
fi
{
	printf '$?#3f'; sleep 1
	printf '$p20#d2'; sleep 1
	printf '$c#63'; sleep 1
} | timeout 20 nc "$GDB_LISTEN" 1234 >"$WORK/rest.out" 2>&1
log "restore raw session: $(cat "$WORK/rest.out")"
# (the stub run-length encodes the reply: ...f* # is f repeated 1 + 3 times)
check "restore --gdb-wait: the debugger attaches and reads the saved PC (a kernel address)" \
	sh -c "grep -q '\$T02thread:1;#d4' '$WORK/rest.out' && grep -qE '[$][0-9a-f]+(ffff|f[*] )#' '$WORK/rest.out'"
guest_send "echo RESTORED-ALIVE-\$((6*7))"
check "the restored guest runs once the debugger continued and left" wait_for "$OUT" "RESTORED-ALIVE-42" 60
guest_send "poweroff -f"
guest_wait
check "restored guest powered off cleanly ($(rc_text "$RC"))" [ "$RC" = 0 ]
finish

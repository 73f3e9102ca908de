# 12-seccomp.sh - the seccomp sandbox: every thread of a running lkvm with a disk and rng (main, vCPUs, device
# workers) shows Seccomp: 2 in /proc/PID/task/*/status and the guest works; --no-seccomp shows 0 everywhere.
# timeout: 300
. "$(dirname "$0")/lib.sh"

D=$WORK/sbx.img
dd if=/dev/zero of="$D" bs=1024 count=4096 2>/dev/null
pid_of() { "$LKVM" stat --name "$1" 2>>"$LOG" | tr ' ' '\n' | sed -n 's/^pid=//p' | head -n 1; }
# modes PID -> "N threads: X with Seccomp 2, Y with 0" facts in SECCOMP_2, SECCOMP_0, THREADS
modes() {
	THREADS=0 SECCOMP_2=0 SECCOMP_0=0
	for s in /proc/"$1"/task/*/status; do
		THREADS=$((THREADS + 1))
		m=$(sed -n 's/^Seccomp:[[:space:]]*//p' "$s")
		log "$(sed -n 's/^Name:[[:space:]]*//p' "$s"): Seccomp $m"
		case $m in 2) SECCOMP_2=$((SECCOMP_2 + 1)) ;; 0) SECCOMP_0=$((SECCOMP_0 + 1)) ;; esac
	done
}

for mode in on off; do
	flag=
	[ $mode = off ] && flag=--no-seccomp
	guest_start sbx-$mode 200 run -c 2 -m 256 --name sbx -d "$D" --rng $flag -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet
	if ! wait_for "$OUT" "l2# " 100; then
		guest_kill
		not_ok "$mode: no shell ($(rc_text "$RC")) [$(guest_tail)]"
		continue
	fi
	P=$(pid_of sbx)
	modes "$P"
	# main + 2 vCPUs + at least the blk and rng workers
	if [ $mode = on ]; then
		check "every thread sandboxed: $SECCOMP_2 of $THREADS threads show Seccomp: 2 (main, 2 vCPUs, workers)" \
			sh -c "[ $THREADS -ge 5 ] && [ $SECCOMP_2 = $THREADS ]"
	else
		check "--no-seccomp: $SECCOMP_0 of $THREADS threads show Seccomp: 0" sh -c "[ $THREADS -ge 5 ] && [ $SECCOMP_0 = $THREADS ]"
	fi
	guest_send 'echo SBX-$((2+3)) $(dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1 | tr -d " ") ; echo data | dd of=/dev/vda conv=sync,fsync 2>/dev/null && echo SBX-DISK-OK'
	check "$mode: the guest reads the rng and writes its disk" wait_for "$OUT" SBX-DISK-OK 60
	"$LKVM" stat --name sbx >>"$LOG" 2>&1
	check "$mode: lkvm stat answers" [ $? = 0 ]
	"$LKVM" pause --name sbx >>"$LOG" 2>&1 && "$LKVM" resume --name sbx >>"$LOG" 2>&1
	check "$mode: pause and resume" [ $? = 0 ]
	guest_send 'poweroff -f'
	guest_wait
	check "$mode: the guest powers off, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
	check "$mode: no sandbox report on stderr" sh -c "! grep -q 'seccomp sandbox' '$ERR'"
done
finish

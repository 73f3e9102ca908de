# 33-snapshot-bad.sh - bad snapshots (truncated, a flipped byte in each section, wrong version, empty) and a full
# disk during save: one-line errors, no crash, nothing started, older snapshot intact, VM still running.
# timeout: 600
. "$(dirname "$0")/lib.sh"

GOOD=$WORK/good.snap
guest_start bad-src 400 run -c 1 -m 128 --name badvm -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=counter"
wait_for "$OUT" "COUNT 2 " 100 || { guest_kill; not_ok "guest never counted [$(guest_tail)]"; finish; }
"$LKVM" save --name badvm "$GOOD" >>"$LOG" 2>&1
check "save without --stop: exit 0, VM keeps running" "$LKVM" stat --name badvm
SRC_OUT=$OUT
check "lkvm restore --info accepts the good snapshot" sh -c "'$LKVM' restore --info '$GOOD' >>'$LOG' 2>&1"
size=$(wc -c <"$GOOD")

# refused FILE WHAT: restoring FILE fails with exactly one error line, no crash, no guest
refused() {
	_t0=$(now_cs)
	timeout -k 5 60 "$LKVM" restore "$1" >"$WORK/bad.out" 2>"$WORK/bad.err" </dev/null
	rc=$?
	log "[$2] restore exit $rc after $(cs_fmt $(($(now_cs) - _t0))) s"
	lines=$(grep -c '[^[:space:]]' "$WORK/bad.err")
	sed "s/^/[$2] /" "$WORK/bad.err" >>"$LOG"
	if [ "$rc" -ne 0 ] && [ "$rc" -lt 124 ] && [ "$lines" -eq 1 ] && ! grep -q COUNT "$WORK/bad.out"; then
		ok "$2: refused ($(head -c 110 "$WORK/bad.err" | tr -s ' '))"
	else
		not_ok "$2: exit $rc, $lines stderr lines, guest output: $(grep -c COUNT "$WORK/bad.out")"
	fi
}

: >"$WORK/empty.snap"
refused "$WORK/empty.snap" "empty file"
for cut in 7 23 60 1000 $((size / 3)) $((size / 2)) $((size - 5)) $((size - 1)); do
	head -c "$cut" "$GOOD" >"$WORK/cut.snap"
	refused "$WORK/cut.snap" "truncated to $cut of $size bytes"
done
rm -f "$WORK/cut.snap"
cp "$GOOD" "$WORK/ver.snap"
printf '\011' | dd of="$WORK/ver.snap" bs=1 seek=8 conv=notrunc 2>/dev/null
refused "$WORK/ver.snap" "wrong format version"
check "wrong version is named as such" grep -q "version" "$WORK/bad.err"
# one flipped byte in the middle of each section (offsets from --info)
"$LKVM" restore --info "$GOOD" | sed -n 's/^section [0-9]*: \([a-z]*\) at byte \([0-9]*\), \([0-9]*\) bytes$/\1 \2 \3/p' >"$WORK/sections"
seen=
while read -r type at len; do
	case " $seen " in *" $type "*) [ "$type" = ram ] && continue ;; esac
	seen="$seen $type"
	off=$((at + 16 + len / 2))
	cp "$GOOD" "$WORK/flip.snap"
	b=$(dd if="$GOOD" bs=1 skip="$off" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	printf "\\$(printf '%03o' $(((b ^ 0x55) & 255)))" | dd of="$WORK/flip.snap" bs=1 seek="$off" conv=notrunc 2>/dev/null
	refused "$WORK/flip.snap" "flipped byte in the $type section at $off"
done <"$WORK/sections"
check "all section kinds were corrupted once ($seen)" [ "$(echo $seen | wc -w)" -ge 4 ]

# disk full during save: a 8 MiB tmpfs holding an older 2 MiB snapshot
mkdir -p "$WORK/small"
mount -t tmpfs -o size=8m tmpfs "$WORK/small"
head -c 2097152 /dev/urandom >"$WORK/small/vm.snap"
sum0=$(md5sum <"$WORK/small/vm.snap")
n0=$(tr -d '\r' <"$SRC_OUT" | sed -n 's/^COUNT \([0-9]*\) .*/\1/p' | tail -n 1)
"$LKVM" save --name badvm "$WORK/small/vm.snap" >"$WORK/full.out" 2>"$WORK/full.err"
rc=$?
sed 's/^/[disk full] /' "$WORK/full.err" >>"$LOG"
check "disk full: save fails (exit $rc) with one line: $(head -c 100 "$WORK/full.err")" \
	[ "$rc" -ne 0 -a "$(grep -c '[^[:space:]]' "$WORK/full.err")" -eq 1 ]
check "disk full: the older snapshot is intact" [ "$(md5sum <"$WORK/small/vm.snap")" = "$sum0" ]
check "disk full: no temporary file left behind" [ "$(ls -A "$WORK/small" | wc -l)" -eq 1 ]
check "disk full: the VM keeps running (counts past $n0)" wait_for "$SRC_OUT" "COUNT $((n0 + 3)) " 30
umount "$WORK/small"
"$LKVM" stop --name badvm >>"$LOG" 2>&1
guest_wait
check "VM stopped cleanly afterwards ($(rc_text "$RC"))" [ "$RC" = 0 ]
finish

# 04-bad-input.sh - lkvm must refuse bad input with one error line on stderr, a non-zero exit and no guest started.
# timeout: 300
. "$(dirname "$0")/lib.sh"

# no "quiet": a guest that starts by mistake prints "Booting Linux"; panic=-1 ends it if it gets that far
P="l2.run=poweroff panic=-1"
T=30

# refused DESC [MUST_CONTAIN] -- ARGS...: run "lkvm run ARGS" and check the refusal
refused() {
	_desc=$1
	_want=$2
	shift 3
	lkvm_run "bad$((n = ${n:-0} + 1))" $T run "$@"
	_lines=$(nonempty_lines "$ERR")
	_msg=$(first_line "$ERR")
	_why=
	[ "$RC" = 124 ] && _why="$_why timed out;"
	[ "$RC" = 0 ] && _why="$_why exit 0;"
	[ "$RC" -ge 126 ] && [ "$RC" -le 127 ] && _why="$_why could not run lkvm (exit $RC);"
	[ "$_lines" = 1 ] || _why="$_why $_lines stderr lines;"
	booted "$OUT" "$ERR" && _why="$_why guest started;"
	if [ -n "$_want" ] && ! has "$ERR" "$_want"; then _why="$_why stderr lacks '$_want';"; fi
	if [ -z "$_why" ]; then
		ok "$_desc: exit $RC, \"$_msg\""
	else
		not_ok "$_desc:$_why first stderr line: \"$_msg\""
	fi
}

refused "missing kernel" "Fatal: Unable to open kernel /nonexistent" -- \
	-k /nonexistent -i "$L2_INITRD" -m 256 -c 1 -p "$P"

refused "initramfs given as kernel" "" -- -k "$L2_INITRD" -m 256 -c 1 -p "$P"

head -c 1048576 "$L2_KERNEL" >"$WORK/truncated.Image"
refused "truncated Image (1 MiB)" "" -- -k "$WORK/truncated.Image" -i "$L2_INITRD" -m 256 -c 1 -p "$P"
rm -f "$WORK/truncated.Image"

refused "-c 0" "" -- -k "$L2_KERNEL" -i "$L2_INITRD" -m 256 -c 0 -p "$P"

refused "-c 100000" "" -- -k "$L2_KERNEL" -i "$L2_INITRD" -m 256 -c 100000 -p "$P"

refused "-m 16 (too small for kernel + initrd)" "" -- -k "$L2_KERNEL" -i "$L2_INITRD" -m 16 -c 1 -p "$P"

# 300 MiB sparse file: costs no memory or disk
dd if=/dev/zero of="$WORK/big.initrd" bs=1048576 count=0 seek=300 2>/dev/null
refused "initrd larger than RAM (300 MiB, -m 256)" "" -- -k "$L2_KERNEL" -i "$WORK/big.initrd" -m 256 -c 1 -p "$P"
rm -f "$WORK/big.initrd"

refused "unknown option --bogus" "" -- --bogus -k "$L2_KERNEL" -i "$L2_INITRD" -m 256 -c 1 -p "$P"

finish

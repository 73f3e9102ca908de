# 99-bench-runcmd.sh - benchmark: 'lkvm run -- true' from start to exit (the host's kernel, lkvm's own initramfs,
# the host's / over 9p under an overlay, the command's channels), beside lkvm's plain boot of the same kernel to
# poweroff (-k Image -i l2.cpio, as the boot benchmark) and, with a reference VMM, the reference's plain boot;
# alternating per round. Ratios per round: -- true / lkvm's plain boot, -- true / the reference's plain boot.
# timeout: 3000
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/benchlib.sh"
. "$(dirname "$0")/runlib.sh"

if ! run_boot_setup; then
	missed "no host kernel for lkvm run -- CMD"
	bench_finish "lkvm run -- true"
fi
mkdir -p "$WORK/bench-runcmd" && cd "$WORK/bench-runcmd" || exit 1

# secs_of CMD...: run CMD (stdin /dev/null, output to $WORK/bench-runcmd.out/.err); T = seconds start -> exit
secs_of() {
	uptime_s
	_a=$UP
	timeout -k 5 120 "$@" </dev/null >"$WORK/bench-runcmd.out" 2>"$WORK/bench-runcmd.err"
	RC=$?
	uptime_s
	T=$(awk -v a="$_a" -v b="$UP" 'BEGIN { printf "%.2f", b - a }')
	{
		echo "== $* -> rc=$RC in $T s"
		tail -n 5 "$WORK/bench-runcmd.err" | sed 's/^/err: /'
	} >>"$LOG"
}

i=1
while [ $i -le "$BENCH_RUNS" ]; do
	line="run $i:"
	tt= tp= tr=
	for w in runcmd plain $( [ -n "$REF" ] && echo ref); do
		case $w in
		runcmd) secs_of "$LKVM" run -- true ;;
		plain) secs_of "$LKVM" run -k "$L2_KERNEL" -i "$L2_INITRD" -m 256 -c 1 -p "quiet l2.run=poweroff" ;;
		ref) secs_of "$REF_RUN" run -k "$L2_KERNEL" -i "$L2_INITRD" -m 256 -c 1 -p "quiet l2.run=poweroff" ;;
		esac
		if [ "$RC" != 0 ]; then
			missed "$w run $i (exit $RC)"
			continue
		fi
		case $w in
		runcmd) tt=$T; bench runcmd_true_s $i "$T" s ;;
		plain) tp=$T; bench runcmd_plain_s $i "$T" s ;;
		ref) tr=$T; bench ref_runcmd_plain_s $i "$T" s ;;
		esac
		line="$line $w $T s;"
	done
	[ -n "$tt" ] && [ -n "$tp" ] && bench runcmd_vs_plain_ratio $i "$(fdiv "$tt" "$tp")" ratio
	[ -n "$tt" ] && [ -n "$tr" ] && bench runcmd_ratio $i "$(fdiv "$tt" "$tr")" ratio
	diag "$line"
	i=$((i + 1))
done
run_boot_cleanup
cd /
rm -rf "$WORK/bench-runcmd"
bench_finish "$BENCH_RUNS rounds of lkvm run -- true, lkvm's plain boot${REF:+ and the reference's}"

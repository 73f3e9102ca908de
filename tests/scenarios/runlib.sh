# runlib.sh - helpers for the 'lkvm run -- CMD' scenarios (50-54), sourced after lib.sh.
#
# 'lkvm run -- CMD' boots the host's own kernel (/boot/Image-$(uname -r)) with the host's / shared. On a real arm64
# host that is there already; in the nested test bed L1 is the host, its kernel is the L2 Image and its module tree
# (/lib/modules/REL: virtio, 9p, overlay) comes with L1's initramfs, so /boot/Image-REL is made a link to the L2
# Image for the scenario and removed afterwards.
REL=$(uname -r)
RUN_BOOT_MADE=
run_boot_setup() {
	if ls "/boot/Image-$REL" "/boot/vmlinuz-$REL" >/dev/null 2>&1; then
		return 0
	fi
	if [ -e /boot ]; then
		diag "/boot has no kernel for $REL; the runner scenarios need one"
		return 1
	fi
	mkdir -p /boot && ln -s "$L2_KERNEL" "/boot/Image-$REL" && RUN_BOOT_MADE=1
}
# run_setup DIR: the host kernel (else a failed check and the scenario ends), then a fresh DIR as the working
# directory
run_setup() {
	if ! run_boot_setup; then
		not_ok "no host kernel for lkvm run -- CMD"
		finish
	fi
	rm -rf "$1"
	mkdir -p "$1" && cd "$1" || exit 1
}
run_boot_cleanup() {
	[ -n "$RUN_BOOT_MADE" ] && rm -rf /boot
	RUN_BOOT_MADE=
}

# run_cmd TAG TIMEOUT_S [lkvm run options...] -- CMD...: "$LKVM run ..." with stdin from $RUN_IN (default /dev/null),
# stdout to OUT=$WORK/TAG.out, stderr to ERR=$WORK/TAG.err; RC, SECS as lkvm_run sets them. RUN_AS=USER runs lkvm
# as that user (busybox su). Output files are not logged whole (they may be binary): their sizes and heads are.
run_cmd() {
	_tag=$1
	_t=$2
	shift 2
	OUT="$WORK/$_tag.out"
	ERR="$WORK/$_tag.err"
	log "[$_tag] ${RUN_AS:+(as $RUN_AS) }$(echo "$LKVM run $*" | cut -c1-400)"
	_t0=$(now_cs)
	if [ -n "${RUN_AS:-}" ]; then
		# su's -c takes one shell line: quote every word
		_line="exec timeout -k 5 $_t '$LKVM' run"
		for _w in "$@"; do
			_line="$_line '$(printf '%s' "$_w" | sed "s/'/'\\\\''/g")'"
		done
		su "$RUN_AS" -s /bin/sh -c "$_line" <"${RUN_IN:-/dev/null}" >"$OUT" 2>"$ERR"
		RC=$?
	else
		timeout -k 5 "$_t" "$LKVM" run "$@" <"${RUN_IN:-/dev/null}" >"$OUT" 2>"$ERR"
		RC=$?
	fi
	_el=$(($(now_cs) - _t0))
	SECS=$(cs_fmt $_el)
	case $RC in 137 | 143) [ $_el -ge $((_t * 100)) ] && RC=timeout ;; esac
	{
		echo "== [$_tag] exit $RC after $SECS s; stdout $(wc -c <"$OUT") bytes, stderr $(wc -c <"$ERR") bytes"
		head -c 2000 "$OUT" | LC_ALL=C sed 's/[^[:print:]]/?/g; s/^/out: /'
		head -c 4000 "$ERR" | LC_ALL=C sed 's/[^[:print:]]/?/g; s/^/err: /'
	} >>"$LOG"
	return 0
}

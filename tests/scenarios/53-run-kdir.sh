# 53-run-kdir.sh - 'lkvm run --kdir DIR -- CMD': a kernel build tree (here a fake one: the test bed's Debian Image as
# arch/arm64/boot/Image, its modules where a build leaves them, listed in modules.order) boots with lkvm's
# initramfs taking the tree's modules, and the command loads a module of the tree by name (modprobe through
# /lib/modules/RELEASE/build). Broken trees (no Image, not an Image, no overlay module) fail in one line, 125.
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runlib.sh"

K=$WORK/kdir
M=/lib/modules/$REL
rm -rf "$K"
if [ ! -d "$M/kernel" ]; then
	not_ok "no module tree $M to build the fake kernel tree from"
	finish
fi
# the fake tree: Image, the modules without the install's kernel/ prefix, modules.order (the 6.2+ spelling with .o
# for dummy), modules.builtin, include/config/kernel.release
mkdir -p "$K/arch/arm64/boot" "$K/include/config"
ln -s "$L2_KERNEL" "$K/arch/arm64/boot/Image"
echo "$REL" >"$K/include/config/kernel.release"
cp "$M/modules.builtin" "$K/" 2>/dev/null
(cd "$M/kernel" && find . -name '*.ko' | sed 's|^\./||') | while read -r f; do
	mkdir -p "$K/$(dirname "$f")"
	cp "$M/kernel/$f" "$K/$f"
	case $f in */dummy.ko) echo "${f%.ko}.o" ;; *) echo "$f" ;; esac
done >"$K/modules.order"
if ! grep -q dummy "$K/modules.order"; then
	not_ok "no dummy.ko in $M (mkl1initrd.sh puts it there)"
	finish
fi
log "fake tree: $(wc -l <"$K/modules.order") modules"
mkdir -p "$WORK/kdir-cwd" && cd "$WORK/kdir-cwd" || exit 1

run_cmd kdir 300 --root --kdir "$K" -- sh -c 'uname -r; readlink /lib/modules/$(uname -r)/build;
	grep -c "^dummy " /proc/modules; modprobe dummy && grep -c "^dummy " /proc/modules'
check "--kdir: the tree's kernel booted and the command ran ($RC; $(head -n 1 "$OUT"))" \
	sh -c "[ '$RC' = 0 ] && [ \"\$(sed -n 1p '$OUT')\" = '$REL' ]"
check "--kdir: /lib/modules/RELEASE/build is the tree ($(sed -n 2p "$OUT"))" [ "$(sed -n 2p "$OUT")" = "$K" ]
check "--kdir: modprobe loads the tree's module dummy (before: $(sed -n 3p "$OUT"), after: $(sed -n 4p "$OUT"))" \
	sh -c "[ \"\$(sed -n 3p '$OUT')\" = 0 ] && [ \"\$(sed -n 4p '$OUT')\" = 1 ]"

# broken trees: one line, 125, no guest
B=$WORK/kdir-bad
for case in noimage notimage truncated nooverlay; do
	rm -rf "$B"
	mkdir -p "$B/arch/arm64/boot"
	cp "$K/modules.order" "$K/modules.builtin" "$B/" 2>/dev/null
	for f in $(cat "$K/modules.order"); do
		f=${f%.o}
		f=${f%.ko}.ko
		mkdir -p "$B/$(dirname "$f")" && ln -s "$K/$f" "$B/$f"
	done
	case $case in
	noimage) ;;
	notimage) head -c 4096 /dev/urandom >"$B/arch/arm64/boot/Image" ;;
	truncated) head -c 1048576 "$L2_KERNEL" >"$B/arch/arm64/boot/Image" ;;
	nooverlay)
		ln -s "$L2_KERNEL" "$B/arch/arm64/boot/Image"
		grep -v overlay "$K/modules.order" >"$B/modules.order"
		grep -v overlay "$K/modules.builtin" >"$B/modules.builtin"
		;;
	esac
	run_cmd kdir-$case 120 --kdir "$B" -- true
	lines=$(grep -c . "$ERR")
	if [ "$RC" = 125 ] && [ "$lines" = 1 ] && ! grep -q 'Booting Linux' "$ERR"; then
		ok "--kdir with $case: 125 and one line: $(head -c 200 "$ERR" | tr -s ' ')"
	else
		not_ok "--kdir with $case: status $RC, $lines lines: $(head -c 300 "$ERR")"
	fi
done

cd /
rm -rf "$K" "$B" "$WORK/kdir-cwd"
finish

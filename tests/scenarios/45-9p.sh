# 45-9p.sh - virtio-9p: files both ways, 64 MiB with a matching checksum, a ro share that refuses writes, symlinks
# (host-planted and guest-made) that never reach outside the share, '..' that stays inside, -d DIR as /dev/root,
# saves refused with the VM running, and 'lkvm run' with no kernel on a host without one under /boot.
# timeout: 1200
. "$(dirname "$0")/lib.sh"

B=$WORK/9p
rm -rf "$B"
mkdir -p "$B/share" "$B/ro" "$B/outside" "$B/root"
S=$B/share
echo TOPSECRET-OUTSIDE >"$B/outside/secret"
echo "hello from the host" >"$S/from-host"
echo bye >"$S/delete-me"
echo "$B/outside" >"$S/outside-path"
ln -s ../outside/secret "$S/out-rel"
ln -s "$B/outside/secret" "$S/out-abs"
ln -s ../outside "$S/out-dir"
echo "read-only content" >"$B/ro/ro-file"
ro_before=$(cd "$B/ro" && ls -la --full-time 2>/dev/null || ls -la; md5sum ro-file)

for t in pci mmio; do
	case $t in
	pci) args="" ;;
	mmio) args="--virtio-transport mmio" ;;
	esac
	# 64 MiB over pci; 8 MiB is enough to cross many descriptor chains over mmio
	case $t in pci) mb=64 ;; *) mb=8 ;; esac
	dd if=/dev/urandom of="$S/big" bs=1048576 count=$mb 2>/dev/null
	big_md5=$(md5sum <"$S/big" | cut -d' ' -f1)
	rm -f "$S/from-guest" "$S/big-copy" "$S/g-abs" "$S/g-rel"
	rm -rf "$S/gdir"
	echo bye >"$S/delete-me"
	# shellcheck disable=SC2086
	lkvm_run "9p-$t" 400 run -c 1 -m 256 $args -k "$L2_KERNEL" -i "$L2_INITRD" --9p "$S,share" --9p "$B/ro,rosh,ro" \
		-p "quiet l2.run=9p"
	check "$t: guest ran with two shares, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
	check "$t: both shares mounted" sh -c "grep -q MOUNT-S-OK '$OUT' && grep -q MOUNT-R-OK '$OUT'"
	check "$t: the guest sees the tags share and rosh" sh -c "grep 'TAGS=' '$OUT' | grep -q share && grep 'TAGS=' '$OUT' | grep -q rosh"
	check "$t: host -> guest: the guest read the host's file" has "$OUT" "FROM-HOST=hello from the host"
	check "$t: guest -> host: the host reads the guest's file" sh -c "[ \"\$(cat '$S/from-guest')\" = 'written by the guest' ]"
	check "$t: guest mkdir + rename visible on the host" sh -c "[ \"\$(cat '$S/gdir/g')\" = inside ] && [ ! -e '$S/gdir/f' ]"
	check "$t: guest rm removed the host file" [ ! -e "$S/delete-me" ]
	check "$t: ro share readable" has "$OUT" "RO-READ=read-only content"
	for op in CREATE APPEND RM MKDIR; do
		check "$t: ro share refuses $op" has "$OUT" "RO-$op-REFUSED"
	done
	ro_after=$(cd "$B/ro" && ls -la --full-time 2>/dev/null || ls -la; md5sum ro-file)
	check "$t: ro share: the host directory is unchanged" [ "$ro_before" = "$ro_after" ]
	check "$t: host-planted symlinks are text to the guest (readlink)" has "$OUT" "PLANTED-LINK=../outside/secret"
	check "$t: guest-made symlinks exist on the host as symlinks" sh -c "[ -L '$S/g-abs' ] && [ -L '$S/g-rel' ]"
	check "$t: nothing outside the share ever reached the guest" sh -c "! grep -q TOPSECRET '$OUT'"
	for k in PLANTED-REL PLANTED-ABS PLANTED-DIR GUEST-ABS GUEST-REL DOTDOT-SECRET; do
		check "$t: $k yields nothing ($(grep -m1 "^$k=" "$OUT" | cut -c1-70))" sh -c "grep -q '^$k=' '$OUT' && ! grep '^$k=' '$OUT' | grep -q TOPSECRET"
	done
	check "$t: '..' inside the share is the share" sh -c "grep '^DOTDOT-IN=' '$OUT' | grep -q from-host"
	check "$t: '..' above the share is the guest's own /mnt, not the host's parent ($(grep -m1 '^DOTDOT-UP=' "$OUT" | cut -c1-60))" \
		sh -c "grep -q '^DOTDOT-UP=' '$OUT' && ! grep '^DOTDOT-UP=' '$OUT' | grep -q outside"
	check "$t: $mb MiB read by the guest: md5 matches the host's" has "$OUT" "BIG-MD5=$big_md5"
	check "$t: $mb MiB copied by the guest: host md5 matches" [ "$(md5sum <"$S/big-copy" 2>/dev/null | cut -d' ' -f1)" = "$big_md5" ]
	tr -d '\r' <"$OUT" | awk -F= -v mb=$mb '/^T-big-start=/ { s = $2 } /^T-big-read=/ { r = $2 } /^T-big-copied=/ { c = $2 }
		END { if (r > s && c > r) printf "# 9p: %s MiB: md5 read %.1f s, copy %.1f s (nested; not a benchmark)\n", mb, r - s, c - r }'
	check "$t: unmounted cleanly" has "$OUT" "UMOUNT-OK"
	check "$t: lkvm logged no errors" sh -c "! grep -qi 'error\|needs reset' '$ERR'"
done

# -d DIR: the directory is the root share, tag /dev/root, and the root arguments are on the command line
echo root-marker >"$B/root/marker"
lkvm_run 9p-root 120 run -c 1 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" -d "$B/root" -p "quiet l2.run=9proot"
check "-d DIR: guest ran, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
check "-d DIR: the share's tag is /dev/root" sh -c "grep '^TAGS=' '$OUT' | grep -q /dev/root"
check "-d DIR: root=/dev/root rw rootfstype=9p rootflags=trans=virtio,version=9p2000.L appended" has "$OUT" ROOT-ARGS-OK
check "-d DIR: /dev/root mounts and shows the directory" has "$OUT" "ROOT-MARKER=root-marker"
check "-d DIR: the guest's write reached the host" sh -c "[ \"\$(cat '$B/root/guest-file')\" = 'guest was here' ]"

# saving a VM with shares: refused in one line, the guest keeps running
guest_start 9p-save 120 run -c 1 -m 256 --name p9save -k "$L2_KERNEL" -i "$L2_INITRD" --9p "$S,share" -p quiet
if wait_for "$OUT" "l2# " 100; then
	"$LKVM" save --name p9save "$WORK/p9.snap" >"$WORK/p9save.out" 2>&1
	src=$?
	cat "$WORK/p9save.out" >>"$LOG"
	check "save with a share: refused ($(head -n 1 "$WORK/p9save.out"))" \
		sh -c "[ $src != 0 ] && [ \$(grep -c . '$WORK/p9save.out') = 1 ] && grep -q 9p '$WORK/p9save.out'"
	check "save with a share: no snapshot file left" [ ! -s "$WORK/p9.snap" ]
	guest_send 'echo STILL-$((40+2))'
	check "save with a share: the guest still runs" wait_for "$OUT" "STILL-42" 30
	guest_send 'poweroff -f'
	guest_wait
	check "save with a share: guest exits 0 afterwards ($(rc_text "$RC"))" [ "$RC" = 0 ]
else
	guest_kill
	not_ok "save with a share: no shell prompt [$(guest_tail)]"
fi

# bad input: one line, non-zero, no guest
for case in missing file tag; do
	case $case in
	missing) spec=/nonexistent/dir,t ;;
	file) spec=$S/from-host,t ;;
	tag) spec="$S,$(printf '%070d' 0)" ;;
	esac
	lkvm_run "9p-bad-$case" 60 run -c 1 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" --9p "$spec"
	lines=$(grep -c '[^[:space:]]' "$ERR")
	if [ "$RC" != 0 ] && [ "$RC" -lt 124 ] && [ "$lines" = 1 ] && ! booted "$OUT"; then
		ok "--9p $case: one-line error: $(cat "$ERR" | tr -s ' ')"
	else
		not_ok "--9p $case: exit $RC, $lines lines, booted: $(booted "$OUT" && echo yes || echo no)"
	fi
done

# 'lkvm run' with no kernel, on a host with no kernel Image under /boot (this test bed has no /boot)
if ls /boot/Image* /boot/vmlinuz* >/dev/null 2>&1; then
	diag "this host has a kernel under /boot; the no-kernel error is not checked here"
else
	lkvm_run 9p-nokernel 60 run
	lines=$(grep -c '[^[:space:]]' "$ERR")
	if [ "$RC" != 0 ] && [ "$RC" -lt 124 ] && [ "$lines" = 1 ] && grep -q /boot "$ERR"; then
		ok "lkvm run with no kernel: one line naming where it looked: $(cat "$ERR")"
	else
		not_ok "lkvm run with no kernel: exit $RC, $lines lines: $(head -c 300 "$ERR")"
	fi
fi

# 'lkvm run' alone: the host's kernel (here L1's own, gzip-compressed as Debian ships it) from /boot, lkvm's own
# initramfs with the 9p modules from /lib/modules, the host's / read-only and ~/.lkvm/NAME as the writable /root
rel=$(uname -r)
if [ -d "/lib/modules/$rel" ] && [ ! -e /boot ]; then
	mkdir -p /boot "$WORK/home"
	gzip -1 -c "$L2_KERNEL" >"/boot/vmlinuz-$rel" 2>/dev/null || gzip -c "$L2_KERNEL" >"/boot/vmlinuz-$rel"
	HOME=$WORK/home
	export HOME
	guest_start 9p-shell 200 run -m 256 --name shelltest -p quiet
	if wait_for "$OUT" "the host's / is mounted read-only" 150; then
		guest_send 'echo $((6*7))-SHELL-OK'
		check "shell: 'lkvm run' gives an answering shell" wait_for "$OUT" "42-SHELL-OK" 30
		guest_send 'ls /scenarios | grep -c 45-9p | sed s/^/HOSTROOT=/'
		check "shell: the host's / is the guest's /" wait_for "$OUT" "HOSTROOT=1" 30
		guest_send 'touch /lkvm-ro-test 2>/dev/null && echo ROOT-WRITABLE || echo ROOT-RO-OK'
		check "shell: the host's / is read-only" wait_for "$OUT" "ROOT-RO-OK" 30
		guest_send 'echo kept >/root/kept && echo HOME-WRITE-OK'
		check "shell: /root is writable" wait_for "$OUT" "HOME-WRITE-OK" 30
		guest_send 'exit'
		guest_wait
		check "shell: exit powers the guest off, lkvm exits 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
		check "shell: what the guest wrote to /root is in ~/.lkvm/shelltest" \
			sh -c "[ \"\$(cat '$HOME/.lkvm/shelltest/kept')\" = kept ]"
		check "shell: nothing was written to the host's /" [ ! -e /lkvm-ro-test ]
	else
		guest_kill
		not_ok "shell: no shell banner from 'lkvm run' ($(head -c 300 "$ERR"))"
	fi
	rm -rf /boot
else
	diag "no /lib/modules/$rel here (or a real /boot): the shell is not checked"
fi
finish

# 35-memory.sh - guest RAM: transparent huge pages on a stock host, restore by mapping a sparse snapshot file (and
# the pipe, stdin, compressed and --verify forms), a 1 GiB guest restored lazily, truncated and corrupt images, and
# --hugetlbfs (refusals, then a guest on real huge pages).
# timeout: 600
. "$(dirname "$0")/lib.sh"

count_last() { tr -d '\r' <"$1" | sed -n 's/^COUNT \([0-9]*\) .*/\1/p' | tail -n 1; }
# stopped_at FILE: the source's last COUNT (PREV), and MID=1 if its console stopped in the middle of a line (a save
# can catch the guest half way through printing one: the restored guest then finishes that line first)
stopped_at() {
	PREV=$(count_last "$1")
	MID=0
	[ -n "$(tail -c 1 "$1" | tr -d '\r\n')" ] && MID=1
	prev=$PREV
}
count_first() { tr -d '\r' <"$1" | sed -n 's/^COUNT \([0-9]*\) .*/\1/p' | head -n 1; }
# stat_val NAME KEY: a key=value of 'lkvm stat --name NAME'
stat_val() { "$LKVM" stat --name "$1" 2>>"$LOG" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
huge_free() { sed -n 's/^HugePages_Free: *//p' /proc/meminfo; }
# dst_start TAG SOCKET: lkvm restore --incoming unix:SOCKET in the background (console TAG.out, log TAG.err, exit
# status in TAG.rc), once it listens; dst_wait TAG: its exit status, waiting up to 30 s
dst_start() {
	rm -f "$WORK/$1.rc"
	(
		timeout -k 5 300 "$LKVM" restore --incoming "unix:$2" </dev/null >"$WORK/$1.out" 2>"$WORK/$1.err"
		echo $? >"$WORK/$1.rc"
	) &
	wait_for "$WORK/$1.err" "waiting for a migration" 30 || log "[$1] never listened: $(cat "$WORK/$1.err")"
}
dst_wait() {
	_i=0
	while [ ! -s "$WORK/$1.rc" ] && [ $_i -lt 150 ]; do
		sleep 0.2
		_i=$((_i + 1))
	done
	cat "$WORK/$1.rc" 2>/dev/null || echo none
}
# moved_on WHAT FILE PREV: the moved guest (console FILE) counts on past PREV with its tmpfs log intact, no reboot
moved_on() {
	wait_for "$2" "COUNT $(($3 + 3)) " 60
	_l=$(tr -d '\r' <"$2" | grep '^COUNT ' | tail -n 1)
	_n=$(echo "$_l" | sed -n 's/^COUNT \([0-9]*\) .*/\1/p')
	_first=$(count_first "$2")
	if [ "${_first:-0}" -gt "$3" ] && [ "${_first:-0}" -le "$(($3 + 2))" ] && [ "${_n:-0}" -gt "$(($3 + 2))" ] &&
		echo "$_l" | grep -q "lines=$_n\$" && ! booted "$2"; then
		ok "$1: the guest counts on from $_first after $3 (now '$_l'), its tmpfs log whole, no reboot"
	else
		not_ok "$1: expected counting from $(($3 + 1)) with lines=COUNT and no reboot; first '$_first', last '$_l'"
	fi
}
# continued TAG PREV: the guest in $OUT picks up at PREV + 1 and goes on
continued() {
	wait_for "$OUT" "COUNT $(($2 + 3)) " 60
	f=$(count_first "$OUT")
	# the line the source was printing when it stopped (MID) may be the restored guest's first, unnumbered
	_next=$(($2 + 1))
	[ "${MID:-0}" = 1 ] && [ "${f:-0}" = $(($2 + 2)) ] && _next=$(($2 + 2))
	if [ "${f:-0}" = "$_next" ] && has "$OUT" "COUNT $(($2 + 3)) " && ! has "$OUT" L2-INIT-OK; then
		ok "$1: the guest continues at COUNT $f after $2, no reboot"
	else
		not_ok "$1: expected COUNT $(($2 + 1)) onwards without a reboot, first was '${f}'"
	fi
}
# refused TAG WHAT CMD...: CMD fails with exactly one line on stderr and no guest output; the line goes to the log
refused() {
	_tag=$1
	_what=$2
	shift 2
	timeout 120 "$@" >"$WORK/$_tag.out" 2>"$WORK/$_tag.err" </dev/null
	_rc=$?
	_n=$(grep -c '[^[:space:]]' "$WORK/$_tag.err")
	sed "s/^/[$_tag] /" "$WORK/$_tag.err" >>"$LOG"
	if [ "$_rc" -ne 0 ] && [ "$_rc" -lt 124 ] && [ "$_n" -eq 1 ] && ! booted "$WORK/$_tag.out" &&
		! grep -q COUNT "$WORK/$_tag.out"; then
		ok "$_what: refused in one line ($(head -c 150 "$WORK/$_tag.err" | tr -s ' '))"
	else
		not_ok "$_what: exit $_rc, $_n stderr lines"
	fi
}

# ---- 1. transparent huge pages, no pre-faulting ------------------------------------------------------------------
thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
diag "host THP: ${thp:-unknown}"
guest_start mem-src 120 run -c 1 -m 256 --name memvm -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=counter"
if ! wait_for "$OUT" "COUNT 3 " 100; then
	# what was lkvm doing? (a guest that prints nothing: its threads' kernel stacks and the host's compaction)
	for t in /proc/"$GUEST_PID"/task/* /proc/$(pgrep -f 'name memvm' | head -n 1)/task/*; do
		[ -d "$t" ] && { echo "$t $(cat "$t/comm") $(cat "$t/stat" | cut -d' ' -f3)"; cat "$t/stack"; } >>"$LOG" 2>&1
	done
	grep -E 'compact|thp_fault|pgfault' /proc/vmstat >>"$LOG"
	cat /sys/kernel/mm/transparent_hugepage/defrag /proc/meminfo >>"$LOG" 2>&1
	guest_kill
	not_ok "guest never counted [$(guest_tail)]"
	finish
fi
huge=$(stat_val memvm ram_huge_kib)
rss=$(stat_val memvm ram_rss_kib)
pid=$(stat_val memvm pid)
smaps_huge=$(awk '$1 == "AnonHugePages:" { s += $2 } END { print s + 0 }' "/proc/$pid/smaps")
diag "guest RAM: ${rss} KiB resident, ${huge} KiB in huge pages (smaps of the whole process: ${smaps_huge} KiB)"
check "lkvm stat names the backing (ram=$(stat_val memvm ram))" [ "$(stat_val memvm ram)" = anon ]
case $thp in
*"[never]"*) ok "THP is off on this host: huge pages not expected (skipped)" ;;
*) check "huge pages back the guest's RAM on a stock host (${huge:-?} KiB)" [ "${huge:-0}" -ge 2048 ] ;;
esac
check "lkvm stat agrees with the process's smaps (${huge} <= ${smaps_huge} KiB)" [ "${huge:-1}" -le "${smaps_huge:-0}" ]
check "RAM is not pre-faulted (${rss} KiB resident of 262144)" [ "${rss:-999999}" -lt 235000 ]
check "stat --json carries the RAM figures" sh -c "'$LKVM' stat --name memvm --json | grep -q '\"ram_huge_kib\":[0-9]'"

# ---- 2. save to a file: a sparse version-2 image, restored by mapping --------------------------------------------
SNAP=$WORK/mem.snap
"$LKVM" save --name memvm --stop "$SNAP" >>"$LOG" 2>&1
guest_wait
stopped_at "$OUT"
alloc=$(du -k "$SNAP" | cut -f1)
size=$(wc -c <"$SNAP")
diag "snapshot: $size bytes long, $alloc KiB allocated; guest RAM resident before the save: $rss KiB"
check "the file is sparse: $alloc KiB allocated <= 1.1 x resident RAM ($rss KiB)" [ $((alloc * 10)) -le $((rss * 11)) ]
check "the file covers the whole 256 MiB image ($size bytes)" [ "$size" -gt 268435456 ]
"$LKVM" restore --info "$SNAP" >"$WORK/info.out" 2>&1
cat "$WORK/info.out" >>"$LOG"
check "restore --info: version 2 with a mapped image, every chunk CRC checked" \
	sh -c "grep -q 'format 2' '$WORK/info.out' && grep -q 'chunk CRCs ok' '$WORK/info.out'"
t0=$(now_cs)
guest_start mem-map 120 restore "$SNAP"
while ! "$LKVM" stat --name memvm >/dev/null 2>&1 && kill -0 "$GUEST_PID" 2>/dev/null; do sleep 0.05; done
diag "restore to running (mapped, 256 MiB): $(cs_fmt $(($(now_cs) - t0))) s"
continued "mapped restore" "$prev"
check "the restored VM runs from the snapshot mapping (ram=$(stat_val memvm ram))" [ "$(stat_val memvm ram)" = snapshot ]

# save the mapped VM again, this time compressed (version 1, still restorable), then through a pipe
"$LKVM" save --name memvm --stop --compressed "$WORK/mem-v1.snap" >>"$LOG" 2>&1
guest_wait
stopped_at "$OUT"
check "save --compressed writes a version-1 file" sh -c "'$LKVM' restore --info '$WORK/mem-v1.snap' | grep -q 'format 1'"
guest_start mem-v1 120 restore "$WORK/mem-v1.snap"
continued "version-1 (compressed) restore" "$prev"
"$LKVM" save --name memvm --stop "$SNAP" >>"$LOG" 2>&1
guest_wait
stopped_at "$OUT"
log "cat SNAP | lkvm restore -"
: >"$WORK/mem-pipe.out"
(cat "$SNAP" | timeout 120 "$LKVM" restore - >"$WORK/mem-pipe.out" 2>"$WORK/mem-pipe.err") &
PPID_=$!
OUT=$WORK/mem-pipe.out
continued "version-2 file read through a pipe" "$prev"
"$LKVM" save --name memvm --stop "$SNAP" >>"$LOG" 2>&1
wait "$PPID_"
sed 's/^/pipe: /' "$WORK/mem-pipe.out" "$WORK/mem-pipe.err" >>"$LOG"
stopped_at "$WORK/mem-pipe.out"
log "lkvm restore - < SNAP"
(timeout 120 "$LKVM" restore - <"$SNAP" >"$WORK/mem-stdin.out" 2>"$WORK/mem-stdin.err") &
PPID_=$!
OUT=$WORK/mem-stdin.out
continued "restore - with the file on stdin" "$prev"
check "... mapped from stdin (ram=$(stat_val memvm ram))" [ "$(stat_val memvm ram)" = snapshot ]
"$LKVM" save --name memvm --stop "$SNAP" >>"$LOG" 2>&1
wait "$PPID_"
sed 's/^/stdin: /' "$WORK/mem-stdin.out" "$WORK/mem-stdin.err" >>"$LOG"
stopped_at "$WORK/mem-stdin.out"
guest_start mem-verify 120 restore --verify "$SNAP"
continued "restore --verify (CRCs read first), then mapped" "$prev"
"$LKVM" save --name memvm --stop "$SNAP" >>"$LOG" 2>&1
guest_wait

# ---- 3. truncated and corrupt images -----------------------------------------------------------------------------
img=$(sed -n 's/^ram image: .* at byte \([0-9]*\),.*/\1/p' "$WORK/info.out")
dd if="$SNAP" of="$WORK/cut.snap" bs=1M count=$((img / 1048576 + 3)) 2>>"$LOG"
refused cut "a file cut 3 MiB into its RAM image" "$LKVM" restore "$WORK/cut.snap"
check "... and the reason is named" grep -q truncated "$WORK/cut.err"
refused cutinfo "restore --info of the cut file" "$LKVM" restore --info "$WORK/cut.snap"
# one flipped byte inside the kernel's text (guest RAM offset 1 MiB + 100): only a CRC can tell
off=$((img + 1048676))
b=$(dd if="$SNAP" bs=1 skip="$off" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
printf "\\$(printf '%03o' $(((b ^ 0x55) & 255)))" | dd of="$SNAP" bs=1 seek="$off" conv=notrunc 2>/dev/null
refused flipv "restore --verify of a flipped RAM byte" "$LKVM" restore --verify "$SNAP"
check "... named as a failed chunk CRC" grep -q "chunk 0 .* CRC" "$WORK/flipv.err"
refused flipi "restore --info of a flipped RAM byte" "$LKVM" restore --info "$SNAP"
rm -f "$SNAP" "$WORK/cut.snap" "$WORK/mem-v1.snap"

# ---- 4. 1 GiB: restore does not grow with RAM size; pages come in lazily -----------------------------------------
guest_start big-src 120 run -c 1 -m 1024 --name bigvm -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=counter"
if wait_for "$OUT" "COUNT 3 " 100; then
	brss=$(stat_val bigvm ram_rss_kib)
	"$LKVM" save --name bigvm --stop "$WORK/big.snap" >>"$LOG" 2>&1
	guest_wait
	stopped_at "$OUT"
	balloc=$(du -k "$WORK/big.snap" | cut -f1)
	check "1 GiB guest: $balloc KiB allocated for $brss KiB resident" [ $((balloc * 10)) -le $((brss * 11)) ]
	t0=$(now_cs)
	guest_start big-map 120 restore "$WORK/big.snap"
	while ! "$LKVM" stat --name bigvm >/dev/null 2>&1 && kill -0 "$GUEST_PID" 2>/dev/null; do sleep 0.05; done
	diag "restore to running (mapped, 1 GiB): $(cs_fmt $(($(now_cs) - t0))) s"
	r0=$(stat_val bigvm ram_rss_kib)
	continued "1 GiB mapped restore" "$prev"
	check "pages fault in lazily: ${r0} KiB resident right after the restore, of $balloc KiB saved" \
		[ "${r0:-999999}" -lt "$balloc" ]
	"$LKVM" stop --name bigvm >>"$LOG" 2>&1
	guest_wait
else
	guest_kill
	not_ok "1 GiB guest never counted [$(guest_tail)]"
fi
rm -f "$WORK/big.snap"

# ---- 5. --hugetlbfs ----------------------------------------------------------------------------------------------
refused hnot "--hugetlbfs on a directory that is not hugetlbfs" \
	"$LKVM" run -m 128 --hugetlbfs "$WORK" -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet
check "... named as such" grep -q "not a hugetlbfs mount" "$WORK/hnot.err"
if grep -qw hugetlbfs /proc/filesystems && [ -w /proc/sys/vm/nr_hugepages ]; then
	mkdir -p "$WORK/huge"
	mount -t hugetlbfs none "$WORK/huge"
	echo 0 >/proc/sys/vm/nr_hugepages
	refused hfew "--hugetlbfs with too few huge pages" \
		"$LKVM" run -m 128 --hugetlbfs "$WORK/huge" -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet
	check "... says how many are free" grep -q "only 0 are free" "$WORK/hfew.err"
	echo 72 >/proc/sys/vm/nr_hugepages
	free0=$(sed -n 's/^HugePages_Free: *//p' /proc/meminfo)
	guest_start huge 120 run -c 1 -m 128 --hugetlbfs "$WORK/huge" --name hugevm -k "$L2_KERNEL" -i "$L2_INITRD" \
		-p "quiet l2.run=counter"
	if wait_for "$OUT" "COUNT 2 " 100; then
		ok "a guest boots on hugetlbfs RAM (nr_hugepages was $free0 free)"
		check "lkvm stat: ram=hugetlbfs" [ "$(stat_val hugevm ram)" = hugetlbfs ]
		h=$(stat_val hugevm ram_huge_kib)
		check "guest RAM is in huge pages (${h} KiB)" [ "${h:-0}" -ge 2048 ]
		check "the pages come from the pool ($(sed -n 's/^HugePages_Rsvd: *//p' /proc/meminfo) reserved)" \
			[ "$(sed -n 's/^HugePages_Free: *//p' /proc/meminfo)" -lt "$free0" ]
		"$LKVM" save --name hugevm --stop "$WORK/huge.snap" >>"$LOG" 2>&1
		guest_wait
		stopped_at "$OUT"
		guest_start huge-r 120 restore "$WORK/huge.snap"
		continued "a hugetlbfs guest restores (mapped)" "$prev"
		"$LKVM" stop --name hugevm >>"$LOG" 2>&1
		guest_wait
	else
		guest_kill
		not_ok "no guest on hugetlbfs RAM ($(head -c 150 "$ERR"))"
	fi
	rm -f "$WORK/huge.snap"

	# ---- 6. migrate --local: guest RAM handed over by descriptor, not copied --------------------------------
	guest_start hugeloc 300 run -c 1 -m 128 --hugetlbfs "$WORK/huge" --name locvm -k "$L2_KERNEL" -i "$L2_INITRD" \
		-p "quiet l2.run=counter"
	if wait_for "$OUT" "COUNT 3 " 100; then
		refused ltcp "migrate --local to a tcp: address" "$LKVM" migrate --name locvm --local tcp:127.0.0.1:4470
		free1=$(huge_free)
		dst_start loc1 "$WORK/loc1.sock"
		"$LKVM" migrate --name locvm --local "unix:$WORK/loc1.sock" >"$WORK/loc1.txt" 2>&1
		rc=$?
		log "migrate --local: rc $rc: $(cat "$WORK/loc1.txt")"
		diag "migrate --local: $(tail -n 1 "$WORK/loc1.txt"); destination: $(sed -n 's/.*Info: migration: //p' "$WORK/loc1.err")"
		check "migrate --local: exit $rc: $(tail -n 1 "$WORK/loc1.txt")" \
			sh -c "[ $rc = 0 ] && grep -q 'handed over by descriptor, 0.0 MiB sent' '$WORK/loc1.txt'"
		guest_wait
		check "the source exited 0 after the move ($(rc_text "$RC"))" [ "$RC" = 0 ]
		moved_on "--local" "$WORK/loc1.out" "$(count_last "$OUT")"
		check "no second copy of guest RAM: free huge pages $(huge_free) >= $free1 before the move" \
			[ "$(huge_free)" -ge "$free1" ]
		check "lkvm stat: the moved VM runs on the same hugetlbfs RAM (ram=$(stat_val locvm ram))" \
			[ "$(stat_val locvm ram)" = hugetlbfs ]
		# and on to an ordinary destination, copying RAM this time: every page the guest wrote must go along,
		# though this process never faulted them in itself
		dst_start loc2 "$WORK/loc2.sock"
		"$LKVM" migrate --name locvm "unix:$WORK/loc2.sock" >"$WORK/loc2.txt" 2>&1
		rc=$?
		log "migrate from the --local destination: rc $rc: $(cat "$WORK/loc2.txt")"
		diag "copying move from the --local destination: $(tail -n 1 "$WORK/loc2.txt"); destination: $(sed -n 's/.*Info: migration: //p' "$WORK/loc2.err")"
		check "then a copying move from the --local destination: exit $rc" [ "$rc" = 0 ]
		check "... the --local destination exited 0 ($(dst_wait loc1))" [ "$(dst_wait loc1)" = 0 ]
		moved_on "the copying move after it" "$WORK/loc2.out" "$(count_last "$WORK/loc1.out")"
		check "the huge pages are free again ($(huge_free) of 72)" [ "$(huge_free)" = 72 ]
		# --local from a VM whose RAM cannot be shared: one line, and the VM keeps running
		n2=$(count_last "$WORK/loc2.out")
		dst_start loc3 "$WORK/loc3.sock"
		"$LKVM" migrate --name locvm --local "unix:$WORK/loc3.sock" >"$WORK/loc3.txt" 2>&1
		rc=$?
		log "--local from anonymous RAM: rc $rc: $(cat "$WORK/loc3.txt")"
		check "--local from a VM without hugetlbfs RAM: refused in one line ($(head -c 160 "$WORK/loc3.txt"))" \
			sh -c "[ $rc != 0 ] && [ \"\$(grep -c . '$WORK/loc3.txt')\" = 1 ] && grep -q -- '--hugetlbfs' '$WORK/loc3.txt'"
		check "... and it keeps counting (past $n2)" wait_for "$WORK/loc2.out" "COUNT $((n2 + 3)) " 30
		check "... the would-be destination exited 1 without running a guest ($(dst_wait loc3))" \
			sh -c "[ '$(dst_wait loc3)' = 1 ] && ! grep -q COUNT '$WORK/loc3.out'"
		"$LKVM" stop --name locvm >>"$LOG" 2>&1
		check "the VM stopped cleanly at its third home ($(dst_wait loc2))" [ "$(dst_wait loc2)" = 0 ]
	else
		guest_kill
		not_ok "no guest on hugetlbfs RAM for migrate --local ($(head -c 150 "$ERR"))"
	fi
	umount "$WORK/huge"
	echo 0 >/proc/sys/vm/nr_hugepages
else
	ok "this host has no hugetlbfs: --hugetlbfs boot skipped"
fi
finish

# 46-dirtylog-trace.sh - why the dirty log misses pages here: L1's KVM traced (kvm_guest_fault, the MMU notifier
# events) while 39-migrate-early moves guests (DLT_N moves, default 12, --recheck always, for each THP setting in
# DLT_VARIANTS, default "always"), a trace marker at each move's start and end; then, for each page a move resent
# for want of a log entry, the faults KVM took in its 2 MiB block during that move (ESR: FSC, WnR, S1PTW), and per
# move a histogram of the fault ESRs. docs/migration.md, "The cause", is what it showed.
# manual: a diagnosis, not a test (run-l1.sh --scenarios dirtylog-trace)
# timeout: 2400
. "$(dirname "$0")/lib.sh"
TR=/sys/kernel/tracing
mountpoint -q $TR || mount -t tracefs nodev $TR 2>>"$LOG" || mount -t debugfs nodev /sys/kernel/debug 2>>"$LOG"
[ -d $TR/events ] || TR=/sys/kernel/debug/tracing
diag "kvm events: $(ls $TR/events/kvm 2>&1 | tr '\n' ' ')"
echo 0 >$TR/tracing_on
echo 16384 >$TR/buffer_size_kb
echo >$TR/trace
for e in kvm_guest_fault kvm_unmap_hva_range kvm_set_spte_hva kvm_access_fault kvm_age_hva; do
	[ -e $TR/events/kvm/$e/enable ] && echo 1 >$TR/events/kvm/$e/enable
done
diag "format: $(grep print $TR/events/kvm/kvm_guest_fault/format)"
THP_WAS=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled)
cat $TR/trace_pipe >"$WORK/trace.txt" &
TP=$!
echo 1 >$TR/tracing_on
for v in ${DLT_VARIANTS:-always}; do
	echo $v >/sys/kernel/mm/transparent_hugepage/enabled
	W=$WORK/m-$v; mkdir -p $W
	WORK=$W LKVM_MODE=migrate-repro MIGRATE_EARLY_N=${DLT_N:-12} MIGRATE_EARLY_RECHECK=always MIGRATE_EARLY_MARK=$TR/trace_marker \
		sh "$(dirname "$0")/39-migrate-early.sh" >$W/out 2>&1
	n=0
	for f in $W/early-*.txt; do grep -q 'sent again' $f && n=$((n + 1)); done
	diag "THP $v: $n of ${DLT_N:-12} moves lost entries: $(grep -ho '([0-9]* pages changed' $W/early-*.txt | tr '\n' ' ')"
done
echo 0 >$TR/tracing_on
echo "$THP_WAS" >/sys/kernel/mm/transparent_hugepage/enabled
sleep 1; kill $TP
diag "trace: $(wc -l <"$WORK/trace.txt") lines, $(grep -c kvm_guest_fault "$WORK/trace.txt") faults; lost: $(cat $TR/per_cpu/cpu*/stats 2>/dev/null | grep -i overrun | tr '\n' ' ')"
head -n 3 "$WORK/trace.txt" | while read -r l; do diag "t: $l"; done
grep -m 3 kvm_guest_fault "$WORK/trace.txt" | while read -r l; do diag "t: $l"; done
# for each lost page: the faults in its 2 MiB block during that move
for v in ${DLT_VARIANTS:-always}; do
for u in $WORK/m-$v/early-*.unlogged; do
	[ -s "$u" ] || continue
	i=${u##*early-}; i=${i%.unlogged}
	grep -o 'gpa=0x[0-9a-f]*' "$u" | head -n 6 | while read -r g; do
		g=${g#gpa=}
		awk -v mv="$i" -v g="$g" -v tag="$v move $i" '
		function hex(s,  n, c, k) { n = 0; s = tolower(s); sub(/^0x/, "", s); for (k = 1; k <= length(s); k++) { c = index("0123456789abcdef", substr(s, k, 1)) - 1; n = n * 16 + c } return n }
		BEGIN { G = hex(g); B = int(G / 2097152); P = int(G / 4096) }
		/lkvm-move/ { if ($0 ~ ("lkvm-move " mv " start")) on = 1; else if ($0 ~ ("lkvm-move " mv " end")) on = 0; next }
		on && /kvm_guest_fault/ {
			ipa = ""; esr = ""
			for (k = 1; k <= NF; k++) { if ($k == "ipa") ipa = $(k + 1); if ($k == "esr" || $k == "hsr") esr = $(k + 1) }
			gsub(/,/, "", ipa); gsub(/,/, "", esr)
			a = hex(ipa); if (int(a / 2097152) != B) next
			e = hex(esr); fsc = e % 64; wnr = int(e / 64) % 2; s1 = int(e / 128) % 2
			t = $0; sub(/:.*/, "", t); n = split(t, tt, " "); ts = tt[n]
			nb++; if (int(a / 4096) == P) { np++; mark = "*" } else mark = " "
			if (nb <= 40 || mark == "*") printf "%s %s %s %s ipa=%s esr=%s fsc=%d wnr=%d s1ptw=%d\n", tag, mark, tt[1], ts, ipa, esr, fsc, wnr, s1
		}
		/kvm_unmap_hva_range|kvm_set_spte_hva/ && on { nu++ }
		END { printf "%s gpa=%s: %d faults in its 2 MiB block, %d on the page; %d mmu-notifier events (any range)\n", tag, g, nb, np, nu }' "$WORK/trace.txt"
	done
done
done >"$WORK/corr.txt"
for i in $(seq 1 ${DLT_N:-12}); do
	awk -v mv="$i" '/lkvm-move/ { if ($0 ~ ("lkvm-move " mv " start")) on = 1; else if ($0 ~ ("lkvm-move " mv " end")) on = 0; next }
		on && /kvm_guest_fault/ { for (k = 1; k <= NF; k++) if ($k == "hsr") e = $(k + 1); gsub(/,/, "", e); c[e]++ }
		END { for (e in c) printf "%s:%d ", e, c[e]; print "" }' "$WORK/trace.txt" | sed "s/^/move $i fault ESRs: /" >>"$WORK/corr.txt"
done
while read -r l; do diag "$l"; done <"$WORK/corr.txt"
grep -h 'gpa=' $WORK/m-*/early-*.unlogged | head -n 12 | while read -r l; do diag "u: $l"; done
check "the trace holds KVM's guest faults from the moves" [ "$(grep -c kvm_guest_fault "$WORK/trace.txt")" -gt 0 ]
for v in ${DLT_VARIANTS:-always}; do
	check "THP $v: the moves ran (39-migrate-early: $(grep -c '^ok' $WORK/m-$v/out) ok, $(grep -c '^not ok' $WORK/m-$v/out) not ok)" \
		sh -c "! grep -q '^not ok' '$WORK/m-$v/out'"
done
finish

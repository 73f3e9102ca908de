# 22-pvtime-probe.sh - bare-metal PV-time probe (guest/pvtime-probe.c) on 1 and 2 vCPUs, pvtime on and off.
# timeout: 200
. "$(dirname "$0")/lib.sh"

PROBE=$TOOLS/pvtime-probe.bin
if [ ! -f "$PROBE" ]; then
	not_ok "probe payload $PROBE missing (make guest)"
	finish
fi

for n in 1 2; do
	lkvm_run probe-on-$n 60 run --pvtime -c $n -m 64 -k "$PROBE"
	check "pvtime on, $n vCPU(s): probe ran and powered off (exit 0: $(rc_text "$RC"))" [ "$RC" = 0 ]
	want=$((8 * n))
	check "pvtime on, $n vCPU(s): PROBE DONE pass=$want fail=0" has "$OUT" "PROBE DONE pass=$want fail=0"
	i=0
	while [ $i -lt $n ]; do
		check "pvtime on, cpu$i: PV_TIME_ST matches the DT record" grep -q "^PASS cpu$i: pv_time_st" "$OUT"
		check "pvtime on, cpu$i: stolen time non-decreasing" grep -q "^PASS cpu$i: stolen_time non-decreasing" "$OUT"
		i=$((i + 1))
	done
	if grep -q '^FAIL' "$OUT"; then not_ok "FAIL lines: $(grep '^FAIL' "$OUT" | head -n 3 | tr '\n' ';')"; fi
done

for n in 1 2; do
	lkvm_run probe-off-$n 60 run --pvtime=off -c $n -m 64 -k "$PROBE"
	check "pvtime off, $n vCPU(s): probe ran (exit 0: $(rc_text "$RC"))" [ "$RC" = 0 ]
	check "pvtime off, $n vCPU(s): PV_TIME_FEATURES says NOT_SUPPORTED on every vCPU" \
		[ "$(grep -c '^PVTIME NOT_SUPPORTED cpu' "$OUT")" -eq $n ]
	check "pvtime off, $n vCPU(s): PROBE DONE with fail=0" grep -q "^PROBE DONE pass=[0-9]* fail=0" "$OUT"
done
# The same payload without its Image magic: loaded by kvmtool's raw-binary convention (RAM base + 0x80000).
RAW=$WORK/probe-raw.bin
cp "$PROBE" "$RAW"
printf '\000\000\000\000' | dd of="$RAW" bs=1 seek=56 conv=notrunc 2>/dev/null
lkvm_run probe-raw 60 run --pvtime -c 1 -m 64 -k "$RAW"
check "raw binary: probe ran (exit 0: $(rc_text "$RC"))" [ "$RC" = 0 ]
check "raw binary: announced by exactly one notice line" [ "$(grep -c 'raw binary' "$ERR")" -eq 1 ]
check "raw binary: PROBE DONE pass=8 fail=0" has "$OUT" "PROBE DONE pass=8 fail=0"
finish

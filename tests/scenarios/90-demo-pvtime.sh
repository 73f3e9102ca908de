# 90-demo-pvtime.sh - the demo: a verbose 2-vCPU boot with --pvtime, a host busy loop beside vCPU 0, lkvm stat --steal.
# timeout: 200
. "$(dirname "$0")/lib.sh"

guest_start demo 150 run --pvtime -c 2 -m 256 --name demo -k "$L2_KERNEL" -i "$L2_INITRD" -p "l2.run=demo"
if ! wait_for "$OUT" DEMO-READY 120; then
	guest_kill
	not_ok "demo guest never got ready ($(rc_text "$RC")) [$(guest_tail)]"
	finish
fi
pid=$("$LKVM" stat --name demo | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
for t in /proc/"$pid"/task/*; do
	[ "$(cat "$t/comm" 2>/dev/null)" = lkvm-vcpu-0 ] && tid=$(basename "$t")
done
taskset -p -c 1 "$tid" >/dev/null 2>&1
taskset -c 1 sh -c 'while :; do :; done' &
hog=$!
echo "# host: vCPU 0 (thread $tid) pinned to L1 CPU 1 beside a busy loop"
wait_for "$OUT" DEMO-DONE 60
echo "# host: lkvm stat --name demo --steal"
"$LKVM" stat --name demo --steal | tee "$WORK/demo.stat" | sed 's/^/#   /'
kill "$hog"
guest_wait
check "demo guest booted with PV stolen time (arm-pv in the guest log)" has "$OUT" "arm-pv: using stolen time PV"
s0=$(awk '$1 == "0" {print $2}' "$WORK/demo.stat")
check "host read vCPU 0's stolen time: ${s0:-none} ns > 0" [ "${s0:-0}" -gt 0 ]
check "demo guest powered off, lkvm exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
finish

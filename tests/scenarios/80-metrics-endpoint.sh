# 80-metrics-endpoint.sh - lkvm run --metrics: one endpoint serves OpenMetrics (busybox wget) and the Prometheus
# 0.0.4 text (mscrape, Accept), both checked by Prometheus's own promtool on the test machine; the figures are true
# (a 64 MiB direct read of the disk raises the blk read bytes by 64 MiB within 1 %, 9p requests and errors, pause
# shows as paused, KVM's exit counts); other paths and methods are refused; the metrics thread is sandboxed;
# bad --metrics values and a taken port fail in one line before any guest starts.
# timeout: 480
. "$(dirname "$0")/lib.sh"

MS=$TOOLS/mscrape
PORT=19464
URL=http://127.0.0.1:$PORT/metrics
D=$WORK/m80.img
S=$WORK/m80share
rm -rf "$S"
mkdir -p "$S"
echo hello >"$S/file"
dd if=/dev/zero of="$D" bs=1048576 count=72 2>/dev/null

# val FILE NAME LABEL-FRAGMENT...: the value of the first sample of NAME whose labels hold every fragment
val() {
	_f=$1 _n=$2
	shift 2
	awk -v n="$_n" -v a="${1:-}" -v b="${2:-}" -v c="${3:-}" '
		(index($0, n "{") == 1 || $1 == n) && (a == "" || index($0, a)) && (b == "" || index($0, b)) &&
		(c == "" || index($0, c)) { print $NF; exit }' "$_f"
}
# samples FILE: sample lines (not comments)
samples() { grep -vc '^#' "$1"; }

guest_start m80 400 run -c 2 -m 256 --name m80 -d "$D" --9p "$S,share" --metrics "tcp:$PORT" \
	-k "$L2_KERNEL" -i "$L2_INITRD" -p quiet
if ! wait_for "$OUT" "l2# " 150; then
	guest_kill
	not_ok "no guest shell ($(rc_text "$RC"))"
	finish
fi
G_OUT=$OUT G_ERR=$ERR # the guest's console and stderr (lkvm_run below sets OUT and ERR for its own runs)

# --- the two formats, through two clients, checked by promtool ---
wget -q -O "$WORK/om.txt" "$URL" 2>>"$LOG"
check "busybox wget scrapes $URL (OpenMetrics by default)" sh -c "[ -s '$WORK/om.txt' ] && [ \"\$(tail -n 1 '$WORK/om.txt')\" = '# EOF' ]"
"$MS" -a 'text/plain;version=0.0.4' "tcp:127.0.0.1:$PORT" >"$WORK/prom.txt" 2>"$WORK/prom.hdr"
cat "$WORK/prom.hdr" >>"$LOG"
check "Accept: text/plain;version=0.0.4 gives the 0.0.4 format" \
	sh -c "grep -q 'Content-Type: text/plain; version=0.0.4' '$WORK/prom.hdr' && ! grep -q '^# EOF' '$WORK/prom.txt' && ! grep -q '^# UNIT' '$WORK/prom.txt'"
"$MS" "tcp:127.0.0.1:$PORT" >/dev/null 2>"$WORK/om.hdr"
check "no Accept: application/openmetrics-text; version=1.0.0" has "$WORK/om.hdr" "Content-Type: application/openmetrics-text; version=1.0.0"
log "OpenMetrics scrape: $(wc -c <"$WORK/om.txt") bytes, $(samples "$WORK/om.txt") samples"
cat "$WORK/om.txt" >>"$LOG"

host_tool promtool "$WORK/prom.txt" "$WORK/prom.check"
rc=$?
cat "$WORK/prom.check" >>"$LOG"
check "promtool check metrics: the 0.0.4 scrape has no problem (status $rc, $(wc -l <"$WORK/prom.check") lines)" \
	sh -c "[ $rc = 0 ] && [ ! -s '$WORK/prom.check' ]"
host_tool promtool-om "$WORK/om.txt" "$WORK/om.check"
rc=$?
cat "$WORK/om.check" >>"$LOG"
series=$(awk 'NR == 2 { print $7 }' "$WORK/om.check")
check "Prometheus's OpenMetrics parser reads the scrape (status $rc): $series series of $(samples "$WORK/om.txt") samples, none twice" \
	sh -c "[ $rc = 0 ] && [ '$series' = $(samples "$WORK/om.txt") ]"
# promtool check metrics parses the 0.0.4 format only: an OpenMetrics counter's _total sample looks to it like a
# family without HELP (its HELP is on the family name, as OpenMetrics has it). Anything else it says is a problem.
host_tool promtool "$WORK/om.txt" "$WORK/omlint.check"
rc=$?
cat "$WORK/omlint.check" >>"$LOG"
: >"$WORK/omlint.rest"
while read -r name what; do
	[ -z "$name" ] && continue
	b=${name%_total}
	if [ "$what" = "no help text" ] && [ "$b" != "$name" ] && grep -q "^# TYPE $b counter\$" "$WORK/om.txt" &&
		grep -q "^# HELP $b " "$WORK/om.txt"; then
		continue
	fi
	echo "$name $what" >>"$WORK/omlint.rest"
done <"$WORK/omlint.check"
check "promtool check metrics on the OpenMetrics scrape: nothing but OpenMetrics' counter naming ($(head -n 1 "$WORK/omlint.rest"))" \
	sh -c "[ $rc = 0 ] || [ $rc = 3 ]; [ ! -s '$WORK/omlint.rest' ]"

# --- contents ---
O=$WORK/om.txt
check "HELP, TYPE and UNIT of the steal counter" sh -c "grep -q '^# HELP lkvm_vcpu_steal_seconds ' '$O' && grep -q '^# TYPE lkvm_vcpu_steal_seconds counter' '$O' && grep -q '^# UNIT lkvm_vcpu_steal_seconds seconds' '$O'"
check "steal of both vCPUs" sh -c "grep -q '^lkvm_vcpu_steal_seconds_total{vm=\"m80\",vcpu=\"0\"} ' '$O' && grep -q '^lkvm_vcpu_steal_seconds_total{vm=\"m80\",vcpu=\"1\"} ' '$O'"
check "run delay, CPU and guest time of vCPU 1" sh -c "grep -q '^lkvm_vcpu_run_delay_seconds_total{vm=\"m80\",vcpu=\"1\"}' '$O' && grep -q '^lkvm_vcpu_cpu_seconds_total{vm=\"m80\",vcpu=\"1\"}' '$O' && grep -q '^lkvm_vcpu_guest_seconds_total{vm=\"m80\",vcpu=\"1\"}' '$O'"
wfi=$(val "$O" lkvm_vcpu_exits_total 'vcpu="0"' 'reason="wfi"')
hvc=$(val "$O" lkvm_vcpu_exits_total 'vcpu="0"' 'reason="hypercall"')
mmio=$(val "$O" lkvm_vcpu_exits_total 'vcpu="0"' 'reason="mmio"')
check "exits counted by KVM: wfi $wfi, hypercall $hvc, mmio $mmio (all > 0)" sh -c "[ ${wfi:-0} -gt 0 ] && [ ${hvc:-0} -gt 0 ] && [ ${mmio:-0} -gt 0 ]"
um=$(val "$O" lkvm_vcpu_userspace_exits_total 'vcpu="0"' 'reason="mmio"')
check "exits that came to lkvm: mmio $um (<= KVM's $mmio)" sh -c "[ ${um:-0} -gt 0 ] && [ ${um:-0} -le ${mmio:-0} ]"
check "state running" grep -q '^lkvm_vm_state{vm="m80",state="running"} 1$' "$O"
check "build info" grep -q '^lkvm_build_info{version="[^"]*",arch="arm64",compiler="[^"]*"} 1$' "$O"
st=$(val "$O" lkvm_process_start_time_seconds 'vm="m80"')
now=$(date +%s)
check "process start time ${st%.*} within 10 minutes of now $now" sh -c "[ \$(( $now - ${st%.*} )) -ge 0 ] && [ \$(( $now - ${st%.*} )) -le 600 ]"
rss=$(val "$O" lkvm_guest_ram_resident_bytes 'vm="m80"')
check "guest RAM resident ${rss:-?} bytes, of 256 MiB" sh -c "[ ${rss:-0} -gt 1048576 ] && [ ${rss:-0} -le 268435456 ]"
check "RAM backing" grep -q '^lkvm_guest_ram_backing_info{vm="m80",backing="[a-z]*"} 1$' "$O"
check "devices: blk0 and 9p0 with their transport" sh -c "grep -q '^lkvm_virtio_device_info{vm=\"m80\",device=\"blk0\",type=\"blk\",transport=\"pci\"} 1' '$O' && grep -q '^lkvm_virtio_device_info{vm=\"m80\",device=\"9p0\",type=\"9p\",transport=\"pci\",tag=\"share\"} 1' '$O'"

# --- values are true: 64 MiB read by the guest, 9p requests and an error ---
r0=$(val "$O" lkvm_blk_bytes_total 'device="blk0"' 'op="read"')
n0=$(val "$O" lkvm_virtio_queue_notifications_total 'device="blk0"')
i0=$(val "$O" lkvm_virtio_queue_interrupts_total 'device="blk0"')
guest_send 'dd if=/dev/vda of=/dev/null bs=1M count=64 iflag=direct 2>/dev/null; echo DD-$((60+4))-DONE'
wait_for "$OUT" DD-64-DONE 200
guest_send 'mkdir -p /mnt; mount -t 9p share /mnt -o trans=virtio,version=9p2000.L && cat /mnt/file && cat /mnt/missing; echo P9-$((9))-DONE'
wait_for "$OUT" P9-9-DONE 60
wget -q -O "$WORK/om2.txt" "$URL" 2>>"$LOG"
r1=$(val "$WORK/om2.txt" lkvm_blk_bytes_total 'device="blk0"' 'op="read"')
n1=$(val "$WORK/om2.txt" lkvm_virtio_queue_notifications_total 'device="blk0"')
i1=$(val "$WORK/om2.txt" lkvm_virtio_queue_interrupts_total 'device="blk0"')
d=$((${r1:-0} - ${r0:-0}))
want=67108864
diff=$((d > want ? d - want : want - d))
check "blk read bytes rose by $d for a 64 MiB dd ($((diff * 1000 / want)) per mille off; within 1 %)" [ $((diff * 100)) -le $want ]
# 64 synchronous 1 MiB reads: the device may pick a request up while it still
# runs with notifications suppressed (EVENT_IDX), so neither count need reach 64;
# a quarter of them is what any working accounting shows (one check run saw 51/64).
check "blk queue: notifications ${n0:-?} -> ${n1:-?}, interrupts ${i0:-?} -> ${i1:-?} (both rose by >= 16)" \
	sh -c "[ $((${n1:-0} - ${n0:-0})) -ge 16 ] && [ $((${i1:-0} - ${i0:-0})) -ge 16 ]"
check "blk read requests counted" sh -c "[ $(val "$WORK/om2.txt" lkvm_blk_requests_total 'device="blk0"' 'op="read"') -ge 64 ]"
p9=$(val "$WORK/om2.txt" lkvm_9p_requests_total 'device="9p0"')
p9e=$(val "$WORK/om2.txt" lkvm_9p_errors_total 'device="9p0"')
check "9p: ${p9:-?} requests, ${p9e:-?} errors (the missing file)" sh -c "[ ${p9:-0} -ge 5 ] && [ ${p9e:-0} -ge 1 ]"

# --- refusals, pause, sandbox ---
"$MS" -p / "tcp:127.0.0.1:$PORT" >/dev/null 2>"$WORK/404.hdr"
check "GET / is 404" has "$WORK/404.hdr" "status 404"
printf 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n' | nc 127.0.0.1 $PORT >"$WORK/405.txt" 2>>"$LOG"
check "POST is 405 with Allow: GET" sh -c "grep -q '^HTTP/1.1 405 ' '$WORK/405.txt' && grep -q '^Allow: GET' '$WORK/405.txt'"
"$LKVM" pause --name m80 >>"$LOG" 2>&1
wget -q -O "$WORK/paused.txt" "$URL" 2>>"$LOG"
"$LKVM" resume --name m80 >>"$LOG" 2>&1
check "a paused VM is scraped and shows paused" grep -q '^lkvm_vm_state{vm="m80",state="paused"} 1$' "$WORK/paused.txt"
pid=$("$LKVM" stat --name m80 2>>"$LOG" | tr ' ' '\n' | sed -n 's/^pid=//p')
msb=
for t in /proc/"$pid"/task/*; do
	[ "$(cat "$t/comm" 2>/dev/null)" = lkvm-metrics ] && msb=$(sed -n 's/^Seccomp:[[:space:]]*//p' "$t/status")
done
check "the lkvm-metrics thread runs sandboxed (Seccomp: ${msb:-none})" [ "${msb:-}" = 2 ]

# --- a taken port and bad values: one line, no guest ---
one_line() { # TAG ARGS...: lkvm run fails at once with one line naming --metrics
	_ol=$1
	shift
	lkvm_run "$_ol" 60 run -c 1 -m 128 -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet "$@"
	_l=$(grep -c '[^[:space:]]' "$ERR")
	if [ "$RC" != 0 ] && [ "$RC" -lt 124 ] && [ "$_l" = 1 ] && grep -q -- --metrics "$ERR" && ! booted "$OUT"; then
		ok "$_ol: one line: $(tr -s ' ' <"$ERR")"
	else
		not_ok "$_ol: exit $RC, $_l lines, booted: $(booted "$OUT" && echo yes || echo no)"
	fi
}
one_line port-taken --metrics "tcp:$PORT" --name m80b
one_line bad-scheme --metrics "http://127.0.0.1:$PORT"
one_line bad-port --metrics tcp:99999
one_line bad-addr --metrics tcp:example.org:9100
OUT=$G_OUT ERR=$G_ERR
wget -q -O "$WORK/om3.txt" "$URL" 2>>"$LOG"
check "the first VM still serves after the refused ones" sh -c "[ \"\$(tail -n 1 '$WORK/om3.txt')\" = '# EOF' ]"

guest_send 'umount /mnt; poweroff -f'
guest_wait
check "the guest powers off, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
check "no sandbox report" sh -c "! grep -q 'seccomp sandbox' '$ERR'"
if wget -q -O /dev/null "$URL" 2>/dev/null; then not_ok "the endpoint is gone with lkvm"; else ok "the endpoint is gone with lkvm"; fi
rm -rf "$D" "$S"
finish

# 61-net-user-move.sh - save and restore with -n mode=user: the restored lkvm starts its own passt, the guest's
# interface stays up, gets its lease again and fetches again (checksums equal).
# timeout: 420
. "$(dirname "$0")/lib.sh"

if ! command -v passt >/dev/null 2>&1; then
	ok "# SKIP passt is not installed here (Debian package passt)"
	finish
fi
SNAP=$WORK/usernet.snap
mkdir -p "$WORK/www"
dd if=/dev/urandom of="$WORK/www/blob" bs=4096 count=512 2>/dev/null
chmod -R a+rX "$WORK/www"
want=$(md5sum <"$WORK/www/blob" | cut -d' ' -f1)
httpd -p 8081 -h "$WORK/www"

guest_start mvsrc 200 run -c 1 -m 256 --name mvnet -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet -n mode=user
if ! wait_for "$OUT" "l2# " 150; then
	guest_kill
	not_ok "no guest shell ($(rc_text "$RC"); $(first_line "$ERR"); $(dmesg | grep -i -E 'segfault|lkvm|fault' | tail -n 2 | tr '\n' ' '))"
	finish
fi
guest_send "udhcpc -i eth0 -n -q -t 10 -T 3 -s /etc/l2/udhcpc.sh; wget -q -O /tmp/b1 http://10.0.2.2:8081/blob; echo F1-\$((1+1))=\$(md5sum </tmp/b1 | cut -d' ' -f1)"
check "before the save: lease and a 2 MiB fetch, checksums equal" wait_for "$OUT" "F1-2=$want" 150
src_passt=$(pidof passt)
t0=$(now_cs)
"$LKVM" save --name mvnet --stop "$SNAP" >>"$LOG" 2>&1
guest_wait
check "save with mode=user: source exited 0 ($(rc_text "$RC")), $(du -k "$SNAP" | cut -f1) KiB" [ "$RC" = 0 ]
sleep 1
check "the source's passt ($src_passt) ended with it" [ -z "$(pidof passt)" ]

guest_start mvdst 200 restore "$SNAP"
guest_send "echo UP-\$((3*3))=\$(cat /sys/class/net/eth0/operstate) \$(ip -4 addr show eth0 | grep -o 'inet [0-9./]*')"
check "restored: eth0 still up with its address" wait_for "$OUT" "UP-9=up inet 10.0.2.15" 60
t1=$(now_cs)
guest_send "udhcpc -i eth0 -n -q -t 10 -T 3 -s /etc/l2/udhcpc.sh; wget -q -O /tmp/b2 http://10.0.2.2:8081/blob; echo F2-\$((2+2))=\$(md5sum </tmp/b2 | cut -d' ' -f1)"
wait_for "$OUT" "F2-4=" 150
n=$(tr -d '\r' <"$OUT" | grep -c '^LEASE ip=10.0.2.15')
check "restored (first answer $(cs_fmt $((t1 - t0))) s after the save began): lease again and the fetch again, checksums equal" \
	sh -c "[ $n -ge 1 ] && grep -q 'F2-4=$want' '$OUT'"
check "the restored lkvm runs its own passt ($(pidof passt))" [ -n "$(pidof passt)" ]
"$LKVM" stat --name mvnet >"$WORK/mvstat" 2>&1
check "lkvm stat after the restore: $(grep -o 'net0=[^ ]*' "$WORK/mvstat")" has "$WORK/mvstat" "net0=user:up"
guest_send 'poweroff -f'
guest_wait
check "restored guest powered off, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]

kill $(pidof httpd) 2>/dev/null
finish

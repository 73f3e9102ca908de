# 07-hostile-mmio.sh - a guest touching unmapped MMIO and doing an LDP to a device: lkvm warns, keeps running, exits 0.
# timeout: 90
. "$(dirname "$0")/lib.sh"

P=$TOOLS/mmio-hostile.bin
[ -f "$P" ] || { not_ok "payload $P missing (make guest)"; finish; }
lkvm_run hostile 60 run -c 1 -m 64 -k "$P"
check "unmapped MMIO read returns 0" has "$OUT" "HOSTILE unmapped read32=0"
check "unmapped MMIO write is dropped, guest continues" has "$OUT" "HOSTILE unmapped write survived"
check "lkvm warns about the unmapped accesses" grep -q "unmapped address 0xb000000" "$ERR"
check "LDP to MMIO: lkvm reports the undecodable access" grep -q "cannot decode" "$ERR"
check "LDP to MMIO: the guest gets a data abort, not a silent death" has "$OUT" "GUEST EXCEPTION"
check "lkvm exits 0 after the guest powers off ($(rc_text "$RC"))" [ "$RC" = 0 ]
finish

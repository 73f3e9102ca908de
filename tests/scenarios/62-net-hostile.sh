# 62-net-hostile.sh - a bare-metal guest (guest/net-hostile.c) drives virtio-net (mmio, -n mode=user) with hostile
# frames: an empty chain, a header-only frame, a 70000-byte frame, a chain running 2 GiB past RAM, a flood of 300
# frames, a descriptor outside RAM. lkvm drops or refuses each with a rate-limited warning (or marks the device as
# needing reset), passt and the VM keep running, the device works again after the driver's reset.
# timeout: 240
. "$(dirname "$0")/lib.sh"

P=$TOOLS/net-hostile.bin
[ -f "$P" ] || { not_ok "payload $P missing (make guest)"; finish; }
if ! command -v passt >/dev/null 2>&1; then
	ok "# SKIP passt is not installed here (Debian package passt)"
	finish
fi
lkvm_run net-hostile 200 run -c 1 -m 64 --virtio-transport mmio -n mode=user -k "$P"
check "the payload found virtio-net and brought it up (DRIVER_OK)" has "$OUT" "status=0xf"
check "an empty chain: returned to the guest, device still fine" has "$OUT" "zero-length: returned=1 status=0xf"
check "a header-only (zero-length) frame: returned, device still fine" has "$OUT" "header-only: returned=1 status=0xf"
check "a 70000-byte frame: returned, device still fine" has "$OUT" "oversized: returned=1 status=0xf"
check "dropped frames are reported (rate-limited): $(grep -c 'packet (13\.\.' "$ERR") line(s)" grep -q "packet (13\.\." "$ERR"
check "a chain running past RAM: the device needs a reset (status 0x4f), not a crash" \
	has "$OUT" "huge-chain: returned=0 status=0x4f"
check "a valid frame after the driver's reset goes out" has "$OUT" "valid: returned=1 status=0xf"
check "a flood of 300 frames: all returned ($(grep -o 'flood: [0-9]* of 300' "$OUT"))" has "$OUT" "flood: 300 of 300 returned status=0xf"
check "a descriptor outside RAM: the device needs a reset" has "$OUT" "NET-HOSTILE needs-reset=1"
check "the guest-driver error is reported in one line" grep -q "guest driver error" "$ERR"
check "after the reset the device works again" has "$OUT" "after-reset valid: returned=1 status=0xf"
check "guest finished" has "$OUT" "NET-HOSTILE done"
check "lkvm exits 0 after the guest powers off ($(rc_text "$RC"))" [ "$RC" = 0 ]
check "no passt left behind" [ -z "$(pidof passt)" ]
finish

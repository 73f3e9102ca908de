#!/bin/bash
# ci.sh [a,b,...] - build everything and run the scenarios (default all) nested, with L1 KVM in VHE then nVHE mode.
# Exit 0 iff both runs pass. LKVM=/path/to/lkvm skips make (see build.sh).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=$REPO/build/testbed
scen=()
[ $# -gt 0 ] && scen=(--scenarios "$1")

"$HERE/build.sh" "$OUT" || exit 1
rc=0
"$HERE/run-l1.sh" --outdir "$OUT" --quiet --log "$OUT/l1-vhe.log" "${scen[@]}" || rc=1
"$HERE/run-l1.sh" --outdir "$OUT" --quiet --log "$OUT/l1-nvhe.log" --nvhe "${scen[@]}" || rc=1
exit $rc

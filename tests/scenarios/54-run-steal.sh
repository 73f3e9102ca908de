# 54-run-steal.sh - 'lkvm run --steal-report -- CMD': one line on stderr with each vCPU's stolen time over the
# command and its share of the command's wall time (from the PV-time records); --steal-report=json the same as JSON.
# A CPU hog pinned to lkvm's CPU shows well above 0 %; without one it stays near 0.
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runlib.sh"

run_setup "$WORK/steal"
SPIN='{ timeout 3 sh -c "while :; do :; done"; } 2>/dev/null; echo spun'
pct() { sed -n 's/.*vCPU 0 [0-9.]* ms (\([0-9.]*\)%).*/\1/p' "$1" | tail -n 1; }

LKVM_REAL=$LKVM
LKVM=$WORK/steal/pinned
printf '#!/bin/sh\nexec taskset -c 1 %s "$@"\n' "$LKVM_REAL" >"$LKVM"
chmod 755 "$LKVM"

run_cmd steal-idle 200 --steal-report -- sh -c "$SPIN"
idle=$(pct "$ERR")
check "--steal-report: one line on stderr, the command's output untouched ($(tail -n 1 "$ERR"))" \
	sh -c "[ '$RC' = 0 ] && [ \"\$(cat '$OUT')\" = spun ] && [ \$(grep -c . '$ERR') = 1 ] && grep -q 'vCPU 0' '$ERR'"
check "no hog: stolen time near 0 (${idle:-?} % < 10 %)" awk -v p="${idle:-100}" 'BEGIN { exit !(p < 10) }'

taskset -c 1 sh -c 'while :; do :; done' &
hog=$!
run_cmd steal-hog 200 --steal-report=json -- sh -c "$SPIN"
kill "$hog" 2>/dev/null
wait "$hog" 2>/dev/null
json=$(tail -n 1 "$ERR")
log "json: $json"
hogp=$(echo "$json" | sed -n 's/.*"steal_pct":\([0-9.]*\).*/\1/p')
check "--steal-report=json: the line parses as JSON ($(tail -n 1 "$ERR" | "$TOOLS/jsonck" 2>&1 | head -c 60))" \
	sh -c "tail -n 1 '$ERR' | '$TOOLS/jsonck' >/dev/null"
check "--steal-report=json: one vCPU with its steal and wall time" \
	sh -c "echo '$json' | grep -q '\"wall_ms\":[0-9]' && [ \$(echo '$json' | grep -o '\"vcpu\":' | wc -l) = 1 ]"
check "a hog pinned to lkvm's CPU: well above 0 % (${hogp:-?} % > 15 %)" awk -v p="${hogp:-0}" 'BEGIN { exit !(p > 15) }'
diag "stolen time over a 3 s spin: ${idle:-?} % alone, ${hogp:-?} % beside a pinned hog"

LKVM=$LKVM_REAL
run_boot_cleanup
cd /
rm -rf "$WORK/steal"
finish

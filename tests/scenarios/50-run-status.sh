# 50-run-status.sh - 'lkvm run -- CMD': the command's exit status, timeout(1)'s conventions (124 timeout, 125 guest
# failure with one line and the kernel log's tail, 126 not executable, 127 not found), bad input in one line.
# timeout: 900
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runlib.sh"

if ! run_boot_setup; then
	not_ok "no host kernel for lkvm run -- CMD"
	finish
fi
mkdir -p "$WORK/st" && cd "$WORK/st" || exit 1

run_cmd true 120 -- true
check "-- true: status 0 ($RC, $SECS s), no output" sh -c "[ '$RC' = 0 ] && [ ! -s '$OUT' ] && [ ! -s '$ERR' ]"
run_cmd false 120 -- false
check "-- false: status 1 ($RC)" [ "$RC" = 1 ]
run_cmd exit42 120 -- sh -c 'exit 42'
check "-- sh -c 'exit 42': status 42 ($RC)" [ "$RC" = 42 ]

run_boot_cleanup
finish

# 50-run-status.sh - 'lkvm run -- CMD': the command's exit status and timeout(1)'s conventions: 124 when --timeout
# ran out, 125 when the guest failed (one line saying which, then the kernel log's last lines), 126 not executable,
# 127 not found; bad input (a missing kernel, a command line too long, a bad option) in one line, status 125,
# nothing changed on the host.
# timeout: 900
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runlib.sh"

D=$WORK/status
run_setup "$D"

run_cmd true 120 -- true
check "-- true: status 0 ($RC, $SECS s), nothing on stdout or stderr" \
	sh -c "[ '$RC' = 0 ] && [ ! -s '$OUT' ] && [ ! -s '$ERR' ]"
run_cmd debug 120 --loglevel debug -- true
diag "$(grep -m1 'initramfs:' "$ERR" | sed 's/^ *//') (nested)"
run_cmd false 120 -- false
check "-- false: status 1 ($RC)" [ "$RC" = 1 ]
run_cmd exit42 120 -- sh -c 'exit 42'
check "-- sh -c 'exit 42': status 42 ($RC)" [ "$RC" = 42 ]
run_cmd exec42 120 --exec 'echo "$0 $#"; exit 42'
check "--exec 'echo ...; exit 42': status 42, the line ran in sh ($RC: $(head -c 40 "$OUT"))" \
	sh -c "[ '$RC' = 42 ] && [ \"\$(cat '$OUT')\" = 'sh 0' ]"
run_cmd killed 120 -- sh -c 'kill -TERM $$'
check "a command killed by SIGTERM: 143 as a shell says it ($RC)" [ "$RC" = 143 ]

run_cmd notfound 120 -- lkvm-no-such-command arg
check "a missing command: 127, one line naming it ($RC: $(head -c 80 "$ERR"))" \
	sh -c "[ '$RC' = 127 ] && [ \$(grep -c . '$ERR') = 1 ] && grep -q lkvm-no-such-command '$ERR'"
printf 'not a program\n' >"$D/data.txt"
chmod 644 "$D/data.txt"
run_cmd noexec 120 -- ./data.txt
check "a file that is not executable: 126, one line ($RC: $(head -c 80 "$ERR"))" \
	sh -c "[ '$RC' = 126 ] && [ \$(grep -c . '$ERR') = 1 ] && grep -q data.txt '$ERR'"

run_cmd timeout 120 --timeout 3 -- sleep 60
check "--timeout 3 -- sleep 60: 124 (after $SECS s), one line ($RC: $(head -c 80 "$ERR"))" \
	sh -c "[ '$RC' = 124 ] && [ \$(grep -c . '$ERR') = 1 ]"

# a kernel with no init: the kernel panics (panic=-1 resets it at once): 125, the reason, the log's tail
run_cmd panic 120 -p 'rdinit=/lkvm-no-init init=/lkvm-no-init' -- true
check "no init: 125 ($RC)" [ "$RC" = 125 ]
check "no init: the first line says the kernel panicked ($(head -n 1 "$ERR" | cut -c1-100))" \
	sh -c "head -n 1 '$ERR' | grep -q 'panicked'"
check "no init: the kernel log's last lines follow ($(grep -c . "$ERR") lines, at most 31)" \
	sh -c "n=\$(grep -c . '$ERR'); [ \$n -gt 3 ] && [ \$n -le 31 ] && grep -q 'Kernel panic' '$ERR'"
check "no init: nothing on stdout" [ ! -s "$OUT" ]

# bad input: one line, 125, no guest, nothing written in the working directory
ls -a "$D" >"$WORK/status-before"
for case in kernel long option both; do
	case $case in
	kernel) run_cmd bad-$case 60 -k /lkvm-no-such-Image -- true ;;
	long) # twelve arguments of 100 KB: more than lkvm passes (1 MiB), less than the host's own limit
		a=$(head -c 100000 /dev/zero | tr '\0' x)
		run_cmd bad-$case 60 -- echo "$a" "$a" "$a" "$a" "$a" "$a" "$a" "$a" "$a" "$a" "$a" "$a" ;;
	option) run_cmd bad-$case 60 --timeout soon -- true ;;
	both) run_cmd bad-$case 60 --exec true -- true ;;
	esac
	lines=$(grep -c . "$ERR")
	if [ "$RC" = 125 ] && [ "$lines" = 1 ] && [ ! -s "$OUT" ]; then
		ok "bad input ($case): 125 and one line: $(head -c 160 "$ERR" | tr -s ' ')"
	else
		not_ok "bad input ($case): status $RC, $lines lines: $(head -c 300 "$ERR")"
	fi
done
ls -a "$D" >"$WORK/status-after"
check "bad input: nothing changed in the working directory" cmp -s "$WORK/status-before" "$WORK/status-after"

run_boot_cleanup
cd /
rm -rf "$D"
finish

# 51-run-streams.sh - 'lkvm run -- CMD': stdout and stderr separate and byte-exact (no CR/LF rewriting, no console
# noise), 10 MiB of binary data each way checked by sha256, stdin piped through, kernel messages never in the
# command's output even under loglevel=8 (--kernel-log FILE keeps them).
# timeout: 900
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runlib.sh"

D=$WORK/streams
run_setup "$D"

# exact bytes: CR, CRLF, no final newline, NUL and 0xff on stdout; other bytes on stderr
printf 'out 1\r\nout 2\n\000\377 end' >"$D/want.out"
printf 'err 1\nerr\r2' >"$D/want.err"
run_cmd exact 120 -- sh -c "cat want.out; cat want.err >&2"
check "stdout is exactly the command's bytes ($(wc -c <"$OUT") of $(wc -c <"$D/want.out"))" cmp -s "$OUT" "$D/want.out"
check "stderr is exactly the command's bytes ($(wc -c <"$ERR") of $(wc -c <"$D/want.err"))" cmp -s "$ERR" "$D/want.err"
check "status 0 ($RC)" [ "$RC" = 0 ]

# 10 MiB of random bytes out on each stream, checked by sha256
head -c 10485760 /dev/urandom >"$D/big1"
head -c 10485760 /dev/urandom >"$D/big2"
s1=$(sha256sum <"$D/big1" | cut -d' ' -f1)
s2=$(sha256sum <"$D/big2" | cut -d' ' -f1)
t0=$(now_cs)
run_cmd big 300 -- sh -c 'cat big1; cat big2 >&2'
el=$(($(now_cs) - t0))
check "10 MiB binary on stdout: sha256 matches ($(wc -c <"$OUT") bytes)" \
	[ "$(sha256sum <"$OUT" | cut -d' ' -f1)" = "$s1" ]
check "10 MiB binary on stderr: sha256 matches ($(wc -c <"$ERR") bytes)" \
	[ "$(sha256sum <"$ERR" | cut -d' ' -f1)" = "$s2" ]
diag "20 MiB out of the guest in $(cs_fmt $el) s, boot included (nested; not a benchmark)"

# stdin: 10 MiB piped in, hashed in the guest
RUN_IN=$D/big1 run_cmd stdin 300 -- sha256sum
check "10 MiB on stdin: the guest's sha256sum is the host's ($(head -c 64 "$OUT"))" \
	sh -c "[ \"\$(cut -d' ' -f1 '$OUT')\" = '$s1' ] && [ '$RC' = 0 ]"
printf 'b\nc\na\n' >"$D/unsorted"
RUN_IN=$D/unsorted run_cmd sort 120 -- sort
check "lkvm run -- sort < in > out works in a pipeline" sh -c "[ \"\$(cat '$OUT')\" = \"\$(printf 'a\nb\nc')\" ]"
RUN_IN=/dev/null run_cmd stdin-eof 120 -- sh -c 'cat; echo after-eof'
check "stdin at end of file at once: the command reads EOF" sh -c "[ \"\$(cat '$OUT')\" = after-eof ]"

# kernel messages: loglevel=8 and every message on the console; none of them in the command's streams
rm -f "$WORK/kernel.log"
run_cmd loglevel 300 -p 'loglevel=8 ignore_loglevel' --kernel-log "$WORK/kernel.log" -- sh -c 'echo hello; echo oops >&2'
check "loglevel=8: stdout is just the command's line" sh -c "[ \"\$(cat '$OUT')\" = hello ] && [ \$(wc -c <'$OUT') = 6 ]"
check "loglevel=8: stderr is just the command's line" sh -c "[ \"\$(cat '$ERR')\" = oops ]"
check "--kernel-log kept the kernel's messages ($(grep -c . "$WORK/kernel.log" 2>/dev/null) lines)" \
	sh -c "grep -q 'Booting Linux' '$WORK/kernel.log' && ! grep -q \"\$(printf '\r')\" '$WORK/kernel.log'"

run_boot_cleanup
cd /
rm -rf "$D" "$WORK/kernel.log"
finish

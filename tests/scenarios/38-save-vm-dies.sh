# 38-save-vm-dies.sh - the VM is killed (kill -9) in the middle of 'lkvm save' (to a file and to a stream) and of
# 'lkvm stat': each client prints one line saying the VM went away and exits 1, never dies of SIGPIPE (141), and
# the older snapshot at the path stays intact.
# timeout: 300
. "$(dirname "$0")/lib.sh"

SNAP=$WORK/dies.snap
pid_of() { "$LKVM" stat --name "$1" 2>>"$LOG" | tr ' ' '\n' | sed -n 's/^pid=//p' | head -n 1; }
# a big guest: 128 MiB of non-zero tmpfs pages (1 MiB doubled seven times), so that a save takes a while
big_guest() {
	guest_start "$1" 200 run -k "$L2_KERNEL" -i "$L2_INITRD" -m 512 -c 1 --name diesvm -p quiet
	wait_for "$OUT" "l2# " 100 || return 1
	guest_send 'yes 0123456789abcdef | head -c 1048576 >/tmp/f; for i in 1 2 3 4 5 6 7; do cat /tmp/f /tmp/f >/tmp/g; mv /tmp/g /tmp/f; done; echo FILL-$((40+2))-DONE $(wc -c </tmp/f)'
	wait_for "$OUT" FILL-42-DONE 120
}
# one_line_gone FILE RC WHAT: the client's verdict
one_line_gone() {
	_n=$(nonempty_lines "$1")
	log "$3: exit $2, $_n line(s): $(cat "$1")"
	check "$3: exit 1 (not 141), one line saying the VM went away (exit $2, $_n lines: $(first_line "$1"))" \
		sh -c "[ '$2' = 1 ] && [ '$_n' = 1 ] && grep -q 'went away' '$1'"
}

if ! big_guest dies1; then
	guest_kill
	not_ok "no guest with 128 MiB of data ($(rc_text "$RC"))"
	finish
fi
expect_ok "a first save to $SNAP" "$LKVM" save --name diesvm "$SNAP"
SUM1=$(md5sum <"$SNAP")

# kill -9 the VM once the save has started writing (its temporary file exists next to SNAP)
P=$(pid_of diesvm)
"$LKVM" save --name diesvm "$SNAP" >"$WORK/save1.out" 2>"$WORK/save1.err" &
SP=$!
n=0
while [ $n -lt 200 ] && ! ls "$WORK"/.dies.snap.tmp-* >/dev/null 2>&1; do
	sleep 0.05
	n=$((n + 1))
done
kill -9 "$P"
wait $SP
SRC=$?
guest_wait
one_line_gone "$WORK/save1.err" "$SRC" "save to a file, VM killed mid-save"
check "the older snapshot is intact (same checksum)" [ "$(md5sum <"$SNAP")" = "$SUM1" ]
check "no temporary file is left behind" sh -c "! ls '$WORK'/.dies.snap.tmp-* >/dev/null 2>&1"
expect_ok "the older snapshot still verifies" "$LKVM" restore --info "$SNAP"

# the same with a stream on stdout
if big_guest dies2; then
	P=$(pid_of diesvm)
	"$LKVM" save --name diesvm - >"$WORK/stream.out" 2>"$WORK/save2.err" &
	SP=$!
	n=0
	while [ $n -lt 200 ] && [ ! -s "$WORK/stream.out" ]; do
		sleep 0.05
		n=$((n + 1))
	done
	kill -9 "$P"
	wait $SP
	SRC=$?
	guest_wait
	one_line_gone "$WORK/save2.err" "$SRC" "save to a stream, VM killed mid-save"
else
	guest_kill
	not_ok "second big guest did not come up"
fi

# a client whose VM is gone entirely: one line, exit 1
for c in stat pause save; do
	if [ $c = save ]; then "$LKVM" save --name diesvm "$WORK/x.snap" >/dev/null 2>"$WORK/$c.err"; else
		"$LKVM" $c --name diesvm >/dev/null 2>"$WORK/$c.err"; fi
	r=$?
	check "lkvm $c on a killed VM: exit 1, one line ($(first_line "$WORK/$c.err"))" \
		sh -c "[ $r = 1 ] && [ $(nonempty_lines "$WORK/$c.err") = 1 ]"
done
finish

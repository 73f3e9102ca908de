# 48-migrate-scale.sh - live migration of a large guest: a 1 GiB, 2-vCPU guest holding about 768 MiB (640 MiB of
# tmpfs files besides the 32 MiB rewritten in a loop, tests/guest-scripts/migrate.sh l2.fill=) moved three times:
# --recheck auto with --verify (every page compared), --recheck auto, --recheck always; each prints the pause split
# into its parts. Then a 256 MiB guest moved twice with --debug-unlogged: every page the dirty log missed is one
# well-formed line. The fill shrinks (and says so) where the host has not the memory for two copies of the guest.
# timeout: 1500
. "$(dirname "$0")/lib.sh"

TS="$TOOLS/tstamp"
if [ ! -x "$TS" ]; then
	not_ok "helper $TS missing (make tools)"
	finish
fi
VM=migscale
PIDS=
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null
cleanup() {
	for n in migscale migdbg; do "$LKVM" stop --name "$n" >/dev/null 2>&1; done
	sleep 1
	for p in $PIDS; do kill "$p" 2>/dev/null; done
}
trap 'cleanup' EXIT
trap 'cleanup; exit 143' TERM INT

# mstart TAG ARGS...: lkvm in the background, console timestamped into $WORK/TAG.out, exit status into TAG.rc
mstart() {
	_tag=$1
	shift
	rm -f "$WORK/$_tag.rc" "$WORK/$_tag.err"
	log "[$_tag] $LKVM $*"
	(
		timeout -k 5 1200 "$LKVM" "$@" </dev/null 2>"$WORK/$_tag.err"
		echo $? >"$WORK/$_tag.rc"
	) | "$TS" >"$WORK/$_tag.out" &
	PIDS="$PIDS $!"
}
mwait() {
	_end=$(($(now_cs) + $2 * 100))
	while [ ! -s "$WORK/$1.rc" ] && [ "$(now_cs)" -lt "$_end" ]; do sleep 0.2; done
	if [ -s "$WORK/$1.rc" ]; then cat "$WORK/$1.rc"; else echo running; fi
}
mlog() {
	{
		sed "s/^/$1 out: /" "$WORK/$1.out"
		sed "s/^/$1 err: /" "$WORK/$1.err"
	} >>"$LOG" 2>/dev/null
}
wait_listen() {
	_end=$(($(now_cs) + 3000))
	while ! has "$1" "waiting for a migration" && [ "$(now_cs)" -lt "$_end" ]; do sleep 0.2; done
}
ticks() { cat "$@" | sed -n 's/^\([0-9]*\) TICK \([0-9]*\)\r*$/\1 \2/p' | sort -n; }
# the highest tick: a source stopped mid-line leaves a cut one at its end ("TICK 2" of "TICK 211")
last_tick() { ticks "$1" | sort -k2,2n | tail -n 1 | cut -d' ' -f2; }
sums() { cat "$@" | sed -n 's/^[0-9]* SUM \([0-9a-f]*\) steal=.*/\1/p'; }
rss_mib() { "$LKVM" stat --name "$1" 2>/dev/null | sed -n 's/.*ram_rss_kib=\([0-9]*\).*/\1/p' | awk '{ printf "%d", $1 / 1024 }'; }
# move FROM TO TAG ADDR ARGS...: migrate (the destination TO listens on ADDR); 0 if the guest ticks on at TO
move() {
	_from=$1
	_to=$2
	_mt=$3
	_addr=$4
	shift 4
	mstart "$_to" restore --incoming "$_addr"
	wait_listen "$WORK/$_to.err"
	sleep 2
	"$LKVM" migrate --name $VM "$@" "$_addr" >"$WORK/$_mt.txt" 2>&1
	_rc=$?
	log "move $_mt ($*): rc $_rc: $(cat "$WORK/$_mt.txt")"
	diag "$_mt ($*): $(grep -v '^pause ' "$WORK/$_mt.txt" | tail -n 1)"
	diag "$_mt: $(grep '^pause ' "$WORK/$_mt.txt")"
	check "$_mt ($*): exit $_rc, the pause split printed" \
		sh -c "[ $_rc = 0 ] && grep -q '^pause [0-9]* ms: last dirty pages [0-9]* ms.*device state [0-9]* ms, re-check [0-9]* ms.*destination set-up [0-9]* ms' '$WORK/$_mt.txt'"
	[ $_rc = 0 ] || return 1
	check "$_mt: the source exited 0" [ "$(mwait "$_from" 60)" = 0 ]
	_lt=$(last_tick "$WORK/$_from.out")
	check "$_mt: the guest ticks on at the destination (after TICK $_lt)" wait_for "$WORK/$_to.out" "TICK $((${_lt:-0} + 20))" 120
}
# parts FILE: the pause and its parts' sum, "P S"
parts() { grep '^pause ' "$1" | awk '{ for (i = 2; i < NF; i++) if ($(i + 1) ~ /^ms/) { if (!n++) p = $i; else s += $i } } END { if (n) print p, s }'; }

# ---- how much the guest can hold here: two copies of it (source and destination) must fit -----------------------
FILL=${MIGRATE_SCALE_FILL:-640}
AVAIL=$(awk '/^MemAvailable:/ { printf "%d", $2 / 1024 }' /proc/meminfo)
MAXF=$(((AVAIL - 300) / 2 - 160))
if [ "$MAXF" -lt "$FILL" ]; then
	diag "only $AVAIL MiB available: filling $MAXF MiB instead of $FILL (L1_MEM=3G for the whole 768 MiB)"
	FILL=$MAXF
fi
if [ "$FILL" -lt 64 ]; then
	not_ok "only $AVAIL MiB available: not enough for two copies of a large guest"
	finish
fi

mstart a run -c 2 -m 1024 --pvtime --name $VM -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=migrate l2.fill=$FILL"
if ! wait_for "$WORK/a.out" "SUM " 600; then
	mlog a
	not_ok "the 1 GiB guest never got ready ($(mwait a 0)) [$(tag_tail "$WORK/a")]"
	finish
fi
BIG=$(sed -n 's/^[0-9]* BIG \([0-9a-f]*\).*/\1/p' "$WORK/a.out")
FILLED=$(sed -n 's/^[0-9]* FILLED \([0-9]*\).*/\1/p' "$WORK/a.out")
HOLD=$(rss_mib $VM)
check "1 GiB guest holds ${HOLD:-?} MiB of RAM (tmpfs fill ${FILLED:-?} of $FILL MiB)" \
	sh -c "[ '${FILLED:-0}' -ge $FILL ] && [ '${HOLD:-0}' -ge $FILL ]"

move a b auto-verify tcp:127.0.0.1:4480 --recheck auto --verify &&
	move b c auto "unix:$WORK/scale-c.sock" --recheck auto &&
	move c d always "unix:$WORK/scale-d.sock" --recheck always
CUR=d
for t in c b a; do [ -s "$WORK/$t.rc" ] || CUR=$t; done
for t in auto-verify auto always; do
	[ -s "$WORK/$t.txt" ] || continue
	set -- $(parts "$WORK/$t.txt")
	check "$t: the parts add up to the pause (${2:-?} of ${1:-?} ms)" sh -c "[ -n '$1' ] && [ ${2:-0} -le $1 ] && [ $(( ${2:-0} + 60 )) -ge $1 ]"
done
if [ -s "$WORK/auto.txt" ]; then
	R=$(sed -n 's/.*re-check [0-9]* ms (\([^)]*\)).*/\1/p' "$WORK/auto.txt")
	# the 2 MiB blocks written since the self-check read them (where this bed loses entries); all of RAM only after
	# a loss outside them, now or in an earlier migration from this host (its record)
	check "auto: the pause re-read the blocks written since the self-check, or all of RAM only after a loss outside them ($R)" \
		sh -c "echo '$R' | grep -q '^auto: \(the 2 MiB blocks written since the self-check read them,\|all of RAM\( after a loss\|, this host lost\)\)'"
fi
sleep 4
S=$(sums "$WORK/$CUR.out" | tail -n 1)
check "48 MiB file unchanged after the moves (md5 ${S:-none} on $CUR, $BIG at the start)" [ "${S:-none}" = "${BIG:-empty}" ]
"$LKVM" stop --name $VM >>"$LOG" 2>&1
mwait $CUR 30 >/dev/null
for t in a b c d; do mlog $t; done

# ---- --debug-unlogged on a 256 MiB guest: one line per page the log missed ---------------------------------------
VM=migdbg
mstart e run -c 2 -m 256 --pvtime --name $VM -k "$L2_KERNEL" -i "$L2_INITRD" -p "quiet l2.run=migrate"
if wait_for "$WORK/e.out" "SUM " 240; then
	BIG=$(sed -n 's/^[0-9]* BIG \([0-9a-f]*\).*/\1/p' "$WORK/e.out")
	if move e f dbg1 "unix:$WORK/dbg-f.sock" --verify --debug-unlogged "$WORK/unlogged1.txt"; then
		export LKVM_DEBUG_UNLOGGED="$WORK/unlogged2.txt" # the environment's way
		move f g dbg2 "unix:$WORK/dbg-g.sock" --verify
		unset LKVM_DEBUG_UNLOGGED
	fi
	for i in 1 2; do
		U=$(sed -n 's/.*(\([0-9]*\) pages* changed without a dirty-log entry.*/\1/p' "$WORK/dbg$i.txt")
		N=$(grep -c . "$WORK/unlogged$i.txt" 2>/dev/null)
		BAD=$(grep -cv '^gpa=0x[0-9a-f]* round=[0-9]* when=\(live\|paused\) hot=[01] pass1=\(read\|unread\) ranges=[^ ]* bytes=' "$WORK/unlogged$i.txt" 2>/dev/null)
		check "move $i: --debug-unlogged wrote $N line(s), as many as pages resent (${U:-0}), all well formed" \
			sh -c "[ -f '$WORK/unlogged$i.txt' ] && [ '$N' = '${U:-0}' ] && [ '${BAD:-1}' = 0 ]"
		[ "${N:-0}" -gt 0 ] && diag "move $i unlogged: $(head -n 3 "$WORK/unlogged$i.txt" | tr '\n' ';')"
		cat "$WORK/unlogged$i.txt" >>"$LOG" 2>/dev/null
	done
	sleep 4
	S=$(sums "$WORK/g.out" | tail -n 1)
	check "256 MiB guest: 48 MiB file unchanged after two moves (md5 ${S:-none})" [ "${S:-none}" = "${BIG:-empty}" ]
else
	not_ok "the 256 MiB guest never got ready [$(tag_tail "$WORK/e")]"
fi
"$LKVM" stop --name $VM >>"$LOG" 2>&1
for t in e f g; do mlog $t; done
finish

# 39-migrate-early.sh - a 1-vCPU guest with a virtio-blk disk moved live within seconds of its boot, over unix:,
# several times: each move with --verify (the destination compares every page with the source's before it runs),
# and the moved guest must count on. MIGRATE_EARLY_N moves (default 3); MIGRATE_EARLY_VERIFY=0 moves unverified.
# timeout: 900
. "$(dirname "$0")/lib.sh"

N=${MIGRATE_EARLY_N:-3}
VER=--verify
[ "${MIGRATE_EARLY_VERIFY:-1}" = 0 ] && VER=
# MIGRATE_EARLY_RECHECK=always|auto|never: the moves' --recheck (default: lkvm's own, auto); MIGRATE_EARLY_MARK=FILE:
# "lkvm-move N start" / "end" written there around each move (46-dirtylog-trace: tracefs's trace_marker)
RECHECK=${MIGRATE_EARLY_RECHECK:+--recheck $MIGRATE_EARLY_RECHECK}
# LKVM_MODE=migrate-repro: 10 moves, every other one unverified (migrate-repro-verify: all verified); migrate-repro-nothp: the same with the host's
# transparent huge pages off (one thing varied, for docs/migration.md's lost entries)
THP=/sys/kernel/mm/transparent_hugepage/enabled
THP_WAS=
case ${LKVM_MODE:-} in
migrate-repro | migrate-repro-verify) N=${MIGRATE_EARLY_N:-10} ;;
migrate-repro-nothp)
	N=${MIGRATE_EARLY_N:-10}
	THP_WAS=$(sed -n 's/.*\[\(.*\)\].*/\1/p' $THP)
	echo never >$THP && diag "host THP: never (was $THP_WAS)"
	;;
esac
D=$WORK/early.img
dd if=/dev/zero of="$D" bs=1M count=8 2>/dev/null
good=0
lost_at=    # the first move that found a page the log missed
later_bad=  # auto moves whose pause did not read the blocks written since the self-check
for i in $(seq 1 "$N"); do
	S=$WORK/early-src-$i
	T=$WORK/early-dst-$i
	rm -f "$S".* "$T".* "$WORK/early-$i.sock"
	(timeout -k 5 300 "$LKVM" restore --incoming "unix:$WORK/early-$i.sock" </dev/null >"$T.out" 2>"$T.err"
		echo $? >"$T.rc") &
	(timeout -k 5 300 "$LKVM" run -c 1 -m 256 --name early$i -d "$D" -k "$L2_KERNEL" -i "$L2_INITRD" \
		-p "quiet l2.run=counter" </dev/null >"$S.out" 2>"$S.err"
		echo $? >"$S.rc") &
	if ! wait_for "$S.out" "COUNT 3 " 120; then
		not_ok "move $i: the source guest never counted [$(tag_tail "$S")]"
		"$LKVM" stop --name early$i >>"$LOG" 2>&1
		continue
	fi
	case ${LKVM_MODE:-} in migrate-repro | migrate-repro-nothp) [ $((i % 2)) = 1 ] && VER=--verify || VER= ;; esac
	# each page the dirty log missed, with its changed bytes (docs/migration.md, "Lost entries")
	[ -n "${MIGRATE_EARLY_MARK:-}" ] && echo "lkvm-move $i start" >"$MIGRATE_EARLY_MARK"
	LKVM_DEBUG_UNLOGGED=$WORK/early-$i.unlogged "$LKVM" migrate --name early$i $VER $RECHECK "unix:$WORK/early-$i.sock" \
		>"$WORK/early-$i.txt" 2>&1
	rc=$?
	[ -n "${MIGRATE_EARLY_MARK:-}" ] && echo "lkvm-move $i end" >"$MIGRATE_EARLY_MARK"
	# auto reads at least the 2 MiB blocks written since the self-check read them (where this bed loses entries), from
	# the first move on
	if [ $rc = 0 ] && [ "${MIGRATE_EARLY_RECHECK:-auto}" = auto ] && ! grep -q 're-check [0-9]* ms (auto: \(the 2 MiB blocks written\|all of RAM\)' "$WORK/early-$i.txt"; then
		later_bad="$later_bad $i"
	fi
	[ -z "$lost_at" ] && grep -q 'without a dirty-log entry were sent again' "$WORK/early-$i.txt" && lost_at=$i
	grep -v ' recorded in ' "$WORK/early-$i.unlogged" 2>/dev/null | head -n 4 | while read -r l; do diag "move $i unlogged: $l"; done
	wait_for "$S.rc" "" 30
	last=$(sed -n 's/^COUNT \([0-9]*\) .*/\1/p' "$S.out" | tail -n 1)
	if [ $rc = 0 ] && wait_for "$T.out" "COUNT $((${last:-0} + 5)) " 40; then
		good=$((good + 1))
		diag "move $i ${VER:-unverified}: ok: $(tr '\n' ' ' <"$WORK/early-$i.txt")"
	else
		diag "move $i ${VER:-unverified}: FAILED: migrate exit $rc: $(tail -n 1 "$WORK/early-$i.txt"); source exit $(cat "$S.rc" 2>/dev/null)"
		diag "move $i: destination log: $(grep -v 'waiting for' "$T.err" | tr '\n' ' ' | head -c 1500)"
		diag "move $i: destination console: $(tail -n 30 "$T.out" | tr '\r\n' '  ' | head -c 2500)"
	fi
	"$LKVM" stop --name early$i >>"$LOG" 2>&1
	wait_for "$T.rc" "" 30
	{ sed "s/^/src$i: /" "$S.out" "$S.err"; sed "s/^/dst$i: /" "$T.out" "$T.err"; } >>"$LOG" 2>/dev/null
done
[ -n "$THP_WAS" ] && echo "$THP_WAS" >$THP
if [ -n "$lost_at" ]; then
	# a host that lost an entry is remembered (snapshot/loss-record.c), with whether it lay outside the hot blocks
	rec=
	for f in "${XDG_RUNTIME_DIR:-/nonexistent}/lkvm" "$HOME/.lkvm" "/tmp/lkvm-$(id -u)"; do
		[ -s "$f/dirty-log-losses" ] && rec=$(grep "^$(uname -r) " "$f/dirty-log-losses")
	done
	check "after move $lost_at found a page the log missed, the host record has this kernel's line (${rec:-none})" [ -n "$rec" ]
else
	diag "no move found a page the log missed: the host record went untested here"
fi
check "every auto move's pause read at least the 2 MiB blocks written since the self-check${later_bad:+ (not:$later_bad)}" [ -z "$later_bad" ]
check "$good of $N early moves${VER:+ ($VER)}: the guest counts on at the destination" [ "$good" = "$N" ]
finish

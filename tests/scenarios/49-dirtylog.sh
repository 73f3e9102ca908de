# 49-dirtylog.sh - does this host's KVM dirty log lose entries, without lkvm? tests/tools/dirtylog (a VM made with
# KVM directly, vCPUs storing a counter into page after page, KVM_GET_DIRTY_LOG every few ms compared with memory).
# Its self-test (-x: the host writes pages behind KVM's back) must catch every such write; then one thing varied at a
# time: 2 vCPUs with the guest's MMU on and THP-backed RAM (as an lkvm guest), 1 vCPU, MMU off, no THP, and each
# store preceded by a DC ZVA (the guest kernel clears pages that way), and the guest rewriting its own page-table
# descriptors (-p), with the walker setting the access flag (-a): the pages lkvm's migrations see lose entries; the
# walker's access-flag update as the first write to a 2 MiB stage-2 block after the log went on (-b); and
# the vCPU threads moved between L1's CPUs every round (-M); memory first read, then written (-R). The counts
# of changes without an entry are printed, not judged: they are the host's (docs/migration.md, "Lost entries").
# timeout: 900
. "$(dirname "$0")/lib.sh"

T="$TOOLS/dirtylog"
if [ ! -x "$T" ]; then
	not_ok "helper $T missing (make tools)"
	finish
fi
R=${DIRTYLOG_ROUNDS:-60}
# run NAME ARGS...: one configuration; "ok" when the tool ran (exit 0: none lost, 1: some lost)
run() {
	_n=$1
	shift
	"$T" -m 32 -r "$R" "$@" >"$WORK/dl-$_n.txt" 2>&1
	_rc=$?
	cat "$WORK/dl-$_n.txt" >>"$LOG"
	_sum=$(grep '^dirtylog: [0-9]* rounds' "$WORK/dl-$_n.txt")
	grep '^round \|^vCPU ' "$WORK/dl-$_n.txt" | head -n 4 | while read -r l; do diag "$_n: $l"; done
	check "$_n ($*): exit $_rc: ${_sum#dirtylog: }" sh -c "[ $_rc -le 1 ] && [ -n '$_sum' ]"
	return $_rc
}
run self-test -x -c 1
check "self-test: every write behind KVM's back was caught" grep -q 'self-test: \([0-9]*\) of \1 host writes caught' "$WORK/dl-self-test.txt"
run lkvm-like -c 2
run one-vcpu -c 1
run mmu-off -c 2 -n
run no-thp -c 2 -H
run zva -c 2 -z
run pagetables -c 2 -p
run pagetables-af -c 2 -a
# the walker's access-flag update as the first write to a huge (THP-backed) stage-2 block once the log is on
run block-af -c 1 -b
run block-af-2 -c 2 -b
run block-af-2-nothp -c 2 -b -H
run vcpus-moved -c 2 -M
# memory the guest first reads (THP: the host's huge zero page) and writes later, logging on from the start
run read-then-write -c 2 -R -w 0 -m 64
run read-then-write-1 -c 1 -R -w 0 -m 64
finish

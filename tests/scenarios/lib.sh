# lib.sh - helpers for lkvm scenarios (POSIX sh / busybox ash): results, timed lkvm runs, waiting, interactive guests.
#
# Sourced by each tests/scenarios/NN-name.sh. Environment (set by run.sh): LKVM, L2_KERNEL, L2_INITRD, TOOLS, WORK,
# SCENARIO (the scenario's name, e.g. "boot-1cpu"), VERBOSE (1: copy guest consoles to stdout live).
# Everything a scenario runs is logged to $WORK/$SCENARIO.log; run.sh shows its tail when a check fails.

: "${LKVM:?LKVM not set}" "${L2_KERNEL:?}" "${L2_INITRD:?}" "${WORK:?}"
: "${TOOLS:=}" "${VERBOSE:=0}"
. "$(dirname "$0")/procs.sh"
if [ -z "${SCENARIO:-}" ]; then
	SCENARIO=$(basename "$0" .sh)
	SCENARIO=${SCENARIO#[0-9][0-9]-}
fi
LOG="$WORK/$SCENARIO.log"
mkdir -p "$WORK"
FAILED=0
GUEST_PID=
trap '' PIPE
if [ ! -x "$LKVM" ]; then
	echo "not ok - $SCENARIO: lkvm binary $LKVM missing or not executable"
	exit 1
fi

# --- results ---------------------------------------------------------------------------------------------------
ok() { echo "ok - $SCENARIO: $*"; }
not_ok() { echo "not ok - $SCENARIO: $*"; FAILED=1; }
# check DESC CONDITION...: ok/not ok depending on the exit status of CONDITION
check() {
	_d=$1
	shift
	if "$@"; then ok "$_d"; else not_ok "$_d"; fi
}
# expect_ok DESC CMD...: CMD must succeed; expect_fail DESC CMD...: CMD must fail (output goes to the log)
expect_ok() {
	_d=$1
	shift
	log "expect_ok: $*"
	if "$@" >>"$LOG" 2>&1; then ok "$_d"; else not_ok "$_d (exit $?)"; fi
}
expect_fail() {
	_d=$1
	shift
	log "expect_fail: $*"
	if "$@" >>"$LOG" 2>&1; then not_ok "$_d (unexpectedly succeeded)"; else ok "$_d (exit $?)"; fi
}
log() { echo "== $*" >>"$LOG"; }
diag() { echo "# $SCENARIO: $*"; }
finish() { exit "$FAILED"; }

# --- time ------------------------------------------------------------------------------------------------------
# centiseconds since boot (Linux /proc/uptime; busybox date has no %N)
now_cs() {
	read -r _up _idle </proc/uptime
	_s=${_up%.*}
	_f=${_up#*.}
	echo $((_s * 100 + ${_f#0}))
}
# cs_fmt CS -> "4.2"
cs_fmt() { echo "$(($1 / 100)).$(($1 % 100 / 10))"; }

# --- files -----------------------------------------------------------------------------------------------------
has() { grep -qF -- "$2" "$1" 2>/dev/null; }
# nonempty_lines FILE -> number of non-blank lines
nonempty_lines() { grep -c '[^[:space:]]' "$1" 2>/dev/null || true; }
# first non-empty line of FILE
first_line() { grep -m 1 '[^[:space:]]' "$1" 2>/dev/null || true; }
# wait_for FILE PATTERN TIMEOUT_S: poll until FILE contains PATTERN (fixed string). Returns early (failing) when the
# background guest started by guest_start has exited without printing it.
wait_for() {
	_end=$(($(now_cs) + $3 * 100))
	while :; do
		has "$1" "$2" && return 0
		if [ -n "$GUEST_PID" ] && ! kill -0 "$GUEST_PID" 2>/dev/null; then
			has "$1" "$2"
			return
		fi
		if [ "$(now_cs)" -ge "$_end" ]; then
			procs_report "waited $3 s for '$2' in ${1##*/}" >>"$LOG" 2>&1
			return 1
		fi
		sleep 0.2 2>/dev/null || sleep 1
	done
}

# --- one-shot lkvm runs ----------------------------------------------------------------------------------------
# lkvm_run TAG TIMEOUT_S ARGS...: run "$LKVM ARGS..." with stdin from /dev/null under timeout.
# Sets RC (exit status; 124 = timed out), SECS ("4.2"), OUT=$WORK/TAG.out (guest console, stdout), ERR=$WORK/TAG.err.
# Both are appended to the scenario log.
lkvm_run() {
	_tag=$1
	_t=$2
	shift 2
	OUT="$WORK/$_tag.out"
	ERR="$WORK/$_tag.err"
	log "[$_tag] $LKVM $*"
	_t0=$(now_cs)
	if [ "$VERBOSE" = 1 ]; then
		{
			timeout -k 5 "$_t" "$LKVM" "$@" </dev/null 2>"$ERR"
			echo $? >"$WORK/$_tag.rc"
		} | tee "$OUT"
		RC=$(cat "$WORK/$_tag.rc")
	else
		timeout -k 5 "$_t" "$LKVM" "$@" </dev/null >"$OUT" 2>"$ERR"
		RC=$?
	fi
	_el=$(($(now_cs) - _t0))
	SECS=$(cs_fmt $_el)
	# coreutils timeout says 124; busybox timeout just kills (143/137)
	case $RC in 124 | 137 | 143) [ $_el -ge $((_t * 100)) ] && RC=124 ;; esac
	{
		sed 's/^/out: /' "$OUT"
		sed 's/^/err: /' "$ERR"
	} >>"$LOG"
	log "[$_tag] exit $RC after $SECS s"
	return 0
}
# guest_tail: the last console and stderr lines of the guest that just ran, on one line (for "never got there"
# failures, so the summary alone shows where the guest stood)
guest_tail() {
	_o=$(grep '[^[:space:]]' "$OUT" 2>/dev/null | tail -n 2 | tr -d '\r' | tr '\n' '|' | cut -c 1-160)
	_e=$(grep '[^[:space:]]' "$ERR" 2>/dev/null | tail -n 1 | cut -c 1-120)
	# "hung": lkvm was still running when given up on (killed, or timed out), as against an lkvm that exited
	case ${RC:-} in killed | 124) _h="hung; " ;; *) _h="exit ${RC:-?}; " ;; esac
	echo "${_h}console: ${_o:-nothing}; stderr: ${_e:-nothing}"
}
# tag_tail PREFIX: guest_tail for a guest started in the background with its console in PREFIX.out, its stderr in
# PREFIX.err and its exit status in PREFIX.rc (mstart's $WORK/TAG, or a scenario's own)
tag_tail() {
	_o=$(grep '[^[:space:]]' "$1.out" 2>/dev/null | tail -n 2 | tr -d '\r' | tr '\n' '|' | cut -c 1-160)
	_e=$(grep '[^[:space:]]' "$1.err" 2>/dev/null | tail -n 1 | cut -c 1-120)
	_r=$(cat "$1.rc" 2>/dev/null)
	[ -n "$_r" ] && _r="exit $_r; " || _r="hung; " # still running: run.sh's retry takes a hang, never a crash
	echo "${_r}console: ${_o:-nothing}; stderr: ${_e:-nothing}"
}
rc_text() {
	case $1 in
	124) echo "timed out" ;;
	killed) echo "still running (killed)" ;;
	*) echo "exit $1" ;;
	esac
}
# booted FILE...: did a guest start (L2 init or the kernel banner in any of the files)?
booted() {
	for _f in "$@"; do
		has "$_f" L2-INIT-OK && return 0
		has "$_f" "Booting Linux" && return 0
	done
	return 1
}

# --- interactive guests ----------------------------------------------------------------------------------------
# guest_start TAG TIMEOUT_S ARGS...: start "$LKVM ARGS..." in the background, its stdin a FIFO held open on fd 3.
# Output: OUT=$WORK/TAG.out, ERR=$WORK/TAG.err. Then: wait_for "$OUT" ..., guest_send "cmd", guest_wait (or
# guest_kill).
guest_start() {
	_tag=$1
	_t=$2
	shift 2
	OUT="$WORK/$_tag.out"
	ERR="$WORK/$_tag.err"
	GUEST_TAG=$_tag
	_fifo="$WORK/$_tag.in"
	rm -f "$_fifo"
	mkfifo "$_fifo"
	log "[$_tag] (interactive) $LKVM $*"
	: >"$OUT"
	timeout -k 5 "$_t" "$LKVM" "$@" <"$_fifo" >"$OUT" 2>"$ERR" &
	GUEST_PID=$!
	GUEST_T0=$(now_cs)
	GUEST_T=$_t
	# opening the write end completes once lkvm's shell has opened the read end
	exec 3>"$_fifo"
}
# guest_send TEXT: one line to the guest's console input
guest_send() {
	log "[$GUEST_TAG] send: $*"
	printf '%s\n' "$*" >&3
}
# guest_wait: close the guest's input and wait for lkvm to exit; sets RC (124 = timed out) and SECS
guest_wait() {
	exec 3>&-
	wait "$GUEST_PID"
	RC=$?
	_el=$(($(now_cs) - GUEST_T0))
	SECS=$(cs_fmt $_el)
	case $RC in 124 | 137 | 143) [ $_el -ge $((GUEST_T * 100)) ] && RC=124 ;; esac
	GUEST_PID=
	guest_log
}
# guest_kill: stop the guest if it is still running; sets RC ("killed" if it had to be killed) and SECS
guest_kill() {
	exec 3>&-
	if [ -n "$GUEST_PID" ]; then
		if kill "$GUEST_PID" 2>/dev/null; then
			wait "$GUEST_PID" 2>/dev/null
			RC=killed
		else
			wait "$GUEST_PID" 2>/dev/null
			RC=$?
		fi
		SECS=$(cs_fmt $(($(now_cs) - GUEST_T0)))
		GUEST_PID=
		guest_log
	fi
}
guest_log() {
	# VERBOSE: the console of an interactive guest is shown when it ends (one-shot runs show it live)
	[ "$VERBOSE" = 1 ] && cat "$OUT"
	{
		sed 's/^/out: /' "$OUT"
		sed 's/^/err: /' "$ERR"
	} >>"$LOG"
	log "[$GUEST_TAG] exit ${RC:-killed} after ${SECS:-?} s"
}
trap 'guest_kill' EXIT
trap 'guest_kill; exit 143' TERM INT

# --- tools of the test machine (gdb-multiarch, promtool) -------------------------------------------------------
# host_tool TOOL IN OUT: run TOOL with the file IN as its input; its output (stdout and stderr) goes to OUT; returns
# its exit status. TOOL is gdb (IN is a gdb script, run with gdb-multiarch -batch; @GDB_TARGET@ in it is where lkvm's
# --gdb port 1234 is reached from the tool, @GUEST_DIR@ the directory of the bare-metal payloads' ELF files),
# promtool (IN is a scrape, checked with promtool check metrics), promtool-om (IN is an OpenMetrics scrape, read by
# Prometheus's OpenMetrics parser through promtool tsdb create-blocks-from openmetrics) or echo (IN comes back).
# Nested, the tool runs on the test machine through the test bed's bridge (HOST_AGENT=ip:port, set by l1-init;
# tests/testbed/host-agent.sh); lkvm must then listen on $GDB_LISTEN. On an arm64 host the tool runs here.
: "${GDB_LISTEN:=127.0.0.1}"
host_tool() {
	_ht_raw="$WORK/.host_tool.$$"
	if [ -n "${HOST_AGENT:-}" ]; then
		{
			echo "$1 $(wc -c <"$2")"
			cat "$2"
		} | nc "${HOST_AGENT%:*}" "${HOST_AGENT#*:}" >"$_ht_raw" 2>>"$LOG"
		_ht_rc=255
		_ht_len=0
		IFS=' ' read -r _ht_tag _ht_rc _ht_len <"$_ht_raw" || true
		if [ "${_ht_tag:-}" != HOST-TOOL-EXIT ]; then
			echo "host_tool: no answer from the test machine's agent at $HOST_AGENT" >"$3"
			rm -f "$_ht_raw"
			return 255
		fi
		tail -c "$_ht_len" "$_ht_raw" >"$3"
		[ "$_ht_len" = 0 ] && : >"$3"
		rm -f "$_ht_raw"
		return "$_ht_rc"
	fi
	case $1 in
	gdb)
		sed -e "s|@GDB_TARGET@|127.0.0.1:1234|g" -e "s|@GUEST_DIR@|${GUEST_DIR:-$(dirname "$LKVM")/build/guest}|g" \
			"$2" >"$_ht_raw"
		gdb-multiarch -nx -batch -x "$_ht_raw" </dev/null >"$3" 2>&1
		;;
	promtool) promtool check metrics <"$2" >"$3" 2>&1 ;;
	promtool-om) # as tests/testbed/host-agent.sh does it: Prometheus's OpenMetrics parser, a timestamp per sample
		awk '/^#/ { print; next } { print $0 " 1700000000" }' "$2" >"$_ht_raw.om"
		promtool tsdb create-blocks-from openmetrics "$_ht_raw.om" "$_ht_raw.db" >"$3" 2>&1
		_ht_rc=$?
		rm -rf "$_ht_raw.om" "$_ht_raw.db"
		return $_ht_rc
		;;
	echo) cat "$2" >"$3" ;;
	*) echo "host_tool: unknown tool $1" >"$3"; false ;;
	esac
	_ht_rc=$?
	rm -f "$_ht_raw"
	return $_ht_rc
}

#!/bin/bash
# host-agent.sh - runs one allowlisted tool on the test machine for a scenario inside L1 (the nested bridge).
#
# QEMU starts this once per connection L1 makes to 10.0.2.100:7000 (run-l1.sh: guestfwd=...-cmd:), with the
# connection on stdin/stdout. On a real arm64 host there is no agent: lib.sh's host_tool runs the tool directly.
# Request: one line "TOOL LEN", then LEN bytes (the tool's input). Reply: one line "HOST-TOOL-EXIT STATUS OUTLEN",
# then OUTLEN bytes: the tool's output (stdout and stderr). Tools:
#   gdb       LEN bytes are a gdb script, run as gdb-multiarch -nx -batch -x SCRIPT; in it @GDB_TARGET@ becomes
#             the host's end of the forward to port 1234 in L1 and @GUEST_DIR@ the bare-metal payloads' directory
#             (build/guest: NAME.elf has the symbols).
#   promtool  LEN bytes are a scrape; runs promtool check metrics on them.
#   promtool-om  LEN bytes are an OpenMetrics scrape; Prometheus's OpenMetrics parser reads it (promtool tsdb
#             create-blocks-from openmetrics, which needs a timestamp on every sample: one is appended to each).
#   echo      LEN bytes come back unchanged (the bridge's own test).
# Environment (exported by run-l1.sh): LKVM_GDB_PORT, LKVM_REPO.
set -u
export LC_ALL=C
REPO=${LKVM_REPO:?}
MAX=$((16 << 20))

out=$(mktemp /tmp/lkvm-host-agent-out.XXXXXX)
# reply_exit STATUS: send the header and what the tool printed (collected in $out), and end
reply_exit() {
	exec 1>&3 2>/dev/null
	printf 'HOST-TOOL-EXIT %d %d\n' "$1" "$(stat -c %s "$out")"
	cat "$out"
	rm -f "$out"
	exit 0
}
exec 3>&1 >"$out" 2>&1

read -r tool len || reply_exit 2
case $len in
'' | *[!0-9]*) echo "host-agent: bad request length '$len'"; reply_exit 2 ;;
esac
if [ "$len" -gt "$MAX" ]; then
	echo "host-agent: request of $len bytes is over $MAX"
	reply_exit 2
fi
tmp=$(mktemp -d /tmp/lkvm-host-agent.XXXXXX)
trap 'rm -rf "$tmp" "$out"' EXIT
head -c "$len" >"$tmp/in"
got=$(stat -c %s "$tmp/in")
if [ "$got" != "$len" ]; then
	echo "host-agent: request ended after $got of $len bytes"
	reply_exit 2
fi

case $tool in
gdb)
	if ! command -v gdb-multiarch >/dev/null; then
		echo "host-agent: gdb-multiarch is not installed on the test machine (Debian package gdb-multiarch)"
		reply_exit 127
	fi
	sed -e "s|@GDB_TARGET@|127.0.0.1:${LKVM_GDB_PORT:?}|g" -e "s|@GUEST_DIR@|$REPO/build/guest|g" \
		"$tmp/in" >"$tmp/script.gdb"
	timeout -k 5 300 gdb-multiarch -nx -batch -x "$tmp/script.gdb" </dev/null 2>&1
	reply_exit $?
	;;
promtool)
	if ! command -v promtool >/dev/null; then
		echo "host-agent: promtool is not installed on the test machine (Debian package prometheus)"
		reply_exit 127
	fi
	timeout -k 5 60 promtool check metrics <"$tmp/in" 2>&1
	reply_exit $?
	;;
promtool-om)
	if ! command -v promtool >/dev/null; then
		echo "host-agent: promtool is not installed on the test machine (Debian package prometheus)"
		reply_exit 127
	fi
	awk '/^#/ { print; next } { print $0 " 1700000000" }' "$tmp/in" >"$tmp/om"
	timeout -k 5 60 promtool tsdb create-blocks-from openmetrics "$tmp/om" "$tmp/db" 2>&1
	reply_exit $?
	;;
echo)
	cat "$tmp/in"
	reply_exit 0
	;;
*)
	echo "host-agent: unknown tool '$tool' (gdb, promtool, promtool-om, echo)"
	reply_exit 2
	;;
esac

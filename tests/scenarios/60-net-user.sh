# 60-net-user.sh - -n mode=user through passt: without passt one line and exit 1; the guest's udhcpc gets a lease
# (address, route, DNS) and the stable MAC; guest -> L1: a 4 MiB wget from busybox httpd, checksums equal; L1 -> guest
# through hostfwd: 1 MiB into the guest's nc -l and 4 MiB out of the guest's httpd, checksums equal; a UDP
# request/response (the guest's nslookup, a responder on L1's loopback); lkvm stat shows
# the link; a passt that dies takes the link down and lkvm keeps running; then all of it as lkvmuser (uid 1000).
# timeout: 600
. "$(dirname "$0")/lib.sh"

# --- passt missing: one line naming the package, exit 1, no guest ---
timeout -k 5 60 env PATH=/nonexistent "$LKVM" run -c 1 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" -n mode=user \
	</dev/null >"$WORK/nopasst.out" 2>"$WORK/nopasst.err"
RC=$?
sed 's/^/err: /' "$WORK/nopasst.err" >>"$LOG"
if [ "$RC" = 1 ] && [ "$(nonempty_lines "$WORK/nopasst.err")" = 1 ] && has "$WORK/nopasst.err" "package passt" &&
	! booted "$WORK/nopasst.out"; then
	ok "no passt: exit 1, one line: $(first_line "$WORK/nopasst.err" | tr -s ' ')"
else
	not_ok "no passt: exit $RC, $(nonempty_lines "$WORK/nopasst.err") lines: $(first_line "$WORK/nopasst.err")"
fi
# a socket nobody listens on: one line, exit 1
lkvm_run badsock 60 run -c 1 -m 256 -k "$L2_KERNEL" -i "$L2_INITRD" -n "mode=user,socket=$WORK/nothing.sock"
b=no
booted "$OUT" && b=yes
check "socket=PATH with nobody there: exit 1, one line, no guest ($(first_line "$ERR" | tr -s ' '))" \
	[ "$RC" = 1 -a "$(nonempty_lines "$ERR")" = 1 -a "$b" = no ]

if ! command -v passt >/dev/null 2>&1; then
	ok "# SKIP passt is not installed here (Debian package passt): the rest needs it"
	finish
fi

mkdir -p "$WORK/www"
dd if=/dev/urandom of="$WORK/www/blob" bs=4096 count=1024 2>/dev/null
chmod -R a+rX "$WORK/www"
want=$(md5sum <"$WORK/www/blob" | cut -d' ' -f1)
httpd -p 8080 -h "$WORK/www"
dd if=/dev/urandom of="$WORK/h2g.bin" bs=4096 count=256 2>/dev/null
h2g=$(md5sum <"$WORK/h2g.bin" | cut -d' ' -f1)

# user_net TAG WHO: boot a guest with mode=user and two forwards, as root or as lkvmuser; check lease, MAC, transfers
user_net() {
	tag=$1 who=$2 lk=$LKVM
	if [ "$who" = lkvmuser ]; then
		lk="$WORK/lkvm-as-user"
		# busybox su reads options after the user too: hand the command line over as one string (no spaces in it)
		printf '#!/bin/sh\nexec su lkvmuser -s /bin/sh -c "exec %s $*"\n' "$LKVM" >"$lk"
		chmod 755 "$lk"
	fi
	saved=$LKVM
	LKVM=$lk
	guest_start "$tag" 400 run -c 1 -m 256 --name "$tag" -k "$L2_KERNEL" -i "$L2_INITRD" -p quiet \
		-n "mode=user,hostfwd=tcp::2222-:7000,hostfwd=tcp:127.0.0.1:2280-:80"
	LKVM=$saved
	if ! wait_for "$OUT" "l2# " 150; then
		guest_kill
		not_ok "$tag: no guest shell"
		return 1
	fi
	guest_send "echo MAC=\$(cat /sys/class/net/eth0/address); udhcpc -i eth0 -n -q -t 10 -T 3 -s /etc/l2/udhcpc.sh"
	if wait_for "$OUT" "LEASE ip=" 90; then
		lease=$(tr -d '\r' <"$OUT" | grep -m 1 '^LEASE ')
		check "$tag ($who): udhcpc lease: ${lease#LEASE }" sh -c "echo '$lease' | grep -q 'ip=10.0.2.15 .*router=10.0.2.2 dns=[0-9]'"
	else
		not_ok "$tag ($who): no DHCP lease"
	fi
	check "$tag: stable MAC from the VM name" has "$OUT" "MAC=02:4c:4b"
	t0=$(now_cs)
	guest_send "wget -q -O /tmp/blob http://10.0.2.2:8080/blob; echo GOT-\$((7*6))=\$(md5sum </tmp/blob | cut -d' ' -f1) \$(wc -c </tmp/blob)"
	wait_for "$OUT" "GOT-42=" 200
	t1=$(now_cs)
	check "$tag: guest -> L1: 4 MiB wget from L1's httpd (via the gateway 10.0.2.2) in $(cs_fmt $((t1 - t0))) s, checksums equal" has "$OUT" "GOT-42=$want 4194304"
	[ "$who" = lkvmuser ] && return 0

	# L1 -> guest through hostfwd tcp 127.0.0.1:2222 -> guest port 7000 (busybox nc: stdins held open)
	# (busybox nc ends at its stdin's end: the listener reads a FIFO it holds open itself, the sender lingers)
	guest_send "mkfifo /tmp/hold; (nc -l -p 7000 <>/tmp/hold >/tmp/h2g; echo NCIN-\$((2*2))=\$(md5sum </tmp/h2g | cut -d' ' -f1) \$(wc -c </tmp/h2g)) &"
	sleep 3
	t0=$(now_cs)
	(cat "$WORK/h2g.bin"; sleep 5) | timeout 120 nc 127.0.0.1 2222 >>"$LOG" 2>&1
	wait_for "$OUT" "NCIN-4=" 60
	t1=$(now_cs)
	check "$tag: L1 -> guest: 1 MiB through hostfwd tcp::2222-:7000 into nc -l in $(cs_fmt $((t1 - t0))) s (5 s of it lingering), checksums equal" has "$OUT" "NCIN-4=$h2g 1048576"
	# guest -> L1 through hostfwd 127.0.0.1:2280 -> the guest's httpd on port 80
	guest_send "mkdir -p /tmp/gw; cp /tmp/blob /tmp/gw/out; httpd -p 80 -h /tmp/gw; echo HTTPD-\$((3*3))"
	wait_for "$OUT" "HTTPD-9" 30
	t0=$(now_cs)
	wget -q -O "$WORK/g2h.recv" http://127.0.0.1:2280/out >>"$LOG" 2>&1
	t1=$(now_cs)
	got=$(md5sum <"$WORK/g2h.recv" | cut -d' ' -f1)
	check "$tag: guest -> L1: 4 MiB from the guest's httpd through hostfwd tcp:127.0.0.1:2280-:80 in $(cs_fmt $((t1 - t0))) s, checksums equal" [ "$got" = "$want" ]

	# UDP both ways: the guest's nslookup asks a DNS responder on L1's loopback (through the gateway), which answers
	if [ -x "$TOOLS/udpans" ]; then
		"$TOOLS/udpans" 127.0.0.1 5353 2 >"$WORK/udpans.log" 2>&1 &
		sleep 1
		guest_send "echo DNS-\$((4*4))=\$(nslookup lkvm.test 10.0.2.2:5353 2>&1 | grep -c NXDOMAIN)"
		wait_for "$OUT" "DNS-16=" 60
		nq=$(grep -c 'query of' "$WORK/udpans.log")
		check "$tag: UDP: the guest's DNS queries reached L1 ($nq), the answers came back ($(tr -d '\r' <"$OUT" | sed -n 's/^DNS-16=//p' | head -n 1) NXDOMAIN)" \
			sh -c "[ $nq -ge 1 ] && tr -d '\r' <'$OUT' | grep -q '^DNS-16=[1-9]'"
		kill $! 2>/dev/null
	fi
	# lkvm stat shows the link; then passt dies: a warning, the link goes down, lkvm keeps running
	"$LKVM" stat --name "$tag" >"$WORK/stat1" 2>&1
	check "$tag: lkvm stat: $(grep -o 'net0=[^ ]*' "$WORK/stat1")" has "$WORK/stat1" "net0=user:up"
	pid=$(pidof passt)
	kill -9 $pid 2>/dev/null
	sleep 2
	guest_send "echo ALIVE-\$((5+5)) \$(cat /sys/class/net/eth0/operstate)"
	wait_for "$OUT" "ALIVE-10" 30
	"$LKVM" stat --name "$tag" >"$WORK/stat2" 2>&1
	check "$tag: passt (pid $pid) killed: lkvm runs on, lkvm stat says $(grep -o 'net0=[^ ]*' "$WORK/stat2")" \
		has "$WORK/stat2" "net0=user:down"
	opstate=$(tr -d '\r' <"$OUT" | sed -n 's/^ALIVE-10 //p' | head -n 1)
	check "$tag: the guest sees its link down (eth0 operstate '$opstate')" [ "$opstate" = down ]
	guest_send 'poweroff -f'
	guest_wait
	check "$tag: guest powered off, exit 0 ($(rc_text "$RC"))" [ "$RC" = 0 ]
	check "$tag: one warning line: $(grep -m 1 'link is down' "$ERR" | tr -s ' ')" has "$ERR" "link is down"
}

user_net usernet root
user_net usernet-user lkvmuser
if [ -n "$GUEST_PID" ]; then guest_send 'poweroff -f'; guest_wait; fi
check "no passt left behind ($(pidof passt))" [ -z "$(pidof passt)" ]
kill $(pidof httpd) 2>/dev/null
finish

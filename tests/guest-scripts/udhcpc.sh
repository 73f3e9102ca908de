#!/bin/sh
# udhcpc.sh - busybox udhcpc's event script in the L2 guest: apply a lease (address, default route, DNS) and print it.
case $1 in
deconfig)
	ip addr flush dev "$interface" 2>/dev/null
	ip link set "$interface" up
	;;
bound | renew)
	ip addr flush dev "$interface" 2>/dev/null
	ip addr add "$ip/${mask:-24}" dev "$interface"
	[ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface" 2>/dev/null
	: >/etc/resolv.conf
	for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
	echo "LEASE ip=$ip mask=${mask:-?} router=${router:-none} dns=$(echo $dns | tr ' ' ,)"
	;;
esac
exit 0

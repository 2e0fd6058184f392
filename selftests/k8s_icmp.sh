#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ICMP errors about a Service's flows reach the client translated back to
# the VIP, IPv4 and IPv6:
#  - path MTU discovery across the VIP: the node's link to be1 has MTU
#    1280 (be1's own interface keeps 1500, so be1 advertises a full MSS);
#    the client uploads 200 KB over TCP through the VIP and be1 answers
#    with their checksum.  The upload completes, with the right checksum,
#    because the node's "fragmentation needed" / "packet too big" about the
#    DNATed packets reaches the client translated back (the client's route
#    to the VIP then carries the learnt MTU 1280);
#  - a UDP datagram through the VIP to a backend port where nothing
#    listens: be1's ICMP port unreachable reaches the client translated
#    back: the connected socket gets ECONNREFUSED, and the ICMP error the
#    client receives comes from the VIP and is about VIP:PORT.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_k8s.sh"

MTU=1280
SIZE=200000

kcip_require
setup_topo 1
ip -n "$node" link set b1 mtu $MTU || { fail "mtu $MTU on b1"; ksft_exit; }
check_topo
no_icmp_ratelimit "$node" "$be1"

# be1: a checksum server (one socat process per connection is fine here:
# there are two)
ip netns exec "$be1" socat TCP6-LISTEN:9000,ipv6only=0,reuseaddr,fork \
	SYSTEM:'md5sum' > /dev/null 2>&1 &
BG_PIDS+=($!)
wait_listening "$be1" tcp 9000 || ksft_exit

{
	for vip in "$VIP4" "$VIP6"; do
		svc_lines "$vip" 80 tcp 9000 1
		# nothing listens on be1's UDP port 9999
		svc_lines "$vip" 81 udp 9999 1
	done
} | kcip_load "$node" || ksft_exit

DATA=$(mktemp_file)
head -c $SIZE /dev/urandom > "$DATA"
SUM=$(md5sum < "$DATA" | cut -d' ' -f1)

icmp_family()
{
	local fam=$1 vip=$2 got mtu

	log "$fam: $SIZE bytes uploaded through $vip:80, link MTU $MTU"
	got=$(ip netns exec "$client" timeout 60 socat -t 30 -T 30 - \
		TCP:"$(bracket "$vip")":80 < "$DATA" | cut -d' ' -f1)
	if [ "$got" = "$SUM" ]; then
		pass "$fam: upload through the VIP completed, checksum matches"
	else
		fail "$fam: upload through the VIP: checksum '$got', want $SUM"
	fi
	mtu=$(ip -n "$client" route get "$vip" | sed -n 's/.* mtu \([0-9]*\).*/\1/p')
	if [ "$mtu" = $MTU ]; then
		pass "$fam: the client learnt path MTU $mtu for $vip (translated ICMP error)"
	else
		fail "$fam: client's path MTU for $vip is '${mtu:-none}', want $MTU: $(ip -n "$client" route get "$vip")"
	fi

	log "$fam: udp to $vip:81, nothing listening on be1:9999"
	probe_many "$client" udp 2 --timeout 3 --icmp -- "$vip" 81
	expect_refused_fast "$fam udp, port unreachable from be1" "$vip" 81
	icmp_count "$vip" 81 "$(port_unreach "$fam")" "$vip"
	if [ "$REPLY" -ge 2 ]; then
		pass "$fam: $REPLY ICMP port unreachable from $vip about $vip:81 (translated back)"
	else
		fail "$fam: $REPLY ICMP port unreachable from $vip about $vip:81, want 2"
		many_show "$vip" 81
	fi
}

icmp_family ipv4 "$VIP4"
icmp_family ipv6 "$VIP6"

dmesg_check
ksft_exit

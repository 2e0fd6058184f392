#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Services with no usable endpoint, IPv4 and IPv6, seen from the client:
#  - "no-endpoints reject" (the default), with no backend at all, or every
#    backend down, on a VIP and on a NodePort: a TCP connect fails with
#    ECONNREFUSED well under a second, a connected UDP socket gets
#    ECONNREFUSED, and the client receives an ICMP port unreachable
#    (ICMPv6 port unreachable) about its own packet to the Service (inner
#    destination: the VIP or node address and the Service port);
#  - "no-endpoints drop": TCP connect and UDP query time out, on a VIP and
#    on a NodePort (the node itself would have refused: the entry really
#    caught the flow);
#  - the rejects and drops counters of each Service move accordingly, and
#    no new flow is counted.
# The node's link to the client has 10 ms of delay, as any real link: see
# client_link_delay in lib_k8s.sh for why a bare veth pair hides IPv6 TCP
# rejects for a second.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_k8s.sh"

N=3

kcip_require
setup_topo 1
no_icmp_ratelimit "$node"
client_link_delay

{
	for a in "$VIP4" "$VIP6"; do
		for proto in tcp udp; do
			svc_lines "$a" 80 $proto 8080 ""
			svc_lines "$a" 82 $proto 8080 "" no-endpoints drop
		done
		echo "service add $(svc "$a" 83 tcp)"
		echo "backend add $(svc "$a" 83 tcp) $(be "$(be_of 1 "$(fam_of "$a")")" 8080) state down"
	done
	for a in 0.0.0.0 ::; do
		svc_lines $a 30081 tcp 8080 ""
		svc_lines $a 30082 tcp 8080 "" no-endpoints drop
	done
} | kcip_load "$node" || ksft_exit

# icmp_unreach_ok DESC FAMILY ADDR PORT N: at least N ICMP port
# unreachable errors about packets to ADDR:PORT in the last probe_many
icmp_unreach_ok()
{
	local desc=$1 fam=$2 addr=$3 port=$4 want=$5

	icmp_count "$addr" "$port" "$(port_unreach "$fam")" any
	if [ "$REPLY" -ge "$want" ]; then
		pass "$desc: $REPLY ICMP port unreachable about $addr:$port received"
	else
		fail "$desc: $REPLY ICMP port unreachable about $addr:$port received, want $want"
		many_show "$addr" "$port"
	fi
}

reject_family()
{
	local fam=$1 vip=$2 naddr=$3
	local snap v proto

	log "$fam: no-endpoints reject"
	probe_many "$client" tcp $N --timeout 3 --icmp -- "$vip" 80 "$vip" 83 "$naddr" 30081
	expect_refused_fast "$fam tcp, no backend" "$vip" 80
	icmp_unreach_ok "$fam tcp, no backend" "$fam" "$vip" 80 $N
	expect_refused_fast "$fam tcp, every backend down" "$vip" 83
	icmp_unreach_ok "$fam tcp, every backend down" "$fam" "$vip" 83 $N
	expect_refused_fast "$fam tcp NodePort $naddr:30081, no backend" "$naddr" 30081
	icmp_unreach_ok "$fam tcp NodePort, no backend" "$fam" "$naddr" 30081 $N

	probe_many "$client" udp $N --timeout 3 --icmp -- "$vip" 80
	expect_refused_fast "$fam udp, no backend (ECONNREFUSED on the connected socket)" "$vip" 80
	icmp_unreach_ok "$fam udp, no backend" "$fam" "$vip" 80 $N

	log "$fam: no-endpoints drop"
	probe_many "$client" tcp 2 --timeout 1.5 -- "$vip" 82 "$naddr" 30082
	expect_many "$fam tcp, no-endpoints drop: connect times out" "$vip" 82 timeout
	expect_many "$fam tcp NodePort $naddr:30082, no-endpoints drop: connect times out" \
		"$naddr" 30082 timeout
	probe_many "$client" udp 2 --timeout 1.5 -- "$vip" 82
	expect_many "$fam udp, no-endpoints drop: no answer" "$vip" 82 timeout

	snap=$(kcip_snapshot "$node")
	# stat ADDR PORT PROTO FIELD OP WANT
	stat()
	{
		v=$(snap_get "$snap" "$1" "$2" "$3" "$4")
		if test "$v" "$5" "$6"; then
			pass "$fam $1:$2/$3: $4=$v"
		else
			fail "$fam $1:$2/$3: $4=$v, want $5 $6"
		fi
	}
	# a SYN sent again before the client saw the error counts again: >=
	for proto in tcp udp; do
		stat "$vip" 80 $proto rejects -ge $N
		stat "$vip" 80 $proto drops -eq 0
		stat "$vip" 82 $proto drops -ge 2
		stat "$vip" 82 $proto rejects -eq 0
	done
	stat "$vip" 83 tcp rejects -ge $N
	stat "$vip" 83 tcp new_flows -eq 0
	stat "$(nodeport_addr "$fam")" 30081 tcp rejects -ge $N
	stat "$(nodeport_addr "$fam")" 30081 tcp new_flows -eq 0
	stat "$(nodeport_addr "$fam")" 30082 tcp drops -ge 2
}

reject_family ipv4 "$VIP4" "$NODE4"
reject_family ipv6 "$VIP6" "$NODE6"

dmesg_check
ksft_exit

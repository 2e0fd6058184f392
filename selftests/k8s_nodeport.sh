#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# NodePort and LoadBalancer Services, IPv4 and IPv6.
#
# NodePort entries 0.0.0.0:30080 and [::]:30080, TCP and UDP, backends be1
# and be2 on 8080.  The node has a second address on a dummy interface.
# Seen from outside:
#  - from the client, flows to the node's client-facing address and to its
#    dummy address on 30080 are answered by be1/be2 (TCP and UDP), and
#    conntrack shows them DNATed to a backend;
#  - from the node itself (LOCAL_OUT), flows to those two addresses are too;
#  - to 127.0.0.1 / ::1 the entry does not apply: refused by the node
#    (TCP: RST; UDP: ICMP port unreachable);
#  - traffic only forwarded through the node to another host's port 30080
#    (be3 runs its own server there) is not translated: be3 answers, and
#    sees the client's address; the same from the node to be3;
#  - a LoadBalancer IP (192.0.2.100, 2001:db8::100) is a plain VIP entry.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_k8s.sh"

N=4
NP=30080
DUMMY4=192.168.77.1
DUMMY6=fd00:77::1
LB4=192.0.2.100
LB6=2001:db8::100

kcip_require
checktool "conntrack -V" "run test without conntrack"
setup_topo 3

ip -n "$node" -batch - <<-EOF || { fail "dummy interface on the node"; ksft_exit; }
	link add dummy0 type dummy
	addr add $DUMMY4/32 dev dummy0
	addr add $DUMMY6/128 dev dummy0 nodad
	link set dummy0 up
EOF
check_topo

for i in 1 2; do
	NOWAIT=1 start_server "${BACKENDS[$((i - 1))]}" "be$i" tcp,udp 8080
done
# be3 is not a backend: a host of its own with a server on the NodePort
NOWAIT=1 start_server "$be3" be3 tcp,udp $NP
wait_listening "$be1" tcp,udp 8080 "$be2" tcp,udp 8080 "$be3" tcp,udp $NP || ksft_exit

{
	for proto in tcp udp; do
		svc_lines 0.0.0.0 $NP $proto 8080 "1 2"
		svc_lines :: $NP $proto 8080 "1 2"
	done
	svc_lines $LB4 80 tcp 8080 "1 2"
	svc_lines $LB6 80 tcp 8080 "1 2"
} | kcip_load "$node" || ksft_exit
log "node state:"
kcip -n "$node" show | sed 's/^/#   /'

nodeport_family()
{
	local fam=$1 naddr=$2 daddr=$3 caddr=$4 lo=$5 lb=$6
	local proto b3 n

	b3=$(be_of 3 "$fam")
	for proto in tcp udp; do
		log "$fam $proto: from the client: NodePort, forwarded to be3:$NP${lb:+, LoadBalancer IP}"
		if [ $proto = tcp ]; then
			probe_many "$client" $proto $N -- "$naddr" $NP "$daddr" $NP "$b3" $NP "$lb" 80
		else
			probe_many "$client" $proto $N -- "$naddr" $NP "$daddr" $NP "$b3" $NP
		fi
		expect_many "$fam $proto client -> node $naddr:$NP" "$naddr" $NP "be1 be2"
		expect_many "$fam $proto client -> node's dummy address $daddr:$NP" "$daddr" $NP "be1 be2"
		expect_many "$fam $proto client -> $b3:$NP, only forwarded: not translated" "$b3" $NP be3
		many_first "$b3" $NP
		expect_peer "$fam $proto client -> $b3:$NP, only forwarded" "$caddr"
		[ $proto = tcp ] &&
			expect_many "$fam tcp client -> LoadBalancer IP $lb:80" "$lb" 80 "be1 be2"

		ct_load "$node" "$fam" $proto
		ct_to "$naddr" "$(be_of 1 "$fam")"
		n=$REPLY
		ct_to "$naddr" "$(be_of 2 "$fam")"
		n=$((n + REPLY))
		if [ "$n" -ge $N ]; then
			pass "$fam $proto: conntrack: $n entries $naddr:$NP DNATed to be1/be2"
		else
			fail "$fam $proto: conntrack: $n entries $naddr:$NP DNATed to be1/be2, want >= $N"
		fi

		log "$fam $proto: from the node itself: NodePort, to be3:$NP, to $lo:$NP"
		probe_many "$node" $proto $N --timeout 3 -- \
			"$naddr" $NP "$daddr" $NP "$b3" $NP "$lo" $NP
		expect_many "$fam $proto node -> its own $naddr:$NP" "$naddr" $NP "be1 be2"
		expect_many "$fam $proto node -> its own dummy address $daddr:$NP" "$daddr" $NP "be1 be2"
		expect_many "$fam $proto node -> $b3:$NP, not translated" "$b3" $NP be3
		expect_many "$fam $proto node -> loopback $lo:$NP, not a NodePort address (refused)" \
			"$lo" $NP refused
	done
}

nodeport_family ipv4 "$NODE4" "$DUMMY4" "$CLIENT4" 127.0.0.1 "$LB4"
nodeport_family ipv6 "$NODE6" "$DUMMY6" "$CLIENT6" ::1 "$LB6"

dmesg_check
ksft_exit

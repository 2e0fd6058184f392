#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Masquerade and hairpin, IPv4 and IPv6, seen from the backends (each
# names the source address it saw):
#  - "masquerade on": the backend sees the node's own address on the link
#    to that backend (10.244.N.1, fd00:244:N::1), and conntrack's reply
#    destination is that address; "masquerade off" (service change): the
#    client's own address again;
#  - NodePort from outside to a backend (be3) whose host has no default
#    route (none pointing at this node): without masquerade the backend
#    cannot answer and the connection times out; with "masquerade on" it
#    works, be3 seeing the node's address;
#  - hairpin: be1 connecting to a Service (masquerade off) whose only
#    backend is be1 itself gets its own server, which sees the node's
#    address (hairpin flows are always masqueraded); be2 connecting to the
#    same Service is not masqueraded (be1 sees be2's address).

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_k8s.sh"

N=4
NP=30080

kcip_require
checktool "conntrack -V" "run test without conntrack"
setup_topo 3
check_topo
servers tcp 8080 -- 1 2 3 || ksft_exit
# be3's host routes nothing via the node: only its own link is reachable
ip -n "$be3" route del default &&
ip -n "$be3" -6 route del default || { fail "be3: route del default"; ksft_exit; }

{
	for vip in "$VIP4" "$VIP6"; do
		svc_lines "$vip" 80 tcp 8080 "1 2" sched rr masquerade on
		svc_lines "$vip" 81 tcp 8080 "1"
	done
	svc_lines 0.0.0.0 $NP tcp 8080 "3"
	svc_lines :: $NP tcp 8080 "3"
} | kcip_load "$node" || ksft_exit

# expect_node_peers DESC ADDR PORT FAMILY: every flow to ADDR PORT in the
# last probe_many was answered, and backend beN saw the node's address on
# its own link as source
expect_node_peers()
{
	local desc=$1 addr=$2 port=$3 fam=$4 l res name peer want bad="" n=0

	many_lines flow "$addr" "$port"
	for l in "${LINES[@]}"; do
		read -r res name peer _ <<< "$l"
		if [ "$res" != ok ]; then
			bad="$l"
			continue
		fi
		want=$(node_be_addr "${name#be}" "$fam")
		[ "$peer" = "$want" ] || bad="$name saw $peer, want $want"
		n=$((n + 1))
	done
	[ $n -gt 0 ] || bad="${bad:-no flow answered}"
	if [ -z "$bad" ]; then
		many_get peers "$addr" "$port"
		pass "$desc: each backend saw the node's address on its link ($REPLY)"
	else
		fail "$desc: $bad"
	fi
}

masq_family()
{
	local fam=$1 vip=$2 naddr=$3 caddr=$4 i

	log "$fam: masquerade on"
	probe_many "$client" tcp $N -- "$vip" 80
	expect_many_all "$fam masquerade on" "$vip" 80 "be1 be2"
	expect_node_peers "$fam masquerade on" "$vip" 80 "$fam"
	ct_load "$node" "$fam" tcp
	for i in 1 2; do
		ct_to "$vip" "$(be_of $i "$fam")"
		if [ "$REPLY" -ge 1 ] && [ "$REPLY_DSTS" = "$(node_be_addr $i "$fam")" ]; then
			pass "$fam masquerade on: conntrack: be$i answers to the node's $REPLY_DSTS"
		else
			fail "$fam masquerade on: conntrack: $REPLY entries to be$i, answering to '$REPLY_DSTS', want the node's $(node_be_addr $i "$fam")"
		fi
	done

	log "$fam: masquerade off"
	kcip -n "$node" service change "$(svc "$vip" 80 tcp)" masquerade off ||
		fail "$fam: service change masquerade off"
	probe_many "$client" tcp 2 -- "$vip" 80
	expect_many_peers "$fam masquerade off: the client's address again" "$vip" 80 "$caddr"

	log "$fam: NodePort to be3, whose host has no default route"
	probe_many "$client" tcp 1 --timeout 2 -- "$naddr" $NP
	expect_many "$fam NodePort, masquerade off, backend cannot answer: times out" \
		"$naddr" $NP timeout
	kcip -n "$node" service change "$(svc "$(nodeport_addr "$fam")" $NP tcp)" \
		masquerade on || fail "$fam: NodePort service change masquerade on"
	probe_many "$client" tcp 2 -- "$naddr" $NP
	expect_many "$fam NodePort, masquerade on" "$naddr" $NP be3
	expect_many_peers "$fam NodePort, masquerade on: be3 sees the node" \
		"$naddr" $NP "$(node_be_addr 3 "$fam")"

	log "$fam: hairpin"
	probe_many "$be1" tcp 2 -- "$vip" 81
	expect_many "$fam hairpin: be1 -> its own Service" "$vip" 81 be1
	expect_many_peers "$fam hairpin: be1 sees the node, not itself" \
		"$vip" 81 "$(node_be_addr 1 "$fam")"
	probe_many "$be2" tcp 1 -- "$vip" 81
	expect_many_peers "$fam be2 -> the same Service, masquerade off: be1 sees be2" \
		"$vip" 81 "$(be_of 2 "$fam")"
}

masq_family ipv4 "$VIP4" "$NODE4" "$CLIENT4"
masq_family ipv6 "$VIP6" "$NODE6" "$CLIENT6"

dmesg_check
ksft_exit

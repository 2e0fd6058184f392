#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Source addresses the backends see, IPv4 and IPv6:
#  - default (masquerade off): the client's own address, and conntrack's
#    reply destination is the client;
#  - masquerade on: the node's address on the backend's link, conntrack's
#    reply destination is that node address; the payload still comes back
#    intact;
#  - hairpin: a backend reaching its own Service and picked for it gets an
#    answer (from itself), masqueraded to the node's address, even with
#    masquerade off.

source "$(dirname "$0")/lib.sh"

kcip_require
checktool "conntrack -V" "run test without conntrack"
setup_topo 3
start_servers tcp,udp 8080

for vip in "$VIP4" "$VIP6"; do
	case $vip in
	*:*) fam=ipv6 f=6 addrfn=be_addr6 client_addr=$CLIENT6 ;;
	*) fam=ipv4 f=4 addrfn=be_addr4 client_addr=$CLIENT4 ;;
	esac
	# the node's addresses on the backend links; be1's for hairpin
	if [ $f = 6 ]; then
		node_addrs="fd00:244:1::1 fd00:244:2::1 fd00:244:3::1"
	else
		node_addrs="10.244.1.1 10.244.2.1 10.244.3.1"
	fi
	hairpin_addr=${node_addrs%% *}

	log "$fam: masquerade off (default)"
	add_service "$node" "$vip" 80 tcp 8080 || ksft_exit
	out=$(flows "$client" tcp "$vip" 80 9 --peers | tail -n 1)
	if [[ "$out" == *"ok=9 "* ]] && [[ "$out" == *" peers=$client_addr" ]]; then
		pass "$fam: backends see the client's address ($out)"
	else
		fail "$fam: without masquerade ($out)"
	fi

	log "$fam: masquerade on"
	add_service "$node" "$vip" 81 udp 8080 masquerade on || ksft_exit
	out=$(flows "$client" udp "$vip" 81 12 --peers | tail -n 1)
	peers=${out##* peers=}
	bad=""
	for p in ${peers//,/ }; do
		[[ " $node_addrs " == *" $p "* ]] || bad="$bad $p"
	done
	if [[ "$out" == *"ok=12 "* ]] && [ -n "$peers" ] && [ -z "$bad" ]; then
		pass "$fam: with masquerade on, backends see node addresses only ($out)"
	else
		fail "$fam: masquerade on: backends saw$bad ($out)"
	fi
	n=$(ip netns exec "$node" conntrack -L -f $fam -p udp --orig-dst "$vip" --reply-dst "$client_addr" 2> /dev/null | grep -c .)
	m=$(ip netns exec "$node" conntrack -L -f $fam -p udp --orig-dst "$vip" 2> /dev/null | grep -c .)
	if [ "$m" -gt 0 ] && [ "$n" -eq 0 ]; then
		pass "$fam: conntrack: $m masqueraded entries, none replying to the client address"
	else
		fail "$fam: conntrack: $n of $m entries not masqueraded"
	fi

	log "$fam: hairpin"
	# be1 reaches the Service of its own: with only be1 in it, every flow
	# is a hairpin and must be masqueraded to work at all
	S=$(svc "$vip" 82 tcp)
	kcip -n "$node" service add "$S" &&
	kcip -n "$node" backend add "$S" "$(be "$($addrfn 1)" 8080)" || fail "setup $S"
	out=$(flows "$be1" tcp "$vip" 82 5 --peers | tail -n 1)
	if [[ "$out" == *"be1=5 ok=5 "* ]] && [[ "$out" == *" peers=$hairpin_addr" ]]; then
		pass "$fam: hairpin flows answered by be1 itself, masqueraded ($out)"
	else
		fail "$fam: hairpin ($out)"
	fi
	# other backends of the same Service still see the client address
	kcip -n "$node" backend add "$S" "$(be "$($addrfn 2)" 8080)" || fail "backend add be2"
	out=$(flows "$client" tcp "$vip" 82 8 --peers | tail -n 1)
	if [[ "$out" == *"ok=8 "* ]] && [[ "$out" == *" peers=$client_addr" ]]; then
		pass "$fam: non-hairpin flows of that Service not masqueraded ($out)"
	else
		fail "$fam: non-hairpin flows ($out)"
	fi
	# and be1 to it again: answered by be1 (hairpin, masqueraded) or by
	# be2 (plain, be1's own address)
	out=$(flows "$be1" tcp "$vip" 82 8 --peers | tail -n 1)
	if [[ "$out" == *"ok=8 "* ]]; then
		pass "$fam: be1 to a Service with be1 and be2 ($out)"
	else
		fail "$fam: be1 to a Service with be1 and be2 ($out)"
	fi
done

dmesg_check
ksft_exit

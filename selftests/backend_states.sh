#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Backend states, weights and the no-endpoints policy, seen from a client
# (IPv4; IPv6 from "weight 0 and down" on):
#  - weight 0 and state down get no new flows;
#  - terminating backends get new flows only when no backend is ready;
#  - weights are honoured (weight 3 gets more than weight 1);
#  - no usable backend (every one down, or down and weight 0): the
#    default "reject" refuses at once (TCP:
#    ECONNREFUSED from ICMP port unreachable; UDP: ECONNREFUSED on the
#    connected socket), the same with no backend at all, "no-endpoints
#    drop" makes flows time out;
#  - the new_flows / rejects / drops counters move accordingly.

source "$(dirname "$0")/lib.sh"

N=${N:-12}

kcip_require
setup_topo 3
start_servers tcp,udp 8080
# the reject counts below should not depend on ICMP rate limiting
ip netns exec "$node" sysctl -qw net.ipv4.icmp_ratelimit=0
ip netns exec "$node" sysctl -qw net.ipv6.icmp.ratelimit=0

# snap: take a snapshot of the counters for the stat_is that follow
SNAP=
snap() { SNAP=$(kcip_snapshot "$node"); }

# stat_is DESC VIP PROTO FIELD OP VALUE: a counter in the last snapshot
stat_is()
{
	local desc=$1 vip=$2 proto=$3 field=$4 op=$5 want=$6 v

	v=$(snap_get "$SNAP" "$vip" 80 "$proto" "$field")
	if test "$v" "$op" "$want"; then
		pass "$desc: $field=$v"
	else
		fail "$desc: $field=$v, want $op $want"
	fi
}

states_test()
{
	local vip=$1 proto=tcp fam=$2 addrfn=$3 full=$4
	local S B1 B2 B3 nf rj dr out

	S=$(svc "$vip" 80 $proto)
	B1=$(be "$($addrfn 1)" 8080)
	B2=$(be "$($addrfn 2)" 8080)
	B3=$(be "$($addrfn 3)" 8080)

	log "$fam: be1 ready, be2 weight 0, be3 down"
	kcip -n "$node" service add "$S" &&
	kcip -n "$node" backend add "$S" "$B1" &&
	kcip -n "$node" backend add "$S" "$B2" weight 0 &&
	kcip -n "$node" backend add "$S" "$B3" state down || fail "$fam: setup"
	flows_only_to "$client" $proto "$vip" 80 $N be1
	snap
	stat_is "$fam: $N flows" "$vip" $proto new_flows -eq $N
	v=$(snap_get "$SNAP" "$vip" 80 $proto new_flows "$($addrfn 1)")
	[ "$v" -eq $N ] && pass "$fam: be1 new_flows=$v" || fail "$fam: be1 new_flows=$v, want $N"

	# The state logic is the same for both families: IPv6 takes the short
	# way, to the no-endpoints cases, where be2 is left with weight 0
	if [ "$full" = 1 ]; then
		log "$fam: be1 terminating, be2 ready weight 1, be3 down"
		kcip -n "$node" backend change "$S" "$B1" state terminating &&
		kcip -n "$node" backend change "$S" "$B2" weight 1 || fail "$fam: change"
		flows_only_to "$client" $proto "$vip" 80 $N be2

		log "$fam: be2 down too: only terminating be1 is left"
		kcip -n "$node" backend change "$S" "$B2" state down || fail "$fam: change"
		flows_only_to "$client" $proto "$vip" 80 $N be1

		log "$fam: be3 ready weight 3: terminating be1 no longer used"
		kcip -n "$node" backend change "$S" "$B3" state ready weight 3 || fail "$fam: change"
		flows_only_to "$client" $proto "$vip" 80 $N be3

		log "$fam: be1 ready weight 1, be3 ready weight 3"
		kcip -n "$node" backend change "$S" "$B1" state ready || fail "$fam: change"
		# (be3 more than be1: with 40 random flows that failed about one
		# run in 2,000, with 100 one in ten million)
		if out=$(flows "$client" $proto "$vip" 80 100); then
			out=$(echo "$out" | tail -n 1)
			if [ "$(backend_count "$out" be3)" -gt "$(backend_count "$out" be1)" ] &&
			   [ "$(backend_count "$out" be2)" -eq 0 ]; then
				pass "$fam: weights 1:3 honoured ($out)"
			else
				fail "$fam: weights 1:3 not honoured ($out)"
			fi
		else
			fail "$fam: weighted flows: $out"
		fi
	fi

	log "$fam: every backend down or weight 0: reject"
	snap
	nf=$(snap_get "$SNAP" "$vip" 80 $proto new_flows)
	rj=$(snap_get "$SNAP" "$vip" 80 $proto rejects)
	kcip -n "$node" backend change "$S" "$B1" state down &&
	kcip -n "$node" backend change "$S" "$B3" state down || fail "$fam: change"
	check "$fam: tcp connection refused at once with every backend down" \
		flows "$client" $proto "$vip" 80 5 --timeout 3 --expect refused
	# at least one reject per flow (a SYN retransmitted before the
	# client saw the ICMP error counts again)
	snap
	stat_is "$fam: rejects counted" "$vip" $proto rejects -ge $((rj + 5))
	stat_is "$fam: no new flows counted" "$vip" $proto new_flows -eq "$nf"
	rj=$(snap_get "$SNAP" "$vip" 80 $proto rejects)

	log "$fam: no-endpoints drop"
	dr=$(snap_get "$SNAP" "$vip" 80 $proto drops)
	kcip -n "$node" service change "$S" no-endpoints drop || fail "$fam: service change no-endpoints drop"
	check "$fam: tcp connection times out with no-endpoints drop" \
		flows "$client" $proto "$vip" 80 3 --timeout 1.5 --expect timeout
	# SYN retransmits count too: at least one drop per flow
	snap
	stat_is "$fam: drops counted" "$vip" $proto drops -ge $((dr + 3))
	stat_is "$fam: no more rejects" "$vip" $proto rejects -eq "$rj"

	log "$fam: no backend at all, no-endpoints reject"
	kcip -n "$node" service change "$S" no-endpoints reject &&
	kcip -n "$node" backend del "$S" "$B1" &&
	kcip -n "$node" backend del "$S" "$B2" &&
	kcip -n "$node" backend del "$S" "$B3" || fail "$fam: backend del"
	check "$fam: tcp connection refused with no backends" \
		flows "$client" $proto "$vip" 80 3 --timeout 3 --expect refused
	snap
	stat_is "$fam: rejects counted" "$vip" $proto rejects -ge $((rj + 3))
	stat_is "$fam: no new flows counted" "$vip" $proto new_flows -eq "$nf"

	log "$fam: udp Service with no backend: ICMP port unreachable"
	S=$(svc "$vip" 80 udp)
	kcip -n "$node" service add "$S" || fail "$fam: service add $S"
	check "$fam: udp gets ECONNREFUSED with no backends" \
		flows "$client" udp "$vip" 80 3 --timeout 3 --expect refused
	snap
	stat_is "$fam: udp rejects counted" "$vip" udp rejects -ge 3
	kcip -n "$node" backend add "$S" "$B2" || fail "$fam: backend add"
	flows_only_to "$client" udp "$vip" 80 3 be2
	kcip -n "$node" service change "$S" no-endpoints drop &&
	kcip -n "$node" backend change "$S" "$B2" state down || fail "$fam: change"
	check "$fam: udp times out with no-endpoints drop" \
		flows "$client" udp "$vip" 80 3 --timeout 1.5 --expect timeout
	snap
	stat_is "$fam: udp drops counted" "$vip" udp drops -ge 3
	stat_is "$fam: udp new_flows" "$vip" udp new_flows -eq 3
}

states_test "$VIP4" ipv4 be_addr4 1
states_test "$VIP6" ipv6 be_addr6 0

dmesg_check
ksft_exit

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Body of clusterip_{tcp,udp,sctp}.sh: a ClusterIP Service over IPv4 and
# IPv6 with three backends running real (socat) servers.
#
# For each family it checks, from outside the module:
#  - one flow made by the socat client through the VIP brings back the
#    random payload byte for byte, from one of the backends;
#  - FLOWS more flows (kcip_client.py, own payload each) all come back
#    intact and every backend answered some of them;
#  - conntrack in the node shows the DNAT: original destination VIP:80,
#    reply source a backend:8080, client address kept;
#  - the Service's new_flows counter equals the number of flows and each
#    backend's counter equals the flows it was seen to answer.

# (every backend in FLOWS random flows: with 30 one was missed about one
# run in 30,000 per test, with 45 one in 10 million)
FLOWS=${FLOWS:-45}
SVC_PORT=80
BE_PORT=8080

# proto_usable PROTO: can this kernel do PROTO (the sctp module)?
proto_usable()
{
	[ "$1" != sctp ] && return 0
	modprobe -q sctp 2> /dev/null
	[ -d /proc/sys/net/sctp ]
}

# one_family PROTO VIP FAMILY(ipv4|ipv6) addrfn
one_family()
{
	local proto=$1 vip=$2 fam=$3 addrfn=$4
	local name out i n total sum=0 seen snap
	local -A got=()
	local bes=()

	for i in 1 2 3; do
		bes+=("$($addrfn "$i")")
	done

	log "$proto $fam: one flow with socat through $(svc "$vip" $SVC_PORT "$proto")"
	if name=$(payload_roundtrip "$client" "$proto" "$vip" $SVC_PORT); then
		case $name in
		be1 | be2 | be3)
			pass "$proto $fam: socat payload came back byte for byte from $name"
			got[$name]=1
			;;
		*)
			fail "$proto $fam: answer from unknown server '$name'"
			;;
		esac
	else
		fail "$proto $fam: socat flow through the VIP: $name"
	fi

	log "$proto $fam: $FLOWS flows with their own payloads"
	if out=$(flows "$client" "$proto" "$vip" $SVC_PORT "$FLOWS"); then
		pass "$proto $fam: $FLOWS flows, every payload intact ($(echo "$out" | tail -n 1))"
	else
		fail "$proto $fam: flows through the VIP"
		echo "$out" | sed 's/^/#   /'
	fi
	out=$(echo "$out" | tail -n 1)
	for i in 1 2 3; do
		n=$(backend_count "$out" "be$i")
		got[be$i]=$((${got[be$i]:-0} + n))
		if [ "$n" -gt 0 ]; then
			pass "$proto $fam: be$i answered $n of $FLOWS flows"
		else
			fail "$proto $fam: be$i answered none of $FLOWS flows ($out)"
		fi
	done

	# (SCTP: the node keeps closed associations' entries, see above)
	check "$proto $fam: conntrack shows DNAT $vip:$SVC_PORT -> backend:$BE_PORT" \
		ct_dnat_ok "$node" "$fam" "$proto" "$vip" $SVC_PORT $BE_PORT "${bes[@]}"

	snap=$(kcip_snapshot "$node")
	total=$(snap_get "$snap" "$vip" $SVC_PORT "$proto" new_flows)
	if [ "$total" -eq $((FLOWS + 1)) ]; then
		pass "$proto $fam: service new_flows counter is $total"
	else
		fail "$proto $fam: service new_flows counter is $total, want $((FLOWS + 1))"
	fi
	seen=""
	for i in 1 2 3; do
		n=$(snap_get "$snap" "$vip" $SVC_PORT "$proto" new_flows "${bes[$((i - 1))]}")
		sum=$((sum + n))
		seen="$seen be$i=$n/${got[be$i]}"
		[ "$n" -eq "${got[be$i]}" ] || seen="$seen(!)"
	done
	if [[ "$seen" != *'(!)'* ]] && [ "$sum" -eq "$total" ]; then
		pass "$proto $fam: backend new_flows counters match what answered (counter/seen:$seen)"
	else
		fail "$proto $fam: backend new_flows counters (counter/seen:$seen, sum $sum, service $total)"
	fi
}

clusterip_test()
{
	local proto=$1

	kcip_require
	checktool "conntrack -V" "run test without conntrack"
	proto_usable "$proto" || skip "no $proto in this kernel (sctp module missing?)"
	setup_topo 3
	check_topo
	# An SCTP association's entry leaves conntrack 3 s after SHUTDOWN
	# (then 10 s in CLOSED): on the debug kernel, with other guests on
	# the host, the conntrack check after the flows came too late and
	# found none.  The ends of the association stay listed here.
	if [ "$proto" = sctp ]; then
		ip netns exec "$node" sysctl -qw \
			net.netfilter.nf_conntrack_sctp_timeout_shutdown_sent=600 \
			net.netfilter.nf_conntrack_sctp_timeout_shutdown_recd=600 \
			net.netfilter.nf_conntrack_sctp_timeout_shutdown_ack_sent=600 \
			net.netfilter.nf_conntrack_sctp_timeout_closed=600 ||
			log "could not raise the node's SCTP conntrack timeouts"
	fi

	start_servers "$proto" $BE_PORT

	add_service "$node" "$VIP4" $SVC_PORT "$proto" $BE_PORT || ksft_exit
	add_service "$node" "$VIP6" $SVC_PORT "$proto" $BE_PORT || ksft_exit
	log "node state:"
	kcip -n "$node" show | sed 's/^/#   /'

	one_family "$proto" "$VIP4" ipv4 be_addr4
	one_family "$proto" "$VIP6" ipv6 be_addr6

	dmesg_check
	ksft_exit
}

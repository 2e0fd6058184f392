#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Access to a Service from the node itself (LOCAL_OUT hook), IPv4 and IPv6,
# TCP and UDP: payload byte for byte from a backend, every backend used,
# conntrack shows the DNAT, and the same VIP still works from the client
# (PRE_ROUTING) at the same time.

source "$(dirname "$0")/lib.sh"

# every backend must answer some of FLOWS random flows, four times: 24
# missed one about one run in 1,400, 45 one in 20 million
FLOWS=${FLOWS:-45}

kcip_require
checktool "conntrack -V" "run test without conntrack"
setup_topo 3
# routing happens before LOCAL_OUT: the node needs a route to the VIPs
route_vips_from_node

start_servers tcp,udp 8080

for vip in "$VIP4" "$VIP6"; do
	for proto in tcp udp; do
		add_service "$node" "$vip" 80 "$proto" 8080 || ksft_exit
	done
done

for vip in "$VIP4" "$VIP6"; do
	case $vip in
	*:*) fam=ipv6 addrfn=be_addr6 ;;
	*) fam=ipv4 addrfn=be_addr4 ;;
	esac
	for proto in tcp udp; do
		if name=$(payload_roundtrip "$node" "$proto" "$vip" 80); then
			pass "$proto $fam from the node: socat payload came back intact from $name"
		else
			fail "$proto $fam from the node: $name"
		fi

		if out=$(flows "$node" "$proto" "$vip" 80 "$FLOWS"); then
			pass "$proto $fam from the node: $FLOWS flows ok ($out)"
		else
			fail "$proto $fam from the node: flows ($out)"
		fi
		out=$(echo "$out" | tail -n 1)
		for i in 1 2 3; do
			n=$(backend_count "$out" "be$i")
			[ "$n" -gt 0 ] || fail "$proto $fam from the node: be$i answered none of $FLOWS flows"
		done

		check "$proto $fam from the node: conntrack shows the DNAT" \
			ct_dnat_ok "$node" "$fam" "$proto" "$vip" 80 8080 \
			"$($addrfn 1)" "$($addrfn 2)" "$($addrfn 3)"

		n=$(kcip_stat "$node" "$vip" 80 "$proto" new_flows)
		if [ "$n" -eq $((FLOWS + 1)) ]; then
			pass "$proto $fam: new_flows counter $n"
		else
			fail "$proto $fam: new_flows counter $n, want $((FLOWS + 1))"
		fi

		# and from outside, through the same Service, at the same time
		check "$proto $fam from the client too" \
			flows "$client" "$proto" "$vip" 80 3
	done
done

dmesg_check
ksft_exit

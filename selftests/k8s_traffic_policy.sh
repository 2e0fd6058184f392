#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Traffic policies, IPv4 and IPv6, seen from the client:
#  - "traffic-policy local": only backends flagged "local" get flows (on a
#    VIP and on a NodePort: Kubernetes' internal/externalTrafficPolicy);
#    flagging one more ("backend change ... local") adds it, unflagging
#    ("nonlocal") removes it;
#  - with none flagged, the entry behaves as having no endpoints: TCP
#    connections are refused at once, and counted as rejects;
#  - back to "traffic-policy cluster", every backend is used again;
#  - with "cluster" and "masquerade off" (the default), the backends see
#    the client's own address as source (VIP and NodePort).

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_k8s.sh"

N=6
NP=30080

kcip_require
setup_topo 3
no_icmp_ratelimit "$node"
client_link_delay
servers tcp 8080 -- 1 2 3 || ksft_exit

# local_lines ADDR PORT "N..." [opts]: a Service with be1..be3, the listed
# ones flagged local
local_lines()
{
	local addr=$1 port=$2 loc=$3 i s fam

	shift 3
	fam=$(fam_of "$addr")
	s=$(svc "$addr" "$port" tcp)
	echo "service add $s $*"
	for i in 1 2 3; do
		echo "backend add $s $(be "$(be_of "$i" "$fam")" 8080)$([[ " $loc " == *" $i "* ]] && echo " local")"
	done
}

{
	for vip in "$VIP4" "$VIP6"; do
		local_lines "$vip" 80 1 sched rr traffic-policy local
		local_lines "$vip" 81 "" sched rr
	done
	local_lines 0.0.0.0 $NP 2 sched rr traffic-policy local
	local_lines :: $NP 2 sched rr traffic-policy local
} | kcip_load "$node" || ksft_exit
log "node state:"
kcip -n "$node" show | sed 's/^/#   /'

policy_family()
{
	local fam=$1 vip=$2 naddr=$3 caddr=$4
	local rj rj2 S

	S=$(svc "$vip" 80 tcp)
	log "$fam: be1 local on $vip:80, be2 local on NodePort $NP, $vip:81 cluster"
	probe_many "$client" tcp $N -- "$vip" 80 "$vip" 81 "$naddr" $NP
	expect_many "$fam traffic-policy local, be1 flagged local" "$vip" 80 be1
	expect_many "$fam NodePort traffic-policy local, be2 flagged local" "$naddr" $NP be2
	expect_many_peers "$fam NodePort traffic-policy local, masquerade off: client address kept" \
		"$naddr" $NP "$caddr"
	expect_many_all "$fam traffic-policy cluster" "$vip" 81 "be1 be2 be3"
	expect_many_peers "$fam traffic-policy cluster, masquerade off: backends see the client" \
		"$vip" 81 "$caddr"

	log "$fam: be2 flagged local too"
	beop "$node" change "$vip" 80 tcp 8080 2 local || fail "$fam: backend change be2 local"
	probe_many "$client" tcp $N -- "$vip" 80
	expect_many_all "$fam traffic-policy local, be1 and be2 flagged local" "$vip" 80 "be1 be2"

	log "$fam: none flagged local: no endpoints"
	rj=$(kcip_stat "$node" "$vip" 80 tcp rejects)
	beop "$node" change "$vip" 80 tcp 8080 1 nonlocal &&
	beop "$node" change "$vip" 80 tcp 8080 2 nonlocal || fail "$fam: backend change nonlocal"
	probe_many "$client" tcp 3 --timeout 3 -- "$vip" 80
	expect_refused_fast "$fam traffic-policy local, no backend flagged local" "$vip" 80
	rj2=$(kcip_stat "$node" "$vip" 80 tcp rejects)
	if [ "$rj2" -ge $((rj + 3)) ]; then
		pass "$fam: rejects counted ($rj -> $rj2)"
	else
		fail "$fam: rejects $rj -> $rj2, want at least 3 more"
	fi

	log "$fam: traffic-policy cluster again"
	kcip -n "$node" service change "$S" traffic-policy cluster ||
		fail "$fam: service change traffic-policy cluster"
	probe_many "$client" tcp $N -- "$vip" 80
	expect_many_all "$fam back to traffic-policy cluster" "$vip" 80 "be1 be2 be3"
	expect_many_peers "$fam traffic-policy cluster: backends see the client" "$vip" 80 "$caddr"
}

policy_family ipv4 "$VIP4" "$NODE4" "$CLIENT4"
policy_family ipv6 "$VIP6" "$NODE6" "$CLIENT6"

dmesg_check
ksft_exit

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Terminating endpoints, IPv4 and IPv6, seen from the client (sched rr, so
# that every eligible backend is seen to get flows):
#  - be1 ready, be2 ready with weight 0, be3 terminating: new flows go to
#    be1 only (weight 0 and terminating get none while a ready one exists);
#  - a long TCP connection opened then (to be1) keeps be1 through all that
#    follows, be1 going terminating included, and ends cleanly;
#  - be2 weight 1, be1 terminating: new flows to be2 only;
#  - be2 down: no ready backend left, so the terminating ones, be1 and be3,
#    both get new flows (Kubernetes' terminating fallback);
#  - be3 weight 0: be1 only; be1 weight 0 too: nothing eligible, refused;
#  - UDP: a client that keeps its source port stays on its backend when
#    that backend goes terminating (only down or deleted moves it).

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_k8s.sh"

N=4

kcip_require
setup_topo 3
no_icmp_ratelimit "$node"
client_link_delay
servers tcp 8080 --lines -- 1 2 3 || ksft_exit
servers udp 5353 --idle 0.001 -- 1 2 || ksft_exit

{
	for vip in "$VIP4" "$VIP6"; do
		fam=$(fam_of "$vip")
		S=$(svc "$vip" 80 tcp)
		echo "service add $S sched rr"
		echo "backend add $S $(be "$(be_of 1 "$fam")" 8080)"
		echo "backend add $S $(be "$(be_of 2 "$fam")" 8080) weight 0"
		echo "backend add $S $(be "$(be_of 3 "$fam")" 8080) state terminating"
		svc_lines "$vip" 53 udp 5353 "1"
	done
} | kcip_load "$node" || ksft_exit

STOP=$(mktemp_file)

term_family()
{
	local fam=$1 vip=$2
	local out lpid uout upid t0 sum rc

	log "$fam: be1 ready, be2 ready weight 0, be3 terminating"
	expect_names "$fam be2 weight 0, be3 terminating" "$client" tcp "$vip" 80 $N be1

	rm -f "$STOP"
	out=$(mktemp_file)
	start_long "$out" "$STOP" "$client" "$vip" 80
	lpid=$!
	if long_started "$out" be1; then
		pass "$fam: long connection to be1"
	else
		fail "$fam: long connection to be1 did not start: $(head -n 2 "$out" | tr '\n' ' ')"
	fi

	log "$fam: be2 weight 1, be1 terminating"
	beop "$node" change "$vip" 80 tcp 8080 2 weight 1 &&
	beop "$node" change "$vip" 80 tcp 8080 1 state terminating || fail "$fam: backend change"
	expect_names "$fam be1, be3 terminating, be2 ready" "$client" tcp "$vip" 80 $N be2
	expect_long "$fam be1 terminating" "$out" be1

	log "$fam: be2 down: only terminating be1 and be3 left"
	beop "$node" change "$vip" 80 tcp 8080 2 state down || fail "$fam: backend change"
	probe_many "$client" tcp $N -- "$vip" 80
	expect_many_all "$fam no ready backend: the terminating ones" "$vip" 80 "be1 be3"

	log "$fam: be3 weight 0, then be1 weight 0"
	beop "$node" change "$vip" 80 tcp 8080 3 weight 0 || fail "$fam: backend change"
	expect_names "$fam be3 weight 0: terminating be1 only" "$client" tcp "$vip" 80 $N be1
	beop "$node" change "$vip" 80 tcp 8080 1 weight 0 || fail "$fam: backend change"
	probe_many "$client" tcp 2 --timeout 3 -- "$vip" 80
	expect_refused_fast "$fam nothing eligible (down, weight 0)" "$vip" 80
	expect_long "$fam be1 terminating with weight 0" "$out" be1

	touch "$STOP"
	wait "$lpid"
	rc=$?
	file_last "$out"
	if [ $rc -eq 0 ] && [[ $REPLY =~ ^done\ rounds=[0-9]+\ backend=be1$ ]]; then
		pass "$fam: long connection ended cleanly on be1: $REPLY"
	else
		fail "$fam: long connection: $REPLY (exit $rc)"
	fi

	log "$fam: UDP flow keeping its source port, be1 going terminating"
	rm -f "$STOP"
	uout=$(mktemp_file)
	start_udploop "$client" "$vip" 53 5300 "$uout" "$STOP"
	upid=$!
	if ! udploop_wait_for "$uout" be1 30000; then
		file_last "$uout"
		fail "$fam: udp flow not answered by be1: $REPLY"
	fi
	beop "$node" add "$vip" 53 udp 5353 2 &&
	beop "$node" change "$vip" 53 udp 5353 1 state terminating || fail "$fam: udp backend change"
	t0=$(now)
	# 1.5 s of queries, every 0.2 s
	udploop_run_for "$uout" "$t0" 1.5
	udploop_after "$uout" "$t0"
	sum=$REPLY
	if ! answered_only "$sum" be1; then
		fail "$fam: udp flow after be1 went terminating: $sum, want be1 only"
	else
		pass "$fam: udp flow keeps terminating be1 ($sum)"
	fi
	touch "$STOP"
	wait "$upid"
}

term_family ipv4 "$VIP4"
term_family ipv6 "$VIP6"

dmesg_check
ksft_exit

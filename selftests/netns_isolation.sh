#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kclusterip state is per network namespace:
#  - a Service in the node netns is invisible from another netns "other"
#    ("kcipctl -n other show" is empty) and does not touch its traffic:
#    in "other" the VIP addresses are real local addresses whose own server
#    answers;
#  - a Service with the same VIP added in "other" is independent (no
#    EEXIST), steers only "other"'s traffic, and flushing "other" leaves
#    the node's state and traffic alone;
#  - a new netns starts empty.

source "$(dirname "$0")/lib.sh"

kcip_require
setup_topo 3
setup_ns other
start_servers tcp 8080

# "other": the VIPs are real addresses here, with a server called "realvip"
# on port 80, and a local server "olocal" on 10.244.9.2 / fd00:244:9::2:8080
ip -n "$other" link add dummy0 type dummy
ip -n "$other" link set dummy0 up
ip -n "$other" addr add "$VIP4/32" dev dummy0
ip -n "$other" addr add "$VIP6/128" dev dummy0 nodad
ip -n "$other" addr add 10.244.9.2/32 dev dummy0
ip -n "$other" addr add fd00:244:9::2/128 dev dummy0 nodad
wait_addrs "$other"
start_server "$other" realvip tcp 80
start_server "$other" olocal tcp 8080

for vip in "$VIP4" "$VIP6"; do
	add_service "$node" "$vip" 80 tcp 8080 || ksft_exit
done
state_node=$(state_of "$node")

n=$(kcip_nservices "$other")
[ "$n" -eq 0 ] && pass "other netns shows no Service" || fail "other netns shows $n Services"
out=$(kcip -n "$other" show)
[ -z "$out" ] && pass "other netns: plain show prints nothing" ||
	{ fail "other netns: show prints something"; echo "$out" | sed 's/^/#   /'; }

for vip in "$VIP4" "$VIP6"; do
	flows_only_to "$other" tcp "$vip" 80 5 realvip
	flows_only_to "$client" tcp "$vip" 80 9 "be1 be2 be3"
done

log "the same Services in other, to its local server"
kcip -n "$other" service add "$(svc "$VIP4" 80 tcp)" &&
kcip -n "$other" backend add "$(svc "$VIP4" 80 tcp)" 10.244.9.2:8080 &&
kcip -n "$other" service add "$(svc "$VIP6" 80 tcp)" &&
kcip -n "$other" backend add "$(svc "$VIP6" 80 tcp)" "[fd00:244:9::2]:8080" ||
	fail "same Services added in other netns"
n=$(kcip_nservices "$other")
[ "$n" -eq 2 ] && pass "other netns has its 2 Services" || fail "other netns has $n Services, want 2"
[ "$(state_of "$node")" = "$state_node" ] && pass "node state unchanged" ||
	fail "node state changed by changes in other netns"

before=$(kcip_stat "$node" "$VIP4" 80 tcp new_flows)
for vip in "$VIP4" "$VIP6"; do
	flows_only_to "$other" tcp "$vip" 80 5 olocal
	flows_only_to "$client" tcp "$vip" 80 9 "be1 be2 be3"
done
v=$(kcip_stat "$node" "$VIP4" 80 tcp new_flows)
[ "$v" -eq $((before + 9)) ] && pass "node counters count only node flows" ||
	fail "node new_flows went $before -> $v, want +9"
v=$(kcip_stat "$other" "$VIP4" 80 tcp new_flows)
[ "$v" -eq 5 ] && pass "other netns counters count only its flows" ||
	fail "other netns new_flows=$v, want 5"

kcip -n "$other" flush || fail "flush other netns"
[ "$(kcip_nservices "$other")" -eq 0 ] && pass "other netns empty after flush" ||
	fail "other netns not empty after flush"
[ "$(state_of "$node")" = "$state_node" ] && pass "node state unchanged by flush in other netns" ||
	fail "flush in other netns changed node state"
flows_only_to "$other" tcp "$VIP4" 80 3 realvip
flows_only_to "$client" tcp "$VIP4" 80 9 "be1 be2 be3"

setup_ns fresh
n=$(kcip_nservices "$fresh")
[ "$n" -eq 0 ] && pass "a new netns starts empty" || fail "a new netns has $n Services"

dmesg_check
ksft_exit

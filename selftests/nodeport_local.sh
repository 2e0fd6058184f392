#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# NodePort entries and traffic-policy local:
#  - 0.0.0.0:30080/tcp and [::]:30080/udp answer on every local address of
#    the node, from outside (PRE_ROUTING) and from the node itself
#    (LOCAL_OUT), but never forwarded traffic (to a backend's own address)
#    nor 127.0.0.1;
#  - an entry for the node's exact address wins over the NodePort entry;
#  - traffic-policy local: only backends flagged local get flows; with none
#    flagged, no endpoints (reject).

source "$(dirname "$0")/lib.sh"

kcip_require
setup_topo 3
start_servers tcp,udp 8080
# refusals are counted on: no ICMP rate limiting in the way
for ns in "$node" "$be1"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
done

NP4=0.0.0.0:30080/tcp
NP6='[::]:30080/udp'
kcip -n "$node" service add "$NP4" &&
kcip -n "$node" service add "$NP6" || { fail "NodePort service add"; ksft_exit; }
for i in 1 2 3; do
	kcip -n "$node" backend add "$NP4" "$(be_addr4 "$i"):8080" &&
	kcip -n "$node" backend add "$NP6" "[$(be_addr6 "$i")]:8080" || fail "backend add be$i"
done

log "NodePort from outside"
flows_only_to "$client" tcp "$NODE4" 30080 9 "be1 be2 be3"
flows_only_to "$client" tcp 10.244.2.1 30080 6 "be1 be2 be3"
flows_only_to "$client" udp "$NODE6" 30080 9 "be1 be2 be3"
flows_only_to "$client" udp fd00:244:3::1 30080 6 "be1 be2 be3"
out=$(flows "$client" tcp "$NODE4" 30080 12 | tail -n 1)
n=$(echo "$out" | grep -o 'be[0-9]=' | wc -l)
[ "$n" -ge 2 ] && pass "NodePort flows spread over $n backends ($out)" ||
	fail "NodePort flows all on one backend ($out)"

log "NodePort from the node itself"
flows_only_to "$node" tcp "$NODE4" 30080 6 "be1 be2 be3"
flows_only_to "$node" udp "$NODE6" 30080 6 "be1 be2 be3"

log "not a NodePort: forwarded traffic, loopback"
# be1 has nothing on 30080: it refuses, unless the node DNATed the flow
check "forwarded tcp to be1:30080 is not DNATed (be1 refuses it)" \
	flows "$client" tcp "$(be_addr4 1)" 30080 3 --timeout 3 --expect refused
check "forwarded udp to [be1]:30080 is not DNATed (be1 refuses it)" \
	flows "$client" udp "$(be_addr6 1)" 30080 3 --timeout 3 --expect refused
check "127.0.0.1:30080 from the node is not a NodePort" \
	flows "$node" tcp 127.0.0.1 30080 2 --timeout 3 --expect refused

log "the exact address wins over the NodePort entry"
kcip -n "$node" service add "$NODE4:30080/tcp" &&
kcip -n "$node" backend add "$NODE4:30080/tcp" "$(be_addr4 3):8080" || fail "exact service add"
flows_only_to "$client" tcp "$NODE4" 30080 6 be3
flows_only_to "$client" tcp 10.244.2.1 30080 9 "be1 be2 be3"
kcip -n "$node" service del "$NODE4:30080/tcp" || fail "exact service del"
# (at least two backends of three in 15 random flows: all in one, 1 run
# in 1.6 million)
out=$(flows "$client" tcp "$NODE4" 30080 15 | tail -n 1)
n=$(echo "$out" | grep -o 'be[0-9]=' | wc -l)
[[ "$out" == *"ok=15 "* ]] && [ "$n" -ge 2 ] && pass "NodePort again after the exact entry is gone ($out)" ||
	fail "NodePort after the exact entry is gone ($out)"

log "traffic-policy local"
for vip in "$VIP4" "$VIP6"; do
	case $vip in
	*:*) a=be_addr6 ;;
	*) a=be_addr4 ;;
	esac
	S=$(svc "$vip" 80 tcp)
	kcip -n "$node" service add "$S" traffic-policy local &&
	kcip -n "$node" backend add "$S" "$(be "$($a 1)" 8080)" local &&
	kcip -n "$node" backend add "$S" "$(be "$($a 2)" 8080)" &&
	kcip -n "$node" backend add "$S" "$(be "$($a 3)" 8080)" || fail "setup $S"
	flows_only_to "$client" tcp "$vip" 80 9 be1
	kcip -n "$node" backend change "$S" "$(be "$($a 1)" 8080)" nonlocal || fail "nonlocal"
	check "$S: no local backend: refused" \
		flows "$client" tcp "$vip" 80 3 --timeout 3 --expect refused
	kcip -n "$node" backend change "$S" "$(be "$($a 2)" 8080)" local &&
	kcip -n "$node" backend change "$S" "$(be "$($a 3)" 8080)" local || fail "local"
	flows_only_to "$client" tcp "$vip" 80 9 "be2 be3"
	kcip -n "$node" service change "$S" traffic-policy cluster || fail "traffic-policy cluster"
	# be1 in 45 random flows over three: missed 1 run in 10 million
	out=$(flows "$client" tcp "$vip" 80 45 | tail -n 1)
	[ "$(backend_count "$out" be1)" -gt 0 ] && pass "$S: traffic-policy cluster uses be1 again ($out)" ||
		fail "$S: traffic-policy cluster ($out)"
done

dmesg_check
ksft_exit

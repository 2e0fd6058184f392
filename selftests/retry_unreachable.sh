#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Retry (passive health), a backend whose network namespace is gone (its
# processes killed, "ip netns del"): the node is told by its own stack,
# with an ICMP / ICMPv6 destination unreachable it sends to the client.
# Seen from the client:
#  1. be2 sits behind a bridge (br2 holds the gateway addresses, as a
#     bridge CNI's cni0 does): with be2's veth gone the node still routes
#     to be2 and asks for its MAC in vain (one solicitation, 0.2 s:
#     "fast"), then answers ICMP host unreachable (ICMPv6 address
#     unreachable) - before the client's first SYN retransmission, so this
#     error is what retry must act on;
#  2. be3 is wired straight to the node (the topology's veth): with its
#     netns gone the node has no route to it any more and answers ICMP net
#     unreachable (ICMPv6 no route) for a flow that conntrack has not
#     confirmed yet.
#  In both cases, IPv4 and IPv6: retry off (sched rr, so that the dead
#  backend gets its share) the connections sent to the dead backend fail
#  with EHOSTUNREACH (2.: ENETUNREACH, or TCP takes that error, which comes
#  while connect() still holds the socket, as a soft one and sends its SYN
#  again); retry on, $N connections (IPv4; $N6 IPv6; 20 in case 2) all
#  succeed, none sending its SYN more than twice (moved at the client's
#  first retransmission at the latest), none answered by the dead
#  backend, whose failures are counted.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_retry.sh"

N=${KCIP_RETRY_N:-100}
# (retry on, random: the dead backend's failures are counted only if one
# of the IPv6 connections picks it; of 20 none did one run in 3,000)
N6=${KCIP_RETRY_N6:-40}

kcip_require
setup_topo 3
no_icmp_ratelimit
bridge_backend 2 fast || skip "could not put be2 behind a bridge (CONFIG_BRIDGE?)"
start_servers tcp $RPORT

retry_service "$VIP4" tcp sched rr
retry_service "$VIP6" tcp sched rr retry on
kcip -n "$node" service change "$S" retry off || fail "service change retry off"
retry_stats_source

# netns_gone I: backend I's processes end, its netns is deleted; wait
# until its veth has left the node
netns_gone()
{
	local ns=${BACKENDS[$(($1 - 1))]}

	kill_ns_pids "$ns"
	ip netns del "$ns"
	busywait 20000 sh -c "! ip -n $node link show b$1 > /dev/null 2>&1" ||
		fail "b$1 still in the node 20 s after be$1's netns was deleted"
}

# unreachable_test FAMILY VIP COUNT DEAD NBE WHAT: retry off, rr: the
# connections sent to backend DEAD (1 in NBE) fail with EHOSTUNREACH or
# ENETUNREACH (the node's error); retry on: COUNT connections all succeed
unreachable_test()
{
	local fam=$1 vip=$2 n=$3 dead=$4 nbe=$5 what=$6 sum
	local nf=$((6 / nbe))

	retry_vars "$vip" tcp
	log "$fam, $what, retry off"
	kcip -n "$node" service change "$S" sched rr retry off || fail "$fam: service change"
	sum=$(rflows "$client" tcp "$vip" 80 6 --timeout 3 | tail -n 1)
	if [ "$what" = "no route" ]; then
		# The node's error comes at once, while connect() still holds
		# the socket: TCP may take it as a soft error and send its SYN
		# again (conntrack has no entry: the SYN picks anew)
		if [ "$(($(sumval "$sum" unreach) + $(sumval "$sum" resent)))" -ge 1 ] &&
		   [ "$(backend_count "$sum" "be$dead")" -eq 0 ]; then
			pass "$fam, $what, retry off: connections sent to be$dead fail or wait for a SYN retransmission ($sum)"
		else
			fail "$fam, $what, retry off: want connections unreachable or retransmitted ($sum)"
		fi
	elif [ "$(sumval "$sum" unreach)" -eq $nf ] && [ "$(sumval "$sum" ok)" -eq $((6 - nf)) ]; then
		pass "$fam, $what, retry off: the $nf connections of 6 sent to be$dead fail, unreachable ($sum)"
	else
		fail "$fam, $what, retry off: want $nf unreachable, $((6 - nf)) answered ($sum)"
	fi

	log "$fam, $what, retry on: $n connections"
	kcip -n "$node" service change "$S" sched random retry on || fail "$fam: service change"
	sum=$(rflows "$client" tcp "$vip" 80 "$n" | tail -n 1)
	all_ok "$fam, $what, retry on" "$sum" 2
	not_to "$fam, $what, retry on" "$sum" "be$dead"
	stat_ok "$fam, $what: be$dead failures counted" "$(rsnap)" "$vip" tcp failures -ge 1 \
		"$(eval echo "\$A$dead")"
}

log "be2's netns is deleted; the node keeps a route to it (bridge)"
netns_gone 2
unreachable_test ipv4 "$VIP4" "$N" 2 3 "no neighbour"
unreachable_test ipv6 "$VIP6" "$N6" 2 3 "no neighbour"

# Last: this one has crashed the kernel (nf_ct_kill() of a conntrack
# entry not confirmed yet).
log "be3's netns is deleted; the node has no route to it any more"
for vip in "$VIP4" "$VIP6"; do
	retry_vars "$vip" tcp
	kcip -n "$node" backend del "$S" "$B2" || fail "backend del be2"
done
netns_gone 3
unreachable_test ipv4 "$VIP4" 20 3 2 "no route"
unreachable_test ipv6 "$VIP6" 20 3 2 "no route"

dmesg_check
ksft_exit

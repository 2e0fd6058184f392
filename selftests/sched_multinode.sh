#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Nodes behind an ECMP router can fail (or be drained) without breaking
# connections, because every node picks the same backend for a flow
# (Maglev) and conntrack picks a flow up in the middle:
#
#                 +-- r1 --- up  node1 be --+
#   client ---- router -- r2 --- up  node2 be --+-- n1,n2,n3 backends
#                 +-- r3 --- up  node3 be --+     (be1, be2, be3: one
#                                                 namespace, 3 addresses)
#
# How to set it up (this is the recipe, each step done below):
#
#  1. The router (a load balancer, a ToR switch doing ECMP...) spreads the
#     Service VIPs over the nodes by a hash of the whole 5-tuple, so that
#     a flow sticks to a node while the group is unchanged:
#        ip route add 10.96.0.10/32 nexthop via NODE1 nexthop via NODE2 ...
#        sysctl net.ipv4.fib_multipath_hash_policy=1   (L4 hash)
#        sysctl net.ipv6.fib_multipath_hash_policy=1
#  2. Every node has the same Services with the same backends and
#     weights, with "sched maglev" (the order they were added in does not
#     matter), and the same maglev_min_size module parameter.
#  3. Every node accepts TCP flows it has not seen start:
#        sysctl net.netfilter.nf_conntrack_tcp_loose=1   (the default)
#     A packet in the middle of a connection then creates a conntrack
#     entry (with liberal window tracking), kclusterip picks a backend for
#     it as for a new flow, and Maglev makes that the backend the first
#     node picked.
#  4. The answers go back through the node the flow currently comes
#     through: that node holds the conntrack entry that turns the
#     backend's address back into the VIP.  In a cluster that is what
#     masquerade (SNAT to the node) or an overlay does; here, without
#     SNAT, each backend has a link per node, marks a flow's conntrack
#     entry with the node its latest packet came from and routes its
#     answers by that mark (lib_sched.sh sched_topo):
#        nft: prerouting  iifname "n1" ct mark set 1 ...
#             output (type route)  meta mark set ct mark
#        ip rule add fwmark 1 table 101; ip route add default via NODE1 table 101 ...
#     (With "masquerade on" the answers go to the node by themselves,
#     but then a flow that moves has a new source port on the new node
#     and the backend sees a new connection: masquerading and moving
#     flows do not mix.)
#
# The test: TCP flows over IPv4 and IPv6 through the router reach every
# node; then NS streams of each family (flowgen --stream: a request every
# 20 ms, each answer checked to come from the same backend with the same
# data) run for DURATION seconds, and a few seconds in, the node carrying
# most of them is taken out of the ECMP group.  Every stream must go on to
# the end without a reset, a stall of more than 5 s or a change of
# backend; the flows of the node taken out must have moved to the others
# (their conntrack entries show up there, translated to the same backend).

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_sched.sh"

NS=${NS:-3}
DURATION=${DURATION:-16}

sched_require nft conntrack
sched_topo 3 3 router

ip netns exec "$router" sysctl -qw net.ipv4.fib_multipath_hash_policy=1 \
	net.ipv6.fib_multipath_hash_policy=1 || fail "router: multipath hash policy"
for n in "${NODES[@]}"; do
	ip netns exec "$n" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=1 ||
		fail "$n: nf_conntrack_tcp_loose"
done

# ecmp NODE...: route the VIPs to these nodes (1, 2, 3), one ECMP group
ecmp()
{
	local i nh4= nh6=

	for i in "$@"; do
		nh4="$nh4 nexthop via 10.1.$i.2 dev r$i"
		nh6="$nh6 nexthop via fd00:1:$i::2 dev r$i"
	done
	ip -n "$router" route replace "$VIP4/32" $nh4 &&
	ip -n "$router" -6 route replace "$VIP6/128" $nh6
}
ecmp 1 2 3 || { fail "router: ECMP routes"; ksft_exit; }

fg_backends 8080 tcp
S4=$(svc "$VIP4" 80 tcp)
S6=$(svc "$VIP6" 80 tcp)
orders=("1 2 3" "3 1 2" "2 3 1")
for i in 1 2 3; do
	{
		svc_lines "$S4" 8080 "${orders[$((i - 1))]}" sched maglev
		svc_lines "$S6" 8080 "${orders[$((i - 1))]}" sched maglev
	} | restore "${NODES[$((i - 1))]}" || ksft_exit
done
log "topology up: client, router, 3 nodes, backends be1..be3"

# node_flows SERVICE: its new_flows on each node, "N1 N2 N3 "
node_flows()
{
	local n

	for n in "${NODES[@]}"; do
		printf '%s ' "$(svc_new_flows "$n" "$1")"
	done
}

for vip in "$VIP4" "$VIP6"; do
	out=$(fg "$client" -n 60 -c 8 "$vip" 80)
	per=$(node_flows "$(svc "$vip" 80 tcp)")
	if [ $? -eq 0 ] && [[ $(summary_of "$out") == *" ok=60 "* ]] &&
	   [ "$(echo "$per" | awk '{ for (i = 1; i <= NF; i++) n += ($i > 0); print n }')" -ge 2 ]; then
		pass "60 flows to $vip spread over the nodes: new_flows per node $per($(summary_of "$out"))"
	else
		fail "60 flows to $vip: new_flows per node $per($(summary_of "$out"))"
	fi
done

# the streams
OUT4=$(mktemp_file) OUT6=$(mktemp_file)
fg "$client" --stream "$DURATION" -n "$NS" --interval 20 --size 200 -t 5000 \
	-b 40000 "$VIP4" 80 > "$OUT4" 2>&1 &
P4=$!
fg "$client" --stream "$DURATION" -n "$NS" --interval 20 --size 200 -t 5000 \
	-b 41000 "$VIP6" 80 > "$OUT6" 2>&1 &
P6=$!
BG_PIDS+=("$P4" "$P6")

all_connected() { [ "$(cat "$OUT4" "$OUT6" | grep -c '^connected ')" -eq $((2 * NS)) ]; }
if ! busywait 20000 all_connected; then
	fail "streams did not all connect"
	cat "$OUT4" "$OUT6" | sed 's/^/#   /'
	ksft_exit
fi
log "$((2 * NS)) streams up"
sleep 2

# where SPORT: "NODE BACKEND_ADDR" of each stream (by its source port),
# from the conntrack entries of every node
where()
{
	local i

	for i in 1 2 3; do
		for f in ipv4 ipv6; do
			ip netns exec "${NODES[$((i - 1))]}" conntrack -L -f $f -p tcp --dport 80 2> /dev/null
		done |
		awk -v node="$i" '/ESTABLISHED/ {
			ns = 0
			for (f = 1; f <= NF; f++) {
				split($f, kv, "=")
				if (kv[1] == "sport" && !sp) sp = kv[2]
				if (kv[1] == "src") src[++ns] = kv[2]
			}
			if (sp >= 40000 && sp < 42000)
				print sp, node, src[2]
			sp = 0
		}'
	done | sort -n
}

BEFORE=$(where)
log "streams per node before: $(echo "$BEFORE" | awk '{ printf "%s@node%s->%s ", $1, $2, $3 }')"
GONE=$(echo "$BEFORE" | awk '{ n[$2]++ } END { for (i = 1; i <= 3; i++) if (n[i] > best) { best = n[i]; g = i } print g }')
KEEP=$(echo 1 2 3 | tr ' ' '\n' | grep -vx "$GONE" | tr '\n' ' ')
log "taking node$GONE out of the ECMP group (it carries $(echo "$BEFORE" | awk -v g="$GONE" '$2 == g' | wc -l) streams)"
ecmp $KEEP || fail "router: ECMP group without node$GONE"
sleep 4
AFTER=$(where)
log "streams per node after: $(echo "$AFTER" | awk '{ printf "%s@node%s->%s ", $1, $2, $3 }')"

wait "$P4"; r4=$?
wait "$P6"; r6=$?
log "streams done"
grep '^stream ' "$OUT4" "$OUT6" | sed 's/^[^:]*://; s/^/#   /'
check "every stream ran ${DURATION}s without reset, stall or change of backend (IPv4)" test $r4 -eq 0
check "every stream ran ${DURATION}s without reset, stall or change of backend (IPv6)" test $r6 -eq 0

# the flows of node GONE were picked up by another node, with the same
# backend; a flow may be listed by its old node too (its entry is still
# there): take the newest node other than GONE
res=$(awk -v gone="$GONE" '
	NR == FNR { if ($2 == gone) { was[$1] = $3; n++ } next }
	($1 in was) && $2 != gone {
		moved[$1] = 1
		if ($3 != was[$1]) { bad++; print "stream " $1 ": backend " was[$1] " before, " $3 " on node" $2 }
	}
	END {
		for (p in was) if (p in moved) m++
		printf "%d of %d streams of node%s picked up by another node, %d with another backend\n", m, n, gone, bad
		exit !(n > 0 && m == n && !bad)
	}' <(echo "$BEFORE") <(echo "$AFTER"))
if [ $? -eq 0 ]; then
	pass "moved flows: $(tail -n 1 <<< "$res")"
else
	fail "moved flows: $res"
fi

# every node holding an entry of a stream translates it to one backend
res=$(echo "$BEFORE"$'\n'"$AFTER" | awk 'NF == 3 {
		if (!($1 in be)) be[$1] = $3
		else if (be[$1] != $3) { bad++; print "stream " $1 ": " be[$1] " and " $3 }
		if (!(($1, $2) in seen)) { seen[$1, $2] = 1; nodes[$1]++ }
	}
	END {
		for (p in nodes) { n++; if (nodes[p] > 1) m++ }
		printf "%d streams, %d seen on more than one node, %d with two backends\n", n, m, bad
		exit bad > 0
	}')
if [ $? -eq 0 ]; then
	pass "every node picks the same backend: $(tail -n 1 <<< "$res")"
else
	fail "every node picks the same backend: $res"
fi

dmesg_check
ksft_exit

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Nodes behind an ECMP router can fail (or be drained) without breaking
# connections, because every node picks the same backend for a flow
# (Maglev) and conntrack picks a flow up in the middle:
#
#                 +-- r1 --- rt  node1 be --+
#   client ---- router -- r2 --- rt  node2 be --+-- n1,n2,n3 backends
#                 +-- r3 --- rt  node3 be --+     (be1, be2, be3: one
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
# node; then NS (3) streams of each family (flowgen --stream: a request
# every 20 ms, each answer checked to come from the same backend with the
# same data) run, and HOLD (3) seconds in, the node carrying most of them
# is taken out of the ECMP group.  Once its streams have shown up on the
# other nodes (conntrack picked them up there: ESTABLISHED entries,
# translated to the same backend) they run HOLD seconds more and stop.
# Every stream must go on to the end without a reset, a stall of more
# than 15 s or a change of backend.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_sched.sh"

NS=${NS:-3}
HOLD=${HOLD:-3}		# seconds the streams run before and after the change
# The streams end by then at the latest (the test stops them long before).
# Scaled as the waits are: on the debug kernel the waits before and after
# the change took longer than 90 s, the streams ended on their own in the
# middle, and their entries on the nodes that had just picked them up were
# no longer ESTABLISHED when the test read them.
MAXTIME=${MAXTIME:-$((300 * ${KCIP_TIME_SCALE:-1}))}

sched_require nft conntrack
sched_topo 3 3 router

# (flowgen --sysctl: "ip netns exec NS sysctl -w ..." for every NS at once)
"$FLOWGEN" --sysctl "$router:net.ipv4.fib_multipath_hash_policy=1" \
	"$router:net.ipv6.fib_multipath_hash_policy=1" \
	"${NODES[0]}:net.netfilter.nf_conntrack_tcp_loose=1" \
	"${NODES[1]}:net.netfilter.nf_conntrack_tcp_loose=1" \
	"${NODES[2]}:net.netfilter.nf_conntrack_tcp_loose=1" ||
	fail "sysctls: multipath hash policy, nf_conntrack_tcp_loose"
# The router hashes a packet that carries an L4 hash already by that hash:
# here the client socket's, which TCP changes after a retransmission
# timeout (to route around a failure), so on a slow machine a stream may
# move to another node by itself.  It must survive that too, but keep the
# streams where they are until the test moves them (kernels since 5.19).
"$FLOWGEN" --sysctl "$client:net.core.txrehash=0" 2> /dev/null

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

# A process in each node's namespace, so that this shell reads the node's
# conntrack table as /proc/PID/net/nf_conntrack: starting "ip netns exec
# NODE conntrack -L" costs seconds under software emulation, while streams
# run.
CT_PID=()
for n in "${NODES[@]}"; do
	ip netns exec "$n" sleep 3600 &
	CT_PID+=($!)
	BG_PIDS+=($!)
done


# 60 short flows to each VIP reach every node (kclusterip's new_flows
# counters, IPv4 and IPv6 Service: the first and second one listed)
out4=$(fg "$client" -n 60 -c 8 "$VIP4" 80 | tail -n 1)
out6=$(fg "$client" -n 60 -c 8 "$VIP6" 80 | tail -n 1)
per4= per6=
re='\],"stats":\{"new_flows":([0-9]+)'
for n in "${NODES[@]}"; do
	j=$(kcip -n "$n" -j -s show)
	[[ $j =~ $re ]] && per4="$per4 ${BASH_REMATCH[1]}" && j=${j#*"${BASH_REMATCH[0]}"}
	[[ $j =~ $re ]] && per6="$per6 ${BASH_REMATCH[1]}"
done
for f in 4 6; do
	eval "out=\$out$f per=\$per$f vip=\$VIP$f"
	nodes=0
	for c in $per; do [ "$c" -gt 0 ] && nodes=$((nodes + 1)); done
	if [[ $out == *" ok=60 "* ]] && [ "$nodes" -ge 2 ]; then
		pass "60 flows to $vip spread over the nodes: new_flows per node$per ($out)"
	else
		fail "60 flows to $vip: new_flows per node$per ($out)"
	fi
done

# ct_streams I: "SPORT NODE BACKEND" for each stream (source port
# 40000-41999) that node I has an ESTABLISHED conntrack entry of
ct_streams()
{
	local i=$1 f=/proc/${CT_PID[$(($1 - 1))]}/net/nf_conntrack l sport be

	# one read(2) of the whole table with cat: the shell's "read" seeks
	# back after every line, and a /proc seq_file read again from an
	# offset repeats or skips lines when the table changed meanwhile
	if [ -r "$f" ]; then
		f=$(cat "$f")
	else
		# (on the debug kernel the three readers were gone at the
		# end, and conntrack -L found no stream either: when, once)
		IFS= read -r l < "$GONE_MARK"
		[[ $l == *" $i "* ]] || {
			printf ' %s ' "$i" >> "$GONE_MARK"
			log "node$i: $f not readable, conntrack -L instead" >&2
		}
		# (without -f: both families, one process)
		f=$(ip netns exec "${NODES[$((i - 1))]}" conntrack -L -p tcp 2> /dev/null)
	fi
	while read -r l; do
		[[ $l == *" ESTABLISHED "* ]] || continue
		[[ $l =~ $CT_RE ]] || continue
		sport=${BASH_REMATCH[1]} be=${BASH_REMATCH[2]}
		# the backend's name, from be_addr4/be_addr6 (/proc prints
		# IPv6 addresses in full, conntrack -L compressed)
		if [[ $be =~ ^10\.244\.([0-9]+)\.2$ ]]; then
			be=be${BASH_REMATCH[1]}
		elif [[ $be =~ ^fd00:0*244:0*([0-9a-f]+): ]]; then
			be=be$((16#${BASH_REMATCH[1]}))
		fi
		echo "$sport $i $be"
	done <<< "$f"
}
CT_RE='sport=(4[01][0-9]{3}) dport=80 src=([^ ]+) dst=[^ ]+ sport=8080 '
GONE_MARK=$(mktemp_file)


# where: ct_streams of every node, each line also kept in $SEEN.  A read
# of a /proc table that changes meanwhile (entries picked up, TIME_WAIT
# ones leaving) can skip an entry, but an entry once seen stays until it
# times out: what a phase saw is the union of its reads (seen).
SEEN=
where()
{
	local i out

	out=$(for i in 1 2 3; do ct_streams $i; done)
	[ -n "$SEEN" ] && [ -n "$out" ] && echo "$out" >> "$SEEN"
	echo "$out"
}
seen() { where > /dev/null; sort -u "$SEEN"; }

# show LINES: "SPORT@nodeN:BACKEND ..."
show() { local a b c; while read -r a b c; do [ -n "$a" ] && printf '%s@node%s:%s ' "$a" "$b" "$c"; done <<< "$1"; }

# the streams: until STOP exists (at most MAXTIME seconds)
OUT4=$(mktemp_file) OUT6=$(mktemp_file) STOP=$(mktemp_file)
rm -f "$STOP"
fg "$client" --stream "$MAXTIME" --stop "$STOP" -n "$NS" --interval 20 \
	--size 200 -t 15000 -b 40000 "$VIP4" 80 > "$OUT4" 2>&1 &
P4=$!
fg "$client" --stream "$MAXTIME" --stop "$STOP" -n "$NS" --interval 20 \
	--size 200 -t 15000 -b 41000 "$VIP6" 80 > "$OUT6" 2>&1 &
P6=$!
BG_PIDS+=("$P4" "$P6")

all_connected()
{
	local l n=0

	for f in "$OUT4" "$OUT6"; do
		while read -r l; do
			[[ $l == connected* ]] && n=$((n + 1))
		done < "$f"
	done
	declare -A got=()
	while read -r l; do
		[ -n "$l" ] && got[${l%% *}]=1
	done <<< "$(seen)"
	[ $n -eq $((2 * NS)) ] && [ ${#got[@]} -eq $((2 * NS)) ]
}
SEEN=$(mktemp_file)
if ! busywait 20000 all_connected; then
	fail "streams did not all connect"
	cat "$OUT4" "$OUT6" | sed 's/^/#   /'
	show "$(where)"
	ksft_exit
fi
BEFORE=$(seen)
log "$((2 * NS)) streams up: $(show "$BEFORE")"
sleep "$HOLD"

# the node carrying most streams goes
declare -A per=()
while read -r a b c; do per[$b]=$((${per[$b]:-0} + 1)); done <<< "$BEFORE"
GONE=1
for i in 2 3; do [ "${per[$i]:-0}" -gt "${per[$GONE]:-0}" ] && GONE=$i; done
KEEP=
for i in 1 2 3; do [ $i -ne "$GONE" ] && KEEP="$KEEP $i"; done
# running: both stream processes still run (they did not end at MAXTIME)
running() { kill -0 "$P4" 2> /dev/null && kill -0 "$P6" 2> /dev/null; }
running || fail "the streams ended (MAXTIME $MAXTIME s) before the change"
log "taking node$GONE out of the ECMP group (it carries ${per[$GONE]} streams)"
SEEN=$(mktemp_file)
ecmp $KEEP || fail "router: ECMP group without node$GONE"

# every stream of node GONE shows up on another node
moved_all()
{
	local a b c now
	declare -A was=() on=()

	while read -r a b c; do [ "$b" = "$GONE" ] && was[$a]=1; done <<< "$BEFORE"
	now=$(seen)
	while read -r a b c; do [ -n "$a" ] && [ "$b" != "$GONE" ] && on[$a]=1; done <<< "$now"
	for a in "${!was[@]}"; do
		[ -n "${on[$a]}" ] || return 1
	done
}
busywait 30000 moved_all
AFTER=$(seen)
running || fail "the streams ended (MAXTIME $MAXTIME s) before they were all seen on their new nodes"
log "streams after: $(show "$AFTER")"
# No stream in any node's table after the change, not even those that never
# moved (on the debug kernel: once when the streams had ended at MAXTIME,
# and once, not understood, while they ran, with the readers gone): what
# each read found
if [ -z "$AFTER" ]; then
	for i in 1 2 3; do
		f=/proc/${CT_PID[$((i - 1))]}/net/nf_conntrack
		if [ -r "$f" ]; then
			t=$(cat "$f")
			log "node$i: $f: $(grep -c . <<< "$t") entries," \
				"$(grep -c ' ESTABLISHED ' <<< "$t") established," \
				"$(grep -cE "$CT_RE" <<< "$t") streams"
			grep -E "sport=4[01][0-9]{3} dport=80 " <<< "$t" | head -n 3 | sed 's/^/#   /'
		else
			log "node$i: $f not readable (pid ${CT_PID[$((i - 1))]} gone?)"
		fi
		# every entry of a stream, in any state, as conntrack -L has it
		# (without -f: both families)
		t=$(ip netns exec "${NODES[$((i - 1))]}" conntrack -L -p tcp 2>&1)
		log "node$i: conntrack -L: $(grep -cE "sport=4[01][0-9]{3} dport=80 " <<< "$t") stream entries"
		grep -E "sport=4[01][0-9]{3} dport=80 |flow entries|rror" <<< "$t" | head -n 8 | sed 's/^/#   /'
	done
fi
# and on they go, through their new nodes
sleep "$HOLD"
touch "$STOP"

wait "$P4"; r4=$?
wait "$P6"; r6=$?
log "streams done"
grep -h '^stream ' "$OUT4" "$OUT6" | sed 's/^/#   /'
check "every IPv4 stream went on without reset, stall (15 s) or change of backend" test $r4 -eq 0
check "every IPv6 stream went on without reset, stall (15 s) or change of backend" test $r6 -eq 0

# the flows of node GONE were picked up by another node, with the same
# backend (a node keeps listing the streams it saw: their entries stay
# until they time out)
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

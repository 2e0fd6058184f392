#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kcip-test: exclusive (compares the module use count with its start; rmmod and modprobe)
#
# Deleting network namespaces frees their kclusterip state safely.  Each
# round makes a batch of "node" netns at once, each with TCP and UDP
# Services (IPv4 and IPv6, one restore) whose backend is a server in the
# node itself, sends traffic through them from a shared peer netns
# (PRE_ROUTING) or from the node itself (LOCAL_OUT), leaves conntrack
# entries (and, every other round, in every other node, traffic still
# running and a connection open), then deletes the whole batch together:
# the kernel tears them down in one cleanup_net pass, concurrently with
# the traffic.  After all rounds the module is still
# loaded, its reference count is back where it was, the kernel log is clean
# and rmmod works.
#
# KCIP_NETNS_ROUNDS rounds (default 3) of KCIP_NETNS_BATCH namespaces each
# (default 2); make check-debug runs 20 x 10.

source "$(dirname "$0")/lib.sh"

ROUNDS=${KCIP_NETNS_ROUNDS:-3}
BATCH=${KCIP_NETNS_BATCH:-2}
((BATCH >= 1 && BATCH <= 200)) || BATCH=2	# addresses 10.0.K.0/24

kcip_require
checktool "conntrack -V" "run test without conntrack"
grep -q '^kclusterip ' /proc/modules || skip "kclusterip is not a loadable module"
refcnt0=$(cat /sys/module/kclusterip/refcnt)

setup_ns peer
STOP=$(mktemp_file)
# each node's output: $OUTS.K
OUTS=$(mktemp_file)
# every server and client forked from one Python (lib.sh nsrun): 200
# namespaces would otherwise start 600 Pythons, seconds of CPU each on the
# debug kernel
nsrun_start

# prepare K NS: node K of a batch, up to the point where it is worth
# deleting.  Runs in the background beside the batch's other nodes: it
# logs its PASS/FAIL lines and the parent counts them.
prepare()
{
	local k=$1 n=$2 vip4="10.96.$1.10" vip6="fd00:96:$1::10"
	local proto n_ct l

	# few processes: on the debug kernel each costs seconds.  The node's
	# end of its veth is there (the round made them all at once).  The
	# backend lives in the node itself; the VIPs route out of eth0 (for
	# LOCAL_OUT) and only kclusterip makes them answer
	ip -n "$n" -batch - <<-EOF || return 1
		link set lo up
		addr add 10.0.$k.1/24 dev eth0
		addr add fd00:0:$k::1/64 dev eth0 nodad
		link set eth0 up
		link add dummy0 type dummy
		link set dummy0 up
		addr add 10.244.0.1/32 dev dummy0
		addr add fd00:244::1/128 dev dummy0 nodad
		route add 10.96.0.0/16 dev eth0
		route add fd00:96::/32 dev eth0
	EOF
	# its UDP and closed TCP entries outlive a slow round (30 s, and 10 s
	# after a reset, by default; on the debug kernel a node once had none
	# of its 3 TCP entries left when it counted them): they are what the
	# delete must clean up, and what is counted below
	ip netns exec "$n" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=3600 \
		net.netfilter.nf_conntrack_udp_timeout_stream=3600 \
		net.netfilter.nf_conntrack_tcp_timeout_close=3600 \
		net.netfilter.nf_conntrack_tcp_timeout_time_wait=3600 || return 1
	start_server "$n" "be$k" tcp,udp 8080

	# one restore per node: the batch's processes are what a round costs
	# (spelt out, not $(svc): a subshell costs on the debug kernel)
	for proto in tcp udp; do
		echo "service add $vip4:80/$proto"
		echo "backend add $vip4:80/$proto 10.244.0.1:8080"
		echo "service add [$vip6]:80/$proto"
		echo "backend add [$vip6]:80/$proto [fd00:244::1]:8080"
	done | kcip -n "$n" restore - || { fail "node $k: restore its Services"; return 1; }

	# from the peer (PRE_ROUTING) or from the node itself (LOCAL_OUT),
	# IPv4 TCP or IPv6 UDP: the four in turn over nodes and rounds
	case $(((k + round) % 4)) in
	0) flows_only_to "$n" tcp "$vip4" 80 3 "be$k" ;;
	1) flows_only_to "$peer" tcp "$vip4" 80 3 "be$k" ;;
	2) flows_only_to "$n" udp "$vip6" 80 3 "be$k" ;;
	3) flows_only_to "$peer" udp "$vip6" 80 3 "be$k" ;;
	esac
	n_ct=0
	while read -r l; do
		[[ $l == *"src=10.244.0.1 "* || $l == *"src=fd00:244::1 "* ]] &&
			n_ct=$((n_ct + 1))
	done < <(ip netns exec "$n" conntrack -L 2> /dev/null)
	[ "$n_ct" -gt 0 ] && pass "node $k: $n_ct DNATed conntrack entries" ||
		fail "node $k: no DNATed conntrack entries"
	return 0
}

# busy K NS: traffic that keeps running into node K while it is deleted.
# A refused flow ends at once: without a pause, clients into a dying node
# spin and take the CPUs from cleanup_net (a busy round's delete took
# more than 240 s so on the debug kernel, 50 s without traffic).  With
# 50 ms between flows the 20 clients of a busy round still kept the two
# vCPUs of the debug guest busy: busy rounds took 300 s more than idle
# ones to start their traffic and delete (51 to 346 s).  A flow every
# 250 ms per client is still traffic in flight during the delete.
busy()
{
	local k=$1 n=$2 client=$LIBDIR/kcip_client.py

	nsrun_bg "$peer" "$client" --proto tcp --until "$STOP" --expect any \
		--timeout 0.5 --delay 0.25 --size 100 "10.96.$k.10" 80
	TRAFFIC+=("$NSRUN_OUT")
	nsrun_bg "$peer" "$client" --proto udp --until "$STOP" --expect any \
		--timeout 0.5 --delay 0.25 --size 100 "fd00:96:$k::10" 80
	TRAFFIC+=("$NSRUN_OUT")
	# an open connection from the peer, and LOCAL_OUT traffic in the node
	# (that one ends with its netns: kill_ns_pids)
	nsrun_bg "$peer" "$client" --long "$STOP" --plain --timeout 2 \
		"10.96.$k.10" 80
	TRAFFIC+=("$NSRUN_OUT")
	LONGS+=("$NSRUN_OUT")
	nsrun_bg "$n" "$client" --proto udp --until "$STOP" --expect any \
		--timeout 0.5 --delay 0.25 --size 100 "10.96.$k.10" 80
}

# peer_links: how many of the batch's veth ends are still in the peer
peer_links() { ip -n "$peer" -o link show type veth | wc -l; }
no_peer_links() { [ "$(peer_links)" -eq 0 ]; }

total=0
for round in $(seq 1 "$ROUNDS"); do
	nodes=()
	pids=()
	outs=()
	# the batch's netns, then their veths to the peer: two processes
	# for the whole batch (setup_ns would start two per netns)
	for ((k = 1; k <= BATCH; k++)); do
		nodes+=("node$k-$NS_SUFFIX")
		outs+=("$OUTS.$k")
	done
	NS_LIST+=("${nodes[@]}")
	TMPFILES+=("${outs[@]}")
	printf 'netns add %s\n' "${nodes[@]}" | ip -batch - ||
		{ fail "round $round: ip netns add"; break; }
	for ((k = 1; k <= BATCH; k++)); do
		printf '%s\n' \
			"link add p$k type veth peer name eth0 netns ${nodes[$((k - 1))]}" \
			"addr add 10.0.$k.2/24 dev p$k" \
			"addr add fd00:0:$k::2/64 dev p$k nodad" \
			"link set p$k up" \
			"route add 10.96.$k.0/24 via 10.0.$k.1" \
			"route add fd00:96:$k::/64 via fd00:0:$k::1"
	done | ip -n "$peer" -batch - || { fail "round $round: the veths"; break; }
	for ((k = 1; k <= BATCH; k++)); do
		prepare "$k" "${nodes[$((k - 1))]}" > "${outs[$((k - 1))]}" 2>&1 &
		pids+=($!)
	done
	for ((k = 1; k <= BATCH; k++)); do
		wait "${pids[$((k - 1))]}" || fail "round $round: node $k setup"
		# its lines, and its checks counted (bash: no process per node)
		while IFS= read -r l; do
			printf '%s\n' "$l"
			[[ $l == "# "*"PASS:"* ]] && npass=$((npass + 1))
			[[ $l == "# "*"FAIL:"* ]] && nfail=$((nfail + 1))
		done < "${outs[$((k - 1))]}"
	done

	log "round $round: ${#nodes[@]} nodes programmed and checked"
	# every other round: traffic into every other node while it goes
	TRAFFIC=()
	LONGS=()
	if [ $((round % 2)) = 0 ]; then
		rm -f "$STOP"
		for k in $(seq 1 2 "$BATCH"); do
			busy "$k" "${nodes[$((k - 1))]}"
		done
		# deleted under traffic: the open connections are up
		for out in "${LONGS[@]}"; do
			busywait 30000 grep -q '^connected' "$out" ||
				fail "round $round: no connection before the delete: $(head -c 200 "$out")"
		done
	fi

	log "round $round: deleting ${#nodes[@]} netns (traffic running: ${#TRAFFIC[@]} clients)"
	# a netns goes only when its last process does: its servers first
	kills=()
	for n in "${nodes[@]}"; do
		kill_ns_pids "$n" &
		kills+=($!)
	done
	wait "${kills[@]}"
	printf 'netns del %s\n' "${nodes[@]}" | ip -batch - ||
		fail "round $round: ip netns del"
	# One cleanup_net pass tears the batch down.  With traffic running
	# into it on the debug kernel, beside another guest, that took more
	# than 240 s once (60 s x KCIP_TIME_SCALE 4): allow 150 s x scale
	t0=$SECONDS
	if busywait 150000 no_peer_links; then
		pass "round $round: ${#nodes[@]} netns gone in $((SECONDS - t0)) s (their veth peers went away)"
	else
		fail "round $round: $(peer_links) veth peers still there $((SECONDS - t0)) s after delete"
	fi
	total=$((total + ${#nodes[@]}))
	# gone: keep the cleanup at the end from visiting hundreds of names
	NS_LIST=("$peer")
	touch "$STOP"
	for out in "${TRAFFIC[@]}"; do
		busywait 60000 test -s "$out.rc" ||
			fail "round $round: a client into a deleted netns did not end"
	done
done
log_info "netns create, program, traffic, delete: $total namespaces in $ROUNDS rounds of $BATCH"

if grep -q '^kclusterip ' /proc/modules; then
	pass "module still loaded"
else
	fail "module gone"
fi
if busywait 10000 sh -c "[ \$(cat /sys/module/kclusterip/refcnt) -le $refcnt0 ]"; then
	pass "module reference count back to $refcnt0"
else
	fail "module reference count $(cat /sys/module/kclusterip/refcnt), was $refcnt0"
fi
dmesg_check

cleanup_all_ns
if rmmod kclusterip; then
	pass "rmmod after netns deletions"
else
	fail "rmmod after netns deletions"
fi
dmesg_check
modprobe kclusterip || fail "modprobe kclusterip again"
ksft_exit

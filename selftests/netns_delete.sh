#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kcip-test: exclusive (compares the module use count with its start; rmmod and modprobe)
#
# Deleting a network namespace frees its kclusterip state safely.  Each
# round makes a "node" netns with TCP and UDP Services (IPv4 and IPv6) whose
# backend is a server in the node itself, sends traffic through them from a
# peer netns (PRE_ROUTING) and from the node itself (LOCAL_OUT), leaves
# conntrack entries (and, every other round, traffic still running and a
# connection open), then deletes the netns.  After all rounds the module is
# still loaded, its reference count is back where it was, the kernel log is
# clean and rmmod works.

source "$(dirname "$0")/lib.sh"

# KCIP_NETNS_ROUNDS: make check-debug runs 100
ROUNDS=${KCIP_NETNS_ROUNDS:-${ROUNDS:-3}}

kcip_require
checktool "conntrack -V" "run test without conntrack"
grep -q '^kclusterip ' /proc/modules || skip "kclusterip is not a loadable module"
refcnt0=$(cat /sys/module/kclusterip/refcnt)

setup_ns peer
STOP=$(mktemp_file)

round()
{
	local i=$1 busy=$2
	local nodevar="node$i" n vip4="10.96.$i.10" vip6="fd00:96:$i::10"
	local pids=() pid

	setup_ns "$nodevar"
	n=${!nodevar}
	ip link add "p$i" netns "$peer" type veth peer name eth0 netns "$n" || return 1
	ip -n "$peer" -batch - <<-EOF || return 1
		addr add 10.0.$i.2/24 dev p$i
		addr add fd00:0:$i::2/64 dev p$i nodad
		link set p$i up
		route add 10.96.$i.0/24 via 10.0.$i.1
		route add fd00:96:$i::/64 via fd00:0:$i::1
	EOF
	# the backend lives in the node itself; the VIPs route out of eth0
	# (for LOCAL_OUT) and only kclusterip makes them answer
	ip -n "$n" -batch - <<-EOF || return 1
		addr add 10.0.$i.1/24 dev eth0
		addr add fd00:0:$i::1/64 dev eth0 nodad
		link set eth0 up
		link add dummy0 type dummy
		link set dummy0 up
		addr add 10.244.0.1/32 dev dummy0
		addr add fd00:244::1/128 dev dummy0 nodad
		route add 10.96.0.0/16 dev eth0
		route add fd00:96::/32 dev eth0
	EOF
	start_server "$n" "be$i" tcp,udp 8080

	for proto in tcp udp; do
		kcip -n "$n" service add "$(svc "$vip4" 80 $proto)" &&
		kcip -n "$n" backend add "$(svc "$vip4" 80 $proto)" 10.244.0.1:8080 &&
		kcip -n "$n" service add "$(svc "$vip6" 80 $proto)" &&
		kcip -n "$n" backend add "$(svc "$vip6" 80 $proto)" "[fd00:244::1]:8080" ||
			{ fail "round $i: add Services"; return 1; }
	done

	# from the peer (PRE_ROUTING) and from the node (LOCAL_OUT)
	if [ $((i % 2)) = 1 ]; then
		flows_only_to "$peer" tcp "$vip4" 80 4 "be$i"
		flows_only_to "$n" udp "$vip6" 80 4 "be$i"
	else
		flows_only_to "$peer" udp "$vip6" 80 4 "be$i"
		flows_only_to "$n" tcp "$vip4" 80 4 "be$i"
	fi
	n_ct=$(ip netns exec "$n" conntrack -L 2> /dev/null | grep -c 'src=10.244.0.1 \|src=fd00:244::1 ')
	[ "$n_ct" -gt 0 ] && pass "round $i: $n_ct DNATed conntrack entries in the node" ||
		fail "round $i: no DNATed conntrack entries in the node"

	if [ "$busy" = 1 ]; then
		rm -f "$STOP"
		ip netns exec "$peer" python3 -S "$LIBDIR/kcip_client.py" --proto tcp \
			--until "$STOP" --expect any --timeout 0.5 --size 100 \
			"$vip4" 80 > /dev/null &
		pids+=($!)
		BG_PIDS+=($!)
		ip netns exec "$peer" python3 -S "$LIBDIR/kcip_client.py" --proto udp \
			--until "$STOP" --expect any --timeout 0.5 --size 100 \
			"$vip6" 80 > /dev/null &
		pids+=($!)
		BG_PIDS+=($!)
		ip netns exec "$n" python3 -S "$LIBDIR/kcip_client.py" --proto udp \
			--until "$STOP" --expect any --timeout 0.5 --size 100 \
			"$vip4" 80 > /dev/null &
		BG_PIDS+=($!)
		# an open connection from the peer, too
		ip netns exec "$peer" python3 -S "$LIBDIR/kcip_client.py" --long "$STOP" --plain \
			--timeout 2 "$vip4" 80 > /dev/null 2>&1 &
		pids+=($!)
		BG_PIDS+=($!)
		sleep 1
	fi

	log "round $i: deleting $n (traffic running: $busy)"
	cleanup_ns "$n"
	if busywait 30000 sh -c "! ip -n $peer link show p$i > /dev/null 2>&1"; then
		pass "round $i: netns $n gone (its veth peer went away)"
	else
		fail "round $i: netns $n still there 30s after delete"
	fi
	if [ "$busy" = 1 ]; then
		touch "$STOP"
		for pid in "${pids[@]}"; do
			wait "$pid" 2> /dev/null
		done
	fi
	return 0
}

((ROUNDS <= 250)) || ROUNDS=250	# addresses 10.0.ROUND.0/24
for i in $(seq 1 "$ROUNDS"); do
	round "$i" $((i % 2 == 0 ? 1 : 0)) || fail "round $i setup"
done
log_info "netns create, program, traffic, delete: $ROUNDS rounds"

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

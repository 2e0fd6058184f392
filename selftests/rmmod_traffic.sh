#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kcip-test: exclusive (rmmod and modprobe kclusterip under traffic)
#
# "rmmod kclusterip" is safe under traffic: with Services (TCP and UDP,
# IPv4 and IPv6, in two namespaces) and clients opening flows all the time,
# rmmod succeeds, the kernel log stays clean, flows through the VIPs stop
# reaching backends, "modprobe kclusterip" starts with empty state in every
# netns, and traffic through re-added Services works again.  Twice, or
# KCIP_RMMOD_CYCLES times (make check-debug: 10).

source "$(dirname "$0")/lib.sh"

kcip_require
grep -q '^kclusterip ' /proc/modules || skip "kclusterip is not a loadable module"
setup_topo 3
setup_ns other
start_servers tcp,udp 8080
# "other": Services too (from its own sockets) so that two netns have state
ip -n "$other" link add dummy0 type dummy
ip -n "$other" link set dummy0 up
ip -n "$other" addr add 10.244.9.2/32 dev dummy0
ip -n "$other" route add 10.96.0.0/16 dev dummy0
start_server "$other" olocal tcp 8080

add_services()
{
	local vip proto

	for vip in "$VIP4" "$VIP6"; do
		for proto in tcp udp; do
			add_service "$node" "$vip" 80 "$proto" 8080 || return 1
		done
	done
	kcip -n "$other" service add "$(svc "$VIP4" 80 tcp)" &&
	kcip -n "$other" backend add "$(svc "$VIP4" 80 tcp)" 10.244.9.2:8080
}

STOP=$(mktemp_file)
TRAFFIC=()

start_traffic()
{
	local vip proto

	rm -f "$STOP"
	TRAFFIC=()
	for vip in "$VIP4" "$VIP6"; do
		for proto in tcp udp; do
			ip netns exec "$client" python3 -S "$LIBDIR/kcip_client.py" \
				--proto "$proto" --until "$STOP" --expect any \
				--timeout 0.5 --size 200 "$vip" 80 > /dev/null &
			TRAFFIC+=($!)
			BG_PIDS+=($!)
		done
	done
	ip netns exec "$other" python3 -S "$LIBDIR/kcip_client.py" \
		--until "$STOP" --expect any --timeout 0.5 --size 200 \
		"$VIP4" 80 > /dev/null &
	TRAFFIC+=($!)
	BG_PIDS+=($!)
}

stop_traffic()
{
	local pid

	touch "$STOP"
	for pid in "${TRAFFIC[@]}"; do
		wait "$pid"
	done
}

# traffic_seen: at least 20 flows went through the node's Services
traffic_seen()
{
	local v

	v=$(kcip_total_flows "$node") && [ "$v" -ge 20 ] && echo "$v"
}

CYCLES=${KCIP_RMMOD_CYCLES:-2}
for round in $(seq 1 "$CYCLES"); do
	log "round $round of $CYCLES"
	add_services || { fail "add Services"; ksft_exit; }
	start_traffic
	n=$(busywait 20000 traffic_seen)
	if [ -n "$n" ]; then
		pass "traffic flowing through the Services ($n flows)"
	else
		fail "no traffic through the Services"
	fi

	if rmmod kclusterip; then
		pass "rmmod kclusterip under traffic"
	else
		fail "rmmod kclusterip under traffic"
		stop_traffic
		ksft_exit
	fi
	[ -d /sys/module/kclusterip ] && fail "module still there after rmmod"
	# let the clients run into the module-less node for a moment
	sleep 1
	stop_traffic
	check "no flow to the VIP reaches a backend without the module" \
		flows "$client" tcp "$VIP4" 80 2 --timeout 1 --expect fail
	dmesg_check

	if modprobe kclusterip; then
		pass "modprobe kclusterip again"
	else
		fail "modprobe kclusterip again"
		ksft_exit
	fi
	n1=$(kcip_nservices "$node")
	n2=$(kcip_nservices "$other")
	if [ "$n1" -eq 0 ] && [ "$n2" -eq 0 ]; then
		pass "state is empty after reload"
	else
		fail "state after reload: $n1 Services in node, $n2 in other"
	fi
	add_services || { fail "add Services after reload"; ksft_exit; }
	for vip in "$VIP4" "$VIP6"; do
		for proto in tcp udp; do
			check "$proto $(svc "$vip" 80 "$proto") works after reload" \
				flows "$client" "$proto" "$vip" 80 6
		done
	done
	flows_only_to "$other" tcp "$VIP4" 80 3 olocal
	kcip -n "$node" flush
	kcip -n "$other" flush
done

log_info "rmmod and modprobe under traffic: $CYCLES cycles"
dmesg_check
ksft_exit

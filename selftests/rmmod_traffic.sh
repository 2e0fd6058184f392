#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kcip-test: exclusive (rmmod and modprobe kclusterip under traffic)
#
# "rmmod kclusterip" is safe under traffic: with Services (TCP and UDP,
# IPv4 and IPv6, in two namespaces) and clients opening flows all the time,
# rmmod succeeds, the kernel log stays clean, flows through the VIPs stop
# reaching backends, "modprobe kclusterip" starts with empty state in every
# netns, and traffic through re-added Services works again.  Twice, or
# KCIP_RMMOD_CYCLES times (make check-debug: 20).

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

# add_services: the node's four Services in one restore (3 backends each),
# and one in "other" by plain adds
add_services()
{
	local vip proto i a

	for vip in "$VIP4" "$VIP6"; do
		for proto in tcp udp; do
			echo "service add $(svc "$vip" 80 "$proto")"
			for i in $(seq 1 ${#BACKENDS[@]}); do
				case $vip in
				*:*) a=$(be_addr6 "$i") ;;
				*) a=$(be_addr4 "$i") ;;
				esac
				echo "backend add $(svc "$vip" 80 "$proto") $(be "$a" 8080)"
			done
		done
	done | kcip -n "$node" restore - || return 1
	kcip -n "$other" service add "$(svc "$VIP4" 80 tcp)" &&
	kcip -n "$other" backend add "$(svc "$VIP4" 80 tcp)" 10.244.9.2:8080
}

STOP=$(mktemp_file)
TRAFFIC=()

# (100 ms between flows: without a pause, five clients took most of the
# debug guest's vCPUs from the reloads they are there to race with)
start_traffic()
{
	local vip proto

	rm -f "$STOP"
	TRAFFIC=()
	for vip in "$VIP4" "$VIP6"; do
		for proto in tcp udp; do
			ip netns exec "$client" python3 -S "$LIBDIR/kcip_client.py" \
				--proto "$proto" --until "$STOP" --expect any \
				--timeout 0.5 --delay 0.1 --size 200 "$vip" 80 > /dev/null &
			TRAFFIC+=($!)
			BG_PIDS+=($!)
		done
	done
	ip netns exec "$other" python3 -S "$LIBDIR/kcip_client.py" \
		--until "$STOP" --expect any --timeout 0.5 --delay 0.1 --size 200 \
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

# traffic_seen: at least 10 flows went through the node's Services
traffic_seen()
{
	local v

	v=$(kcip_total_flows "$node") && [ "$v" -ge 10 ] && echo "$v"
}

# The clients run through every cycle (they take no answer in their
# stride).  Every cycle reloads under traffic and checks the reload started
# empty; the first, the last and every tenth also check that nothing reaches
# a backend without the module and that every Service works after it.
CYCLES=${KCIP_RMMOD_CYCLES:-2}
start_traffic
for round in $(seq 1 "$CYCLES"); do
	full=0
	((round == 1 || round == CYCLES || round % 10 == 0)) && full=1
	log "round $round of $CYCLES (full checks: $full)"
	add_services || { fail "add Services"; break; }
	if n=$(busywait 20000 traffic_seen); then
		pass "traffic flowing through the Services ($n flows)"
	else
		fail "no traffic through the Services"
	fi

	if rmmod kclusterip; then
		pass "rmmod kclusterip under traffic"
	else
		fail "rmmod kclusterip under traffic"
		break
	fi
	[ -d /sys/module/kclusterip ] && fail "module still there after rmmod"
	if [ "$full" = 1 ]; then
		check "no flow to the VIP reaches a backend without the module" \
			flows "$client" tcp "$VIP4" 80 2 --timeout 1 --expect fail
		dmesg_check
	fi

	if modprobe kclusterip; then
		pass "modprobe kclusterip again"
	else
		fail "modprobe kclusterip again"
		break
	fi
	n1=$(kcip_nservices "$node")
	n2=$(kcip_nservices "$other")
	if [ "$n1" -eq 0 ] && [ "$n2" -eq 0 ]; then
		pass "state is empty after reload"
	else
		fail "state after reload: $n1 Services in node, $n2 in other"
	fi
	[ "$full" = 1 ] || continue
	add_services || { fail "add Services after reload"; break; }
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
stop_traffic

log_info "rmmod and modprobe under traffic: $CYCLES cycles"
dmesg_check
ksft_exit

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Schedulers and client-IP affinity, seen from a client:
#  - sched rr: equal weights share 30 flows evenly; weights 1:2:3 share 60
#    flows about 1:2:3;
#  - sched maglev: the backend of a flow (UDP, fixed 5-tuples) depends on
#    the backend set only, not on the order the backends were added in;
#    removing one backend moves its flows and only few others;
#  - affinity clientip: every flow of one client address goes to one
#    backend (for two client addresses), also with IPv6.

source "$(dirname "$0")/lib.sh"

kcip_require
checktool "conntrack -V" "run test without conntrack"
setup_topo 3
# a second client address, for affinity
ip -n "$client" addr add 10.0.1.3/24 dev eth0
ip -n "$client" addr add fd00:1::3/64 dev eth0 nodad
start_servers tcp,udp 8080

# add_bes SVC FAMILY N...: backends beN of SVC, in that order
add_bes()
{
	local s=$1 fam=$2 n
	shift 2

	for n in "$@"; do
		if [ "$fam" = 6 ]; then
			kcip -n "$node" backend add "$s" "[$(be_addr6 "$n")]:8080" "${BEOPTS[@]}"
		else
			kcip -n "$node" backend add "$s" "$(be_addr4 "$n"):8080" "${BEOPTS[@]}"
		fi || fail "backend add $s be$n"
	done
}
BEOPTS=()

log "sched rr"
S=$(svc "$VIP4" 80 tcp)
kcip -n "$node" service add "$S" sched rr || fail "service add $S sched rr"
add_bes "$S" 4 1 2 3
out=$(flows "$client" tcp "$VIP4" 80 30 | tail -n 1)
c1=$(backend_count "$out" be1) c2=$(backend_count "$out" be2) c3=$(backend_count "$out" be3)
max=$(printf '%s\n' "$c1" "$c2" "$c3" | sort -n | tail -n 1)
min=$(printf '%s\n' "$c1" "$c2" "$c3" | sort -n | head -n 1)
if [ $((c1 + c2 + c3)) -eq 30 ] && [ $((max - min)) -le 2 ]; then
	pass "rr: 30 flows shared evenly ($out)"
else
	fail "rr: 30 flows not shared evenly ($out)"
fi
kcip -n "$node" backend change "$S" "$(be_addr4 2):8080" weight 2 &&
kcip -n "$node" backend change "$S" "$(be_addr4 3):8080" weight 3 || fail "backend change weights"
out=$(flows "$client" tcp "$VIP4" 80 60 | tail -n 1)
c1=$(backend_count "$out" be1) c2=$(backend_count "$out" be2) c3=$(backend_count "$out" be3)
if [ $((c1 + c2 + c3)) -eq 60 ] && [ "$c1" -ge 7 ] && [ "$c1" -le 13 ] &&
   [ "$c2" -ge 17 ] && [ "$c2" -le 23 ] && [ "$c3" -ge 27 ] && [ "$c3" -le 33 ]; then
	pass "rr: weights 1:2:3 honoured ($out)"
else
	fail "rr: weights 1:2:3 not honoured, want about 10/20/30 ($out)"
fi

log "sched maglev"
NPORTS=24
# maglev_map VIP: "sport:backend ..." for UDP flows from fixed source
# ports, each a fresh conntrack entry (the node's UDP entries go first)
maglev_map()
{
	ip netns exec "$node" conntrack -D -p udp > /dev/null 2>&1
	flows "$client" udp "$1" 53 $NPORTS --sport 40001 --sport-step --size 16 -v |
		sed -n 's/^# flow [0-9]* sport \([0-9]*\): ok from \(be[0-9]*\)$/\1:\2/p' |
		tr '\n' ' '
}

S=$(svc "$VIP4" 53 udp)
kcip -n "$node" service add "$S" sched maglev || fail "service add $S sched maglev"
add_bes "$S" 4 1 2 3
m1=$(maglev_map "$VIP4")
kcip -n "$node" service del "$S"
kcip -n "$node" service add "$S" sched maglev || fail "service add $S sched maglev"
add_bes "$S" 4 3 1 2
m2=$(maglev_map "$VIP4")
if [ "$(echo "$m1" | wc -w)" -eq $NPORTS ] && [ "$m1" = "$m2" ]; then
	pass "maglev: same backends in another order, same backend for every 5-tuple"
else
	fail "maglev: the mapping depends on the order backends were added"
	log "  order 1 2 3:$m1"
	log "  order 3 1 2:$m2"
fi
for b in be1 be2 be3; do
	[[ "$m1" == *":$b"* ]] || fail "maglev: $b got none of $NPORTS flows ($m1)"
done
kcip -n "$node" backend del "$S" "$(be_addr4 2):8080" || fail "backend del be2"
m3=$(maglev_map "$VIP4")
moved=0 lost=0 kept2=0
declare -A after=()
for pm in $m3; do
	after[${pm%%:*}]=${pm#*:}
done
for pm in $m1; do
	p=${pm%%:*} b=${pm#*:}
	now=${after[$p]}
	if [ "$b" = be2 ]; then
		[ "$now" = be2 ] && kept2=$((kept2 + 1))
		[ -z "$now" ] && lost=$((lost + 1))
	elif [ "$now" != "$b" ]; then
		moved=$((moved + 1))
	fi
done
if [ $kept2 -eq 0 ] && [ $lost -eq 0 ] && [ $moved -le 3 ]; then
	pass "maglev: removing be2 moved its flows and $moved of the others"
else
	fail "maglev: removing be2: $kept2 still on be2, $lost unanswered, $moved others moved"
	log "  before:$m1"
	log "  after: $m3"
fi

log "affinity clientip"
for vip in "$VIP4" "$VIP6"; do
	case $vip in
	*:*) fam=6 srcs="$CLIENT6 fd00:1::3" ;;
	*) fam=4 srcs="$CLIENT4 10.0.1.3" ;;
	esac
	S=$(svc "$vip" 81 tcp)
	kcip -n "$node" service add "$S" affinity clientip timeout 60 ||
		fail "service add $S affinity clientip"
	add_bes "$S" $fam 1 2 3
	for src in $srcs; do
		out=$(flows "$client" tcp "$vip" 81 10 --src "$src" | tail -n 1)
		if [ "$(echo "$out" | grep -o 'be[0-9]*=' | wc -l)" -eq 1 ] &&
		   [[ "$out" == *"ok=10 "* ]]; then
			pass "affinity: every flow from $src to $S on one backend ($out)"
		else
			fail "affinity: flows from $src to $S spread ($out)"
		fi
	done
done

dmesg_check
ksft_exit

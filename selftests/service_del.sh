#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Deleting things takes them out of the data path:
#  - after "backend del", that backend gets no new flows (TCP and UDP, v4
#    and v6) and its UDP conntrack entries are gone at once, while the
#    other backends' entries stay;
#  - after "service del", new flows to that VIP reach no backend (they fail
#    fast or time out), the Service is gone from "show", and the other
#    Services are untouched;
#  - "flush" removes every Service.

source "$(dirname "$0")/lib.sh"

kcip_require
checktool "conntrack -V" "run test without conntrack"
setup_topo 3
start_servers tcp,udp 8080

for vip in "$VIP4" "$VIP6"; do
	add_service "$node" "$vip" 80 tcp 8080 || ksft_exit
	add_service "$node" "$vip" 80 udp 8080 || ksft_exit
done

# ct_count FAMILY PROTO VIP REPLY_SRC: conntrack entries VIP -> REPLY_SRC
ct_count()
{
	ip netns exec "$node" conntrack -L -f "$1" -p "$2" --orig-dst "$3" \
		--reply-src "$4" 2> /dev/null | grep -c .
}

for vip in "$VIP4" "$VIP6"; do
	case $vip in
	*:*) fam=ipv6 addrfn=be_addr6 ;;
	*) fam=ipv4 addrfn=be_addr4 ;;
	esac
	for proto in tcp udp; do
		check "$proto $fam: flows work before any deletion" \
			flows "$client" "$proto" "$vip" 80 9
	done

	# backend del: be2 gets nothing new.  Its UDP entries are what the
	# delete must remove: 9 flows over 3 backends miss be2 one time in 40,
	# so send more until it has some
	be2=$($addrfn 2)
	n=$(ct_count "$fam" udp "$vip" "$be2")
	for try in 1 2 3 4 5; do
		[ "$n" -gt 0 ] && break
		flows "$client" udp "$vip" 80 9 > /dev/null
		n=$(ct_count "$fam" udp "$vip" "$be2")
	done
	log "$fam: $n udp conntrack entries to be2 before backend del"
	for proto in tcp udp; do
		kcip -n "$node" backend del "$(svc "$vip" 80 "$proto")" "$(be "$be2" 8080)" ||
			fail "$proto $fam: backend del be2"
	done
	if [ "$n" -gt 0 ]; then
		if busywait 3000 sh -c "[ \$(ip netns exec $node conntrack -L -f $fam -p udp --orig-dst $vip --reply-src $be2 2>/dev/null | grep -c .) -eq 0 ]"; then
			pass "udp $fam: backend del removed be2's $n conntrack entries"
		else
			fail "udp $fam: be2's conntrack entries still there after backend del"
			ip netns exec "$node" conntrack -L -f "$fam" -p udp --orig-dst "$vip" 2>&1 | sed 's/^/#   /'
		fi
		n=$(ct_count "$fam" udp "$vip" "$($addrfn 1)")
		n3=$(ct_count "$fam" udp "$vip" "$($addrfn 3)")
		if [ $((n + n3)) -gt 0 ]; then
			pass "udp $fam: other backends' conntrack entries kept ($n + $n3)"
		else
			fail "udp $fam: backend del of be2 also removed be1/be3 conntrack entries"
		fi
	else
		fail "udp $fam: no conntrack entry to be2 before backend del"
	fi
	for proto in tcp udp; do
		# (be1 and be3 both in 30 random flows: one missed 1 run in 500
		# million; in 15, 1 in 16,000)
		out=$(flows "$client" "$proto" "$vip" 80 30)
		rc=$?
		out=$(echo "$out" | tail -n 1)
		if [ $rc -eq 0 ] && [ "$(backend_count "$out" be2)" -eq 0 ] &&
		   [ "$(backend_count "$out" be1)" -gt 0 ] && [ "$(backend_count "$out" be3)" -gt 0 ]; then
			pass "$proto $fam: after backend del be2, new flows only to be1 and be3 ($out)"
		else
			fail "$proto $fam: after backend del be2: $out"
		fi
	done
	if kcip -n "$node" -j show | grep -q "\"$be2\""; then
		fail "$fam: be2 still listed after backend del"
	else
		pass "$fam: be2 no longer listed"
	fi
done

# service del: TCP v4 first; the others keep working
kcip -n "$node" service del "$(svc "$VIP4" 80 tcp)" || fail "service del $VIP4:80/tcp"
check "tcp ipv4: new flows to the deleted Service reach no backend" \
	flows "$client" tcp "$VIP4" 80 2 --timeout 1 --expect fail
check "udp ipv4: the UDP Service on the same VIP and port still works" \
	flows "$client" udp "$VIP4" 80 3
check "tcp ipv6: the IPv6 Service still works" \
	flows "$client" tcp "$VIP6" 80 3
n=$(kcip_nservices "$node")
[ "$n" -eq 3 ] && pass "3 Services left" || fail "$n Services left, want 3"

kcip -n "$node" service del "$(svc "$VIP6" 80 udp)" || fail "service del [$VIP6]:80/udp"
check "udp ipv6: new flows to the deleted Service reach no backend" \
	flows "$client" udp "$VIP6" 80 2 --timeout 1 --expect fail
check "tcp ipv6: still works" flows "$client" tcp "$VIP6" 80 3

kcip -n "$node" flush || fail "flush"
n=$(kcip_nservices "$node")
[ "$n" -eq 0 ] && pass "flush: no Service left" || fail "flush: $n Services left"
check "tcp ipv6: no backend reached after flush" \
	flows "$client" tcp "$VIP6" 80 3 --timeout 1 --expect fail
check "udp ipv4: no backend reached after flush" \
	flows "$client" udp "$VIP4" 80 3 --timeout 1 --expect fail

dmesg_check
ksft_exit

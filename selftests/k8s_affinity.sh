#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Session affinity "clientip", IPv4 and IPv6, two backends
# (sched rr: without affinity consecutive flows would alternate).  From
# the client, flows with a new source port each:
#  - all flows from one client address go to one backend X; all flows from
#    a second client address go to one backend too (with rr, the other);
#  - X "state down": the next flows go to the other backend O at once;
#    X ready again: they stay on O (the affinity moved);
#  - O "terminating" while X is ready: they move to X at once; O ready
#    again: they stay on X;
#  - "backend del" X: they move to O at once; X added back: they stay on O;
#  - with "timeout 10": the affinity entry (kcipctl explain) outlives a
#    pause shorter than the timeout, is renewed by a new flow, and is gone
#    once the timeout passed with no new flow.  The timeout and the pauses
#    grow with KCIP_TIME_SCALE: on the debug kernel, starting the client
#    that renews the entry alone took more than 3 s, and with other
#    guests on the host the renewing flow came more than 12 s after the
#    pause (timeout 20, pause 8): the pause is 4 s and the timeout 10 s
#    a scale step now (40 and 16 under check-debug).
# The moves above are checked with a long timeout (a busy emulated VM may
# take more than 5 s between two steps); "service change ... timeout 10"
# then sets the short one, which the next flow's renewal takes.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_k8s.sh"

N=5
SCALE=${KCIP_TIME_SCALE:-1}
TIMEOUT=$((10 * SCALE))
PAUSE=$((4 * SCALE))
LONG_TIMEOUT=60

kcip_require
setup_topo 2
# the second address is never picked as a source by itself (IPv6 would
# prefer the newer address: preferred_lft 0), only when bound
ip -n "$client" addr add 10.0.1.3/24 dev eth0 &&
ip -n "$client" addr add fd00:1::3/64 dev eth0 nodad preferred_lft 0 ||
	{ fail "second client address"; ksft_exit; }
servers tcp 8080 -- 1 2 || ksft_exit

{
	svc_lines "$VIP4" 80 tcp 8080 "1 2" sched rr affinity clientip timeout $LONG_TIMEOUT
	svc_lines "$VIP6" 80 tcp 8080 "1 2" sched rr affinity clientip timeout $LONG_TIMEOUT
} | kcip_load "$node" || ksft_exit
kcip -n "$node" show | sed 's/^/#   /'

# one_backend VIP [--src A]: N flows all answered by one backend; its
# number (1 or 2) into ONE, empty if not one backend
one_backend()
{
	local vip=$1

	shift
	probe_many "$client" tcp $N "$@" -- "$vip" 80
	many_get summary "$vip" 80
	case $REPLY in
	"be1=$N") ONE=1 ;;
	"be2=$N") ONE=2 ;;
	*) ONE= ;;
	esac
}

# stick DESC VIP WANT [--src A]: N flows all go to beWANT
stick()
{
	local desc=$1 vip=$2 want=$3

	shift 3
	expect_names "$desc" "$client" tcp "$vip" 80 $N "be$want" "$@"
}

# explain_aff SRC VIP: the backend (1, 2) SRC has affinity to, or "none"
explain_aff()
{
	local out

	out=$(kcip -n "$node" -j explain tcp "$(bracket "$1"):40000" "$(bracket "$2"):80")
	case $out in
	*'"affinity":true'*'"address":"10.244.1.2"'* | *'"affinity":true'*'"address":"fd00:244:1::2"'*) echo 1 ;;
	*'"affinity":true'*'"address":"10.244.2.2"'* | *'"affinity":true'*'"address":"fd00:244:2::2"'*) echo 2 ;;
	*'"affinity":false'*) echo none ;;
	*) echo "unexpected: $out" ;;
	esac
}

aff_family()
{
	local fam=$1 vip=$2 srca=$3 srcb=$4 x o y

	log "$fam: two client addresses"
	one_backend "$vip" --src "$srca"
	x=$ONE
	if [ -n "$x" ]; then
		pass "$fam: $N flows from the client $srca all to be$x"
	else
		fail "$fam: $N flows from the client $srca not all to one backend: $REPLY"
		return
	fi
	o=$((3 - x))
	one_backend "$vip" --src "$srcb"
	y=$ONE
	if [ -n "$y" ]; then
		pass "$fam: $N flows from a second client address $srcb all to be$y"
		if [ "$y" = "$o" ]; then
			pass "$fam: sched rr: the second client address got the other backend"
		else
			fail "$fam: sched rr: the second client address got be$y too"
		fi
	else
		fail "$fam: $N flows from $srcb not all to one backend: $REPLY"
	fi

	log "$fam: be$x down, then ready again"
	beop "$node" change "$vip" 80 tcp 8080 "$x" state down || fail "$fam: backend change down"
	stick "$fam affinity to be$x dropped at once when it goes down" "$vip" $o
	beop "$node" change "$vip" 80 tcp 8080 "$x" state ready || fail "$fam: backend change ready"
	stick "$fam be$x ready again: affinity stays on be$o" "$vip" $o

	log "$fam: be$o terminating, then ready again"
	beop "$node" change "$vip" 80 tcp 8080 "$o" state terminating || fail "$fam: backend change terminating"
	stick "$fam affinity to terminating be$o dropped at once (be$x is ready)" "$vip" $x
	beop "$node" change "$vip" 80 tcp 8080 "$o" state ready || fail "$fam: backend change ready"
	stick "$fam be$o ready again: affinity stays on be$x" "$vip" $x

	log "$fam: be$x deleted, then added back"
	beop "$node" del "$vip" 80 tcp 8080 "$x" || fail "$fam: backend del"
	stick "$fam affinity to deleted be$x dropped at once" "$vip" $o
	beop "$node" add "$vip" 80 tcp 8080 "$x" || fail "$fam: backend add"
	stick "$fam be$x back: affinity stays on be$o" "$vip" $o
	AFF[$fam]=$o
}

declare -A AFF
aff_family ipv4 "$VIP4" "$CLIENT4" 10.0.1.3
aff_family ipv6 "$VIP6" "$CLIENT6" fd00:1::3

# The timeout, both families at once: T0 is the time of their last flows.
# expect_aff WHEN: explain shows (or not) the affinity of both
expect_aff()
{
	local when=$1 want4=$2 want6=$3 g4 g6

	g4=$(explain_aff "$CLIENT4" "$VIP4")
	g6=$(explain_aff "$CLIENT6" "$VIP6")
	[ "$g4" = "$want4" ] && pass "ipv4 affinity $when: $g4" || fail "ipv4 affinity $when: $g4, want $want4"
	[ "$g6" = "$want6" ] && pass "ipv6 affinity $when: $g6" || fail "ipv6 affinity $when: $g6, want $want6"
}

# wait_until T0 SECONDS: wait until the wall clock is T0 + SECONDS
_past() { flt_lt "$1" "$EPOCHREALTIME"; }
wait_until()
{
	fadd "$1" "$2"
	k8s_wait 60000 _past "$REPLY"
}

if [ -n "${AFF[ipv4]}" ] && [ -n "${AFF[ipv6]}" ]; then
	log "affinity timeout $TIMEOUT s"
	kcip -n "$node" service change "$(svc "$VIP4" 80 tcp)" affinity clientip timeout $TIMEOUT &&
	kcip -n "$node" service change "$(svc "$VIP6" 80 tcp)" affinity clientip timeout $TIMEOUT ||
		fail "service change affinity clientip timeout $TIMEOUT"
	# both families' last flow now, renewing with the short timeout
	probe_many "$client" tcp 1 -- "$VIP4" 80 "$VIP6" 80
	t0=$(now)
	expect_many "ipv4 timeout $TIMEOUT: same backend" "$VIP4" 80 "be${AFF[ipv4]}"
	expect_many "ipv6 timeout $TIMEOUT: same backend" "$VIP6" 80 "be${AFF[ipv6]}"
	expect_aff "right after the last flow" "${AFF[ipv4]}" "${AFF[ipv6]}"
	wait_until "$t0" $PAUSE
	expect_aff "$PAUSE s after the last flow" "${AFF[ipv4]}" "${AFF[ipv6]}"
	# a new flow renews the entry: past T0 + TIMEOUT it is still there
	probe_many "$client" tcp 1 -- "$VIP4" 80 "$VIP6" 80
	t1=$(now)
	expect_many "ipv4 a flow after $PAUSE s" "$VIP4" 80 "be${AFF[ipv4]}"
	expect_many "ipv6 a flow after $PAUSE s" "$VIP6" 80 "be${AFF[ipv6]}"
	# past the first flow's timeout, before the renewed one's (which is
	# at least PAUSE - SCALE later)
	late=$((TIMEOUT + SCALE))
	wait_until "$t0" "$late"
	expect_aff "renewed by that flow, $late s after the first pause began" "${AFF[ipv4]}" "${AFF[ipv6]}"
	wait_until "$t1" $((TIMEOUT + SCALE))
	expect_aff "${TIMEOUT}+ s after the last flow" none none
fi

dmesg_check
ksft_exit

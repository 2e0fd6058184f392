#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad input is refused and changes nothing:
#  - kcipctl: each bad command exits non-zero with a "kcipctl: <message>"
#    line on stderr, and "kcipctl -j show" (and the generation) is the same
#    before and after: bad addresses, ports 0 and 70000, unknown protocol,
#    weight 70000, mismatched backend family, duplicate Service (EEXIST) and
#    backend, backend add to a missing Service (ENOENT), del of a missing
#    backend or Service, unknown words, missing values, a restore file with
#    one bad line;
#  - options the module does not implement yet (sched maglev, masquerade
#    on, ...): either refused like the above, or taken and shown as asked;
#  - hand-made malformed netlink requests (nlmalformed.c): each gets an
#    error ack; state unchanged.

source "$(dirname "$0")/lib.sh"

kcip_require
setup_ns node

S4=10.96.0.10:80/tcp
S6='[fd00:96::10]:53/udp'
kcip -n "$node" service add "$S4" &&
kcip -n "$node" backend add "$S4" 10.244.1.2:8080 &&
kcip -n "$node" service add "$S6" no-endpoints drop &&
kcip -n "$node" backend add "$S6" "[fd00:244:1::2]:8053" weight 2 ||
	{ fail "setup"; ksft_exit; }

generation() { generation_of "$node"; }

STATE0=$(state_of "$node")
GEN0=$(generation)
ERR=$(mktemp_file)

# bad DESC ARGS...: kcipctl -n node ARGS must fail with a "kcipctl: "
# message and leave the state alone.  With MSGRE set, the message must
# match that (extended) regexp too.
bad()
{
	local desc=$1 rc first ok=1
	shift

	"$KCIPCTL" -n "$node" "$@" > /dev/null 2> "$ERR"
	rc=$?
	first=$(head -n 1 "$ERR")
	if [ $rc -eq 0 ]; then
		fail "$desc: accepted (kcipctl $*)"
		ok=0
	elif ! grep -q '^kcipctl: ' "$ERR"; then
		fail "$desc: exit $rc but no 'kcipctl: ' message (stderr: $first)"
		ok=0
	elif [ -n "$MSGRE" ] && ! grep -q -E -i "$MSGRE" "$ERR"; then
		fail "$desc: message '$first' does not match /$MSGRE/"
		ok=0
	fi
	if [ "$(state_of "$node")" != "$STATE0" ]; then
		fail "$desc: state changed (kcipctl $*)"
		ok=0
		# put it back for the next cases
		kcip -n "$node" flush
		kcip -n "$node" service add "$S4"
		kcip -n "$node" backend add "$S4" 10.244.1.2:8080
		kcip -n "$node" service add "$S6" no-endpoints drop
		kcip -n "$node" backend add "$S6" "[fd00:244:1::2]:8053" weight 2
		STATE0=$(state_of "$node")
		GEN0=$(generation)
	fi
	[ $ok = 1 ] && pass "$desc: refused, exit $rc: $first"
	MSGRE=
}

# new SERVICE OPTIONS...: an option the module may not implement yet.
# Either refused like bad input, or taken and then shown with VALUE in the
# field FIELD of the JSON (and deleted again).
maybe()
{
	local desc=$1 field=$2 value=$3 svc=10.96.0.77:80/tcp got
	shift 3

	if "$KCIPCTL" -n "$node" service add "$svc" "$@" > /dev/null 2> "$ERR"; then
		got=$(kcip -n "$node" -j show | python3 -S -c '
import json, sys
for s in json.load(sys.stdin)["services"]:
    if s["address"] == "10.96.0.77":
        print(s.get(sys.argv[1]))' "$field")
		if [ "$got" = "$value" ]; then
			pass "$desc: implemented, shows $field=$got"
		else
			fail "$desc: taken, but shows $field=$got, want $value"
		fi
		kcip -n "$node" service del "$svc" ||
			fail "$desc: service del"
		STATE0=$(state_of "$node")
		GEN0=$(generation)
	else
		bad "$desc (not implemented)" service add "$svc" "$@"
	fi
}

log "addresses and ports"
bad "bad IPv4 address" service add 10.96.0.300:80/tcp
bad "name instead of address" service add vip.example:80/tcp
bad "IPv6 address without brackets" service add fd00:96::11:80/tcp
bad "unterminated bracket" service add "[fd00:96::11:80/tcp"
bad "port 0" service add 10.96.0.11:0/tcp
bad "port 70000" service add 10.96.0.11:70000/tcp
bad "port not a number" service add 10.96.0.11:http/tcp
bad "no port" service add 10.96.0.11/tcp
bad "no protocol" service add 10.96.0.11:80
MSGRE='proto|icmp'
bad "unknown protocol" service add 10.96.0.11:80/icmp
bad "multicast VIP" service add 224.0.0.5:80/tcp
bad "backend bad address" backend add "$S4" 10.244.1.256:8080
bad "backend port 0" backend add "$S4" 10.244.1.3:0
bad "backend port 70000" backend add "$S4" 10.244.1.3:70000
bad "backend without port" backend add "$S4" 10.244.1.3
bad "backend with protocol" backend add "$S4" 10.244.1.3:8080/tcp
bad "IPv6 backend for an IPv4 Service" backend add "$S4" "[fd00:244:1::3]:8080"
bad "IPv4 backend for an IPv6 Service" backend add "$S6" 10.244.1.3:8053

log "weights, states, options"
MSGRE='weight'
bad "weight 70000" backend add "$S4" 10.244.1.3:8080 weight 70000
bad "weight -1" backend add "$S4" 10.244.1.3:8080 weight -1
bad "weight not a number" backend add "$S4" 10.244.1.3:8080 weight heavy
bad "weight without value" backend add "$S4" 10.244.1.3:8080 weight
bad "unknown state" backend add "$S4" 10.244.1.3:8080 state sleeping
bad "backend change weight 70000" backend change "$S4" 10.244.1.2:8080 weight 70000
bad "backend change unknown word" backend change "$S4" 10.244.1.2:8080 colour blue
bad "unknown service option" service add 10.96.0.11:80/tcp colour blue
bad "sched without value" service add 10.96.0.11:80/tcp sched
bad "unknown scheduler" service add 10.96.0.11:80/tcp sched lottery
bad "unknown no-endpoints" service add 10.96.0.11:80/tcp no-endpoints shrug
bad "affinity timeout 0" service add 10.96.0.11:80/tcp affinity clientip timeout 0
bad "affinity timeout 86401" service add 10.96.0.11:80/tcp affinity clientip timeout 86401
bad "masquerade maybe" service add 10.96.0.11:80/tcp masquerade maybe
bad "backend del unknown word" backend del "$S4" 10.244.1.2:8080 now

log "existence"
MSGRE='exist'
bad "duplicate Service (EEXIST)" service add "$S4"
MSGRE='exist'
bad "duplicate backend (EEXIST)" backend add "$S4" 10.244.1.2:8080
MSGRE='exist|no such|not found'
bad "backend add to a missing Service (ENOENT)" backend add 10.96.0.99:80/tcp 10.244.1.2:8080
MSGRE='exist|no such|not found'
bad "del of a missing backend" backend del "$S4" 10.244.1.9:8080
bad "change of a missing backend" backend change "$S4" 10.244.1.9:8080 weight 3
MSGRE='exist|no such|not found'
bad "del of a missing Service" service del 10.96.0.99:80/tcp
bad "change of a missing Service" service change 10.96.0.99:80/tcp no-endpoints drop
bad "same VIP and port, other protocol, missing" service del 10.96.0.10:80/udp

log "command line"
bad "unknown object" frobnicate show
bad "unknown service command" service frobnicate "$S4"
bad "unknown backend command" backend frobnicate "$S4" 10.244.1.2:8080
bad "unknown option" -x show
bad "missing Service argument" service add
bad "missing backend argument" backend add "$S4"
bad "trailing junk after show" show everything
bad "netns that does not exist" -n "no-such-netns-$NS_SUFFIX" service add 10.96.0.11:80/tcp

log "restore is all or nothing"
RESTORE=$(mktemp_file)
cat > "$RESTORE" <<EOF
service add 10.96.0.20:80/tcp
backend add 10.96.0.20:80/tcp 10.244.1.2:8080
backend add 10.96.0.20:80/tcp 10.244.1.2:99999
EOF
bad "restore with a bad line" restore "$RESTORE"
# every line well-formed, the last one refused by the kernel (EEXIST)
cat > "$RESTORE" <<EOF
service add 10.96.0.20:80/tcp
backend add 10.96.0.20:80/tcp 10.244.1.2:8080
service add [fd00:96::20]:80/tcp
backend add 10.96.0.20:80/tcp 10.244.1.2:8080
EOF
bad "restore with a line the kernel refuses" restore "$RESTORE"

log "options that may not be implemented yet"
maybe "sched maglev" sched maglev sched maglev
maybe "sched rr" sched rr sched rr
maybe "affinity clientip" affinity clientip affinity clientip
maybe "masquerade on" masquerade True masquerade on
maybe "retry on" retry True retry on
maybe "traffic-policy local" traffic_policy local traffic-policy local

[ "$(generation)" = "$GEN0" ] && pass "generation unchanged by refused requests ($GEN0)" ||
	fail "generation moved from $GEN0 to $(generation) though every request was refused"

log "malformed netlink requests"
NLMALFORMED=$LIBDIR/nlmalformed
if [ ! -x "$NLMALFORMED" ]; then
	tmpd=$(mktemp -d /tmp/kcip-nlm.XXXXXX)
	TMPFILES+=("$tmpd")
	make -s -C "$LIBDIR" OUTPUT="$tmpd" "$tmpd/nlmalformed" > /dev/null 2>&1 &&
		NLMALFORMED=$tmpd/nlmalformed
fi
if [ -x "$NLMALFORMED" ]; then
	out=$(ip netns exec "$node" "$NLMALFORMED" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/#   /'
	if [ $rc -eq 0 ] && echo "$out" | grep -q '^ok '; then
		pass "nlmalformed: every malformed request refused ($(echo "$out" | grep -c '^ok ') cases)"
	else
		fail "nlmalformed: exit $rc, $(echo "$out" | grep -c '^FAIL ') case(s) failed"
	fi
	[ "$(state_of "$node")" = "$STATE0" ] && pass "state unchanged by malformed requests" ||
		fail "state changed by malformed requests"
	[ "$(generation)" = "$GEN0" ] && pass "generation unchanged by malformed requests" ||
		fail "generation moved from $GEN0 to $(generation) by malformed requests"
else
	fail "nlmalformed not built (make -C selftests; needs libmnl-dev)"
fi

log "the state is still usable"
check "backend add still works" kcip -n "$node" backend add "$S4" 10.244.1.3:8080 weight 3
n=$(kcip -n "$node" -j show | python3 -S -c '
import json, sys
print(sum(len(s["backends"]) for s in json.load(sys.stdin)["services"]))')
[ "$n" -eq 3 ] && pass "3 backends in all" || fail "$n backends in all, want 3"

dmesg_check
ksft_exit

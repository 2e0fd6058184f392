#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Counters per Service and per backend, as "kcipctl -s show" and
# "kcipctl -j -s show" print them, and "kcipctl explain":
#  - new-flows: N TCP connections add N to the Service and N over its
#    backends, each backend exactly the connections it answered; the same
#    for UDP flows;
#  - packets and bytes (both directions, IP length): grow with traffic; a
#    Service's are the sum of its backends'; TCP bytes >= the payload both
#    ways; UDP (one datagram each way per flow) exactly 2 packets and the
#    datagrams' IP lengths per flow;
#  - active (conntrack entries, -s): equals the connections held open (5,
#    per backend too), and drops to 0 once their conntrack entries go;
#  - rejects (no endpoints, reject: TCP connections refused) and drops
#    (no-endpoints drop: UDP flows unanswered) count each new flow, and
#    new-flows stays 0 there;
#  - counters stay through "save | restore" (nothing changed), a "backend
#    change" of another backend's weight, and a restore that changes a
#    Service back (its backends keep theirs);
#  - the JSON output has the same numbers as the text;
#  - explain says "weighted random" (random), "maglev" with the backend a
#    flow from that source port then really gets, "round robin" (rr),
#    "client-IP affinity" with the backend of the client's earlier flow,
#    "no endpoints (reject" / "no endpoints (drop)", and "no service".

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_control.sh"

kcip_require
checktool "conntrack --version" "run test without conntrack"
setup_topo 3
check_topo
for i in 1 2 3; do
	NOWAIT=1 start_server "${BACKENDS[$((i - 1))]}" "be$i" tcp,udp 8080 --idle 300
done
for i in 1 2 3; do
	busywait 60000 listening "${BACKENDS[$((i - 1))]}" tcp,udp 8080 ||
		{ fail "server be$i did not start"; ksft_exit; }
done

S_TCP=10.96.0.10:80/tcp		# random
S_UDP=10.96.0.10:53/udp		# random
S_ACT=10.96.0.11:80/tcp		# for active flows only
S_REJ=10.96.0.12:80/tcp		# no backends, reject
S_DROP=10.96.0.12:53/udp	# no backends, drop
S_MAG=10.96.0.13:80/tcp		# maglev
S_AFF=10.96.0.14:80/tcp		# client-IP affinity
S_RR=10.96.0.15:80/tcp		# round robin
BE1=10.244.1.2:8080
BE2=10.244.2.2:8080
BE3=10.244.3.2:8080
# be_of NAME: the backend that answers as NAME
be_of() { echo "10.244.${1#be}.2:8080"; }

{
	for s in "$S_TCP" "$S_UDP" "$S_ACT" "$S_MAG sched maglev" \
		 "$S_AFF affinity clientip" "$S_RR sched rr"; do
		echo "service add $s"
		for b in "$BE1" "$BE2" "$BE3"; do
			echo "backend add ${s%% *} $b"
		done
	done
	echo "service add $S_REJ"
	echo "service add $S_DROP no-endpoints drop"
} | kcip -n "$node" restore - || { fail "setting up the Services"; ksft_exit; }
NSVC=8

# ------------------------------------------------------------ new flows

log "new-flows, packets and bytes"
N=30
PAYLOAD=2000
out=$(flows "$client" tcp "$VIP4" 80 $N --size $PAYLOAD) ||
	fail "TCP flows: $out"
tcp_sum=$(echo "$out" | tail -n 1)
UN=20
UPAYLOAD=1000
out=$(flows "$client" udp "$VIP4" 53 $UN --size $UPAYLOAD) ||
	fail "UDP flows: $out"
udp_sum=$(echo "$out" | tail -n 1)
sleep 1		# the last ACKs and FINs
S1=$(snap "$node")

# flows_match SVC SUMMARY N PROTO: new-flows of SVC is N, of each backend
# what the client saw it answer, summing to N; packets and bytes of SVC
# are the sums of its backends'
flows_match()
{
	local s=$1 sum=$2 n=$3 proto=$4 i name got want tot=0 ok=1 f sb tb

	got=$(counter "$S1" svc "$s" new_flows)
	[ "$got" -eq "$n" ] || { ok=0; log "$s new-flows $got, want $n"; }
	for i in 1 2 3; do
		name=be$i
		want=$(backend_count "$sum" "$name")
		got=$(counter "$S1" be "$s" "$(be_of $name)" new_flows)
		tot=$((tot + got))
		[ "$got" -eq "$want" ] || { ok=0; log "$s backend $name new-flows $got, answered $want"; }
	done
	[ $tot -eq "$n" ] || { ok=0; log "$s backends' new-flows sum to $tot"; }
	[ $ok = 1 ] && pass "$proto: $n flows ($sum): Service new-flows $n, backends' the flows each answered"
	[ $ok = 1 ] || fail "$proto: new-flows do not match the $n flows ($sum)"

	for f in packets bytes; do
		sb=$(counter "$S1" svc "$s" $f)
		tb=0
		for i in 1 2 3; do
			tb=$((tb + $(counter "$S1" be "$s" "$(be_of be$i)" $f)))
		done
		[ "$sb" -eq "$tb" ] && pass "$proto: Service $f ($sb) = sum of its backends'" ||
			fail "$proto: Service $f $sb, backends' sum $tb"
	done
}
flows_match "$S_TCP" "$tcp_sum" $N TCP
flows_match "$S_UDP" "$udp_sum" $UN UDP

pk=$(counter "$S1" svc "$S_TCP" packets)
by=$(counter "$S1" svc "$S_TCP" bytes)
if [ "$pk" -ge $((N * 4)) ] && [ "$by" -ge $((N * PAYLOAD * 2)) ]; then
	pass "TCP: $pk packets, $by bytes for $N flows of $PAYLOAD bytes each way"
else
	fail "TCP: $pk packets, $by bytes for $N flows of $PAYLOAD bytes each way (want >= $((N * 4)), >= $((N * PAYLOAD * 2)))"
fi
ok=1
for i in 1 2 3; do
	n=$(backend_count "$tcp_sum" "be$i")
	b=$(counter "$S1" be "$S_TCP" "$(be_of be$i)" bytes)
	[ "$b" -ge $((n * PAYLOAD * 2)) ] || { ok=0; log "be$i: $b bytes for $n flows"; }
done
[ $ok = 1 ] && pass "TCP: each backend's bytes >= the payload of its flows" ||
	fail "TCP: a backend's bytes are below its flows' payload"

# UDP: a request of 20 + 8 + UPAYLOAD bytes, an answer of 20 + 8 + the
# server's line "beN ::ffff:10.0.1.2\n" (20: a dual-stack socket) + UPAYLOAD
per_flow=$((28 + UPAYLOAD + 28 + 20 + UPAYLOAD))
pk=$(counter "$S1" svc "$S_UDP" packets)
by=$(counter "$S1" svc "$S_UDP" bytes)
if [ "$pk" -eq $((UN * 2)) ] && [ "$by" -eq $((UN * per_flow)) ]; then
	pass "UDP: $pk packets, $by bytes: 2 packets and $per_flow bytes per flow"
else
	fail "UDP: $pk packets, $by bytes for $UN flows (want $((UN * 2)), $((UN * per_flow)))"
fi

log "more traffic, more packets"
out=$(flows "$client" tcp "$VIP4" 80 3 --size 20000) || fail "TCP flows: $out"
S2=$(snap "$node")
p1=$(counter "$S1" svc "$S_TCP" packets); p2=$(counter "$S2" svc "$S_TCP" packets)
b1=$(counter "$S1" svc "$S_TCP" bytes); b2=$(counter "$S2" svc "$S_TCP" bytes)
f2=$(counter "$S2" svc "$S_TCP" new_flows)
[ "$f2" -eq $((N + 3)) ] && [ "$p2" -gt "$p1" ] && [ $((b2 - b1)) -ge 120000 ] &&
	pass "3 flows of 20000 bytes: new-flows $f2, packets $p1 -> $p2, bytes +$((b2 - b1))" ||
	fail "3 more flows of 20000 bytes: new-flows $f2, packets $p1 -> $p2, bytes $b1 -> $b2"

# ------------------------------------------------------------ active

log "active flows"
STOP=$(mktemp_file)
rm -f "$STOP"
HOLD=$(mktemp_file)
VA=${S_ACT%%:*}
ip netns exec "$client" python3 -S -c '
import os, socket, sys, time
vip, port, n, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
socks, names = [], []
for i in range(n):
    s = socket.create_connection((vip, port), timeout=10)
    first = b""
    while b"\n" not in first:
        d = s.recv(100)
        if not d:
            raise SystemExit("connection %d closed" % i)
        first += d
    names.append(first.split()[0].decode())
    socks.append(s)
print("open", " ".join(names), flush=True)
start = time.monotonic()
while not os.path.exists(stop) and time.monotonic() - start < 200:
    time.sleep(0.2)
for s in socks:
    s.close()
print("closed", flush=True)
' "$VA" 80 5 "$STOP" > "$HOLD" 2>&1 &
HPID=$!
BG_PIDS+=($HPID)
busywait 60000 grep -q '^open ' "$HOLD" > /dev/null ||
	{ fail "holding 5 connections: $(cat "$HOLD")"; touch "$STOP"; ksft_exit; }
names=$(sed -n 's/^open //p' "$HOLD")
SA=$(snap "$node")
a=$(counter "$SA" svc "$S_ACT" active_flows)
ok=1
[ "$a" -eq 5 ] || ok=0
for i in 1 2 3; do
	want=$(echo "$names" | tr ' ' '\n' | grep -c "^be$i$")
	got=$(counter "$SA" be "$S_ACT" "$(be_of be$i)" active_flows)
	[ "$got" -eq "$want" ] || { ok=0; log "be$i: active $got, holds $want"; }
done
[ $ok = 1 ] && pass "5 connections held open ($names): active 5, per backend as held" ||
	fail "5 connections held open ($names): Service active $a"
ja=$(kcip -n "$node" -j -s show | normalize_json | grep "^svc $S_ACT active_flows ")
[ "$ja" = "svc $S_ACT active_flows 5" ] && pass "JSON: active_flows 5" ||
	fail "JSON active_flows: '$ja'"
# without -s there are no counters at all
kcip -n "$node" show | grep -q -E 'new-flows|active' &&
	fail "show without -s prints counters" || pass "show without -s prints no counters"

touch "$STOP"
wait "$HPID"
ip netns exec "$node" conntrack -D -p tcp --orig-dst "$VA" > /dev/null 2>&1
# act_zero: true when the Service's active count is 0
act_zero() { [ "$(counter "$(snap "$node")" svc "$S_ACT" active_flows)" = 0 ]; }
if busywait 10000 act_zero; then
	pass "closed and their conntrack entries deleted: active 0"
else
	fail "active after close and conntrack -D: $(kcip -n "$node" -s service show "$S_ACT" | grep stats)"
fi

# ------------------------------------------------------------ rejects, drops

log "rejects and drops"
out=$(flows "$client" tcp "${S_REJ%%:*}" 80 4 --expect refused --timeout 5) ||
	fail "connections to a Service without endpoints not refused: $out"
out=$(flows "$client" udp "${S_DROP%%:*}" 53 3 --expect timeout --timeout 1) ||
	fail "UDP flows to a no-endpoints drop Service answered: $out"
S3=$(snap "$node")
r=$(counter "$S3" svc "$S_REJ" rejects)
rf=$(counter "$S3" svc "$S_REJ" new_flows)
d=$(counter "$S3" svc "$S_DROP" drops)
df=$(counter "$S3" svc "$S_DROP" new_flows)
[ "$r" -eq 4 ] && [ "$rf" -eq 0 ] && pass "4 refused connections: rejects 4, new-flows 0" ||
	fail "4 refused connections: rejects $r, new-flows $rf"
[ "$d" -eq 3 ] && [ "$df" -eq 0 ] && pass "3 dropped UDP flows: drops 3, new-flows 0" ||
	fail "3 dropped UDP flows: drops $d, new-flows $df"
[ "$(counter "$S3" svc "$S_TCP" rejects)$(counter "$S3" svc "$S_TCP" drops)" = 00 ] ||
	fail "rejects or drops counted on a Service with backends"

# ------------------------------------------------------------ staying

log "counters stay through save | restore and changes"
# no_active SNAPSHOT: without active flows (conntrack comes and goes)
no_active() { echo "$1" | grep -v ' active_flows '; }
X1=$(no_active "$(snap "$node")")
out=$(kcip -n "$node" save | kcip -n "$node" -s restore - 2>&1)
[ "$(restore_summary "$out")" = "0 0 0 $NSVC $NSVC 18" ] &&
	pass "save | restore: $out" || fail "save | restore: $out"
X2=$(no_active "$(snap "$node")")
if [ "$X2" = "$X1" ]; then
	pass "every counter the same after save | restore ($(echo "$X1" | wc -l) counters)"
else
	fail "counters changed by save | restore"
	diff <(echo "$X1") <(echo "$X2") | head -n 10 | sed 's/^/#   /'
fi
SAVED=$(mktemp_file)
kcip -n "$node" save > "$SAVED"
kcip -n "$node" backend change "$S_TCP" "$BE3" weight 5 || fail "backend change weight"
X3=$(no_active "$(snap "$node")")
if [ "$X3" = "$X1" ]; then
	pass "every counter the same after be3's weight changed (be1, be2, the Service and be3 itself)"
else
	fail "counters changed by a weight change of another backend"
	diff <(echo "$X1") <(echo "$X3") | head -n 10 | sed 's/^/#   /'
fi
out=$(kcip -n "$node" -s restore "$SAVED" 2>&1)
[ "$(restore_summary "$out")" = "0 1 0 $((NSVC - 1)) $NSVC 18" ] &&
	pass "restore changing the weight back: $out" || fail "restore of the saved state: $out"
X4=$(no_active "$(snap "$node")")
[ "$X4" = "$X1" ] && pass "every counter the same after a restore that changed the Service" ||
	{ fail "counters changed by a restore changing the Service"; diff <(echo "$X1") <(echo "$X4") | head -n 10 | sed 's/^/#   /'; }

log "JSON has the same numbers"
same=0
for _ in 1 2 3; do
	T1=$(snap "$node")
	J=$(kcip -n "$node" -j -s show | normalize_json)
	T2=$(snap "$node")
	[ "$T1" = "$T2" ] || continue
	if [ "$J" = "$T1" ]; then
		same=1
	else
		diff <(echo "$T1") <(echo "$J") | head -n 10 | sed 's/^/#   /'
	fi
	break
done
[ $same = 1 ] && pass "-j -s show: the same $(echo "$T1" | wc -l) counters as -s show" ||
	fail "-j -s show and -s show differ"

# ------------------------------------------------------------ explain

log "explain"
# explains WHAT WANT ARGS...: kcipctl explain ARGS prints WANT
explains()
{
	local what=$1 want=$2 out
	shift 2

	out=$(kcip -n "$node" explain "$@" 2>&1)
	if [[ "$out" == *"$want"* ]]; then
		pass "explain $what: $out"
	else
		fail "explain $what: '$out' (want ...$want...)"
	fi
	EXPLAINED=$out
}
explains random "weighted random" tcp "$CLIENT4:40000" "$VIP4:80"
explains maglev "maglev" tcp "$CLIENT4:40001" "${S_MAG%/*}"
pred=$(echo "$EXPLAINED" | sed -n 's/.*: backend \([0-9.]*:[0-9]*\) (.*/\1/p')
out=$(flows "$client" tcp "${S_MAG%%:*}" 80 1 --sport 40001)
got=$(echo "$out" | tail -n 1 | sed -n 's/^\(be[0-9]\)=1 .*/\1/p')
[ -n "$pred" ] && [ -n "$got" ] && [ "$(be_of "$got")" = "$pred" ] &&
	pass "maglev: the flow from port 40001 went to $got, as explained ($pred)" ||
	fail "maglev: explained $pred, the flow went to ${got:-?} ($out)"
out=$(kcip -n "$node" -j explain tcp "$CLIENT4:40001" "${S_MAG%/*}")
[[ "$out" == *'"reason":"maglev"'* ]] && pass "explain -j: $out" ||
	fail "explain -j for maglev: $out"
explains "round robin" "round robin" tcp "$CLIENT4:40002" "${S_RR%/*}"
out=$(flows "$client" tcp "${S_AFF%%:*}" 80 1)
aff=$(echo "$out" | tail -n 1 | sed -n 's/^\(be[0-9]\)=1 .*/\1/p')
explains "client-IP affinity" "client-IP affinity" tcp "$CLIENT4:50000" "${S_AFF%/*}"
[ -n "$aff" ] && [[ "$EXPLAINED" == *"backend $(be_of "$aff") "* ]] &&
	pass "affinity: explain names $(be_of "$aff"), the backend of the client's flow" ||
	fail "affinity: the flow went to ${aff:-?}, explain says: $EXPLAINED"
explains "no endpoints, reject" "no endpoints (reject" tcp "$CLIENT4:40003" "${S_REJ%/*}"
explains "no endpoints, drop" "no endpoints (drop)" udp "$CLIENT4:40004" "${S_DROP%/*}"
explains "no service" "no service" tcp "$CLIENT4:40005" 10.96.0.99:80

dmesg_check
ksft_exit

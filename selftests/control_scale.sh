#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The control plane at 10,000 Services x 10 backends:
#  - "kcipctl restore" of the whole state (a file made with awk, with some
#    non-default options) is one transaction whose summary counts 10,000
#    added Services and 100,000 backends;
#  - a single change at that size (backend add / del on one Service) costs
#    a small fraction of the restore: as one netlink request on an open
#    socket (the change itself, median of 20 adds and of 20 dels) < 1/10,
#    reported next to the same request at 10 Services; through kcipctl
#    (quickest of 6 runs) < 1/3, because kcipctl's own start (exec, netns)
#    alone costs 0.2-0.3 s in the emulated VM, where the whole restore can
#    take as little as 2.5 s;
#  - "kcipctl save | kcipctl restore" at that size is a no-op: its summary
#    says 0 added, 0 changed, 0 deleted, 10,000 unchanged, the generation
#    stays, and "save"
#    prints the same before and after; the Service's counters stay;
#  - traffic to a VIP in the middle of the table reaches its backends,
#    before and after the changes.
# Times are reported, not asserted in absolute terms (a slow emulated VM).

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_control.sh"

NSVC=${KCIP_SCALE_SERVICES:-10000}
NBE=10
MID=$((NSVC / 2))

kcip_require
ctl_require_flowgen
setup_topo 3
setup_ns small
check_topo

# Ten real backends: be1 10.244.1.2-5, be2 10.244.2.2-4, be3 10.244.3.2-4
# (one server per backend namespace answers on all of its addresses), and
# 10.244.1.6-8 on be1 for the single changes.
BEADDRS="10.244.1.2 10.244.2.2 10.244.3.2 10.244.1.3 10.244.2.3 10.244.3.3 10.244.1.4 10.244.2.4 10.244.3.4 10.244.1.5"
for a in 10.244.1.3 10.244.1.4 10.244.1.5 10.244.1.6 10.244.1.7 10.244.1.8; do
	echo "addr add $a/24 dev eth0"
done | ip -n "${BACKENDS[0]}" -batch - || { fail "backend addresses"; ksft_exit; }
ip -n "${BACKENDS[1]}" -batch - <<-EOF || { fail "backend addresses"; ksft_exit; }
	addr add 10.244.2.3/24 dev eth0
	addr add 10.244.2.4/24 dev eth0
EOF
ip -n "${BACKENDS[2]}" -batch - <<-EOF || { fail "backend addresses"; ksft_exit; }
	addr add 10.244.3.3/24 dev eth0
	addr add 10.244.3.4/24 dev eth0
EOF
for i in 1 2 3; do
	ctl_server "${BACKENDS[$((i - 1))]}" "be$i" 8080
done

# Service i: 10.96.(i/250+1).(i%250+1):80/tcp, the ten backends above on
# 8080.  A few carry options, so that save and restore carry them too:
# every 1000th maglev, every 7th client-IP affinity, every 13th
# "no-endpoints drop", every 17th masquerade; some backends weight 2 or
# terminating.
STATE=$(mktemp_file)
timed t_gen awk -v n="$NSVC" -v bes="$BEADDRS" '
BEGIN {
	nb = split(bes, be, " ")
	for (i = 0; i < n; i++) {
		s = sprintf("10.96.%d.%d:80/tcp", int(i / 250) + 1, i % 250 + 1)
		o = ""
		if (i % 1000 == 500) o = o " sched maglev"
		if (i % 7 == 3) o = o " affinity clientip timeout 600"
		if (i % 13 == 5) o = o " no-endpoints drop"
		if (i % 17 == 2) o = o " masquerade on"
		print "service add " s o
		for (b = 1; b <= nb; b++) {
			o = ""
			if (b == nb && i % 3 == 0) o = " weight 2"
			if (b == nb - 1 && i % 5 == 0) o = " state terminating"
			printf "backend add %s %s:8080%s\n", s, be[b], o
		}
	}
}'
cp "$TIMED_OUT" "$STATE"
log_info "generated $(wc -l < "$STATE") lines in $t_gen ms"

svc_of() { echo "10.96.$(($1 / 250 + 1)).$(($1 % 250 + 1)):80/tcp"; }
vip_of() { echo "10.96.$(($1 / 250 + 1)).$(($1 % 250 + 1))"; }
MIDSVC=$(svc_of $MID)

# ------------------------------------------------------------ restore

log "restore of $NSVC Services x $NBE backends"
if timed t_restore kcip -n "$node" -s restore "$STATE"; then
	pass "restore of $NSVC x $NBE took $t_restore ms"
else
	fail "restore of $NSVC x $NBE"
	sed 's/^/#   /' "$TIMED_OUT"
	ksft_exit
fi
sum=$(restore_summary "$(cat "$TIMED_OUT")")
if [ "$sum" = "$NSVC 0 0 0 $NSVC $((NSVC * NBE))" ]; then
	pass "restore summary: $(cat "$TIMED_OUT")"
else
	fail "restore summary: $(cat "$TIMED_OUT") (want $NSVC added, $NSVC services, $((NSVC * NBE)) backends)"
fi

# traffic_to I COUNT WHAT: COUNT flows to Service I, all answered
traffic_to()
{
	local out

	if out=$(ctl_flows "$client" -n "$2" -c 2 -t 10000 "$(vip_of "$1")" 80); then
		pass "$3: $2 flows to $(svc_of "$1") ($(echo "$out" | tail -n 1))"
	else
		fail "$3: flows to $(svc_of "$1"): $(echo "$out" | tr '\n' ' ')"
	fi
}

traffic_to "$MID" 10 "middle of the table"
# new-flows of the middle Service (the first "stats" line of its show)
mid_flows() { kcip -n "$node" -s service show "$MIDSVC" | awk '$1 == "stats" { print $3; exit }'; }

# ------------------------------------------------------------ single changes

log "single changes at $NSVC Services"
ADD_MS=()
DEL_MS=()
for i in 6 7 8; do
	if timed t kcip -n "$node" backend add "$MIDSVC" "10.244.1.$i:8080"; then
		ADD_MS+=("$t")
	else
		fail "backend add $MIDSVC 10.244.1.$i:8080: $(cat "$TIMED_OUT")"
	fi
done
for i in 6 7 8; do
	if timed t kcip -n "$node" backend del "$MIDSVC" "10.244.1.$i:8080"; then
		DEL_MS+=("$t")
	else
		fail "backend del $MIDSVC 10.244.1.$i:8080: $(cat "$TIMED_OUT")"
	fi
done

# stats MS...: "min M median M" of the numbers
stats()
{
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "min %d median %d", v[1], v[int((NR + 1) / 2)] }'
}
all_single=("${ADD_MS[@]}" "${DEL_MS[@]}")
best=$(printf '%s\n' "${all_single[@]}" | sort -n | head -n 1)
log_info "restore of $NSVC x $NBE: $t_restore ms"
log_info "kcipctl backend add at $NSVC Services: ${ADD_MS[*]} ms ($(stats "${ADD_MS[@]}"))"
log_info "kcipctl backend del at $NSVC Services: ${DEL_MS[*]} ms ($(stats "${DEL_MS[@]}"))"
if [ ${#all_single[@]} -eq 6 ] && [ $((best * 3)) -lt "$t_restore" ]; then
	pass "a single change through kcipctl ($best ms, quickest run, process start included) < 1/3 of the restore ($t_restore ms)"
else
	fail "a single change through kcipctl (quickest run $best ms) is not < 1/3 of the restore ($t_restore ms)"
fi

# Without kcipctl's process start: one request each on an open socket, at
# NSVC Services and at 10.
SMALL=$(mktemp_file)
gen_state 10 "$NBE" 96 > "$SMALL"
kcip -n "$small" restore "$SMALL" || fail "restore of 10 Services in another netns"
if big=$(kcip_nl "$node" time-backends "$MIDSVC" 243 20) &&
   little=$(kcip_nl "$small" time-backends "$(svc_of 5)" 243 20); then
	# "add MEDIAN MIN del MEDIAN MIN"
	log_info "netlink backend add/del, median and min ms: at $NSVC Services: $big; at 10: $little"
	read -r _ big_add _ _ big_del _ <<< "$big"
	read -r _ small_add _ _ small_del _ <<< "$little"
	if awk -v a="$big_add" -v d="$big_del" -v r="$t_restore" 'BEGIN { exit !(a * 10 < r && d * 10 < r) }'; then
		pass "a single change at $NSVC Services, one netlink request (median add $big_add ms, del $big_del ms) < 1/10 of the restore ($t_restore ms)"
	else
		fail "a single change at $NSVC Services, one netlink request (median add $big_add ms, del $big_del ms) not < 1/10 of the restore ($t_restore ms)"
	fi
	log_info "cost ratio of a single change, $NSVC vs 10 Services: add $(awk -v a="$big_add" -v b="$small_add" 'BEGIN { printf "%.1f", a / b }'), del $(awk -v a="$big_del" -v b="$small_del" 'BEGIN { printf "%.1f", a / b }')"
else
	fail "netlink timings: $big / $little"
fi

# ------------------------------------------------------------ save | restore

log "save | restore at $NSVC Services"
SAVE1=$(mktemp_file)
SAVE2=$(mktemp_file)
if timed t_save kcip -n "$node" save; then
	cp "$TIMED_OUT" "$SAVE1"
	pass "save of $NSVC Services took $t_save ms"
else
	fail "save: $(head -n 3 "$TIMED_OUT")"
fi
nsl=$(grep -c '^service add ' "$SAVE1")
nbl=$(grep -c '^backend add ' "$SAVE1")
nmid=$(grep -c "^backend add $MIDSVC " "$SAVE1")
if [ "$nsl" -eq "$NSVC" ] && [ "$nbl" -eq $((NSVC * NBE)) ] && [ "$nmid" -eq "$NBE" ]; then
	pass "save prints $nsl Services and $nbl backends ($nmid of $MIDSVC: the single changes undone)"
else
	fail "save prints $nsl Services, $nbl backends, $nmid of $MIDSVC; want $NSVC, $((NSVC * NBE)), $NBE"
fi
grep -q -E '^service add .* sched maglev' "$SAVE1" &&
grep -q -E '^service add .* affinity clientip timeout 600' "$SAVE1" &&
grep -q -E '^backend add .* state terminating' "$SAVE1" ||
	fail "save lost options of the restored file"

# the pipe, as users write it: kcipctl save | kcipctl restore -
gen0=$(generation_of "$node")
if timed t_noop sh -c "\"\$0\" -n $node save | \"\$0\" -n $node -s restore -" "$KCIPCTL"; then
	pass "kcipctl save | kcipctl -s restore - took $t_noop ms"
else
	fail "kcipctl save | kcipctl restore -: $(cat "$TIMED_OUT")"
fi
sum=$(restore_summary "$(cat "$TIMED_OUT")")
if [ "$sum" = "0 0 0 $NSVC $NSVC $((NSVC * NBE))" ]; then
	pass "save | restore is a no-op: $(cat "$TIMED_OUT")"
else
	fail "save | restore is not a no-op: $(cat "$TIMED_OUT")"
fi
gen1=$(generation_of "$node")
if [ -n "$gen0" ] && [ "$gen0" = "$gen1" ]; then
	pass "the no-op restore kept generation $gen0"
else
	fail "the no-op restore changed the generation: $gen0 -> $gen1"
fi
kcip -n "$node" save > "$SAVE2"
if cmp -s "$SAVE1" "$SAVE2"; then
	pass "save prints the same state after save | restore"
else
	fail "save differs after save | restore"
	diff "$SAVE1" "$SAVE2" | head -n 10 | sed 's/^/#   /'
fi

flows1=$(mid_flows)
[ "$flows1" = 10 ] &&
	pass "$MIDSVC kept its counters (new-flows $flows1 for the 10 flows) through the changes and restores" ||
	fail "$MIDSVC new-flows $flows1 after 10 flows, single changes and no-op restores"
traffic_to "$MID" 10 "after save | restore"

log_info "summary: restore $NSVC x $NBE ${t_restore} ms; single change via kcipctl $(stats "${all_single[@]}") ms; via netlink at $NSVC: ${big:-?}; at 10: ${little:-?}; save ${t_save} ms; no-op restore ${t_noop} ms"

dmesg_check
ksft_exit

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An established TCP connection through a VIP keeps its backend whatever
# else changes: long connections (IPv4 and IPv6) opened while be1 is the
# only backend keep talking to be1 (every echoed line is tagged with the
# answering backend's name) while be2 and be3 are added, be2 deleted,
# be1's weight set to 0 and finally be1 deleted without "flush" (TCP flows
# are left to finish).  Meanwhile new flows follow the changes.  Last,
# "backend del ... flush" cuts a long connection off its backend.

source "$(dirname "$0")/lib.sh"

kcip_require
setup_topo 3

for i in 1 2 3; do
	start_line_server "${BACKENDS[$((i - 1))]}" "be$i" 8080
done

S4=$(svc "$VIP4" 80 tcp)
S6=$(svc "$VIP6" 80 tcp)
kcip -n "$node" service add "$S4" || { fail "service add $S4"; ksft_exit; }
kcip -n "$node" service add "$S6" || { fail "service add $S6"; ksft_exit; }

# be_op CMD N [args]: kcipctl backend CMD for beN on both Services
be_op()
{
	local cmd=$1 n=$2
	shift 2

	kcip -n "$node" backend "$cmd" "$S4" "$(be "$(be_addr4 "$n")" 8080)" "$@" &&
	kcip -n "$node" backend "$cmd" "$S6" "$(be "$(be_addr6 "$n")" 8080)" "$@"
}

be_op add 1 || { fail "backend add be1"; ksft_exit; }

STOP=$(mktemp_file)
rm -f "$STOP"
declare -A LOUT LPID

# start_long TAG VIP: a long connection in the client, in the background
start_long()
{
	local tag=$1 vip=$2

	LOUT[$tag]=$(mktemp_file)
	ip netns exec "$client" python3 -S "$LIBDIR/kcip_client.py" --long "$STOP" \
		--timeout 10 --interval 0.3 "$vip" 80 > "${LOUT[$tag]}" 2>&1 &
	LPID[$tag]=$!
	BG_PIDS+=($!)
}

rounds_of() { grep -c '^round ' "${LOUT[$1]}"; }

# more_rounds WHAT: wait until both long connections answer 3 more rounds,
# all from be1 (their backend), and have seen no error
more_rounds()
{
	local what=$1 tag b4 b6
	local -A base

	b4=$(rounds_of v4)
	b6=$(rounds_of v6)
	base=([v4]=$b4 [v6]=$b6)
	busywait 15000 sh -c "[ \$(grep -c '^round ' ${LOUT[v4]}) -ge $((b4 + 3)) ] &&
			      [ \$(grep -c '^round ' ${LOUT[v6]}) -ge $((b6 + 3)) ]"
	for tag in v4 v6; do
		if [ "$(rounds_of $tag)" -ge $((${base[$tag]} + 3)) ] &&
		   ! grep -v -E '^(connected be1|round [0-9]+ be1)$' "${LOUT[$tag]}" | grep -q .; then
			pass "$tag long connection still answered by be1 after $what ($(rounds_of "$tag") rounds)"
		else
			fail "$tag long connection after $what"
			tail -n 3 "${LOUT[$tag]}" | sed 's/^/#   /'
		fi
	done
}

# new_flows_to VIP WANTED...: 12 new flows all answered by one of WANTED
new_flows_to()
{
	local vip=$1
	shift

	flows_only_to "$client" tcp "$vip" 80 12 "$*" --prefixed
}

start_long v4 "$VIP4"
start_long v6 "$VIP6"
for tag in v4 v6; do
	if ! busywait 15000 grep -q '^round 2 ' "${LOUT[$tag]}"; then
		fail "$tag long connection did not start"
		cat "${LOUT[$tag]}" | sed 's/^/#   /'
		ksft_exit
	fi
	if grep -q '^connected be1$' "${LOUT[$tag]}"; then
		pass "$tag long connection answered by be1"
	else
		fail "$tag long connection: $(head -n 1 "${LOUT[$tag]}")"
	fi
done

be_op add 2 && be_op add 3 || fail "backend add be2, be3"
more_rounds "adding be2 and be3"
new_flows_to "$VIP4" be1 be2 be3
new_flows_to "$VIP6" be1 be2 be3

be_op del 2 || fail "backend del be2"
more_rounds "deleting be2"
new_flows_to "$VIP4" be1 be3

be_op change 1 weight 0 || fail "backend change be1 weight 0"
more_rounds "be1 weight 0"
new_flows_to "$VIP6" be3

be_op add 2 weight 3 || fail "backend add be2 weight 3"
more_rounds "adding be2 again"
new_flows_to "$VIP4" be2 be3

be_op del 1 || fail "backend del be1 (no flush)"
more_rounds "deleting be1 without flush"
new_flows_to "$VIP4" be2 be3
new_flows_to "$VIP6" be2 be3

touch "$STOP"
for tag in v4 v6; do
	if wait "${LPID[$tag]}" && grep -q '^done rounds=[0-9]* backend=be1$' "${LOUT[$tag]}"; then
		pass "$tag long connection ended cleanly: $(tail -n 1 "${LOUT[$tag]}")"
	else
		fail "$tag long connection: $(tail -n 1 "${LOUT[$tag]}")"
	fi
done

# "flush" cuts established TCP flows off a deleted backend: the next
# segment is a new flow to another backend, which resets it.
rm -f "$STOP"
start_long f4 "$VIP4"
if busywait 15000 grep -q '^round 2 ' "${LOUT[f4]}"; then
	b=$(sed -n 's/^connected //p' "${LOUT[f4]}")
	n=${b#be}
	log "flush: long connection on $b, deleting it with flush"
	kcip -n "$node" backend del "$S4" "$(be "$(be_addr4 "$n")" 8080)" flush ||
		fail "backend del $b flush"
	if busywait 15000 sh -c "! kill -0 ${LPID[f4]} 2>/dev/null"; then
		if wait "${LPID[f4]}"; then
			fail "connection survived backend del flush: $(tail -n 1 "${LOUT[f4]}")"
		else
			pass "backend del flush ended the established connection ($(tail -n 1 "${LOUT[f4]}"))"
		fi
	else
		fail "connection still running 15s after backend del flush"
	fi
else
	fail "f4 long connection did not start"
fi

dmesg_check
ksft_exit

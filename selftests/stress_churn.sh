#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Configuration churn under traffic on every CPU.  While clients (two per
# CPU, TCP and UDP, IPv4 and IPv6) open flows to a pool of VIPs all the
# time, and once flows come through, $KCIP_CHURN_OPS (200; make
# check-debug: 1000) random changes hit those same Services, as fast as
# kcipctl batches (-f -b) send them: Service add, delete and change
# (scheduler, affinity, retry, traffic policy), backend add, delete and
# change (weight, state), and every 25th a whole restore of a random
# state.  Refusals (EEXIST, ENOENT) are expected and counted; a failure of
# any other kind is not.  Afterwards:
#  - flows went through the Services during the churn (answered by
#    backends, as the clients saw them);
#  - a restore of a known state gives exactly that state, and new flows to
#    every VIP reach only that state's backends;
#  - "save | restore" is a no-op, "flush" leaves nothing, the kernel log
#    is clean.

source "$(dirname "$0")/lib.sh"

OPS=${KCIP_CHURN_OPS:-200}

kcip_require
setup_topo 3
start_servers tcp,udp 8080

V4=(10.96.0.10 10.96.0.11 10.96.0.12)
V6=(fd00:96::10 fd00:96::11)
VIPS=("${V4[@]}" "${V6[@]}")
STOP=$(mktemp_file)
ERRS=$(mktemp_file)

# traffic: two clients per CPU, spread over the VIPs and protocols, until
# STOP exists (mktemp_file made it)
rm -f "$STOP"
CLOG=$(mktemp_file)
CLIENTS=()
ncpu=$(nproc)
k=0
for _ in $(seq 1 $((2 * ncpu))); do
	vip=${VIPS[k % ${#VIPS[@]}]}
	proto=tcp
	((k % 2)) && proto=udp
	ip netns exec "$client" python3 -S "$LIBDIR/kcip_client.py" --proto "$proto" \
		--until "$STOP" --expect any --timeout 0.5 --size 200 "$vip" 80 > "$CLOG.$k" &
	CLIENTS+=($!)
	BG_PIDS+=($!)
	k=$((k + 1))
done
log "traffic: $((2 * ncpu)) clients on $ncpu CPUs"

# The pickers set variables rather than print: a subshell per choice
# would cost more than the change itself in an emulated VM.
pick_svc()	# -> SVC
{
	local vip=${VIPS[RANDOM % ${#VIPS[@]}]} proto=tcp

	((RANDOM % 2)) && proto=udp
	case $vip in
	*:*) SVC=[$vip]:80/$proto ;;
	*) SVC=$vip:80/$proto ;;
	esac
}
pick_be()	# SERVICE -> BE
{
	local i=$((RANDOM % 3 + 1))

	case $1 in
	\[*) BE=[fd00:244:$i::2]:8080 ;;
	*) BE=10.244.$i.2:8080 ;;
	esac
}
svc_opts()	# -> SOPTS (an array)
{
	SOPTS=()
	case $((RANDOM % 3)) in
	0) SOPTS+=(sched random) ;;
	1) SOPTS+=(sched rr) ;;
	2) SOPTS+=(sched maglev) ;;
	esac
	case $((RANDOM % 3)) in
	0) SOPTS+=(affinity clientip timeout $((RANDOM % 60 + 1))) ;;
	1) SOPTS+=(affinity none) ;;
	esac
	case $((RANDOM % 3)) in
	0) SOPTS+=(retry on quarantine $((RANDOM % 5 + 1))) ;;
	1) SOPTS+=(retry off) ;;
	esac
	((RANDOM % 4 == 0)) && SOPTS+=(traffic-policy cluster)
	return 0
}
be_opts()	# -> BOPTS (an array)
{
	BOPTS=()
	((RANDOM % 2)) && BOPTS+=(weight $((RANDOM % 5)))
	case $((RANDOM % 4)) in
	0) BOPTS+=(state ready) ;;
	1) BOPTS+=(state terminating) ;;
	2) BOPTS+=(state down) ;;
	esac
	return 0
}
random_state()
{
	local vip proto s i

	for vip in "${VIPS[@]}"; do
		for proto in tcp udp; do
			((RANDOM % 3)) || continue
			case $vip in
			*:*) s=[$vip]:80/$proto ;;
			*) s=$vip:80/$proto ;;
			esac
			svc_opts
			echo "service add $s ${SOPTS[*]}"
			for i in 1 2 3; do
				((RANDOM % 3)) || continue
				case $vip in
				*:*) BE=[fd00:244:$i::2]:8080 ;;
				*) BE=10.244.$i.2:8080 ;;
				esac
				be_opts
				echo "backend add $s $BE ${BOPTS[*]}"
			done
		done
	done
}

# op_line: one random change, as a line of a kcipctl batch
op_line()
{
	pick_svc
	pick_be "$SVC"
	case $((RANDOM % 8)) in
	0) svc_opts; echo "service add $SVC ${SOPTS[*]}" ;;
	1) echo "service del $SVC" ;;
	2) svc_opts; echo "service change $SVC ${SOPTS[*]}" ;;
	3 | 4) be_opts; echo "backend add $SVC $BE ${BOPTS[*]}" ;;
	5) if ((RANDOM % 2)); then
		echo "backend del $SVC $BE flush"
	   else
		echo "backend del $SVC $BE"
	   fi ;;
	6 | 7) echo "backend change $SVC $BE weight $((RANDOM % 4))" ;;
	esac
}

# The traffic first: every VIP with every backend, until new flows come
# through (the clients are Python: seconds each to start on the debug
# kernel), so that the churn below runs into traffic from its first change
for vip in "${VIPS[@]}"; do
	for proto in tcp udp; do
		s=$(svc "$vip" 80 "$proto")
		echo "service add $s"
		for i in 1 2 3; do
			case $vip in
			*:*) echo "backend add $s $(be "$(be_addr6 "$i")" 8080)" ;;
			*) echo "backend add $s $(be "$(be_addr4 "$i")" 8080)" ;;
			esac
		done
	done
done | kcip -n "$node" restore - || fail "restore of the first state"
flowing() { [ "$(kcip_total_flows "$node")" -ge $((2 * ncpu)) ]; }
busywait 60000 flowing || fail "no traffic through the Services before the churn: $(kcip_total_flows "$node") new flows"

# The changes go to kcipctl in batches of 50 lines (kcipctl -f -b): one
# process per 50 changes, not one each, so that they come as fast as the
# kernel takes them (a process costs seconds under KASAN and emulation).
# A failed line's messages, prefixed "FILE:LINE:", come before its
# "FILE:LINE: command failed"; the line says what it was (kind[]).
BATCH=$(mktemp_file)
BERR=$(mktemp_file)
nok=0 nref=0 nfail=0 nrestore=0 nrestore_fail=0
t0=$SECONDS
i=0
while ((i < OPS)); do
	kind=()
	for ((j = 0; j < 50 && i < OPS; j++)); do
		i=$((i + 1))
		if ((i % 25 == 0)); then
			random_state > "$BATCH.$i"
			echo "restore $BATCH.$i"
			kind+=(restore)
		else
			op_line
			kind+=(op)
		fi
	done > "$BATCH"
	kcip -n "$node" -f -b "$BATCH" > /dev/null 2> "$BERR"
	rm -f "$BATCH".*
	failed=() msgs=
	while IFS= read -r l; do
		if [[ $l =~ ^kcipctl:\ [^:]+:([0-9]+):\ command\ failed$ ]]; then
			n=${BASH_REMATCH[1]}
			failed[n]=1
			if [ "${kind[n - 1]}" = restore ]; then
				nrestore_fail=$((nrestore_fail + 1))
				echo "restore: $msgs" >> "$ERRS"
			elif [[ $msgs == *"already exists"* || $msgs == *"does not exist"* ]]; then
				nref=$((nref + 1))
			else
				nfail=$((nfail + 1))
				echo "$msgs" >> "$ERRS"
			fi
			msgs=
		else
			msgs+="$l "
		fi
	done < "$BERR"
	# anything else kcipctl said (a batch that did not run at all)
	[ -n "$msgs" ] && { nfail=$((nfail + 1)); echo "$msgs" >> "$ERRS"; }
	for ((n = 1; n <= ${#kind[@]}; n++)); do
		[ -n "${failed[n]}" ] && continue
		if [ "${kind[n - 1]}" = restore ]; then
			nrestore=$((nrestore + 1))
		else
			nok=$((nok + 1))
		fi
	done
done
flows1=$(kcip_total_flows "$node")
log_info "churn: $OPS operations (kcipctl batches of 50) in $((SECONDS - t0)) s: $nok applied, $nref refused (exists / does not exist), $nfail failed otherwise, $nrestore restores ($nrestore_fail failed); new flows in the last state's counters: $flows1"
if [ "$nfail" -eq 0 ] && [ "$nrestore_fail" -eq 0 ] && [ "$nok" -gt 0 ]; then
	pass "churn: $nok changes applied, $nref refused as expected, $nrestore restores, no other error"
else
	fail "churn: $nfail unexpected errors, $nrestore_fail failed restores: $(head -n 5 "$ERRS" | tr '\n' ' ')"
fi

# a known state: every VIP, TCP, to be1 and be2 only
touch "$STOP"
for pid in "${CLIENTS[@]}"; do
	wait "$pid" 2> /dev/null
done
# what the clients saw: flows answered by a backend through a VIP
answered=$(cat "$CLOG".* 2> /dev/null | tr ' ' '\n' | sed -n 's/^ok=\([0-9]*\)$/\1/p' |
	awk '{ n += $1 } END { print n + 0 }')
if [ "$answered" -gt 0 ]; then
	pass "traffic went through the Services during the churn: $answered flows answered by backends (the last state's counters: $flows1)"
else
	fail "no flow answered during the churn (clients: $(cat "$CLOG".* 2> /dev/null | tail -n 2 | tr '\n' ' '))"
fi
KNOWN=$(mktemp_file)
for vip in "${VIPS[@]}"; do
	s=$(svc "$vip" 80 tcp)
	echo "service add $s"
	for i in 1 2; do
		case $vip in
		*:*) echo "backend add $s $(be "$(be_addr6 "$i")" 8080)" ;;
		*) echo "backend add $s $(be "$(be_addr4 "$i")" 8080)" ;;
		esac
	done
done > "$KNOWN"
kcip -n "$node" restore "$KNOWN" || fail "restore of the known state"
SAVED=$(mktemp_file)
kcip -n "$node" save | grep -v '^#' > "$SAVED"
if [ "$(grep -c '^service add' "$SAVED")" -eq ${#VIPS[@]} ] &&
   [ "$(grep -c '^backend add' "$SAVED")" -eq $((2 * ${#VIPS[@]})) ]; then
	pass "after the churn, restore gives exactly the known state"
else
	fail "state after restore: $(tr '\n' ';' < "$SAVED")"
fi
for vip in "${VIPS[@]}"; do
	flows_only_to "$client" tcp "$vip" 80 6 "be1 be2"
done
out=$(kcip -n "$node" save | kcip -n "$node" -s restore - 2>&1)
[[ $out == *"0 added, 0 changed, 0 deleted"* ]] && pass "save | restore is a no-op" ||
	fail "save | restore: $out"
kcip -n "$node" flush || fail "flush"
n=$(kcip_nservices "$node")
[ "$n" -eq 0 ] && pass "flush leaves no Service" || fail "$n Services after flush"

dmesg_check
ksft_exit

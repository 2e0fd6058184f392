#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Configuration churn under traffic on every CPU.  While clients (two per
# CPU, TCP and UDP, IPv4 and IPv6) open flows to a pool of VIPs all the
# time, $KCIP_CHURN_OPS (300; make check-debug: 3000) random changes hit
# those same Services: Service add, delete and change (scheduler,
# affinity, retry, traffic policy), backend add, delete and change (weight,
# state), and every 25th a whole restore of a random state.  Refusals
# (EEXIST, ENOENT) are expected and counted; a failure of any other kind
# is not.  Afterwards:
#  - flows went through the Services during the churn (the counters);
#  - a restore of a known state gives exactly that state, and new flows to
#    every VIP reach only that state's backends;
#  - "save | restore" is a no-op, "flush" leaves nothing, the kernel log
#    is clean.

source "$(dirname "$0")/lib.sh"

OPS=${KCIP_CHURN_OPS:-300}

kcip_require
setup_topo 3
start_servers tcp,udp 8080

V4=(10.96.0.10 10.96.0.11 10.96.0.12)
V6=(fd00:96::10 fd00:96::11)
VIPS=("${V4[@]}" "${V6[@]}")
STOP=$(mktemp_file)
ERRS=$(mktemp_file)

# traffic: two clients per CPU, spread over the VIPs and protocols
ncpu=$(nproc)
k=0
for _ in $(seq 1 $((2 * ncpu))); do
	vip=${VIPS[k % ${#VIPS[@]}]}
	proto=tcp
	((k % 2)) && proto=udp
	ip netns exec "$client" python3 -S "$LIBDIR/kcip_client.py" --proto "$proto" \
		--until "$STOP" --expect any --timeout 0.5 --size 200 "$vip" 80 > /dev/null &
	BG_PIDS+=($!)
	k=$((k + 1))
done
log "traffic: $((2 * ncpu)) clients on $ncpu CPUs"

rnd() { echo $((RANDOM % $1)); }
pick_svc()
{
	local vip=${VIPS[$(rnd ${#VIPS[@]})]} proto=tcp

	(($(rnd 2))) && proto=udp
	svc "$vip" 80 "$proto"
}
pick_be()
{
	local s=$1 i=$(($(rnd 3) + 1))

	case $s in
	\[*) be "$(be_addr6 "$i")" 8080 ;;
	*) be "$(be_addr4 "$i")" 8080 ;;
	esac
}
svc_opts()
{
	local o=()

	case $(rnd 3) in
	0) o+=(sched random) ;;
	1) o+=(sched rr) ;;
	2) o+=(sched maglev) ;;
	esac
	case $(rnd 3) in
	0) o+=(affinity clientip timeout $(($(rnd 60) + 1))) ;;
	1) o+=(affinity none) ;;
	esac
	case $(rnd 3) in
	0) o+=(retry on quarantine $(($(rnd 5) + 1))) ;;
	1) o+=(retry off) ;;
	esac
	(($(rnd 4) == 0)) && o+=(traffic-policy cluster)
	echo "${o[*]}"
}
be_opts()
{
	local o=()

	(($(rnd 2))) && o+=(weight $(rnd 5))
	case $(rnd 4) in
	0) o+=(state ready) ;;
	1) o+=(state terminating) ;;
	2) o+=(state down) ;;
	esac
	echo "${o[*]}"
}
random_state()
{
	local vip proto s i

	for vip in "${VIPS[@]}"; do
		for proto in tcp udp; do
			(($(rnd 3))) || continue
			s=$(svc "$vip" 80 "$proto")
			echo "service add $s $(svc_opts)"
			for i in 1 2 3; do
				(($(rnd 3))) || continue
				case $vip in
				*:*) echo "backend add $s $(be "$(be_addr6 "$i")" 8080) $(be_opts)" ;;
				*) echo "backend add $s $(be "$(be_addr4 "$i")" 8080) $(be_opts)" ;;
				esac
			done
		done
	done
}

# op: one random change; prints ok, refused or failed
op()
{
	local s b out
	# shellcheck disable=SC2046 # the options are words
	case $(rnd 8) in
	0) s=$(pick_svc); out=$(kcip -n "$node" service add "$s" $(svc_opts) 2>&1) ;;
	1) s=$(pick_svc); out=$(kcip -n "$node" service del "$s" 2>&1) ;;
	2) s=$(pick_svc); out=$(kcip -n "$node" service change "$s" $(svc_opts) 2>&1) ;;
	3 | 4) s=$(pick_svc); b=$(pick_be "$s")
		out=$(kcip -n "$node" backend add "$s" "$b" $(be_opts) 2>&1) ;;
	5) s=$(pick_svc); b=$(pick_be "$s")
		out=$(kcip -n "$node" backend del "$s" "$b" $( (($(rnd 2))) && echo flush) 2>&1) ;;
	6 | 7) s=$(pick_svc); b=$(pick_be "$s")
		out=$(kcip -n "$node" backend change "$s" "$b" weight $(rnd 4) 2>&1) ;;
	esac
	if [ $? -eq 0 ]; then
		echo ok
	elif [[ $out == *"already exists"* || $out == *"does not exist"* ]]; then
		echo refused
	else
		echo "$out" >> "$ERRS"
		echo failed
	fi
}

flows0=$(kcip_total_flows "$node")
nok=0 nref=0 nfail=0 nrestore=0 nrestore_fail=0
t0=$SECONDS
for i in $(seq 1 "$OPS"); do
	if ((i % 25 == 0)); then
		if random_state | kcip -n "$node" restore - > /dev/null 2>> "$ERRS"; then
			nrestore=$((nrestore + 1))
		else
			nrestore_fail=$((nrestore_fail + 1))
		fi
		continue
	fi
	case $(op) in
	ok) nok=$((nok + 1)) ;;
	refused) nref=$((nref + 1)) ;;
	*) nfail=$((nfail + 1)) ;;
	esac
done
flows1=$(kcip_total_flows "$node")
log_info "churn: $OPS operations in $((SECONDS - t0)) s: $nok applied, $nref refused (exists / does not exist), $nfail failed otherwise, $nrestore restores ($nrestore_fail failed); new flows counted meanwhile: $flows1"
if [ "$nfail" -eq 0 ] && [ "$nrestore_fail" -eq 0 ] && [ "$nok" -gt 0 ]; then
	pass "churn: $nok changes applied, $nref refused as expected, $nrestore restores, no other error"
else
	fail "churn: $nfail unexpected errors, $nrestore_fail failed restores: $(head -n 5 "$ERRS" | tr '\n' ' ')"
fi
if [ "$flows1" -gt 0 ]; then
	pass "traffic went through the Services during the churn ($flows1 new flows in the last state's counters, $flows0 before)"
else
	fail "no flow counted during the churn"
fi

# a known state: every VIP, TCP, to be1 and be2 only
touch "$STOP"
for pid in "${BG_PIDS[@]}"; do
	wait "$pid" 2> /dev/null
done
BG_PIDS=()
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

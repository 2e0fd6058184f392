#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/guest.sh: the in-VM half of `make bench` (bench/bench.sh boots the
# VM and runs this).  Needs root and a machine you do not care about: it
# loads modules and makes network namespaces.  Settings come as KCIP_BENCH_*
# variables (see bench/bench.sh); results go to $KCIP_VM_RESULTS/results.jsonl
# one JSON object a line.
#
# Topology: one client namespace, one backend namespace, and one "node"
# namespace per implementation between them (n_ct n_dnat n_ipt n_nft
# n_ipvs n_kcip n_kcipr), each with its own rule set, all loaded at once, so that
# the traffic measurements can be interleaved (A B C A B C ...).  The
# client reaches node k from source 10.1.k.2 (policy routing); the backend
# namespace answers on every endpoint address 10.128.0.0/10 (a local
# route: one server socket plays every endpoint).
#
#   client 10.1.k.2 -- 10.1.k.1 n_IMPL 10.2.k.1 -- 10.2.k.2 backend (10.128/10)

set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
GEN=${KCIP_BENCH_GEN:?}
SIZES=${KCIP_BENCH_SIZES:-1 10 1000 10000 100000}
DUR=${KCIP_BENCH_DUR:-5}
ROUNDS=${KCIP_BENCH_ROUNDS:-3}
CONC=${KCIP_BENCH_CONC:-8}
OTHERS_MAX=${KCIP_BENCH_OTHERS_MAX:-10000}
NFT_MAX=${KCIP_BENCH_NFT_MAX:-10000}
TPUT_N=${KCIP_BENCH_TPUT_N:-1000}
TPUT_SECS=${KCIP_BENCH_TPUT_SECS:-4}
LOAD_TIMEOUT=${KCIP_BENCH_LOAD_TIMEOUT:-1500}
KCB=$REPO/bench/out/kcbench
RES=${KCIP_VM_RESULTS:-/tmp}/results.jsonl
: >"$RES"

# kcipr: kclusterip with "retry on" for every Service (its cost)
IMPLS=(ct dnat ipt nft ipvs kcip kcipr)
declare -A IDX=([ct]=1 [dnat]=2 [ipt]=3 [nft]=4 [ipvs]=5 [kcip]=6 [kcipr]=7)

emit() { echo "$1" >>"$RES"; echo "# $1"; }
log() { echo "# [$(date +%T) +${SECONDS}s] $*"; }
now_ns() { date +%s%N; }
# kernel memory the rule sets can take: slab, vmalloc, per-CPU
kmem() { awk '/^(Slab|VmallocUsed|Percpu):/ { s += $2 } END { print s * 1024 }' /proc/meminfo; }
settle() { sync; sleep 2; }
nsx() { local ns=$1; shift; ip netns exec "n_$ns" "$@"; }

# ------------------------------------------------------------- topology

setup() {
	modprobe nf_conntrack
	sysctl -qw net.netfilter.nf_conntrack_max=1048576
	echo 262144 >/sys/module/nf_conntrack/parameters/hashsize 2>/dev/null
	ip netns add cl
	ip netns add be
	ip -n cl link set lo up
	ip -n be link set lo up
	ip -n be route add local 10.128.0.0/10 dev lo
	local impl k
	for impl in "${IMPLS[@]}"; do
		k=${IDX[$impl]}
		ip netns add "n_$impl"
		ip link add "c$k" netns cl type veth peer name cli netns "n_$impl"
		ip link add "b$k" netns be type veth peer name bes netns "n_$impl"
		ip -n cl -batch - <<-E
			addr add 10.1.$k.2/24 dev c$k
			link set dev c$k up
			rule add from 10.1.$k.2 table $((100 + k))
			route add default via 10.1.$k.1 dev c$k onlink table $((100 + k))
		E
		ip -n "n_$impl" -batch - <<-E
			link set dev lo up
			addr add 10.1.$k.1/24 dev cli
			addr add 10.2.$k.1/24 dev bes
			link set dev cli up
			link set dev bes up
			route add 10.128.0.0/10 via 10.2.$k.2
		E
		ip -n be -batch - <<-E
			addr add 10.2.$k.2/24 dev b$k
			link set dev b$k up
			route add 10.1.$k.0/24 via 10.2.$k.1
		E
		nsx "$impl" sysctl -qw net.ipv4.ip_forward=1
	done
	# conntrack with no NAT; and one static DNAT rule
	nsx ct nft -f - <<-E
		table ip ctonly { chain pre { type filter hook prerouting priority -150; ct state new counter; }; }
	E
	nsx dnat nft -f - <<-E
		table ip st { chain pre { type nat hook prerouting priority -100;
			ip daddr 10.96.0.0/12 meta l4proto { tcp, udp } th dport 80 dnat to 10.128.0.1:8080; }; }
	E
	# IPVS: kube-proxy's dummy device; conntrack on, as kube-proxy sets it
	# (its iptables rules keep conntrack running in the namespace: the
	# filter chain below stands for them)
	nsx ipvs ip link add kube-ipvs0 type dummy
	nsx ipvs nft -f - <<-E
		table ip ctonly { chain pre { type filter hook prerouting priority -150; ct state new counter; }; }
	E
	nsx ipvs ipvsadm -C
	nsx ipvs sysctl -qw net.ipv4.vs.conntrack=1
	nsx ipvs ipvsadm --set 900 120 2
	ip netns exec be "$KCB" serve 8080 &
	SERVER=$!
	sleep 1
}

# UDP flows are new flows only if their entries are gone when the source
# port comes round again: 2 s, the same everywhere
ct_timeouts() {
	nsx "$1" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=2 net.netfilter.nf_conntrack_udp_timeout_stream=2 2>/dev/null
}

active() { # impl n: is impl measured at size n
	case $1 in
	ct | dnat | kcip) return 0 ;;
	kcipr) (($2 <= OTHERS_MAX)) ;;
	nft) (($2 <= NFT_MAX && $2 <= OTHERS_MAX)) ;;
	*) (($2 <= OTHERS_MAX)) ;;
	esac
}

# -------------------------------------------------------------- loading

flush() {
	case $1 in
	ipt) nsx ipt iptables -t nat -F && nsx ipt iptables -t nat -X ;;
	nft) nsx nft nft delete table ip kube-proxy 2>/dev/null ;;
	ipvs) nsx ipvs ipvsadm -C && nsx ipvs ip link del kube-ipvs0 && nsx ipvs ip link add kube-ipvs0 type dummy ;;
	kcip | kcipr) nsx "$1" kcipctl flush ;;
	esac
	return 0
}

# load impl n file: print the ms it took (-1 on failure)
load() {
	local impl=$1 d=$2 f=${3:-} t0 t1 rc=0
	t0=$(now_ns)
	case $impl in
	ipt) nsx ipt timeout "$LOAD_TIMEOUT" iptables-restore <"$d/ipt.rules" || rc=$? ;;
	nft) nsx nft timeout "$LOAD_TIMEOUT" nft -f "$d/nft.rules" || rc=$? ;;
	ipvs)
		nsx ipvs ip -batch "$d/ipvs.addrs" || rc=$?
		echo $((($(now_ns) - t0) / 1000000)) >/tmp/ipvs_addr_ms
		nsx ipvs timeout "$LOAD_TIMEOUT" ipvsadm -R <"$d/ipvs.rules" || rc=$?
		;;
	kcip) nsx kcip timeout "$LOAD_TIMEOUT" kcipctl restore "$d/${f:-kcip.rules}" || rc=$? ;;
	kcipr)
		sed 's/^service add .*/& retry on/' "$d/kcip.rules" |
			nsx kcipr timeout "$LOAD_TIMEOUT" kcipctl restore - || rc=$?
		;;
	esac
	t1=$(now_ns)
	((rc == 0)) && echo $(((t1 - t0) / 1000000)) || echo "-1"
}

change() { # impl dir k
	case $1 in
	ipt) nsx ipt iptables-restore --noflush <"$2/ipt.change.$3" ;;
	nft) nsx nft nft -f "$2/nft.change.$3" ;;
	ipvs) nsx ipvs ipvsadm $(cat "$2/ipvs.change.$3") ;;
	kcip) nsx kcip kcipctl $(cat "$2/kcip.change.$3") ;;
	esac
}

# ------------------------------------------------------------- traffic

flows() { # proto impl n dir round
	local proto=$1 impl=$2 n=$3 d=$4 r=$5 k=${IDX[$2]} out
	local file=$d/vips port=80
	[[ $impl = ct ]] && file=$d/eps port=8080
	out=$(ip netns exec cl "$KCB" "$proto" -f "$file" -p "$port" -s "10.1.$k.2" \
		-d "$DUR" -c "$CONC" -b 1024 -n 64000)
	emit "{\"kind\":\"$proto\",\"impl\":\"$impl\",\"n\":$n,\"round\":$r,\"res\":$out}"
}

tput() { # impl n dir round
	local impl=$1 n=$2 d=$3 r=$4 k=${IDX[$1]} dst port=80 bps
	dst=$(head -n1 "$d/vips")
	[[ $impl = ct ]] && dst=$(head -n1 "$d/eps") port=8080
	bps=$(ip netns exec cl timeout $((TPUT_SECS + 30)) iperf3 -c "$dst" -p "$port" -B "10.1.$k.2" \
		-t "$TPUT_SECS" -J 2>/dev/null | python3 -c '
import json, sys
try:
    print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])
except Exception:
    print(-1)')
	emit "{\"kind\":\"tput\",\"impl\":\"$impl\",\"n\":$n,\"round\":$r,\"bps\":$bps}"
}

# ----------------------------------------------------------------- run

log "kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {print $2}' /proc/meminfo) kB"
emit "{\"kind\":\"env\",\"kernel\":\"$(uname -r)\",\"cpus\":$(nproc),\"mem_kb\":$(awk '/MemTotal/ {print $2}' /proc/meminfo),\"dur\":$DUR,\"rounds\":$ROUNDS,\"conc\":$CONC,\"iptables\":\"$(iptables -V)\",\"nft\":\"$(nft -v)\",\"ipvsadm\":\"$(ipvsadm -v 2>&1 | head -n1)\",\"cmdline\":\"$(cat /proc/cmdline)\"}"
setup
# warm-up: the first load of each kind autoloads its modules (nf_tables,
# xt_statistic, ip_vs, kclusterip...): not part of any figure
for impl in ipt nft ipvs kcip; do
	load "$impl" "$GEN/${SIZES%% *}" >/dev/null
	flush "$impl"
done
t0=$(now_ns)
for i in 1 2 3; do nsx kcip true; done
emit "{\"kind\":\"noop\",\"ms\":$((($(now_ns) - t0) / 3000000))}"

for n in $SIZES; do
	d=$GEN/$n
	log "=== $n Services x 10 backends"
	for impl in ipt nft ipvs kcip kcipr; do
		active "$impl" "$n" || { flush "$impl"; continue; }
		flush "$impl"
		settle
		m0=$(kmem)
		log "loading $impl ($n)"
		ms=$(load "$impl" "$d")
		settle
		m1=$(kmem)
		extra=
		[[ $impl = ipvs ]] && extra=",\"addr_ms\":$(cat /tmp/ipvs_addr_ms)"
		emit "{\"kind\":\"load\",\"impl\":\"$impl\",\"n\":$n,\"ms\":$ms,\"mem_bytes\":$((m1 - m0))$extra}"
		if [[ $impl = kcip ]]; then
			# the same Services with 1 backend each: per-Service and
			# per-backend memory apart; then the real set again
			flush kcip; settle; m0=$(kmem)
			ms1=$(load kcip "$d" kcip1.rules); settle; m1=$(kmem)
			emit "{\"kind\":\"load1\",\"impl\":\"kcip\",\"n\":$n,\"ms\":$ms1,\"mem_bytes\":$((m1 - m0))}"
			flush kcip; settle
			load kcip "$d" >/dev/null
		fi
		ct_timeouts "$impl"
	done
	ct_timeouts ct
	ct_timeouts dnat
	# one change: one backend added to one Service, three times
	for k in 1 2 3; do
		for impl in ipt nft ipvs kcip; do
			active "$impl" "$n" || continue
			t0=$(now_ns)
			change "$impl" "$d" "$k" || log "change $k of $impl failed"
			emit "{\"kind\":\"change\",\"impl\":\"$impl\",\"n\":$n,\"k\":$k,\"ms\":$((($(now_ns) - t0) / 1000000))}"
		done
	done
	run=()
	for impl in "${IMPLS[@]}"; do active "$impl" "$n" && run+=("$impl"); done
	for r in $(seq 1 "$ROUNDS"); do
		log "round $r/$ROUNDS: ${run[*]}"
		for impl in "${run[@]}"; do flows tcp "$impl" "$n" "$d" "$r"; done
		for impl in "${run[@]}"; do flows udp "$impl" "$n" "$d" "$r"; done
	done
	if [[ $n = "$TPUT_N" ]] && command -v iperf3 >/dev/null; then
		kill "$SERVER"; wait "$SERVER" 2>/dev/null
		ip netns exec be iperf3 -s -p 8080 >/dev/null 2>&1 &
		IPERF=$!
		sleep 1
		for r in $(seq 1 "$ROUNDS"); do
			log "throughput round $r/$ROUNDS"
			for impl in "${run[@]}"; do tput "$impl" "$n" "$d" "$r"; done
		done
		kill "$IPERF"; wait "$IPERF" 2>/dev/null
		ip netns exec be "$KCB" serve 8080 &
		SERVER=$!
		sleep 1
	fi
done
log "done"
kill "$SERVER" 2>/dev/null
exit 0

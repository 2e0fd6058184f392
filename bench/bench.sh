#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/bench.sh (`make bench`): kclusterip beside kube-proxy's iptables,
# nftables and IPVS layouts, and two floors (conntrack with no NAT, one
# static DNAT rule), all in ONE boot of the test VM (selftests/vm/run.sh:
# nothing is loaded into this machine's kernel).  Writes
# bench/results/DATE.{json,md} and DATE-*.png; see Documentation/benchmarks.rst.
#
# Environment:
#   BENCH_SIZES        Service counts (default "1 10 1000 10000 100000"); sizes
#                      above BENCH_OTHERS_MAX run kclusterip and floors only
#   BENCH_QUICK=1      sizes "1 100", 2 s runs, 2 rounds: a smoke run (~5 min)
#   BENCH_DUR          seconds per traffic measurement (default 5)
#   BENCH_ROUNDS       rounds of interleaved measurements (default 3)
#   BENCH_CONC         flows in flight (default 8)
#   BENCH_OTHERS_MAX   largest size for iptables/nftables/IPVS (default 10000)
#   BENCH_NFT_MAX      largest size for nftables (default 10000; nft -f of
#                      10,000 x 10 took 14 min here)
#   BENCH_TPUT_N       size at which iperf3 throughput is measured (default 1000)
#   BENCH_LOAD_TIMEOUT seconds before one bulk load is given up (default 1500)
#   VM_SMP, VM_MEM, VM_TIMEOUT   as for selftests/vm/run.sh (defaults 2, 3G, 5400)

set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$REPO"

if [[ -n ${BENCH_QUICK-} ]]; then
	: "${BENCH_SIZES:=1 100}" "${BENCH_DUR:=2}" "${BENCH_ROUNDS:=2}" "${BENCH_TPUT_N:=100}"
fi
SIZES=${BENCH_SIZES:-1 10 1000 10000 100000}
OTHERS_MAX=${BENCH_OTHERS_MAX:-10000}
STAMP=${BENCH_STAMP:-$(date +%Y-%m-%d-%H%M)}
OUTDIR=$REPO/bench/out
RESULTS=$REPO/bench/results
mkdir -p "$OUTDIR/gen" "$RESULTS"

# ---- tools: the guest runs this machine's binaries (its / over 9p)
missing=()
for t in ipvsadm:ipvsadm iperf3:iperf3 gnuplot:gnuplot-nox iptables-restore:iptables nft:nftables gcc:gcc; do
	command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
done
if ((${#missing[@]})); then
	if [[ $(id -u) = 0 ]] && command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
	else
		echo "bench: missing ${missing[*]} (apt-get install ${missing[*]})" >&2
		exit 1
	fi
fi

# ---- build: the module, kcipctl, the traffic tool
selftests/vm/deps.sh >/dev/null
make -s all
gcc -O2 -Wall -Wextra -o "$OUTDIR/kcbench" bench/kcbench.c

# ---- rule sets, made here (fast) rather than in the emulated guest
for n in $SIZES; do
	what=ipt,nft,ipvs,kcip
	((n > OTHERS_MAX)) && what=kcip
	stamp="$n $what $(md5sum <bench/gen.py)"
	if [[ ! -f $OUTDIR/gen/$n/.done || $(<"$OUTDIR/gen/$n/.done") != "$stamp" ]]; then
		echo "bench: generating rule sets for $n Services"
		rm -rf "$OUTDIR/gen/$n"
		python3 bench/gen.py "$OUTDIR/gen/$n" "$n" "$what"
		echo "$stamp" >"$OUTDIR/gen/$n/.done"
	fi
done

# ---- the VM run
export KCIP_BENCH_GEN=$OUTDIR/gen KCIP_BENCH_SIZES=$SIZES KCIP_BENCH_OTHERS_MAX=$OTHERS_MAX
for v in DUR ROUNDS CONC NFT_MAX TPUT_N LOAD_TIMEOUT; do
	eval "val=\${BENCH_$v-}"
	[[ -n $val ]] && export "KCIP_BENCH_$v=$val"
done
VMDIR=$OUTDIR/vm-$STAMP
rm -rf "$VMDIR"
# slub_debug off: it pads every object and would inflate the memory figures
VM_SLUB_DEBUG='' VM_MEM=${VM_MEM:-3G} VM_TIMEOUT=${VM_TIMEOUT:-5400} VM_OUT=$VMDIR \
	selftests/vm/run.sh --cmd "$REPO/bench/guest.sh" || echo "bench: the VM run failed (status $?); reporting what it measured" >&2
[[ -s $VMDIR/share/results.jsonl ]] || { echo "bench: no results" >&2; exit 1; }
cp "$VMDIR/share/results.jsonl" "$RESULTS/$STAMP.jsonl"
python3 bench/report.py "$RESULTS/$STAMP.jsonl" "$RESULTS/$STAMP"
echo "bench: $RESULTS/$STAMP.md"

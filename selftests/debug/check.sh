#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/debug/check.sh [TESTS...] (`make check-debug`): the whole
# selftest suite and the stress tests on the debug kernel (KASAN, kmemleak,
# lockdep, PROVE_RCU, DEBUG_NET, netns refcount tracking, FAILSLAB), in the
# test VM.  Any kernel report on the console fails the run, and so does
# anything kmemleak holds at the end.
#
#  1. selftests/debug/kernel.sh: the debug kernel, built once per machine
#     (cached outside the clone, keyed by its configuration);
#  2. kclusterip built against that kernel in a scratch copy of kmod/ (the
#     tree's own kmod/kclusterip.ko stays the stock kernel's);
#  3. selftests/vm/run.sh on that kernel, with the stress sizes below.
#
# Environment: what selftests/vm/run.sh takes (VM_TIMEOUT, default 10800
# here; VM_MEM, default 3G: KASAN needs room), KCIP_DEBUG_CACHE, and the
# stress sizes (defaults for this suite):
#   KCIP_FUZZ_N=200000      netlink messages fuzzed (nl_fuzz.sh)
#   KCIP_CHURN_OPS=1000     configuration changes under traffic (stress_churn.sh)
#   KCIP_NETNS_ROUNDS=20    rounds of netns create/program/traffic/delete ...
#   KCIP_NETNS_BATCH=10     ... of this many netns at once (netns_delete.sh;
#                           200 in all, as 25 x 8 did, with fewer rounds'
#                           fixed waits)
#   KCIP_RMMOD_CYCLES=20    rmmod/modprobe under traffic (rmmod_traffic.sh)
#   KCIP_FAILSLAB_N=300     add/restore attempts under FAILSLAB (stress_failslab.sh)

set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$REPO"

t0=$SECONDS
DIR=$(selftests/debug/kernel.sh)
KVER=$(cat "$DIR/release")
echo "check-debug: kernel $KVER from $DIR (built in $(cat "$DIR/build-seconds") s)"

# the module, against the debug tree, outside the working tree
MOD=$DIR/kclusterip-build
rm -rf "$MOD"
mkdir -p "$MOD"
cp -r Kbuild kmod uapi "$MOD/"
rm -f "$MOD"/kmod/*.o "$MOD"/kmod/*.ko "$MOD"/kmod/*.mod* "$MOD"/kmod/.*.cmd
make -s -C "$DIR/build" M="$MOD" modules
echo "check-debug: module built against $KVER"

# kcipctl and the test helpers as usual (they do not depend on the kernel)
make -s kcipctl selftests-build

export KERNEL=$DIR/build/arch/x86/boot/bzImage KVER
export VM_MODDIR=$DIR/mods/lib/modules/$KVER
export KCIP_KO=$MOD/kmod/kclusterip.ko
export KCIP_KMEMLEAK=1
export VM_TIMEOUT=${VM_TIMEOUT:-10800} VM_MEM=${VM_MEM:-3G}
# KASAN already checks every access: slub_debug would only slow it down
export VM_SLUB_DEBUG=${VM_SLUB_DEBUG-}
export KCIP_FUZZ_N=${KCIP_FUZZ_N:-200000}
export KCIP_CHURN_OPS=${KCIP_CHURN_OPS:-1000}
export KCIP_NETNS_ROUNDS=${KCIP_NETNS_ROUNDS:-20}
export KCIP_NETNS_BATCH=${KCIP_NETNS_BATCH:-10}
export KCIP_RMMOD_CYCLES=${KCIP_RMMOD_CYCLES:-20}
export KCIP_FAILSLAB_N=${KCIP_FAILSLAB_N:-300}
# every test is several times slower under KASAN and lockdep: so are the
# waits for servers and states (lib.sh busywait).  netns_delete once
# needed about 2 h while the other guest shared the host's cores (3,600 s
# killed it in round 12 of 25): the per-test limit is a hang detector here
export KCIP_TEST_TIMEOUT=${KCIP_TEST_TIMEOUT:-8000}
export KCIP_TIME_SCALE=${KCIP_TIME_SCALE:-4}

# every test, then those only this kernel can run
(($#)) || set -- $(make -s -C selftests list-debug)
# the logs in a directory of our own, to read the figures back from below
export VM_OUT=${VM_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/kcip-debug.XXXXXX")}
mkdir -p "$VM_OUT"

# Two guests at once (KCIP_DEBUG_GUESTS=2, the default): one runs the tests
# that share a guest, two at a time; the other the "exclusive" ones (they
# reload the module or compare its use count) one after another.  Alone in
# one guest the exclusive ones came last and took about an hour more, with
# the vCPUs often idle (cleanup_net is one worker; retries wait).  Each guest
# has its own console, kmemleak scan and verdict; both count.
shared=() alone=()
for t in "$@"; do
	f=selftests/${t%.sh}.sh
	if [[ -f $f ]] && grep -qE '^#[[:space:]]*kcip-test:(.*[[:space:]])?exclusive([[:space:]]|$)' "$f"; then
		alone+=("$t")
	else
		shared+=("$t")
	fi
done
guests=()
if [[ ${KCIP_DEBUG_GUESTS:-2} = 2 ]] && ((${#shared[@]} && ${#alone[@]})); then
	echo "check-debug: two guests at once: ${#shared[@]} tests in $VM_OUT/shared, ${#alone[@]} exclusive ones (${alone[*]}) in $VM_OUT/alone"
	guests=(shared alone)
	# (a subshell: the pipeline's status, under pipefail, is run.sh's)
	(VM_OUT=$VM_OUT/shared selftests/vm/run.sh "${shared[@]}" 2>&1 |
		tee "$VM_OUT/shared.out") &
	pid_shared=$!
	VM_OUT=$VM_OUT/alone selftests/vm/run.sh "${alone[@]}" >"$VM_OUT/alone.out" 2>&1 &
	pid_alone=$!
	rc=0
	wait "$pid_shared" || rc=$?
	wait "$pid_alone" || rc=$?
	# the second guest's output, whole, after the first's
	echo "check-debug: the exclusive tests' guest ($VM_OUT/alone):"
	cat "$VM_OUT/alone.out"
else
	guests=(one)
	rc=0
	VM_OUT=$VM_OUT/one selftests/vm/run.sh "$@" 2>&1 | tee "$VM_OUT/one.out" || rc=$?
fi

# The figures the issue asks for, gathered from the tests' own lines: what
# a test did not print (it did not run, or died first) says so.  kmemleak
# scans once per guest: a line from each.
figure() {
	local what=$1 re=$2 g line found=0

	for g in "${guests[@]}"; do
		line=$(tr -d '\r' <"$VM_OUT/$g/output.log" | grep -oE -- "$re" | tail -n 1) || true
		[[ -n $line ]] || continue
		found=1
		printf 'check-debug: %-22s %s\n' "$what:" "$line${guests[1]+ (guest: $g)}"
	done
	((found)) || printf 'check-debug: %-22s %s\n' "$what:" \
		"not reported (the test did not run or did not finish)"
}
figure "netlink fuzz" 'nlfuzz: sent [0-9]+, accepted [0-9]+, refused [0-9]+.*'
figure "fuzz state" 'nlfuzz: state: [0-9].*'
figure "config churn" 'churn: [0-9]+ operations.*'
figure "netns lifecycle" 'netns create, program, traffic, delete: .*'
figure "rmmod under traffic" 'rmmod and modprobe under traffic: [0-9]+ cycles'
figure "failslab" 'failslab [0-9]+ attempts: .*'
figure "kmemleak" 'kmemleak: scanned at the end: .*|kmemleak: not available.*'
unclean=0
for g in "${guests[@]}"; do
	reports=$(selftests/vm/scan-console.sh -q "$VM_OUT/$g/console.log" 2>/dev/null || true)
	[[ $reports = 0 ]] || unclean=1
	printf 'check-debug: %-22s %s\n' "kernel reports:" \
		"${reports:-?} on the console of guest $g (KASAN, lockdep, RCU, WARN, kmemleak...)"
done
# one summary line for the guests together, last (CI reads the last one)
summary=$(for g in "${guests[@]}"; do
	tr -d '\r' <"$VM_OUT/$g.out" | grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | tail -n 1 ||
		echo "0 passed, 1 failed, 0 skipped"
done | awk '{ p += $1; f += $3; k += $5 } END { printf "%d passed, %d failed, %d skipped", p, f, k }')
((unclean == 0)) || rc=1
echo "check-debug: took $((SECONDS - t0)) s (kernel build included when it ran)"
echo "$summary"
exit "$rc"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The netlink family holds up under a fuzzer (nlfuzz.c): in a fresh netns,
# KCIP_FUZZ_N (default 20000) requests from 4 threads at once, built valid
# for every command and then mutated (attributes dropped, duplicated,
# oversized, cut, retyped, nested deep, unknown ones; bit flips; bad
# headers), some fully random, with dumps and whole restore transactions in
# between, and a "monitor" listener so that change events are built too:
#  - nlfuzz exits 0: every request that needed an answer got one, every
#    answer and event parsed and kept the uapi's rules, and the state left
#    is consistent (-c: valid Services, backends of their Service's family,
#    weights and states in range, nothing twice; the doit GET agrees with
#    the dump);
#  - it sent exactly KCIP_FUZZ_N messages, and the kernel both accepted and
#    refused some (else the fuzzer exercised only one side);
#  - "kcipctl save | kcipctl restore -" works on what it left and changes
#    nothing; the state still takes changes; "kcipctl flush" empties it;
#  - the kernel log is clean.
#
# The seed is in the output; KCIP_FUZZ_SEED=N replays that run's messages
# (thread I draws from N + I: "nlfuzz -t 1 -s N+I -x" shows them one by one).

source "$(dirname "$0")/lib.sh"

kcip_require
setup_ns node

N=${KCIP_FUZZ_N:-20000}
THREADS=4
SEED=${KCIP_FUZZ_SEED:-$((RANDOM * 32768 + RANDOM))}

NLFUZZ=$LIBDIR/nlfuzz
if [ ! -x "$NLFUZZ" ]; then
	tmpd=$(mktemp -d /tmp/kcip-nlfuzz.XXXXXX)
	TMPFILES+=("$tmpd")
	make -s -C "$LIBDIR" OUTPUT="$tmpd" "$tmpd/nlfuzz" > /dev/null 2>&1 &&
		NLFUZZ=$tmpd/nlfuzz
fi
if [ ! -x "$NLFUZZ" ]; then
	fail "nlfuzz not built (make -C selftests; needs libmnl-dev)"
	ksft_exit
fi

log "nlfuzz: $N messages from $THREADS threads, seed $SEED"
OUT=$(mktemp_file)
t0=$SECONDS
# A kernel that hangs leaves nlfuzz stuck in sendmsg(), where its own
# answer timeout cannot help: bound it here, under the runner's timeout.
# The bound grows with the slowness of the kernel (KCIP_TIME_SCALE, 4 on
# the debug kernel, where 200,000 messages took 233 s alone and more than
# 480 s beside other tests).
FUZZ_TIMEOUT=${KCIP_FUZZ_TIMEOUT:-$((480 * ${KCIP_TIME_SCALE:-1}))}
ip netns exec "$node" timeout --kill-after=10 "$FUZZ_TIMEOUT" \
	"$NLFUZZ" -n "$N" -t "$THREADS" -s "$SEED" -c > "$OUT" 2>&1
rc=$?
elapsed=$((SECONDS - t0))
summary=$(grep -m 1 '^nlfuzz: sent ' "$OUT")
# its report: the summary, the details, the state, any FAIL with the
# request that caused it (in hex, to replay)
head -n 100 "$OUT" | sed 's/^/#   /'
[ "$(wc -l < "$OUT")" -gt 100 ] && log "($(wc -l < "$OUT") lines in all)"
log "nlfuzz took $elapsed s: ${summary:-no summary line}"

if [ $rc -eq 0 ]; then
	pass "nlfuzz ran to the end (exit 0, $elapsed s)"
else
	fail "nlfuzz: exit $rc after $elapsed s (seed $SEED)"
fi

sent=-1 accepted=-1 refused=-1
if [[ $summary =~ ^nlfuzz:\ sent\ ([0-9]+),\ accepted\ ([0-9]+),\ refused\ ([0-9]+) ]]; then
	sent=${BASH_REMATCH[1]}
	accepted=${BASH_REMATCH[2]}
	refused=${BASH_REMATCH[3]}
fi
[ "$sent" -eq "$N" ] && pass "sent $sent messages" ||
	fail "sent $sent messages, want $N"
[ "$accepted" -gt 0 ] && pass "the kernel accepted some ($accepted)" ||
	fail "the kernel accepted none ($accepted): valid requests do not get through"
[ "$refused" -gt 0 ] && pass "the kernel refused some ($refused)" ||
	fail "the kernel refused none ($refused): mutations do not reach it"

state_line=$(grep -m 1 '^nlfuzz: state: [0-9]' "$OUT")
if [[ $state_line = *", consistent" ]]; then
	pass "state after the fuzz: ${state_line#nlfuzz: state: }"
else
	fail "state after the fuzz: ${state_line:-not checked}"
fi

log "the state is still usable"
STATE1=$(state_of "$node")
# shellcheck disable=SC2016 # $0 and $1 are bash -c's
check "kcipctl save | kcipctl restore - on what the fuzzer left" \
	bash -o pipefail -c '"$0" -n "$1" save | "$0" -n "$1" restore -' \
	"$KCIPCTL" "$node"
[ "$(state_of "$node")" = "$STATE1" ] &&
	pass "save | restore changed nothing" ||
	fail "save | restore changed the state"
check "service add after the fuzz" kcip -n "$node" service add 10.96.1.1:80/tcp
check "backend add after the fuzz" \
	kcip -n "$node" backend add 10.96.1.1:80/tcp 10.244.1.2:8080 weight 3
check "kcipctl flush" kcip -n "$node" flush
n=$(kcip_nservices "$node")
[ "$n" -eq 0 ] && pass "no Service after flush" ||
	fail "$n Service(s) after flush"

dmesg_check
ksft_exit

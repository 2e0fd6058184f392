#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Allocation failures on the add and restore paths (FAILSLAB; the debug
# kernel of make check-debug has it, a stock kernel does not: skip).  Only
# kcipctl's own kernel work fails (failslab's task filter, make-it-fail set
# for that process alone, while a request is in the kernel), one slab
# allocation in 33.  $KCIP_FAILSLAB_N (300) attempts, each a Service add,
# a backend add, or a whole restore of 4 Services x 8 backends; after
# each, without fault injection, the state is checked: an attempt that
# failed changed nothing, one that succeeded did all of its work, and no
# answer hung.  Afterwards flush leaves nothing,
# and the kernel log (and kmemleak, at the end of the run) is clean.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_control.sh"

N=${KCIP_FAILSLAB_N:-300}
FS=/sys/kernel/debug/failslab

kcip_require
[ -d /sys/kernel/debug/failslab ] ||
	mount -t debugfs none /sys/kernel/debug 2> /dev/null
[ -d $FS ] || skip "the kernel has no FAILSLAB"
[ -w /proc/self/make-it-fail ] || skip "no /proc/self/make-it-fail"
setup_ns node

fs_set() { echo "$2" > "$FS/$1" || fail "failslab $1"; }
fs_set task-filter Y
fs_set probability 3
fs_set interval 1
fs_set times -1
fs_set space 0
fs_set verbose 0
# GFP_KERNEL allocations sleep: by default failslab leaves them alone
[ -e $FS/ignore-gfp-wait ] && fs_set ignore-gfp-wait N
cleanup_failslab() { echo 0 > "$FS/probability"; }
trap 'cleanup_failslab; cleanup' EXIT

# The requests go from python (lib_control.sh's kcip_nl): failslab is
# turned on for that process only while a request is in the kernel, not
# while a program and its libraries are read (over 9p in the test VM,
# whose client does not survive its own allocations failing).
out=$(kcip_nl "$node" failslab "$N" 2>&1)
rc=$?
cleanup_failslab
echo "$out" | grep -v '^failslab ' | head -n 20 | sed 's/^/# /'
sum=$(echo "$out" | grep '^failslab ' | tail -n 1)
log_info "$sum"
read -r _ _ _ ok _ failed _ lost _ bad _ <<< "$sum"
if [ -z "$sum" ]; then
	fail "no summary from the failslab run: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
else
	[ "${failed:-0}" -gt 0 ] && pass "failslab made $failed of $N attempts fail ($lost lost their answer)" ||
		fail "failslab made no attempt fail: is it on?"
	[ "${ok:-0}" -gt 0 ] && pass "$ok attempts went through" || fail "no attempt went through"
	[ "$rc" -eq 0 ] && [ "${bad:-1}" -eq 0 ] && pass "every attempt did all or nothing" ||
		fail "$bad attempts left neither the old state nor the new one (exit $rc)"
fi
kcip -n "$node" flush || fail "flush"
n=$(kcip_nservices "$node")
[ "$n" -eq 0 ] && pass "flush leaves no Service" || fail "$n Services after flush"

dmesg_check
ksft_exit

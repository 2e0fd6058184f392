#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftest.sh [--vm]: checks of the test harness itself.
#
# Without --vm (a second, no root needed, touches no kernel):
#   - scan-console.sh finds each report in testdata/console-problems.log once
#     and nothing in a clean 6.1 boot (testdata/console-clean-6.1.log);
#   - run_tests.sh reads TEST_PROGS (with continuation lines), runs a subset,
#     and prints the right KTAP for pass, skip, fail, timeout and missing;
#     with KCIP_JOBS=3 it runs tests at the same time, prints their blocks
#     whole and in order, runs "# kcip-test: exclusive" tests alone.
# With --vm also (a few minutes under TCG):
#   - --cmd passes the command's exit status on and streams its output;
#   - a kernel crash in the guest fails the run quickly;
#   - a guest that hangs is stopped at VM_TIMEOUT with a verdict;
#   - a guest not up by VM_BOOT_TIMEOUT is booted once more, then the run
#     fails saying so;
#   - a run of fake tests counts passed/failed/skipped right, and a kernel
#     WARNING on the console counts as one more failure.

set -uo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SELF_DIR/../.." && pwd -P)
VM=0
[[ ${1-} = --vm ]] && VM=1

nfail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; nfail=$((nfail + 1)); }
expect() {	# expect WHAT EXPECTED ACTUAL
	if [[ $2 == "$3" ]]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi
}
expect_grep() {	# expect_grep WHAT PATTERN TEXT
	if grep -qE -- "$2" <<<"$3"; then ok "$1"; else bad "$1: no line matching '$2'"; fi
}

# ------------------------------------------------------------ the scanner

scan=$SELF_DIR/scan-console.sh
td=$SELF_DIR/testdata
expect "clean 6.1 boot: no finding" 0 "$("$scan" -q "$td/console-clean-6.1.log")"
expect "problem sample: 14 findings" 14 "$("$scan" -q "$td/console-problems.log")"
heads=$("$scan" "$td/console-problems.log" | sed -n 's/^kernel problem [0-9]*[^:]*: //p')
for h in "WARNING: CPU: 1 PID: 321" "WARNING: possible circular locking" \
	"WARNING: suspicious RCU usage" "BUG: kernel NULL pointer" "BUG: KASAN:" \
	"UBSAN: shift-out-of-bounds" "kmemleak: 3 new suspected" "BUG kmalloc-128" \
	"rcu: INFO: rcu_preempt self-detected stall" "watchdog: BUG: soft lockup" \
	"blocked for more than 120 seconds" "unregister_netdevice: waiting" \
	"general protection fault" "kernel BUG at"; do
	expect "finding '$h'" 1 "$(grep -cF -- "$h" <<<"$heads")"
done
expect_grep "finding attributed to its test" '^kernel problem 1 \(during warn\.sh\): WARNING' \
	"$("$scan" "$td/console-problems.log")"
expect_grep "the oops and its panic are one finding" '^  Kernel panic - not syncing: Fatal exception' \
	"$("$scan" "$td/console-problems.log" | sed -n '/^kernel problem 4 /,/^kernel problem 5 /p')"
"$scan" "$td/console-clean-6.1.log" >/dev/null
expect "exit status 0 when clean" 0 $?
"$scan" "$td/console-problems.log" >/dev/null
expect "exit status 1 with findings" 1 $?
expect "repeats fold into one finding" 1 "$(printf '%s\n' \
	'[ 1.0] unregister_netdevice: waiting for lo to become free. Usage count = 2' \
	'[11.0] unregister_netdevice: waiting for lo to become free. Usage count = 2' | "$scan" -q)"

# ------------------------------------------------------------- the runner

fake=$(mktemp -d "${TMPDIR:-/tmp}/kcip-selftest.XXXXXX")
trap 'rm -rf "$fake"' EXIT
make_fake_suite() {	# DIR
	local d=$1

	mkdir -p "$d/vm"
	cp "$REPO/selftests/run_tests.sh" "$d/"
	cp "$scan" "$d/vm/"
	printf 'timeout=300\n' >"$d/settings"
	printf 'all:\n\ttrue\nTEST_PROGS := t_pass.sh \\\n\tt_skip.sh t_fail.sh \\\n\tt_timeout.sh t_missing.sh\nTEST_FILES := x\n' >"$d/Makefile"
	printf '#!/bin/bash\necho "pass output"\necho "on stderr" >&2\nexit 0\n' >"$d/t_pass.sh"
	printf '#!/bin/bash\necho "SKIP: nothing"\nexit 4\n' >"$d/t_skip.sh"
	# shellcheck disable=SC2016 # written into the script as it is
	printf '#!/bin/bash\necho "ok 1 looks like KTAP"\n%s\nexit 1\n' \
		'[[ ${KCIP_VM-} = 1 ]] && printf "%s\n" "WARNING: CPU: 0 PID: 1 at fake.c:1 fake+0x0/0x1" "---[ end trace 0000000000000000 ]---" >/dev/kmsg' \
		>"$d/t_fail.sh"
	printf '#!/bin/bash\nsleep 600 &\necho started\nsleep 600\n' >"$d/t_timeout.sh"
	chmod +x "$d"/*.sh
}
make_fake_suite "$fake"

out=$(KCIP_JOBS=1 KCIP_NO_KMSG=1 KCIP_TEST_TIMEOUT=3 "$fake/run_tests.sh" 2>&1)
rc=$?
expect "runner exit status with failures" 1 "$rc"
expect "plan from TEST_PROGS with continuations" "1..5" "$(sed -n 2p <<<"$out")"
expect "KTAP header" "TAP version 13" "$(sed -n 1p <<<"$out")"
expect_grep "pass" '^ok 1 t_pass\.sh$' "$out"
expect_grep "test output indented" '^# pass output$' "$out"
expect_grep "stderr indented too" '^# on stderr$' "$out"
expect_grep "skip" '^ok 2 t_skip\.sh # SKIP$' "$out"
expect_grep "fail" '^not ok 3 t_fail\.sh # exit=1$' "$out"
expect_grep "test's own KTAP stays indented" '^# ok 1 looks like KTAP$' "$out"
expect_grep "timeout" '^not ok 4 t_timeout\.sh # TIMEOUT 3 seconds$' "$out"
expect_grep "missing" '^not ok 5 t_missing\.sh # missing$' "$out"
expect_grep "totals" '^# Totals: pass:1 fail:3 xfail:0 xpass:0 skip:1 error:0$' "$out"
sleep 0.5
if pgrep -f "^sleep 600$" >/dev/null; then bad "timeout left the test's background process"; else ok "timeout killed the test's process group"; fi

out=$(KCIP_JOBS=1 KCIP_NO_KMSG=1 "$fake/run_tests.sh" t_pass t_skip.sh 2>&1)
expect "subset by name: exit status" 0 $?
expect "subset by name: plan" "1..2" "$(sed -n 2p <<<"$out")"

# KCIP_JOBS: tests at the same time, blocks whole and in list order, the
# exclusive ones alone (after the others), the timeout per test.
par=$fake/par
make_fake_suite "$par"
mkdir "$par/running"
# par_test NAME SECONDS [EXTRA]: says who else runs, sleeps, says it again
par_test() {
	{
		printf '#!/bin/bash\n%s' "${3-}"
		# shellcheck disable=SC2016 # written into the script as it is
		printf '%s\n' 'd=$(dirname "$0")/running; touch "$d/${0##*/}"' \
			'echo "${0##*/} start, concurrent=$KCIP_TEST_CONCURRENT, others:$(cd "$d" && ls | grep -vx "${0##*/}" | sed "s/^/ /" | tr -d "\n")"' \
			"sleep $2" \
			'echo "${0##*/} end, others:$(cd "$d" && ls | grep -vx "${0##*/}" | sed "s/^/ /" | tr -d "\n")"' \
			'rm -f "$d/${0##*/}"'
	} >"$par/$1"
	chmod +x "$par/$1"
}
par_test p_slow.sh 5
par_test p_excl.sh 0 '# kcip-test: exclusive (a test of the marker)
'
par_test p_fast1.sh 0
par_test p_fast2.sh 0
printf '#!/bin/bash\nsleep 600\n' >"$par/p_hang.sh"
chmod +x "$par/p_hang.sh"
# (KCIP_BUSY_MAX=100: all at once, however busy this machine is.  The
# timeout doubles for tests that run 3 at a time on 2 CPUs, say.)
ncpu=$(getconf _NPROCESSORS_ONLN)
tmo=$((8 * (1 + (3 - 1 + ncpu - 1) / ncpu)))
out=$(KCIP_JOBS=3 KCIP_BUSY_MAX=100 KCIP_NO_KMSG=1 KCIP_TEST_TIMEOUT=8 "$par/run_tests.sh" p_slow p_excl p_fast1 p_hang p_fast2 2>&1)
rc=$?
expect "parallel: exit status (p_hang timed out)" 1 "$rc"
expect "parallel: results in list order" "ok 1 p_slow.sh|ok 2 p_excl.sh|ok 3 p_fast1.sh|not ok 4 p_hang.sh # TIMEOUT $tmo seconds|ok 5 p_fast2.sh" \
	"$(grep -E '^(not )?ok ' <<<"$out" | paste -sd'|' -)"
# every line between a block's header and its result is that test's
blocks=$(awk '/^# selftests: kclusterip: / { t = $4; next } /^(not )?ok / { t = ""; next }
	/^# p_[a-z0-9]+\.sh (start|end),/ && (t == "" || index($0, "# " t " ") != 1) { print "in " t ": " $0 }' <<<"$out")
expect "parallel: each block whole" "" "$blocks"
expect_grep "parallel: tests ran together" '^# p_(slow|fast[12])\.sh (start|end), (concurrent=1, )?others: p_' "$out"
expect_grep "parallel: and knew it" '^# p_slow\.sh start, concurrent=1,' "$out"
expect_grep "parallel: the exclusive test ran alone" '^# p_excl\.sh start, concurrent=0, others:$' "$out"
expect_grep "parallel: ... and nothing joined it" '^# p_excl\.sh end, others:$' "$out"
expect_grep "parallel: says so" "^# KCIP_JOBS=3: up to 3 tests at a time, timeout $tmo s; then each alone: p_excl\\.sh\$" "$out"
expect_grep "parallel: totals" '^# Totals: pass:4 fail:1 xfail:0 xpass:0 skip:0 error:0$' "$out"
out=$(KCIP_JOBS=3 KCIP_BUSY_MAX=0 KCIP_NO_KMSG=1 "$par/run_tests.sh" p_fast1 p_fast2 2>&1)
expect "KCIP_BUSY_MAX=0: one at a time all the same" "" \
	"$(grep -E '^# p_fast[12]\.sh (start|end),' <<<"$out" | grep -v 'others:$')"
out=$(KCIP_JOBS=1 KCIP_NO_KMSG=1 "$par/run_tests.sh" p_slow p_excl p_fast1 2>&1)
expect_grep "KCIP_JOBS=1: one at a time" '^# p_slow\.sh start, concurrent=0, others:$' "$out"
expect "KCIP_JOBS=1: list order, marker or not" "ok 1 p_slow.sh|ok 2 p_excl.sh|ok 3 p_fast1.sh" \
	"$(grep -E '^(not )?ok ' <<<"$out" | paste -sd'|' -)"

# ---------------------------------------------------------------- the VM

if ((VM)); then
	run=$SELF_DIR/run.sh

	out=$("$run" --cmd 'echo streamed; exit 3' 2>&1)
	expect "--cmd exit status" 3 $?
	expect_grep "--cmd output" '^streamed$' "$out"

	t0=$SECONDS
	out=$("$run" --cmd 'echo c >/proc/sysrq-trigger' 2>&1)
	rc=$?
	if [[ $rc != 0 ]]; then ok "crash fails the run"; else bad "crash: exit status 0"; fi
	expect_grep "crash reported" 'kernel problem 1: Kernel panic - not syncing: sysrq triggered crash' "$out"
	if ((SECONDS - t0 < 120)); then
		ok "crash ends the run quickly ($((SECONDS - t0)) s)"
	else
		bad "crash took $((SECONDS - t0)) s"
	fi

	out=$(VM_TIMEOUT=100 "$run" --cmd 'sleep 1000' 2>&1)
	expect "hang: exit status" 124 $?
	expect_grep "hang: reported" 'out of time' "$out"

	# (no guest is up 2 s after qemu starts)
	t0=$SECONDS
	out=$(VM_BOOT_TIMEOUT=2 "$run" --cmd 'true' 2>&1)
	rc=$?
	if [[ $rc != 0 ]]; then ok "boot timeout fails the run"; else bad "boot timeout: exit status 0"; fi
	expect_grep "boot timeout: booted again" 'not up after 2 s \(VM_BOOT_TIMEOUT\): booting it again' "$out"
	expect_grep "boot timeout: reported" 'no verdict: the guest was not up after 2 s, twice' "$out"
	if ((SECONDS - t0 < 60)); then
		ok "boot timeouts end the run quickly ($((SECONDS - t0)) s)"
	else
		bad "boot timeouts took $((SECONDS - t0)) s"
	fi

	# The fake suite has to be where the guest sees it: in the repository.
	vmfake=$SELF_DIR/out/fake-suite
	rm -rf "$vmfake"
	make_fake_suite "$vmfake"
	out=$(VM_RUNNER=${vmfake#"$REPO"/}/run_tests.sh KCIP_TEST_TIMEOUT=5 "$run" 2>&1)
	rc=$?
	rm -rf "$vmfake"
	if [[ $rc != 0 ]]; then ok "VM run with failures fails"; else bad "VM run with failures: exit status 0"; fi
	# t_pass + module_unload pass (or module_unload skips if the module is
	# not built); t_fail, t_timeout, t_missing and the WARNING fail.
	expect_grep "VM run: final line" '^[12] passed, 4 failed, [12] skipped$' "$(tail -n1 <<<"$out")"
	expect_grep "VM run: WARNING counted" 'kernel problem 1 \(during t_fail\.sh\): WARNING: CPU: 0 PID: 1 at fake\.c:1' "$out"
	# (5 s alone; 10 s when it ran beside another test: run_tests.sh gives
	# tests that share the vCPUs a longer limit)
	expect_grep "VM run: KTAP streamed" '^not ok 4 t_timeout\.sh # TIMEOUT (5|10) seconds$' "$out"
fi

echo "selftest.sh: $nfail failure(s)"
((nfail == 0))

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run_tests.sh [TEST...]: the kclusterip selftest runner (kselftest style).
#
# Runs each test (TEST_PROGS of selftests/Makefile when none are named; a
# name may be given with or without .sh) in its own process, from this
# directory, under the per-test timeout of ./settings ("timeout=SECONDS",
# default 300), and prints KTAP:
#
#   TAP version 13
#   1..N
#   # selftests: kclusterip: NAME     the test's output, each line after "# "
#   ok 1 NAME                         exit 0
#   ok 2 NAME # SKIP                  exit 4
#   not ok 3 NAME # TIMEOUT 300 seconds
#   not ok 4 NAME # exit=1
#   # Totals: pass:2 fail:2 xfail:0 xpass:0 skip:1 error:0
#
# KCIP_JOBS=N (default 1) runs up to N tests at the same time.  Each test's
# output goes to a file of its own and its block is printed whole, in the
# order of the list: a block as soon as its test and all before it are done
# (the first unfinished test's output is streamed as it comes).  Tests that
# cannot share the machine with others declare it with a comment line
#
#   # kcip-test: exclusive
#
# and run one at a time, alone, after all the others (in list order; their
# blocks keep their place in the output).  With KCIP_JOBS=1 every test runs
# alone, in list order, marker or not.  A test sees KCIP_TEST_CONCURRENT=1
# when other tests may be running at the same time, 0 when it runs alone.
#
# Around each test it notes what the kernel logged (markers in /dev/kmsg),
# and reports kernel problem reports (WARNING, BUG, Oops, lockdep...) seen
# during the test, a kclusterip module still in use afterwards, and network
# namespaces left behind.  On a real machine a kernel problem fails the test;
# in the test VM (KCIP_VM=1) it is only reported here, because the VM host
# counts every problem on the console itself.  When tests run at the same
# time, a kernel problem is reported for (and on a real machine fails) every
# test that was running when it was logged, and the module's use count and
# the namespaces left behind are checked once they have all ended (each
# leftover namespace with the tests that were running when it was made).
#
# KCIP_TEST_TIMEOUT overrides the settings file; KCIP_NO_KMSG=1 writes no
# markers to /dev/kmsg (then kernel problems are not attributed to tests).
# KCIP_TIMES=FILE appends a line per test to FILE: name, start and end
# (seconds since the runner started), exit status, how busy the CPUs were
# meanwhile (percent of all of them) and how many processes were started
# meanwhile (both for the whole machine: with tests running at the same
# time, theirs count too).
#
# With KCIP_UNLOAD_CHECK=1 a last pseudo-test, module_unload, checks that
# kclusterip unloads cleanly once the tests are done.
#
# Runs as root on any machine with the module installed; nothing here
# assumes the VM.  Exit status: 0 if no test failed, 1 otherwise.

# All of the script in one compound command: bash parses it whole before
# running it, so editing this file during a run cannot derail that run.
{
set -u

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
SCAN=$DIR/vm/scan-console.sh
ksft_skip=4

# --------------------------------------------------------------- the list

test_progs() {
	local mk=$DIR/Makefile

	if [[ -f $mk ]]; then
		# "TEST_PROGS := a.sh b.sh \" with continuation lines; also +=.
		sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' "$mk" |
			sed -n 's/^[[:space:]]*TEST_PROGS[[:space:]]*[:+]\{0,1\}=//p' |
			tr -s '[:blank:]' '\n' | sed '/^$/d'
		return
	fi
	for f in "$DIR"/*.sh; do
		f=${f##*/}
		case $f in lib.sh | run_tests.sh | demo.sh) continue ;; esac
		[[ -x $DIR/$f ]] && echo "$f"
	done
}

TESTS=()
if (($#)); then
	for t in "$@"; do
		t=${t##*/}
		[[ $t = *.sh || -e $DIR/$t ]] || t=$t.sh
		TESTS+=("$t")
	done
else
	mapfile -t TESTS < <(test_progs)
fi
NTESTS=${#TESTS[@]}

TIMEOUT=300
if [[ -f $DIR/settings ]]; then
	t=$(sed -n 's/^[[:space:]]*timeout[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' "$DIR/settings" | tail -n1)
	[[ -n $t ]] && TIMEOUT=$t
fi
[[ -n ${KCIP_TEST_TIMEOUT-} ]] && TIMEOUT=$KCIP_TEST_TIMEOUT

UNLOAD_CHECK=${KCIP_UNLOAD_CHECK:-0}
IN_VM=${KCIP_VM:-0}

JOBS=${KCIP_JOBS:-1}
if [[ ! $JOBS =~ ^[0-9]+$ ]] || ((JOBS < 1)); then
	echo "run_tests.sh: KCIP_JOBS='$JOBS' is not a number of tests, using 1" >&2
	JOBS=1
fi
BUSY_MAX=${KCIP_BUSY_MAX:-75}
[[ $BUSY_MAX =~ ^[0-9]+$ ]] || BUSY_MAX=75
NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null || echo 1)
[[ $NCPU =~ ^[1-9][0-9]*$ ]] || NCPU=1
# Tests that share the machine take longer: more time for those that run
# together (x2 for 2 or 3 tests at a time on 2 CPUs, x3 for 4 or 5).
TIMEOUT_SHARED=$((TIMEOUT * (1 + (JOBS - 1 + NCPU - 1) / NCPU)))

# Tests that must run alone: a comment line "# kcip-test: ... exclusive ...".
EXCL_RE='^#[[:space:]]*kcip-test:(.*[[:space:]])?exclusive([[:space:]]|$)'
declare -A EXCLUSIVE=()
if ((JOBS > 1 && NTESTS > 1)); then
	files=()
	for t in "${TESTS[@]}"; do
		[[ -f $DIR/$t ]] && files+=("$DIR/$t")
	done
	if ((${#files[@]})); then
		while IFS= read -r f; do
			EXCLUSIVE[${f##*/}]=1
		done < <(grep -lE -- "$EXCL_RE" "${files[@]}" 2>/dev/null)
	fi
fi

# --------------------------------------------------------------- helpers

kmsg() {
	[[ ${KCIP_NO_KMSG-} != 1 && -w /dev/kmsg ]] && echo "kcip-selftest: $*" >/dev/kmsg 2>/dev/null
	return 0
}

# Kernel log lines from the last "kcip-selftest: begin NAME" on, up to its
# "kcip-selftest: end NAME" if that is there already.  Markers of tests that
# ran at the same time stay in: scan-console.sh names them.
dmesg_of_test() {
	local name=$1

	dmesg 2>/dev/null | awk -v begin="kcip-selftest: begin $name" -v end="kcip-selftest: end $name" '
		index($0, begin) && substr($0, index($0, begin) + length(begin)) == "" { n = 0; found = 1; done = 0; next }
		found && index($0, end) && substr($0, index($0, end) + length(end)) == "" { found = 0; done = 1 }
		!done { line[++n] = $0 }
		END { for (i = 1; i <= n; i++) print line[i] }'
}

mod_refcnt() {
	local r

	r=$(cat /sys/module/kclusterip/refcnt 2>/dev/null) || return 1
	echo "$r"
}

modules_list() {
	cut -d' ' -f1 /proc/modules 2>/dev/null | sort
}

# Taint flags that mean the kernel complained: B bad page (32), D died/oops
# (128), W warning (512), L soft lockup (16384).  O/E (out-of-tree,
# unsigned module) are expected and ignored.
BAD_TAINT=$((32 | 128 | 512 | 16384))
bad_taint() {
	local t

	t=$(cat /proc/sys/kernel/tainted 2>/dev/null) || t=0
	echo $((t & BAD_TAINT))
}

# "BUSY TOTAL FORKS": jiffies of all CPUs so far (idle and iowait are not
# busy), processes started since boot
cpu_times() {
	local user=0 nice=0 sys=0 idle=0 iowait=0 irq=0 softirq=0 steal=0 k v forks=0

	{
		read -r _ user nice sys idle iowait irq softirq steal _
		while read -r k v _; do
			[[ $k = processes ]] && forks=$v && break
		done
	} </proc/stat 2>/dev/null
	echo "$((user + nice + sys + irq + softirq + steal)) $((user + nice + sys + idle + iowait + irq + softirq + steal)) $forks"
}

netns_list() {
	ip netns list 2>/dev/null | awk '{ print $1 }' | sort
}

# new_lines BEFORE AFTER: the lines of AFTER that are not in BEFORE, on one
# line
new_lines() {
	awk 'NR == FNR { seen[$0] = 1; next } !seen[$0]' \
		<(echo "$1") <(echo "$2") 2>/dev/null | tr '\n' ' '
}

# Wait (up to 5 s: namespace teardown is asynchronous) for kclusterip to
# have no users; warn if it still has.  WHEN: "after NAME".
check_refcnt() {
	local when=$1 r

	if r=$(mod_refcnt) && ((r > 0)); then
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			sleep 0.5
			r=$(mod_refcnt) || break
			((r == 0)) && break
		done
		if [[ -n $r ]] && ((r > 0)); then
			echo "# Warning: kclusterip still has $r user(s) $when"
			lsmod | awk '$1 == "kclusterip" || NR == 1' | sed 's/^/#   /'
		fi
	fi
}

# --------------------------------------------------------------- one test

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kcip-run.XXXXXX") || exit 1
EVENTS=$WORK/events
mkfifo "$EVENTS" || exit 1

# run_test I SHARED TIMEOUT: run TESTS[I] (in the background: its own process),
# its output to $WORK/I.log, what this runner has to say about it to
# $WORK/I.diag, the verdict ("ok", "skip" or "fail", then the directive)
# to $WORK/I.res; then "I" to the events FIFO.  SHARED=1: other tests may
# run at the same time, so the checks of global state are left to the
# caller (namespaces before and after go to I.ns0, I.ns1).
run_test() {
	local i=$1 shared=$2 timeout=$3 name=${TESTS[$1]}
	local rc t0 elapsed ns_before ns_after left problems r verdict directive
	local mods_before mods_after taint_before taint_after pid cpu0

	exec >"$WORK/$i.diag" 2>&1
	run_test_body
	printf '%s\n%s\n' "$verdict" "$directive" >"$WORK/$i.res"
	: >"$WORK/$i.done"
	# A wake-up call for the runner (read-write: never blocks, even with
	# the runner gone).  Which tests are done, the .done files say.
	echo "$i" 1<>"$EVENTS"
}

times_line() {
	local b0 j0 f0 b1 j1 f1 busy=-

	read -r b0 j0 f0 <<<"$cpu0"
	read -r b1 j1 f1 <<<"$(cpu_times)"
	((j1 > j0)) && busy=$(((b1 - b0) * 100 / (j1 - j0)))
	printf '%s\t%d\t%d\t%d\t%s\t%d\n' "$name" "$t0" "$SECONDS" "$rc" "$busy" "$((f1 - f0))" >>"$KCIP_TIMES"
}

run_test_body() {
	verdict=fail directive=
	if [[ ! -f $DIR/$name ]]; then
		echo "# Warning: file $name is missing!"
		directive=missing
		return
	fi
	if [[ ! -x $DIR/$name ]]; then
		echo "# Warning: file $name is not executable"
		directive="not executable"
		return
	fi

	ns_before=$(netns_list)
	((shared)) && echo "$ns_before" >"$WORK/$i.ns0"
	mods_before=$(modules_list)
	taint_before=$(bad_taint)
	kmsg "begin $name"
	t0=$SECONDS
	cpu0=$(cpu_times)
	# timeout runs the test in a process group of its own (its pid) and
	# kills the whole group when time is up.
	(cd "$DIR" && KCIP_TEST_CONCURRENT=$shared exec timeout --kill-after=10 "$timeout" "./$name") \
		</dev/null >>"$WORK/$i.log" 2>&1 &
	pid=$!
	echo "$pid" >"$WORK/$i.pid"
	wait "$pid"
	rc=$?
	elapsed=$((SECONDS - t0))
	[[ -n ${KCIP_TIMES-} ]] && times_line
	# Servers the test left running would go on writing to its log.
	left=$(pgrep -g "$pid" 2>/dev/null | paste -sd, -)
	if [[ -n $left ]]; then
		left=$(ps -o pid=,args= -p "$left" 2>/dev/null | sed 's/^ *//' | paste -sd';' -)
		kill -TERM -- -"$pid" 2>/dev/null
		sleep 0.5
		kill -KILL -- -"$pid" 2>/dev/null
	fi
	[[ -n $left ]] && echo "# Warning: $name left processes running (killed): $left"
	kmsg "end $name"
	echo "# $name: exit status $rc after ${elapsed} s"

	# The kernel's side of the test.
	problems=
	if [[ -x $SCAN ]]; then
		problems=$(dmesg_of_test "$name" | "$SCAN" 2>/dev/null)
		if [[ -n $problems ]]; then
			echo "# kernel problem reports during $name:"
			sed 's/^/#   /' <<<"$problems"
		fi
	fi
	((shared)) || check_refcnt "after $name"
	taint_after=$(bad_taint)
	if ((taint_after & ~taint_before)); then
		if ((shared)); then
			echo "# Warning: the kernel got tainted while $name (and other tests) ran: /proc/sys/kernel/tainted $(cat /proc/sys/kernel/tainted)"
		else
			echo "# Warning: the kernel got tainted during $name: /proc/sys/kernel/tainted $(cat /proc/sys/kernel/tainted)"
		fi
		[[ -z $problems ]] && problems="kernel taint $taint_after"
	fi
	[[ -n $problems ]] && : >"$WORK/$i.problems"
	mods_after=$(modules_list)
	r=$(new_lines "$mods_before" "$mods_after")
	if [[ -n ${r// /} ]]; then
		if ((shared)); then
			echo "# modules loaded while $name (and other tests) ran: $r"
		else
			echo "# modules loaded during $name: $r"
		fi
	fi
	ns_after=$(netns_list)
	if ((shared)); then
		echo "$ns_after" >"$WORK/$i.ns1"
	else
		left=$(new_lines "$ns_before" "$ns_after")
		[[ -n ${left// /} ]] && echo "# Warning: $name left network namespaces behind: $left"
	fi

	if ((rc == 124 || rc == 137)); then
		directive="TIMEOUT $timeout seconds"
	elif [[ -n $problems && $IN_VM != 1 ]]; then
		directive="kernel problem"
	elif ((rc == 0)); then
		verdict=ok
	elif ((rc == ksft_skip)); then
		verdict=skip
	else
		directive="exit=$rc"
	fi
}

# --------------------------------------------------------------- running

pass=0 fail=0 skip=0 num=0

result() {
	local verdict=$1 name=$2 directive=${3-}

	num=$((num + 1))
	case $verdict in
	ok) pass=$((pass + 1)) ;;
	skip) skip=$((skip + 1)); verdict=ok directive="SKIP${directive:+ $directive}" ;;
	*) fail=$((fail + 1)); verdict="not ok" ;;
	esac
	echo "$verdict $num $name${directive:+ # $directive}"
}

# Per test: STATE 0 waiting, 1 running, 2 done; when it started and ended
# ($EPOCHREALTIME), its worker's pid.
STATE=() T_START=() T_END=() WORKER=()
for ((i = 0; i < NTESTS; i++)); do
	STATE[i]=0
done
RUNNING=0
SHARED_Q=() ALONE_Q=()
for ((i = 0; i < NTESTS; i++)); do
	if ((JOBS > 1)) && [[ -z ${EXCLUSIVE[${TESTS[i]}]-} ]]; then
		SHARED_Q+=("$i")
	else
		ALONE_Q+=("$i")
	fi
done
# One test that may share has nobody to share with.
SHARE=1
((${#SHARED_Q[@]} < 2)) && SHARE=0
NEXT_SHARED=0 NEXT_ALONE=0 BATCH_DONE=0 NS_BATCH=

launch() {	# launch I SHARED
	local i=$1 timeout=$TIMEOUT

	: >"$WORK/$i.log"
	STATE[i]=1
	T_START[i]=$EPOCHREALTIME
	RUNNING=$((RUNNING + 1))
	(
		trap - EXIT INT TERM
		[[ -n $HFD ]] && exec {HFD}<&-
		exec {EV}<&-
		((${2})) && timeout=$TIMEOUT_SHARED
		run_test "$i" "$2" "$timeout"
	) &
	WORKER[i]=$!
	LAST_LOOK=$EPOCHSECONDS
	cpu_sample
	BUSY_REF=("${CPU_NOW[@]}")
}

# CPU_NOW: busy and total jiffies of all CPUs now (no fork: every second)
CPU_NOW=(0 0)
cpu_sample() {
	local user nice sys idle iowait irq softirq steal

	read -r _ user nice sys idle iowait irq softirq steal _ </proc/stat 2>/dev/null || return
	CPU_NOW=($((user + nice + sys + irq + softirq + steal)) $((user + nice + sys + idle + iowait + irq + softirq + steal)))
}

# room: may one more test start next to those running?  Looked at every
# LOOK_GAP seconds (and as many after a start): yes if fewer than JOBS run
# and the CPUs were less than BUSY_MAX percent busy meanwhile.  Tests that
# wait leave room; tests that compute do not: one more would only slow
# them down (and their timing checks with them).  BUSY_MAX=100: as many
# as JOBS, at once.
LOOK_GAP=10 LAST_LOOK=0 BUSY_REF=(0 0)
room() {
	local busy=100

	((RUNNING == 0)) && return 0
	((BUSY_MAX >= 100)) && { ((RUNNING < JOBS)); return; }
	((EPOCHSECONDS - LAST_LOOK >= LOOK_GAP)) || return 1
	cpu_sample
	((CPU_NOW[1] > BUSY_REF[1])) &&
		busy=$(((CPU_NOW[0] - BUSY_REF[0]) * 100 / (CPU_NOW[1] - BUSY_REF[1])))
	LAST_LOOK=$EPOCHSECONDS
	BUSY_REF=("${CPU_NOW[@]}")
	((RUNNING < JOBS && busy < BUSY_MAX))
}

# Start what may start now: the tests that may share, up to JOBS at a time
# (one more when there is room: see room); once they are all done, the
# others one by one.
schedule() {
	if ((NEXT_SHARED < ${#SHARED_Q[@]})) && room; then
		launch "${SHARED_Q[NEXT_SHARED]}" "$SHARE"
		NEXT_SHARED=$((NEXT_SHARED + 1))
	fi
	((RUNNING == 0 && NEXT_SHARED == ${#SHARED_Q[@]})) || return 0
	if ((BATCH_DONE == 0)); then
		BATCH_DONE=1
		if ((SHARE)); then
			print_blocks
			batch_check
		fi
	fi
	if ((NEXT_ALONE < ${#ALONE_Q[@]})); then
		launch "${ALONE_Q[NEXT_ALONE]}" 0
		NEXT_ALONE=$((NEXT_ALONE + 1))
	fi
}

# The checks of global state left out for tests that ran together.
batch_check() {
	local ns_now left ns who i

	check_refcnt "after the tests that ran together"
	ns_now=$(netns_list)
	left=$(new_lines "$NS_BATCH" "$ns_now")
	for ns in $left; do
		who=
		for i in "${SHARED_Q[@]}"; do
			[[ -f $WORK/$i.ns0 && -f $WORK/$i.ns1 ]] || continue
			if grep -qxF -- "$ns" "$WORK/$i.ns1" && ! grep -qxF -- "$ns" "$WORK/$i.ns0"; then
				who+=" ${TESTS[i]}"
			fi
		done
		echo "# Warning: network namespace $ns left behind by one of:${who:- (unknown)}"
	done
}

# Note the tests that are done.
reap() {
	local i

	for ((i = 0; i < NTESTS; i++)); do
		if ((STATE[i] != 1)) || [[ ! -e $WORK/$i.done ]]; then
			continue
		fi
		wait "${WORKER[i]}" 2>/dev/null
		STATE[i]=2
		T_END[i]=$EPOCHREALTIME
		RUNNING=$((RUNNING - 1))
	done
}

# fless A B: A < B, for $EPOCHREALTIME values
fless() {
	local a=${1/[.,]/} b=${2/[.,]/}
	((10#$a < 10#$b))
}

# The tests that ran at some time while test I ran.
alongside() {
	local i=$1 j list=

	for ((j = 0; j < NTESTS; j++)); do
		((j == i || STATE[j] == 0)) && continue
		fless "${T_START[j]}" "${T_END[i]}" || continue
		((STATE[j] == 1)) || fless "${T_START[i]}" "${T_END[j]}" || continue
		list+=" ${TESTS[j]}"
	done
	echo "${list# }"
}

# Print the output of the first test not printed yet, as far as there is
# some; its whole block and the next ones' once they are done.
HFD='' HFD_OF='' PARTIAL=''
PRINTED=0
copy_lines() {
	local line

	while IFS= read -r -u "$HFD" line; do
		printf '# %s\n' "$PARTIAL$line"
		PARTIAL=
	done
	PARTIAL+=$line
}
print_blocks() {
	local i verdict directive others

	while ((PRINTED < NTESTS)); do
		i=$PRINTED
		((STATE[i] == 0)) && return
		if [[ $HFD_OF != "$i" ]]; then
			echo "# selftests: kclusterip: ${TESTS[i]}"
			exec {HFD}<"$WORK/$i.log"
			HFD_OF=$i PARTIAL=
		fi
		copy_lines
		((STATE[i] == 2)) || return
		[[ -n $PARTIAL ]] && printf '# %s\n' "$PARTIAL"
		exec {HFD}<&-
		HFD='' HFD_OF='' PARTIAL=''
		cat "$WORK/$i.diag" 2>/dev/null
		if [[ -f $WORK/$i.problems ]]; then
			others=$(alongside "$i")
			[[ -n $others ]] &&
				echo "# (tests running at the same time as ${TESTS[i]}, any of which may have caused that: $others)"
		fi
		{ read -r verdict; read -r directive; } <"$WORK/$i.res" 2>/dev/null ||
			verdict=fail directive="no verdict"
		result "$verdict" "${TESTS[i]}" "$directive"
		rm -f "$WORK/$i".*
		PRINTED=$((PRINTED + 1))
	done
}

# shellcheck disable=SC2317 # called by the traps
stop_all() {
	local i p

	for ((i = 0; i < NTESTS; i++)); do
		((${STATE[i]:-0} == 1)) || continue
		p=$(cat "$WORK/$i.pid" 2>/dev/null) && kill -TERM -- -"$p" 2>/dev/null
		kill "${WORKER[i]}" 2>/dev/null
	done
}
trap 'rm -rf "$WORK"' EXIT
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM

unload_check() {
	local name=module_unload r

	echo "# selftests: kclusterip: $name"
	if [[ ! -d /sys/module/kclusterip ]]; then
		if ! modprobe -q kclusterip 2>/dev/null; then
			echo "# kclusterip is not installed"
			result skip "$name"
			return
		fi
	fi
	kmsg "begin $name"
	for _ in $(seq 60); do
		r=$(mod_refcnt) || break
		((r == 0)) && break
		sleep 0.5
	done
	if r=$(mod_refcnt) && ((r > 0)); then
		echo "# kclusterip still has $r user(s):"
		lsmod | sed 's/^/#   /'
		kmsg "end $name"
		result fail "$name" "module in use"
		return
	fi
	rmmod kclusterip 2>&1 | sed 's/^/# /'
	kmsg "end $name"
	if [[ -d /sys/module/kclusterip ]]; then
		result fail "$name" "rmmod failed"
	else
		echo "# kclusterip unloaded"
		result ok "$name"
	fi
}

echo "TAP version 13"
echo "1..$((NTESTS + (UNLOAD_CHECK == 1)))"
if ((JOBS > 1 && NTESTS > 1)); then
	busy=
	((BUSY_MAX < 100)) && busy=" while the $NCPU CPUs are less than $BUSY_MAX% busy"
	echo "# KCIP_JOBS=$JOBS: up to $JOBS tests at a time$busy, timeout $TIMEOUT_SHARED s${ALONE_Q[0]+; then each alone:$(for i in "${ALONE_Q[@]}"; do printf ' %s' "${TESTS[i]}"; done)}"
fi

exec {EV}<>"$EVENTS"
if ((SHARE)); then
	# The first "ip netns add" makes /run/netns a shared mount point; two
	# of them at the same time can stack two mounts there.  Have it done.
	if ! mountpoint -q /run/netns 2>/dev/null; then
		ip netns add "kcip-run-$$" 2>/dev/null && ip netns del "kcip-run-$$" 2>/dev/null
	fi
	NS_BATCH=$(netns_list)
fi
while ((PRINTED < NTESTS)); do
	schedule
	print_blocks
	# Wake up when a test ends, or after a second to pass output on.
	# (What the FIFO says does not matter: a read that times out half way
	# through a line would lose it.)
	read -r -t 1 -u "$EV" _
	while read -r -t 0 -u "$EV"; do
		read -r -t 1 -u "$EV" _ || break
	done
	reap
	print_blocks
done
exec {EV}<&-
((UNLOAD_CHECK == 1)) && unload_check

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
((fail == 0))
exit
}

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
# Around each test it notes what the kernel logged (markers in /dev/kmsg),
# and reports kernel problem reports (WARNING, BUG, Oops, lockdep...) seen
# during the test, a kclusterip module still in use afterwards, and network
# namespaces left behind.  On a real machine a kernel problem fails the test;
# in the test VM (KCIP_VM=1) it is only reported here, because the VM host
# counts every problem on the console itself.
#
# KCIP_TEST_TIMEOUT overrides the settings file; KCIP_NO_KMSG=1 writes no
# markers to /dev/kmsg (then kernel problems are not attributed to tests).
#
# With KCIP_UNLOAD_CHECK=1 a last pseudo-test, module_unload, checks that
# kclusterip unloads cleanly once the tests are done.
#
# Runs as root on any machine with the module installed; nothing here
# assumes the VM.  Exit status: 0 if no test failed, 1 otherwise.

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

TIMEOUT=300
if [[ -f $DIR/settings ]]; then
	t=$(sed -n 's/^[[:space:]]*timeout[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' "$DIR/settings" | tail -n1)
	[[ -n $t ]] && TIMEOUT=$t
fi
[[ -n ${KCIP_TEST_TIMEOUT-} ]] && TIMEOUT=$KCIP_TEST_TIMEOUT

UNLOAD_CHECK=${KCIP_UNLOAD_CHECK:-0}
IN_VM=${KCIP_VM:-0}

# --------------------------------------------------------------- helpers

kmsg() {
	[[ ${KCIP_NO_KMSG-} != 1 && -w /dev/kmsg ]] && echo "kcip-selftest: $*" >/dev/kmsg 2>/dev/null
	return 0
}

# Kernel log lines since the last "kcip-selftest: begin NAME".
dmesg_since_begin() {
	local name=$1

	dmesg 2>/dev/null | awk -v mark="kcip-selftest: begin $name" '
		index($0, mark) { n = 0; found = 1; next }
		{ line[++n] = $0 }
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

netns_list() {
	ip netns list 2>/dev/null | awk '{ print $1 }' | sort
}

# --------------------------------------------------------------- running

echo "TAP version 13"
echo "1..$((${#TESTS[@]} + (UNLOAD_CHECK == 1)))"

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

run_one() {
	local name=$1 rc t0 elapsed ns_before ns_after left problems r
	local mods_before mods_after taint_before taint_after out sed_pid pid

	echo "# selftests: kclusterip: $name"
	if [[ ! -f $DIR/$name ]]; then
		echo "# Warning: file $name is missing!"
		result fail "$name" "missing"
		return
	fi
	if [[ ! -x $DIR/$name ]]; then
		echo "# Warning: file $name is not executable"
		result fail "$name" "not executable"
		return
	fi

	ns_before=$(netns_list)
	mods_before=$(modules_list)
	taint_before=$(bad_taint)
	kmsg "begin $name"
	t0=$SECONDS
	# timeout runs the test in a process group of its own (its pid) and
	# kills the whole group when time is up.
	exec {out}> >(sed -u 's/^/# /')
	sed_pid=$!
	(cd "$DIR" && exec timeout --kill-after=10 "$TIMEOUT" "./$name") </dev/null >&"$out" 2>&1 &
	pid=$!
	wait "$pid"
	rc=$?
	elapsed=$((SECONDS - t0))
	# Servers the test left running would hold the output open forever.
	left=$(pgrep -g "$pid" 2>/dev/null | paste -sd, -)
	if [[ -n $left ]]; then
		left=$(ps -o pid=,args= -p "$left" 2>/dev/null | sed 's/^ *//' | paste -sd';' -)
		kill -TERM -- -"$pid" 2>/dev/null
		sleep 0.5
		kill -KILL -- -"$pid" 2>/dev/null
	fi
	exec {out}>&-
	for _ in $(seq 50); do
		kill -0 "$sed_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$sed_pid" 2>/dev/null
	[[ -n $left ]] && echo "# Warning: $name left processes running (killed): $left"
	kmsg "end $name"
	echo "# $name: exit status $rc after ${elapsed} s"

	# The kernel's side of the test.
	problems=
	if [[ -x $SCAN ]]; then
		problems=$(dmesg_since_begin "$name" | "$SCAN" 2>/dev/null)
		if [[ -n $problems ]]; then
			echo "# kernel problem reports during $name:"
			sed 's/^/#   /' <<<"$problems"
		fi
	fi
	if r=$(mod_refcnt) && ((r > 0)); then
		# Namespace teardown is asynchronous: give it a moment.
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			sleep 0.5
			r=$(mod_refcnt) || break
			((r == 0)) && break
		done
		if [[ -n $r ]] && ((r > 0)); then
			echo "# Warning: kclusterip still has $r user(s) after $name"
			lsmod | awk '$1 == "kclusterip" || NR == 1' | sed 's/^/#   /'
		fi
	fi
	taint_after=$(bad_taint)
	if ((taint_after & ~taint_before)); then
		echo "# Warning: the kernel got tainted during $name: /proc/sys/kernel/tainted $(cat /proc/sys/kernel/tainted)"
		[[ -z $problems ]] && problems="kernel taint $taint_after"
	fi
	mods_after=$(modules_list)
	r=$(awk 'NR == FNR { seen[$0] = 1; next } !seen[$0]' \
		<(echo "$mods_before") <(echo "$mods_after") 2>/dev/null | tr '\n' ' ')
	[[ -n ${r// /} ]] && echo "# modules loaded during $name: $r"
	ns_after=$(netns_list)
	left=$(awk 'NR == FNR { seen[$0] = 1; next } !seen[$0]' \
		<(echo "$ns_before") <(echo "$ns_after") 2>/dev/null | tr '\n' ' ')
	[[ -n ${left// /} ]] && echo "# Warning: $name left network namespaces behind: $left"

	if ((rc == 124 || rc == 137)); then
		result fail "$name" "TIMEOUT $TIMEOUT seconds"
	elif [[ -n $problems && $IN_VM != 1 ]]; then
		result fail "$name" "kernel problem"
	elif ((rc == 0)); then
		result ok "$name"
	elif ((rc == ksft_skip)); then
		result skip "$name"
	else
		result fail "$name" "exit=$rc"
	fi
}

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

for t in ${TESTS[@]+"${TESTS[@]}"}; do
	run_one "$t"
done
((UNLOAD_CHECK == 1)) && unload_check

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
((fail == 0))

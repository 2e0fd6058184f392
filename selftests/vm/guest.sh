#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stage 2 of the kclusterip test VM: PID 1 after switch_root, running the
# host's own bash on the host's root (read-only 9p + tmpfs overlay).
#
# Installs the freshly built module and kcipctl into the overlay, then runs
# either the selftests (selftests/run_tests.sh) or the command given to
# run.sh --cmd.  Everything it prints goes to the second serial port, which
# the host streams; the kernel keeps the first one (the console) to itself.
# The verdict is the last line, "kcip-vm: exit STATUS", also written to the
# results share.  Then the VM reboots, which ends QEMU (-no-reboot).

# One compound command, parsed whole before it runs (see run.sh).
{
RESULTS=/run/kcip-vm
PARAMS=$RESULTS/params

finish() {
	local rc=$1

	echo "$rc" >"$RESULTS/rc.tmp" && mv "$RESULTS/rc.tmp" "$RESULTS/rc"
	echo "kcip-vm: exit $rc"
	sync
	echo b >/proc/sysrq-trigger
	sleep 60
}

# Guest output on ttyS1 if it exists, else on the console.
if [[ -c /dev/ttyS1 ]] && (: >/dev/ttyS1) 2>/dev/null; then
	exec </dev/null >/dev/ttyS1 2>&1
	stty raw -echo </dev/ttyS1 2>/dev/null
else
	exec </dev/null >/dev/console 2>&1
fi

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LC_ALL=C.UTF-8 SHELL=/bin/bash
export KCIP_VM=1 KCIP_VM_RESULTS=$RESULTS

MODE=test DEBUG=0 REPO='' CMD='' TESTS=() VM_TIMEOUT=1200 RUNNER=''
# shellcheck source=/dev/null
source "$PARAMS" || { echo "# kcip-vm: cannot read $PARAMS"; finish 2; }
[[ $DEBUG = 1 ]] && { PS4='+ [$EPOCHREALTIME] '; set -x; }

echo "# kcip-vm: guest up after $(cut -d' ' -f1 /proc/uptime) s, kernel $(uname -r)"

hostname kcip-vm
echo /sbin/modprobe >/proc/sys/kernel/modprobe
# Keep a kernel problem visible and countable instead of ending the run.
sysctl -qw kernel.panic_on_oops=0 kernel.panic_on_warn=0 2>/dev/null
ip link set lo up

install_module() {
	local kver moddir ko=${KCIP_KO:-$REPO/kmod/kclusterip.ko} t0 vermagic f

	[[ -f $ko ]] || { echo "# kcip-vm: $ko not built, not installed"; return 0; }
	kver=$(uname -r)
	moddir=/lib/modules/$kver
	vermagic=$(modinfo -F vermagic "$ko" 2>/dev/null)
	if [[ ${vermagic%% *} != "$kver" ]]; then
		echo "# kcip-vm: warning: $ko is built for '${vermagic%% *}', guest runs '$kver'"
	fi
	# Only the fresh build may answer to "kclusterip" (not a DKMS copy on
	# the host, say); deleting in the overlay leaves the host alone.
	# (Globs, not find: walking the module tree over 9p takes seconds.)
	rm -f "$moddir"/{updates,extra,updates/dkms,kernel/extra}/kclusterip.ko*
	mkdir -p "$moddir/updates"
	if [[ -f $RESULTS/modules/kclusterip.ko ]]; then
		# run.sh ran depmod on the host for this very file.
		cp "$RESULTS"/modules/modules.* "$moddir/" || return 1
		install -m 0644 "$RESULTS/modules/kclusterip.ko" "$moddir/updates/kclusterip.ko" || return 1
		echo "# kcip-vm: installed kclusterip.ko"
		return 0
	fi
	install -m 0644 "$ko" "$moddir/updates/kclusterip.ko" || return 1
	t0=$SECONDS
	depmod -a "$kver" || return 1
	echo "# kcip-vm: installed kclusterip.ko (depmod took $((SECONDS - t0)) s)"
}

install_tool() {
	local tool=$REPO/userspace/kcipctl

	[[ -x $tool ]] || { echo "# kcip-vm: $tool not built, not installed"; return 0; }
	install -m 0755 "$tool" /usr/local/sbin/kcipctl &&
		echo "# kcip-vm: installed kcipctl"
}

install_module || { echo "# kcip-vm: installing the module failed"; finish 2; }
install_tool || { echo "# kcip-vm: installing kcipctl failed"; finish 2; }

# kmemleak, on a kernel that has it: scanned twice (an object freed late
# is not reported); the kernel logs "N new suspected memory leaks" on the
# console, which run.sh counts as a finding.  KCIP_KMEMLEAK=1 (make
# check-debug) makes a kernel without it an error.
kmemleak_report() {
	local f=/sys/kernel/debug/kmemleak n

	[[ -d /sys/kernel/debug/tracing || -e $f ]] ||
		mount -t debugfs none /sys/kernel/debug 2>/dev/null
	if [[ ! -w $f ]]; then
		[[ ${KCIP_KMEMLEAK-} = 1 ]] || return 0
		echo "# kmemleak: not available in this kernel"
		return 1
	fi
	echo scan >"$f"; sleep 5; echo scan >"$f"
	n=$(grep -c '^unreferenced object' "$f")
	echo "# kmemleak: scanned at the end: $n unreferenced object(s)"
	if ((n > 0)); then
		echo "# kmemleak report:"
		sed 's/^/#   /' "$f" | head -n 400
		return 1
	fi
	return 0
}

# "BUSY TOTAL" jiffies of all CPUs from /proc/stat (idle and iowait are not
# busy), and a "#" line saying how busy the vCPUs were since BEFORE: a
# guide for KCIP_JOBS (near 100%, more tests at a time cannot help).
cpu_times() {
	local user nice sys idle iowait irq softirq steal rest

	read -r _ user nice sys idle iowait irq softirq steal rest </proc/stat
	echo "$((user + nice + sys + irq + softirq + steal)) $((user + nice + sys + idle + iowait + irq + softirq + steal))"
}
# mem_watch FILE: every 2 s, the least MemAvailable (kB) seen so far to FILE
mem_watch() {
	local k v min=

	while :; do
		while read -r k v _; do
			[[ $k = MemAvailable: ]] && break
		done </proc/meminfo
		if [[ -z $min ]] || ((v < min)); then
			min=$v
			echo "$min" >"$1"
		fi
		sleep 2
	done
}
cpu_report() {
	local b0 t0 b1 t1 k v total=0 min=

	read -r b0 t0 <<<"$1"
	read -r b1 t1 <<<"$(cpu_times)"
	((t1 > t0)) || return 0
	while read -r k v _; do
		[[ $k = MemTotal: ]] && total=$v && break
	done </proc/meminfo
	[[ -s $2 ]] && read -r min <"$2"
	echo "# kcip-vm: the vCPUs were $(((b1 - b0) * 100 / (t1 - t0)))% busy during the tests ($(nproc) vCPUs, KCIP_JOBS=${KCIP_JOBS:-1}); memory available: at least $((${min:-0} / 1024)) of $((total / 1024)) MB"
}

# Stop the work a little before the host's VM_TIMEOUT would kill the VM, so
# that a hang still ends with the kernel's view of it (blocked tasks and
# CPU backtraces on the console) and a verdict.
deadline=$((VM_TIMEOUT - 60 - SECONDS))
((deadline < 30)) && deadline=30

cd "$REPO" || finish 2
case $MODE in
cmd)
	timeout -k 10 "$deadline" bash -c "$CMD"
	rc=$?
	;;
test)
	cpu_before=$(cpu_times)
	mem_watch /run/kcip-mem-min &
	mem_pid=$!
	# per-test times for the host: $OUT/share/times (run_tests.sh)
	KCIP_UNLOAD_CHECK=1 KCIP_TIMES=${KCIP_TIMES:-$RESULTS/times} \
		timeout -k 10 "$deadline" "${RUNNER:-selftests/run_tests.sh}" ${TESTS[@]+"${TESTS[@]}"}
	rc=$?
	kill "$mem_pid" 2>/dev/null
	cpu_report "$cpu_before" /run/kcip-mem-min
	;;
*)
	echo "# kcip-vm: unknown mode '$MODE'"
	rc=2
	;;
esac
if ((rc == 124 || rc == 137)); then
	echo "# kcip-vm: out of time after $deadline s (VM_TIMEOUT=$VM_TIMEOUT): blocked tasks and CPUs are on the console"
	echo w >/proc/sysrq-trigger
	echo l >/proc/sysrq-trigger
	sleep 2
	rc=124
fi
if [[ $MODE = test ]] && ! kmemleak_report && ((rc == 0)); then
	rc=1
fi
finish "$rc"
}

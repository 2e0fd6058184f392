#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a throw-away QEMU guest on the host's own kernel image and root
# filesystem and run the kclusterip selftests (or one command) in it.
#
#   selftests/vm/run.sh [--debug] [TEST...]       run selftests/run_tests.sh
#   selftests/vm/run.sh [--debug] --cmd 'CMD'     run CMD (bash -c) instead
#   selftests/vm/run.sh --print-kver              print the guest kernel release
#   selftests/vm/run.sh --scan FILE               scan a console log, like a run does
#
# The guest mounts the host's / read-only over virtio-9p with a tmpfs overlay
# on top, so it runs the host's iproute2, nft, conntrack, socat... and sees
# the repository at the same path.  It installs kmod/kclusterip.ko and
# userspace/kcipctl (if built) into the overlay, so `modprobe kclusterip` and
# `kcipctl` work there.  Nothing is loaded into the host's kernel.
#
# The kernel console goes to console.log; the guest's output (KTAP, or CMD's
# output) to the second serial port, streamed here live.  The run fails if
# the console shows a kernel problem (WARNING, BUG, Oops, lockdep, RCU stall,
# KASAN, UBSAN, kmemleak, panic...): each one counts as one more failed test.
# The last line printed in test mode is "N passed, N failed, N skipped".
# Exit status: 0 when everything passed; CMD's status with --cmd (1 if it
# passed but the kernel complained); non-zero on any failure.
#
# Environment:
#   KVER        guest kernel release (default: the newest /lib/modules/KVER
#               that has /boot/vmlinuz-KVER)
#   KERNEL      kernel image (default /boot/vmlinuz-$KVER)
#   VM_MODDIR   its module tree (default /lib/modules/$KVER): for a kernel
#               built here, the modules_install output (make check-debug)
#   KCIP_KO     the kclusterip.ko to install (default kmod/kclusterip.ko)
#   VM_TIMEOUT  seconds for the whole run (default 2700)
#   VM_BOOT_TIMEOUT  seconds until the guest must be up (default 900); a
#               guest that is not is booted once more
#   VM_MEM      guest memory (default 2G); VM_SMP vCPUs (default 2)
#   VM_ACCEL    kvm or tcg (default: kvm when /dev/kvm is usable, else tcg)
#   VM_CPU      QEMU -cpu model (default max with kvm, qemu64,+rdrand with
#               tcg: under TCG it ran fork/exec-heavy shell work faster than
#               "max" in most measurements here; rdrand seeds the kernel's
#               RNG at boot, so getrandom() never blocks)
#   VM_ICOUNT   QEMU -icount options, e.g. "shift=0,sleep=off": guest time
#               counts instructions, for repeatable benchmarks (one TCG
#               thread and one vCPU: much slower; with sleep=off the guest's
#               clock jumps while it waits for the host, so give it a large
#               VM_TIMEOUT and bound the run from outside)
#   VM_QEMU_ARGS  more QEMU arguments, split at blanks
#   VM_OUT      directory for console.log and output.log (default: a new
#               /tmp/kcip-vm.XXXXXX)
#   VM_CMDLINE  extra kernel command line
#   VM_SLUB_DEBUG  slub_debug= value (default FZPU; empty to turn it off)
#   VM_RUNNER   the in-guest test runner, relative to the repository
#               (default selftests/run_tests.sh; selftest.sh uses a fake one)
#   KCIP_JOBS   tests run_tests.sh runs at the same time in the guest
#               (default 2 here, one per vCPU; a real node's default is 1);
#               tests marked "# kcip-test: exclusive" run alone all the same
#   KCIP_*      passed on to the guest (KCIP_TEST_TIMEOUT=60, say)

set -euo pipefail

# All of the script in one compound command: bash parses it whole before
# running it, so editing this file during a run cannot derail that run.
{
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SELF_DIR/../.." && pwd -P)

usage() {
	awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
	exit "${1:-0}"
}

die() {
	echo "kcip-vm: $*" >&2
	exit 2
}

MODE='test'
DEBUG=0
CMD=
TESTS=()
while (($#)); do
	case $1 in
	--debug) DEBUG=1 ;;
	--cmd)
		(($# >= 2)) || die "--cmd needs an argument"
		MODE=cmd CMD=$2
		shift
		;;
	--cmd=*) MODE=cmd CMD=${1#--cmd=} ;;
	--print-kver) MODE=print-kver ;;
	--scan)
		(($# >= 2)) || die "--scan needs a file"
		exec "$SELF_DIR/scan-console.sh" "$2"
		;;
	-h | --help) usage 0 ;;
	--) shift; TESTS+=("$@"); break ;;
	-*) echo "kcip-vm: unknown option $1" >&2; usage 2 >&2 ;;
	*) TESTS+=("$1") ;;
	esac
	shift
done

# ---------------------------------------------------------------- kernel

find_kver() {
	local d k best=

	for d in /lib/modules/*/; do
		k=$(basename "$d")
		[[ -f /boot/vmlinuz-$k ]] || continue
		if [[ -z $best ]] || [[ $(printf '%s\n%s\n' "$best" "$k" | sort -V | tail -n1) = "$k" ]]; then
			best=$k
		fi
	done
	[[ -n $best ]] || return 1
	echo "$best"
}

# The release a bzImage announces (struct setup_header.kernel_version).
image_kver() {
	local off

	off=$(od -An -tu2 -j $((0x20E)) -N2 "$1" 2>/dev/null | tr -d ' ') || return 1
	[[ -n $off ]] || return 1
	dd if="$1" bs=1 skip=$((off + 0x200)) count=256 2>/dev/null |
		tr '\0' '\n' | head -n1 | cut -d' ' -f1
}

if [[ -z ${KVER-} && -n ${KERNEL-} ]]; then
	KVER=$(image_kver "$KERNEL") || true
	[[ -n $KVER ]] || die "cannot tell the release of $KERNEL: set KVER"
fi
if [[ -z ${KVER-} ]]; then
	KVER=$(find_kver) || die "no kernel: need /lib/modules/KVER and /boot/vmlinuz-KVER (install linux-image-amd64, or set KVER/KERNEL)"
fi
if [[ $MODE = print-kver ]]; then
	echo "$KVER"
	exit 0
fi
KERNEL=${KERNEL:-/boot/vmlinuz-$KVER}
MODDIR=${VM_MODDIR:-/lib/modules/$KVER}
[[ -r $KERNEL ]] || die "cannot read the kernel image $KERNEL (as root? Debian's /boot/vmlinuz-* is mode 0600)"

for tool in qemu-system-x86_64 busybox timeout; do
	command -v "$tool" >/dev/null ||
		die "$tool not found: run selftests/vm/deps.sh (as root) to install what is missing"
done
BUSYBOX=$(command -v busybox)
! command -v readelf >/dev/null || ! readelf -l "$BUSYBOX" | grep -q INTERP ||
	die "$BUSYBOX is dynamically linked: install busybox-static"

# -------------------------------------------------------------- initramfs

# Modules the initramfs loads before it can mount the root (when they are
# modules at all: a kernel with them built in needs none).
INIT_MODULES=(virtio_pci 9pnet_virtio 9p overlay)

# Print the .ko paths (relative to MODDIR) that load NAME, dependencies first.
declare -A MOD_SEEN=()
mod_order() {
	local name=$1 line path deps dep

	line=$(grep -E "(^|/)${name//_/[_-]}\.ko(\.[a-z]+)?:" "$MODDIR/modules.dep" || true)
	if [[ -z $line ]]; then
		if grep -qE "(^|/)${name//_/[_-]}\.ko\$" "$MODDIR/modules.builtin" 2>/dev/null; then
			return 0
		fi
		die "module $name is neither in $MODDIR/modules.dep nor built in"
	fi
	path=${line%%:*}
	deps=${line#*:}
	[[ -z ${MOD_SEEN[$path]-} ]] || return 0
	# modules.dep lists dependencies so that the last one loads first.
	local -a rev=()
	for dep in $deps; do rev=("$dep" "${rev[@]}"); done
	for dep in "${rev[@]}"; do
		dep=$(basename "$dep")
		mod_order "${dep%%.ko*}"
	done
	MOD_SEEN[$path]=1
	echo "$path"
}

build_initramfs() {
	local out=$1 stage path ko

	stage=$(mktemp -d "${out%/*}/stage.XXXXXX")
	mkdir -p "$stage"/{bin,etc,lib/modules-init}
	cp "$BUSYBOX" "$stage/bin/busybox"
	cp "$SELF_DIR/initramfs/init" "$stage/init"
	chmod 0755 "$stage/init" "$stage/bin/busybox"
	: >"$stage/etc/modules-load"
	if [[ -f $MODDIR/modules.dep ]]; then
		for name in "${INIT_MODULES[@]}"; do
			mod_order "$name"
		done >"$stage/modules.list"
		while read -r path; do
			ko=$(basename "$path")
			case $ko in
			*.ko) cp "$MODDIR/$path" "$stage/lib/modules-init/$ko" ;;
			*.ko.xz) xz -dc "$MODDIR/$path" >"$stage/lib/modules-init/${ko%.xz}" ;;
			*.ko.zst) zstd -qdc "$MODDIR/$path" >"$stage/lib/modules-init/${ko%.zst}" ;;
			*.ko.gz) gzip -dc "$MODDIR/$path" >"$stage/lib/modules-init/${ko%.gz}" ;;
			*) die "unknown module file $path" ;;
			esac
			echo "${ko%.ko*}.ko" >>"$stage/etc/modules-load"
		done <"$stage/modules.list"
		rm "$stage/modules.list"
	fi
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		"$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) >"$out.tmp.$$"
	mv -f "$out.tmp.$$" "$out"
	rm -rf "$stage"
}

CACHE_DIR=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kclusterip-vm
mkdir -p "$CACHE_DIR" 2>/dev/null || CACHE_DIR=${TMPDIR:-/tmp}/kclusterip-vm-cache
mkdir -p "$CACHE_DIR"
# Keyed by what goes in, so that checkouts with different init scripts can
# share the cache.
key=$({
	cat "$SELF_DIR/initramfs/init" "$BUSYBOX"
	printf '%s\n' "${INIT_MODULES[@]}"
	stat -c '%n %s %Y' "$MODDIR/modules.dep" 2>/dev/null || true
} | md5sum | cut -c1-12)
INITRD=$CACHE_DIR/initramfs-$KVER-$key.cpio
if [[ ! -s $INITRD ]]; then
	find "$CACHE_DIR" -maxdepth 1 -name 'initramfs-*.cpio' -mtime +7 -delete 2>/dev/null || true
	build_initramfs "$INITRD"
fi

# ------------------------------------------------------------------- run

if [[ -n ${VM_OUT-} ]]; then
	mkdir -p "$VM_OUT"
	OUT=$(cd "$VM_OUT" && pwd -P)
else
	OUT=$(mktemp -d "${TMPDIR:-/tmp}/kcip-vm.XXXXXX")
fi
SHARE=$OUT/share
rm -rf "$SHARE"
mkdir -p "$SHARE"
CONSOLE=$OUT/console.log
OUTPUT=$OUT/output.log
: >"$CONSOLE"
: >"$OUTPUT"

# The suite takes 20-35 min under TCG on a busy 2-core host, so 45 min by
# default; a guest deadline 60 s earlier still gets a verdict.
VM_TIMEOUT=${VM_TIMEOUT:-2700}
[[ $VM_TIMEOUT =~ ^[0-9]+$ ]] || die "VM_TIMEOUT must be a number of seconds"
# One test keeps about one vCPU busy: two at a time use both.  More made
# no run faster here and made tests with timing checks fail.  Passed on
# with KCIP_*.
export KCIP_JOBS=${KCIP_JOBS:-2}
[[ $KCIP_JOBS =~ ^[1-9][0-9]*$ ]] || die "KCIP_JOBS must be a number of tests"
printf '%s' "$REPO" >"$SHARE/repo"
{
	printf 'MODE=%q\nDEBUG=%q\nREPO=%q\nCMD=%q\nVM_TIMEOUT=%q\nRUNNER=%q\n' \
		"$MODE" "$DEBUG" "$REPO" "$CMD" "$VM_TIMEOUT" "${VM_RUNNER-}"
	printf 'TESTS=('
	for t in ${TESTS[@]+"${TESTS[@]}"}; do
		printf '%q ' "$t"
	done
	printf ')\n'
	# KCIP_* settings (KCIP_TEST_TIMEOUT, say) reach the guest too.
	while IFS= read -r var; do
		printf 'export %s=%q\n' "$var" "${!var}"
	done < <(compgen -e | grep '^KCIP_' || true)
} >"$SHARE/params"

# The module and its depmod output, made here (depmod over 9p under TCG in
# the guest takes ~25 s; here, on a tree of symlinks, well under 1 s).  Only
# files are written, all under $OUT: nothing touches the host's kernel.
prepare_module() {
	local ko=${KCIP_KO:-$REPO/kmod/kclusterip.ko} root mods f vermagic

	[[ -f $ko ]] || return 0
	vermagic=$(modinfo -F vermagic "$ko" 2>/dev/null || true)
	if [[ -n $vermagic && ${vermagic%% *} != "$KVER" ]]; then
		echo "kcip-vm: warning: $ko is built for ${vermagic%% *}, the guest runs $KVER" >&2
	fi
	[[ -d $MODDIR/kernel ]] && command -v depmod >/dev/null || return 0
	root=$OUT/depmod
	mods=$root/lib/modules/$KVER
	rm -rf "$root"
	mkdir -p "$mods/updates" "$SHARE/modules"
	ln -s "$MODDIR/kernel" "$mods/kernel"
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[[ -e $MODDIR/$f ]] && ln -s "$MODDIR/$f" "$mods/$f"
	done
	cp "$ko" "$mods/updates/kclusterip.ko"
	depmod -b "$root" "$KVER" || { rm -rf "$root" "$SHARE/modules"; return 0; }
	for f in "$mods"/modules.*; do
		[[ -L $f ]] || cp "$f" "$SHARE/modules/"
	done
	# a kernel of our own (VM_MODDIR) has no tree in the guest's root: its
	# list of built-in modules, for modprobe, comes along
	if [[ $MODDIR != "/lib/modules/$KVER" ]]; then
		for f in modules.builtin modules.builtin.modinfo modules.order; do
			[[ -e $MODDIR/$f ]] && cp "$MODDIR/$f" "$SHARE/modules/"
		done
	fi
	cp "$ko" "$SHARE/modules/kclusterip.ko"
	rm -rf "$root"
}
prepare_module

VM_MEM=${VM_MEM:-2G}
VM_SMP=${VM_SMP:-2}
if [[ -z ${VM_ACCEL-} ]]; then
	VM_ACCEL=tcg
	if [[ -r /dev/kvm && -w /dev/kvm ]] && grep -qsE '^flags.*\b(vmx|svm)\b' /proc/cpuinfo; then
		VM_ACCEL=kvm
	fi
fi
# shellcheck disable=SC2054 # the commas are QEMU's
case $VM_ACCEL in
# (-cpu max is the host's CPU under KVM, and QEMU falls back to TCG if KVM
# cannot start after all.)
kvm) accel=(-accel kvm -accel tcg,thread=multi -cpu "${VM_CPU:-max}") ;;
tcg) accel=(-accel tcg,thread=multi -cpu "${VM_CPU:-qemu64,+rdrand}") ;;
*) die "VM_ACCEL must be kvm or tcg" ;;
esac
# Instruction counting (repeatable timings) works with one TCG thread only.
if [[ -n ${VM_ICOUNT-} ]]; then
	[[ $VM_ACCEL = tcg ]] || die "VM_ICOUNT needs VM_ACCEL=tcg"
	accel=(-accel tcg,thread=single -cpu "${VM_CPU:-qemu64,+rdrand}" -icount "$VM_ICOUNT")
	# With -icount and two vCPUs, Debian 12's QEMU 7.2 never got past the
	# guest's "Booting SMP configuration" (sleep=off and sleep=on alike)
	if ((VM_SMP != 1)); then
		echo "# kcip-vm: VM_ICOUNT: 1 vCPU, not $VM_SMP (-icount with SMP hangs the guest's boot here)"
		VM_SMP=1
	fi
fi
read -r -a extra_args <<<"${VM_QEMU_ARGS-}"
accel+=("${extra_args[@]}")

cmdline="console=ttyS0,115200 panic=-1 rdinit=/init printk.time=1 loglevel=7 log_buf_len=8M"
cmdline+=" no_hash_pointers mitigations=off tsc=unstable"
# TCG is slow and a busy host can starve a vCPU: leave RCU more slack than
# the 21 s default before it calls a stall (a real stall still shows).
[[ $VM_ACCEL = tcg ]] && cmdline+=" rcupdate.rcu_cpu_stall_timeout=60"
# Nor may a starved vCPU fail the boot's check that the timer interrupt
# ticks ("IO-APIC + timer doesn't work!", a panic seen here under load).
cmdline+=" no_timer_check"
slub=${VM_SLUB_DEBUG-FZPU}
[[ -n $slub ]] && cmdline+=" slub_debug=$slub"
cmdline+=" ${VM_CMDLINE-}"

# shellcheck disable=SC2054 # the commas are QEMU's
qemu=(
	qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot
	"${accel[@]}" -smp "$VM_SMP" -m "$VM_MEM"
	-kernel "$KERNEL" -initrd "$INITRD" -append "$cmdline"
	-chardev "file,id=console,path=$CONSOLE" -serial chardev:console
	-chardev "file,id=output,path=$OUTPUT" -serial chardev:output
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev "local,id=results,path=$SHARE,security_model=none,multidevs=remap"
	-device virtio-9p-pci,fsdev=results,mount_tag=results
)

QEMU_PID=
TAIL_PIDS=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	local p
	[[ -n $QEMU_PID ]] && kill "$QEMU_PID" 2>/dev/null
	for p in ${TAIL_PIDS[@]+"${TAIL_PIDS[@]}"}; do
		kill "$p" 2>/dev/null
	done
	# Keep the logs, not the 8 MB module copy.
	[[ -n ${SHARE-} ]] && rm -rf "$SHARE/modules"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

jobs=
[[ $MODE = test ]] && jobs=", $KCIP_JOBS tests at a time"
echo "# kcip-vm: kernel $KVER ($VM_ACCEL, $VM_SMP vCPUs, $VM_MEM$jobs), logs in $OUT"
[[ $DEBUG = 1 ]] && echo "# kcip-vm: ${qemu[*]}"
t_start=$SECONDS

# A guest that is not up after VM_BOOT_TIMEOUT s will not come up: one
# stuck early in boot (seen once, three TCG guests on the 2 cores) would
# hold the run until VM_TIMEOUT, hours for make check-debug.  It is booted
# once more; its console is kept as console-boot1.log.
VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-900}
[[ $VM_BOOT_TIMEOUT =~ ^[0-9]+$ ]] || die "VM_BOOT_TIMEOUT must be a number of seconds"
boot_watch() {
	local t=0
	while ((t < VM_BOOT_TIMEOUT)); do
		grep -q '^# kcip-vm: guest up' "$OUTPUT" 2>/dev/null && return 0
		kill -0 "$1" 2>/dev/null || return 0
		sleep 5
		t=$((t + 5))
	done
	: >"$OUT/boot-timeout"
	kill "$1" 2>/dev/null
	return 0
}
boot_try=1
while :; do
rm -f "$OUT/boot-timeout"
timeout -k 10 "$VM_TIMEOUT" "${qemu[@]}" </dev/null >"$OUT/qemu.log" 2>&1 &
QEMU_PID=$!
boot_watch "$QEMU_PID" &
TAIL_PIDS+=($!)

# Stream the guest's output (and with --debug the console) while it runs.
# "kcip-vm: exit N" is the guest's verdict line: kept in output.log, not shown.
# (sed -u: tr or grep would hold the lines back in their stdio buffers.)
tail -n +1 -s 0.2 --pid="$QEMU_PID" -f "$OUTPUT" |
	sed -u -e 's/\r//g' -e '/^kcip-vm: exit [0-9]*$/d' &
TAIL_PIDS+=($!)
if [[ $DEBUG = 1 ]]; then
	tail -n +1 -s 0.2 --pid="$QEMU_PID" -f "$CONSOLE" |
		sed -u -e 's/\r//g' -e 's/^/console: /' >&2 &
	TAIL_PIDS+=($!)
fi

qemu_rc=0
wait "$QEMU_PID" || qemu_rc=$?
QEMU_PID=
for p in "${TAIL_PIDS[@]}"; do
	wait "$p" 2>/dev/null || true
done
TAIL_PIDS=()
if [[ -e $OUT/boot-timeout ]] && ((boot_try == 1)); then
	echo "# kcip-vm: the guest was not up after ${VM_BOOT_TIMEOUT} s (VM_BOOT_TIMEOUT): booting it again (first console: $OUT/console-boot1.log)"
	mv "$CONSOLE" "$OUT/console-boot1.log"
	: >"$CONSOLE"
	: >"$OUTPUT"
	boot_try=2
	continue
fi
break
done
elapsed=$((SECONDS - t_start))

# ---------------------------------------------------------------- verdict

guest_rc=
if [[ -s $SHARE/rc ]]; then
	guest_rc=$(<"$SHARE/rc")
else
	guest_rc=$(tr -d '\r' <"$OUTPUT" | sed -n 's/^kcip-vm: exit \([0-9]*\)$/\1/p' | tail -n1)
fi

findings_txt=$("$SELF_DIR/scan-console.sh" "$CONSOLE" || true)
findings=$(grep -c '^kernel problem ' <<<"$findings_txt" || true)

problem() {
	echo "# kcip-vm: $*"
}

failed_extra=0
if [[ -z $guest_rc ]]; then
	failed_extra=1
	if [[ -e $OUT/boot-timeout ]]; then
		problem "no verdict: the guest was not up after ${VM_BOOT_TIMEOUT} s, twice (VM_BOOT_TIMEOUT)"
	elif ((qemu_rc == 124 || qemu_rc == 137)); then
		problem "no verdict: the VM timed out after ${VM_TIMEOUT} s (VM_TIMEOUT)"
	elif grep -q 'kcip-vm: stage 1 failed' "$CONSOLE"; then
		problem "no verdict: the guest could not set up its root filesystem"
	else
		problem "no verdict: the guest crashed or stopped (qemu exit status $qemu_rc)"
	fi
	# A kernel problem report below shows the crash itself.
	tail_lines=40
	((findings > 0)) && tail_lines=8
	problem "last console lines ($CONSOLE):"
	tail -n "$tail_lines" "$CONSOLE" | tr -d '\r' | sed 's/^/#   /'
	if [[ -s $OUT/qemu.log ]]; then
		problem "qemu said:"
		sed 's/^/#   /' "$OUT/qemu.log"
	fi
fi
if ((findings > 0)); then
	problem "$findings kernel problem report(s) on the console:"
	sed 's/^/#   /' <<<"$findings_txt"
fi

if [[ $MODE = cmd ]]; then
	echo "# kcip-vm: console log: $CONSOLE (run took ${elapsed} s)"
	rc=${guest_rc:-1}
	((rc == 0 && findings > 0)) && rc=1
	exit "$rc"
fi

# Count the top-level KTAP results.  Tests that the plan announced but that
# never reported (the guest died mid-run) count as failed.
results=$(tr -d '\r' <"$OUTPUT")
passed=$(grep -E '^ok [0-9]+( |$)' <<<"$results" | grep -cvE '# *(SKIP|skip)' || true)
skipped=$(grep -E '^ok [0-9]+( |$)' <<<"$results" | grep -cE '# *(SKIP|skip)' || true)
failed=$(grep -cE '^not ok [0-9]+( |$)' <<<"$results" || true)
plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' <<<"$results" | head -n1)
missing=0
if [[ -n $plan ]] && ((plan > passed + skipped + failed)); then
	missing=$((plan - passed - skipped - failed))
	problem "$missing test(s) never reported a result"
fi
if [[ $guest_rc = 124 ]]; then
	problem "the guest ran out of time (VM_TIMEOUT=${VM_TIMEOUT} s); last console lines ($CONSOLE):"
	tail -n 60 "$CONSOLE" | tr -d '\r' | sed 's/^/#   /'
fi
if [[ -n $guest_rc && $guest_rc != 0 ]] && ((failed + missing == 0)); then
	problem "the test runner exited with status $guest_rc"
	failed_extra=$((failed_extra + 1))
fi
failed=$((failed + missing + failed_extra + findings))

# The guest's runner noted each test's time (and how busy the vCPUs were,
# how many processes started) in $SHARE/times: the slowest here.
if [[ -s $SHARE/times ]]; then
	slowest=$(awk -F'\t' '{ print $3 - $2 "\t" $1 }' "$SHARE/times" | sort -rn | head -n 5 |
		awk -F'\t' '{ printf "%s%s %d s", (NR > 1 ? ", " : ""), $2, $1 }')
	[[ -n $slowest ]] && echo "# kcip-vm: longest-running tests: $slowest (all: $SHARE/times)"
fi
echo "# kcip-vm: console log: $CONSOLE (run took ${elapsed} s)"

echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
exit
}

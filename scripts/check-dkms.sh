#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-dkms.sh [TEST...]: build and install kclusterip with DKMS for the
# kernel the test VM boots, then run the selftests (or only TEST...) in the
# guest with that module, loaded by `modprobe kclusterip`.  Run as root from
# `make check-dkms`.
#
# On the host this only compiles and copies files: `dkms install -k KVER`
# puts kclusterip.ko in /lib/modules/KVER/updates/dkms and runs depmod for
# KVER, the guest's kernel; nothing is loaded here.  Whatever this script
# added to DKMS (and /usr/src) it removes at the end; it refuses to run when
# kclusterip is already in DKMS (the kclusterip-dkms package, or a `make
# dkms-install`), so as not to remove what it did not add.
#
# Exit status: the guest run's (0 when every test passed).

set -euo pipefail

# One compound command, parsed whole before it runs: editing this file
# during a run cannot derail that run.
{
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$PWD
NAME=kclusterip
VERSION=$(cat VERSION)

die() {
	echo "check-dkms: $*" >&2
	exit 2
}

(($(id -u) == 0)) || die "needs root (dkms)"
command -v dkms >/dev/null || die "dkms not found (apt-get install dkms)"

# The guest's kernel, found as the harness finds it (KVER=... overrides).
KVER=${KVER:-$(selftests/vm/run.sh --print-kver)} || die "no guest kernel"
export KVER
[[ -d /lib/modules/$KVER/build ]] ||
	die "no headers for $KVER (apt-get install linux-headers-$KVER)"

if [[ -e /usr/src/$NAME-$VERSION || -e /var/lib/dkms/$NAME/$VERSION ]]; then
	die "$NAME $VERSION is already in DKMS (package kclusterip-dkms, or make dkms-install): remove it first (dpkg -P kclusterip-dkms, or make dkms-uninstall)"
fi

cleanup() {
	echo "check-dkms: dkms remove -m $NAME -v $VERSION --all"
	dkms remove -m "$NAME" -v "$VERSION" --all >/dev/null 2>&1 || true
	rm -rf "/usr/src/$NAME-$VERSION"
}
trap cleanup EXIT

echo "check-dkms: make dkms-install (dkms add)"
make -s dkms-install
echo "check-dkms: dkms build -k $KVER"
dkms build -m "$NAME" -v "$VERSION" -k "$KVER"
echo "check-dkms: dkms install -k $KVER"
dkms install -m "$NAME" -v "$VERSION" -k "$KVER"
dkms status -m "$NAME"

KO=/lib/modules/$KVER/updates/dkms/$NAME.ko
[[ -f $KO ]] || die "dkms install left no $KO"
ko_version=$(modinfo -F version "$KO")
[[ $ko_version = "$VERSION" ]] || die "$KO says version $ko_version, VERSION says $VERSION"
echo "check-dkms: $KO, version $ko_version, vermagic $(modinfo -F vermagic "$KO")"

# The harness installs kmod/kclusterip.ko unless told to use the installed
# module (KCIP_KO=installed).  A harness without that knob gets a command
# that puts the DKMS module back where `dkms install` put it, with the
# host's modules.* that `dkms install`'s depmod wrote (depmod in the guest
# takes minutes under TCG): a copy in the repository, which the guest sees.
rc=0
if grep -q 'KCIP_KO' selftests/vm/run.sh selftests/vm/guest.sh 2>/dev/null; then
	KCIP_KO=installed selftests/vm/run.sh "$@" || rc=$?
else
	snap=$REPO/out/check-dkms
	rm -rf "$snap"
	mkdir -p "$snap"
	echo '*' >"$snap/.gitignore"
	cp "/lib/modules/$KVER"/modules.* "$snap/"
	cp "$KO" "$snap/$NAME.ko"
	tests=""
	for t in "$@"; do tests+=" $(printf '%q' "$t")"; done
	cmd="set -e
		m=/lib/modules/\$(uname -r)
		rm -f \$m/updates/$NAME.ko
		install -D -m 0644 $(printf '%q' "$snap/$NAME.ko") \$m/updates/dkms/$NAME.ko
		cp $(printf '%q' "$snap")/modules.* \$m/
		echo \"# check-dkms: modprobe $NAME: \$(modinfo -n $NAME), version \$(modinfo -F version $NAME)\"
		modprobe $NAME
		grep -qx '$VERSION' /sys/module/$NAME/version
		set +e
		KCIP_UNLOAD_CHECK=1 selftests/run_tests.sh$tests"
	selftests/vm/run.sh --cmd "$cmd" || rc=$?
	rm -rf "$snap"
fi
echo "check-dkms: guest run exited with status $rc"
exit "$rc"
}

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-version.sh: every place that states kclusterip's version states the
# top-level VERSION file's.  Run from `make check-version`.
#
#   kmod/version.h      KCIP_VERSION, the module's MODULE_VERSION
#   dkms.conf           PACKAGE_VERSION
#   debian/changelog    the newest entry's version
#   kmod/kclusterip.ko  modinfo version, if built
#   userspace/kcipctl   kcipctl -V, if built (it reads VERSION at build time)
#
# Exit 0 when they all agree, 1 otherwise (each mismatch is named).

cd "$(dirname "$0")/.." || exit 1

want=$(cat VERSION) || exit 1
rc=0

check() {
	if [ "$2" != "$want" ]; then
		echo "check-version: $1 says '$2', VERSION says '$want'" >&2
		rc=1
	fi
}

check kmod/version.h \
	"$(sed -n 's/^#define[[:space:]]*KCIP_VERSION[[:space:]]*"\(.*\)".*/\1/p' kmod/version.h)"
check dkms.conf \
	"$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' dkms.conf)"
check debian/changelog \
	"$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' debian/changelog)"
if [ -f kmod/kclusterip.ko ] && command -v modinfo >/dev/null; then
	check kmod/kclusterip.ko "$(modinfo -F version kmod/kclusterip.ko)"
fi
if [ -x userspace/kcipctl ]; then
	check "userspace/kcipctl -V" "$(userspace/kcipctl -V | sed -n 's/^kcipctl //p')"
fi
[ $rc = 0 ] && echo "check-version: $want everywhere"
exit $rc

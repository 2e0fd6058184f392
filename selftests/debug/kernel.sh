#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/debug/kernel.sh [--dir|--check]: the debug kernel of `make
# check-debug`, built once per machine from Debian's linux-source-6.1 with
# selftests/debug/debug.config, and cached outside the clone.
#
#   (no option)  build it unless cached; print its directory last
#   --dir        print the directory it is (or would be) cached in
#   --check      exit 0 if it is cached, 1 if not (builds nothing)
#
# The directory holds src/ (the sources), build/ (the O= tree: .config,
# arch/x86/boot/bzImage, and what out-of-tree modules build against),
# release (its `uname -r`) and build-seconds.  The key of the directory is
# a hash of debug.config, this script and the source package's version, so
# a changed configuration is a new kernel.  ccache is used when installed.
#
# Environment: KCIP_DEBUG_CACHE (default /var/cache/kclusterip/debug-kernel),
# KCIP_DEBUG_SOURCE (default /usr/src/linux-source-6.1.tar.xz; as root,
# apt-get installs linux-source-6.1 when it is missing), KCIP_DEBUG_JOBS
# (default: the number of CPUs).

set -euo pipefail
SELF=$(cd "$(dirname "$0")" && pwd -P)
CACHE=${KCIP_DEBUG_CACHE:-/var/cache/kclusterip/debug-kernel}
TARBALL=${KCIP_DEBUG_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
JOBS=${KCIP_DEBUG_JOBS:-$(nproc)}

die() {
	echo "debug-kernel: $*" >&2
	exit 2
}

srcver() {
	dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null ||
		stat -c '%s %Y' "$TARBALL" 2>/dev/null || echo none
}

key=$({ cat "$SELF/debug.config" "$SELF/kernel.sh"; srcver; } | md5sum | cut -c1-12)
DIR=$CACHE/6.1-$key

case ${1-} in
--dir) echo "$DIR"; exit 0 ;;
--check) [[ -f $DIR/.done ]]; exit ;;
"") ;;
*) die "unknown option $1" ;;
esac

if [[ -f $DIR/.done ]]; then
	echo "debug-kernel: cached, built in $(cat "$DIR/build-seconds") s: $DIR" >&2
	echo "$DIR"
	exit 0
fi

if [[ ! -r $TARBALL ]]; then
	if [[ $(id -u) = 0 ]] && command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y linux-source-6.1 >&2
	fi
	[[ -r $TARBALL ]] || die "no kernel sources at $TARBALL (apt-get install linux-source-6.1)"
fi
for tool in gcc make flex bison bc perl; do
	command -v "$tool" >/dev/null || die "$tool is missing (apt-get install build-essential flex bison bc libelf-dev libssl-dev)"
done

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
[[ -f $DIR/.done ]] && { echo "$DIR"; exit 0; }
rm -rf "$DIR"
mkdir -p "$DIR/src" "$DIR/build"
t0=$SECONDS
echo "debug-kernel: unpacking $TARBALL" >&2
tar -xaf "$TARBALL" -C "$DIR/src" --strip-components=1

cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"
km() { make -s -C "$DIR/src" O="$DIR/build" CC="$cc" "$@"; }

km x86_64_defconfig >&2
km kvm_guest.config >&2
"$DIR/src/scripts/kconfig/merge_config.sh" -m -O "$DIR/build" \
	"$DIR/build/.config" "$SELF/debug.config" >&2
km olddefconfig >&2

# What the fragment asks for must be what the kernel got.
missing=()
while IFS= read -r line; do
	case $line in
	CONFIG_*=n) grep -qx "${line%=n}=y" "$DIR/build/.config" && missing+=("$line") ;;
	CONFIG_*) grep -qxF "$line" "$DIR/build/.config" || missing+=("$line") ;;
	esac
done < <(grep -E '^CONFIG_' "$SELF/debug.config")
((${#missing[@]} == 0)) || die "the configuration did not take: ${missing[*]}"

echo "debug-kernel: building with $JOBS jobs (about 40 minutes on 2 cores)" >&2
km -j"$JOBS" bzImage modules >&2
km INSTALL_MOD_PATH="$DIR/mods" modules_install >&2
km -s kernelrelease >"$DIR/release"
mkdir -p "$DIR/mods/lib/modules/$(cat "$DIR/release")/kernel"
echo $((SECONDS - t0)) >"$DIR/build-seconds"
touch "$DIR/.done"
echo "debug-kernel: built in $(cat "$DIR/build-seconds") s: $DIR" >&2
echo "$DIR"

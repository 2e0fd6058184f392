#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh [--check]: make sure what `make check` needs is installed.
#
# Looks for each needed command/file first and calls apt-get only when
# something is missing, so repeated local runs stay fast.  As root on Debian
# it installs the missing packages; otherwise (or with --check) it prints
# them and fails.

set -euo pipefail

check_only=0
[[ ${1-} = --check ]] && check_only=1

# package: something that package provides
declare -A NEED=(
	[qemu-system-x86]=/usr/bin/qemu-system-x86_64
	[busybox-static]=/bin/busybox
	[linux-image-amd64]="/boot/vmlinuz-*"
	[linux-headers-amd64]="/lib/modules/*/build/Makefile"
	[libmnl-dev]=/usr/include/libmnl/libmnl.h
	[pkg-config]=pkg-config
	[build-essential]=/usr/share/build-essential/list
	[gcc]=gcc
	[make]=make
	[kmod]=depmod
	[iproute2]=ip
	[nftables]=nft
	[iptables]=iptables
	[conntrack]=conntrack
	[socat]=socat
	[ncat]=ncat
	[procps]=sysctl
	[iputils-ping]=ping
	[python3]=python3
	[python3-yaml]=/usr/lib/python3/dist-packages/yaml/__init__.py
	[libjson-c-dev]=/usr/include/json-c/json.h
	[python3-docutils]=/usr/bin/rst2html
	[sparse]=sparse
	[coreutils]=timeout
	[util-linux]=unshare
)

have() {
	local what=$1 f

	if [[ $what = /* ]]; then
		for f in $what; do
			[[ -e $f ]] && return 0
		done
		return 1
	fi
	command -v "$what" >/dev/null 2>&1
}

missing=()
for pkg in "${!NEED[@]}"; do
	have "${NEED[$pkg]}" || missing+=("$pkg")
done
# busybox-static, not Debian's dynamically linked busybox, for the initramfs.
if have readelf && have /bin/busybox && readelf -l /bin/busybox 2>/dev/null | grep -q INTERP; then
	missing+=(busybox-static)
fi
# The guest kernel needs its image readable (mode 0600 on Debian: as root).
readable_image() {
	local f

	for f in /boot/vmlinuz-*; do
		[[ -r $f ]] && return 0
	done
	return 1
}
if compgen -G '/boot/vmlinuz-*' >/dev/null && ! readable_image; then
	echo "deps.sh: /boot/vmlinuz-* is not readable: run as root (or chmod a+r it)" >&2
fi

if ((${#missing[@]} == 0)); then
	exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

if ((check_only)) || [[ $(id -u) != 0 ]] || ! have apt-get; then
	echo "deps.sh: missing packages: ${missing[*]}" >&2
	echo "deps.sh: install them with: apt-get install --no-install-recommends ${missing[*]}" >&2
	exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scan-console.sh [-q] [FILE...]
#
# Finds kernel problem reports (WARN, BUG, Oops, lockdep, RCU stalls, KASAN,
# UBSAN, kmemleak, panics, hung tasks, soft lockups, leaked netdev refs) in a
# kernel log: a serial console capture or `dmesg` output, from FILEs or stdin.
#
# One report is one finding, however many of its lines match: a finding runs
# from its first matching line to the report's end marker ("---[ end trace",
# a "=====" rule closing a KASAN/UBSAN report) or at most 100 lines, and a
# "Kernel panic" that follows within a few lines is part of it.
#
# Output: for each finding a header line
#   kernel problem N (during TEST): FIRST LINE
# then up to 40 lines of the report, indented by two spaces.  TEST is the
# test that was running, from the "kcip-selftest: begin NAME" and "...: end
# NAME" markers that run_tests.sh writes to /dev/kmsg; with tests running at
# the same time, all of them ("during a.sh, b.sh").  -q prints only the
# number of findings.
# Exit status: 0 no finding, 1 findings, 2 usage error.

set -euo pipefail

quiet=0
if [[ ${1-} = -q ]]; then
	quiet=1
	shift
fi
if [[ ${1-} = -h || ${1-} = --help ]]; then
	awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"
	exit 0
fi

# awk, not grep: one pass that groups lines into reports.  Portable awk only
# (mawk and busybox awk): no gensub, no \< \>, no {m,n}.
cat -- "${@:--}" | tr -d '\r' | awk -v quiet="$quiet" '
function strip(s) {
	sub(/^<[0-9]+>/, "", s)
	sub(/^\[ *[0-9]+\.[0-9]+\] /, "", s)
	sub(/^\[ *[TC][0-9]+\] /, "", s)
	return s
}
# A line that starts (or continues) a kernel problem report.
function is_problem(m) {
	if (m ~ /^WARNING:/) return 1				# WARN*(), lockdep, RCU-lockdep
	if (m ~ /(^|[^A-Za-z0-9_])BUG:/) return 1		# BUG:, watchdog: BUG: soft lockup
	if (m ~ /^BUG [^ ]+ \(.*\): /) return 1		# slub_debug: BUG kmalloc-64 (...): Poison overwritten
	if (m ~ /^kernel BUG at /) return 1
	if (m ~ /(^|[^A-Za-z0-9_])Oops([^A-Za-z0-9_]|$)/) return 1
	if (m ~ /general protection fault/) return 1
	if (m ~ /Kernel panic/) return 1
	if (m ~ /Unable to handle kernel/) return 1
	if (m ~ /(^|[^A-Za-z0-9_])KASAN([^A-Za-z0-9_]|$)/) return 1
	if (m ~ /^UBSAN:/) return 1
	if (m ~ /new suspected memory leak/) return 1		# kmemleak
	if (m ~ /^rcu: INFO:/) return 1
	if (m ~ /self-detected stall/ || m ~ /detected stalls? on CPU/) return 1
	if (m ~ /RCU stall/) return 1
	if (m ~ /possible recursive locking/ || m ~ /circular locking/) return 1
	if (m ~ /suspicious RCU usage/ || m ~ /inconsistent lock state/) return 1
	if (m ~ /possible irq lock inversion/ || m ~ /bad unlock balance/) return 1
	if (m ~ /lock held when returning to user space/) return 1
	if (m ~ /soft lockup/ || m ~ /hard LOCKUP/) return 1
	if (m ~ /blocked for more than [0-9]+ seconds/) return 1
	if (m ~ /unregister_netdevice: waiting for/) return 1
	if (m ~ /stack-protector: Kernel stack is corrupted/) return 1
	return 0
}
# Lines that continue the report before them (an oops after "BUG: kernel
# NULL pointer dereference", the panic that ends it) instead of starting one.
function is_cont(m) {
	return m ~ /^Oops/ || m ~ /Kernel panic/
}
function is_end(m) {
	if (m ~ /^---\[ end /) return 1
	if (m ~ /^=================/ && NR > start + 1) return 1
	return 0
}
function add(m) {
	nlines[n]++
	if (nlines[n] <= 40)
		body[n] = body[n] "  " m "\n"
}
function close_finding() {
	open = 0
	closed_at = NR
}
{
	m = strip($0)
	if (m ~ /kcip-selftest: (begin|end) /) {
		# Tests may run at the same time: a marker of one can come in
		# the middle of a report, which goes on.  "test" lists every
		# test begun and not ended yet, in the order they began.
		name = m
		sub(/.*kcip-selftest: (begin|end) /, "", name)
		if (m ~ /kcip-selftest: begin /) {
			if (!(name in running))
				order[++norder] = name
			running[name] = 1
		} else {
			delete running[name]
		}
		test = ""
		for (i = 1; i <= norder; i++)
			if (order[i] in running)
				test = test (test == "" ? "" : ", ") order[i]
		next
	}

	p = is_problem(m)
	if (open) {
		if (!p || is_cont(m)) {
			add(m)
			if (is_end(m) || NR - start >= 100)
				close_finding()
			next
		}
		close_finding()
	}
	if (!p)
		next
	if (n > 0 && is_cont(m) && NR - closed_at <= 5) {
		add(m)
		next
	}
	if (m in seen) {
		# The same report again (unregister_netdevice every 10 s...).
		repeats[seen[m]]++
		next
	}
	n++
	seen[m] = n
	open = 1
	start = NR
	head[n] = m
	during[n] = test
	nlines[n] = 0
	body[n] = ""
	add(m)
}
END {
	if (quiet) {
		print n + 0
	} else {
		for (i = 1; i <= n; i++) {
			printf "kernel problem %d%s: %s\n", i,
				during[i] != "" ? " (during " during[i] ")" : "", head[i]
			printf "%s", body[i]
			if (repeats[i] > 0)
				printf "  (and %d more time(s))\n", repeats[i]
			if (nlines[i] > 40)
				printf "  ... %d more lines\n", nlines[i] - 40
		}
	}
	exit (n > 0 ? 1 : 0)
}'

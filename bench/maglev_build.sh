#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/maglev_build.sh [N...]: how long building a Service's scheduler
# takes and how much kernel memory the Service holds, for Services of N
# backends (default 10 100 1000), sched random and maglev.  Prints a small
# table; asserts nothing.
#
# Needs root and the module: run it in the test VM, never on a machine you
# care about:
#	selftests/vm/run.sh --cmd bench/maglev_build.sh
#
# Columns (lib_sched.sh maglev_build_report):
#   table           Maglev lookup table entries, 4 bytes each
#   svc             Services of that size created by one "kcipctl restore"
#                   (many small ones, a few big ones); figures are per Service
#   build_us        kcip_sched_prepare(), the config's scheduler build (for
#                   maglev: the table), median, timed by ftrace
#   restore_ms/svc  wall time of the restore (kcipctl's start included)
#   memory_kB       kernel memory charged for a Service (memory.current of
#                   the cgroup kcipctl ran in; the module allocates with
#                   __GFP_ACCOUNT): config, backends' per-CPU counters, table
# Under QEMU's software emulation (the test VM) times are many times those
# of real hardware.  The same table ends the output of
# selftests/sched_maglev.sh.

DIR=$(cd "$(dirname "$0")/.." && pwd)
source "$DIR/selftests/lib.sh"
source "$DIR/selftests/lib_sched.sh"

kcip_require_root
checktool "$KCIPCTL -h" "run without kcipctl"
kcip_require_module
setup_ns bench
echo "# $(nproc) CPUs, kernel $(uname -r), maglev_min_size $(cat /sys/module/kclusterip/parameters/maglev_min_size 2> /dev/null)"
maglev_build_report "$bench" "${*:-10 100 1000}"

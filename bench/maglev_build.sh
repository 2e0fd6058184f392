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
# Columns:
#   table        Maglev lookup table entries: the next prime from
#                max(maglev_min_size, 128 x backends), 4 bytes each
#   restore_ms   one "kcipctl restore" creating the Service with all its
#                backends: one config, one table build (best of 3)
#   add_last_ms  one "kcipctl backend add" of the last backend to the
#                Service of N-1: a new config and table (best of 3)
#   memory_kB    kernel memory charged for the Service (memory.current of
#                the cgroup kcipctl ran in; the module allocates with
#                __GFP_ACCOUNT): config, backends' per-CPU counters, table
# Both times include starting kcipctl: maglev minus random is the build.
# The same table ends the output of selftests/sched_maglev.sh.

DIR=$(cd "$(dirname "$0")/.." && pwd)
source "$DIR/selftests/lib.sh"
source "$DIR/selftests/lib_sched.sh"

kcip_require_root
checktool "$KCIPCTL -h" "run without kcipctl"
kcip_require_module
setup_ns bench
echo "# $(nproc) CPUs, kernel $(uname -r), maglev_min_size $(cat /sys/module/kclusterip/parameters/maglev_min_size 2> /dev/null)"
maglev_build_report "$bench" "${*:-10 100 1000}"

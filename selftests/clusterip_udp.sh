#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ClusterIP Service over IPv4 and IPv6, udp, three backends with real
# servers: payload byte for byte, all backends used, conntrack DNAT, counters.
# See clusterip_common.sh.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/clusterip_common.sh"

clusterip_test udp

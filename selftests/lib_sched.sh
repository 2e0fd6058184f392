#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the scheduler tests (sched_*.sh), on top of lib.sh:
#
#	source "$(dirname "$0")/lib.sh"
#	source "$(dirname "$0")/lib_sched.sh"
#	sched_require [nft] [conntrack]
#
# - flowgen (flowgen.c, built by "make -C selftests"): fg_server and
#   fg_backends start its responder, fg runs its client;
# - share checks on its summary line (check_shares) and mapping
#   comparisons on its per-flow output (map_diff);
# - sched_topo: one or more node namespaces in front of the same
#   backends, with their answers sent back through the node the flow's
#   latest packet came from;
# - Services made with "kcipctl restore" (svc_lines, restore): one
#   kcipctl run instead of one per backend;
# - maglev_build_report: table build time and memory per Service.

FLOWGEN=${FLOWGEN:-$LIBDIR/flowgen}

# sched_require [TOOL...]: what kcip_require checks, flowgen, and TOOLs
sched_require()
{
	local t

	# kcip_require without socat and python3, which these tests do not use
	kcip_require_root
	checktool "ip -V" "run test without iproute2"
	checktool "$KCIPCTL -h" "run test without kcipctl"
	kcip_require_module
	dmesg_mark
	[ -x "$FLOWGEN" ] || skip "$FLOWGEN not built (make -C selftests)"
	for t in "$@"; do
		case $t in
		nft) checktool "nft --version" "run test without nft" ;;
		conntrack) checktool "conntrack --version" "run test without conntrack" ;;
		*) checktool "$t --version" "run test without $t" ;;
		esac
	done
}

# fg NS ARGS...: the flowgen client in NS
fg() { local ns=$1; shift; ip netns exec "$ns" "$FLOWGEN" "$@"; }

# fg_server NS NAME PORT [PROTO]: a flowgen responder (one process, epoll,
# dual-stack) answering NAME; listening when this returns.
fg_server()
{
	local pid

	if ! pid=$(ip netns exec "$1" "$FLOWGEN" --serve "$2" -p "${4:-tcp,udp}" -d "$3"); then
		fail "flowgen server $2 in $1 did not start"
		exit $ksft_fail
	fi
	BG_PIDS+=("$pid")
}

# summary_of OUTPUT: the summary line of a flowgen run (its last line)
summary_of() { printf '%s\n' "$1" | tail -n 1; }

# check_shares DESC SUMMARY TOL "be1=W1 be2=W2 ...": the shares of a
# flowgen summary are within TOL percentage points of the weights, every
# flow was answered, and a backend of weight 0 got none.  Logs PASS/FAIL
# with the observed and wanted shares.
check_shares()
{
	local desc=$1 sum=$2 tol=$3 weights=$4 out

	out=$(awk -v sum="$sum" -v tol="$tol" -v weights="$weights" 'BEGIN {
		n = split(weights, w, " ")
		for (i = 1; i <= n; i++) {
			split(w[i], kv, "=")
			name[i] = kv[1]; wt[i] = kv[2]; wsum += kv[2]
		}
		m = split(sum, s, " ")
		for (i = 1; i <= m; i++) {
			split(s[i], kv, "=")
			got[kv[1]] = kv[2]
		}
		ok = got["ok"] + 0
		bad = (ok == 0 || got["refused"] + got["timeouts"] + got["errors"] > 0)
		msg = sprintf("%d flows, tolerance +-%s points:", ok, tol)
		for (i = 1; i <= n; i++) {
			c = got[name[i]] + 0
			want = 100 * wt[i] / wsum
			have = ok ? 100 * c / ok : 0
			d = have - want
			if (d < 0)
				d = -d
			if (wt[i] == 0 ? c > 0 : d > tol) {
				bad = 1
				flag = "!"
			} else {
				flag = ""
			}
			msg = msg sprintf(" %s%s w%d %d=%.1f%% (want %.1f%%)", flag, name[i], wt[i], c, have, want)
		}
		for (k in got)
			if (k ~ /^be/) {
				known = 0
				for (i = 1; i <= n; i++)
					if (name[i] == k)
						known = 1
				if (!known) {
					bad = 1
					msg = msg sprintf(" !%s=%d (not in the Service)", k, got[k])
				}
			}
		if (bad && got["refused"] + got["timeouts"] + got["errors"] > 0)
			msg = msg sprintf(" refused=%d timeouts=%d errors=%d", got["refused"], got["timeouts"], got["errors"])
		print msg
		exit bad
	}')
	if [ $? -eq 0 ]; then
		pass "$desc: $out"
	else
		fail "$desc: $out"
	fi
}

# map_diff A B: compare two "SPORT BACKEND" flow lists (flowgen -v) of the
# same source ports.  Prints "same N changed N missing N" and, after it,
# one line "SPORT OLD NEW" per flow that changed.
map_diff()
{
	awk 'NR == FNR { if ($1 ~ /^[0-9]+$/) a[$1] = $2; next }
	     $1 ~ /^[0-9]+$/ {
		if (!($1 in a)) { missing++; next }
		if (a[$1] == $2) same++
		else { changed++; d = d sprintf("%s %s %s\n", $1, a[$1], $2) }
		seen[$1] = 1
	     }
	     END {
		for (p in a) if (!(p in seen)) missing++
		printf "same %d changed %d missing %d\n%s", same, changed, missing, d
	     }' "$1" "$2"
}

# ------------------------------------------------------------ topology

# sched_topo NNODES NBE clients|router
#
# NNODES node namespaces (NODES[]: $node1...; $node is node1) in front of
# NBE backends be1..beNBE.  The backends are addresses, not namespaces:
# they all live in one namespace, $bens, each with its own address on lo,
# 10.244.K.2 and fd00:244:K::2 (be_addr4/be_addr6, as in the standard
# topology), and one flowgen process answers for all of them, each
# address with its own name (fg_backends).  Fewer namespaces and
# processes: a VM under software emulation spends seconds on each.
#
#   node I  be 10.(10+I).0.1/24 fd00:(10+I)::1/64 --- nI 10.(10+I).0.2 ...::2  $bens
#
# Each node routes 10.244.0.0/16 and fd00:244::/32 over its own link.
#
# Client side:
#   clients: one client per node (CLIENTS[]: $client1...; $client is
#            client1), each alone with its node on 10.0.1.0/24 fd00:1::/64
#            as in the standard topology: every client has the same
#            address, so the same source port makes the same 5-tuple
#            behind every node.
#   router:  one client behind a router ($client, $router):
#              client eth0 10.0.1.2 --- c0 10.0.1.1 router
#              router rI 10.1.I.1/24 fd00:1:I::1/64 --- rt 10.1.I.2 ...::2 node I
#            The router routes nothing to the VIPs (the test adds its ECMP
#            route); the nodes route everything else back to it.
#
# The answers of a flow go back through the node its latest packet came
# through: that node holds the conntrack entry that turns the backend's
# address back into the VIP.  In $bens:
#
#   - nft, prerouting (after conntrack): the link a packet comes in on
#     names its node, and is stored in the flow's conntrack mark,
#         iifname "n1" ct mark set 1 ...
#     on every packet, so when a flow moves to another node the mark
#     follows at its next packet;
#   - nft, output, a "route" chain (the kernel routes a packet again when
#     the chain changes its mark): meta mark set ct mark;
#   - policy routing: "ip rule add fwmark I table 100+I", table 100+I has
#     a default route via node I; the main table's default is via node 1.
#
# (With one node, its link is the only way back: no marks.)  rp_filter is
# 0 in $bens and the router (a flow that moved comes in on another link
# than the one the main table routes its source to), nodes and the router
# forward.  No Service anywhere: the test adds them.  The namespaces are
# named and cleaned up as lib.sh's setup_ns does.
sched_topo()
{
	local nn=$1 nb=$2 mode=$3
	local i k ns names=() rp

	[ -z "$NS_SUFFIX" ] && NS_SUFFIX=$(mktemp -u XXXXXX)
	# sched_ns VAR: as lib.sh's setup_ns, but only named here: one
	# "ip -batch" below creates them all (each "ip" costs most of a
	# second under software emulation)
	sched_ns() { eval "$1=$1-$NS_SUFFIX"; names+=("$1-$NS_SUFFIX"); }
	NODES=()
	CLIENTS=()
	for i in $(seq 1 "$nn"); do
		sched_ns "node$i"
		NODES+=("node$i-$NS_SUFFIX")
		if [ "$mode" = clients ]; then
			sched_ns "client$i"
			CLIENTS+=("client$i-$NS_SUFFIX")
		fi
	done
	sched_ns bens
	node=${NODES[0]}
	if [ "$mode" = router ]; then
		sched_ns client
		sched_ns router
	else
		client=${CLIENTS[0]}
	fi
	NBE=$nb
	NS_LIST+=("${names[@]}")

	{
		for ns in "${names[@]}"; do
			echo "netns add $ns"
		done
		for i in $(seq 1 "$nn"); do
			echo "link add be netns ${NODES[$((i - 1))]} type veth peer name n$i netns $bens"
			if [ "$mode" = clients ]; then
				echo "link add eth0 netns ${CLIENTS[$((i - 1))]} type veth peer name c0 netns ${NODES[$((i - 1))]}"
			else
				echo "link add r$i netns $router type veth peer name rt netns ${NODES[$((i - 1))]}"
			fi
		done
		[ "$mode" = router ] && echo "link add eth0 netns $client type veth peer name c0 netns $router"
	} | ip -batch - || { fail "creating the namespaces and links"; exit $ksft_fail; }

	# every sysctl of every namespace in one process
	rp=
	for ns in "${NODES[@]}"; do
		rp="$rp $ns:net.ipv4.ip_forward=1 $ns:net.ipv6.conf.all.forwarding=1"
	done
	rp="$rp $bens:net.ipv4.conf.all.rp_filter=0 $bens:net.ipv4.conf.default.rp_filter=0"
	for i in $(seq 1 "$nn"); do
		rp="$rp $bens:net.ipv4.conf.n$i.rp_filter=0"
	done
	if [ "$mode" = router ]; then
		rp="$rp $router:net.ipv4.conf.all.rp_filter=0 $router:net.ipv4.conf.default.rp_filter=0"
		for i in $(seq 1 "$nn"); do
			rp="$rp $router:net.ipv4.conf.r$i.rp_filter=0"
		done
		rp="$rp $router:net.ipv4.ip_forward=1 $router:net.ipv6.conf.all.forwarding=1"
	fi
	# shellcheck disable=SC2086
	"$FLOWGEN" --sysctl $rp || { fail "sysctls"; exit $ksft_fail; }

	for i in $(seq 1 "$nn"); do
		{
			echo "link set lo up"
			echo "addr add 10.$((10 + i)).0.1/24 dev be"
			echo "addr add fd00:$((10 + i))::1/64 dev be nodad"
			echo "link set be up"
			echo "route add 10.244.0.0/16 via 10.$((10 + i)).0.2"
			echo "route add fd00:244::/32 via fd00:$((10 + i))::2"
			if [ "$mode" = clients ]; then
				echo "addr add $NODE4/24 dev c0"
				echo "addr add $NODE6/64 dev c0 nodad"
				echo "link set c0 up"
			else
				echo "addr add 10.1.$i.2/24 dev rt"
				echo "addr add fd00:1:$i::2/64 dev rt nodad"
				echo "link set rt up"
				echo "route add default via 10.1.$i.1"
				echo "route add ::/0 via fd00:1:$i::1"
			fi
		} | ip -n "${NODES[$((i - 1))]}" -batch - || exit $ksft_fail
	done

	{
		echo "link set lo up"
		for k in $(seq 1 "$nb"); do
			echo "addr add $(be_addr4 "$k")/32 dev lo"
			echo "addr add $(be_addr6 "$k")/128 dev lo"
		done
		for i in $(seq 1 "$nn"); do
			echo "addr add 10.$((10 + i)).0.2/24 dev n$i"
			echo "addr add fd00:$((10 + i))::2/64 dev n$i nodad"
			echo "link set n$i up"
			echo "route add default via 10.$((10 + i)).0.1 dev n$i table $((100 + i))"
			echo "route add ::/0 via fd00:$((10 + i))::1 dev n$i table $((100 + i))"
			[ "$nn" -gt 1 ] && echo "rule add fwmark $i table $((100 + i))"
		done
		echo "route add default via 10.11.0.1"
		echo "route add ::/0 via fd00:11::1"
	} | ip -n "$bens" -batch - || exit $ksft_fail
	# one node: its link is the only way back, no marks needed
	[ "$nn" -gt 1 ] && sched_topo_return "$nn"

	if [ "$mode" = clients ]; then
		for ns in "${CLIENTS[@]}"; do
			ip -n "$ns" -batch - <<-EOF || exit $ksft_fail
				link set lo up
				addr add $CLIENT4/24 dev eth0
				addr add $CLIENT6/64 dev eth0 nodad
				link set eth0 up
				route add default via $NODE4
				route add ::/0 via $NODE6
			EOF
		done
	else
		{
			echo "link set lo up"
			echo "addr add $NODE4/24 dev c0"
			echo "addr add $NODE6/64 dev c0 nodad"
			echo "link set c0 up"
			for i in $(seq 1 "$nn"); do
				echo "addr add 10.1.$i.1/24 dev r$i"
				echo "addr add fd00:1:$i::1/64 dev r$i nodad"
				echo "link set r$i up"
			done
		} | ip -n "$router" -batch - || exit $ksft_fail
		ip -n "$client" -batch - <<-EOF || exit $ksft_fail
			link set lo up
			addr add $CLIENT4/24 dev eth0
			addr add $CLIENT6/64 dev eth0 nodad
			link set eth0 up
			route add default via $NODE4
			route add ::/0 via $NODE6
		EOF
	fi
}

# sched_topo_return NNODES: in $bens, answers go back through the node the
# flow's latest packet came from (see sched_topo)
sched_topo_return()
{
	local i

	for i in $(seq 1 "$1"); do
		echo "rule add fwmark $i table $((100 + i))"
	done | ip -n "$bens" -6 -batch - || exit $ksft_fail
	{
		echo "table inet kcip_return {"
		echo "	chain pre {"
		echo "		type filter hook prerouting priority mangle; policy accept;"
		for i in $(seq 1 "$1"); do
			echo "		iifname \"n$i\" ct mark set $i"
		done
		echo "	}"
		echo "	chain out {"
		echo "		type route hook output priority mangle; policy accept;"
		echo "		ct mark != 0 meta mark set ct mark"
		echo "	}"
		echo "}"
	} | ip netns exec "$bens" nft -f - || { fail "nft in $bens"; exit $ksft_fail; }
}

# fg_backends PORT [PROTO]: one flowgen process in $bens answering as beK
# on be_addr4 K and be_addr6 K, for K = 1..NBE, on PORT
fg_backends()
{
	local k spec=

	for k in $(seq 1 "$NBE"); do
		spec="$spec${spec:+,}be$k@$(be_addr4 "$k"),be$k@$(be_addr6 "$k")"
	done
	fg_server "$bens" "$spec" "$1" "$2"
}

# svc_lines SERVICE BEPORT ORDER [svc options]: "kcipctl restore" lines for
# a Service whose backends are beK:BEPORT (same family as SERVICE), in the
# order given by ORDER ("1 2 3", "3 1 2", ...), each "K" or "K:W" (weight W)
svc_lines()
{
	local s=$1 beport=$2 order=$3 k w a
	shift 3

	echo "service add $s $*"
	for k in $order; do
		w=
		if [[ $k == *:* ]]; then
			w=" weight ${k#*:}"
			k=${k%%:*}
		fi
		case $s in
		\[*) a=$(be_addr6 "$k") ;;
		*) a=$(be_addr4 "$k") ;;
		esac
		echo "backend add $s $(be "$a" "$beport")$w"
	done
}

# add_service_be NS SERVICE BEPORT ORDER [svc options]: the same Service
# as svc_lines, made by one "kcipctl service add" and one "kcipctl backend
# add" per backend, in ORDER
add_service_be()
{
	local ns=$1 s=$2 line
	shift 2

	while read -r line; do
		# shellcheck disable=SC2086
		kcip -n "$ns" $line || { fail "kcipctl $line in $ns"; return 1; }
	done < <(svc_lines "$s" "$@")
}

# restore NS: the state of NS becomes the "kcipctl restore" lines on stdin
restore()
{
	kcip -n "$1" restore - || { fail "kcipctl restore in $1"; return 1; }
}

# ------------------------------------------------------------ build cost

# bench_files DIR SIZES...: for each size N, DIR/N.random and
# DIR/N.maglev, restore files with bench_k(N) Services 10.96.200.J:80/tcp
# of N backends 10.245.x.y:8080 each (one awk for all: no process start
# per file)
bench_files()
{
	local dir=$1 n ks=
	shift

	for n in "$@"; do
		ks="$ks $n:$(bench_k "$n")"
	done
	awk -v dir="$dir" -v ks="$ks" 'BEGIN {
		m = split(ks, a, " ")
		for (x = 1; x <= m; x++) {
			split(a[x], nk, ":")
			n = nk[1]; k = nk[2]
			for (y = 0; y < 2; y++) {
				sched = y ? "maglev" : "random"
				f = dir "/" n "." sched
				for (j = 1; j <= k; j++) {
					s = "10.96.200." j ":80/tcp"
					print "service add " s " sched " sched > f
					for (i = 1; i <= n; i++)
						printf "backend add %s 10.245.%d.%d:8080\n", s, int(i / 250), i % 250 + 1 > f
				}
				close(f)
			}
		}
	}'
}

# bench_k N: how many Services of N backends to measure at once (enough
# for a memory figure above the noise, a few for big ones); BENCH_SERVICES
# overrides
bench_k()
{
	local k=$((2000 / $1))

	[ -n "$BENCH_SERVICES" ] && k=$BENCH_SERVICES
	[ $k -gt 32 ] && k=32
	[ $k -lt 2 ] && k=2
	echo $k
}

# bench_cg: a memory cgroup for the kcipctl runs (their kernel allocations
# are charged to it: the module allocates with __GFP_ACCOUNT); sets CG to
# its directory, or to nothing when there is no cgroup v2 memory
# controller.  (Builtins only, here and below: under software emulation
# every process started costs up to a second.)
bench_cg()
{
	local root=/sys/fs/cgroup l

	CG=
	[ -f $root/cgroup.controllers ] || return 0
	read -r l < $root/cgroup.controllers
	[[ " $l " == *" memory "* ]] || return 0
	read -r l < $root/cgroup.subtree_control
	if [[ " $l " != *" memory "* ]]; then
		echo +memory > $root/cgroup.subtree_control 2> /dev/null || return 0
	fi
	CG=$root/kcip-bench-$$
	mkdir "$CG" 2> /dev/null || { CG=; return 0; }
	[ -f "$CG/memory.current" ] || { rmdir "$CG"; CG=; }
	return 0
}

# in_cg CG CMD...: run CMD in cgroup CG (or where we are, CG empty)
in_cg()
{
	local cg=$1
	shift
	(
		[ -n "$cg" ] && echo "$BASHPID" > "$cg/cgroup.procs"
		exec "$@"
	)
}

# bench_trace_on FUNC: time every call of FUNC with ftrace's function_graph
# tracer; false when there is no tracefs or FUNC cannot be traced
BENCH_T=
bench_trace_on()
{
	local t

	for t in /sys/kernel/tracing /sys/kernel/debug/tracing; do
		[ -w "$t/current_tracer" ] && BENCH_T=$t && break
	done
	[ -n "$BENCH_T" ] || return 1
	echo 0 > "$BENCH_T/tracing_on"
	echo "$1" > "$BENCH_T/set_ftrace_filter" 2> /dev/null || { BENCH_T=; return 1; }
	echo function_graph > "$BENCH_T/current_tracer" 2> /dev/null ||
		{ echo > "$BENCH_T/set_ftrace_filter"; BENCH_T=; return 1; }
	echo > "$BENCH_T/trace"
	echo 1 > "$BENCH_T/tracing_on"
}

# bench_trace_median: the median duration (us) of the calls traced since
# the last call, "n/a" without ftrace
bench_trace_median()
{
	local l v=()

	if [ -z "$BENCH_T" ]; then
		echo n/a
		return
	fi
	# " 1) ! 1234.567 us |  kcip_sched_prepare [kclusterip]();"
	while read -r l; do
		[[ $l =~ ([0-9]+\.[0-9]+)\ us\ *\| ]] && v+=("${BASH_REMATCH[1]}")
	done < "$BENCH_T/trace"
	echo > "$BENCH_T/trace"
	if [ ${#v[@]} -eq 0 ]; then
		echo n/a
		return
	fi
	# sort as integers (ns), no sort(1)
	local i j x fr n=${#v[@]} a=()
	for x in "${v[@]}"; do
		fr=${x#*.}000
		a+=($((10#${x%.*} * 1000 + 10#${fr:0:3})))
	done
	for ((i = 1; i < n; i++)); do
		x=${a[i]}
		for ((j = i - 1; j >= 0 && a[j] > x; j--)); do
			a[j + 1]=${a[j]}
		done
		a[j + 1]=$x
	done
	x=${a[(n - 1) / 2]}
	printf '%d.%03d\n' $((x / 1000)) $((x % 1000))
}

bench_trace_off()
{
	[ -n "$BENCH_T" ] || return 0
	echo 0 > "$BENCH_T/tracing_on"
	echo nop > "$BENCH_T/current_tracer"
	echo > "$BENCH_T/set_ftrace_filter"
	echo > "$BENCH_T/trace"
	echo 1 > "$BENCH_T/tracing_on"
}

# maglev_table_size N MIN: the table size kmod/sched.c picks for N
# backends: the first of its steps at least max(maglev_min_size,
# 100 x N) (kcip_maglev_size(); keep the two in step)
maglev_table_size()
{
	local want=$((100 * $1)) m

	[ "$2" -gt "$want" ] && want=$2
	for m in 1021 4093 16381 65521 262139 1048573; do
		[ "$m" -ge "$want" ] && break
	done
	echo "$m"
}

# maglev_build_report NS [SIZES]: for Services of 10, 100 and 1000
# backends, sched random and maglev, how long the kernel takes to build a
# Service's config (kcip_sched_prepare(), timed by ftrace: the Maglev
# table build for maglev), the wall time of a "kcipctl restore" per
# Service (K Services in one restore), and the kernel memory one Service
# holds (memory.current of the cgroup kcipctl ran in, over K Services).
# Makes NS's state empty: give it a namespace of its own.
maglev_build_report()
{
	local ns=$1 sizes=${2:-10 100 1000}
	local dir empty n k sched t m0 m1 mem tsize build wall traced=1 min
	local kcip_bin fd i prev

	kcip_bin=$(command -v "$KCIPCTL")
	min=1021
	[ -r /sys/module/kclusterip/parameters/maglev_min_size ] &&
		read -r min < /sys/module/kclusterip/parameters/maglev_min_size
	bench_cg
	dir=$(mktemp -d "/tmp/kcip-$TESTNAME.XXXXXX") || return 1
	TMPFILES+=("$dir")
	empty=$dir/empty
	: > "$empty"
	# shellcheck disable=SC2086
	bench_files "$dir" $sizes
	# sleeps without starting a process: read with a timeout from a pipe
	# nobody writes to
	exec {fd}<> <(:)
	bench_trace_on kcip_sched_prepare || traced=
	# warm up: the binary's page cache charged now, not in a measurement
	in_cg "$CG" "$kcip_bin" -n "$ns" restore "$empty"

	printf '%-8s  %-6s  %7s  %3s  %10s  %13s  %9s\n' backends sched table \
		svc build_us restore_ms/svc memory_kB
	for n in $sizes; do
		k=$(bench_k "$n")
		for sched in random maglev; do
			"$kcip_bin" -n "$ns" restore "$empty" || return 1
			# until RCU has freed the old configs: memory.current
			# steady for 0.3 s (3 s at most)
			if [ -n "$CG" ]; then
				prev=
				for i in 1 2 3 4 5 6 7 8 9 10; do
					read -rt 0.3 -u "$fd"
					read -r m0 < "$CG/memory.current"
					[ "$m0" = "$prev" ] && break
					prev=$m0
				done
			fi
			bench_trace_median > /dev/null
			t=${EPOCHREALTIME/[.,]/}
			in_cg "$CG" "$kcip_bin" -n "$ns" restore "$dir/$n.$sched" || return 1
			t=$((${EPOCHREALTIME/[.,]/} - t))
			[ -n "$CG" ] && read -r m1 < "$CG/memory.current"
			build=$(bench_trace_median)
			t=$((t / k))
			wall=$(printf '%d.%d' $((t / 1000)) $((t % 1000 / 100)))
			mem=n/a
			[ -n "$CG" ] && mem=$(( (m1 - m0) / 1024 / k ))
			tsize=-
			[ "$sched" = maglev ] && tsize=$(maglev_table_size "$n" "$min")
			printf '%-8s  %-6s  %7s  %3s  %10s  %13s  %9s\n' "$n" "$sched" \
				"$tsize" "$k" "$build" "$wall" "$mem"
		done
	done
	"$kcip_bin" -n "$ns" restore "$empty"
	exec {fd}<&-
	bench_trace_off
	[ -n "$CG" ] && rmdir "$CG" 2> /dev/null
	echo "svc: Services measured together (one restore); figures are per Service"
	echo "build_us: kcip_sched_prepare() (with the Maglev table build), median over them, by ftrace"
	[ -z "$traced" ] && echo "  (no ftrace here: build_us not measured)"
	echo "restore_ms/svc: wall time of the \"kcipctl restore\" (kcipctl's start included) / svc"
	echo "memory_kB: kernel memory charged (cgroup memory.current) / svc: config, per-CPU counters, table"
	[ -z "$CG" ] && echo "  (no cgroup v2 memory controller here: memory not measured)"
	echo "table: Maglev lookup table entries, 4 bytes each (maglev_min_size $min)"
}

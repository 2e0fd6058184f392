#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers for the kclusterip selftests, in the style of
# tools/testing/selftests/net/lib.sh and net/netfilter/lib.sh.
#
# A test does:
#	source "$(dirname "$0")/lib.sh"
#	kcip_require		# root, tools, module (or exit $ksft_skip)
#	setup_topo		# client, node, be1 be2 be3 (see below)
#	...
#	check "what" cmd args...
#	ksft_exit
#
# Topology made by setup_topo (one veth pair per link, no bridge):
#
#   client eth0 10.0.1.2/24 fd00:1::2/64
#     |
#   node   c0   10.0.1.1/24 fd00:1::1/64    (forwarding on, kclusterip here)
#          b1   10.244.1.1/24 fd00:244:1::1/64 --- be1 eth0 10.244.1.2 fd00:244:1::2
#          b2   10.244.2.1/24 fd00:244:2::1/64 --- be2 eth0 10.244.2.2 fd00:244:2::2
#          b3   10.244.3.1/24 fd00:244:3::1/64 --- be3 eth0 10.244.3.2 fd00:244:3::2
#
# Client and backends route everything via the node.  Service VIPs live in
# 10.96.0.0/16 and fd00:96::/64, which exist nowhere: only kclusterip on the
# node makes them answer.

ksft_pass=0
ksft_fail=1
ksft_xfail=2
ksft_skip=4

KCIPCTL=${KCIPCTL:-kcipctl}
LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TESTNAME=$(basename "$0" .sh)

# VIPs and addresses used by the topology
VIP4=10.96.0.10
VIP6=fd00:96::10
CLIENT4=10.0.1.2
CLIENT6=fd00:1::2
NODE4=10.0.1.1
NODE6=fd00:1::1
be_addr4() { echo "10.244.$1.2"; }
be_addr6() { echo "fd00:244:$1::2"; }

NS_LIST=()
BG_PIDS=()
TMPFILES=()
nfail=0
npass=0

# log: progress line, with the seconds since the test started (slow VMs)
log() { echo "# [${SECONDS}s] $*"; }
log_info() { echo "# INFO: $*"; }

# KCIP_TIMING=1: PASS/FAIL lines carry the time too
ts() { [ -n "$KCIP_TIMING" ] && echo "[${SECONDS}s] "; }

fail()
{
	echo "# $(ts)FAIL: $*"
	nfail=$((nfail + 1))
}

pass()
{
	echo "# $(ts)PASS: $*"
	npass=$((npass + 1))
}

# check "description" cmd [args...]: run cmd, count and log the outcome.
# Output of cmd is shown (prefixed) only when it fails.
check()
{
	local desc=$1
	shift
	local out

	if out=$("$@" 2>&1); then
		pass "$desc"
		return 0
	fi
	fail "$desc"
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
	return 1
}

# check_fail "description" cmd [args...]: like check, but cmd must fail.
check_fail()
{
	local desc=$1
	shift
	local out

	if out=$("$@" 2>&1); then
		fail "$desc (unexpectedly succeeded)"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
		return 1
	fi
	pass "$desc"
	return 0
}

ksft_exit()
{
	log "$TESTNAME: $npass passed, $nfail failed"
	if [ "$nfail" -gt 0 ]; then
		exit $ksft_fail
	fi
	exit $ksft_pass
}

skip()
{
	echo "# SKIP: $*"
	exit $ksft_skip
}

# checktool "cmd args" "what is skipped"
checktool()
{
	if ! $1 > /dev/null 2>&1; then
		skip "Could not $2: '$1' failed"
	fi
}

mktemp_file()
{
	local f

	f=$(mktemp "/tmp/kcip-$TESTNAME.XXXXXX") || exit $ksft_fail
	TMPFILES+=("$f")
	echo "$f"
}

# bsleep SECONDS: sleep without starting a process, by reading with a
# timeout from a pipe this shell holds both ends of (nobody writes to it).
# /bin/sleep costs seconds of CPU on the debug kernel under load, and
# busywait polls every 0.1 s.  The pipe is opened on first use (a
# subshell inherits it), and again if a read ends other than by its
# timeout (status 128 and up): the descriptor was closed under us.
KCIP_SLEEPFD=
bsleep()
{
	local rc=0

	[ -n "$KCIP_SLEEPFD" ] || exec {KCIP_SLEEPFD}<> <(:)
	read -r -t "$1" -u "$KCIP_SLEEPFD" _ 2> /dev/null || rc=$?
	if [ "$rc" -le 128 ]; then
		exec {KCIP_SLEEPFD}<> <(:)
		read -r -t "$1" -u "$KCIP_SLEEPFD" _ 2> /dev/null
	fi
	return 0
}

# busywait_ms: the time in milliseconds, from bash's own clock
busywait_ms()
{
	local t=${EPOCHREALTIME/[.,]/}

	echo $((t / 1000))
}

# busywait TIMEOUT_MS cmd [args...]: retry cmd until it succeeds or the
# timeout passes; prints cmd's last stdout.  KCIP_TIME_SCALE (default 1)
# multiplies the timeout: make check-debug's kernel is several times slower.
busywait()
{
	local timeout=$(($1 * ${KCIP_TIME_SCALE:-1}))
	shift
	local start_time
	local out

	# bash's clock, not date(1): a process per poll is costly on the
	# debug kernel, where several tests poll at once
	start_time=$(busywait_ms)
	while true; do
		if out=$("$@"); then
			[ -n "$out" ] && echo "$out"
			return 0
		fi
		if (($(busywait_ms) - start_time > timeout)); then
			[ -n "$out" ] && echo "$out"
			return 1
		fi
		bsleep 0.1
	done
}

# ---------------------------------------------------------------- netns

# setup_ns VAR...: create one netns per VAR, named VAR-<random>, lo up, and
# set VAR to its name.
setup_ns()
{
	local var name

	[ -z "$NS_SUFFIX" ] && NS_SUFFIX=$(mktemp -u XXXXXX)
	for var in "$@"; do
		name="${var}-${NS_SUFFIX}"
		if ! ip netns add "$name"; then
			echo "# FAIL: could not create netns $name"
			exit $ksft_fail
		fi
		NS_LIST+=("$name")
		ip -n "$name" link set lo up
		eval "$var=$name"
	done
}

# ns_pids NS: NS_PIDS=(the processes in netns NS), as "ip netns pids"
# finds them (their /proc/PID/ns/net is /run/netns/NS), but in bash: a
# test deleting hundreds of netns would start three ip per netns
ns_pids()
{
	local p

	NS_PIDS=()
	for p in /proc/[0-9]*; do
		[ "$p/ns/net" -ef "/run/netns/$1" ] 2> /dev/null && NS_PIDS+=("${p#/proc/}")
	done
	[ ${#NS_PIDS[@]} -gt 0 ]
}

# Kill every process still running in one netns (by pid).
kill_ns_pids()
{
	ns_pids "$1" || return 0
	kill "${NS_PIDS[@]}" 2> /dev/null
	ns_pids "$1" || return 0
	bsleep 0.2
	ns_pids "$1" && kill -9 "${NS_PIDS[@]}" 2> /dev/null
	return 0
}

cleanup_ns()
{
	local ns

	for ns in "$@"; do
		kill_ns_pids "$ns"
		ip netns del "$ns" 2> /dev/null
	done
}

cleanup_all_ns()
{
	local pid ns

	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2> /dev/null
	done
	for ns in "${NS_LIST[@]}"; do
		cleanup_ns "$ns"
	done
	NS_LIST=()
	BG_PIDS=()
}

cleanup()
{
	cleanup_all_ns
	[ ${#TMPFILES[@]} -gt 0 ] && rm -rf "${TMPFILES[@]}"
	# mktemp_file is mostly called as F=$(mktemp_file), in a subshell
	# whose TMPFILES is lost: its files go by their name
	rm -rf "/tmp/kcip-$TESTNAME".?????? "/tmp/kcip-$TESTNAME".??????.rc
	return 0
}

# Tests set their own trap if they need more; this is the default.  A
# timeout (run_tests.sh's, SIGTERM to the process group) or ^C cleans up too.
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ------------------------------------------------------------ requirements

kcip_require_root()
{
	[ "$(id -u)" -eq 0 ] || skip "need root"
}

# Load the module (autoload also happens on first kcipctl use).
kcip_require_module()
{
	if [ -d /sys/module/kclusterip ]; then
		return 0
	fi
	modprobe kclusterip 2> /dev/null
	if [ ! -d /sys/module/kclusterip ]; then
		skip "kclusterip module not available (modprobe kclusterip failed)"
	fi
}

# Everything most tests need.
kcip_require()
{
	kcip_require_root
	checktool "ip -V" "run test without iproute2"
	checktool "socat -V" "run test without socat"
	checktool "python3 -V" "run test without python3"
	checktool "$KCIPCTL -h" "run test without kcipctl"
	kcip_require_module
	dmesg_mark
}

# ------------------------------------------------------------ kernel log

DMESG_LINES=0
dmesg_mark()
{
	DMESG_LINES=$(dmesg 2> /dev/null | wc -l)
}

# Fail if the kernel logged a splat since dmesg_mark.
dmesg_check()
{
	local bad

	bad=$(dmesg 2> /dev/null | tail -n +$((DMESG_LINES + 1)) |
	      grep -E -i 'WARNING:|BUG:|Oops|general protection|KASAN|UBSAN|kmemleak|refcount_t|use-after-free|Call Trace|RCU.*stall|lockdep|possible .*deadlock|suspicious RCU|sleeping function')
	if [ -n "$bad" ]; then
		fail "kernel log has errors since test start"
		printf '%s\n' "$bad" | head -n 30 | sed 's/^/#   /'
		return 1
	fi
	pass "kernel log clean"
	return 0
}

# ------------------------------------------------------------ topology

# Wait until no address in NS is tentative any more (nodad makes this quick).
wait_addrs()
{
	busywait 5000 sh -c "[ -z \"\$(ip -n $1 -6 addr show tentative)\" ]" > /dev/null
}

# setup_topo [NBACKENDS]: client, node and NBACKENDS (default 3) backends.
setup_topo()
{
	local nbe=${1:-3}
	local i ns

	setup_ns client node
	BACKENDS=()
	for i in $(seq 1 "$nbe"); do
		setup_ns "be$i"
		BACKENDS+=("$(eval echo "\$be$i")")
	done

	# One "ip -batch" per netns: every process start counts in a VM.
	# Addresses are "nodad": usable at once, no waiting for DAD.
	{
		echo "link add eth0 netns $client type veth peer name c0 netns $node"
		for i in $(seq 1 "$nbe"); do
			echo "link add eth0 netns ${BACKENDS[$((i - 1))]} type veth peer name b$i netns $node"
		done
	} | ip -batch - || exit $ksft_fail

	ip -n "$client" -batch - <<-EOF || exit $ksft_fail
		addr add $CLIENT4/24 dev eth0
		addr add $CLIENT6/64 dev eth0 nodad
		link set eth0 up
		route add default via $NODE4
		route add ::/0 via $NODE6
	EOF
	{
		echo "addr add $NODE4/24 dev c0"
		echo "addr add $NODE6/64 dev c0 nodad"
		echo "link set c0 up"
		for i in $(seq 1 "$nbe"); do
			echo "addr add 10.244.$i.1/24 dev b$i"
			echo "addr add fd00:244:$i::1/64 dev b$i nodad"
			echo "link set b$i up"
		done
	} | ip -n "$node" -batch - || exit $ksft_fail
	for i in $(seq 1 "$nbe"); do
		ip -n "${BACKENDS[$((i - 1))]}" -batch - <<-EOF || exit $ksft_fail
			addr add $(be_addr4 "$i")/24 dev eth0
			addr add $(be_addr6 "$i")/64 dev eth0 nodad
			link set eth0 up
			route add default via 10.244.$i.1
			route add ::/0 via fd00:244:$i::1
		EOF
	done

	ip netns exec "$node" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# Check plain routing client <-> last backend, v4 and v6, before kclusterip
# gets involved: a broken topology should not look like a module bug.
check_topo()
{
	local n=${#BACKENDS[@]}

	if ! busywait 5000 ip netns exec "$client" ping -q -c 1 -W 1 "$(be_addr4 "$n")" > /dev/null ||
	   ! busywait 5000 ip netns exec "$client" ping -q -c 1 -W 1 "$(be_addr6 "$n")" > /dev/null; then
		fail "topology: client cannot reach be$n"
		exit $ksft_fail
	fi
}

# node-local route for the VIP ranges, so that sockets in the node itself
# can connect to a VIP (routing happens before LOCAL_OUT).  The route points
# at the client link with no gateway: if kclusterip does not DNAT, the
# connection just times out.
route_vips_from_node()
{
	ip -n "$node" route add 10.96.0.0/16 dev c0
	ip -n "$node" -6 route add fd00:96::/64 dev c0
}

# ------------------------------------------------------------ nsrun

# nsrun_start: from here on, start_server and flows fork their Python
# helper from one kcip_nsrun.py process instead of starting Python anew in
# each netns (seconds of CPU each on the debug kernel).  For tests that
# make many namespaces.
nsrun_start()
{
	NSRUN_FIFO=$(mktemp_file)
	rm -f "$NSRUN_FIFO"
	mkfifo "$NSRUN_FIFO" || exit $ksft_fail
	python3 -S "$LIBDIR/kcip_nsrun.py" "$NSRUN_FIFO" &
	NSRUN_PID=$!
	BG_PIDS+=($!)
}

# nsrun_bg NS SCRIPT ARGS...: SCRIPT (a selftests Python helper) in NS, in
# the background; sets NSRUN_OUT to the file that gets its output, and
# that file's .rc its exit status when it ends.
nsrun_bg()
{
	local ns=$1 line

	shift
	NSRUN_OUT=$(mktemp_file)
	TMPFILES+=("$NSRUN_OUT.rc")
	if ! kill -0 "$NSRUN_PID" 2> /dev/null; then
		echo "# kcip_nsrun.py is not running" > "$NSRUN_OUT"
		echo 1 > "$NSRUN_OUT.rc"
		return 1
	fi
	# one line a request, shorter than PIPE_BUF and written in one go:
	# requests from tests' background jobs do not interleave
	line=$(printf '%q ' "$NSRUN_OUT" "$ns" "$@")
	echo "$line" > "$NSRUN_FIFO"
}

# nsrun_wait [TIMEOUT_MS]: wait for the last nsrun_bg to end; prints its
# output and returns its status (1 if it did not end in time).
nsrun_wait()
{
	local out=$NSRUN_OUT l rc

	busywait "${1:-600000}" test -s "$out.rc"
	# (read, not cat: no process per flow on the debug kernel)
	while IFS= read -r l || [ -n "$l" ]; do
		printf '%s\n' "$l"
	done < "$out"
	[ -s "$out.rc" ] || return 1
	read -r rc < "$out.rc"
	return "$rc"
}

# nsrun NS SCRIPT ARGS...: SCRIPT in NS, to its end (as ip netns exec
# would run it)
nsrun()
{
	nsrun_bg "$@"
	nsrun_wait
}

# ------------------------------------------------------------ servers

# listening NS PROTO[,PROTO...] PORT: true when something listens on PORT
# for every PROTO.  One awk over the netns's /proc/net tables, not ss: ss
# takes about 2 s a call on the debug kernel (it has no INET_DIAG, so ss
# falls back to these files the slow way), and every server start polls
# this.  TCP counts in state LISTEN (0A), UDP bound and unconnected (07);
# SCTP endpoints are listed with a decimal port.
listening()
{
	local p f files=()

	for p in ${2//,/ }; do
		case $p in
		tcp | udp) files+=("/proc/net/$p" "/proc/net/${p}6") ;;
		sctp) files+=(/proc/net/sctp/eps) ;;
		*) return 1 ;;
		esac
	done
	# mawk stops at a file it cannot open: only those this kernel has
	# (the same names in every netns)
	for f in "${!files[@]}"; do
		[ -r "${files[$f]}" ] || unset "files[$f]"
	done
	[ ${#files[@]} -gt 0 ] || return 1
	ip netns exec "$1" awk -v protos="$2" -v port="$3" '
		FNR == 1 { split(FILENAME, a, "/"); p = a[4]; sub(/6$/, "", p); next }
		p == "sctp" { if ($6 == port) up["sctp"] = 1; next }
		{
			n = split($2, la, ":")
			if (la[n] != sprintf("%04X", port)) next
			if ((p == "tcp" && $4 == "0A") || (p == "udp" && $4 == "07"))
				up[p] = 1
		}
		END {
			n = split(protos, want, ",")
			for (i = 1; i <= n; i++)
				if (!(want[i] in up)) exit 1
		}' "${files[@]}" 2> /dev/null
}

# start_server NS NAME PROTO[,PROTO...] PORT [--lines]: a server (kcip_server.py) in
# NS that answers every connection (or new UDP peer) with a line
# "NAME PEER" and then echoes what it gets (--lines: line by line, each
# prefixed "NAME=").  Dual-stack.  Threads, not a process per connection
# like socat's fork: that costs half a second a flow in an emulated VM.
# Waits until the server says every socket is up (--ready).
start_server()
{
	local ns=$1 name=$2 proto=$3 port=$4
	shift 4

	SERVER_READY=$(mktemp_file)
	if [ -n "$NSRUN_FIFO" ]; then
		nsrun_bg "$ns" "$LIBDIR/kcip_server.py" --name "$name" \
			--proto "$proto" --port "$port" --ready "$SERVER_READY" "$@"
	else
		ip netns exec "$ns" python3 -S "$LIBDIR/kcip_server.py" --name "$name" \
			--proto "$proto" --port "$port" --ready "$SERVER_READY" "$@" \
			> /dev/null 2>&1 &
		BG_PIDS+=($!)
	fi
	[ -n "$NOWAIT" ] && return 0
	if ! busywait 60000 test -s "$SERVER_READY"; then
		fail "$proto server $name on port $port did not start"
		exit $ksft_fail
	fi
}

# start_line_server NS NAME PORT: TCP server that prefixes every line it
# echoes with "NAME=" (for kcip_client.py --long and --prefixed).
start_line_server()
{
	start_server "$1" "$2" tcp "$3" --lines
}

# start_servers PROTO[,PROTO...] PORT: one server per backend, named be1,
# be2, ..., serving every PROTO (e.g. "tcp,udp") on PORT
start_servers()
{
	local i ready=()

	for i in $(seq 1 ${#BACKENDS[@]}); do
		NOWAIT=1 start_server "${BACKENDS[$((i - 1))]}" "be$i" "$1" "$2"
		ready+=("$SERVER_READY")
	done
	for i in $(seq 1 ${#BACKENDS[@]}); do
		if ! busywait 60000 test -s "${ready[$((i - 1))]}"; then
			fail "$1 server be$i on port $2 did not start"
			exit $ksft_fail
		fi
	done
}

# ------------------------------------------------------------ clients

# bracket ADDR: [v6] or v4 as socat and kcipctl want it
bracket()
{
	case $1 in
	*:*) echo "[$1]" ;;
	*) echo "$1" ;;
	esac
}

# socat_request NS PROTO ADDR PORT INFILE OUTFILE: one flow with the socat
# client; OUTFILE gets what the server sent.
socat_request()
{
	local ns=$1 proto=$2 addr=$3 port=$4 in=$5 out=$6
	local t

	case $proto in
	tcp) t=TCP ;;
	udp) t=UDP ;;
	sctp) t=SCTP ;;
	esac
	# -t: how long to keep reading after our EOF.  TCP/SCTP end sooner,
	# when the server closes; UDP has no EOF and always waits it out.
	if [ "$proto" = udp ]; then
		ip netns exec "$ns" timeout 20 socat -t 2 -T 10 - \
			"$t:$(bracket "$addr"):$port" < "$in" > "$out"
	elif [ "$proto" = sctp ]; then
		# SCTP has no half-close: after our SHUTDOWN the server could
		# not echo any more.  Ignore EOF on stdin; end 3 s after the echo.
		ip netns exec "$ns" timeout 20 socat -T 3 STDIO,ignoreeof \
			"$t:$(bracket "$addr"):$port" < "$in" > "$out"
		[ -s "$out" ]
	else
		ip netns exec "$ns" timeout 20 socat -t 10 -T 10 - \
			"$t:$(bracket "$addr"):$port" < "$in" > "$out"
	fi
}

# payload_roundtrip NS PROTO ADDR PORT: send a random payload through one
# flow and compare what came back (after the backend's name line) byte for
# byte.  Prints the backend name on success.
payload_roundtrip()
{
	local ns=$1 proto=$2 addr=$3 port=$4
	local in out back name size=2000

	# UDP: one datagram, keep it below the MTU
	[ "$proto" = udp ] && size=900
	in=$(mktemp_file)
	out=$(mktemp_file)
	back=$(mktemp_file)
	head -c $size /dev/urandom | base64 > "$in"
	if ! socat_request "$ns" "$proto" "$addr" "$port" "$in" "$out"; then
		echo "socat $proto to $addr:$port failed"
		return 1
	fi
	name=$(head -n 1 "$out" | cut -d' ' -f1)
	tail -n +2 "$out" > "$back"
	if ! cmp -s "$in" "$back"; then
		echo "payload mismatch via $addr:$port/$proto (from '$name'): sent $(wc -c < "$in") bytes, got $(wc -c < "$back") back"
		return 1
	fi
	echo "$name"
}

# flows NS PROTO ADDR PORT COUNT [extra kcip_client.py args]: COUNT flows,
# each with its own payload compared byte for byte; prints the summary line
# "be1=N be2=N ... errors=N" of kcip_client.py and returns its status.
flows()
{
	local ns=$1 proto=$2 addr=$3 port=$4 count=$5
	shift 5

	if [ -n "$NSRUN_FIFO" ]; then
		nsrun "$ns" "$LIBDIR/kcip_client.py" --proto "$proto" \
			--count "$count" "$@" "$addr" "$port"
		return
	fi
	ip netns exec "$ns" python3 -S "$LIBDIR/kcip_client.py" --proto "$proto" \
		--count "$count" "$@" "$addr" "$port"
}

# flows_only_to NS PROTO ADDR PORT COUNT "NAME..." [kcip_client.py args]:
# COUNT flows all succeed and are answered only by the listed backends
# (each of which need not get one).  Logs PASS/FAIL itself.
flows_only_to()
{
	local ns=$1 proto=$2 addr=$3 port=$4 count=$5 wanted=$6
	local out b

	shift 6
	if ! out=$(flows "$ns" "$proto" "$addr" "$port" "$count" "$@"); then
		fail "$proto flows to $addr: $(echo "$out" | tr '\n' ' ')"
		return 1
	fi
	# the summary (last line; $(...) dropped the trailing newline) and
	# its beN= words, in bash: no process per call on the debug kernel
	out=${out##*$'\n'}
	for b in $out; do
		[[ $b =~ ^(be[0-9]+)= ]] || continue
		b=${BASH_REMATCH[1]}
		if [[ " $wanted " != *" $b "* ]]; then
			fail "$proto flows to $addr reached $b, want only $wanted ($out)"
			return 1
		fi
	done
	pass "$proto flows to $addr go to $wanted only ($out)"
}

# backend_count SUMMARY NAME: flows answered by NAME in a flows summary line
backend_count()
{
	if [[ " $1 " =~ \ $2=([0-9]+)\  ]]; then
		echo "${BASH_REMATCH[1]}"
	else
		echo 0
	fi
}

# ------------------------------------------------------------ kcipctl

kcip() { "$KCIPCTL" "$@"; }

# svc ADDR PORT PROTO: SERVICE as kcipctl spells it
# (no $(bracket) inside: one subshell less per call, which counts on the
# debug kernel)
svc() { case $1 in *:*) echo "[$1]:$2/$3" ;; *) echo "$1:$2/$3" ;; esac; }
# be ADDR PORT: BACKEND as kcipctl spells it
be() { case $1 in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }

# add_service NS ADDR PORT PROTO BEPORT [options]: a Service with every
# backend of the topology (be1..beN, same family as ADDR) on BEPORT.
add_service()
{
	local ns=$1 addr=$2 port=$3 proto=$4 beport=$5
	local i s a

	shift 5
	s=$(svc "$addr" "$port" "$proto")
	kcip -n "$ns" service add "$s" "$@" || { fail "service add $s"; return 1; }
	for i in $(seq 1 ${#BACKENDS[@]}); do
		case $addr in
		*:*) a=$(be_addr6 "$i") ;;
		*) a=$(be_addr4 "$i") ;;
		esac
		kcip -n "$ns" backend add "$s" "$(be "$a" "$beport")" ||
			{ fail "backend add $s $a"; return 1; }
	done
}

# kcip_json NS: kcipctl -j -s show
kcip_json() { kcip -n "$1" -j -s show; }

# kcip_snapshot NS: the counters of NS as flat lines, one python run for
# all of them (python's start-up is slow in an emulated VM):
#   svc ADDR PORT PROTO FIELD VALUE
#   be ADDR PORT PROTO BEADDR FIELD VALUE
# Addresses as kcipctl prints them (canonical, v6 compressed, no brackets).
kcip_snapshot()
{
	kcip_json "$1" | python3 -S -c '
import json, sys
d = json.load(sys.stdin)
for s in d.get("services") or []:
    sid = "%s %s %s" % (s["address"], s["port"], s["protocol"])
    for k, v in (s.get("stats") or {}).items():
        print("svc", sid, k, v)
    for b in s.get("backends") or []:
        for k, v in (b.get("stats") or {}).items():
            print("be", sid, b["address"], k, v)
'
}

# snap_get SNAPSHOT ADDR PORT PROTO FIELD [BEADDR]: one counter out of a
# kcip_snapshot; -1 when the Service or backend is not there
snap_get()
{
	echo "$1" | awk -v a="$2" -v p="$3" -v t="$4" -v f="$5" -v b="$6" '
		b == "" && $1 == "svc" && $2 == a && $3 == p && $4 == t && $5 == f { v = $6 }
		b != "" && $1 == "be" && $2 == a && $3 == p && $4 == t && $5 == b && $6 == f { v = $7 }
		END { print (v == "" ? -1 : v) }'
}

# kcip_stat NS ADDR PORT PROTO FIELD [BACKEND_ADDR]: one counter (new_flows,
# rejects, drops) of a Service, or of one of its backends; -1 when the
# Service or backend is not there.
kcip_stat()
{
	snap_get "$(kcip_snapshot "$1")" "$2" "$3" "$4" "$5" "$6"
}

# kcip_total_flows NS: new_flows summed over every Service of NS
kcip_total_flows()
{
	kcip_snapshot "$1" | awk '$1 == "svc" && $5 == "new_flows" { n += $6 } END { print n + 0 }'
}

# kcip_nservices NS: how many Services "kcipctl -j show" lists ("protocol"
# appears once per Service)
kcip_nservices()
{
	local out

	out=$(kcip -n "$1" -j show) || { echo -1; return 1; }
	echo "$out" | grep -o '"protocol":' | wc -l
}

# state_of NS: "kcipctl -j show" without the generation, to compare the
# configuration before/after
state_of()
{
	kcip -n "$1" -j show | sed 's/"generation":[0-9]*,\{0,1\}//'
}

# generation_of NS: the generation number of NS
generation_of()
{
	kcip -n "$1" -j show | sed -n 's/.*"generation":\([0-9]*\).*/\1/p'
}

# ------------------------------------------------------------ conntrack

# ct_dnat_ok NS FAMILY PROTO VIP PORT BEPORT BEADDR...: conntrack in NS has
# at least one entry with original dst VIP:PORT whose reply source is one
# of BEADDR:BEPORT, and none whose reply source is anything else; the
# client address is kept (reply destination = original source: no SNAT).
# Addresses canonical, as conntrack prints them.
ct_dnat_ok()
{
	local ns=$1 fam=$2 proto=$3 vip=$4 port=$5 beport=$6
	shift 6

	ip netns exec "$ns" conntrack -L -f "$fam" -p "$proto" --orig-dst "$vip" 2> /dev/null |
	awk -v vip="$vip" -v port="$port" -v beport="$beport" -v bes=" $* " '
	{
		ns = nd = nsp = ndp = 0
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "src") src[++ns] = kv[2]
			else if (kv[1] == "dst") dst[++nd] = kv[2]
			else if (kv[1] == "sport") sport[++nsp] = kv[2]
			else if (kv[1] == "dport") dport[++ndp] = kv[2]
		}
		if (ns < 2 || nsp < 2 || dst[1] != vip || dport[1] != port)
			next
		if (index(bes, " " src[2] " ") && sport[2] == beport) {
			if (dst[2] != src[1]) {
				bad++
				print "client address not kept (SNAT?): " $0
				next
			}
			good++
		} else {
			bad++
			print "not DNATed to a backend: " $0
		}
	}
	END {
		printf "conntrack: %d entries DNATed to backends, %d other\n", good, bad
		exit !(good > 0 && bad == 0)
	}'
}

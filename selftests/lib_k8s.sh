#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the Kubernetes-semantics selftests (k8s_*.sh).  Source after
# lib.sh:
#
#	source "$(dirname "$0")/lib.sh"
#	source "$(dirname "$0")/lib_k8s.sh"
#
# What they add to lib.sh: one Python probe (k8s_py) that reports, flow by
# flow, which backend answered, the source address the backend saw, how the
# flow ended and how long that took, and the ICMP errors the client got; a
# UDP client that keeps its source port (the DNS resolver case); a held
# connection; conntrack counting by backend; Services set up in one
# `kcipctl restore`.
#
# The backends are lib.sh's kcip_server.py: every TCP connection (and new
# UDP peer) first gets a line "NAME PEER".  Started with --idle 0.001, a
# UDP server puts that line in front of every answer, so that a client that
# keeps its source port learns who answered each datagram.
#
# Speed: in a software-emulated VM every process started costs a quarter
# of a second or more, and python a second.  So one python run asks many
# questions and prints its own summaries, and the shell side parses with
# bash builtins only (no awk/sed/grep per check, no busywait of lib.sh,
# whose every round starts three processes).

# ------------------------------------------------------------ the probe

# One Python program, several modes:
#
#  probe --proto P [--count N] [--src A] [--sport P] [--timeout S]
#        [--icmp] [--size B] ADDR PORT [ADDR PORT...]
#	N flows to each ADDR PORT in turn (a new socket each; --sport: the
#	same source port each time).  For each target:
#	    target ADDR PORT
#	    flow ADDR PORT RES NAME PEER SECONDS [MSG]   one per flow, RES:
#	        ok       answered by NAME, which saw PEER as source
#	        refused  ECONNREFUSED (RST, ICMP port unreachable); NAME PEER -
#	        timeout  no answer within --timeout
#	        error    anything else (MSG)
#	    icmp ADDR PORT TYPE CODE SRC INNER_DST INNER_DPORT   (--icmp)
#	    summary ADDR PORT be1=N be2=N refused=N ...   (sorted)
#	    peers ADDR PORT PEER...     sources seen by the backends, sorted
#	    maxtime ADDR PORT SECONDS   the slowest flow
#	    first ADDR PORT RES NAME PEER SECONDS         the first flow
#	TCP: connect, half-close, read the name line (and the rest).  UDP: one
#	datagram, read the first answer.  With --size B the flow first sends B
#	random bytes and expects them back after the name line.  --icmp: a
#	raw socket also listens for ICMP/ICMPv6 errors (after each flow, up to
#	1 s until one came).
#
#  udploop [--src A] --sport P [--interval S] --stop FILE ADDR PORT
#	A UDP client that keeps ONE socket (one source port), sends "q SEQ"
#	every --interval seconds until FILE exists and prints, flushed, one
#	line per query (wall-clock times, as $EPOCHREALTIME):
#	    SENT SEQ NAME|refused|timeout ANSWERED
#	(the server must name itself in every answer: --idle 0.001).
#
#  hold --proto tcp|sctp --stop FILE ADDR PORT
#	One connection (association), kept open until FILE exists; prints
#	"connected NAME PEER" once the server's name line came, "done" at
#	the end, or "error MSG".
K8S_PY=$(cat <<'EOF'
import os, socket, struct, sys, time

def fam_of(a):
    return socket.AF_INET6 if ":" in a else socket.AF_INET

def unmap(a):
    return a[7:] if a.startswith("::ffff:") else a

def parse_name(data):
    nl = data.find(b"\n")
    if nl < 0:
        return None, None
    f = data[:nl].decode(errors="replace").split()
    if len(f) < 2:
        return None, None
    return f[0], unmap(f[1])

def stream_sock(proto, fam):
    if proto == "sctp":
        return socket.socket(fam, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    return socket.socket(fam, socket.SOCK_STREAM)

def icmp_sock(fam):
    if fam == socket.AF_INET:
        r = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    else:
        r = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    r.setblocking(False)
    return r

def icmp_read(r, fam, wait):
    out = []
    end = time.monotonic() + wait
    while True:
        try:
            d, peer = r.recvfrom(65536)
        except BlockingIOError:
            if out or time.monotonic() >= end:
                return out
            time.sleep(0.02)
            continue
        try:
            if fam == socket.AF_INET:
                ihl = (d[0] & 15) * 4
                src = socket.inet_ntop(fam, d[12:16])
                t, c = d[ihl], d[ihl + 1]
                if t not in (3, 11, 12):
                    continue
                inner = d[ihl + 8:]
                iihl = (inner[0] & 15) * 4
                idst = socket.inet_ntop(fam, inner[16:20])
                dport = struct.unpack("!H", inner[iihl + 2:iihl + 4])[0]
            else:
                src = peer[0].split("%")[0]
                t, c = d[0], d[1]
                if t not in (1, 2, 3, 4):
                    continue
                inner = d[8:]
                idst = socket.inet_ntop(fam, inner[24:40])
                dport = struct.unpack("!H", inner[42:44])[0]
        except (IndexError, struct.error, ValueError):
            continue
        out.append("%d %d %s %s %d" % (t, c, src, idst, dport))

def one_flow(a, fam, addr, port):
    """[RES, NAME, PEER, SECONDS(, MSG)]"""
    if a.proto == "udp":
        s = socket.socket(fam, socket.SOCK_DGRAM)
    else:
        s = stream_sock(a.proto, fam)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t0 = time.monotonic()
    el = lambda: "%.3f" % (time.monotonic() - t0)
    try:
        if a.src or a.sport:
            s.bind((a.src or "", a.sport))
        s.settimeout(a.timeout)
        s.connect((addr, port))
        payload = os.urandom(a.size) if a.size else b""
        data = b""
        if a.proto == "udp":
            s.send(payload or b"x\n")
            data = s.recv(65536)
        else:
            if payload:
                s.sendall(payload)
            if a.proto == "tcp":
                s.shutdown(socket.SHUT_WR)
            while True:
                left = t0 + a.timeout - time.monotonic()
                if left <= 0:
                    raise socket.timeout()
                s.settimeout(left)
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                if a.proto == "sctp" and b"\n" in data and \
                        len(data) - data.find(b"\n") - 1 >= len(payload):
                    break
        name, peer = parse_name(data)
        if name is None:
            return ["error", "-", "-", el(), "no_name_line_in_%d_bytes" % len(data)]
        if payload and data[data.find(b"\n") + 1:] != payload:
            return ["error", name, peer, el(), "payload_came_back_wrong"]
        return ["ok", name, peer, el()]
    except (socket.timeout, TimeoutError):
        return ["timeout", "-", "-", el()]
    except OSError as e:
        if e.errno == 111:
            return ["refused", "-", "-", el()]
        return ["error", "-", "-", el(), str(e).replace(" ", "_")]
    finally:
        s.close()

def probe(a):
    targets = [(a.targets[i], int(a.targets[i + 1]))
               for i in range(0, len(a.targets) - 1, 2)]
    socks = {}
    for addr, port in targets:
        fam = fam_of(addr)
        if a.icmp and fam not in socks:
            socks[fam] = icmp_sock(fam)
    for addr, port in targets:
        fam = fam_of(addr)
        t = "%s %d" % (addr, port)
        print("target", t)
        res, names = [], {}
        for _ in range(a.count):
            f = one_flow(a, fam, addr, port)
            res.append(f)
            print("flow", t, " ".join(f))
            k = f[1] if f[0] == "ok" else f[0]
            names[k] = names.get(k, 0) + 1
            if a.icmp:
                for l in icmp_read(socks[fam], fam, 1.0):
                    print("icmp", t, l)
        print("summary", t, " ".join("%s=%d" % (k, names[k]) for k in sorted(names)))
        print("peers", t, " ".join(sorted(set(f[2] for f in res if f[0] == "ok"))))
        print("maxtime", t, "%.3f" % max(float(f[3]) for f in res))
        print("first", t, " ".join(res[0][:4]))
        sys.stdout.flush()

def udploop(a):
    fam = fam_of(a.targets[0])
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((a.src or "", a.sport))
    s.connect((a.targets[0], int(a.targets[1])))
    seq = 0
    start = time.monotonic()
    while not os.path.exists(a.stop) and time.monotonic() - start < a.max_time:
        seq += 1
        tag = b"q %d\n" % seq
        sent = time.time()
        end = time.monotonic() + a.interval
        res = "timeout"
        try:
            s.send(tag)
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                d = s.recv(65536)
                name, _ = parse_name(d)
                if name and d.endswith(tag):
                    res = name
                    break
        except (socket.timeout, TimeoutError):
            pass
        except OSError as e:
            res = "refused" if e.errno == 111 else "error"
        print("%.6f %d %s %.6f" % (sent, seq, res, time.time()), flush=True)
        left = end - time.monotonic()
        if left > 0:
            time.sleep(left)

def hold(a):
    fam = fam_of(a.targets[0])
    s = stream_sock(a.proto, fam)
    s.settimeout(a.timeout)
    try:
        s.connect((a.targets[0], int(a.targets[1])))
        data = b""
        while b"\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        print("error %s" % e, flush=True)
        return
    name, peer = parse_name(data)
    print("connected %s %s" % (name, peer), flush=True)
    start = time.monotonic()
    while not os.path.exists(a.stop) and time.monotonic() - start < a.max_time:
        time.sleep(0.1)
    s.close()
    print("done", flush=True)

def main():
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("probe", "udploop", "hold"))
    p.add_argument("--proto", default="tcp")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--src")
    p.add_argument("--sport", type=int, default=0)
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--size", type=int, default=0)
    p.add_argument("--icmp", action="store_true")
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--stop")
    p.add_argument("--max-time", type=float, default=120.0)
    p.add_argument("targets", nargs="+", help="ADDR PORT [ADDR PORT...]")
    a = p.parse_args()
    {"probe": probe, "udploop": udploop, "hold": hold}[a.mode](a)

main()
EOF
)

# k8s_py NS MODE [args]: run the probe program in NS
k8s_py()
{
	local ns=$1

	shift
	ip netns exec "$ns" python3 -S -c "$K8S_PY" "$@"
}

# ------------------------------------------------------------ fork-free

# now: wall-clock seconds (as python's time.time()), no process started
now() { echo "$EPOCHREALTIME"; }

# flt_lt A B: A < B for decimal numbers ("1.234"), in bash
flt_lt()
{
	local a=$1 b=$2 ai af bi bf

	ai=${a%%.*} bi=${b%%.*}
	[[ $a == *.* ]] && af=${a#*.} || af=0
	[[ $b == *.* ]] && bf=${b#*.} || bf=0
	af=${af}000000 bf=${bf}000000
	a=$((10#${ai:-0} * 1000000 + 10#${af:0:6}))
	b=$((10#${bi:-0} * 1000000 + 10#${bf:0:6}))
	[ "$a" -lt "$b" ]
}

# fadd A B: A + B, decimal seconds with 6 digits, into $REPLY
fadd()
{
	local a=$1 b=$2 ai af bi bf s

	ai=${a%%.*} bi=${b%%.*}
	[[ $a == *.* ]] && af=${a#*.} || af=0
	[[ $b == *.* ]] && bf=${b#*.} || bf=0
	af=${af}000000 bf=${bf}000000
	s=$((10#${ai:-0} * 1000000 + 10#${af:0:6} + 10#${bi:-0} * 1000000 + 10#${bf:0:6}))
	printf -v REPLY '%d.%06d' $((s / 1000000)) $((s % 1000000))
}

# fsub A B: A - B (A >= B), decimal seconds with 3 digits, into $REPLY
fsub()
{
	local a=$1 b=$2 ai af bi bf s

	ai=${a%%.*} bi=${b%%.*}
	[[ $a == *.* ]] && af=${a#*.} || af=0
	[[ $b == *.* ]] && bf=${b#*.} || bf=0
	af=${af}000000 bf=${bf}000000
	s=$((10#${ai:-0} * 1000000 + 10#${af:0:6} - 10#${bi:-0} * 1000000 - 10#${bf:0:6}))
	[ $s -lt 0 ] && s=0
	printf -v REPLY '%d.%03d' $((s / 1000000)) $(((s % 1000000) / 1000))
}

# k8s_wait TIMEOUT_MS FUNC [args]: call FUNC (a shell function, no
# subshell) every 0.1 s until it succeeds or the timeout (times
# KCIP_TIME_SCALE, as busywait's) passes
k8s_wait()
{
	local ms=$(($1 * ${KCIP_TIME_SCALE:-1})) end

	shift
	fadd "$EPOCHREALTIME" "$((ms / 1000)).$((ms % 1000 / 100))$((ms % 100 / 10))$((ms % 10))"
	end=$REPLY
	while true; do
		"$@" && return 0
		flt_lt "$EPOCHREALTIME" "$end" || return 1
		bsleep 0.1
	done
}

# file_has FILE REGEX: a line of FILE matches REGEX (bash =~)
file_has()
{
	local l

	[ -f "$1" ] || return 1
	while IFS= read -r l; do
		[[ $l =~ $2 ]] && return 0
	done < "$1"
	return 1
}

# file_count FILE REGEX: into $REPLY, how many lines of FILE match REGEX
file_count()
{
	local l n=0

	if [ -f "$1" ]; then
		while IFS= read -r l; do
			[[ $l =~ $2 ]] && n=$((n + 1))
		done < "$1"
	fi
	REPLY=$n
}

# file_last FILE: the last line of FILE into $REPLY
file_last()
{
	local l

	REPLY=
	[ -f "$1" ] || return 1
	while IFS= read -r l; do
		REPLY=$l
	done < "$1"
}

# ------------------------------------------------------------ probing

# probe_many NS PROTO COUNT [probe options] -- ADDR PORT [ADDR PORT...]:
# COUNT flows to each target, all from one python run; its output goes to
# $PROBE_OUT, read by the many_* and expect_* helpers below
probe_many()
{
	local ns=$1 proto=$2 count=$3
	local opts=()

	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	PROBE_OUT=$(k8s_py "$ns" probe --proto "$proto" --count "$count" "${opts[@]}" "$@" 2>&1)
}

# many_get KIND ADDR PORT: the rest of the line "KIND ADDR PORT ..." of
# the last probe_many into $REPLY (false if there is none)
many_get()
{
	local k a p rest

	REPLY=
	while read -r k a p rest; do
		if [ "$k" = "$1" ] && [ "$a" = "$2" ] && [ "$p" = "$3" ]; then
			REPLY=$rest
			return 0
		fi
	done <<< "$PROBE_OUT"
	return 1
}

# many_lines KIND ADDR PORT: the rest of every "KIND ADDR PORT ..." line,
# into the array LINES
many_lines()
{
	local k a p rest

	LINES=()
	while read -r k a p rest; do
		if [ "$k" = "$1" ] && [ "$a" = "$2" ] && [ "$p" = "$3" ]; then
			LINES+=("$rest")
		fi
	done <<< "$PROBE_OUT"
}

# many_show ADDR PORT: the flow and icmp lines of one target, for a FAIL
many_show()
{
	local k a p rest n=0

	while read -r k a p rest; do
		if [ "$a" = "$1" ] && [ "$p" = "$2" ] && [[ $k == flow || $k == icmp ]]; then
			echo "#   $k $rest"
			n=$((n + 1))
			[ $n -ge 6 ] && break
		fi
	done <<< "$PROBE_OUT"
	[ -n "$PROBE_OUT" ] && [ $n -eq 0 ] && echo "#   probe: ${PROBE_OUT:0:300}"
	return 0
}

# many_first ADDR PORT: P_RES P_NAME P_PEER P_TIME and P_LINE of the first
# flow to ADDR PORT in the last probe_many
many_first()
{
	many_get first "$1" "$2"
	P_LINE=$REPLY
	read -r P_RES P_NAME P_PEER P_TIME _ <<< "$P_LINE"
	[ -n "$P_RES" ] || P_RES=error
}

# expect_peer DESC WANT...: the flow of the last many_first was answered
# and its backend saw one of WANT as the source address
expect_peer()
{
	local desc=$1

	shift
	if [ "$P_RES" != ok ]; then
		fail "$desc: flow failed: $P_LINE"
		return 1
	fi
	if [[ " $* " == *" $P_PEER "* ]]; then
		pass "$desc: $P_NAME saw source $P_PEER"
		return 0
	fi
	fail "$desc: $P_NAME saw source $P_PEER, want $*"
	return 1
}

# only_names SUMMARY NAME...: SUMMARY ("be1=3 refused=1") is not empty
# and has only the NAMEs
only_names()
{
	local sum=$1 k

	shift
	[ -n "$sum" ] || return 1
	for k in $sum; do
		[[ " $* " == *" ${k%%=*} "* ]] || return 1
	done
}

# has_all SUMMARY NAME...: every NAME is in SUMMARY
has_all()
{
	local sum=" $1 " k

	shift
	for k in "$@"; do
		[[ $sum == *" $k="* ]] || return 1
	done
}

# expect_many DESC ADDR PORT "NAME...": in the last probe_many, every flow
# to ADDR PORT was answered by one of NAMEs (or, for NAME refused or
# timeout, ended so); the summary into $LAST_SUMMARY
expect_many()
{
	local desc=$1 addr=$2 port=$3 want=$4

	many_get summary "$addr" "$port"
	LAST_SUMMARY=$REPLY
	# shellcheck disable=SC2086
	if only_names "$LAST_SUMMARY" $want; then
		pass "$desc: $want only ($LAST_SUMMARY)"
		return 0
	fi
	fail "$desc: want $want only, got: ${LAST_SUMMARY:-nothing}"
	many_show "$addr" "$port"
	return 1
}

# expect_many_all DESC ADDR PORT "NAME...": expect_many, and every NAME
# got flows (for sched rr)
expect_many_all()
{
	expect_many "$@" || return 1
	# shellcheck disable=SC2086
	has_all "$LAST_SUMMARY" $4 && return 0
	fail "$1: not every one of $4 got flows ($LAST_SUMMARY)"
	return 1
}

# expect_names DESC NS PROTO ADDR PORT COUNT "NAME..." [probe options]:
# COUNT flows, every one answered by one of NAMEs
expect_names()
{
	local desc=$1 ns=$2 proto=$3 addr=$4 port=$5 count=$6 want=$7

	shift 7
	probe_many "$ns" "$proto" "$count" "$@" -- "$addr" "$port"
	expect_many "$desc" "$addr" "$port" "$want"
}

# all_ok ADDR PORT: every flow to ADDR PORT in the last probe_many was
# answered
all_ok()
{
	local k

	many_get summary "$1" "$2"
	[ -n "$REPLY" ] || return 1
	for k in $REPLY; do
		case ${k%%=*} in refused | timeout | error) return 1 ;; esac
	done
}

# expect_many_peers DESC ADDR PORT WANT...: every flow to ADDR PORT in the
# last probe_many was answered, and the backend saw one of WANT as source
expect_many_peers()
{
	local desc=$1 addr=$2 port=$3 p

	shift 3
	if ! all_ok "$addr" "$port"; then
		fail "$desc: not every flow was answered: $REPLY"
		many_show "$addr" "$port"
		return 1
	fi
	many_get peers "$addr" "$port"
	for p in $REPLY; do
		if [[ " $* " != *" $p "* ]]; then
			fail "$desc: backends saw source $REPLY, want $*"
			return 1
		fi
	done
	pass "$desc: backends saw source $REPLY"
}

# expect_refused_fast DESC ADDR PORT: every flow to ADDR PORT in the last
# probe_many was refused, each well under a second (REFUSE_MAX)
REFUSE_MAX=1.0
expect_refused_fast()
{
	local desc=$1 addr=$2 port=$3 sum

	many_get summary "$addr" "$port"
	sum=$REPLY
	many_get maxtime "$addr" "$port"
	if only_names "$sum" refused && flt_lt "$REPLY" "$REFUSE_MAX"; then
		pass "$desc: refused at once ($sum, slowest ${REPLY}s)"
		return 0
	fi
	fail "$desc: want every flow refused in under ${REFUSE_MAX}s, got: ${sum:-nothing} (slowest ${REPLY}s)"
	many_show "$addr" "$port"
	return 1
}

# icmp_count ADDR PORT "TYPE CODE" SRC: into $REPLY, how many ICMP errors
# of that type and code about packets to ADDR:PORT the last probe_many
# received; from SRC only, unless SRC is "any"
icmp_count()
{
	local l t c s d p n=0

	many_lines icmp "$1" "$2"
	for l in "${LINES[@]}"; do
		read -r t c s d p <<< "$l"
		[ "$t $c" = "$3" ] && [ "$d" = "$1" ] && [ "$p" = "$2" ] || continue
		[ "$4" = any ] || [ "$s" = "$4" ] || continue
		n=$((n + 1))
	done
	REPLY=$n
}

# port_unreach FAMILY: ICMP port unreachable as "TYPE CODE"
port_unreach() { [ "$1" = ipv4 ] && echo "3 3" || echo "1 4"; }

# ------------------------------------------------------------ servers

# wait_listening NS PROTOS PORT [NS PROTOS PORT...]: wait (30 s at most:
# python starts slowly in a busy emulated VM) until every server listens
wait_listening()
{
	while [ $# -ge 3 ]; do
		if ! busywait 30000 listening "$1" "$2" "$3"; then
			fail "no $2 server listening on port $3 in $1"
			return 1
		fi
		shift 3
	done
}

# servers PROTOS PORT [server options] -- N...: kcip_server "beN" on beN
# for each listed N, then wait until all listen
servers()
{
	local protos=$1 port=$2 i
	local extra=() args=()

	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		extra+=("$1")
		shift
	done
	shift
	for i in "$@"; do
		NOWAIT=1 start_server "${BACKENDS[$((i - 1))]}" "be$i" "$protos" "$port" "${extra[@]}"
		args+=("${BACKENDS[$((i - 1))]}" "$protos" "$port")
	done
	wait_listening "${args[@]}"
}

# ------------------------------------------------------------ long flows

# start_long OUT STOP NS ADDR PORT: a long TCP connection (kcip_client.py
# --long, to a --lines server) in the background, until STOP exists; its
# pid in $!
start_long()
{
	local out=$1 stop=$2 ns=$3 addr=$4 port=$5

	ip netns exec "$ns" python3 -S "$LIBDIR/kcip_client.py" --long "$stop" \
		--timeout 5 --interval 0.3 "$addr" "$port" > "$out" 2>&1 &
	BG_PIDS+=($!)
}

# long_started OUT NAME: wait (30 s at most) until the long connection of
# OUT answered 2 rounds; true if it is NAME's
long_started()
{
	k8s_wait 30000 file_has "$1" '^round 2 ' && file_has "$1" "^connected $2\$"
}

_long_at_least() { file_count "$1" '^round '; [ "$REPLY" -ge "$2" ]; }

# expect_long DESC OUT NAME: the long connection of OUT goes on (3 more
# rounds), every round answered by NAME, no error
expect_long()
{
	local desc=$1 out=$2 name=$3 base l bad=

	file_count "$out" '^round '
	base=$REPLY
	k8s_wait 20000 _long_at_least "$out" $((base + 3))
	file_count "$out" '^round '
	while IFS= read -r l; do
		[[ $l =~ ^(connected|round\ [0-9]+)\ $name$ ]] || bad=$l
	done < "$out"
	if [ "$REPLY" -ge $((base + 3)) ] && [ -z "$bad" ]; then
		pass "$desc: long connection still answered by $name ($REPLY rounds)"
		return 0
	fi
	file_last "$out"
	fail "$desc: long connection: ${bad:-$REPLY} (want rounds from $name)"
	return 1
}

# ------------------------------------------------------------ UDP loop

# start_udploop NS ADDR PORT SPORT OUT STOP [--src A]: udploop in the
# background; its pid in $!
start_udploop()
{
	local ns=$1 addr=$2 port=$3 sport=$4 out=$5 stop=$6

	shift 6
	k8s_py "$ns" udploop --sport "$sport" --stop "$stop" "$@" \
		"$addr" "$port" > "$out" 2>&1 &
	BG_PIDS+=($!)
}

_udploop_last_is() { file_last "$1"; [[ $REPLY == *" $2 "* ]]; }

# udploop_wait_for OUT NAME TIMEOUT_MS: wait until the last answer is NAME
udploop_wait_for() { k8s_wait "$3" _udploop_last_is "$1" "$2"; }

# udploop_after OUT T0: the answers to the queries sent after wall time
# T0: summary into $REPLY ("be1=N timeout=N"), for each name the delay
# from T0 to the answer to the first such query it answered into the
# associative array FIRST (FIRST[be2]=0.215), the number of queries into
# UCOUNT, the send time of the last into ULAST
declare -A FIRST
udploop_after()
{
	local t s name r k
	local -A n=()

	FIRST=()
	UCOUNT=0
	ULAST=
	while read -r t s name r; do
		[ -n "$r" ] && flt_lt "$2" "$t" || continue
		n[$name]=$((${n[$name]:-0} + 1))
		UCOUNT=$((UCOUNT + 1))
		ULAST=$t
		if [ -z "${FIRST[$name]}" ]; then
			fsub "$r" "$2"
			FIRST[$name]=$REPLY
		fi
	done < "$1"
	REPLY=
	for k in $(printf '%s\n' "${!n[@]}" | sort); do
		REPLY+="${REPLY:+ }$k=${n[$k]}"
	done
}

# udploop_run_for OUT T0 SECONDS: wait until the loop of OUT has run
# queries for SECONDS after T0
_udploop_past()
{
	local t

	file_last "$1"
	t=${REPLY%% *}
	fadd "$2" "$3"
	[ -n "$t" ] && flt_lt "$REPLY" "$t"
}
udploop_run_for() { k8s_wait 30000 _udploop_past "$1" "$2" "$3"; }

# answered_only SUMMARY NAME...: as only_names, but queries that got no
# answer in time (timeout=N: a slow VM) are not held against it
answered_only()
{
	local k sum=

	for k in $1; do
		[[ $k == timeout=* ]] || sum+="${sum:+ }$k"
	done
	shift
	only_names "$sum" "$@"
}

# ------------------------------------------------------------ conntrack

# ct_load NS FAMILY PROTO: NS's conntrack entries of FAMILY and PROTO into
# the array CT (one process run, parsed by ct_to)
ct_load()
{
	local l

	CT=()
	while IFS= read -r l; do
		CT+=("$l")
	done < <(ip netns exec "$1" conntrack -L -f "$2" -p "$3" 2> /dev/null)
}

# ct_to ORIG_DST REPLY_SRC: into $REPLY, how many entries of the last
# ct_load go to ORIG_DST and are answered by REPLY_SRC (DNATed to it);
# REPLY_DSTS gets their reply destinations (where the backend answers to)
ct_to()
{
	local l w src dst n=0

	REPLY_DSTS=
	for l in "${CT[@]}"; do
		src=() dst=()
		for w in $l; do
			case $w in
			src=*) src+=("${w#src=}") ;;
			dst=*) dst+=("${w#dst=}") ;;
			esac
		done
		[ "${dst[0]}" = "$1" ] && [ "${src[1]}" = "$2" ] || continue
		n=$((n + 1))
		[[ " $REPLY_DSTS " == *" ${dst[1]} "* ]] || REPLY_DSTS+="${REPLY_DSTS:+ }${dst[1]}"
	done
	REPLY=$n
}

# ct_count NS FAMILY PROTO ORIG_DST REPLY_SRC: ct_load + ct_to
ct_count()
{
	ct_load "$1" "$2" "$3"
	ct_to "$4" "$5"
}

# ------------------------------------------------------------ kcipctl

# svc_lines ADDR PORT PROTO BEPORT "N..." [service options]: a Service
# whose backends are beN:BEPORT for the listed N, in ADDR's family, as
# `kcipctl restore` lines, to set up many Services with one kcipctl run:
#	{ svc_lines ...; svc_lines ...; } | kcip_load "$node"
svc_lines()
{
	local addr=$1 port=$2 proto=$3 beport=$4 list=$5
	local s i fam

	shift 5
	fam_r "$addr"
	fam=$REPLY
	s=$(svc "$addr" "$port" "$proto")
	echo "service add $s $*"
	for i in $list; do
		be_r "$i" "$fam"
		echo "backend add $s $(be "$REPLY" "$beport")"
	done
}

# kcip_load NS: the restore lines on stdin become the state of NS
kcip_load()
{
	local out

	if ! out=$(kcip -n "$1" restore - 2>&1); then
		fail "kcipctl restore: $out"
		return 1
	fi
}

# beop NS OP ADDR PORT PROTO BEPORT N [args]: kcipctl backend OP on beN of
# the Service ADDR:PORT/PROTO
beop()
{
	local ns=$1 op=$2 addr=$3 port=$4 proto=$5 beport=$6 n=$7

	shift 7
	fam_r "$addr"
	be_r "$n" "$REPLY"
	kcip -n "$ns" backend "$op" "$(svc "$addr" "$port" "$proto")" \
		"$(be "$REPLY" "$beport")" "$@"
}

# ------------------------------------------------------------ addresses

# fam_r ADDR: ipv4 or ipv6 into $REPLY; fam_of ADDR: printed
fam_r()
{
	case $1 in
	*:*) REPLY=ipv6 ;;
	*) REPLY=ipv4 ;;
	esac
}
fam_of() { fam_r "$1"; echo "$REPLY"; }

# be_r N FAMILY: beN's address in FAMILY into $REPLY; be_of: printed
be_r()
{
	if [ "$2" = ipv6 ]; then
		REPLY="fd00:244:$1::2"
	else
		REPLY="10.244.$1.2"
	fi
}
be_of() { be_r "$1" "$2"; echo "$REPLY"; }

# node_be_addr N FAMILY: the node's own address on the link to beN
node_be_addr()
{
	if [ "$2" = ipv6 ]; then
		echo "fd00:244:$1::1"
	else
		echo "10.244.$1.1"
	fi
}

# nodeport_addr FAMILY: the NodePort entry address of FAMILY
nodeport_addr() { [ "$1" = ipv4 ] && echo 0.0.0.0 || echo ::; }

# client_link_delay: 10 ms of delay on the node's link to the client
# (netem on c0).  Over a bare veth pair the node's answer to a SYN comes
# back within the client's own connect(), while connect() still holds the
# socket lock: an ICMPv6 error arriving then is dropped by TCP
# (TcpExtLockDroppedIcmps) and the client learns of the reject only from
# its SYN retransmission a second later.  IPv4's ICMP happens to arrive
# later.  Any real link has some delay; with it, a reject is seen at once.
client_link_delay()
{
	if ! tc -n "$node" qdisc add dev c0 root netem delay 10ms 2> /dev/null; then
		log_info "no netem: a TCP reject may be seen only after a SYN retransmission"
		REFUSE_MAX=1.5
	fi
}

# no_icmp_ratelimit NS...: ICMP errors are not rate limited in NS (the
# tests count them)
no_icmp_ratelimit()
{
	local ns

	for ns in "$@"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
	done
}

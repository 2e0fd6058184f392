#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the retry (passive health) selftests, retry_*.sh.  Source
# after lib.sh:
#
#	source "$(dirname "$0")/lib.sh"
#	source "$(dirname "$0")/lib_retry.sh"
#
# What they add to lib.sh:
#  - rflows: a Python client that opens COUNT flows (TCP connections, or UDP
#    "queries" that are sent once more after --resend seconds on the same
#    socket, as a DNS resolver does) and says, flow by flow, who answered,
#    how the flow ended and how long it took;
#  - rdump: the kernel's counters as a raw generic-netlink dump, among them
#    those kcipctl may not print (yet): backend "failures" and "quarantine"
#    (seconds left), Service "retries";
#  - ways to make a backend fail: refuse (RST), drop SYNs silently, stop its
#    server, lose its network namespace behind a bridge.
#
# The backends are lib.sh's kcip_server.py on port $RPORT.
#
# How many flows the tests open: KCIP_RETRY_N (default 100, the IPv4
# connections of each kind of failure), KCIP_RETRY_N6 (IPv6, 20),
# KCIP_RETRY_NUDP (IPv4 UDP queries, 40), KCIP_RETRY_NOFF (retry off, 40),
# KCIP_RETRY_NMAGLEV (24).  selftests/vm/run.sh passes KCIP_* on to the
# guest.

RPORT=8080

# ------------------------------------------------------------ the client

#  rflows NS PROTO ADDR PORT COUNT [options]
#	--timeout S   seconds per flow (default 5)
#	--sport P     flow i binds source port P+i (default: any)
#	--resend S    UDP: send the query again after S seconds without an
#	              answer, once (default 0: never)
#	--log FILE    one line per flow in FILE:
#	                  I SPORT START SECONDS OUTCOME NAME SENDS
#	              START is time.monotonic() when the flow began (the
#	              same clock as rdump's "now"); SENDS how many SYNs
#	              (TCP: 1 + the retransmissions TCP_INFO counts) or
#	              queries (UDP) the flow sent
#	--stop-when-seen NAME  stop early once NAME has answered a flow
#	--max-time S  stop after S seconds (default 110)
#	--gap S       pause between flows (default 0)
#  Prints one summary line
#	be1=N ... ok=N refused=N unreach=N timeout=N error=N mismatch=N
#	    slow=N resent=N maxsends=N max=SECONDS
#  slow: flows that took more than 0.8 s; resent: flows that sent their SYN
#  (TCP) or query (UDP) more than once; maxsends: the most SYNs or queries
#  one flow sent; max: the longest flow.  OUTCOME: ok, refused
#  (ECONNREFUSED), unreach (EHOSTUNREACH, ENETUNREACH), timeout, error,
#  mismatch (the echo was wrong).  Exit status 0 when every flow was "ok".
RETRY_PY=$(cat <<'EOF'
import argparse, errno, os, socket, struct, sys, time

p = argparse.ArgumentParser()
p.add_argument("--proto", default="tcp")
p.add_argument("--count", type=int, default=1)
p.add_argument("--timeout", type=float, default=5.0)
p.add_argument("--sport", type=int, default=0)
p.add_argument("--resend", type=float, default=0.0)
p.add_argument("--log")
p.add_argument("--stop-when-seen")
p.add_argument("--max-time", type=float, default=110.0)
p.add_argument("--gap", type=float, default=0.0)
p.add_argument("addr")
p.add_argument("port", type=int)
a = p.parse_args()
fam = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
any_addr = "::" if fam == socket.AF_INET6 else "0.0.0.0"

def name_of(data):
    nl = data.find(b"\n")
    if nl < 0:
        return None, b""
    f = data[:nl].decode(errors="replace").split()
    return (f[0] if f else "?"), data[nl + 1:]

def outcome_of_error(e):
    if isinstance(e, (socket.timeout, TimeoutError)):
        return "timeout"
    if e.errno == errno.ECONNREFUSED:
        return "refused"
    if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "unreach"
    return "error"

def syns_sent(s):
    """SYNs the socket sent: 1 + tcpi_total_retrans (offset 100 of
    struct tcp_info), read once connect() is over, however it ended"""
    try:
        ti = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        return 1 + struct.unpack_from("I", ti, 100)[0]
    except (OSError, struct.error):
        return 1

def tcp_flow(i):
    payload = b"flow %d %s\n" % (i, os.urandom(8).hex().encode())
    s = socket.socket(fam, socket.SOCK_STREAM)
    end = time.monotonic() + a.timeout
    syns = 1
    try:
        if a.sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((any_addr, a.sport + i))
        s.settimeout(a.timeout)
        try:
            s.connect((a.addr, a.port))
        finally:
            syns = syns_sent(s)
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise socket.timeout()
            s.settimeout(left)
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        return outcome_of_error(e), "-", syns
    finally:
        s.close()
    name, back = name_of(data)
    if name is None or back != payload:
        return "mismatch", name or "-", syns
    return "ok", name, syns

def udp_flow(i):
    payload = b"query %d %s\n" % (i, os.urandom(8).hex().encode())
    s = socket.socket(fam, socket.SOCK_DGRAM)
    start = time.monotonic()
    end = start + a.timeout
    sends = 0
    try:
        if a.sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((any_addr, a.sport + i))
        s.connect((a.addr, a.port))
        s.send(payload)
        sends = 1
        resend_at = start + a.resend if a.resend else end
        while True:
            now = time.monotonic()
            if now >= end:
                raise socket.timeout()
            if sends == 1 and now >= resend_at:
                s.send(payload)
                sends = 2
            wake = resend_at if sends == 1 else end
            s.settimeout(max(0.01, min(wake, end) - now))
            try:
                data = s.recv(65536)
            except (socket.timeout, TimeoutError):
                continue
            name, back = name_of(data)
            if name is not None and back == payload:
                return "ok", name, sends
    except OSError as e:
        return outcome_of_error(e), "-", sends
    finally:
        s.close()

flow = tcp_flow if a.proto == "tcp" else udp_flow
counts = dict.fromkeys(("ok", "refused", "unreach", "timeout", "error",
                        "mismatch"), 0)
per_be = {}
slow = resent = maxsends = 0
worst = 0.0
log = open(a.log, "w") if a.log else None
t0 = time.monotonic()
for i in range(a.count):
    if time.monotonic() - t0 > a.max_time:
        break
    start = time.monotonic()
    outcome, name, sends = flow(i)
    took = time.monotonic() - start
    counts[outcome] += 1
    if outcome == "ok":
        per_be[name] = per_be.get(name, 0) + 1
    if took > 0.8:
        slow += 1
    if sends > 1:
        resent += 1
    maxsends = max(maxsends, sends)
    worst = max(worst, took)
    if log:
        log.write("%d %d %.3f %.3f %s %s %d\n" % (i, a.sport + i if a.sport
                                                 else 0, start, took,
                                                 outcome, name, sends))
        log.flush()
    if a.stop_when_seen and name == a.stop_when_seen:
        break
    if a.gap:
        time.sleep(a.gap)
print(" ".join("%s=%d" % (k, per_be[k]) for k in sorted(per_be)) +
      " ok=%d refused=%d unreach=%d timeout=%d error=%d mismatch=%d"
      " slow=%d resent=%d maxsends=%d max=%.2f" % (
          counts["ok"], counts["refused"], counts["unreach"],
          counts["timeout"], counts["error"], counts["mismatch"], slow,
          resent, maxsends, worst))
sys.exit(0 if counts["ok"] == sum(counts.values()) else 1)
EOF
)

rflows()
{
	local ns=$1 proto=$2 addr=$3 port=$4 count=$5

	shift 5
	ip netns exec "$ns" python3 -S -c "$RETRY_PY" --proto "$proto" \
		--count "$count" "$@" "$addr" "$port"
}

# sumval SUMMARY KEY: one number of an rflows summary line (0 if absent)
sumval()
{
	if [[ " $1 " =~ \ $2=([0-9.]+)\  ]]; then
		echo "${BASH_REMATCH[1]}"
	else
		echo 0
	fi
}

# backends_of SUMMARY: the backend names that answered, space-separated
backends_of()
{
	echo "$1" | tr ' ' '\n' | sed -n 's/^\(be[0-9]*\)=.*/\1/p' | paste -s -d ' '
}

# fgt A B: true when A > B (decimal numbers)
fgt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

# all_ok DESC SUMMARY [MAXSENDS]: every flow of SUMMARY answered, and none
# sent its SYN (UDP: query) more than MAXSENDS times (the tests say 2:
# retry moved the flow at the client's first retransmission; a count, not
# a time, which a loaded emulated VM stretches).  Logs PASS/FAIL.
all_ok()
{
	local desc=$1 sum=$2 max=${3:-}
	local n bad

	n=$(($(sumval "$sum" ok) + $(sumval "$sum" refused) +
	     $(sumval "$sum" unreach) + $(sumval "$sum" timeout) +
	     $(sumval "$sum" error) + $(sumval "$sum" mismatch)))
	bad=$((n - $(sumval "$sum" ok)))
	if [ "$n" -eq 0 ] || [ "$bad" -ne 0 ]; then
		fail "$desc: $bad of $n flows failed ($sum)"
		return 1
	fi
	if [ -n "$max" ] && [ "$(sumval "$sum" maxsends)" -gt "$max" ]; then
		fail "$desc: all $n flows answered, but one sent its SYN (query) more than $max times ($sum)"
		return 1
	fi
	pass "$desc: all $n flows answered ($sum)"
}

# not_to DESC SUMMARY NAME: NAME answered none of the flows
not_to()
{
	if [ "$(backend_count "$2" "$3")" -ne 0 ]; then
		fail "$1: $3 answered flows ($2)"
		return 1
	fi
	pass "$1: $3 answered none ($2)"
}

# ------------------------------------------------------------ counters

#  rdump: the node's Services as a SERVICE_GET dump straight from the
#  kernel, in kcip_snapshot's format (lib.sh snap_get reads it):
#	now MONOTONIC
#	svc ADDR PORT PROTO FIELD VALUE
#	be ADDR PORT PROTO BEADDR FIELD VALUE
#  FIELDs: new_flows rejects drops packets bytes failures retries; backends
#  also weight, state and quarantine (seconds left, 0 when not quarantined).
RDUMP_PY=$(cat <<'EOF'
import os, socket, struct, sys, time

def attrs(buf):
    off = 0
    while off + 4 <= len(buf):
        l, t = struct.unpack_from("HH", buf, off)
        if l < 4:
            break
        yield t & 0x3fff, buf[off + 4:off + l]
        off += (l + 3) & ~3

def nla(t, data):
    l = 4 + len(data)
    return struct.pack("HH", l, t) + data + b"\0" * ((4 - l % 4) % 4)

def msgs(s):
    while True:
        buf = s.recv(1 << 20)
        off = 0
        while off + 16 <= len(buf):
            l, typ, fl, seq, pid = struct.unpack_from("IHHII", buf, off)
            yield typ, buf[off + 16:off + l]
            off += (l + 3) & ~3

def send(s, typ, flags, cmd, payload, seq):
    body = struct.pack("BBH", cmd, 1, 0) + payload
    s.send(struct.pack("IHHII", 16 + len(body), typ, flags, seq, 0) + body)

s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
s.bind((0, 0))
send(s, 0x10, 1, 3, nla(2, b"kclusterip\0"), 1)
fid = None
for typ, body in msgs(s):
    if typ == 2:
        sys.exit("rdump: no kclusterip family (%d)" %
                 struct.unpack_from("i", body)[0])
    for t, v in attrs(body[4:]):
        if t == 1:
            fid = struct.unpack_from("H", v)[0]
    break
send(s, fid, 1 | 0x300, 4, b"", 2)
STATS = {1: "new_flows", 2: "rejects", 3: "drops", 5: "packets",
         6: "bytes", 7: "active_flows", 8: "failures", 9: "retries"}
PROTO = {6: "tcp", 17: "udp", 132: "sctp"}
out = ["now %.3f" % time.monotonic()]

def addr(v):
    return socket.inet_ntop(socket.AF_INET if len(v) == 4
                            else socket.AF_INET6, v)

def stats(prefix, v):
    for t, x in attrs(v):
        if t in STATS:
            out.append("%s %s %d" % (prefix, STATS[t],
                                     struct.unpack_from("Q", x)[0]))

for typ, body in msgs(s):
    if typ == 3:
        break
    if typ == 2:
        err = struct.unpack_from("i", body)[0]
        if err:
            sys.exit("rdump: dump failed (%d)" % err)
        continue
    for t, v in attrs(body[4:]):
        if t != 2:
            continue
        sa = dict(attrs(v))
        sid = "%s %d %s" % (addr(sa.get(3) or sa.get(4)),
                            struct.unpack(">H", sa[5])[0],
                            PROTO.get(sa[2][0], sa[2][0]))
        if 14 in sa:
            stats("svc " + sid, sa[14])
        for bt, bv in attrs(sa.get(15, b"")):
            ba = dict(attrs(bv))
            bid = "be %s %s" % (sid, addr(ba.get(1) or ba.get(2)))
            out.append("%s weight %d" % (bid, struct.unpack_from(
                "I", ba[4])[0] if 4 in ba else -1))
            out.append("%s state %d" % (bid, ba[5][0] if 5 in ba else -1))
            out.append("%s quarantine %d" % (bid, struct.unpack_from(
                "I", ba[10])[0] if 10 in ba else 0))
            if 8 in ba:
                stats(bid, ba[8])
print("\n".join(out))
EOF
)

rdump() { ip netns exec "$node" python3 -S -c "$RDUMP_PY"; }

#  rsnap: the same lines from "kcipctl -j -s show" (backend "quarantine"
#  from its "quarantined_seconds"), or from rdump when this kcipctl prints
#  no "failures" / "retries" (see retry_stats_source).
RSNAP_PY=$(cat <<'EOF'
import json, sys, time
d = json.load(sys.stdin)
print("now %.3f" % time.monotonic())
for s in d.get("services") or []:
    sid = "%s %s %s" % (s["address"], s["port"], s["protocol"])
    for k, v in (s.get("stats") or {}).items():
        print("svc", sid, k, v)
    for b in s.get("backends") or []:
        bid = "be %s %s" % (sid, b["address"])
        print(bid, "quarantine", b.get("quarantined_seconds", 0))
        for k, v in (b.get("stats") or {}).items():
            print(bid, k, v)
EOF
)

RSNAP_RAW=
# retry_stats_source: decide once (after a retry Service was added) where
# rsnap reads from, and say so
retry_stats_source()
{
	local j

	j=$(kcip_json "$node")
	if [[ $j == *'"failures":'* && $j == *'"retries":'* ]]; then
		RSNAP_RAW=
		log_info "counters from kcipctl -j -s show (failures, retries, quarantined_seconds)"
	else
		RSNAP_RAW=1
		echo "# SKIP-PART: kcipctl -j -s show prints no failures/retries: they are read from a raw generic-netlink dump instead"
	fi
}

rsnap()
{
	if [ -n "$RSNAP_RAW" ]; then
		rdump
	else
		kcip_json "$node" | python3 -S -c "$RSNAP_PY"
	fi
}

# stat_ok DESC SNAP ADDR PROTO FIELD OP VALUE [BEADDR]: one counter of a
# snapshot (Service ADDR:80/PROTO, or its backend BEADDR) compared with
# "test OP"; logs PASS/FAIL
stat_ok()
{
	local desc=$1 snap=$2 addr=$3 proto=$4 field=$5 op=$6 want=$7 bea=${8:-}
	local v

	v=$(snap_get "$snap" "$addr" 80 "$proto" "$field" "$bea")
	if test "$v" "$op" "$want"; then
		pass "$desc: $field=$v"
	else
		fail "$desc: $field=$v, want $op $want"
	fi
}

# ------------------------------------------------------------ failures

# be_nft I none|refuse|refuse-once|drop|refuse-udp: in backend I's netns,
# nothing, or a rule that answers SYNs to $RPORT with an RST (refuse-once:
# only the first SYN of each IPv4 client address), drops them, or answers
# UDP datagrams to $RPORT with ICMP port unreachable.  The server keeps
# running.
be_nft()
{
	local ns=${BACKENDS[$(($1 - 1))]} rule

	ip netns exec "$ns" nft delete table inet kcipretry 2> /dev/null
	case $2 in
	none) return 0 ;;
	refuse) rule="tcp dport $RPORT reject with tcp reset" ;;
	refuse-once) rule="tcp dport $RPORT tcp flags syn ip saddr != @once add @once { ip saddr } reject with tcp reset" ;;
	drop) rule="tcp dport $RPORT drop" ;;
	refuse-udp) rule="udp dport $RPORT reject" ;;
	esac
	ip netns exec "$ns" nft -f - <<-EOF
		add table inet kcipretry
		add set inet kcipretry once { type ipv4_addr; flags dynamic; }
		add chain inet kcipretry in { type filter hook input priority 0; }
		add rule inet kcipretry in $rule
	EOF
}

# stop_server I: kill backend I's server (nothing listens any more)
stop_server()
{
	local ns=${BACKENDS[$(($1 - 1))]}

	kill_ns_pids "$ns"
	busywait 5000 sh -c "! ss -N $ns -H -ltun | grep -q :$RPORT" > /dev/null ||
		fail "server of be$1 did not stop"
}

# no_icmp_ratelimit: ICMP errors of the node and of the backends are not
# rate limited, so that "retry off" fails the same way every time.
no_icmp_ratelimit()
{
	local ns

	for ns in "$node" "${BACKENDS[@]}"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 \
			net.ipv6.icmp.ratelimit=0
	done
}

# bridge_backend I: put the node's side of backend I's link into a bridge
# brI that holds the gateway addresses, as a bridge CNI (cni0) does: when
# backend I's netns goes, its veth goes with it but the node keeps a route
# to its address, and asks for it in vain (ARP / neighbour discovery).
# With "fast", the node gives up after one solicitation of 0.2 s instead
# of three of 1 s.
bridge_backend()
{
	local i=$1 br=br$1

	ip -n "$node" link add "$br" type bridge || return 1
	ip netns exec "$node" sysctl -qw "net.ipv6.conf.$br.accept_dad=0"
	ip -n "$node" -batch - <<-EOF || return 1
		addr del 10.244.$i.1/24 dev b$i
		addr del fd00:244:$i::1/64 dev b$i
		link set b$i master $br
		addr add 10.244.$i.1/24 dev $br
		addr add fd00:244:$i::1/64 dev $br nodad
		link set $br up
	EOF
	if [ "$2" = fast ]; then
		ip netns exec "$node" sysctl -qw \
			"net.ipv4.neigh.$br.mcast_solicit=1" \
			"net.ipv4.neigh.$br.retrans_time_ms=200" \
			"net.ipv6.neigh.$br.mcast_solicit=1" \
			"net.ipv6.neigh.$br.retrans_time_ms=200"
	fi
	busywait 5000 ip netns exec "$client" ping -q -c 1 -W 1 "$(be_addr4 "$i")" > /dev/null &&
	busywait 5000 ip netns exec "$client" ping -q -c 1 -W 1 "$(be_addr6 "$i")" > /dev/null
}

# ------------------------------------------------------------ Services

# retry_vars ADDR PROTO: S, the Service ADDR:80/PROTO; B1..B3 its backends
# (be1..be3 on $RPORT, same family) as kcipctl spells them, A1..A3 their
# addresses
retry_vars()
{
	local fn=be_addr4 i

	case $1 in *:*) fn=be_addr6 ;; esac
	S=$(svc "$1" 80 "$2")
	for i in 1 2 3; do
		eval "A$i=$($fn $i)"
		eval "B$i=\$(be \"\$A$i\" $RPORT)"
	done
}

# retry_service_restored ADDR PROTO [options]: the same, by "kcipctl
# restore" (the whole state becomes that Service): a restore that brings
# the netns's first Service with retry on must register retry's hooks too
retry_service_restored()
{
	local addr=$1 proto=$2

	shift 2
	retry_vars "$addr" "$proto"
	printf 'service add %s %s\nbackend add %s %s\nbackend add %s %s\nbackend add %s %s\n' \
		"$S" "$*" "$S" "$B1" "$S" "$B2" "$S" "$B3" |
		kcip -n "$node" restore - || fail "restore of $S"
}

# retry_service ADDR PROTO [options]: add that Service with every backend
# of the topology, and set its retry_vars
retry_service()
{
	local addr=$1 proto=$2

	shift 2
	retry_vars "$addr" "$proto"
	add_service "$node" "$addr" 80 "$proto" $RPORT "$@"
}

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Client for the kclusterip selftests.

The servers (socat, see lib.sh start_server) answer each connection or UDP
peer with a line "NAME PEER" and then echo what they get.

Flow mode (default): COUNT flows to ADDR PORT, each on its own socket and
source port (none reused within 300 s, but with --until) and so its own
conntrack entry, each with its own random payload that must come back byte
for byte (--prefixed: as text lines, each prefixed "NAME=" by a line
server).  Prints one summary line

    be1=N be2=N ... ok=N errors=N refused=N timeouts=N mismatches=N

(and with -v one line per flow) and exits 0 when every flow ended as
--expect says: "ok" (answered, payload intact), "refused" (ECONNREFUSED:
TCP RST or ICMP port unreachable), "timeout" (no answer at all) or "fail"
(no answer from any server: refused, unreachable or timeout) or "any".
With --until STOPFILE, flows go on until STOPFILE exists.

Long mode (--long STOPFILE): one TCP connection to a line server (lib.sh
start_line_server) that prefixes every echoed line with "NAME=".  Sends a
line every --interval seconds and checks the answer; writes progress lines
"connected NAME" and "round N NAME" to stdout (flushed) until STOPFILE
exists, then "done rounds=N backend=NAME" and exits 0, or exits 1 at the
first wrong answer, with a line saying what was wrong.  --plain: the same
with a plain echo server (answers not tagged).
"""

import argparse
import base64
import errno
import os
import socket
import sys
import time


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def sock_for(proto, fam):
    if proto == "tcp":
        return socket.socket(fam, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if proto == "sctp":
        return socket.socket(fam, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    return socket.socket(fam, socket.SOCK_DGRAM, socket.IPPROTO_UDP)


def split_answer(data):
    """'NAME PEER\\npayload' -> (NAME, payload); the PEER goes to PEERS"""
    nl = data.find(b"\n")
    if nl < 0:
        return None, b""
    first = data[:nl].decode(errors="replace").split()
    if len(first) > 1:
        peer = first[1]
        if peer.startswith("::ffff:") and "." in peer:
            peer = peer[7:]
        PEERS.add(peer)
    return (first[0] if first else ""), data[nl + 1:]


PEERS = set()

# Source ports this run's flows used, and when.  A new flow must not reuse
# one while the node may still hold the old flow's conntrack entry (UDP:
# 30 s or more; SCTP keeps a closed association's entry 10 s): the packet
# would belong to that entry, and so to its backend, and no new flow would
# be counted.  Longer than any such timeout.  Not with --until: those
# clients only make load, at a rate that could use up the port range.
USED_PORTS = {}
PORT_MEMORY = 300.0


def flow_socket(args, fam, sport):
    """A socket for one flow, bound to SPORT if given, else to an ephemeral
    port no flow of this run used in the last PORT_MEMORY seconds."""
    if args.until and not sport:
        s = sock_for(args.proto, fam)
        if args.src:
            s.bind((args.src, 0))
        return s
    if sport:
        s = sock_for(args.proto, fam)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((args.src or "", sport))
        return s
    held = []
    now = time.monotonic()
    try:
        for _ in range(64):
            s = sock_for(args.proto, fam)
            s.bind((args.src or "", 0))
            port = s.getsockname()[1]
            if now - USED_PORTS.get(port, -PORT_MEMORY) >= PORT_MEMORY:
                USED_PORTS[port] = now
                return s
            held.append(s)      # keep it bound: the next try gets another
        raise OSError(errno.EADDRINUSE, "no unused source port in 64 tries")
    finally:
        for h in held:
            h.close()


def one_flow(args, sport=0):
    """returns (outcome, backend, detail)"""
    fam = family_of(args.addr)
    if args.prefixed:
        # text lines for a line server, which echoes "NAME=line"
        payload = base64.encodebytes(os.urandom(args.size * 3 // 4))
    else:
        payload = os.urandom(args.size)
    expect_len = len(payload)
    if args.prefixed:
        expect_len += payload.count(b"\n") * 4     # "beN=" per line
    s = None
    deadline = time.monotonic() + args.timeout
    try:
        s = flow_socket(args, fam, sport)
        s.settimeout(args.timeout)
        s.connect((args.addr, args.port))
        if args.proto == "udp":
            s.send(payload)
            data = b""
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout()
                s.settimeout(left)
                data += s.recv(65536)
                name, back = split_answer(data)
                if name is not None and len(back) >= len(payload):
                    break
        else:
            s.sendall(payload)
            # TCP: half-close, the server echoes until our FIN and closes.
            # SCTP has no half-close (the peer may not send after our
            # SHUTDOWN): read until the whole echo is back, then close.
            if args.proto == "tcp":
                s.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout()
                s.settimeout(left)
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                if args.proto == "sctp":
                    name, back = split_answer(data)
                    if name is not None and len(back) >= expect_len:
                        break
            name, back = split_answer(data)
    except (socket.timeout, TimeoutError):
        return "timeout", None, "no answer in %.1fs" % args.timeout
    except ConnectionRefusedError:
        return "refused", None, "connection refused"
    except OSError as e:
        if e.errno == errno.ECONNREFUSED:
            return "refused", None, "connection refused"
        return "error", None, "%s" % e
    finally:
        if s:
            s.close()
    if name is None:
        return "mismatch", None, "no name line in %d bytes" % len(data)
    if args.prefixed:
        payload = b"".join(name.encode() + b"=" + l
                           for l in payload.splitlines(keepends=True))
    if back != payload:
        return "mismatch", name, "sent %d bytes, got %d back%s" % (
            len(payload), len(back),
            " (content differs)" if len(back) == len(payload) else "")
    return "ok", name, ""


def flow_mode(args):
    per_be = {}
    counts = {"ok": 0, "error": 0, "refused": 0, "timeout": 0,
              "mismatch": 0}
    bad = 0
    i = 0
    start = time.monotonic()
    while i < args.count or args.until:
        if args.until and (os.path.exists(args.until) or
                           time.monotonic() - start > args.max_time):
            break
        i += 1
        sport = args.sport + (i - 1 if args.sport_step else 0) if args.sport else 0
        outcome, name, detail = one_flow(args, sport)
        counts[outcome] += 1
        if name:
            per_be[name] = per_be.get(name, 0) + 1
        if args.expect == "any":
            unexpected = False
        elif args.expect == "fail":
            unexpected = outcome in ("ok", "mismatch")
        else:
            unexpected = outcome != args.expect
        if unexpected:
            bad += 1
        if args.verbose or (unexpected and bad <= 5):
            print("# flow %d%s: %s%s%s" % (
                i, " sport %d" % sport if sport else "", outcome,
                " from " + name if name else "",
                ": " + detail if detail else ""))
        if args.delay:
            time.sleep(args.delay)
    summary = " ".join("%s=%d" % (k, per_be[k]) for k in sorted(per_be))
    summary += " ok=%d errors=%d refused=%d timeouts=%d mismatches=%d" % (
        counts["ok"], counts["error"], counts["refused"], counts["timeout"],
        counts["mismatch"])
    if args.peers:
        summary += " peers=%s" % ",".join(sorted(PEERS))
    print(summary.strip())
    return 0 if bad == 0 else 1


def recv_line(s, buf):
    while b"\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise EOFError("connection closed by peer")
        buf += chunk
    line, rest = buf.split(b"\n", 1)
    return line.decode(errors="replace"), rest


def long_mode(args):
    fam = family_of(args.addr)
    s = sock_for("tcp", fam)
    s.settimeout(args.timeout)
    out = sys.stdout
    try:
        start = time.monotonic()
        s.connect((args.addr, args.port))
        line, buf = recv_line(s, b"")
        name = line.split()[0]
        out.write("connected %s\n" % name)
        out.flush()
        rounds = 0
        while True:
            stop = os.path.exists(args.long)
            token = os.urandom(24).hex()
            s.sendall(("round %d %s\n" % (rounds, token)).encode())
            line, buf = recv_line(s, buf)
            want = "round %d %s" % (rounds, token)
            if not args.plain:
                want = name + "=" + want
            if line != want:
                out.write("wrong answer in round %d: got '%s', want '%s'\n"
                          % (rounds, line, want))
                return 1
            rounds += 1
            out.write("round %d %s\n" % (rounds, name if args.plain
                                            else line.split("=")[0]))
            out.flush()
            if stop or time.monotonic() - start > args.max_time:
                break
            time.sleep(args.interval)
    except (OSError, EOFError) as e:
        out.write("error: %s\n" % e)
        return 1
    finally:
        s.close()
    out.write("done rounds=%d backend=%s\n" % (rounds, name))
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--proto", choices=("tcp", "udp", "sctp"), default="tcp")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--size", type=int, default=0,
                   help="payload bytes (default 2000, UDP 1000)")
    p.add_argument("--timeout", type=float, default=5.0,
                   help="seconds per flow")
    p.add_argument("--delay", type=float, default=0.0,
                   help="pause between flows")
    p.add_argument("--expect",
                   choices=("ok", "refused", "timeout", "fail", "any"),
                   default="ok")
    p.add_argument("--src", help="source address to bind")
    p.add_argument("--sport", type=int, default=0, help="source port to bind")
    p.add_argument("--sport-step", action="store_true",
                   help="flow N (from 1) uses source port SPORT+N-1")
    p.add_argument("--peers", action="store_true",
                   help="add peers=A,B,... (client addresses the servers saw)")
    p.add_argument("--prefixed", action="store_true",
                   help="the server is a line server (TCP only)")
    p.add_argument("--until", metavar="STOPFILE",
                   help="flow mode: go on (past --count) until STOPFILE exists")
    # the stop file ends them; this only bounds a client whose test never
    # made it (a debug kernel's stress tests run for the better part of
    # an hour, so no shorter bound fits every test)
    p.add_argument("--max-time", type=float, default=10800.0,
                   help="--until and --long stop after this many seconds")
    p.add_argument("--long", metavar="STOPFILE")
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--plain", action="store_true",
                   help="long mode with a plain echo server (no NAME= tags)")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("addr")
    p.add_argument("port", type=int)
    args = p.parse_args()
    if not args.size:
        args.size = 1000 if args.proto == "udp" else 2000
    if args.long:
        return long_mode(args)
    return flow_mode(args)


if __name__ == "__main__":
    sys.exit(main())

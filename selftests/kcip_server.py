#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Backend server for the kclusterip selftests.

    kcip_server.py --name NAME --proto tcp|udp|sctp[,...] --port PORT [--lines]
                   [--ready FILE]

Listens on [::]:PORT (IPv4 too, dual-stack).  Each TCP or SCTP connection
first gets a line "NAME PEERADDR", then everything it sends is echoed back:
as is, or with --lines (TCP) line by line, each line prefixed with "NAME=",
so that every answer tells who sent it.  Each UDP datagram is answered by
one datagram: the line "NAME PEERADDR", then the datagram.

Threads, not processes: a fork+exec per connection (socat's SYSTEM) costs
half a second in a software-emulated VM.  Stops after --max-time seconds.
With --ready, writes "listening" to FILE once every socket is bound (and
listening): a wait for that costs no process per poll, where polling the
socket tables does (lib.sh start_server).
"""

import argparse
import os
import socket
import struct
import sys
import threading
import time


def serve_stream(conn, peer, args):
    try:
        conn.settimeout(args.idle)
        conn.sendall(("%s %s\n" % (args.name, peer[0])).encode())
        buf = b""
        while True:
            data = conn.recv(65536)
            if not data:
                break
            if not args.lines:
                conn.sendall(data)
                continue
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                conn.sendall(args.name.encode() + b"=" + line + b"\n")
    except OSError:
        pass
    finally:
        conn.close()


def stream_server(args, ready, proto):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, proto)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", args.port))
    s.listen(256)
    ready.set()
    while True:
        conn, peer = s.accept()
        threading.Thread(target=serve_stream, args=(conn, peer, args),
                         daemon=True).start()


def udp_server(args, ready):
    # Reply from the address the datagram was sent to (IPV6_PKTINFO, also
    # given for IPv4 on this dual-stack socket): with several local
    # addresses the kernel would otherwise pick one by route, and a reply
    # from another address misses the conntrack entry of a DNATed flow.
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    s.bind(("::", args.port))
    ready.set()
    while True:
        data, anc, _, peer = s.recvmsg(65536, socket.CMSG_SPACE(20))
        reply = ("%s %s\n" % (args.name, peer[0])).encode() + data
        cmsgs = []
        for level, ctype, cdata in anc:
            if level == socket.IPPROTO_IPV6 and ctype == socket.IPV6_PKTINFO:
                # the local address, any interface
                cmsgs = [(level, ctype, cdata[:16] + struct.pack("I", 0))]
        try:
            s.sendmsg([reply], cmsgs, 0, peer)
        except OSError:
            pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--proto", default="tcp",
                   help="tcp, udp, sctp or a comma-separated list of them")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--lines", action="store_true")
    p.add_argument("--idle", type=float, default=30.0,
                   help="idle seconds before a connection ends")
    # the test's cleanup ends a server (its netns goes); this only bounds
    # one whose test never did.  900 s stopped rmmod_traffic's backends
    # 22 minutes into its 20 cycles on the debug kernel.
    p.add_argument("--max-time", type=float, default=10800.0)
    p.add_argument("--ready", metavar="FILE",
                   help="write 'listening' to FILE when every socket is up")
    args = p.parse_args()

    failed = threading.Event()

    def run(target, *targs):
        try:
            target(*targs)
        except OSError as e:
            print("kcip_server: %s" % e, file=sys.stderr)
        failed.set()

    readies = []
    for proto in args.proto.split(","):
        ready = threading.Event()
        readies.append(ready)
        if proto == "udp":
            targs = (udp_server, args, ready)
        elif proto == "sctp":
            targs = (stream_server, args, ready, socket.IPPROTO_SCTP)
        elif proto == "tcp":
            targs = (stream_server, args, ready, socket.IPPROTO_TCP)
        else:
            p.error("unknown protocol %s" % proto)
        threading.Thread(target=run, args=targs, daemon=True).start()
    if args.ready:
        for ready in readies:
            while not ready.wait(0.05):
                if failed.is_set():
                    os._exit(1)
        with open(args.ready, "w") as f:
            f.write("listening\n")
    # the servers only ever end on an error; a timeout is a normal end
    os._exit(1 if failed.wait(args.max_time) else 0)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fork server for the selftests' Python helpers, in any network namespace.

    kcip_nsrun.py FIFO

Reads requests from FIFO, one per line (shell words, as printf %q quotes):

    OUTFILE NETNS SCRIPT [ARGS...]

and for each forks a child that joins NETNS (/run/netns/NETNS, setns(2)),
sends its stdout and stderr to OUTFILE and runs SCRIPT (kcip_server.py,
kcip_client.py) as __main__ with ARGS.  When SCRIPT ends, its exit status
goes to OUTFILE.rc.  lib.sh nsrun/nsrun_bg are the shell side.

Why: on the debug kernel (KASAN, lockdep, in an emulated VM) starting
Python costs seconds of CPU, and a test that makes hundreds of namespaces
(netns_delete.sh) starts a server and a client in each.  Forked from here
they start already imported and compiled.  A child is an ordinary process
of its namespace: `ip netns pids` lists it, and it holds the namespace
until it ends, as one started by `ip netns exec` would.
"""

import argparse  # noqa: F401 (imported once here, for the children)
import base64  # noqa: F401
import ctypes
import errno  # noqa: F401
import os
import shlex
import signal
import socket  # noqa: F401
import struct  # noqa: F401
import sys
import threading  # noqa: F401
import time  # noqa: F401

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
codes = {}


def code_of(script):
    if script not in codes:
        with open(script) as f:
            codes[script] = compile(f.read(), script, "exec")
    return codes[script]


def child(out, netns, script, args):
    """in the forked child: never returns"""
    rc = 1
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        nsfd = os.open("/run/netns/" + netns, os.O_RDONLY)
        if libc.setns(nsfd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (netns, os.strerror(e)))
        os.close(nsfd)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        sys.argv = [script] + args
        try:
            exec(code_of(script), {"__name__": "__main__",
                                   "__file__": script})
            rc = 0
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else (e.code is not None)
    except BaseException as e:  # noqa: B902 (anything, reported)
        print("kcip_nsrun: %s: %s" % (script, e), file=sys.stderr)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        # written whole, then renamed: a reader never sees half of it
        with open(out + ".rc.tmp", "w") as f:
            f.write("%d\n" % rc)
        os.rename(out + ".rc.tmp", out + ".rc")
    finally:
        os._exit(rc)


def fail(out, msg):
    """a request that cannot run: its message and status 127"""
    try:
        with open(out, "w") as f:
            print(msg, file=f)
        with open(out + ".rc.tmp", "w") as f:
            f.write("127\n")
        os.rename(out + ".rc.tmp", out + ".rc")
    except OSError as e:
        print("kcip_nsrun: %s: %s" % (out, e), file=sys.stderr)


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().split("\n")[2].strip(), file=sys.stderr)
        return 2
    # children are reaped as they end; their status is in OUTFILE.rc
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    # read and write: no EOF when the last writer closes
    fifo = os.fdopen(os.open(sys.argv[1], os.O_RDWR), "r")
    for line in fifo:
        words = shlex.split(line)
        if len(words) < 3:
            print("kcip_nsrun: bad request %r" % line, file=sys.stderr)
            continue
        out, netns, script = words[:3]
        try:
            code_of(script)
        except (OSError, SyntaxError) as e:
            fail(out, "kcip_nsrun: %s: %s" % (script, e))
            continue
        if os.fork() == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            child(out, netns, script, words[3:])
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench/compare.py [--traffic] A.jsonl B.jsonl: how much two runs of make
bench differ.

For every figure both runs have (new TCP connections/s, new UDP flows/s,
throughput: the median of a run's rounds; bulk load and one-change times),
prints B/A, then the median and the worst |B/A - 1| over all of them.  Two
runs made the same way on the same machine show how repeatable a single
figure is, which the rounds of one boot cannot show.  --traffic: the traffic figures
only (under QEMU's -icount the guest clock jumps while it waits for the
host, and load and change times mean nothing)."""

import json
import statistics
import sys


def figures(path):
    rounds = {}
    out = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            kind = r.get("kind")
            if kind in ("tcp", "udp", "tput"):
                v = r["bps"] if kind == "tput" else r["res"]["rate"]
                if v is not None:
                    rounds.setdefault((kind, r["impl"], r["n"]), []).append(v)
            elif kind in ("load", "change"):
                rounds.setdefault((kind, r["impl"], r["n"]), []).append(r["ms"])
    for key, vals in rounds.items():
        out[key] = statistics.median(vals)
    return out


def main():
    args = sys.argv[1:]
    traffic = bool(args) and args[0] == "--traffic"
    if traffic:
        args = args[1:]
    if len(args) != 2:
        sys.exit(__doc__)
    a, b = figures(args[0]), figures(args[1])
    if traffic:
        a = {k: v for k, v in a.items() if k[0] in ("tcp", "udp", "tput")}
    diffs = []
    print(f"{'figure':<32} {'A':>12} {'B':>12} {'B/A':>7}")
    for key in sorted(set(a) & set(b), key=str):
        if not a[key]:
            continue
        ratio = b[key] / a[key]
        diffs.append(abs(ratio - 1))
        name = f"{key[0]} {key[1]} {key[2]}"
        print(f"{name:<32} {a[key]:>12,.1f} {b[key]:>12,.1f} {ratio:>7.3f}")
    if not diffs:
        sys.exit("no figure in common")
    print(f"{len(diffs)} figures: |B/A - 1| median {statistics.median(diffs):.1%}, "
          f"worst {max(diffs):.1%}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench/report.py RESULTS.jsonl PREFIX: PREFIX.json (everything, with
medians and spreads), PREFIX.md (the tables and the targets) and, with
gnuplot, PREFIX-connrate.png and PREFIX-load.png."""
import json
import os
import shutil
import statistics
import subprocess
import sys

NAMES = {"ct": "floor: conntrack, no NAT", "dnat": "floor: one static DNAT rule",
         "ipt": "iptables (kube-proxy)", "nft": "nftables (kube-proxy)",
         "ipvs": "IPVS (kube-proxy)", "kcip": "kclusterip",
         "kcipr": "kclusterip, retry on"}
ORDER = ["ct", "dnat", "ipt", "nft", "ipvs", "kcip", "kcipr"]
SHORT = {"ct": "conntrack floor", "dnat": "static DNAT floor", "ipt": "iptables",
         "nft": "nftables", "ipvs": "IPVS", "kcip": "kclusterip",
         "kcipr": "kclusterip retry on"}


def med(v):
    return statistics.median(v) if v else None


def spread(v):
    """(max - min) / median, in %: how far identical measurements differ"""
    if len(v) < 2 or not med(v):
        return None
    return 100.0 * (max(v) - min(v)) / med(v)


def fmt(x, nd=0):
    if x is None:
        return "–"
    return f"{x:,.{nd}f}"


def main():
    src, prefix = sys.argv[1], sys.argv[2]
    recs = [json.loads(line) for line in open(src) if line.strip()]
    env = next((r for r in recs if r["kind"] == "env"), {})
    noop = next((r["ms"] for r in recs if r["kind"] == "noop"), None)
    sizes = sorted({r["n"] for r in recs if "n" in r})
    out = {"env": env, "noop_ms": noop, "sizes": sizes, "impl": {}}
    for impl in ORDER:
        d = {}
        for n in sizes:
            e = {}
            for proto in ("tcp", "udp"):
                v = [r["res"]["rate"] for r in recs if r["kind"] == proto and r["impl"] == impl and r["n"] == n]
                er = sum(r["res"]["errors"] for r in recs if r["kind"] == proto and r["impl"] == impl and r["n"] == n)
                if v:
                    e[proto] = {"runs": v, "median": med(v), "spread_pct": spread(v), "errors": er}
            v = [r["bps"] for r in recs if r["kind"] == "tput" and r["impl"] == impl and r["n"] == n and r["bps"] > 0]
            if v:
                e["tput"] = {"runs": v, "median": med(v), "spread_pct": spread(v)}
            ld = [r for r in recs if r["kind"] == "load" and r["impl"] == impl and r["n"] == n]
            if ld:
                e["load_ms"] = ld[0]["ms"]
                e["mem_bytes"] = ld[0]["mem_bytes"]
                if "addr_ms" in ld[0]:
                    e["ipvs_addr_ms"] = ld[0]["addr_ms"]
            l1 = [r for r in recs if r["kind"] == "load1" and r["impl"] == impl and r["n"] == n]
            if l1:
                e["load1_ms"] = l1[0]["ms"]
                e["mem1_bytes"] = l1[0]["mem_bytes"]
                m10, m1 = e["mem_bytes"], l1[0]["mem_bytes"]
                nsvc = n + min(n, 100)          # Service ports: tcp + the udp ones
                e["mem_per_backend"] = (m10 - m1) / (9 * nsvc)
                e["mem_per_service"] = m1 / nsvc - e["mem_per_backend"]
            ch = [r["ms"] for r in recs if r["kind"] == "change" and r["impl"] == impl and r["n"] == n]
            if ch:
                e["change_ms"] = {"runs": ch, "median": med(ch), "spread_pct": spread(ch)}
            if e:
                d[n] = e
        if d:
            out["impl"][impl] = d
    # identical measurements: every floor figure, per size
    out["targets"] = targets(out)
    with open(prefix + ".json", "w") as f:
        json.dump(out, f, indent=1)
    md = markdown(out, os.path.basename(prefix))
    with open(prefix + ".md", "w") as f:
        f.write(md)
    plots(out, prefix)
    print(md)


def g(out, impl, n, *keys):
    x = out["impl"].get(impl, {}).get(n)
    for k in keys:
        if x is None:
            return None
        x = x.get(k)
    return x


def targets(out):
    sizes = out["sizes"]
    t = []
    big = 10000 if 10000 in sizes else max(sizes)
    one = min(sizes)
    k_big = g(out, "kcip", big, "tcp", "median")
    k_one = g(out, "kcip", one, "tcp", "median")
    dn = g(out, "dnat", big, "tcp", "median")

    def add(name, ok, fig):
        t.append({"target": name, "met": ok, "figure": fig})

    if k_big and k_one:
        r = k_big / k_one
        add(f"new-connection rate at {big:,} Services >= 0.95 x kclusterip at {one} Service{'s' if one > 1 else ''}",
            r >= 0.95, f"{k_big:,.0f} / {k_one:,.0f} conn/s = {r:.2f}")
    if k_big and dn:
        r = k_big / dn
        add(f"new-connection rate at {big:,} Services >= 0.9 x static-DNAT floor",
            r >= 0.9, f"{k_big:,.0f} / {dn:,.0f} conn/s = {r:.2f}")
    worst = []
    for n in sizes:
        k = g(out, "kcip", n, "tcp", "median")
        for o in ("ipt", "nft", "ipvs"):
            x = g(out, o, n, "tcp", "median")
            if k and x:
                worst.append((k / x, n, o))
    if worst:
        r, n, o = min(worst)
        add("new-connection rate above every other implementation at every size",
            r > 1.0, f"closest: {SHORT[o]} at {n:,}: kclusterip/{SHORT[o]} = {r:.2f}")
    tp = [(n, g(out, "kcip", n, "tput", "median"), g(out, "ct", n, "tput", "median")) for n in sizes]
    tp = [x for x in tp if x[1] and x[2]]
    if tp:
        n, k, c = tp[0]
        r = k / c
        add("established throughput within 2% of the conntrack-only floor", r >= 0.98,
            f"at {n:,}: {k/1e9:.2f} / {c/1e9:.2f} Gbit/s = {r:.3f}")
    kl = g(out, "kcip", big, "load_ms")
    for o in ("ipt", "nft"):
        x = g(out, o, big, "load_ms")
        if kl and x and x > 0:
            r = x / kl
            add(f"bulk programming {big:,} x 10 >= 10x faster than {SHORT[o]}", r >= 10,
                f"{x/1000:.1f} s / {kl/1000:.2f} s = {r:.1f}x")
        else:
            add(f"bulk programming {big:,} x 10 >= 10x faster than {SHORT[o]}", None,
                f"{SHORT[o]} not measured at {big:,}")
    cb, c1 = g(out, "kcip", big, "change_ms", "median"), g(out, "kcip", one, "change_ms", "median")
    if cb and c1:
        r = cb / c1
        add(f"one change at {big:,} Services within 2x of one change at {one} (the issue says 10)",
            r <= 2, f"{cb:.0f} ms / {c1:.0f} ms = {r:.2f} (median of 3; includes starting kcipctl)")
    pb = [(n, g(out, "kcip", n, "mem_per_backend")) for n in sizes if g(out, "kcip", n, "mem_per_backend") is not None and n >= 1000]
    if pb:
        n, b = pb[-1]
        add("at most 256 bytes of kernel memory per backend", b <= 256,
            f"{b:.0f} B/backend at {n:,} Services (slab+vmalloc+percpu delta)")
    return t


def markdown(out, title):
    env = out["env"]
    sizes = out["sizes"]
    L = [f"# kclusterip benchmark {title}", "",
         f"One boot of the test VM: kernel {env.get('kernel')}, {env.get('cpus')} vCPUs (QEMU TCG, no KVM), "
         f"{env.get('mem_kb', 0)//1024} MB; {env.get('rounds')} interleaved rounds of {env.get('dur')} s per "
         f"traffic figure, {env.get('conc')} flows in flight; 10 backends per Service. "
         f"Medians, with the spread (max-min)/median of the rounds in brackets. "
         f"{env.get('iptables')}; {env.get('nft')}; {env.get('ipvsadm')}.", "",
         "## New TCP connections per second (connect + RST close, round robin over up to 100 VIPs across the table)", ""]

    def table(key, unit_div=1.0, nd=0):
        hdr = "| implementation | " + " | ".join(f"{n:,}" for n in sizes) + " |"
        L.append(hdr)
        L.append("|---|" + "---|" * len(sizes))
        for impl in ORDER:
            if impl not in out["impl"]:
                continue
            cells = []
            for n in sizes:
                e = g(out, impl, n, key)
                if not e:
                    cells.append("–")
                    continue
                s = e.get("spread_pct")
                cells.append(fmt(e["median"] / unit_div, nd) + (f" (±{s/2:.0f}%)" if s is not None else ""))
            L.append(f"| {NAMES[impl]} | " + " | ".join(cells) + " |")
        L.append("")

    table("tcp")
    L += ["## New UDP flows per second (request/response, a new source port each)", ""]
    table("udp")
    L += ["## Bulk programming time, s (from empty)", ""]
    L.append("| implementation | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    L.append("|---|" + "---|" * len(sizes))
    for impl in ("ipt", "nft", "ipvs", "kcip"):
        cells = []
        for n in sizes:
            v = g(out, impl, n, "load_ms")
            cells.append("failed/timeout" if v == -1 else fmt(v / 1000 if v is not None else None, 2))
        L.append(f"| {NAMES[impl]} | " + " | ".join(cells) + " |")
    L += ["", f"(`ip netns exec` + process start alone: {out.get('noop_ms')} ms; IPVS includes the `ip -batch` of the VIPs on kube-ipvs0.)", "",
          "## One change (one backend added to one Service), ms, median of 3", ""]
    table("change_ms")
    tp = [n for n in sizes if any(g(out, i, n, "tput") for i in ORDER)]
    if tp:
        L += [f"## Established-flow throughput, Gbit/s (iperf3, at {tp[0]:,} Services)", ""]
        L.append("| implementation | Gbit/s |")
        L.append("|---|---|")
        for impl in ORDER:
            e = g(out, impl, tp[0], "tput")
            if e:
                s = e.get("spread_pct")
                L.append(f"| {NAMES[impl]} | {e['median']/1e9:.2f}" + (f" (±{s/2:.0f}%)" if s is not None else "") + " |")
        L.append("")
    rr = []
    for n in sizes:
        for key, what in (("tcp", "TCP conn/s"), ("udp", "UDP flows/s"), ("tput", "throughput")):
            a, b = g(out, "kcipr", n, key, "median"), g(out, "kcip", n, key, "median")
            if a and b:
                rr.append(f"{what} at {n:,}: {a / b:.2f}")
    if rr:
        L += ["## The cost of retry on", "",
              "kclusterip with `retry on` on every Service, over kclusterip with retry off "
              "(off, the retry hooks are not registered: no cost at all): " + "; ".join(rr) + ".", ""]
    ref = 10 if 10 in sizes else min(sizes)
    lr, cr = g(out, "kcip", ref, "load_ms"), g(out, "kcip", ref, "change_ms", "median")
    if lr and cr:
        L += [f"## kclusterip's control plane against its own figure at {ref:,} Service{'s' if ref > 1 else ''}", "",
              "| Services | restore ms | ratio | one change ms | ratio |", "|---|---|---|---|---|"]
        for n in sizes:
            lv, cv = g(out, "kcip", n, "load_ms"), g(out, "kcip", n, "change_ms", "median")
            if lv is None or cv is None:
                continue
            L.append(f"| {n:,} | {fmt(lv)} | {lv / lr:.1f} | {fmt(cv)} | {cv / cr:.2f} |")
        L.append("")
    L += ["## Kernel memory (Slab + VmallocUsed + Percpu delta of the bulk load)", ""]
    L.append("| implementation | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    L.append("|---|" + "---|" * len(sizes))
    for impl in ("ipt", "nft", "ipvs", "kcip"):
        cells = []
        for n in sizes:
            m = g(out, impl, n, "mem_bytes")
            cells.append("–" if m is None else f"{m/1048576:.1f} MiB ({m/(10*(n+min(n,100))):.0f} B/backend)")
        L.append(f"| {NAMES[impl]} | " + " | ".join(cells) + " |")
    L.append("")
    kp = [(n, g(out, "kcip", n, "mem_per_service"), g(out, "kcip", n, "mem_per_backend")) for n in sizes]
    kp = [x for x in kp if x[2] is not None]
    if kp:
        L.append("kclusterip, from loads of 10 and of 1 backend per Service: " + "; ".join(
            f"{n:,}: {s:.0f} B/Service + {b:.0f} B/backend" for n, s, b in kp) + ".")
        L.append("")
    L += ["## Run-to-run spread", ""]
    fl = [g(out, i, n, p, "spread_pct") for i in ("ct", "dnat") for n in sizes for p in ("tcp", "udp")]
    fl = [x for x in fl if x is not None]
    al = [g(out, i, n, p, "spread_pct") for i in ORDER for n in sizes for p in ("tcp", "udp")]
    al = [x for x in al if x is not None]
    if al:
        L.append(f"Identical measurements (the same implementation, size and protocol, rounds of one boot) "
                 f"differ by (max-min)/median: median {med(al):.0f}%, worst {max(al):.0f}% over all cells; "
                 f"floors only: median {med(fl):.0f}%, worst {max(fl):.0f}%. "
                 "The floors do not depend on the table size, so their figures across sizes are identical measurements too: " +
                 "; ".join(f"{SHORT[i]} TCP {fmt(min(v))}–{fmt(max(v))}" for i in ("ct", "dnat")
                           for v in [[g(out, i, n, 'tcp', 'median') for n in sizes if g(out, i, n, 'tcp')]] if v) + ".")
        L.append("")
    L += ["## Targets", "", "| target | met | figure |", "|---|---|---|"]
    for t in out["targets"]:
        m = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        L.append(f"| {t['target']} | {m} | {t['figure']} |")
    L.append("")
    return "\n".join(L)


def plots(out, prefix):
    if not shutil.which("gnuplot"):
        print("report: gnuplot not found, no plots", file=sys.stderr)
        return
    d = prefix + ".dat"
    series = []
    for key, fn, ylabel, title in (("tcp", "connrate", "new TCP connections/s (median)",
                                    "New-connection rate vs number of Services"),
                                   ("load_ms", "load", "bulk programming time, s",
                                    "Programming time (10 backends per Service) vs number of Services")):
        cmds = ["set terminal pngcairo size 900,560 noenhanced" if term_ok("pngcairo") else "set terminal png size 900,560",
                f"set output '{prefix}-{fn}.png'", f"set title '{title}'", "set logscale x",
                "set xlabel 'Services (10 backends each)'", f"set ylabel '{ylabel}'", "set key outside right",
                "set grid", "set format x '%.0f'"]
        if key == "load_ms":
            cmds.append("set logscale y")
        else:
            cmds.append("set yrange [0:*]")
        plotl = []
        for impl in ORDER:
            if key == "load_ms" and impl == "kcipr":
                continue	# the same load as kcip
            pts = []
            for n in out["sizes"]:
                v = g(out, impl, n, key)
                if isinstance(v, dict):
                    v = v["median"]
                if v is not None and v > 0:
                    pts.append((n, v / 1000 if key == "load_ms" else v))
            if not pts:
                continue
            fname = f"{d}.{fn}.{impl}"
            with open(fname, "w") as f:
                for n, v in pts:
                    f.write(f"{n} {v}\n")
            series.append(fname)
            dash = " dt 2" if impl in ("ct", "dnat") else ""
            plotl.append(f"'{fname}' using 1:2 with linespoints lw 2{dash} title '{SHORT[impl]}'")
        if not plotl:
            continue
        if key == "load_ms":
            cmds.append("set format y '%g'")
        cmds.append("plot " + ", ".join(plotl))
        subprocess.run(["gnuplot"], input="\n".join(cmds), text=True, check=False)
    for f in series:
        os.unlink(f)


def term_ok(t):
    r = subprocess.run(["gnuplot", "-e", f"set terminal {t}"], capture_output=True, text=True)
    return r.returncode == 0 and "unknown" not in r.stderr


if __name__ == "__main__":
    main()

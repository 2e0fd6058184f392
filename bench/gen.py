#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench/gen.py OUTDIR N: the rule sets of `make bench` for N Services.

Service i (0-based): VIP 10.96.0.0+i+1, port 80/tcp -> its 10 endpoints
10.128.0.0 + 16*i + j + 1 (j = 0..9), port 8080.  The (up to) 100 Services
the clients use, spread evenly over the table, also have port 80/udp.
Files written, in kube-proxy's layouts:

  ipt.rules      iptables-restore: KUBE-SERVICES -> KUBE-SVC-* (statistic
                 random) -> KUBE-SEP-* (DNAT)
  ipt.change.K   iptables-restore --noflush: what kube-proxy writes when one
                 endpoint is added (KUBE-SERVICES, the Service's chain, the
                 new endpoint's chain)
  nft.rules      nft -f: kube-proxy nftables mode (service-ips verdict map,
                 per-Service numgen vmap, per-endpoint dnat chains)
  nft.change.K   nft -f: the transaction for one added endpoint
  ipvs.rules     ipvsadm -R; ipvs.addrs: ip -batch for the dummy device
  ipvs.change.K  the one ipvsadm command
  kcip.rules     kcipctl restore; kcip1.rules the same with 1 backend each
  kcip.change.K  the one kcipctl command
  vips, eps      the client's targets (VIPs; their first endpoints)
K = 1..3: three changes, each to a different Service.
"""
import hashlib
import ipaddress
import os
import sys

NBE = 10
VIP0 = int(ipaddress.IPv4Address("10.96.0.0"))
EP0 = int(ipaddress.IPv4Address("10.128.0.0"))


def ip(n):
    return str(ipaddress.IPv4Address(n))


def vip(i):
    return ip(VIP0 + i + 1)


def ep(i, j):
    return ip(EP0 + 16 * i + j + 1)


def h(s):
    return hashlib.sha256(s.encode()).hexdigest()[:16].upper()


def sampled(n):
    k = min(n, 100)
    return sorted({(2 * m + 1) * n // (2 * k) for m in range(k)})


def ports(i, udp_set):
    return ["tcp", "udp"] if i in udp_set else ["tcp"]


def svc_name(i, p):
    return "KUBE-SVC-" + h("svc%d/%s" % (i, p))


def sep_name(i, p, j):
    return "KUBE-SEP-" + h("sep%d/%s/%d" % (i, p, j))


def ipt_svc_chain(out, i, p, nbe):
    sn = svc_name(i, p)
    for j in range(nbe):
        rest = nbe - j
        if rest > 1:
            out.append("-A %s -m comment --comment \"default/svc%d:%s -> %s:8080\" "
                       "-m statistic --mode random --probability %.10f -j %s"
                       % (sn, i, p, ep(i, j), 1.0 / rest, sep_name(i, p, j)))
        else:
            out.append("-A %s -m comment --comment \"default/svc%d:%s -> %s:8080\" -j %s"
                       % (sn, i, p, ep(i, j), sep_name(i, p, j)))


def ipt_sep_chain(out, i, p, j):
    s = sep_name(i, p, j)
    out.append("-A %s -m comment --comment default/svc%d:%s -s %s/32 -j KUBE-MARK-MASQ"
               % (s, i, p, ep(i, j)))
    out.append("-A %s -m comment --comment default/svc%d:%s -m %s -p %s -j DNAT --to-destination %s:8080"
               % (s, i, p, p, p, ep(i, j)))


def ipt_services(out, n, udp_set):
    for i in range(n):
        for p in ports(i, udp_set):
            out.append("-A KUBE-SERVICES -m comment --comment \"default/svc%d:%s cluster IP\" "
                       "-m %s -p %s -d %s/32 --dport 80 -j %s" % (i, p, p, p, vip(i), svc_name(i, p)))
    out.append("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports\" "
               "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS")


def gen_ipt(d, n, udp_set, changes):
    o = ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
         ":POSTROUTING ACCEPT [0:0]", ":KUBE-SERVICES - [0:0]", ":KUBE-NODEPORTS - [0:0]",
         ":KUBE-MARK-MASQ - [0:0]", ":KUBE-POSTROUTING - [0:0]"]
    for i in range(n):
        for p in ports(i, udp_set):
            o.append(":%s - [0:0]" % svc_name(i, p))
            for j in range(NBE):
                o.append(":%s - [0:0]" % sep_name(i, p, j))
    o += ["-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
          "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
          "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING",
          "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000",
          "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
          "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000",
          "-A KUBE-POSTROUTING -j MASQUERADE --random-fully"]
    ipt_services(o, n, udp_set)
    for i in range(n):
        for p in ports(i, udp_set):
            ipt_svc_chain(o, i, p, NBE)
            for j in range(NBE):
                ipt_sep_chain(o, i, p, j)
    o.append("COMMIT")
    write(d, "ipt.rules", o)
    # one change: Service i gets endpoint NBE+k-1 (changes are cumulative
    # only when they hit the same Service, i.e. N = 1)
    nb = {}
    for k, i in enumerate(changes, 1):
        nb[i] = nb.get(i, NBE) + 1
        c = ["*nat", ":KUBE-SERVICES - [0:0]", ":%s - [0:0]" % svc_name(i, "tcp"),
             ":%s - [0:0]" % sep_name(i, "tcp", nb[i] - 1)]
        ipt_services(c, n, udp_set)
        ipt_svc_chain(c, i, "tcp", nb[i])
        ipt_sep_chain(c, i, "tcp", nb[i] - 1)
        c.append("COMMIT")
        write(d, "ipt.change.%d" % k, c)


def nft_svc(i, p):
    return "service-%s-default/svc%d/%s/p80" % (h("svc%d/%s" % (i, p))[:8], i, p)


def nft_ep(i, p, j):
    return "endpoint-%s-default/svc%d/%s/p80__%s/8080" % (h("sep%d/%s/%d" % (i, p, j))[:8], i, p, ep(i, j))


T = "ip kube-proxy"


def nft_ep_rules(o, i, p, j):
    c = nft_ep(i, p, j)
    o.append("add chain %s %s" % (T, c))
    o.append("add rule %s %s ip saddr %s jump mark-for-masquerade" % (T, c, ep(i, j)))
    o.append("add rule %s %s meta l4proto %s dnat to %s:8080" % (T, c, p, ep(i, j)))


def nft_svc_rule(o, i, p, nbe):
    o.append("add rule %s %s numgen random mod %d vmap { %s }" % (
        T, nft_svc(i, p), nbe,
        ", ".join("%d : goto %s" % (j, nft_ep(i, p, j)) for j in range(nbe))))


def gen_nft(d, n, udp_set, changes):
    o = ["add table %s { comment \"rules for kube-proxy\" ; }" % T,
         "add chain %s mark-for-masquerade" % T,
         "add rule %s mark-for-masquerade mark set mark or 0x4000" % T,
         "add chain %s masquerading" % T,
         "add rule %s masquerading mark and 0x4000 == 0 return" % T,
         "add rule %s masquerading mark set mark xor 0x4000" % T,
         "add rule %s masquerading masquerade fully-random" % T,
         "add chain %s services" % T,
         "add chain %s nat-prerouting { type nat hook prerouting priority -100 ; }" % T,
         "add rule %s nat-prerouting jump services" % T,
         "add chain %s nat-output { type nat hook output priority -100 ; }" % T,
         "add rule %s nat-output jump services" % T,
         "add chain %s nat-postrouting { type nat hook postrouting priority 100 ; }" % T,
         "add rule %s nat-postrouting jump masquerading" % T,
         "add map %s service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; "
         "comment \"ClusterIP, ExternalIP and LoadBalancer IP traffic\" ; }" % T,
         "add rule %s services ip daddr . meta l4proto . th dport vmap @service-ips" % T]
    for i in range(n):
        for p in ports(i, udp_set):
            o.append("add chain %s %s" % (T, nft_svc(i, p)))
            for j in range(NBE):
                nft_ep_rules(o, i, p, j)
            nft_svc_rule(o, i, p, NBE)
            o.append("add element %s service-ips { %s . %s . 80 : goto %s }" % (T, vip(i), p, nft_svc(i, p)))
    write(d, "nft.rules", o)
    nb = {}
    for k, i in enumerate(changes, 1):
        nb[i] = nb.get(i, NBE) + 1
        c = []
        nft_ep_rules(c, i, "tcp", nb[i] - 1)
        c.append("flush chain %s %s" % (T, nft_svc(i, "tcp")))
        nft_svc_rule(c, i, "tcp", nb[i])
        write(d, "nft.change.%d" % k, c)


def gen_ipvs(d, n, udp_set, changes):
    o, a = [], []
    for i in range(n):
        a.append("addr add %s/32 dev kube-ipvs0" % vip(i))
        for p in ports(i, udp_set):
            f = "-t" if p == "tcp" else "-u"
            o.append("-A %s %s:80 -s rr" % (f, vip(i)))
            for j in range(NBE):
                o.append("-a %s %s:80 -r %s:8080 -m -w 1" % (f, vip(i), ep(i, j)))
    write(d, "ipvs.rules", o)
    write(d, "ipvs.addrs", a)
    nb = {}
    for k, i in enumerate(changes, 1):
        nb[i] = nb.get(i, NBE) + 1
        write(d, "ipvs.change.%d" % k, ["-a -t %s:80 -r %s:8080 -m -w 1" % (vip(i), ep(i, nb[i] - 1))])


def gen_kcip(d, n, udp_set, changes):
    for name, nbe in (("kcip.rules", NBE), ("kcip1.rules", 1)):
        o = []
        for i in range(n):
            for p in ports(i, udp_set):
                s = "%s:80/%s" % (vip(i), p)
                o.append("service add %s" % s)
                for j in range(nbe):
                    o.append("backend add %s %s:8080" % (s, ep(i, j)))
        write(d, name, o)
    nb = {}
    for k, i in enumerate(changes, 1):
        nb[i] = nb.get(i, NBE) + 1
        write(d, "kcip.change.%d" % k, ["backend add %s:80/tcp %s:8080" % (vip(i), ep(i, nb[i] - 1))])


def write(d, name, lines):
    with open(os.path.join(d, name), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    d, n = sys.argv[1], int(sys.argv[2])
    what = sys.argv[3].split(",") if len(sys.argv) > 3 else ["ipt", "nft", "ipvs", "kcip"]
    os.makedirs(d, exist_ok=True)
    s = sampled(n)
    udp_set = set(s)
    changes = [n // 2, n // 3, (3 * n) // 4] if n > 1 else [0, 0, 0]
    write(d, "vips", [vip(i) for i in s])
    write(d, "eps", [ep(i, 0) for i in s])
    for w in what:
        globals()["gen_" + w](d, n, udp_set, changes)


if __name__ == "__main__":
    main()

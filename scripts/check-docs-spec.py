#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that Documentation/netlink.rst covers the netlink spec.

Every operation, attribute (of every set), definition, enum/flag entry and
multicast group named in Documentation/netlink/specs/kclusterip.yaml must
appear in netlink.rst as a literal (``name``).  Exit 0 when it does;
otherwise list what is missing and exit 1.
"""
import os
import sys

try:
    import yaml
except ImportError:
    print("check-docs: python3-yaml not installed: spec coverage not checked")
    sys.exit(0)

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = yaml.safe_load(open(os.path.join(
    TOP, "Documentation/netlink/specs/kclusterip.yaml")))
doc = open(os.path.join(TOP, "Documentation/netlink.rst")).read()

names = set()
for d in spec.get("definitions", []):
    names.add(d["name"])
    names.update(d.get("entries", []))
for aset in spec.get("attribute-sets", []):
    for a in aset["attributes"]:
        if a["name"] not in ("unspec",):
            names.add(a["name"])
for op in spec["operations"]["list"]:
    names.add(op["name"])
for g in spec.get("mcast-groups", {}).get("list", []):
    names.add(g["name"])

missing = sorted(n for n in names if "``%s``" % n not in doc)
if missing:
    print("check-docs: Documentation/netlink.rst does not name: %s"
          % ", ".join(missing))
    sys.exit(1)
print("check-docs: netlink.rst names all %d names of the spec" % len(names))

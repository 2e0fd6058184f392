#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that uapi/linux/kclusterip.h agrees with the netlink spec.

Every name the spec defines (commands, attributes, enums, flags, consts)
becomes a C static assertion on the header's value; the header is then
compiled.  Exit 0 when they agree.
"""
import os
import subprocess
import sys
import tempfile

import yaml

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cname(*parts):
    return "".join(parts).upper().replace("-", "_")


def expectations(spec):
    out = [(cname(spec["c-family-name"]), '"%s"' % spec["name"])]
    for d in spec["definitions"]:
        if d["type"] == "const":
            out.append((cname("kcip-", d["name"]), d["value"]))
            continue
        prefix = d.get("name-prefix", "")
        for i, e in enumerate(d["entries"]):
            val = (1 << i) if d["type"] == "flags" else i
            out.append((cname(prefix, e), val))
    for aset in spec["attribute-sets"]:
        prefix = aset["name-prefix"]
        val = 0
        for a in aset["attributes"]:
            val = a.get("value", val)
            out.append((cname(prefix, a["name"]), val))
            val += 1
        out.append((cname(prefix, "max"), val - 1))
    ops = spec["operations"]
    val = 0
    for op in ops["list"]:
        val = op.get("value", val)
        out.append((cname(ops["name-prefix"], op["name"]), val))
        val += 1
    out.append((cname(ops["name-prefix"], "max"), val - 1))
    return out


def main():
    with open(os.path.join(TOP, "Documentation/netlink/specs/kclusterip.yaml")) as f:
        spec = yaml.safe_load(f)
    lines = ["#include <string.h>", "#include <linux/kclusterip.h>"]
    n = 0
    for name, val in expectations(spec):
        if isinstance(val, str):
            lines.append('_Static_assert(sizeof(%s) == sizeof(%s) && '
                         '__builtin_constant_p(%s), "%s");' % (name, val, name, name))
        else:
            lines.append('_Static_assert(%s == %s, "%s differs from the spec");'
                         % (name, val, name))
        n += 1
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as src:
        src.write("\n".join(lines) + "\n")
    try:
        r = subprocess.run(["cc", "-fsyntax-only", "-I", os.path.join(TOP, "uapi"),
                            src.name], capture_output=True, text=True)
    finally:
        os.unlink(src.name)
    if r.returncode:
        sys.stderr.write(r.stderr)
        print("check-spec: uapi header and spec disagree")
        return 1
    print("check-spec: %d names agree between the spec and the uapi header" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())

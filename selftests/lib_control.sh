#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the control-plane tests (control_scale.sh, control_atomic.sh,
# control_limits.sh, counters.sh), sourced after lib.sh:
#
#   now_ms                     milliseconds, monotonic enough for timings
#   timed VAR cmd [args...]    run cmd, VAR = its wall time in ms; cmd's
#                              stdout and stderr go to $TIMED_OUT
#   gen_state NSVC NBE NET [OPTS] [BEOPTS]   "service add"/"backend add"
#                              lines: NSVC Services 10.NET.X.Y:80/tcp with
#                              NBE backends each (see gen_state below)
#   restore_summary OUT        "ADDED CHANGED DELETED UNCHANGED SERVICES
#                              BACKENDS" out of what "restore -s" prints
#   kcip_nl NS MODE ARGS...    the family spoken directly (no kcipctl): see
#                              KCIP_NL_PY
#   slab_cg_bytes              bytes in the kmalloc-cg-* slabs (accounted
#                              kernel allocations: what kclusterip stages)
#   normalize_show             "kcipctl -s show" text -> flat counter lines
#   normalize_json             "kcipctl -j -s show" JSON -> the same lines
#   counter SNAP KEY...        one value out of those lines; snap NS makes them
#   ctl_server, ctl_flows      flowgen responder and client (C: quick to start)

now_ms() { date +%s%3N; }

TIMED_OUT=
# timed VAR cmd [args...]: run cmd; VAR gets its wall time (ms); returns
# cmd's status.  Its output is in $TIMED_OUT (a file).
timed()
{
	local var=$1 t0 t1 rc

	shift
	[ -z "$TIMED_OUT" ] && TIMED_OUT=$(mktemp_file)
	t0=$(now_ms)
	"$@" > "$TIMED_OUT" 2>&1
	rc=$?
	t1=$(now_ms)
	eval "$var=$((t1 - t0))"
	return $rc
}

# gen_state NSVC NBE NET [SVCOPTS] [BEOPTS] [FIRST]: a restore file on
# stdout.  Service i (FIRST.., default 0) is 10.NET.(i/250+1).(i%250+1):80/tcp
# with options SVCOPTS; its backends are 10.250.(j/250).(j%250+1):8080 for
# j = 0..NBE-1 (addresses that exist nowhere: for control-plane tests), each
# with BEOPTS.
gen_state()
{
	awk -v n="$1" -v nbe="$2" -v net="$3" -v so="$4" -v bo="$5" -v first="${6:-0}" '
	BEGIN {
		for (i = first; i < first + n; i++) {
			s = sprintf("10.%d.%d.%d:80/tcp", net, int(i / 250) + 1, i % 250 + 1)
			print "service add " s (so == "" ? "" : " " so)
			for (j = 0; j < nbe; j++)
				printf "backend add %s 10.250.%d.%d:8080%s\n", s,
					int(j / 250), j % 250 + 1, (bo == "" ? "" : " " bo)
		}
	}'
}

# restore_summary TEXT: "ADDED CHANGED DELETED UNCHANGED SERVICES BACKENDS"
# out of "restore: 1 added, 2 changed, 3 deleted, 4 unchanged; 5 services,
# 6 backends, generation 7"; empty when there is no such line.
restore_summary()
{
	echo "$1" | sed -n 's/^restore: \([0-9]*\) added, \([0-9]*\) changed, \([0-9]*\) deleted, \([0-9]*\) unchanged; \([0-9]*\) services, \([0-9]*\) backends.*/\1 \2 \3 \4 \5 \6/p' | tail -n 1
}

# slab_cg_bytes: active objects x object size over the kmalloc-cg-* caches
# (GFP_KERNEL_ACCOUNT allocations, which is what a restore stage is made of)
slab_cg_bytes()
{
	awk '$1 ~ /^kmalloc-cg-/ { n += $2 * $4 } END { printf "%d\n", n }' /proc/slabinfo
}

# normalize_show: "kcipctl -s show" on stdin -> lines
#   svc SERVICE FIELD VALUE / be SERVICE BACKEND FIELD VALUE
# (fields as the JSON names them), sorted
normalize_show()
{
	awk '
	function pairs(prefix, from,    i, k) {
		for (i = from; i < NF; i += 2) {
			k = $i
			gsub("-", "_", k)
			if (k == "active") k = "active_flows"
			if (k ~ /^(new_flows|active_flows|packets|bytes|rejects|drops|retries|failures)$/)
				print prefix, k, $(i + 1)
		}
	}
	$1 == "service" { svc = $2; next }
	$1 == "stats" { pairs("svc " svc, 2); next }
	$1 == "backend" {
		for (i = 3; i <= NF; i++) if ($i == "new-flows") break
		pairs("be " svc " " $2, i)
	}' | sort
}

# normalize_json: "kcipctl -j -s show" on stdin -> the lines of normalize_show
normalize_json()
{
	python3 -S -c '
import json, sys
d = json.load(sys.stdin)
def ep(a, p):
    return ("[%s]:%d" if ":" in a else "%s:%d") % (a, p)
for s in d.get("services") or []:
    sid = ep(s["address"], s["port"]) + "/" + s["protocol"]
    for k, v in (s.get("stats") or {}).items():
        print("svc", sid, k, v)
    for b in s.get("backends") or []:
        for k, v in (b.get("stats") or {}).items():
            print("be", sid, ep(b["address"], b["port"]), k, v)
' | sort
}

# counter SNAPSHOT svc SERVICE FIELD / counter SNAPSHOT be SERVICE BACKEND
# FIELD: one value out of normalize_* lines; -1 when absent
counter()
{
	local snap=$1
	shift
	echo "$snap" | awk -v key="$*" '
		{ v = $NF; $NF = ""; sub(/ $/, "") }
		$0 == key { found = v }
		END { print (found == "" ? -1 : found) }'
}

# snap NS: the counters of NS (kcipctl -s show, normalized)
snap() { kcip -n "$1" -s show | normalize_show; }

# ------------------------------------------------------------ netlink

# kcip_nl NS MODE ARGS...: talk to the family directly from NS, for what
# kcipctl does not show (errno values, a stage held open, timings without a
# process start per change).  Modes:
#   add-service SERVICE             SERVICE_NEW; prints "ok" or "errno NAME: MSG"
#   add-backend SERVICE BACKEND     BACKEND_NEW; the same
#   stage NSVC NBE NET [hold|commit|abort|exit]
#       RESTORE_BEGIN, then NSVC Services as gen_state would make them
#       (backends 10.251.x.y), many per send; prints "staged NSVC" and then:
#       hold: sleeps until killed; commit, abort: does it and prints "ok"
#       or "errno ..."; exit: exits without a word to the kernel.  (To
#       kill it, start it with ip netns exec directly: kcip_nl in the
#       background is a subshell whose pid is not python's.)
#   failslab COUNT
#       COUNT adds and restores with FAILSLAB on for this process while each
#       request is in the kernel; checks all-or-nothing after each; prints
#       "failslab COUNT attempts: A ok F failed L lost B bad"
#   time-backends SERVICE NET COUNT
#       COUNT backend adds (10.NET.0.i:8080) then COUNT dels, one request
#       each on one socket; prints "add MEDIAN_MS MIN_MS del MEDIAN_MS MIN_MS"
KCIP_NL_PY='
import errno, os, socket, struct, sys, time

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLM_F_ACK_TLVS = 0x200
NLMSG_ERROR = 2
NLA_F_NESTED = 1 << 15
GENL_ID_CTRL = 0x10

SERVICE_NEW, BACKEND_NEW, BACKEND_DEL = 1, 5, 7
RESTORE_BEGIN, RESTORE_SERVICE, RESTORE_COMMIT, RESTORE_ABORT = 9, 10, 11, 12
A_SERVICE, A_BACKEND = 2, 3
SVC_FAMILY, SVC_PROTO, SVC_ADDR4, SVC_ADDR6, SVC_PORT, SVC_BACKENDS = 1, 2, 3, 4, 5, 15
BE_ADDR4, BE_ADDR6, BE_PORT = 1, 2, 3
PROTOS = {"tcp": 6, "udp": 17, "sctp": 132}


def attr(t, data):
    n = 4 + len(data)
    return struct.pack("HH", n, t) + data + b"\0" * (-n % 4)


def nest(t, *parts):
    return attr(t | NLA_F_NESTED, b"".join(parts))


def parse_ep(s):
    if s.startswith("["):
        a, p = s[1:].split("]:")
        return socket.AF_INET6, socket.inet_pton(socket.AF_INET6, a), int(p)
    a, p = s.rsplit(":", 1)
    return socket.AF_INET, socket.inet_aton(a), int(p)


def svc_id(s):
    ep, proto = s.rsplit("/", 1)
    fam, addr, port = parse_ep(ep)
    return (attr(SVC_FAMILY, struct.pack("H", fam)) +
            attr(SVC_PROTO, struct.pack("B", PROTOS[proto])) +
            attr(SVC_ADDR4 if fam == socket.AF_INET else SVC_ADDR6, addr) +
            attr(SVC_PORT, struct.pack(">H", port)))


def backend(s):
    fam, addr, port = parse_ep(s)
    return nest(A_BACKEND,
                attr(BE_ADDR4 if fam == socket.AF_INET else BE_ADDR6, addr),
                attr(BE_PORT, struct.pack(">H", port)))


def attrs(data):
    out = {}
    while len(data) >= 4:
        n, t = struct.unpack_from("HH", data)
        if n < 4:
            break
        out[t & 0x3fff] = data[4:n]
        data = data[(n + 3) & ~3:]
    return out


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                               NETLINK_GENERIC)
        self.s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        try:
            self.s.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)  # RCVBUFFORCE
        except OSError:
            pass
        self.s.bind((0, 0))
        self.seq = 0
        self.fam = GENL_ID_CTRL
        err, msg, replies = self.batch([(3, attr(2, b"kclusterip\0"))])
        if err:
            raise SystemExit("no kclusterip family: %s" % msg)
        self.fam = struct.unpack("H", attrs(replies[0][4:])[1][:2])[0]

    def batch(self, msgs):
        """send [(cmd, payload)...] in one write; first error or 0"""
        buf = b""
        for i, (cmd, payload) in enumerate(msgs):
            self.seq += 1
            flags = NLM_F_REQUEST | (NLM_F_ACK if i == len(msgs) - 1 else 0)
            body = struct.pack("BBH", cmd, 1, 0) + payload
            buf += struct.pack("IHHII", 16 + len(body), self.fam, flags,
                               self.seq, 0) + body
        self.s.send(buf)
        last, err, text, replies = self.seq, 0, "", []
        while True:
            data = self.s.recv(1 << 20)
            off = 0
            while off + 16 <= len(data):
                n, typ, flags, seq, _ = struct.unpack_from("IHHII", data, off)
                if typ == NLMSG_ERROR:
                    e = -struct.unpack_from("i", data, off + 16)[0]
                    if e and not err:
                        err = e
                        if flags & NLM_F_ACK_TLVS:
                            m = attrs(data[off + 36:off + n]).get(1, b"")
                            text = m.rstrip(b"\0").decode(errors="replace")
                    if seq == last:
                        return err, text, replies
                elif seq == last:
                    replies.append(data[off + 16:off + n])
                off += (n + 3) & ~3

    def one(self, cmd, payload):
        return self.batch([(cmd, payload)])[:2]


def verdict(err, text):
    if not err:
        return "ok"
    return "errno %s: %s" % (errno.errorcode.get(err, str(err)), text)


SERVICE_GET, NLM_F_DUMP = 4, 0x300


def n_backends(nl, sid):
    """backends of Service sid in the kernel, -1 when it does not exist"""
    err, text, replies = nl.batch([(SERVICE_GET, nest(A_SERVICE, svc_id(sid)))])
    if err:
        return -1
    data = attrs(attrs(replies[0][4:])[A_SERVICE]).get(SVC_BACKENDS, b"")
    n = 0
    while len(data) >= 4:           # one nest per backend, all of one type
        ln = struct.unpack_from("H", data)[0]
        if ln < 4:
            break
        n += 1
        data = data[(ln + 3) & ~3:]
    return n


def failslab(nl, count):
    """count attempts (Service add, backend add, restore of 4 Services x 8
    backends) with failslab on for this process alone while the request is
    in the kernel (not while python reads files); after each, with it off,
    check that the state is the old one or the asked one, never a mix"""
    fail = os.open("/proc/self/make-it-fail", os.O_WRONLY)
    nl.s.settimeout(30)
    # every page of python mapped now: a page fault while failslab is on
    # would read it over 9p in the test VM, with failing allocations
    import ctypes
    ctypes.CDLL(None, use_errno=True).mlockall(1)       # MCL_CURRENT
    n_backends(nl, "10.97.0.1:80/tcp")
    model = {}                      # Service -> backends
    res = {"ok": 0, "failed": 0, "lost": 0, "bad": 0}
    why = {}
    for k in range(count):
        kind = k % 3
        if kind == 0:
            sid = "10.97.%d.%d:80/tcp" % (k // 250 + 1, k % 250 + 1)
            want = dict(model)
            want[sid] = 0
            msgs = [(SERVICE_NEW, nest(A_SERVICE, svc_id(sid)))]
        elif kind == 1:
            sid = sorted(model)[-1] if model else "10.97.0.1:80/tcp"
            want = dict(model)
            want[sid] = model.get(sid, 0) + 1
            msgs = [(BACKEND_NEW, nest(A_SERVICE, svc_id(sid)) +
                     backend("10.244.9.%d:8080" % (k % 250 + 1)))]
        else:
            want = {}
            msgs = [(RESTORE_BEGIN, b"")]
            for j in range(4):
                sid = "10.98.%d.%d:80/tcp" % (k // 250, j + 1)
                want[sid] = 8
                bes = b"".join(backend("10.244.%d.%d:8080" % (b + 1, k % 250 + 1))
                               for b in range(8))
                msgs.append((RESTORE_SERVICE,
                             nest(A_SERVICE, svc_id(sid), nest(SVC_BACKENDS, bes))))
            msgs.append((RESTORE_COMMIT, b""))
        os.write(fail, b"1")
        try:
            err = 0
            for m in msgs:
                err = nl.one(*m)[0]
                if err:
                    break
        except OSError:
            err = -1                # the answer itself was lost
        finally:
            while True:
                try:
                    os.write(fail, b"0")
                    break
                except OSError:
                    pass
        if err == -1:
            # a new socket: the old one may hold a stage or a stale answer
            nl.s.close()
            nl = Genl()
            nl.s.settimeout(30)
            res["lost"] += 1
        elif err:
            res["failed"] += 1
            why[err] = why.get(err, 0) + 1
        else:
            res["ok"] += 1
        old = {sid: n_backends(nl, sid) for sid in model}
        new = {sid: n_backends(nl, sid) for sid in want}
        if kind == 2:
            gone = all(v == -1 for sid, v in new.items() if sid not in model)
            was = all(old[sid] == model[sid] for sid in model)
            now = all(new[sid] == want[sid] for sid in want) and \
                all(old[sid] == -1 for sid in model if sid not in want)
        else:
            was = all(old[sid] == model[sid] for sid in model) and \
                all(new[sid] == model.get(sid, -1) for sid in want)
            gone = True
            now = all(new[sid] == want[sid] for sid in want)
        if now and (err == 0 or err == -1):
            model = want
        elif was and gone and err != 0:
            pass
        else:
            res["bad"] += 1
            print("attempt %d (kind %d, errno %d): neither the old state nor the new one" % (k, kind, err))
            model = {sid: v for sid, v in {**old, **new}.items() if v >= 0}
    print("failslab %d attempts: %d ok %d failed %d lost %d bad (errors: %s)" %
          (count, res["ok"], res["failed"], res["lost"], res["bad"],
           " ".join("%s x%d" % (errno.errorcode.get(e, str(e)), n)
                    for e, n in sorted(why.items())) or "none"))
    return 1 if res["bad"] else 0


def main(argv):
    nl = Genl()
    mode = argv[0]
    if mode == "add-service":
        print(verdict(*nl.one(SERVICE_NEW, nest(A_SERVICE, svc_id(argv[1])))))
    elif mode == "add-backend":
        print(verdict(*nl.one(BACKEND_NEW, nest(A_SERVICE, svc_id(argv[1])) +
                              backend(argv[2]))))
    elif mode == "stage":
        nsvc, nbe, net = int(argv[1]), int(argv[2]), int(argv[3])
        then = argv[4] if len(argv) > 4 else "hold"
        err, text = nl.one(RESTORE_BEGIN, b"")
        if err:
            print(verdict(err, text))
            return 1
        bes = b"".join(backend("10.251.%d.%d:8080" % (j // 250, j % 250 + 1))
                       for j in range(nbe))
        msgs = []
        for i in range(nsvc):
            s = "10.%d.%d.%d:80/tcp" % (net, i // 250 + 1, i % 250 + 1)
            msgs.append((RESTORE_SERVICE,
                         nest(A_SERVICE, svc_id(s),
                              nest(SVC_BACKENDS, bes) if nbe else b"")))
            if len(msgs) == 64 or i == nsvc - 1:
                err, text, _ = nl.batch(msgs)
                msgs = []
                if err:
                    print(verdict(err, text))
                    return 1
        print("staged %d" % nsvc)
        sys.stdout.flush()
        if then == "hold":
            while True:
                time.sleep(3600)
        elif then == "commit":
            print(verdict(*nl.one(RESTORE_COMMIT, b"")))
        elif then == "abort":
            print(verdict(*nl.one(RESTORE_ABORT, b"")))
        elif then == "exit":
            os._exit(0)
    elif mode == "failslab":
        return failslab(nl, int(argv[1]))
    elif mode == "time-backends":
        sid, net, count = argv[1], int(argv[2]), int(argv[3])
        res = {}
        for op in (BACKEND_NEW, BACKEND_DEL):
            ms = []
            for i in range(count):
                be = backend("10.%d.0.%d:8080" % (net, i + 1))
                t0 = time.monotonic()
                err, text = nl.one(op, nest(A_SERVICE, svc_id(sid)) + be)
                ms.append((time.monotonic() - t0) * 1000)
                if err:
                    print(verdict(err, text))
                    return 1
            ms.sort()
            res[op] = "%.2f %.2f" % (ms[len(ms) // 2], ms[0])
        print("add %s del %s" % (res[BACKEND_NEW], res[BACKEND_DEL]))
    else:
        raise SystemExit("unknown mode " + mode)
    return 0


sys.exit(main(sys.argv[1:]))
'

kcip_nl()
{
	local ns=$1
	shift
	ip netns exec "$ns" python3 -S -c "$KCIP_NL_PY" "$@"
}

# ------------------------------------------------------------ flowgen

FLOWGEN=${FLOWGEN:-$LIBDIR/flowgen}

# ctl_require_flowgen: skip when flowgen (make -C selftests) is not built
ctl_require_flowgen()
{
	[ -x "$FLOWGEN" ] || skip "$FLOWGEN not built (make -C selftests)"
}

# ctl_server NS NAME PORT [PROTO]: a flowgen responder answering as NAME on
# every address of NS (C, one process: quick to start in an emulated VM);
# listening when this returns.
ctl_server()
{
	local pid

	if ! pid=$(ip netns exec "$1" "$FLOWGEN" --serve "$2" -p "${4:-tcp}" -d "$3"); then
		fail "flowgen server $2 in $1 did not start"
		exit $ksft_fail
	fi
	BG_PIDS+=("$pid")
}

# ctl_flows NS ARGS...: the flowgen client in NS (last line: the summary
# "be1=N ... ok=N refused=N timeouts=N errors=N ms=N"; exit 0 when every
# flow ended as --expect says)
ctl_flows() { local ns=$1; shift; ip netns exec "$ns" "$FLOWGEN" "$@"; }

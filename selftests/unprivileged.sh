#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Privileges: reading is free, changing needs CAP_NET_ADMIN in the initial
# user namespace.
#  - an unprivileged user (uid 65534) in the node netns gets EPERM
#    ("Operation not permitted") for service add/change/del, backend
#    add/change/del and flush, and nothing changes;
#  - the same user can read: "kcipctl show", "-j show", "-s show" exit 0
#    and list the Services;
#  - root of a new user namespace, in a netns that namespace owns, is
#    refused too unless the module was loaded with userns=1.

source "$(dirname "$0")/lib.sh"

kcip_require
checktool "setpriv --version" "run test without setpriv"
setup_ns node

S4=10.96.0.10:80/tcp
S6='[fd00:96::10]:443/tcp'
kcip -n "$node" service add "$S4" &&
kcip -n "$node" backend add "$S4" 10.244.1.2:8080 &&
kcip -n "$node" service add "$S6" &&
kcip -n "$node" backend add "$S6" "[fd00:244:1::2]:8443" || { fail "setup"; ksft_exit; }
STATE0=$(state_of "$node")
ERR=$(mktemp_file)
OUT=$(mktemp_file)

# as_nobody CMD...: run CMD in the node netns as uid/gid 65534, no groups
as_nobody()
{
	ip netns exec "$node" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all "$@"
}

# denied DESC ARGS...: kcipctl ARGS as nobody fails with EPERM, no change
denied()
{
	local desc=$1 rc
	shift

	as_nobody "$KCIPCTL" "$@" > /dev/null 2> "$ERR"
	rc=$?
	if [ $rc -eq 0 ]; then
		fail "$desc: allowed to an unprivileged user"
	elif ! grep -q '^kcipctl: .*Operation not permitted' "$ERR"; then
		fail "$desc: exit $rc but no 'kcipctl: ... Operation not permitted' message: $(head -n 1 "$ERR")"
	else
		pass "$desc: $(head -n 1 "$ERR")"
	fi
	if [ "$(state_of "$node")" != "$STATE0" ]; then
		fail "$desc: state changed"
		STATE0=$(state_of "$node")
	fi
}

# Sanity: this really is an unprivileged user
uid=$(as_nobody id -u)
[ "$uid" = 65534 ] || { fail "setpriv did not switch to uid 65534 ($uid)"; ksft_exit; }

denied "service add" service add 10.96.0.11:80/tcp
denied "service change" service change "$S4" no-endpoints drop
denied "service del" service del "$S4"
denied "backend add" backend add "$S4" 10.244.1.3:8080
denied "backend change" backend change "$S4" 10.244.1.2:8080 weight 5
denied "backend del" backend del "$S4" 10.244.1.2:8080
denied "backend del flush" backend del "$S4" 10.244.1.2:8080 flush
denied "flush" flush

# Reading
if as_nobody "$KCIPCTL" show > "$OUT" 2> "$ERR" &&
   grep -q '10\.96\.0\.10:80/tcp' "$OUT" && grep -q 'fd00:96::10' "$OUT" &&
   grep -q '10\.244\.1\.2:8080' "$OUT"; then
	pass "unprivileged show lists the Services and backends"
else
	fail "unprivileged show: $(head -n 1 "$ERR")"
	sed 's/^/#   /' "$OUT"
fi
if as_nobody "$KCIPCTL" -j show > "$OUT" 2> "$ERR" &&
   python3 -S -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["services"]) == 2, d
' "$OUT"; then
	pass "unprivileged -j show: 2 Services"
else
	fail "unprivileged -j show: $(head -n 1 "$ERR")"
fi
if as_nobody "$KCIPCTL" -s show > "$OUT" 2> "$ERR" && grep -q '10\.96\.0\.10:80/tcp' "$OUT"; then
	pass "unprivileged -s show works"
else
	fail "unprivileged -s show: $(head -n 1 "$ERR")"
fi
if as_nobody "$KCIPCTL" service show "$S4" > "$OUT" 2> "$ERR" && grep -q '10\.244\.1\.2:8080' "$OUT"; then
	pass "unprivileged service show works"
else
	fail "unprivileged service show: $(head -n 1 "$ERR")"
fi

# Root of a user namespace owning a new netns: not enough without userns=1
userns_param=$(cat /sys/module/kclusterip/parameters/userns 2> /dev/null)
case $userns_param in
Y | 1)
	log "SKIP userns part: module loaded with userns=1"
	;;
*)
	if unshare --user --map-root-user --net true 2> /dev/null; then
		unshare --user --map-root-user --net sh -c \
			"ip link set lo up; $KCIPCTL service add 10.96.0.11:80/tcp" > /dev/null 2> "$ERR"
		rc=$?
		if [ $rc -ne 0 ] && grep -q -E '^kcipctl: .*(Operation not permitted|CAP_NET_ADMIN)' "$ERR"; then
			pass "root of a user namespace refused: $(head -n 1 "$ERR")"
		else
			fail "root of a user namespace: exit $rc: $(head -n 1 "$ERR")"
		fi
		out=$(unshare --user --map-root-user --net "$KCIPCTL" -j show 2>&1)
		if echo "$out" | python3 -S -c 'import json, sys; assert json.load(sys.stdin)["services"] == []' 2> /dev/null; then
			pass "root of a user namespace can read its (empty) netns"
		else
			fail "root of a user namespace cannot read: $out"
		fi
		if as_nobody unshare --user --map-root-user --net true 2> /dev/null; then
			as_nobody unshare --user --map-root-user --net \
				"$KCIPCTL" service add 10.96.0.11:80/tcp > /dev/null 2> "$ERR"
			rc=$?
			if [ $rc -ne 0 ] && grep -q -E '^kcipctl: .*(Operation not permitted|CAP_NET_ADMIN)' "$ERR"; then
				pass "unprivileged user's own user namespace refused: $(head -n 1 "$ERR")"
			else
				fail "unprivileged user's own user namespace: exit $rc: $(head -n 1 "$ERR")"
			fi
		fi
	else
		log "SKIP userns part: cannot create user namespaces"
	fi
	;;
esac
[ "$(state_of "$node")" = "$STATE0" ] && pass "node state unchanged" || fail "node state changed"

dmesg_check
ksft_exit

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kcip-test: exclusive (reloads kclusterip with userns=1)
#
# With the module parameter userns=1, CAP_NET_ADMIN in the user namespace
# that owns a network namespace is enough to change that netns, and only
# that one (unprivileged.sh covers the default, userns=0):
#  - root of a new user namespace, in a new netns it owns, adds a Service
#    and a backend there and reads them back;
#  - the same, started by an unprivileged user (uid 65534);
#  - root of a new user namespace in the "node" netns, which the initial
#    user namespace owns, gets EPERM for add, change and delete, and the
#    node's state does not change; so does uid 65534 without a namespace;
#  - the module is then loaded again with the default, userns=0, and root
#    of a user namespace is refused again even in its own netns.

source "$(dirname "$0")/lib.sh"

kcip_require
grep -q '^kclusterip ' /proc/modules || skip "kclusterip is not a loadable module"
checktool "setpriv --version" "run test without setpriv"
unshare --user --map-root-user --net true 2> /dev/null ||
	skip "cannot create user namespaces"

setup_ns node
ERR=$(mktemp_file)

reload()
{
	kcip -n "$node" flush 2> /dev/null
	rmmod kclusterip || { fail "rmmod kclusterip"; return 1; }
	modprobe kclusterip "$@" || { fail "modprobe kclusterip $*"; return 1; }
}

# refused DESC CMD...: CMD (a kcipctl run) fails with EPERM
refused()
{
	local desc=$1 rc
	shift

	"$@" > /dev/null 2> "$ERR"
	rc=$?
	if [ $rc -ne 0 ] && grep -q -E '^kcipctl: .*(Operation not permitted|CAP_NET_ADMIN)' "$ERR"; then
		pass "$desc refused: $(head -n 1 "$ERR")"
	else
		fail "$desc: exit $rc, $(head -n 1 "$ERR")"
	fi
}

reload userns=1 || ksft_exit
p=$(cat /sys/module/kclusterip/parameters/userns)
[ "$p" = Y ] || fail "userns parameter reads $p after modprobe kclusterip userns=1"

S=10.96.0.10:80/tcp
kcip -n "$node" service add "$S" &&
kcip -n "$node" backend add "$S" 10.244.1.2:8080 || fail "setup of node"
STATE0=$(state_of "$node")

# in its own netns: allowed
OWN='ip link set lo up &&
	"$0" service add 10.96.0.11:80/tcp sched rr &&
	"$0" backend add 10.96.0.11:80/tcp 10.244.1.3:8080 weight 2 &&
	"$0" service change 10.96.0.11:80/tcp sched maglev &&
	"$0" -j show'
out=$(unshare --user --map-root-user --net sh -c "$OWN" "$KCIPCTL" 2>&1)
if [[ $out == *'"address":"10.96.0.11"'*'"sched":"maglev"'*'"address":"10.244.1.3"'* ]]; then
	pass "root of a user namespace changes the netns it owns"
else
	fail "root of a user namespace in its own netns: $out"
fi
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	unshare --user --map-root-user --net sh -c "$OWN" "$KCIPCTL" 2>&1)
if [[ $out == *'"address":"10.96.0.11"'* ]]; then
	pass "uid 65534 in a user namespace of its own changes the netns it owns"
else
	fail "uid 65534 in its own user namespace: $out"
fi

# in the node netns, owned by the initial user namespace: refused
in_node_userns() { ip netns exec "$node" unshare --user --map-root-user "$KCIPCTL" "$@"; }
refused "root of a user namespace, service add in a netns it does not own" \
	in_node_userns service add 10.96.0.12:80/tcp
refused "root of a user namespace, service change in a netns it does not own" \
	in_node_userns service change "$S" sched rr
refused "root of a user namespace, backend del in a netns it does not own" \
	in_node_userns backend del "$S" 10.244.1.2:8080
refused "root of a user namespace, flush in a netns it does not own" \
	in_node_userns flush
refused "uid 65534, service del" \
	ip netns exec "$node" setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all "$KCIPCTL" service del "$S"
out=$(in_node_userns -j show 2>&1)
[[ $out == *'"address":"10.96.0.10"'* ]] &&
	pass "root of a user namespace reads the node's Services" ||
	fail "root of a user namespace cannot read the node: $out"
[ "$(state_of "$node")" = "$STATE0" ] && pass "node state unchanged" || fail "node state changed"

# back to the default
reload || ksft_exit
p=$(cat /sys/module/kclusterip/parameters/userns)
[ "$p" = N ] || fail "userns parameter reads $p after a plain modprobe"
refused "userns=0: root of a user namespace in its own netns" \
	unshare --user --map-root-user --net "$KCIPCTL" service add 10.96.0.11:80/tcp

dmesg_check
ksft_exit

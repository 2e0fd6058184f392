#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kcip-k8s-sync end to end: Kubernetes objects in, traffic through the
# VIPs to the backend namespaces.  The node is "node-1"; be1 runs on it,
# be2 and be3 on other nodes.
#
#  Services (as `kubectl get services,endpointslices -A -o json` prints
#  them, addresses of lib.sh's topology):
#    default/web    NodePort, dual-stack 10.96.0.10 / fd00:96::10, port
#                   http 80 -> EndpointSlice port http 8080, NodePort
#                   30080, backends be1 be2 be3 in both families
#    default/local  NodePort 30081, externalTrafficPolicy Local, backends
#                   be1 (local) and be2
#    kube-system/dns  UDP 10.96.0.53:53 -> 5353 on be1 be2
#
#  1. one full sync (one restore): `kcipctl save` is what --dry-run says;
#     the cluster IPs (both families) and NodePorts go to every backend
#     (sched rr, so each is seen); NodePort traffic is masqueraded, but
#     not with externalTrafficPolicy Local, which only the local be1
#     serves; UDP reaches be1 and be2;
#  2. --watch on a FIFO: the same objects as watch events, up to a
#     BOOKMARK ending the initial events: the restore changes nothing;
#     then be3's endpoints leave the slices: new flows no longer reach
#     be3; be2 goes terminating: flows go to be1 only; the dns Service is
#     deleted: its entry goes.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_k8s.sh"

N=3
NODE=node-1

kcip_require
SYNC=${KCIP_K8S_SYNC:-$LIBDIR/../userspace/k8s/kcip-k8s-sync}
[ -x "$SYNC" ] || SYNC=$(command -v kcip-k8s-sync) ||
	skip "kcip-k8s-sync not built (it needs json-c: apt-get install libjson-c-dev)"
log "using $SYNC"

setup_topo 3
servers tcp 8080 -- 1 2 3 || ksft_exit
servers udp 5353 --idle 0.001 -- 1 2 || ksft_exit

# ------------------------------------------------------------ objects

# svc_json NS NAME SPEC: a Service as kubectl prints it
svc_json()
{
	cat <<-EOF
	{
	    "apiVersion": "v1",
	    "kind": "Service",
	    "metadata": {
	        "creationTimestamp": "2024-05-02T09:14:03Z",
	        "name": "$2",
	        "namespace": "$1",
	        "resourceVersion": "4711",
	        "uid": "0b5e7c1e-4bb0-4c5a-9d3e-$(printf '%012d' $RANDOM)"
	    },
	    "spec": $3,
	    "status": {
	        "loadBalancer": {}
	    }
	}
	EOF
}

# ep_json ADDR NODE [CONDITIONS]: one endpoint
ep_json()
{
	local cond=${3:-$READY}

	echo "{\"addresses\": [\"$1\"], \"conditions\": $cond, \"nodeName\": \"$2\", \"zone\": \"zone-a\"}"
}

# slice_json NS NAME SERVICE FAMILY PORTS ENDPOINT...: an EndpointSlice
slice_json()
{
	local ns=$1 name=$2 svc=$3 fam=$4 ports=$5 eps

	shift 5
	eps=$(IFS=,; echo "$*")
	cat <<-EOF
	{
	    "addressType": "$fam",
	    "apiVersion": "discovery.k8s.io/v1",
	    "endpoints": [$eps],
	    "kind": "EndpointSlice",
	    "metadata": {
	        "generateName": "$svc-",
	        "labels": {
	            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
	            "kubernetes.io/service-name": "$svc"
	        },
	        "name": "$name",
	        "namespace": "$ns",
	        "resourceVersion": "4712"
	    },
	    "ports": $ports
	}
	EOF
}

WEB_SPEC='{"clusterIP": "'$VIP4'", "clusterIPs": ["'$VIP4'", "'$VIP6'"],
	"externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster",
	"ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "RequireDualStack",
	"ports": [{"name": "http", "nodePort": 30080, "port": 80, "protocol": "TCP", "targetPort": "http"}],
	"selector": {"app": "web"}, "sessionAffinity": "None", "type": "NodePort"}'
LOCAL_SPEC='{"clusterIP": "10.96.0.11", "clusterIPs": ["10.96.0.11"],
	"externalTrafficPolicy": "Local", "internalTrafficPolicy": "Cluster",
	"ports": [{"nodePort": 30081, "port": 80, "protocol": "TCP", "targetPort": 8080}],
	"selector": {"app": "local"}, "sessionAffinity": "None", "type": "NodePort"}'
DNS_SPEC='{"clusterIP": "10.96.0.53", "clusterIPs": ["10.96.0.53"],
	"ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353}],
	"selector": {"app": "dns"}, "type": "ClusterIP"}'
HTTP='[{"name": "http", "port": 8080, "protocol": "TCP"}]'
READY='{"ready": true, "serving": true, "terminating": false}'
TERMINATING='{"ready": false, "serving": true, "terminating": true}'

web_v4() { slice_json default web-4kx2p web IPv4 "$HTTP" "$@"; }
web_v6() { slice_json default web-9qz7m web IPv6 "$HTTP" "$@"; }
BE4=("$(ep_json "$(be_of 1 ipv4)" node-1)" "$(ep_json "$(be_of 2 ipv4)" node-2)"
     "$(ep_json "$(be_of 3 ipv4)" node-3)")
BE6=("$(ep_json "$(be_of 1 ipv6)" node-1)" "$(ep_json "$(be_of 2 ipv6)" node-2)"
     "$(ep_json "$(be_of 3 ipv6)" node-3)")

objects()
{
	svc_json default web "$WEB_SPEC"
	svc_json default local "$LOCAL_SPEC"
	svc_json kube-system dns "$DNS_SPEC"
	web_v4 "${BE4[@]}"
	web_v6 "${BE6[@]}"
	slice_json default local-7bd5c local IPv4 '[{"name": "", "port": 8080, "protocol": "TCP"}]' \
		"${BE4[0]}" "${BE4[1]}"
	slice_json kube-system dns-2mfwx dns IPv4 '[{"name": "dns", "port": 5353, "protocol": "UDP"}]' \
		"${BE4[0]}" "${BE4[1]}"
}

# event TYPE: the object on stdin as a watch event
event() { echo "{\"type\": \"$1\", \"object\": $(cat)}"; }

LIST=$(mktemp_file)
{
	echo '{"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": ['
	objects | sed 's/^}$/},/' | sed '$ s/^},$/}/'
	echo ']}'
} > "$LIST"

# ------------------------------------------------------------ traffic

# web_flows "NAME..." DESC: N flows to each VIP and NodePort of web, and
# the masquerade checks of the NodePorts
web_flows()
{
	local want=$1 desc=$2

	probe_many "$client" tcp $N -- "$VIP4" 80 "$VIP6" 80 "$NODE4" 30080 "$NODE6" 30080
	expect_many_all "$desc: web $VIP4:80" "$VIP4" 80 "$want"
	expect_many_all "$desc: web [$VIP6]:80" "$VIP6" 80 "$want"
	expect_many_all "$desc: web NodePort $NODE4:30080" "$NODE4" 30080 "$want"
	expect_many_all "$desc: web NodePort [$NODE6]:30080" "$NODE6" 30080 "$want"
}

# ------------------------------------------------------------ full sync

log "full sync of $(objects | grep -c '"kind"') objects"
check "kcip-k8s-sync --node $NODE (full sync)" \
	ip netns exec "$node" "$SYNC" --node $NODE --sched rr "$LIST"
want=$("$SYNC" --node $NODE --sched rr --dry-run "$LIST" 2>&1)
got=$(kcip -n "$node" save)
if [ "$got" = "$want" ]; then
	pass "kcipctl save is what --dry-run printed ($(grep -c '^service' <<< "$got") entries)"
else
	fail "kcipctl save differs from --dry-run"
	diff <(echo "$want") <(echo "$got") | sed 's/^/#   /'
fi
kcip -n "$node" show | sed 's/^/#   /'

web_flows "be1 be2 be3" "full sync"
many_get peers "$NODE4" 30080
expect_many_peers "full sync: NodePort (policy Cluster) is masqueraded" "$NODE4" 30080 \
	"$(node_be_addr 1 ipv4)" "$(node_be_addr 2 ipv4)" "$(node_be_addr 3 ipv4)"

probe_many "$client" tcp $N -- 10.96.0.11 80 "$NODE4" 30081
expect_many_all "full sync: local's cluster IP" 10.96.0.11 80 "be1 be2"
expect_many "full sync: local's NodePort (policy Local): the local be1" "$NODE4" 30081 be1
expect_many_peers "full sync: policy Local keeps the client's address" "$NODE4" 30081 "$CLIENT4"

probe_many "$client" udp 4 -- 10.96.0.53 53
expect_many_all "full sync: UDP 10.96.0.53:53" 10.96.0.53 53 "be1 be2"

# ------------------------------------------------------------ watch

FIFO=$(mktemp_file)
OUT=$(mktemp_file)
rm -f "$FIFO"
mkfifo "$FIFO"
ip netns exec "$node" "$SYNC" --node $NODE --sched rr --watch -v "$FIFO" > "$OUT" 2>&1 &
SYNC_PID=$!
BG_PIDS+=("$SYNC_PID")
exec 7<> "$FIFO"

# written at once, as kubectl prints its initial objects: slowly made
# events trickling in would let --settle end the initial objects early
EVENTS=$(mktemp_file)
{
	svc_json default web "$WEB_SPEC" | event ADDED
	svc_json default local "$LOCAL_SPEC" | event ADDED
	svc_json kube-system dns "$DNS_SPEC" | event ADDED
	web_v4 "${BE4[@]}" | event ADDED
	web_v6 "${BE6[@]}" | event ADDED
	slice_json default local-7bd5c local IPv4 '[{"name": "", "port": 8080, "protocol": "TCP"}]' \
		"${BE4[0]}" "${BE4[1]}" | event ADDED
	slice_json kube-system dns-2mfwx dns IPv4 '[{"name": "dns", "port": 5353, "protocol": "UDP"}]' \
		"${BE4[0]}" "${BE4[1]}" | event ADDED
	echo '{"type": "BOOKMARK", "object": {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
	       "metadata": {"resourceVersion": "4713", "annotations": {"k8s.io/initial-events-end": "true"}}}}'
} > "$EVENTS"
cat "$EVENTS" >&7

out_has() { grep -q -e "$1" "$OUT"; }
if k8s_wait 30000 out_has '^restore: '; then
	line=$(grep '^restore: ' "$OUT")
	if [[ $line == "restore: 0 added, 0 changed, 0 deleted, "* ]]; then
		pass "watch: initial sync changes nothing ($line)"
	else
		fail "watch: initial sync: $line"
	fi
else
	fail "watch: no initial sync"
	sed 's/^/#   /' "$OUT"
fi

# save_lacks PATTERN: no `kcipctl save` line matches PATTERN
save_lacks() { ! kcip -n "$node" save | grep -q -e "$1"; }
save_has() { kcip -n "$node" save | grep -q -e "$1"; }

log "watch: be3's endpoints leave the web slices"
{
	web_v4 "${BE4[0]}" "${BE4[1]}" | event MODIFIED
	web_v6 "${BE6[0]}" "${BE6[1]}" | event MODIFIED
} > "$EVENTS"
cat "$EVENTS" >&7
if k8s_wait 30000 save_lacks "$(be_of 3 ipv4):8080" &&
   k8s_wait 30000 save_lacks "\[$(be_of 3 ipv6)\]:8080"; then
	pass "watch: be3 deleted from every web entry"
else
	fail "watch: be3 still there"
	kcip -n "$node" save | sed 's/^/#   /'
fi
web_flows "be1 be2" "be3 gone"

log "watch: be2 goes terminating (IPv4 slice)"
web_v4 "${BE4[0]}" "$(ep_json "$(be_of 2 ipv4)" node-2 "$TERMINATING")" | event MODIFIED >&7
if k8s_wait 30000 save_has "$(be_of 2 ipv4):8080 state terminating"; then
	pass "watch: be2 terminating"
else
	fail "watch: be2 not terminating"
fi
probe_many "$client" tcp $N -- "$VIP4" 80 "$NODE4" 30080
expect_many "be2 terminating: web $VIP4:80" "$VIP4" 80 be1
expect_many "be2 terminating: web NodePort $NODE4:30080" "$NODE4" 30080 be1

log "watch: the dns Service is deleted"
svc_json kube-system dns "$DNS_SPEC" | event DELETED >&7
if k8s_wait 30000 save_lacks '10.96.0.53:53/udp'; then
	pass "watch: 10.96.0.53:53/udp deleted"
else
	fail "watch: 10.96.0.53:53/udp still there"
fi

# the input ends: kcip-k8s-sync exits, after one restore and single requests
exec 7>&-
if wait $SYNC_PID; then
	pass "watch: exits 0 when its input ends"
else
	fail "watch: exit status $?"
fi
if [ "$(grep -c '^restore: ' "$OUT")" -eq 1 ] &&
   grep -q "^backend del $VIP4:80/tcp $(be_of 3 ipv4):8080\$" "$OUT" &&
   grep -q "^backend change $VIP4:80/tcp $(be_of 2 ipv4):8080 weight 1 state terminating nonlocal\$" "$OUT" &&
   grep -q '^service del 10.96.0.53:53/udp$' "$OUT"; then
	pass "watch: one restore, then single requests"
else
	fail "watch: requests"
	sed 's/^/#   /' "$OUT"
fi

dmesg_check
ksft_exit

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kclusterip demo (make demo; run as root where the module is installed,
# e.g. in the test VM: selftests/vm/run.sh --cmd 'make -C selftests demo').
#
# Builds a tiny "cluster" out of network namespaces:
#
#   client 10.0.1.2 ---- node 10.0.1.1 ---- be1 10.244.1.2  (HTTP :8080)
#                        (kclusterip)  ---- be2 10.244.2.2  (HTTP :8080)
#                                      ---- be3 10.244.3.2  (HTTP :8080)
#
# adds the Service 10.96.0.10:80/tcp with the three backends, and asks the
# VIP for a page nine times from the client: each answer says which backend
# served it.  Then shows the Service with its counters.

source "$(dirname "$0")/lib.sh"

REQUESTS=${REQUESTS:-9}

kcip_require_root
checktool "curl --version" "run the demo without curl"
checktool "python3 -V" "run the demo without python3"
checktool "$KCIPCTL -h" "run the demo without kcipctl"
kcip_require_module

say() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "Building the namespaces: client, node, be1, be2, be3"
setup_topo 3

say "Starting an HTTP server in each backend"
for i in 1 2 3; do
	dir=$(mktemp -d "/tmp/kcip-demo-be$i.XXXXXX")
	TMPFILES+=("$dir")
	echo "hello from backend $i ($(be_addr4 "$i"))" > "$dir/index.html"
	ip netns exec "${BACKENDS[$((i - 1))]}" \
		python3 -S -m http.server 8080 --bind :: --directory "$dir" > "$dir.log" 2>&1 &
	BG_PIDS+=($!)
	TMPFILES+=("$dir.log")
done
for i in 1 2 3; do
	if ! busywait 60000 listening "${BACKENDS[$((i - 1))]}" tcp 8080 > /dev/null; then
		echo "backend $i did not start:"
		cat /tmp/kcip-demo-be$i.*.log
		exit 1
	fi
	echo "be$i: python3 -m http.server on [::]:8080"
done

say "Adding the Service on the node"
run kcipctl -n "$node" service add 10.96.0.10:80/tcp
for i in 1 2 3; do
	run kcipctl -n "$node" backend add 10.96.0.10:80/tcp "$(be_addr4 "$i"):8080"
done
run kcipctl -n "$node" service add '[fd00:96::10]:80/tcp'
for i in 1 2 3; do
	run kcipctl -n "$node" backend add '[fd00:96::10]:80/tcp' "[$(be_addr6 "$i")]:8080"
done
echo
run kcipctl -n "$node" show

say "Asking the VIP from the client, $REQUESTS times"
for i in $(seq 1 "$REQUESTS"); do
	out=$(ip netns exec "$client" curl -s -m 10 http://10.96.0.10/)
	printf 'request %d: curl http://10.96.0.10/ -> %s\n' "$i" "${out:-(no answer)}"
done
out=$(ip netns exec "$client" curl -s -m 10 'http://[fd00:96::10]/')
printf 'and over IPv6: curl http://[fd00:96::10]/ -> %s\n' "${out:-(no answer)}"

say "The connections in the node's conntrack table (DNAT to the backends)"
if command -v conntrack > /dev/null; then
	ip netns exec "$node" conntrack -L -p tcp --orig-dst 10.96.0.10 2> /dev/null | head -n 4
fi

say "The Service with its counters"
run kcipctl -n "$node" -s show

say "Backend 2 goes down: new requests avoid it"
run kcipctl -n "$node" backend change 10.96.0.10:80/tcp "$(be_addr4 2):8080" state down
for i in 1 2 3 4 5 6; do
	out=$(ip netns exec "$client" curl -s -m 10 http://10.96.0.10/)
	printf 'request %d: %s\n' "$i" "${out:-(no answer)}"
done

say "No Service, no answer"
run kcipctl -n "$node" service del 10.96.0.10:80/tcp
out=$(ip netns exec "$client" curl -s -m 3 http://10.96.0.10/ 2>&1)
printf 'curl http://10.96.0.10/ -> %s\n' "${out:-(no answer: connection failed)}"

echo
echo "Done; the namespaces are removed on exit."
exit 0

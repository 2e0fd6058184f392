#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kcipctl command line tests that need no kernel module (TAP output).
#
#   tests/cli.sh ./kcipctl [./tests/fakekernel.so]
#
# 1. Bad input fails with `kcipctl: <message>`, exit 1, and sends nothing
#    (the fake kernel's request log stays empty).
# 2. With the fake kernel LD_PRELOADed: the requests sent, the plain and
#    JSON output, extack errors, split dumps and NLM_F_DUMP_INTR retries.

set -u

KCIPCTL=$(realpath "${1:-./kcipctl}")
FAKE=${2:-}
[ -n "$FAKE" ] && FAKE=$(realpath "$FAKE")

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export FAKE_STATE=$TMP/state FAKE_LOG=$TMP/log

n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

# run ARGS...: kcipctl with the fake kernel; sets rc, out, errout
run()
{
	if [ -n "$FAKE" ]; then
		LD_PRELOAD=$FAKE "$KCIPCTL" "$@" >"$TMP/out" 2>"$TMP/err"
	else
		"$KCIPCTL" "$@" >"$TMP/out" 2>"$TMP/err"
	fi
	rc=$?
	out=$(cat "$TMP/out")
	errout=$(cat "$TMP/err")
}

# fails "expected stderr" ARGS...: exit 1, that exact message, no request
fails()
{
	local want=$1
	shift
	: >"$FAKE_LOG"
	run "$@"
	if [ $rc -eq 1 ] && [ "$errout" = "kcipctl: $want" ] &&
	   [ -z "$out" ] && [ ! -s "$FAKE_LOG" ]; then
		ok "fails: $*"
	else
		not_ok "fails: $* (rc $rc, stderr '$errout', want 'kcipctl: $want')"
		[ -s "$FAKE_LOG" ] && echo "# sent: $(cat "$FAKE_LOG")"
	fi
}

# succeeds ARGS...: exit 0, nothing on stderr
succeeds()
{
	run "$@"
	if [ $rc -eq 0 ] && [ -z "$errout" ]; then
		ok "succeeds: $*"
	else
		not_ok "succeeds: $* (rc $rc, stderr '$errout')"
	fi
}

# output "expected stdout" ARGS...
output()
{
	local want=$1
	shift
	run "$@"
	if [ $rc -eq 0 ] && [ "$out" = "$want" ]; then
		ok "output: $*"
	else
		not_ok "output: $* (rc $rc, stderr '$errout')"
		diff <(echo "$want") <(echo "$out") | sed 's/^/# /'
	fi
}

# sent "expected log line" ARGS...: the request the fake kernel decoded
sent()
{
	local want=$1
	shift
	: >"$FAKE_LOG"
	run "$@"
	if [ $rc -eq 0 ] && grep -qxF -- "$want" "$FAKE_LOG"; then
		ok "sent: $*"
	else
		not_ok "sent: $* (rc $rc, stderr '$errout')"
		sed 's/^/# got: /' "$FAKE_LOG"
		echo "# want: $want"
	fi
}

SVC=10.96.0.10:80/tcp
BE=10.244.1.5:8080

# ---- help and version ----
output "kcipctl ${VERSION:-$("$KCIPCTL" -V | cut -d' ' -f2)}" -V
run --version; [ $rc -eq 0 ] && [ "$out" = "$("$KCIPCTL" -V)" ] &&
	ok "--version" || not_ok "--version"
for args in "help" "-h" "--help" "service help" "backend help" \
	    "service add help" "show help"; do
	# shellcheck disable=SC2086
	run $args
	[ $rc -eq 0 ] && [ -n "$out" ] && [ -z "$errout" ] &&
		ok "help: $args" || not_ok "help: $args (rc $rc)"
done
run
[ $rc -eq 1 ] && [ -z "$out" ] && [ -n "$errout" ] &&
	ok "no arguments: usage on stderr" || not_ok "no arguments (rc $rc)"

# ---- bad input: nothing sent ----
fails 'unknown object "bogus" (try "kcipctl help")' bogus
fails 'unknown option "-x" (try "kcipctl help")' -x show
fails 'unknown option "--bogus" (try "kcipctl help")' --bogus show
fails 'missing value after "-n"' -n
fails "'save' is not implemented yet" save
fails "'restore' is not implemented yet" restore -
fails "'monitor' is not implemented yet" monitor
fails 'unexpected argument "x" after "show"' show x
fails 'unexpected argument "x" after "flush"' flush x
fails 'unknown service command "frob" (try "kcipctl service help")' service frob
fails 'unknown backend command "show" (try "kcipctl backend help")' backend show
fails 'missing SERVICE (ADDR:PORT/PROTO)' service add
fails 'missing SERVICE (ADDR:PORT/PROTO)' service del
fails 'invalid service "10.96.0.10:80" (expected ADDR:PORT/PROTO)' service add 10.96.0.10:80
fails 'invalid service "10.96.0.10" (expected ADDR:PORT/PROTO)' service add 10.96.0.10/tcp
fails 'invalid protocol "icmp" (tcp, udp or sctp)' service add 10.96.0.10:80/icmp
fails 'invalid protocol "TCP" (tcp, udp or sctp)' service add 10.96.0.10:80/TCP
fails 'invalid IPv4 address "10.96.0.300"' service add 10.96.0.300:80/tcp
fails 'invalid IPv4 address "web"' service add web:80/tcp
fails 'invalid IPv6 address "fd00::g"' service add '[fd00::g]:80/tcp'
fails 'invalid IPv6 address "10.0.0.1"' service add '[10.0.0.1]:80/tcp'
fails 'invalid service "fd00::10:80" (an IPv6 address goes in brackets: [ADDR]:PORT)' service add fd00::10:80/tcp
fails 'invalid service "[fd00::10]80" (expected ADDR:PORT/PROTO)' service add '[fd00::10]80/tcp'
fails 'invalid port "0" (1-65535)' service add 10.96.0.10:0/tcp
fails 'invalid port "65536" (1-65535)' service add 10.96.0.10:65536/tcp
fails 'invalid port "" (1-65535)' service add 10.96.0.10:/tcp
fails 'invalid port "+80" (1-65535)' service add 10.96.0.10:+80/tcp
fails 'missing value after "sched"' service add $SVC sched
fails 'invalid sched "wrr" (random, rr or maglev)' service add $SVC sched wrr
fails 'invalid affinity "client" (none or clientip)' service add $SVC affinity client
fails 'invalid traffic-policy "node" (cluster or local)' service add $SVC traffic-policy node
fails 'invalid no-endpoints "ignore" (reject or drop)' service add $SVC no-endpoints ignore
fails 'invalid masquerade "yes" (off or on)' service add $SVC masquerade yes
fails 'missing value after "retry"' service add $SVC retry
fails 'missing value after "timeout"' service add $SVC affinity clientip timeout
fails 'invalid timeout "0" (1-86400)' service add $SVC affinity clientip timeout 0
fails 'invalid timeout "86401" (1-86400)' service add $SVC affinity clientip timeout 86401
fails 'invalid quarantine "3601" (1-3600)' service change $SVC retry on quarantine 3601
fails '"timeout" goes right after "affinity none|clientip"' service add $SVC timeout 5
fails '"quarantine" goes right after "retry on|off"' service add $SVC quarantine 5
fails 'duplicate option "sched"' service add $SVC sched rr sched rr
fails 'duplicate option "masquerade"' service change $SVC masquerade on masquerade off
fails 'unknown service option "weight" (try "kcipctl service help")' service add $SVC weight 1
fails 'unexpected argument "sched" after SERVICE' service del $SVC sched rr
fails 'unexpected argument "x" after SERVICE' service show $SVC x
fails 'missing BACKEND (ADDR:PORT)' backend add $SVC
fails 'invalid backend "10.244.1.5" (expected ADDR:PORT)' backend add $SVC 10.244.1.5
fails 'invalid port "0" (1-65535)' backend add $SVC 10.244.1.5:0
fails 'backend [fd00::5]:80 is IPv6 but service 10.96.0.10:80/tcp is IPv4' backend add $SVC '[fd00::5]:80'
fails 'backend 10.0.0.1:80 is IPv4 but service [fd00::10]:80/tcp is IPv6' backend add '[fd00::10]:80/tcp' 10.0.0.1:80
fails 'invalid weight "65536" (0-65535)' backend add $SVC $BE weight 65536
fails 'invalid weight "-1" (0-65535)' backend add $SVC $BE weight -1
fails 'invalid weight "1x" (0-65535)' backend add $SVC $BE weight 1x
fails 'invalid weight "0x10" (0-65535)' backend add $SVC $BE weight 0x10
fails 'invalid weight "99999999999999999999" (0-65535)' backend add $SVC $BE weight 99999999999999999999
fails 'invalid state "up" (ready, terminating or down)' backend add $SVC $BE state up
fails 'missing value after "weight"' backend change $SVC $BE weight
fails 'duplicate option "nonlocal"' backend change $SVC $BE local nonlocal
fails 'duplicate option "weight"' backend change $SVC $BE weight 1 weight 2
fails 'unknown backend option "flush" (try "kcipctl backend help")' backend add $SVC $BE flush
fails 'duplicate option "flush"' backend del $SVC $BE flush flush
fails 'unknown backend del option "weight" (try "kcipctl backend help")' backend del $SVC $BE weight 1
fails 'cannot open network namespace "kcipctl-no-such-ns": No such file or directory' -n kcipctl-no-such-ns show

if [ -z "$FAKE" ]; then
	echo "1..$n"
	[ $failed -eq 0 ]
	exit
fi

# ---- with the fake kernel ----
FAKE_NOFAMILY=1 run show
[ $rc -eq 1 ] && [ "$errout" = 'kcipctl: kclusterip module not loaded (family "kclusterip" not found)' ] &&
	ok "family not found" || not_ok "family not found ($errout)"

output "" show
# An empty dump is DONE alone: no generation to show...
output '{"services":[]}' -j show
# ...unless the kernel sends it in a message of its own.
FAKE_GENHDR=1 output '{"generation":0,"services":[]}' -j show

# Attribute numbers of the uapi header; values in the bytes they travel as.
sent "SERVICE_NEW svc{ 1=0200 2=06 3=0a60000a 5=0050 } -> 0" service add $SVC
sent "SERVICE_NEW svc{ 1=0a00 2=11 4=fd000000000000000000000000000010 5=0035 6=02 7=01 9=01 10=01 8=3c000000 13=05000000 11=03000000 } -> 0" \
	service add '[fd00::10]:53/udp' sched maglev affinity clientip timeout 60 \
	traffic-policy local no-endpoints drop retry on quarantine 5 masquerade on
sent "SERVICE_NEW svc{ 1=0200 2=84 3=00000000 5=7594 11=00000000 } -> 0" \
	service add 0.0.0.0:30100/sctp masquerade off
sent "SERVICE_SET svc{ 1=0200 2=06 3=0a60000a 5=0050 11=01000000 12=01000000 } -> 0" \
	service change $SVC masquerade on
sent "SERVICE_SET svc{ 1=0200 2=06 3=0a60000a 5=0050 11=00000000 12=02000000 } -> 0" \
	service change $SVC retry off
sent "SERVICE_SET svc{ 1=0200 2=06 3=0a60000a 5=0050 6=01 } -> 0" service change $SVC sched rr
sent "BACKEND_NEW svc{ 1=0200 2=06 3=0a60000a 5=0050 } be{ 1=0af40105 3=1f90 } -> 0" \
	backend add $SVC $BE
sent "BACKEND_NEW svc{ 1=0200 2=06 3=0a60000a 5=0050 } be{ 1=0af40106 3=1f90 4=02000000 5=01 6=01000000 } -> 0" \
	backend add $SVC 10.244.1.6:8080 weight 2 state terminating local
sent "BACKEND_SET svc{ 1=0200 2=06 3=0a60000a 5=0050 } be{ 1=0af40106 3=1f90 6=00000000 7=01000000 } -> 0" \
	backend change $SVC 10.244.1.6:8080 nonlocal
sent "BACKEND_SET svc{ 1=0200 2=06 3=0a60000a 5=0050 } be{ 1=0af40106 3=1f90 6=01000000 7=01000000 } -> 0" \
	backend change $SVC 10.244.1.6:8080 local
sent "BACKEND_SET svc{ 1=0200 2=06 3=0a60000a 5=0050 } be{ 1=0af40105 3=1f90 4=00000000 5=02 } -> 0" \
	backend change $SVC $BE state down weight 0
for i in 1 2 3 4; do
	succeeds backend add $SVC 10.244.2.$i:80 weight $i
done
succeeds backend add '[fd00::10]:53/udp' '[fd00:244::5]:5353'
succeeds backend del $SVC 10.244.2.4:80
sent "BACKEND_DEL flags=1 svc{ 1=0200 2=06 3=0a60000a 5=0050 } be{ 1=0af40203 3=0050 } -> 0" \
	backend del $SVC 10.244.2.3:80 flush

PLAIN='service 0.0.0.0:30100/sctp sched random affinity none traffic-policy cluster no-endpoints reject masquerade off
service 10.96.0.10:80/tcp sched rr affinity none traffic-policy cluster no-endpoints reject masquerade on
  backend 10.244.1.5:8080 weight 0 state down
  backend 10.244.1.6:8080 weight 2 state terminating local
  backend 10.244.2.1:80 weight 1 state ready
  backend 10.244.2.2:80 weight 2 state ready
service [fd00::10]:53/udp sched maglev affinity clientip timeout 60 traffic-policy local no-endpoints drop masquerade on retry on quarantine 5
  backend [fd00:244::5]:5353 weight 1 state ready'
output "$PLAIN" show
output "$PLAIN" service show
output "$PLAIN" service
# split over one backend per message, three messages per read
FAKE_SPLIT=1 output "$PLAIN" show
FAKE_SPLIT=100 output "$PLAIN" show
output "$(echo "$PLAIN" | sed -n 2,6p)" service show $SVC

STATS='generation 18
service 0.0.0.0:30100/sctp sched random affinity none traffic-policy cluster no-endpoints reject masquerade off
  stats new-flows 1000 rejects 500 drops 333
service 10.96.0.10:80/tcp sched rr affinity none traffic-policy cluster no-endpoints reject masquerade on
  stats new-flows 1000 rejects 500 drops 333
  backend 10.244.1.5:8080 weight 0 state down new-flows 1000
  backend 10.244.1.6:8080 weight 2 state terminating local new-flows 1001
  backend 10.244.2.1:80 weight 1 state ready new-flows 1002
  backend 10.244.2.2:80 weight 2 state ready new-flows 1003
service [fd00::10]:53/udp sched maglev affinity clientip timeout 60 traffic-policy local no-endpoints drop masquerade on retry on quarantine 5
  stats new-flows 1000 rejects 500 drops 333
  backend [fd00:244::5]:5353 weight 1 state ready new-flows 1000'
FAKE_STATS=1 output "$STATS" -s show
FAKE_STATS=1 FAKE_GENHDR=1 FAKE_SPLIT=1 output "$STATS" -s show

JSON='{"generation":18,"services":[{"address":"fd00::10","port":53,"protocol":"udp","family":"inet6","sched":"maglev","affinity":"clientip","affinity_timeout":60,"traffic_policy":"local","no_endpoints":"drop","masquerade":true,"retry":true,"quarantine":5,"backends":[{"address":"fd00:244::5","port":5353,"weight":1,"state":"ready","local":false}]}]}'
output "$JSON" -j service show '[fd00::10]:53/udp'
JSONS='{"generation":18,"services":[{"address":"10.96.0.10","port":80,"protocol":"tcp","family":"inet","sched":"rr","affinity":"none","affinity_timeout":10800,"traffic_policy":"cluster","no_endpoints":"reject","masquerade":true,"retry":false,"quarantine":10,"backends":[{"address":"10.244.1.5","port":8080,"weight":0,"state":"down","local":false,"stats":{"new_flows":1000}},{"address":"10.244.1.6","port":8080,"weight":2,"state":"terminating","local":true,"stats":{"new_flows":1001}},{"address":"10.244.2.1","port":80,"weight":1,"state":"ready","local":false,"stats":{"new_flows":1002}},{"address":"10.244.2.2","port":80,"weight":2,"state":"ready","local":false,"stats":{"new_flows":1003}}],"stats":{"new_flows":1000,"rejects":500,"drops":333}}]}'
FAKE_STATS=1 FAKE_SPLIT=1 output "$JSONS" -j -s service show $SVC
if command -v python3 >/dev/null; then
	run -j -s show
	echo "$out" | python3 -m json.tool >/dev/null &&
		ok "-j -s show is valid JSON" || not_ok "-j -s show is not valid JSON"
fi

# kernel errors: the extack text, else strerror
run service add $SVC
[ $rc -eq 1 ] && [ "$errout" = "kcipctl: Service already exists" ] &&
	ok "extack message" || not_ok "extack message ($errout)"
run service show 10.1.1.1:1/tcp
[ $rc -eq 1 ] && [ "$errout" = "kcipctl: no such service 10.1.1.1:1/tcp" ] &&
	ok "service show of a missing service" || not_ok "missing service ($errout)"
FAKE_EPERM=1 run flush
[ $rc -eq 1 ] && [ "$errout" = "kcipctl: Operation not permitted" ] &&
	ok "EPERM without extack" || not_ok "EPERM ($errout)"

# NLM_F_DUMP_INTR: retried, up to 5 dumps
: >"$FAKE_LOG"
FAKE_SPLIT=1 FAKE_INTR=1000 run show
[ $rc -eq 1 ] && [ "$(grep -c 'SERVICE_GET dump' "$FAKE_LOG")" -eq 5 ] &&
	[ "$errout" = "kcipctl: the state kept changing during the dump, gave up after 5 tries" ] &&
	ok "dump interrupted every time: gives up" || not_ok "dump interrupted ($errout)"

succeeds service del '[fd00::10]:53/udp'
succeeds flush
output "" show

if command -v valgrind >/dev/null; then
	for args in "-j -s show" "service add $SVC" "service add $SVC bogus" \
		    "service add $SVC" "backend add $SVC 10.1.1.1:1" "show x"; do
		# shellcheck disable=SC2086
		LD_PRELOAD=$FAKE FAKE_SPLIT=1 valgrind -q --leak-check=full \
			--errors-for-leak-kinds=all --error-exitcode=99 \
			"$KCIPCTL" $args >/dev/null 2>"$TMP/vg"
		[ $? -ne 99 ] && ok "valgrind: $args" ||
			{ not_ok "valgrind: $args"; sed 's/^/# /' "$TMP/vg"; }
	done
fi

echo "1..$n"
[ $failed -eq 0 ]

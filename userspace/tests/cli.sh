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
	    "service add help" "show help" "save help" "restore help" \
	    "monitor help" "explain help"; do
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
fails 'unexpected argument "x" after "save"' save x
fails 'unexpected argument "x" after "monitor"' monitor x
fails 'unexpected argument "b" after FILE' restore a b
fails 'missing PROTO (tcp, udp or sctp)' explain
fails 'invalid protocol "icmp" (tcp, udp or sctp)' explain icmp 10.0.0.1:1 10.0.0.2:2
fails 'missing SRC:SPORT' explain tcp
fails 'missing DST:DPORT' explain tcp 10.0.0.1:40000
fails 'invalid source "10.0.0.1" (expected ADDR:PORT)' explain tcp 10.0.0.1 10.96.0.10:80
fails 'invalid destination "[fd00::1]" (expected ADDR:PORT)' explain tcp '[fd00::2]:1' '[fd00::1]'
fails 'invalid port "0" (1-65535)' explain tcp 10.0.0.1:0 10.96.0.10:80
fails 'source 10.0.0.1:1 is IPv4 but destination [fd00::10]:80 is IPv6' explain udp 10.0.0.1:1 '[fd00::10]:80'
fails 'unexpected argument "x" after DST:DPORT' explain tcp 10.0.0.1:1 10.96.0.10:80 x
fails 'save prints restore'"'"'s lines, not JSON (try "kcipctl -j show")' -j save
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
# the kernel dumps that Service alone, not the whole table
sent "SERVICE_GET dump svc{ 1=0200 2=06 3=0a60000a 5=0050 } only (found)" service show $SVC
sent "SERVICE_GET dump" show

STATS='generation 18
service 0.0.0.0:30100/sctp sched random affinity none traffic-policy cluster no-endpoints reject masquerade off
  stats new-flows 1000 packets 0 bytes 0 rejects 500 drops 333 retries 0
service 10.96.0.10:80/tcp sched rr affinity none traffic-policy cluster no-endpoints reject masquerade on
  stats new-flows 1000 packets 0 bytes 0 rejects 500 drops 333 retries 0
  backend 10.244.1.5:8080 weight 0 state down new-flows 1000 packets 0 bytes 0 failures 0
  backend 10.244.1.6:8080 weight 2 state terminating local new-flows 1001 packets 0 bytes 0 failures 0
  backend 10.244.2.1:80 weight 1 state ready new-flows 1002 packets 0 bytes 0 failures 0
  backend 10.244.2.2:80 weight 2 state ready new-flows 1003 packets 0 bytes 0 failures 0
service [fd00::10]:53/udp sched maglev affinity clientip timeout 60 traffic-policy local no-endpoints drop masquerade on retry on quarantine 5
  stats new-flows 1000 packets 0 bytes 0 rejects 500 drops 333 retries 0
  backend [fd00:244::5]:5353 weight 1 state ready new-flows 1000 packets 0 bytes 0 failures 0'
FAKE_STATS=1 output "$STATS" -s show
FAKE_STATS=1 FAKE_GENHDR=1 FAKE_SPLIT=1 output "$STATS" -s show

JSON='{"generation":18,"services":[{"address":"fd00::10","port":53,"protocol":"udp","family":"inet6","sched":"maglev","affinity":"clientip","affinity_timeout":60,"traffic_policy":"local","no_endpoints":"drop","masquerade":true,"retry":true,"quarantine":5,"backends":[{"address":"fd00:244::5","port":5353,"weight":1,"state":"ready","local":false}]}]}'
output "$JSON" -j service show '[fd00::10]:53/udp'
JSONS='{"generation":18,"services":[{"address":"10.96.0.10","port":80,"protocol":"tcp","family":"inet","sched":"rr","affinity":"none","affinity_timeout":10800,"traffic_policy":"cluster","no_endpoints":"reject","masquerade":true,"retry":false,"quarantine":10,"backends":[{"address":"10.244.1.5","port":8080,"weight":0,"state":"down","local":false,"stats":{"new_flows":1000,"packets":0,"bytes":0,"failures":0}},{"address":"10.244.1.6","port":8080,"weight":2,"state":"terminating","local":true,"stats":{"new_flows":1001,"packets":0,"bytes":0,"failures":0}},{"address":"10.244.2.1","port":80,"weight":1,"state":"ready","local":false,"stats":{"new_flows":1002,"packets":0,"bytes":0,"failures":0}},{"address":"10.244.2.2","port":80,"weight":2,"state":"ready","local":false,"stats":{"new_flows":1003,"packets":0,"bytes":0,"failures":0}}],"stats":{"new_flows":1000,"packets":0,"bytes":0,"rejects":500,"drops":333,"retries":0}}]}'
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

# ---- save ----
# gen: the fake's generation now
gen() { LD_PRELOAD=$FAKE FAKE_GENHDR=1 "$KCIPCTL" -s show | sed -n 's/^generation //p'; }
output "" save
succeeds service add 10.96.0.10:80/tcp
succeeds service add 10.96.0.11:80/tcp sched maglev affinity clientip masquerade on
succeeds service add '[fd00::10]:53/udp' sched rr affinity clientip timeout 60 \
	traffic-policy local no-endpoints drop retry on quarantine 5
# non-default values of options that do nothing yet are kept too
succeeds service add 0.0.0.0:30080/sctp affinity none timeout 100 retry off quarantine 20
succeeds backend add 10.96.0.10:80/tcp 10.244.1.6:8080
succeeds backend add 10.96.0.10:80/tcp 10.244.1.5:8080 weight 0 state down local
succeeds backend add 10.96.0.11:80/tcp 10.244.2.1:80 state terminating weight 65535
succeeds backend add '[fd00::10]:53/udp' '[fd00:244::5]:5353' local
SAVE='service add 0.0.0.0:30080/sctp affinity none timeout 100 retry off quarantine 20
service add 10.96.0.10:80/tcp
backend add 10.96.0.10:80/tcp 10.244.1.5:8080 weight 0 state down local
backend add 10.96.0.10:80/tcp 10.244.1.6:8080
service add 10.96.0.11:80/tcp sched maglev affinity clientip masquerade on
backend add 10.96.0.11:80/tcp 10.244.2.1:80 weight 65535 state terminating
service add [fd00::10]:53/udp sched rr affinity clientip timeout 60 traffic-policy local no-endpoints drop retry on quarantine 5
backend add [fd00::10]:53/udp [fd00:244::5]:5353 local'
output "$SAVE" save
FAKE_SPLIT=1 FAKE_INTR=2 output "$SAVE" save
echo "$SAVE" >"$TMP/save1"

# ---- restore ----
# save | restore is a no-op
: >"$FAKE_LOG"
output "restore: 0 added, 0 changed, 0 deleted, 4 unchanged; 4 services, 4 backends, generation $(($(gen) + 1))" \
	-s restore "$TMP/save1"
output "$SAVE" save
grep -q '^RESTORE_BEGIN -> 0$' "$FAKE_LOG" &&
	[ "$(grep -c '^RESTORE_SERVICE' "$FAKE_LOG")" -eq 4 ] &&
	grep -q '^RESTORE_COMMIT -> 0$' "$FAKE_LOG" &&
	ok "restore: BEGIN, a SERVICE per Service, COMMIT" ||
	{ not_ok "restore: requests"; sed 's/^/# /' "$FAKE_LOG"; }
# identity and options as for SERVICE_NEW, backends nested in the Service
grep -qxF 'RESTORE_SERVICE svc{ 1=0a00 2=11 4=fd000000000000000000000000000010 5=0035 6=01 7=01 9=01 10=01 8=3c000000 13=05000000 11=02000000 15=[1] } be{ 2=fd000244000000000000000000000005 3=14e9 6=01000000 } staged=1 -> 0' "$FAKE_LOG" &&
	grep -qxF 'RESTORE_SERVICE svc{ 1=0200 2=06 3=0a60000a 5=0050 15=[2] } be{ 1=0af40105 3=1f90 4=00000000 5=02 6=01000000 } be{ 1=0af40106 3=1f90 } staged=2 -> 0' "$FAKE_LOG" &&
	grep -qxF 'RESTORE_SERVICE svc{ 1=0200 2=84 3=00000000 5=7580 7=00 8=64000000 13=14000000 11=00000000 } -> 0' "$FAKE_LOG" &&
	ok "restore: RESTORE_SERVICE attributes" ||
	{ not_ok "restore: RESTORE_SERVICE attributes"; sed 's/^/# /' "$FAKE_LOG"; }
# from stdin, with comments, blank lines, odd blanks, no final newline
printf '# a comment\n\n   service add 10.96.0.10:80/tcp\tsched rr # and another\nbackend add 10.96.0.10:80/tcp 10.244.1.5:8080 weight 2\r\n  \t\nbackend add 10.96.0.10:80/tcp 10.244.1.6:8080 state down' >"$TMP/rs"
G=$(($(gen) + 1))
LD_PRELOAD=$FAKE "$KCIPCTL" -s restore <"$TMP/rs" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 0 ] && [ ! -s "$TMP/err" ] &&
	[ "$(cat "$TMP/out")" = "restore: 0 added, 1 changed, 3 deleted, 0 unchanged; 1 services, 2 backends, generation $G" ] &&
	ok "restore from stdin" || not_ok "restore from stdin ($(cat "$TMP/out" "$TMP/err"))"
output 'service add 10.96.0.10:80/tcp sched rr
backend add 10.96.0.10:80/tcp 10.244.1.5:8080 weight 2
backend add 10.96.0.10:80/tcp 10.244.1.6:8080 state down' save
output "{\"added\":3,\"changed\":1,\"deleted\":0,\"unchanged\":0,\"services\":4,\"backends\":4,\"generation\":$(($(gen) + 1))}" \
	-j restore "$TMP/save1"
output "" restore - </dev/null
output "" save
LD_PRELOAD=$FAKE "$KCIPCTL" restore - <"$TMP/save1" && output "$SAVE" save

# every line is checked before anything is sent
rsfails()
{
	local want=$1
	shift
	printf "$1" >"$TMP/bad"
	fails "$TMP/bad:$want" restore "$TMP/bad"
}
rsfails '1: unknown line start "kcipctl" (expected "service add" or "backend add")' \
	'kcipctl service add 10.96.0.10:80/tcp\n'
rsfails '2: "service del": a restore file has only "service add" and "backend add" lines' \
	'# x\nservice del 10.96.0.10:80/tcp\n'
rsfails '1: "backend": a restore file has only "service add" and "backend add" lines' \
	'backend\n'
rsfails '1: missing SERVICE (ADDR:PORT/PROTO)' 'service add\n'
rsfails '3: invalid sched "fast" (random, rr or maglev)' \
	'\n\nservice add 10.96.0.10:80/tcp sched fast\n'
rsfails '2: invalid weight "x" (0-65535)' \
	'service add 10.96.0.10:80/tcp\nbackend add 10.96.0.10:80/tcp 10.1.1.1:1 weight x\n'
rsfails '2: missing BACKEND (ADDR:PORT)' \
	'service add 10.96.0.10:80/tcp\nbackend add 10.96.0.10:80/tcp # 10.1.1.1:1\n'
rsfails '4: service 10.96.0.10:80/tcp is given twice (first on line 1)' \
	'service add 10.96.0.10:80/tcp\nservice add 10.96.0.11:80/tcp\n\nservice add 10.96.0.10:80/tcp sched rr\n'
rsfails '3: backend 10.1.1.1:1 of service 10.96.0.10:80/tcp is given twice (first on line 2)' \
	'service add 10.96.0.10:80/tcp\nbackend add 10.96.0.10:80/tcp 10.1.1.1:1\nbackend add 10.96.0.10:80/tcp 10.1.1.1:1 weight 2\n'
# 65538 backends of weight 65535 add up to more than 2^32 - 1
awk 'BEGIN { print "service add 10.96.0.10:80/tcp"
	for (i = 0; i < 65538; i++)
		printf "backend add 10.96.0.10:80/tcp 10.%d.%d.%d:1 weight 65535\n", int(i / 65536), int(i / 256) % 256, i % 256 }' >"$TMP/heavy"
fails "$TMP/heavy:65539: the weights of service 10.96.0.10:80/tcp's backends add up to more than 4294967295" restore "$TMP/heavy"
rsfails '1: service 10.96.0.10:80/tcp has no "service add" line above this backend' \
	'backend add 10.96.0.10:80/tcp 10.1.1.1:1\nservice add 10.96.0.10:80/tcp\n'
rsfails '2: backend [fd00::1]:1 is IPv6 but service 10.96.0.10:80/tcp is IPv4' \
	'service add 10.96.0.10:80/tcp\nbackend add 10.96.0.10:80/tcp [fd00::1]:1\n'
fails 'cannot open /nonexistent/x: No such file or directory' restore /nonexistent/x
printf 'service add 10.96.0.10:80/tcp sched x\n' >"$TMP/bad"
: >"$FAKE_LOG"
LD_PRELOAD=$FAKE "$KCIPCTL" restore <"$TMP/bad" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && [ ! -s "$FAKE_LOG" ] &&
	[ "$(cat "$TMP/err")" = 'kcipctl: <stdin>:1: invalid sched "x" (random, rr or maglev)' ] &&
	ok "restore: stdin errors say <stdin>" || not_ok "restore stdin error ($(cat "$TMP/err"))"

# A Service too big for one message goes on in APPEND messages, each
# under 32 KiB, with the same identity and options.
{
	echo "service add 10.96.0.10:80/tcp sched maglev"
	for i in $(seq 1 3000); do
		echo "backend add 10.96.0.10:80/tcp 10.$((i / 250)).$((i % 250)).1:80 weight 3 state terminating local"
	done
	for i in $(seq 1 150); do
		echo "service add 10.97.0.$((i % 250)):$i/udp"
		echo "backend add 10.97.0.$((i % 250)):$i/udp [::ffff:10.1.1.1]:1" | sed 's/\[::ffff:\(.*\)\]/\1/'
	done
	echo "service add [fd00::1]:1/tcp"
	for i in $(seq 1 1000); do
		printf 'backend add [fd00::1]:1/tcp [fd00:1234:5678:9abc:def0:1234:5678:%x]:65535 weight 7 state down local\n' $i
	done
} >"$TMP/big"
: >"$FAKE_LOG"
FAKE_MAXMSG=32768 output "restore: 151 added, 1 changed, 3 deleted, 0 unchanged; 152 services, 4150 backends, generation $(($(gen) + 1))" \
	-s restore "$TMP/big"
[ "$(grep -c '^RESTORE_SERVICE flags=2 svc{ 1=0200 2=06 3=0a60000a 5=0050 6=02 15=' "$FAKE_LOG")" -eq 4 ] &&
	[ "$(grep -c '^RESTORE_SERVICE flags=2 svc{ 1=0a00 2=06 4=fd000000000000000000000000000001 5=0001 15=' "$FAKE_LOG")" -eq 1 ] &&
	[ "$(grep -c '^RESTORE_SERVICE svc' "$FAKE_LOG")" -eq 152 ] &&
	! grep -q 'too big' "$FAKE_LOG" &&
	[ "$(grep -o 'staged=[0-9]*' "$FAKE_LOG" | cut -d= -f2 | paste -sd+ | bc)" -eq 4150 ] &&
	ok "restore: a big Service is split, with APPEND" ||
	{ not_ok "restore: big Service"; grep -o '^.\{50\}\|staged=.*' "$FAKE_LOG" | sort | uniq -c | sed 's/^/# /'; }
LD_PRELOAD=$FAKE "$KCIPCTL" save >"$TMP/save2"
[ "$(wc -l <"$TMP/save2")" -eq 4302 ] && [ "$(sort "$TMP/big" | md5sum)" = "$(sort "$TMP/save2" | md5sum)" ] &&
	ok "save of the big state has every line" || not_ok "save of the big state"
output "restore: 0 added, 0 changed, 0 deleted, 152 unchanged; 152 services, 4150 backends, generation $(($(gen) + 1))" \
	-s restore "$TMP/save2"
LD_PRELOAD=$FAKE "$KCIPCTL" save | cmp -s - "$TMP/save2" &&
	ok "save | restore | save is the same" || not_ok "save | restore | save differs"

# The kernel's refusal: the line of the Service, or of the backend the
# extack points at; the rest of the batch fails too, nothing is committed.
: >"$FAKE_LOG"
FAKE_REFUSE_PORT=100 run restore "$TMP/big"
[ $rc -eq 1 ] && [ "$errout" = "kcipctl: $TMP/big:3200: Refused by the fake kernel" ] &&
	! grep -q RESTORE_COMMIT "$FAKE_LOG" &&
	ok "restore: kernel error with the Service's line" || not_ok "restore: kernel error ($errout)"
FAKE_REFUSE_BE=65535 run restore "$TMP/big"
[ $rc -eq 1 ] && [ "$errout" = "kcipctl: $TMP/big:3303: Backend refused by the fake kernel" ] &&
	ok "restore: kernel error with the backend's line" || not_ok "restore: backend error ($errout)"
FAKE_EPERM=1 run restore "$TMP/big"
[ $rc -eq 1 ] && [ "$errout" = "kcipctl: Operation not permitted" ] &&
	ok "restore: EPERM at BEGIN" || not_ok "restore: EPERM ($errout)"
LD_PRELOAD=$FAKE "$KCIPCTL" save | cmp -s - "$TMP/save2" &&
	ok "a failed restore changes nothing" || not_ok "a failed restore changed the state"

# ---- monitor ----
export FAKE_EVENTS=$TMP/events
succeeds flush
GEN=$(gen)
succeeds service add $SVC
succeeds service change $SVC sched maglev masquerade on
succeeds backend add $SVC $BE weight 2 local
succeeds backend change $SVC $BE state terminating
succeeds backend del $SVC $BE
succeeds service add '[fd00::10]:53/udp' affinity clientip
succeeds service del '[fd00::10]:53/udp'
succeeds restore "$TMP/save1"
: >"$FAKE_LOG"
output "flush
service add $SVC sched random affinity none traffic-policy cluster no-endpoints reject masquerade off
service change $SVC sched maglev affinity none traffic-policy cluster no-endpoints reject masquerade on
backend add $SVC $BE weight 2 state ready local
backend change $SVC $BE weight 2 state terminating local
backend del $SVC $BE
service add [fd00::10]:53/udp sched random affinity clientip timeout 10800 traffic-policy cluster no-endpoints reject masquerade off
service del [fd00::10]:53/udp
restore 3 added, 1 changed, 0 deleted, 0 unchanged; 4 services, 4 backends" monitor
grep -qx "join group 7" "$FAKE_LOG" && ok "monitor joins the group" || not_ok "monitor: no join"
SVCJ='"address":"10.96.0.10","port":80,"protocol":"tcp","family":"inet"'
BEJ='"address":"10.244.1.5","port":8080,"weight":2'
output "{\"event\":\"flush\",\"generation\":$GEN}
{\"event\":\"service add\",\"generation\":$((GEN + 1)),\"service\":{$SVCJ,\"sched\":\"random\",\"affinity\":\"none\",\"affinity_timeout\":10800,\"traffic_policy\":\"cluster\",\"no_endpoints\":\"reject\",\"masquerade\":false,\"retry\":false,\"quarantine\":10}}
{\"event\":\"service change\",\"generation\":$((GEN + 2)),\"service\":{$SVCJ,\"sched\":\"maglev\",\"affinity\":\"none\",\"affinity_timeout\":10800,\"traffic_policy\":\"cluster\",\"no_endpoints\":\"reject\",\"masquerade\":true,\"retry\":false,\"quarantine\":10}}
{\"event\":\"backend add\",\"generation\":$((GEN + 3)),\"service\":{$SVCJ},\"backend\":{$BEJ,\"state\":\"ready\",\"local\":true}}
{\"event\":\"backend change\",\"generation\":$((GEN + 4)),\"service\":{$SVCJ},\"backend\":{$BEJ,\"state\":\"terminating\",\"local\":true}}
{\"event\":\"backend del\",\"generation\":$((GEN + 5)),\"service\":{$SVCJ},\"backend\":{$BEJ,\"state\":\"terminating\",\"local\":true}}
{\"event\":\"service add\",\"generation\":$((GEN + 6)),\"service\":{\"address\":\"fd00::10\",\"port\":53,\"protocol\":\"udp\",\"family\":\"inet6\",\"sched\":\"random\",\"affinity\":\"clientip\",\"affinity_timeout\":10800,\"traffic_policy\":\"cluster\",\"no_endpoints\":\"reject\",\"masquerade\":false,\"retry\":false,\"quarantine\":10}}
{\"event\":\"service del\",\"generation\":$((GEN + 7)),\"service\":{\"address\":\"fd00::10\",\"port\":53,\"protocol\":\"udp\",\"family\":\"inet6\"}}
{\"event\":\"restore\",\"generation\":$((GEN + 8)),\"restore\":{\"added\":3,\"changed\":1,\"deleted\":0,\"unchanged\":0,\"services\":4,\"backends\":4}}" -j monitor
unset FAKE_EVENTS
: >"$TMP/events"
output "" monitor
FAKE_NOGROUP=1 run monitor
[ $rc -eq 1 ] && [ "$errout" = 'kcipctl: the kernel'"'"'s family has no "monitor" multicast group' ] &&
	ok "monitor without the group" || not_ok "monitor without the group ($errout)"
rm -f "$TMP/events"

# ---- explain ----
succeeds service add 0.0.0.0:30080/tcp sched rr
succeeds backend add 0.0.0.0:30080/tcp 10.244.3.1:80
succeeds backend add 0.0.0.0:30080/tcp 10.244.3.2:80 state terminating
succeeds service add 10.96.0.12:80/tcp
succeeds backend add 10.96.0.12:80/tcp 10.244.4.1:80 state terminating
succeeds backend add 10.96.0.12:80/tcp 10.244.4.2:80 state terminating weight 3
succeeds backend add 10.96.0.12:80/tcp 10.244.4.3:80 state down
sent "EXPLAIN ex{ 1=0200 2=06 3=0a000001 5=9c40 6=0a60000a 8=0050 } -> 0" \
	explain tcp 10.0.0.1:40000 10.96.0.10:80
output "service 10.96.0.10:80/tcp (sched random, affinity none): a weighted random one of 1 ready backend" \
	explain tcp 10.0.0.1:40000 10.96.0.10:80
output "service 10.96.0.11:80/tcp (sched maglev, affinity clientip): backend 10.244.2.1:80 (maglev hash of the client address; 1 terminating backend (no ready one))" \
	explain tcp 10.0.0.1:40000 10.96.0.11:80
FAKE_AFFINITY=1 output "service 10.96.0.11:80/tcp (sched maglev, affinity clientip): backend 10.244.2.1:80 (client-IP affinity; 1 terminating backend (no ready one))" \
	explain tcp 10.0.0.1:40000 10.96.0.11:80
output "service 0.0.0.0:30080/tcp (NodePort entry, sched rr, affinity none): backend 10.244.3.1:80 (round robin, next in turn; 1 ready backend)" \
	explain tcp 192.168.1.10:5555 192.168.1.1:30080
output "service 10.96.0.12:80/tcp (sched random, affinity none): a weighted random one of 2 terminating backends (no ready one)" \
	explain tcp 10.0.0.1:1 10.96.0.12:80
output "service [fd00::10]:53/udp (sched rr, affinity clientip, traffic-policy local): backend [fd00:244::5]:5353 (round robin, next in turn; 1 ready local backend)" \
	explain udp '[fd00::1]:1000' '[fd00::10]:53'
succeeds backend change '[fd00::10]:53/udp' '[fd00:244::5]:5353' nonlocal
output "service [fd00::10]:53/udp (sched rr, affinity clientip, traffic-policy local): no endpoints (drop)" \
	explain udp '[fd00::1]:1000' '[fd00::10]:53'
succeeds service change '[fd00::10]:53/udp' no-endpoints reject
output "service [fd00::10]:53/udp (sched rr, affinity clientip, traffic-policy local): no endpoints (reject: ICMPv6 port unreachable)" \
	explain udp '[fd00::1]:1000' '[fd00::10]:53'
sent "EXPLAIN ex{ 1=0a00 2=11 4=fd000000000000000000000000000001 5=03e8 7=fd000000000000000000000000000010 8=0035 } -> 0" \
	explain udp '[fd00::1]:1000' '[fd00::10]:53'
succeeds service add 10.96.0.13:80/tcp sched rr retry on
succeeds backend add 10.96.0.13:80/tcp 10.244.5.1:80
succeeds backend add 10.96.0.13:80/tcp 10.244.5.2:80
output "service 10.96.0.13:80/tcp (sched rr, affinity none): backend 10.244.5.1:80 (round robin, next in turn; 2 ready backends)" \
	explain tcp 10.0.0.1:1 10.96.0.13:80
FAKE_QUARANTINED=1 output "service 10.96.0.13:80/tcp (sched rr, affinity none): backend 10.244.5.1:80 (round robin, next in turn; 2 ready backends, 1 of them quarantined and passed over)" \
	explain tcp 10.0.0.1:1 10.96.0.13:80
FAKE_QUARANTINED=2 output "service 10.96.0.13:80/tcp (sched rr, affinity none): backend 10.244.5.1:80 (round robin, next in turn; 2 ready backends, all quarantined: the first choice stands)" \
	explain tcp 10.0.0.1:1 10.96.0.13:80
FAKE_QUARANTINED=1 output '{"result":"backend","reason":"rr","nodeport":false,"affinity":false,"eligible":2,"state":"ready","quarantined":1,"service":{"address":"10.96.0.13","port":80,"protocol":"tcp","family":"inet","sched":"rr","affinity":"none","affinity_timeout":10800,"traffic_policy":"cluster","no_endpoints":"reject","masquerade":false,"retry":true,"quarantine":10},"backend":{"address":"10.244.5.1","port":80,"weight":1,"state":"ready","local":false}}' \
	-j explain tcp 10.0.0.1:1 10.96.0.13:80
succeeds service del 10.96.0.13:80/tcp
output "no service matches: the flow is not translated" explain sctp 10.0.0.1:1 10.96.0.10:80
output '{"result":"no_service","nodeport":false,"affinity":false}' -j explain sctp 10.0.0.1:1 10.96.0.10:80
output '{"result":"backend","reason":"rr","nodeport":true,"affinity":false,"eligible":1,"state":"ready","service":{"address":"0.0.0.0","port":30080,"protocol":"tcp","family":"inet","sched":"rr","affinity":"none","affinity_timeout":10800,"traffic_policy":"cluster","no_endpoints":"reject","masquerade":false,"retry":false,"quarantine":10},"backend":{"address":"10.244.3.1","port":80,"weight":1,"state":"ready","local":false}}' \
	-j explain tcp 192.168.1.10:5555 192.168.1.1:30080
output '{"result":"any","nodeport":false,"affinity":false,"eligible":2,"state":"terminating","service":{"address":"10.96.0.12","port":80,"protocol":"tcp","family":"inet","sched":"random","affinity":"none","affinity_timeout":10800,"traffic_policy":"cluster","no_endpoints":"reject","masquerade":false,"retry":false,"quarantine":10}}' \
	-j explain tcp 10.0.0.1:1 10.96.0.12:80
output '{"result":"no_endpoints","nodeport":false,"affinity":false,"eligible":0,"quarantined":0,"service":{"address":"fd00::10","port":53,"protocol":"udp","family":"inet6","sched":"rr","affinity":"clientip","affinity_timeout":60,"traffic_policy":"local","no_endpoints":"reject","masquerade":false,"retry":true,"quarantine":5}}' \
	-j explain udp '[fd00::1]:1000' '[fd00::10]:53'
FAKE_AFFINITY=1 output '{"result":"backend","reason":"affinity","nodeport":false,"affinity":true,"eligible":1,"state":"terminating","service":{"address":"10.96.0.11","port":80,"protocol":"tcp","family":"inet","sched":"maglev","affinity":"clientip","affinity_timeout":10800,"traffic_policy":"cluster","no_endpoints":"reject","masquerade":true,"retry":false,"quarantine":10},"backend":{"address":"10.244.2.1","port":80,"weight":65535,"state":"terminating","local":false}}' \
	-j explain tcp 10.0.0.1:40000 10.96.0.11:80

# ---- -b FILE: one command per line ----
fails '-f (--force) goes with -b FILE' -f show
fails "unexpected \"show\" after -b FILE: the commands are FILE's lines" -b - show
fails 'cannot open /nonexistent: No such file or directory' -b /nonexistent
B=10.96.0.20:80/tcp
cat >"$TMP/batch" <<EOF
# a comment, then a blank line

service add $B sched rr
backend add $B 10.244.6.1:80   # and a comment after a command
service add $B
backend add $B 10.244.6.2:80
EOF
# without -f: stops at line 5, line 6 is not sent
: >"$FAKE_LOG"
run -b "$TMP/batch"
if [ $rc -eq 1 ] && [ "$errout" = "kcipctl: $TMP/batch:5: Service already exists
kcipctl: $TMP/batch:5: command failed" ] && grep -q 'be{ 1=0af40601 ' "$FAKE_LOG" &&
   ! grep -q '0af40602' "$FAKE_LOG"; then
	ok "batch: the lines before the failed one applied, none after it, the error says where"
else
	not_ok "batch without -f (rc $rc, stderr '$errout')"
	sed 's/^/# sent: /' "$FAKE_LOG"
fi
succeeds service del $B
# with -f: every line runs, the exit status still says one failed
: >"$FAKE_LOG"
run -f -b "$TMP/batch"
if [ $rc -eq 1 ] && [ "$(grep -c 'command failed' "$TMP/err")" -eq 1 ] &&
   grep -q '0af40602' "$FAKE_LOG"; then
	ok "batch -f: goes on after a failed line, exits 1"
else
	not_ok "batch -f (rc $rc, stderr '$errout')"
fi
succeeds service del $B
# from stdin, with the global options on every line; "restore -" cannot
# read the batch's own input
printf 'service add %s\nservice show %s\nrestore -\n' "$B" "$B" >"$TMP/batch2"
if [ -n "$FAKE" ]; then
	LD_PRELOAD=$FAKE "$KCIPCTL" -j -b - <"$TMP/batch2" >"$TMP/out" 2>"$TMP/err"
else
	"$KCIPCTL" -j -b - <"$TMP/batch2" >"$TMP/out" 2>"$TMP/err"
fi
rc=$?
if [ $rc -eq 1 ] && grep -qF '"services":[{"address":"10.96.0.20","port":80,"protocol":"tcp"' "$TMP/out" &&
   [ "$(cat "$TMP/err")" = "kcipctl: <stdin>:3: standard input holds the batch: restore FILE instead
kcipctl: <stdin>:3: command failed" ]; then
	ok "batch from stdin: -j applies to its lines; restore - is refused"
else
	not_ok "batch from stdin (rc $rc, stdout '$(cat "$TMP/out")', stderr '$(cat "$TMP/err")')"
fi
succeeds service del $B

if command -v valgrind >/dev/null; then
	printf 'service add 10.96.0.10:80/tcp\nservice add 10.96.0.10:80/tcp\n' >"$TMP/dup"
	for args in "-j -s show" "service add $SVC" "service add $SVC bogus" \
		    "service add $SVC" "backend add $SVC 10.1.1.1:1" "show x" \
		    "save" "-s restore $TMP/save1" "-j restore $TMP/big" \
		    "restore $TMP/dup" "restore $TMP/bad" "restore /nonexistent" \
		    "-j explain tcp 10.0.0.1:1 10.96.0.11:80" \
		    "explain tcp 10.0.0.1:1 10.96.0.99:80" "explain tcp 1.1.1.1:1" \
		    "monitor" "-j monitor" "-f -b $TMP/batch"; do
		# shellcheck disable=SC2086
		LD_PRELOAD=$FAKE FAKE_SPLIT=1 FAKE_REFUSE_PORT=80 valgrind -q --leak-check=full \
			--errors-for-leak-kinds=all --error-exitcode=99 \
			"$KCIPCTL" $args >/dev/null 2>"$TMP/vg"
		[ $? -ne 99 ] && ok "valgrind: $args" ||
			{ not_ok "valgrind: $args"; sed 's/^/# /' "$TMP/vg"; }
	done
fi

echo "1..$n"
[ $failed -eq 0 ]

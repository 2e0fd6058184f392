#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Conntrack lifecycle, IPv4 and IPv6: the "stale UDP flow blackholes DNS"
# case, with no userspace conntrack sweep.
#
# UDP: a DNS-like server on be1 and be2 answering with its name, and a
# client that keeps ONE source port, sending a query every 0.2 s:
#  - answered by be1 (the only backend at first), also after be2 is added;
#  - "backend del" be1: conntrack on the node has no entry to be1 left at
#    once, and the very next query (answered within a second) and all
#    after it are answered by be2;
#  - be1 added back, "state down" for be2: the same, back to be1;
#  - "service del": the Service's UDP entries are gone from conntrack.
# TCP: an established connection (be1)
#  - survives "backend del" of be1 without flush, its conntrack entry stays;
#  - with be1 added back, "backend del ... flush" removes the entry and the
#    connection breaks.
# SCTP (IPv4, when the kernel has SCTP): an association's entry is removed
# when its backend is deleted.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_k8s.sh"

kcip_require
checktool "conntrack -V" "run test without conntrack"
SCTP=1
modprobe -q sctp 2> /dev/null
[ -d /proc/sys/net/sctp ] || SCTP=
setup_topo 2
servers udp 5353 --idle 0.001 -- 1 2 || ksft_exit
servers tcp 8080 --lines -- 1 2 || ksft_exit
[ -n "$SCTP" ] && { servers sctp 9090 -- 1 2 || ksft_exit; }

{
	for vip in "$VIP4" "$VIP6"; do
		svc_lines "$vip" 53 udp 5353 1
		svc_lines "$vip" 80 tcp 8080 1
	done
	[ -n "$SCTP" ] && svc_lines "$VIP4" 90 sctp 9090 "1 2"
} | kcip_load "$node" || ksft_exit

STOP=$(mktemp_file)

# ct_is DESC FAM PROTO VIP N OP WANT: conntrack entries VIP -> beN
ct_is()
{
	local desc=$1 fam=$2 proto=$3 vip=$4 n=$5 op=$6 want=$7 l

	ct_count "$node" "$fam" "$proto" "$vip" "$(be_of "$n" "$fam")"
	if test "$REPLY" "$op" "$want"; then
		pass "$desc: $REPLY conntrack entries $vip -> be$n"
		return 0
	fi
	fail "$desc: $REPLY conntrack entries $vip -> be$n, want $op $want"
	for l in "${CT[@]:0:4}"; do
		echo "#   $l"
	done
	return 1
}

# moves_at_once DESC OUT T1 FROM TO: the queries the UDP flow of OUT sent
# after T1 (the change was made) are answered by beTO, the first one
# within a second, and none by beFROM
moves_at_once()
{
	local desc=$1 out=$2 t1=$3 from=$4 to=$5 dt

	udploop_wait_for "$out" "be$to" 10000
	udploop_run_for "$out" "$t1" 1
	udploop_after "$out" "$t1"
	dt=${FIRST[be$to]}
	if [ -n "$dt" ] && flt_lt "$dt" 1.0 && [ -z "${FIRST[be$from]}" ]; then
		pass "$desc: the same source port answered by be$to ${dt}s later ($REPLY)"
	else
		fail "$desc: first answer from be$to ${dt:-never}s later; answers since: $REPLY"
	fi
}

udp_family()
{
	local fam=$1 vip=$2 out pid t0

	log "$fam udp: one client source port, be1"
	rm -f "$STOP"
	out=$(mktemp_file)
	start_udploop "$client" "$vip" 53 5300 "$out" "$STOP"
	pid=$!
	if ! udploop_wait_for "$out" be1 30000; then
		file_last "$out"
		fail "$fam udp: not answered by be1: $REPLY"
	fi
	beop "$node" add "$vip" 53 udp 5353 2 || fail "$fam: backend add be2"
	t0=$(now)
	udploop_run_for "$out" "$t0" 1
	udploop_after "$out" "$t0"
	answered_only "$REPLY" be1 && pass "$fam udp: flow stays on be1 when be2 is added ($REPLY)" ||
		fail "$fam udp: after be2 was added: $REPLY, want be1 only"
	ct_is "$fam udp: before backend del" "$fam" udp "$vip" 1 -eq 1

	log "$fam udp: backend del be1"
	beop "$node" del "$vip" 53 udp 5353 1 || fail "$fam: backend del be1"
	t0=$(now)
	ct_is "$fam udp: right after backend del be1, no userspace sweep" "$fam" udp "$vip" 1 -eq 0
	moves_at_once "$fam udp: backend del be1" "$out" "$t0" 1 2
	ct_is "$fam udp: the flow's new entry" "$fam" udp "$vip" 2 -eq 1

	log "$fam udp: be1 back, be2 state down"
	beop "$node" add "$vip" 53 udp 5353 1 || fail "$fam: backend add be1"
	beop "$node" change "$vip" 53 udp 5353 2 state down || fail "$fam: backend change be2 down"
	t0=$(now)
	ct_is "$fam udp: right after be2 state down" "$fam" udp "$vip" 2 -eq 0
	moves_at_once "$fam udp: be2 state down" "$out" "$t0" 2 1

	touch "$STOP"
	wait "$pid"
	log "$fam udp: service del"
	ct_is "$fam udp: before service del" "$fam" udp "$vip" 1 -eq 1
	kcip -n "$node" service del "$(svc "$vip" 53 udp)" || fail "$fam: service del"
	ct_is "$fam udp: after service del" "$fam" udp "$vip" 1 -eq 0
}

tcp_family()
{
	local fam=$1 vip=$2 out pid rc

	log "$fam tcp: an established connection to be1"
	rm -f "$STOP"
	out=$(mktemp_file)
	start_long "$out" "$STOP" "$client" "$vip" 80
	pid=$!
	if ! long_started "$out" be1; then
		fail "$fam tcp: long connection to be1 did not start: $(head -n 2 "$out" | tr '\n' ' ')"
		return
	fi
	beop "$node" add "$vip" 80 tcp 8080 2 &&
	beop "$node" del "$vip" 80 tcp 8080 1 || fail "$fam tcp: backend add be2, del be1"
	ct_is "$fam tcp: after backend del be1 (no flush)" "$fam" tcp "$vip" 1 -eq 1
	expect_long "$fam tcp: after backend del be1 (no flush)" "$out" be1

	log "$fam tcp: be1 back, then backend del be1 flush"
	beop "$node" add "$vip" 80 tcp 8080 1 &&
	beop "$node" del "$vip" 80 tcp 8080 1 flush || fail "$fam tcp: backend add be1, del be1 flush"
	ct_is "$fam tcp: after backend del be1 flush" "$fam" tcp "$vip" 1 -eq 0
	if k8s_wait 20000 eval "! kill -0 $pid 2> /dev/null"; then
		wait "$pid"
		rc=$?
		file_last "$out"
		if [ $rc -eq 0 ]; then
			fail "$fam tcp: connection survived backend del flush: $REPLY"
		else
			pass "$fam tcp: backend del flush broke the connection ($REPLY)"
		fi
	else
		fail "$fam tcp: connection still running 20 s after backend del flush"
	fi
}

udp_family ipv4 "$VIP4"
udp_family ipv6 "$VIP6"
tcp_family ipv4 "$VIP4"
tcp_family ipv6 "$VIP6"

if [ -n "$SCTP" ]; then
	log "ipv4 sctp: an association, its backend deleted"
	rm -f "$STOP"
	out=$(mktemp_file)
	k8s_py "$client" hold --proto sctp --stop "$STOP" "$VIP4" 90 > "$out" 2>&1 &
	pid=$!
	BG_PIDS+=($pid)
	if k8s_wait 30000 file_has "$out" '^connected be'; then
		file_last "$out"
		n=${REPLY#connected be}
		n=${n%% *}
		ct_is "ipv4 sctp: association to be$n" ipv4 sctp "$VIP4" "$n" -eq 1
		beop "$node" del "$VIP4" 90 sctp 9090 "$n" || fail "sctp: backend del be$n"
		ct_is "ipv4 sctp: right after backend del be$n" ipv4 sctp "$VIP4" "$n" -eq 0
	else
		fail "ipv4 sctp: no association: $(cat "$out")"
	fi
	touch "$STOP"
	wait "$pid"
else
	log_info "no SCTP in this kernel: SCTP case skipped"
fi

dmesg_check
ksft_exit

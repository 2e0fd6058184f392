#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Retry (passive health), a backend that drops SYNs silently (an nft rule
# in be2: "tcp dport 8080 drop"; no RST, no ICMP: only the client's SYN
# retransmission tells).  Seen from the client:
#  - retry off (sched rr, so that every third connection goes to be2):
#    those connections time out;
#  - retry on: $N connections (IPv4; $N6 IPv6) all succeed, none answered
#    by be2, none sending its SYN more than twice (moved at the client's
#    first retransmission, 1 s);
#  - with sched maglev: the connections whose Maglev choice (kcipctl
#    explain, before) was be2 land on another backend, the one explain
#    gives once be2 is quarantined (the next entry of the table); every
#    other connection keeps its Maglev backend.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_retry.sh"

N=${KCIP_RETRY_N:-100}
N6=${KCIP_RETRY_N6:-20}
NMAGLEV=${KCIP_RETRY_NMAGLEV:-24}

kcip_require
checktool "nft --version" "run test without nft"
setup_topo 3
start_servers tcp $RPORT

log "be2 drops SYNs to $RPORT"
be_nft 2 drop || fail "nft drop rule in be2"

# timeouts FAMILY ADDR: retry off, rr: the connections to be2 time out
timeouts()
{
	local sum

	kcip -n "$node" service change "$S" sched rr retry off || fail "$1: service change"
	sum=$(rflows "$client" tcp "$2" 80 6 --timeout 2 | tail -n 1)
	if [ "$(sumval "$sum" timeout)" -eq 2 ] && [ "$(sumval "$sum" ok)" -eq 4 ]; then
		pass "$1 retry off: the 2 connections of 6 sent to be2 time out ($sum)"
	else
		fail "$1 retry off: want 2 timeouts, 4 answered ($sum)"
	fi
}

log "ipv4, retry off"
retry_service "$VIP4" tcp
timeouts ipv4 "$VIP4"
log "ipv4, retry on: $N connections"
kcip -n "$node" service change "$S" sched random retry on || fail "service change retry on"
sum=$(rflows "$client" tcp "$VIP4" 80 "$N" | tail -n 1)
all_ok "ipv4 retry on" "$sum" 2
not_to "ipv4 retry on" "$sum" be2
[ "$(sumval "$sum" resent)" -ge 1 ] &&
	pass "ipv4 retry on: $(sumval "$sum" resent) connection(s) answered after a SYN retransmission" ||
	fail "ipv4 retry on: no connection sent its SYN again: did any go to be2? ($sum)"

log "ipv6, retry on: $N6 connections"
retry_service "$VIP6" tcp retry on
sum=$(rflows "$client" tcp "$VIP6" 80 "$N6" | tail -n 1)
all_ok "ipv6 retry on" "$sum" 2
not_to "ipv6 retry on" "$sum" be2
log "ipv6, retry off"
timeouts ipv6 "$VIP6"

# ------------------------------------------------------------------ maglev

log "maglev, retry on: $NMAGLEV connections from fixed source ports"
kcip -n "$node" flush || fail "flush"
retry_service "$VIP4" tcp sched maglev retry on quarantine 300

# explained SPORT...: "SPORT NAME" per source port, the backend kcipctl
# explain gives a new flow from $CLIENT4:SPORT
explained()
{
	local p a

	for p in "$@"; do
		a=$(kcip -n "$node" -j explain tcp "$CLIENT4:$p" "$VIP4:80" |
		    sed -n 's/.*"backend":{"address":"\([^"]*\)".*/\1/p')
		echo "$p be${a:7:1}"
	done
}

SP=21000
before=$(explained $(seq $SP $((SP + NMAGLEV - 1))))
nbe2=$(echo "$before" | grep -c ' be2$')
nother=$(echo "$before" | grep -c ' be[13]$')
if [ "$nbe2" -ge 1 ] && [ "$((nbe2 + nother))" -eq "$NMAGLEV" ]; then
	pass "maglev: explain sends $nbe2 of $NMAGLEV flows to be2, the others to be1/be3"
else
	fail "maglev: explain: $nbe2 flows to be2, $nother to be1/be3, of $NMAGLEV"
	echo "$before" | sed 's/^/#   /'
fi

flog=$(mktemp_file)
sum=$(rflows "$client" tcp "$VIP4" 80 "$NMAGLEV" --sport $SP --log "$flog" | tail -n 1)
all_ok "maglev retry on" "$sum" 2
# explain again for be2's flows (for the others, the client's view is
# compared with explain's of before)
# shellcheck disable=SC2046 # one port a word
after=$(explained $(echo "$before" | awk '$2 == "be2" { print $1 }'))
now=$({ echo "$before" | grep -v ' be2$'; echo "$after"; } | grep -v '^$' | sort)

# per source port: Maglev's choice before, explain's now (the same for
# be1/be3's), who answered the client
joined=$(join <(echo "$before") <(echo "$now") | join - <(awk '{ print $2, $6 }' "$flog" | sort))
bad=$(echo "$joined" |
      awk '$2 != "be2" && ($3 != $2 || $4 != $2) { print "port " $1 ": maglev " $2 ", explain now " $3 ", answered by " $4 }
	   $2 == "be2" && ($3 == "be2" || $4 != $3) { print "port " $1 ": maglev be2, explain now " $3 ", answered by " $4 }')
[ "$(echo "$joined" | grep -c .)" -eq "$NMAGLEV" ] ||
	bad="$bad${bad:+$'\n'}only $(echo "$joined" | grep -c .) of $NMAGLEV flows seen"
if [ -z "$bad" ]; then
	pass "maglev: flows of be2 moved to the next table entry ($nbe2), the others kept their backend"
else
	fail "maglev: flows not where Maglev puts them"
	echo "$bad" | head -n 20 | sed 's/^/#   /'
fi

dmesg_check
ksft_exit

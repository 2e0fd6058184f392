#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kcipctl save / restore / monitor, and the generation number:
#  - "save" prints "service add"/"backend add" lines that, restored after a
#    flush or into a new netns, give back exactly the same state (options,
#    weights, states, local flags, IPv4 and IPv6);
#  - "restore" makes the state exactly the file's: what is not in the file
#    goes, from a file or stdin;
#  - a restore with one line the kernel refuses changes nothing;
#  - "monitor" prints one line per change, naming the object, and none
#    for a restore that changes nothing (which keeps the generation);
#  - the generation grows with every change and only then.

source "$(dirname "$0")/lib.sh"

kcip_require
setup_ns node other

S1=10.96.0.10:80/tcp
S2='[fd00:96::10]:53/udp'
S3=10.96.0.11:443/tcp
kcip -n "$node" service add "$S1" sched rr &&
kcip -n "$node" backend add "$S1" 10.244.1.2:8080 &&
kcip -n "$node" backend add "$S1" 10.244.2.2:8080 weight 3 state terminating &&
kcip -n "$node" backend add "$S1" 10.244.3.2:8080 weight 0 local &&
kcip -n "$node" service add "$S2" no-endpoints drop sched maglev &&
kcip -n "$node" backend add "$S2" '[fd00:244:1::2]:8053' state down &&
kcip -n "$node" backend add "$S2" '[fd00:244:2::2]:8053' weight 7 &&
kcip -n "$node" service add "$S3" affinity clientip timeout 600 masquerade on ||
	{ fail "setup"; ksft_exit; }

STATE0=$(state_of "$node")
SAVED=$(mktemp_file)
if kcip -n "$node" save > "$SAVED" && [ -s "$SAVED" ]; then
	pass "save: $(wc -l < "$SAVED") lines"
	sed 's/^/#   /' "$SAVED"
else
	fail "save"
	ksft_exit
fi
if grep -v -E '^(service add|backend add) ' "$SAVED" | grep -q -v -E '^(#|$)'; then
	fail "save prints lines other than service add / backend add"
fi

kcip -n "$node" flush
[ "$(kcip_nservices "$node")" -eq 0 ] || fail "flush left Services"
if kcip -n "$node" restore "$SAVED" && [ "$(state_of "$node")" = "$STATE0" ]; then
	pass "restore after flush gives back the same state"
else
	fail "restore after flush: state differs"
	log "before: $STATE0"
	log "after:  $(state_of "$node")"
fi

if kcip -n "$other" restore - < "$SAVED" && [ "$(state_of "$other")" = "$STATE0" ]; then
	pass "restore from stdin into another netns gives the same state"
else
	fail "restore from stdin into another netns: state differs"
fi

log "restore makes the state exactly the file's"
kcip -n "$other" service add 10.96.0.99:99/udp &&
kcip -n "$other" backend add "$S1" 10.244.9.9:8080 &&
kcip -n "$other" backend change "$S1" 10.244.1.2:8080 weight 9 &&
kcip -n "$other" service del "$S3" || fail "changes in other"
if kcip -n "$other" restore "$SAVED" && [ "$(state_of "$other")" = "$STATE0" ]; then
	pass "restore removed, re-added and reset what differed"
else
	fail "restore did not make the state the file's"
	log "want: $STATE0"
	log "got:  $(state_of "$other")"
fi

log "restore is all or nothing"
BAD=$(mktemp_file)
{
	echo "service add 10.96.0.50:80/tcp"
	echo "backend add 10.96.0.50:80/tcp 10.244.1.2:8080"
	cat "$SAVED"
	echo "backend add 10.96.0.50:80/tcp 10.244.1.2:8080"
} > "$BAD"
gen=$(generation_of "$node")
if kcip -n "$node" restore "$BAD" 2> /dev/null; then
	fail "restore with a duplicate backend line accepted"
else
	pass "restore with a duplicate backend line refused"
fi
[ "$(state_of "$node")" = "$STATE0" ] && pass "state unchanged after the refused restore" ||
	fail "a refused restore changed the state"
[ "$(generation_of "$node")" = "$gen" ] && pass "generation unchanged after the refused restore" ||
	fail "generation moved ($gen -> $(generation_of "$node")) on a refused restore"

log "monitor"
MON=$(mktemp_file)
ip netns exec "$node" "$KCIPCTL" monitor > "$MON" 2>&1 &
MONPID=$!
BG_PIDS+=($MONPID)
# make sure it is listening: a change it must see, then wait for it
sleep 1
gen=$(generation_of "$node")
kcip -n "$node" service add 10.96.0.77:77/tcp &&
kcip -n "$node" backend add 10.96.0.77:77/tcp 10.244.7.7:7070 weight 2 &&
kcip -n "$node" backend change 10.96.0.77:77/tcp 10.244.7.7:7070 state down &&
kcip -n "$node" service change 10.96.0.77:77/tcp sched rr &&
kcip -n "$node" backend del 10.96.0.77:77/tcp 10.244.7.7:7070 &&
kcip -n "$node" service del 10.96.0.77:77/tcp || fail "changes for monitor"
busywait 10000 sh -c "[ \$(grep -c 10.96.0.77 $MON) -ge 6 ]" > /dev/null
# a restore of the state as it is changes nothing: no event, same generation
kcip -n "$node" save | kcip -n "$node" restore - > /dev/null ||
	fail "save | restore for monitor"
sleep 1
kill "$MONPID" 2> /dev/null
wait "$MONPID" 2> /dev/null
sed 's/^/#   /' "$MON"
ok=1
for re in '^service add 10\.96\.0\.77:77/tcp' \
	  '^backend add 10\.96\.0\.77:77/tcp 10\.244\.7\.7:7070' \
	  '^backend change 10\.96\.0\.77:77/tcp 10\.244\.7\.7:7070.*down' \
	  '^service change 10\.96\.0\.77:77/tcp.*rr' \
	  '^backend del 10\.96\.0\.77:77/tcp 10\.244\.7\.7:7070' \
	  '^service del 10\.96\.0\.77:77/tcp'; do
	grep -q -E "$re" "$MON" || { fail "monitor: no line matching /$re/"; ok=0; }
done
[ $ok = 1 ] && pass "monitor printed one line per change"
g2=$(generation_of "$node")
[ "$g2" -eq $((gen + 6)) ] && pass "generation grew by 6 over 6 changes and a no-op restore" ||
	fail "generation grew from $gen to $g2 over 6 changes and a no-op restore"
n=$(grep -c . "$MON")
[ "$n" -eq 6 ] && pass "monitor: nothing but the 6 changes (no event for the no-op restore)" ||
	fail "monitor: $n lines for 6 changes and a no-op restore"
[ "$(state_of "$node")" = "$STATE0" ] || fail "state not back to the saved one"

dmesg_check
ksft_exit

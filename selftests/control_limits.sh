#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kcip-test: exclusive (writes the module parameters max_services and max_backends)
#
# Per-netns limits, module parameters writable at run time under
# /sys/module/kclusterip/parameters, set here to max_services=5 and
# max_backends=12 (and put back on exit):
#  - the 6th "service add" fails, exit status non-zero, with a message
#    naming max_services; the kernel's answer is ENOSPC (seen on the
#    family directly); the 13th backend likewise, naming max_backends;
#  - a restore of 6 Services, or of 13 backends, fails naming the limit and
#    the file's line, and changes nothing (save, generation);
#  - a restore to 5 other Services with 12 backends works: the limits bound
#    the state a restore makes, not old + new;
#  - another netns has limits of its own;
#  - a raised limit takes effect at once; a limit lowered below what a netns
#    holds keeps what is there, refuses more (add and restore) and lets
#    deletes through.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_control.sh"

PARAMS=/sys/module/kclusterip/parameters

kcip_require
[ -w "$PARAMS/max_services" ] && [ -w "$PARAMS/max_backends" ] ||
	skip "cannot write $PARAMS/max_services and max_backends"
OLD_SVC=$(cat "$PARAMS/max_services")
OLD_BE=$(cat "$PARAMS/max_backends")

put_back()
{
	echo "$OLD_SVC" > "$PARAMS/max_services"
	echo "$OLD_BE" > "$PARAMS/max_backends"
}
trap 'put_back; cleanup' EXIT

setup_ns a b
echo 5 > "$PARAMS/max_services" && echo 12 > "$PARAMS/max_backends" ||
	{ fail "cannot set the limits"; ksft_exit; }
log_info "max_services $(cat "$PARAMS/max_services") (was $OLD_SVC), max_backends $(cat "$PARAMS/max_backends") (was $OLD_BE)"

svcn() { echo "10.96.0.$1:80/tcp"; }

# over_limit WHAT PARAM cmd...: cmd fails, non-zero status, its message
# names PARAM
over_limit()
{
	local what=$1 param=$2 out rc
	shift 2

	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && [[ "$out" == *"$param"* ]]; then
		pass "$what refused (status $rc): $out"
	else
		fail "$what: status $rc, '$out' (want failure naming $param)"
	fi
}

# counts NS: "SERVICES BACKENDS" as save prints them
counts()
{
	kcip -n "$1" save | awk '$1 == "service" { s++ } $1 == "backend" { b++ } END { print s + 0, b + 0 }'
}

log "max_services=5"
ok=1
for i in 1 2 3 4 5; do
	kcip -n "$a" service add "$(svcn "$i")" || ok=0
done
[ $ok = 1 ] && pass "5 Services added" || fail "adding 5 Services"
gen=$(generation_of "$a")
over_limit "6th service add" max_services kcip -n "$a" service add "$(svcn 6)"
out=$(kcip_nl "$a" add-service "$(svcn 6)")
[[ "$out" == "errno ENOSPC: "*max_services* ]] &&
	pass "the kernel answers the 6th SERVICE_NEW with $out" ||
	fail "SERVICE_NEW over max_services: $out (want ENOSPC)"

log "max_backends=12"
ok=1
for i in 1 2 3 4; do
	for j in 1 2 3; do
		kcip -n "$a" backend add "$(svcn "$i")" "10.244.$j.2:$((8080 + i))" || ok=0
	done
done
[ $ok = 1 ] && pass "12 backends added over 4 Services" || fail "adding 12 backends"
gen=$(generation_of "$a")
over_limit "13th backend add" max_backends kcip -n "$a" backend add "$(svcn 5)" 10.244.1.2:8080
out=$(kcip_nl "$a" add-backend "$(svcn 5)" 10.244.1.2:8080)
[[ "$out" == "errno ENOSPC: "*max_backends* ]] &&
	pass "the kernel answers the 13th BACKEND_NEW with $out" ||
	fail "BACKEND_NEW over max_backends: $out (want ENOSPC)"
[ "$(counts "$a")" = "5 12" ] && pass "state: 5 Services, 12 backends" ||
	fail "state after the refused adds: $(counts "$a") (want 5 12)"
[ "$(generation_of "$a")" = "$gen" ] && pass "refused adds did not move the generation" ||
	fail "generation $gen -> $(generation_of "$a") over refused adds"

log "restores over the limits"
SAVE0=$(mktemp_file)
kcip -n "$a" save > "$SAVE0"
gen=$(generation_of "$a")

# refused_restore WHAT PARAM LINE FILE: restore FILE fails naming PARAM and
# FILE:LINE, and changes nothing
refused_restore()
{
	local what=$1 param=$2 line=$3 file=$4 out

	if out=$(kcip -n "$a" restore "$file" 2>&1); then
		fail "$what: restore accepted"
	elif [[ "$out" == *"$param"* ]] && [[ "$out" == *"$file:$line: "* ]]; then
		pass "$what: refused: $out"
	else
		fail "$what: '$out' (want $file:$line: ... $param)"
	fi
	cmp -s "$SAVE0" <(kcip -n "$a" save) && [ "$(generation_of "$a")" = "$gen" ] &&
		pass "$what: state and generation unchanged" ||
		fail "$what: the state changed"
}

R6=$(mktemp_file)
for i in 1 2 3 4 5 6; do
	echo "service add $(svcn $((10 + i)))"
done > "$R6"
refused_restore "restore of 6 Services" max_services 6 "$R6"

R13=$(mktemp_file)
{
	for i in 1 2 3 4 5; do
		echo "service add $(svcn $((10 + i)))"
	done
	for j in $(seq 1 13); do
		echo "backend add $(svcn 15) 10.244.1.$j:8080"
	done
} > "$R13"
# the kernel refuses the Service that carries the 13th backend: line 5
refused_restore "restore of 13 backends" max_backends 5 "$R13"

R5=$(mktemp_file)
head -n 17 "$R13" > "$R5"	# 5 Services, 12 backends
out=$(kcip -n "$a" -s restore "$R5" 2>&1)
[ "$(restore_summary "$out")" = "5 0 5 0 5 12" ] &&
	pass "restore of 5 other Services with 12 backends (the limit bounds the new state): $out" ||
	fail "restore of 5 other Services with 12 backends: $out"

log "limits are per netns"
ok=1
for i in 1 2 3 4 5; do
	kcip -n "$b" service add "$(svcn "$i")" || ok=0
done
[ $ok = 1 ] && pass "another netns holds 5 Services of its own" ||
	fail "another netns could not add 5 Services"
over_limit "6th service add in the other netns" max_services kcip -n "$b" service add "$(svcn 6)"

log "changing the limits at run time"
echo 6 > "$PARAMS/max_services"
kcip -n "$b" service add "$(svcn 6)" && pass "max_services=6: a 6th Service goes in" ||
	fail "max_services=6: 6th service add refused"
echo 3 > "$PARAMS/max_services"
[ "$(counts "$b")" = "6 0" ] && pass "max_services=3: the 6 Services there stay" ||
	fail "max_services=3: state is $(counts "$b")"
over_limit "service add over a lowered limit" max_services kcip -n "$b" service add "$(svcn 7)"
SAVEB=$(mktemp_file)
kcip -n "$b" save > "$SAVEB"
out=$(kcip -n "$b" restore "$SAVEB" 2>&1) &&
	fail "restore of 6 Services over max_services=3 accepted" ||
	{ [[ "$out" == *max_services* ]] && pass "restore of the saved 6 Services over max_services=3 refused: $out" ||
	  fail "restore over a lowered limit: $out"; }
cmp -s "$SAVEB" <(kcip -n "$b" save) && pass "... and changed nothing" ||
	fail "refused restore changed the state"
kcip -n "$b" service del "$(svcn 6)" && kcip -n "$b" service del "$(svcn 5)" &&
	pass "deletes go through over a lowered limit" || fail "service del over a lowered limit"

put_back
[ "$(cat "$PARAMS/max_services") $(cat "$PARAMS/max_backends")" = "$OLD_SVC $OLD_BE" ] &&
	pass "limits put back: max_services $OLD_SVC, max_backends $OLD_BE" ||
	fail "could not put the limits back"
kcip -n "$a" service add "$(svcn 99)" && pass "adds work again once the limits are back" ||
	fail "service add after the limits were put back"

dmesg_check
ksft_exit

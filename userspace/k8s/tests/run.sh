#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kcip-k8s-sync tests that need no kernel module (TAP output).
#
#   k8s/tests/run.sh ./k8s/kcip-k8s-sync ./kcipctl ./tests/fakekernel.so
#
# The fixtures (*.json) are Kubernetes objects as kubectl and the API
# server print them; node-a is "this node".
#  1. --dry-run of each full-sync fixture prints FIXTURE.expected (the
#     `kcipctl save` lines of the state) and, on stderr, FIXTURE.stderr.
#  2. The same for real, against kcipctl's fake kernel family: one restore
#     transaction, after which `kcipctl save` prints FIXTURE.expected, and
#     a second run changes nothing.
#  3. Watch streams: --dry-run prints the restore, then each event and the
#     requests it makes (watch*.expected); for real, the state ends as
#     watch.final, with single requests after the one restore; a request
#     the kernel refuses leads to a full sync that puts things right.
#  4. Bad input: messages, exit status 1, nothing sent.

set -u

SYNC=$(realpath "$1")
KCIPCTL=$(realpath "$2")
FAKE=$(realpath "$3")
DIR=$(cd "$(dirname "$0")" && pwd)

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export FAKE_STATE=$TMP/state FAKE_LOG=$TMP/log

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }

# diff_ok "what" EXPECTED_FILE ACTUAL_FILE
diff_ok()
{
	if diff -u "$2" "$3" >"$TMP/diff"; then
		ok "$1"
	else
		not_ok "$1"
		sed 's/^/# /' "$TMP/diff"
	fi
}

fake() { LD_PRELOAD=$FAKE "$@"; }
fresh() { rm -f "$FAKE_STATE" "$FAKE_LOG"; }

cd "$DIR" || exit 1

FULL="clusterip nodeport-dualstack loadbalancer traffic-policy headless selectorless malformed typed-lists conflict"

# ---- 1. dry run ----
for f in $FULL; do
	"$SYNC" --node node-a --dry-run "$f.json" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ $rc -eq 0 ] && ok "$f: dry run exits 0" || not_ok "$f: dry run exits $rc"
	diff_ok "$f: dry run prints $f.expected" "$f.expected" "$TMP/out"
	if [ -e "$f.stderr" ]; then
		diff_ok "$f: messages" "$f.stderr" "$TMP/err"
	else
		diff_ok "$f: no messages" /dev/null "$TMP/err"
	fi
done

# ---- 2. for real, against the fake kernel ----
for f in $FULL; do
	fresh
	# a stale entry from before: the sync removes it
	fake "$KCIPCTL" service add 10.96.255.1:80/tcp
	: >"$FAKE_LOG"
	fake "$SYNC" --node node-a "$f.json" >"$TMP/out" 2>/dev/null
	rc=$?
	fake "$KCIPCTL" save >"$TMP/save"
	[ $rc -eq 0 ] && [ "$(grep -c '^RESTORE_BEGIN' "$FAKE_LOG")" -eq 1 ] &&
		[ "$(grep -c '^RESTORE_COMMIT -> 0' "$FAKE_LOG")" -eq 1 ] &&
		! grep -q -E '^(SERVICE|BACKEND)_(NEW|SET|DEL)' "$FAKE_LOG" &&
		grep -q '^restore: .* 1 deleted' "$TMP/out" &&
		ok "$f: one restore transaction" ||
		{ not_ok "$f: one restore transaction (rc $rc)"; sed 's/^/# /' "$TMP/out" "$FAKE_LOG"; }
	diff_ok "$f: kcipctl save after the sync" "$f.expected" "$TMP/save"
	fake "$SYNC" --node node-a "$f.json" >"$TMP/out" 2>/dev/null
	grep -q '^restore: 0 added, 0 changed, 0 deleted, ' "$TMP/out" &&
		ok "$f: a second sync changes nothing" ||
		{ not_ok "$f: a second sync changes nothing"; sed 's/^/# /' "$TMP/out"; }
done

# every fixture at once, each input a file: the union of their states
fresh
for f in $FULL; do cat "$f.expected"; done | fake "$KCIPCTL" restore -
fake "$KCIPCTL" save >"$TMP/union"
fresh
# shellcheck disable=SC2046
fake "$SYNC" --node node-a $(for f in $FULL; do echo "$f.json"; done) >/dev/null 2>&1
fake "$KCIPCTL" save >"$TMP/save"
diff_ok "all fixtures in one sync: the union of their states" "$TMP/union" "$TMP/save"
# and from standard input, concatenated
cat clusterip.json typed-lists.json | "$SYNC" -N node-a -d - >"$TMP/out" 2>&1
cat clusterip.expected typed-lists.expected | sort >"$TMP/want"
sort "$TMP/out" >"$TMP/got"
diff_ok "concatenated objects on standard input" "$TMP/want" "$TMP/got"

# another node: nothing local
"$SYNC" --node node-z --dry-run clusterip.json >"$TMP/out" 2>&1
sed 's/ local$//' clusterip.expected | diff -u - "$TMP/out" >/dev/null &&
	ok "--node node-z: no backend is local" || not_ok "--node node-z"
"$SYNC" --node node-a --dry-run --sched maglev typed-lists.json >"$TMP/out" 2>&1
[ "$(head -n 1 "$TMP/out")" = "service add 10.96.80.1:7/udp sched maglev" ] &&
	ok "--sched maglev" || not_ok "--sched maglev: $(head -n 1 "$TMP/out")"

# ---- 3. watch streams ----
"$SYNC" --node node-a --dry-run --watch watch.json >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 0 ] && ok "watch: exits 0 at the end of its input" || not_ok "watch: exits $rc"
diff_ok "watch: the restore, then each event's requests" watch.expected "$TMP/out"
diff_ok "watch: messages" watch.stderr "$TMP/err"

"$SYNC" --node node-a --dry-run --watch watch-services.json watch-slices.json >"$TMP/out" 2>&1
diff_ok "watch: two inputs (services, slices), synced when both ended" watch-two.expected "$TMP/out"

"$SYNC" --node node-a --dry-run --watch watch-conflict.json >"$TMP/out" 2>/dev/null
diff_ok "watch: an entry two Services make moves when its owner goes" watch-conflict.expected "$TMP/out"

# no bookmark: the initial sync comes when the input has been quiet
{ cat watch-services.json watch-slices.json; sleep 2; cat watch-later.json; } |
	"$SYNC" --node node-a --dry-run --watch --settle 100 >"$TMP/out" 2>&1
diff_ok "watch: quiet input ends the initial objects (--settle)" watch-settle.expected "$TMP/out"
# nothing at all yet: no sync, however long it is quiet
{ sleep 1; cat watch-services.json watch-slices.json; } |
	"$SYNC" --node node-a --dry-run --watch --settle 100 >"$TMP/out" 2>&1
diff_ok "watch: an input that sent nothing yet holds the initial sync" watch-two.expected "$TMP/out"

fresh
fake "$KCIPCTL" service add 10.96.255.1:80/tcp
: >"$FAKE_LOG"
fake "$SYNC" --node node-a --watch watch.json >"$TMP/out" 2>/dev/null
rc=$?
fake "$KCIPCTL" save >"$TMP/save"
diff_ok "watch, for real: the state at the end" watch.final "$TMP/save"
want=$(grep -c -E '^(service|backend) (add|change|del)' watch.expected)
got=$(grep -c -E '^(SERVICE|BACKEND)_(NEW|SET|DEL) .* -> 0$' "$FAKE_LOG")
# the restore's lines are in watch.expected too
restored=$(sed -n '/^# sync: restore/,/^# sync: commit/p' watch.expected | grep -c ' add ')
[ $rc -eq 0 ] && [ "$(grep -c '^RESTORE_COMMIT -> 0' "$FAKE_LOG")" -eq 1 ] &&
	[ "$got" -eq $((want - restored)) ] &&
	ok "watch, for real: one restore, then $got single requests" ||
	{ not_ok "watch, for real: requests (rc $rc, $got single, want $((want - restored)))"; sed 's/^/# /' "$FAKE_LOG"; }
fresh
fake "$KCIPCTL" service add 10.96.255.1:80/tcp
fake "$SYNC" --node node-a --watch -v watch.json 2>/dev/null |
	sed '/^restore: /d; s/^# sync: restore of .*/# sync: restore/' >"$TMP/out"
sed '/^# sync: restore/,/^# sync: commit/{/^# sync: restore/!d}' watch.expected >"$TMP/want"
diff_ok "watch, for real, -v: prints each request sent" "$TMP/want" "$TMP/out"

# the state changed behind its back: the refused request makes a full sync
fresh
mkfifo "$TMP/fifo"
fake "$SYNC" --node node-a --watch --settle 100 "$TMP/fifo" >"$TMP/out" 2>"$TMP/err" &
pid=$!
exec 7>"$TMP/fifo"
cat watch-services.json watch-slices.json >&7
for _ in $(seq 50); do grep -q '^restore:' "$TMP/out" && break; sleep 0.1; done
fake "$KCIPCTL" flush
cat watch-later.json >&7
exec 7>&-
wait $pid
rc=$?
fake "$KCIPCTL" save >"$TMP/save"
grep -v '^#' watch-settle.expected | grep -v '10.244.2.9:53' >"$TMP/want"
[ $rc -eq 0 ] && grep -q 'not applied; syncing everything' "$TMP/err" &&
	[ "$(grep -c '^restore:' "$TMP/out")" -eq 2 ] &&
	ok "watch: a refused request leads to a full sync" ||
	{ not_ok "watch: refused request (rc $rc)"; sed 's/^/# /' "$TMP/out" "$TMP/err"; }
diff_ok "watch: the state after that full sync" "$TMP/want" "$TMP/save"

# ---- 4. bad input ----
# fails "message" ARGS...: exit 1, that message last on stderr, nothing sent
fails()
{
	local want=$1
	shift
	fresh
	fake "$SYNC" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
	if [ $rc -eq 1 ] && [ "$(tail -n 1 "$TMP/err")" = "kcip-k8s-sync: $want" ] &&
	   [ ! -e "$FAKE_LOG" ]; then
		ok "fails: $*"
	else
		not_ok "fails: $* (rc $rc, stderr '$(cat "$TMP/err")', want '$want')"
		[ -e "$FAKE_LOG" ] && sed 's/^/# sent: /' "$FAKE_LOG"
	fi
}
printf '{"kind": "List", "items": [' >"$TMP/truncated.json"
printf '{"kind": "List", "items": []}\n{"kind": "List" "items": []}\n' >"$TMP/notjson.json"
fails '--node NAME is required (the node'"'"'s name, as the API server knows it)' clusterip.json
fails 'unknown option "--bogus" (try "kcip-k8s-sync --help")' --bogus -N a
fails 'missing value after "--node"' --node
fails 'invalid --sched "fast" (random, rr or maglev)' -N a --sched fast
fails 'invalid --settle "0" (1-3600000)' -N a --settle 0
fails 'cannot open /nonexistent.json: No such file or directory' -N a /nonexistent.json
fails '<stdin>: no Kubernetes objects: nothing applied' -N a
fails '<stdin>: no Kubernetes objects: nothing applied' -N a --watch
fails "$TMP/truncated.json: ends in the middle of a JSON value" -N a "$TMP/truncated.json"
fails "$TMP/notjson.json: not JSON at offset 46: object value separator ',' expected" -N a "$TMP/notjson.json"
fails "$TMP/notjson.json: not JSON at offset 46: object value separator ',' expected" -N a clusterip.json "$TMP/notjson.json"

"$SYNC" --help >"$TMP/out" && grep -q -- '--watch' "$TMP/out" && ok "--help" || not_ok "--help"
[ "$("$SYNC" -V)" = "kcip-k8s-sync $("$KCIPCTL" -V | cut -d' ' -f2)" ] && ok "-V" || not_ok "-V"

if command -v valgrind >/dev/null; then
	vg() { valgrind -q --leak-check=full --errors-for-leak-kinds=all --error-exitcode=99 "$@"; }
	for args in "-d nodeport-dualstack.json" "-d malformed.json conflict.json" \
		    "-d -w watch.json" "-d -w watch-services.json watch-slices.json" \
		    "loadbalancer.json" "-w watch.json" "-d $TMP/truncated.json" "-d $TMP/notjson.json"; do
		fresh
		# shellcheck disable=SC2086
		LD_PRELOAD=$FAKE vg "$SYNC" -N node-a $args >/dev/null 2>"$TMP/vg"
		[ $? -ne 99 ] && ok "valgrind: $args" ||
			{ not_ok "valgrind: $args"; sed 's/^/# /' "$TMP/vg"; }
	done
fi

echo "1..$n"
[ $failed -eq 0 ]

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Weights are honoured by every scheduler (random, rr, maglev).
# Topology: lib_sched.sh sched_topo 1 4 clients (a client, a node, and
# backends be1..be4 answering with flowgen), Services made by
# "kcipctl restore".
#  - Services with be1 weight 1, be2 weight 2, be3 weight 3 and be4
#    weight 0 get N (3000) new flows from flowgen, half TCP over IPv4, half
#    UDP over IPv6; each backend's share of them is within a stated
#    tolerance of its weight's share (1/6, 2/6, 3/6): +-1 percentage point
#    for rr (deterministic: the counter walks the weights exactly),
#    +-4 points for random (4.4 standard deviations of a binomial share
#    at 3000 flows, at most 0.91 points: the three shares together miss
#    it about once in 100,000 runs; 3 points failed one run in 700) and
#    +-4 points for maglev (the
#    same binomial noise, the flows' hashes being random, plus the table's
#    small imbalance; the source ports are fixed, so the result does not
#    change from run to run);
#  - be4 (weight 0) gets no flow at all, with any scheduler;
#  - rr interleaves: flows opened one after the other go round the
#    backends in turns spread over the sequence, not in blocks of one
#    backend (the longest run of one backend is at most 2 with weights
#    1:2:3, whose smoothest order is e.g. be3 be2 be3 be1 be3 be2), and
#    over 36 flows each backend gets its share to within 2 flows.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_sched.sh"

N=${N:-3000}
NSEQ=${NSEQ:-36}
WEIGHTS="be1=1 be2=2 be3=3 be4=0"
ORDER="1:1 2:2 3:3 4:0"

sched_require
sched_topo 1 4 clients
fg_backends 8080 tcp,udp
log "topology up: client, node, backends be1..be4"

declare -A TOL=([random]=4 [rr]=1 [maglev]=4)
RUN=0

# add_summaries SUM1 SUM2: the two flowgen summaries added up
add_summaries()
{
	echo "$1 $2" | awk '{
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			if (!(kv[1] in v))
				k[++n] = kv[1]
			v[kv[1]] += kv[2]
		}
		for (i = 1; i <= n; i++)
			printf "%s=%d ", k[i], v[k[i]]
		print ""
	}'
}

# shares SCHED: N flows to fresh Services of SCHED, half TCP over IPv4,
# half UDP over IPv6, from distinct source ports (a UDP flow from a port
# that an earlier flow used would reuse that flow's conntrack entry and
# backend, not be scheduled)
shares()
{
	local sched=$1 s4 s6 out4 out6 sum

	s4=$(svc "$VIP4" 80 tcp)
	s6=$(svc "$VIP6" 80 udp)
	{
		svc_lines "$s4" 8080 "$ORDER" sched "$sched"
		svc_lines "$s6" 8080 "$ORDER" sched "$sched"
	} | restore "$node" || return
	out4=$(fg "$client" -p tcp -n $((N / 2)) -c 16 -t 10000 -b $((20000 + RUN * N)) "$VIP4" 80)
	log "$sched tcp/ipv4: $(summary_of "$out4")"
	out6=$(fg "$client" -p udp -n $((N - N / 2)) -c 16 -t 10000 -b $((20000 + RUN * N + N / 2)) "$VIP6" 80)
	log "$sched udp/ipv6: $(summary_of "$out6")"
	RUN=$((RUN + 1))
	sum=$(add_summaries "$(summary_of "$out4")" "$(summary_of "$out6")")
	check_shares "$sched: weights 1:2:3:0" "$sum" "${TOL[$sched]}" "$WEIGHTS"
}

for sched in random rr maglev; do
	shares "$sched"
done

# rr's order: 60 flows one at a time, each backend's turns spread out
log "rr: order of $NSEQ flows one after the other"
S=$(svc "$VIP4" 81 tcp)
svc_lines "$S" 8080 "$ORDER" sched rr | restore "$node"
seq_out=$(fg "$client" -n "$NSEQ" -c 1 -v "$VIP4" 81)
order=$(printf '%s\n' "$seq_out" | awk '$1 ~ /^[0-9]+$/ { printf "%s ", $2 }')
log "rr order: $order"
res=$(printf '%s\n' "$order" | awk -v weights="$WEIGHTS" '{
	n = split(weights, w, " ")
	for (i = 1; i <= n; i++) {
		split(w[i], kv, "=")
		wt[kv[1]] = kv[2]; wsum += kv[2]
	}
	for (i = 1; i <= NF; i++) {
		cnt[$i]++
		run = ($i == $(i - 1)) ? run + 1 : 1
		if (run > maxrun) { maxrun = run; who = $i }
	}
	bad = (maxrun > 2)
	msg = sprintf("longest run %d (%s, want <= 2);", maxrun, who)
	for (b in wt) {
		want = NF * wt[b] / wsum
		d = cnt[b] - want
		if (d < -2 || d > 2)
			bad = 1
		msg = msg sprintf(" %s=%d (want %d)", b, cnt[b], want)
	}
	for (b in cnt)
		if (!(b in wt) || b ~ /^!/)
			bad = 1
	print msg
	exit bad
}')
if [ $? -eq 0 ]; then
	pass "rr interleaves weighted backends: $res"
else
	fail "rr interleaves weighted backends: $res"
fi

dmesg_check
ksft_exit

// SPDX-License-Identifier: GPL-2.0
/*
 * Backend choice for a new flow.
 *
 * The work is done when a config is built: kcip_sched_prepare() lists the
 * backends eligible for new flows with the running sum of their weights,
 * and for Maglev fills the lookup table, so that the packet path only
 * draws or hashes a number and looks it up.
 *
 * Maglev (Eisenbud et al., NSDI 2016) must give the same backend for the
 * same flow on every node with the same backends, whatever order they were
 * added in: the hash keys below are fixed constants, the backends are
 * walked in (address, port) order and a backend's permutation depends only
 * on its address and port.
 */
#include <linux/gcd.h>
#include <linux/random.h>
#include <linux/siphash.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <net/netfilter/nf_conntrack.h>

#include "kclusterip.h"

unsigned int kcip_maglev_min_size __read_mostly = 16381;

/* Fixed, so that every node computes the same tables and flow hashes. */
static const siphash_key_t kcip_maglev_key_offset = {
	{ 0x6b636c7573746572ULL, 0x6970206f66667365ULL } };
static const siphash_key_t kcip_maglev_key_skip = {
	{ 0x6b636c7573746572ULL, 0x697020736b697021ULL } };
static const siphash_key_t kcip_flow_key = {
	{ 0x6b636c7573746572ULL, 0x697020666c6f7773ULL } };

/*
 * May @be take new flows?  Kubernetes' rule: ready endpoints do; terminating
 * ones only when no endpoint is ready (cfg->pick_state says which applies);
 * down ones and weight 0 never; with traffic policy local, only those on
 * this node.
 */
bool kcip_be_eligible(const struct kcip_svc_cfg *cfg,
		      const struct kcip_backend *be)
{
	return be->weight && be->state == cfg->pick_state &&
	       (cfg->opts.traffic_policy != KCIP_TRAFFIC_POLICY_LOCAL ||
		(be->flags & KCIP_BE_F_LOCAL));
}

static u32 kcip_sched_collect(struct kcip_svc_cfg *cfg, u8 state)
{
	u32 i, total = 0;

	cfg->n_pick = 0;
	cfg->pick_state = state;
	for (i = 0; i < cfg->n_be; i++) {
		const struct kcip_backend *be = &cfg->be[i];

		if (!kcip_be_eligible(cfg, be))
			continue;
		total += be->weight;
		cfg->pick[cfg->n_pick] = i;
		cfg->cum[cfg->n_pick] = total;
		cfg->n_pick++;
	}
	return total;
}

/*
 * Maglev's table sizes: primes about four times apart.  A table must stay
 * the same size when a backend comes or goes, or nearly every flow would
 * move: so the size depends on the number of backends only through these
 * few steps.
 */
static const u32 kcip_maglev_sizes[] = {
	1021, 4093, 16381, 65521, 262139, 1048573,
};

/* The first size at least max(maglev_min_size, 100 x backends). */
static u32 kcip_maglev_size(u32 n)
{
	u64 want = max_t(u64, kcip_maglev_min_size, 100ULL * n);
	int i;

	for (i = 0; i < ARRAY_SIZE(kcip_maglev_sizes) - 1; i++)
		if (kcip_maglev_sizes[i] >= want)
			break;
	return kcip_maglev_sizes[i];
}

/* A stride coprime with @total near its golden section: rr interleaves. */
static u32 kcip_rr_stride(u32 total)
{
	u32 s = (u32)div_u64((u64)total * 618, 1000) | 1;

	while (gcd(s, total) != 1)
		s++;
	return s;
}

/*
 * Weighted round robin as a fixed sequence of backends, built with the
 * config: the k-th turn of a backend of weight w falls at (2k + 1) / 2w of
 * a round, and the round lists the turns in that order, so that 1:2:3
 * gives be3 be2 be1 be3 be2 be3 and never a run of one backend.  The
 * packet path then takes entry (counter mod length).  Weights are divided
 * by their greatest common divisor first; a round longer than this falls
 * back to the stride, which interleaves well only for large totals.
 */
#define KCIP_RR_SEQ_MAX		16384

struct kcip_rr_turn {
	u32 num;	/* 2k + 1 */
	u32 weight;
	u32 idx;	/* into be[] */
};

static int kcip_rr_turn_cmp(const void *a, const void *b)
{
	const struct kcip_rr_turn *x = a, *y = b;
	u64 l = (u64)x->num * y->weight, r = (u64)y->num * x->weight;

	if (l != r)
		return l < r ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int kcip_rr_build(struct kcip_svc_cfg *cfg)
{
	struct kcip_rr_turn *turns;
	u32 i, k, g = 0, len = 0, n = 0;
	u32 *seq;

	for (i = 0; i < cfg->n_pick; i++)
		g = gcd(g, cfg->be[cfg->pick[i]].weight);
	/* equal weights: the pick order is already the best sequence */
	if (g == cfg->be[cfg->pick[0]].weight && cfg->pick_total / g ==
	    cfg->n_pick)
		return 0;
	len = cfg->pick_total / g;
	if (len > KCIP_RR_SEQ_MAX) {
		cfg->rr_stride = kcip_rr_stride(cfg->pick_total);
		return 0;
	}

	turns = kvmalloc_array(len, sizeof(*turns), GFP_KERNEL);
	seq = kvmalloc_array(len, sizeof(*seq), GFP_KERNEL_ACCOUNT);
	if (!turns || !seq) {
		kvfree(turns);
		kvfree(seq);
		return -ENOMEM;
	}
	for (i = 0; i < cfg->n_pick; i++) {
		u32 w = cfg->be[cfg->pick[i]].weight / g;

		for (k = 0; k < w; k++)
			turns[n++] = (struct kcip_rr_turn){
				.num = 2 * k + 1, .weight = w,
				.idx = cfg->pick[i] };
	}
	sort(turns, len, sizeof(*turns), kcip_rr_turn_cmp, NULL);
	for (i = 0; i < len; i++)
		seq[i] = turns[i].idx;
	kvfree(turns);
	cfg->rr_seq = seq;
	cfg->rr_len = len;
	return 0;
}

static u64 kcip_be_hash(const struct kcip_backend *be,
			const siphash_key_t *key)
{
	struct {
		union nf_inet_addr addr;
		__be16 port;
		u16 zero;
	} in = { .addr = be->addr, .port = be->port };

	return siphash(&in, sizeof(in), key);
}

/*
 * Fill the Maglev table: each eligible backend, in turn, takes the next
 * free slot of its own permutation of the table.  Weights decide how often
 * a backend gets a turn: at pass k a backend of weight w takes one when
 * k * w has reached its target, which then grows by the largest weight.
 */
static int kcip_maglev_build(struct kcip_svc_cfg *cfg)
{
	u32 n = cfg->n_pick, m, filled = 0, i, pass, w_max = 0;
	u64 *target;
	u32 *offset, *skip, *next;
	u32 *table;
	int err = -ENOMEM;

	if (!n)
		return 0;
	/*
	 * At least 100 x backends for minimal disruption, but bounded: past
	 * 10,000 backends a Service's disruption grows slowly instead of its
	 * table (4 MB at most).
	 */
	m = kcip_maglev_size(n);
	table = kvmalloc_array(m, sizeof(*table), GFP_KERNEL_ACCOUNT);
	offset = kvmalloc_array(n, 3 * sizeof(u32), GFP_KERNEL);
	target = kvcalloc(n, sizeof(*target), GFP_KERNEL);
	if (!table || !offset || !target)
		goto out;
	skip = offset + n;
	next = skip + n;

	for (i = 0; i < n; i++) {
		const struct kcip_backend *be = &cfg->be[cfg->pick[i]];

		offset[i] = (u32)(kcip_be_hash(be, &kcip_maglev_key_offset) % m);
		skip[i] = (u32)(kcip_be_hash(be, &kcip_maglev_key_skip) %
				(m - 1)) + 1;
		next[i] = 0;
		w_max = max(w_max, be->weight);
	}
	memset(table, 0xff, m * sizeof(*table));

	for (pass = 1; filled < m; pass++) {
		cond_resched();
		for (i = 0; i < n && filled < m; i++) {
			u32 w = cfg->be[cfg->pick[i]].weight;
			u32 slot;

			if ((u64)pass * w < target[i])
				continue;
			target[i] += w_max;
			do {
				slot = (u32)(((u64)offset[i] +
					      (u64)next[i] * skip[i]) % m);
				next[i]++;
			} while (table[slot] != U32_MAX);
			table[slot] = cfg->pick[i];
			filled++;
		}
	}
	cfg->maglev = table;
	cfg->maglev_size = m;
	table = NULL;
	err = 0;
out:
	kvfree(target);
	kvfree(offset);
	kvfree(table);
	return err;
}

/* List the backends that may take new flows, and build the scheduler's. */
int kcip_sched_prepare(struct kcip_svc_cfg *cfg)
{
	cfg->pick_total = kcip_sched_collect(cfg, KCIP_BE_STATE_READY);
	if (!cfg->pick_total)
		cfg->pick_total = kcip_sched_collect(cfg,
						     KCIP_BE_STATE_TERMINATING);

	switch (cfg->opts.sched) {
	case KCIP_SCHED_RR:
		return cfg->pick_total ? kcip_rr_build(cfg) : 0;
	case KCIP_SCHED_MAGLEV:
		return kcip_maglev_build(cfg);
	default:
		return 0;
	}
}

/* Index of the first pick whose running weight exceeds @r. */
static u32 kcip_sched_search(const struct kcip_svc_cfg *cfg, u32 r)
{
	u32 lo = 0, hi = cfg->n_pick - 1;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (cfg->cum[mid] > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return cfg->pick[lo];
}

/*
 * A flow's hash, the same on every node: the whole 5-tuple, or with
 * client-IP affinity the client's address alone.
 */
u32 kcip_tuple_hash(const struct nf_conntrack_tuple *t, u8 family,
		    bool client_only)
{
	struct {
		union nf_inet_addr src;
		union nf_inet_addr dst;
		__be16 sport;
		__be16 dport;
		u32 proto;
	} in;

	memset(&in, 0, sizeof(in));
	if (family == AF_INET)
		in.src.ip = t->src.u3.ip;
	else
		in.src.in6 = t->src.u3.in6;
	if (!client_only) {
		if (family == AF_INET)
			in.dst.ip = t->dst.u3.ip;
		else
			in.dst.in6 = t->dst.u3.in6;
		in.sport = t->src.u.all;
		in.dport = t->dst.u.all;
		in.proto = t->dst.protonum;
	}
	return (u32)siphash(&in, sizeof(in), &kcip_flow_key);
}

static const struct kcip_backend *kcip_rr_pick(const struct kcip_svc_cfg *cfg,
					       u32 n)
{
	if (cfg->rr_seq)
		return &cfg->be[cfg->rr_seq[n % cfg->rr_len]];
	if (cfg->rr_stride)
		return &cfg->be[kcip_sched_search(cfg, (u32)(((u64)n *
			cfg->rr_stride) % cfg->pick_total))];
	/* equal weights */
	return &cfg->be[cfg->pick[n % cfg->n_pick]];
}

/*
 * With retry on, a quarantined backend is passed over: Maglev takes the
 * next entries of its table, the others the next eligible backends.  When
 * every one is quarantined, the first choice stands.
 */
static const struct kcip_backend *
kcip_sched_avoid(const struct kcip_svc_cfg *cfg,
		 const struct kcip_backend *be, u32 hash)
{
	u32 i, first;

	if (!(cfg->opts.flags & KCIP_SVC_F_RETRY) || !kcip_be_quarantined(be))
		return be;

	if (cfg->opts.sched == KCIP_SCHED_MAGLEV) {
		for (i = 1; i < cfg->maglev_size; i++) {
			const struct kcip_backend *next =
				&cfg->be[cfg->maglev[(hash + i) %
						     cfg->maglev_size]];

			if (!kcip_be_quarantined(next))
				return next;
		}
		return be;
	}

	first = (u32)(be - cfg->be);
	for (i = 0; i < cfg->n_pick; i++) {
		const struct kcip_backend *next;

		next = &cfg->be[cfg->pick[(hash + i) % cfg->n_pick]];
		if (next != &cfg->be[first] && !kcip_be_quarantined(next))
			return next;
	}
	return be;
}

const struct kcip_backend *kcip_sched_pick(struct kcip_service *svc,
					   const struct kcip_svc_cfg *cfg,
					   const struct nf_conn *ct)
{
	const struct nf_conntrack_tuple *t =
		&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	const struct kcip_backend *be;
	u32 hash;

	if (!cfg->pick_total)
		return NULL;

	switch (cfg->opts.sched) {
	case KCIP_SCHED_MAGLEV:
		hash = kcip_tuple_hash(t, nf_ct_l3num(ct),
				       cfg->opts.affinity ==
				       KCIP_AFFINITY_CLIENTIP);
		be = &cfg->be[cfg->maglev[hash % cfg->maglev_size]];
		hash %= cfg->maglev_size;
		break;
	case KCIP_SCHED_RR:
		/* one atomic add, no lock: the sequence interleaves backends */
		hash = (u32)atomic_inc_return(&svc->rr_next);
		be = kcip_rr_pick(cfg, hash);
		break;
	default:
		hash = get_random_u32();
		be = &cfg->be[kcip_sched_search(cfg,
						hash % cfg->pick_total)];
		break;
	}
	return kcip_sched_avoid(cfg, be, hash);
}

/*
 * What kcip_sched_pick() would give the flow @t, without changing a thing;
 * NULL when that is left to chance (random) or nothing is eligible.
 */
const struct kcip_backend *kcip_sched_peek(struct kcip_service *svc,
					   const struct kcip_svc_cfg *cfg,
					   const struct nf_conntrack_tuple *t,
					   u8 family)
{
	const struct kcip_backend *be;
	u32 hash;

	if (!cfg->pick_total)
		return NULL;

	switch (cfg->opts.sched) {
	case KCIP_SCHED_MAGLEV:
		hash = kcip_tuple_hash(t, family, cfg->opts.affinity ==
					       KCIP_AFFINITY_CLIENTIP);
		be = &cfg->be[cfg->maglev[hash % cfg->maglev_size]];
		return kcip_sched_avoid(cfg, be, hash % cfg->maglev_size);
	case KCIP_SCHED_RR:
		hash = (u32)atomic_read(&svc->rr_next) + 1;
		return kcip_sched_avoid(cfg, kcip_rr_pick(cfg, hash), hash);
	default:
		return NULL;
	}
}

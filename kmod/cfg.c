// SPDX-License-Identifier: GPL-2.0
/*
 * A Service's config (options and backends) and counters.
 *
 * A config is never edited once the packet path can see it: a change
 * builds a new one.  Backends' counters belong to the backend, not to a
 * config, and travel from one config to the next.
 */
#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <net/netlink.h>

#include "kclusterip.h"

/*
 * The header and the arrays are two allocations: kmalloc rounds each up
 * to a power of two, and one block of both came to 1 KiB for 10 backends
 * where these two take 128 + 512 bytes.
 */
struct kcip_svc_cfg *kcip_cfg_alloc(u32 n_be)
{
	struct kcip_svc_cfg *cfg;
	size_t size;

	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL_ACCOUNT);
	if (!cfg)
		return NULL;
	cfg->n_be = n_be;
	if (!n_be)
		return cfg;
	/* be[n_be], then pick[n_be] and cum[n_be] */
	size = array_size(sizeof(*cfg->be) + 2 * sizeof(u32), n_be);
	cfg->be = kvzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!cfg->be) {
		kfree(cfg);
		return NULL;
	}
	cfg->pick = (u32 *)&cfg->be[n_be];
	cfg->cum = cfg->pick + n_be;
	return cfg;
}

/* Free a config no packet can see; the backends' stats are not its own. */
void kcip_cfg_free(struct kcip_svc_cfg *cfg)
{
	free_percpu(cfg->dead_stats);
	kvfree(cfg->maglev);
	kvfree(cfg->rr_seq);
	kvfree(cfg->be);
	kfree(cfg);
}

static void kcip_cfg_free_rcu(struct rcu_head *head)
{
	kcip_cfg_free(container_of(head, struct kcip_svc_cfg, rcu));
}

/* Free @cfg after a grace period. */
void kcip_cfg_free_deferred(struct kcip_svc_cfg *cfg)
{
	call_rcu(&cfg->rcu, kcip_cfg_free_rcu);
}

/* Free @cfg with the stats of every backend it holds. */
void kcip_cfg_free_all(struct kcip_svc_cfg *cfg)
{
	u32 i;

	for (i = 0; i < cfg->n_be; i++)
		free_percpu(cfg->be[i].stats);
	kcip_cfg_free(cfg);
}

/* Copy @old's backends, leaving out index @skip (or none if U32_MAX). */
struct kcip_svc_cfg *kcip_cfg_dup(const struct kcip_svc_cfg *old, u32 n_be,
				  u32 skip)
{
	struct kcip_svc_cfg *cfg = kcip_cfg_alloc(n_be);
	u32 i, j = 0;

	if (!cfg)
		return NULL;
	cfg->opts = old->opts;
	for (i = 0; i < old->n_be && j < n_be; i++) {
		if (i == skip)
			continue;
		cfg->be[j] = old->be[i];
		cfg->be[j++].quarantined_until =
			READ_ONCE(old->be[i].quarantined_until);
	}
	return cfg;
}

/* Make @cfg ready for the packet path: weights checked, scheduler built. */
int kcip_cfg_prepare(struct kcip_svc_cfg *cfg, struct netlink_ext_ack *extack)
{
	u64 total = 0;
	u32 i;

	for (i = 0; i < cfg->n_be; i++)
		total += cfg->be[i].weight;
	if (total > U32_MAX) {
		NL_SET_ERR_MSG(extack,
			       "Sum of the Service's backend weights is too large");
		return -ERANGE;
	}
	return kcip_sched_prepare(cfg);
}

int kcip_be_cmp(const union nf_inet_addr *a1, __be16 p1,
		const union nf_inet_addr *a2, __be16 p2)
{
	int r = memcmp(a1, a2, sizeof(*a1));

	if (r)
		return r;
	return (int)ntohs(p1) - (int)ntohs(p2);
}

/*
 * Index of the backend at @addr/@port, or, when absent, -(insertion
 * point) - 1.
 */
int kcip_be_index(const struct kcip_svc_cfg *cfg,
		  const union nf_inet_addr *addr, __be16 port)
{
	int lo = 0, hi = (int)cfg->n_be - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		int r = kcip_be_cmp(&cfg->be[mid].addr, cfg->be[mid].port,
				    addr, port);

		if (!r)
			return mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -lo - 1;
}

/* Do two configs hold the same options and backends (counters aside)? */
bool kcip_cfg_same(const struct kcip_svc_cfg *a, const struct kcip_svc_cfg *b)
{
	u32 i;

	if (memcmp(&a->opts, &b->opts, sizeof(a->opts)) || a->n_be != b->n_be)
		return false;
	for (i = 0; i < a->n_be; i++) {
		const struct kcip_backend *x = &a->be[i], *y = &b->be[i];

		if (kcip_be_cmp(&x->addr, x->port, &y->addr, y->port) ||
		    x->weight != y->weight || x->state != y->state ||
		    x->flags != y->flags)
			return false;
	}
	return true;
}

/* The sums of the first @n counters (KCIP_C_BE_MAX for a backend). */
void kcip_stats_sum(const struct kcip_stats __percpu *stats, unsigned int n,
		    struct kcip_stats_sum *sum)
{
	int cpu, i;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const struct kcip_stats *s = per_cpu_ptr(stats, cpu);
		u64 c[KCIP_C_MAX];
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			for (i = 0; i < n; i++)
				c[i] = u64_stats_read(&s->c[i]);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		for (i = 0; i < n; i++)
			sum->c[i] += c[i];
	}
}

/* @n counters: KCIP_C_MAX for a Service, KCIP_C_BE_MAX for a backend. */
struct kcip_stats __percpu *kcip_stats_alloc(unsigned int n)
{
	struct kcip_stats __percpu *stats;
	int cpu;

	stats = __alloc_percpu_gfp(sizeof(struct kcip_stats) +
				   n * sizeof(u64_stats_t),
				   __alignof__(struct kcip_stats),
				   GFP_KERNEL_ACCOUNT);
	if (!stats)
		return NULL;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(stats, cpu)->syncp);
	return stats;
}

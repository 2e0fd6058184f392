// SPDX-License-Identifier: GPL-2.0
/*
 * Backend choice for a new flow.
 *
 * The work is done when a config is built: kcip_sched_prepare() lists the
 * backends eligible for new flows with the running sum of their weights, so
 * that the packet path only draws a number and searches.
 */
#include <linux/random.h>
#include <net/netfilter/nf_conntrack.h>

#include "kclusterip.h"

static u32 kcip_sched_collect(struct kcip_svc_cfg *cfg, u8 state)
{
	u32 i, total = 0;

	cfg->n_pick = 0;
	for (i = 0; i < cfg->n_be; i++) {
		const struct kcip_backend *be = &cfg->be[i];

		if (be->state != state || !be->weight)
			continue;
		total += be->weight;
		cfg->pick[cfg->n_pick] = i;
		cfg->cum[cfg->n_pick] = total;
		cfg->n_pick++;
	}
	return total;
}

/*
 * Kubernetes' rule: ready endpoints take new flows; terminating ones only
 * when no endpoint is ready; down ones and weight 0 never.
 */
void kcip_sched_prepare(struct kcip_svc_cfg *cfg)
{
	cfg->pick_total = kcip_sched_collect(cfg, KCIP_BE_STATE_READY);
	if (!cfg->pick_total)
		cfg->pick_total = kcip_sched_collect(cfg,
						     KCIP_BE_STATE_TERMINATING);
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

const struct kcip_backend *kcip_sched_pick(const struct kcip_svc_cfg *cfg,
					   const struct nf_conn *ct)
{
	if (!cfg->pick_total)
		return NULL;

	/* KCIP_SCHED_RANDOM, the only scheduler a config may hold yet */
	return &cfg->be[kcip_sched_search(cfg,
					  get_random_u32_below(cfg->pick_total))];
}

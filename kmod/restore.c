// SPDX-License-Identifier: GPL-2.0
/*
 * Restore: make a netns's whole state that of a file, in one transaction.
 *
 * A client stages Services (with their backends) over as many messages as
 * it needs; the stage belongs to its netlink socket and goes with it, so a
 * client that dies leaves nothing behind.  Commit builds a whole new table
 * beside the live one and swaps the pointer: the packet path sees the old
 * state or the new one, never a mix, and any error leaves the old state
 * untouched.  What did not change keeps its objects: a Service that stays
 * keeps its counters, a backend that stays keeps its counters, a config
 * that is the same is not rebuilt; affinity and flows, keyed by address,
 * are not touched.  UDP and SCTP flows of what went away are removed.
 */
#include <linux/netlink.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <net/netlink.h>

#include "kclusterip.h"

struct kcip_stage_svc {
	struct rhash_head node;
	struct kcip_svc_key key;
	struct list_head list;
	struct kcip_svc_opts opts;
	u32 n_be;
	u32 cap;
	struct kcip_backend *be;
};

struct kcip_stage {
	struct list_head list;		/* in kcip_net.stages */
	u32 portid;
	struct rhashtable svcs;
	struct list_head svc_list;	/* staging order */
	struct kcip_stage_svc *last;	/* what KCIP_OP_F_APPEND extends */
	u32 n_services;
	u32 n_backends;
};

static const struct rhashtable_params kcip_stage_params = {
	.key_len = sizeof(struct kcip_svc_key),
	.key_offset = offsetof(struct kcip_stage_svc, key),
	.head_offset = offsetof(struct kcip_stage_svc, node),
	.automatic_shrinking = true,
};

static void kcip_stage_svc_free(void *ptr, void *arg)
{
	struct kcip_stage_svc *ss = ptr;

	kvfree(ss->be);
	kfree(ss);
}

static void kcip_stage_free(struct kcip_stage *stage)
{
	list_del(&stage->list);
	rhashtable_free_and_destroy(&stage->svcs, kcip_stage_svc_free, NULL);
	kfree(stage);
}

struct kcip_stage *kcip_stage_find(struct kcip_net *kn, u32 portid)
{
	struct kcip_stage *stage;

	list_for_each_entry(stage, &kn->stages, list)
		if (stage->portid == portid)
			return stage;
	return NULL;
}

/* A new stage for @portid, replacing the one it may have left open. */
struct kcip_stage *kcip_stage_begin(struct kcip_net *kn, u32 portid)
{
	struct kcip_stage *stage = kcip_stage_find(kn, portid);

	if (stage)
		kcip_stage_free(stage);
	stage = kzalloc(sizeof(*stage), GFP_KERNEL_ACCOUNT);
	if (!stage)
		return NULL;
	if (rhashtable_init(&stage->svcs, &kcip_stage_params)) {
		kfree(stage);
		return NULL;
	}
	stage->portid = portid;
	INIT_LIST_HEAD(&stage->svc_list);
	list_add(&stage->list, &kn->stages);
	return stage;
}

void kcip_stage_abort(struct kcip_stage *stage)
{
	kcip_stage_free(stage);
}

void kcip_stages_free(struct kcip_net *kn)
{
	struct kcip_stage *stage, *tmp;

	list_for_each_entry_safe(stage, tmp, &kn->stages, list)
		kcip_stage_free(stage);
}

/*
 * Stage a Service with @n_be backends; with @append (KCIP_OP_F_APPEND), add
 * them to the Service staged just before, which must be the same one.
 */
int kcip_stage_add(struct kcip_stage *stage, const struct kcip_svc_key *key,
		   const struct kcip_svc_opts *opts,
		   const struct kcip_backend *be, u32 n_be, bool append,
		   struct netlink_ext_ack *extack)
{
	struct kcip_stage_svc *ss;
	struct kcip_backend *arr;
	int err;

	if (stage->n_backends + (u64)n_be > kcip_max_backends) {
		NL_SET_ERR_MSG(extack,
			       "Backend limit of this netns reached (module parameter max_backends)");
		return -ENOSPC;
	}

	ss = rhashtable_lookup_fast(&stage->svcs, key, kcip_stage_params);
	if (append) {
		if (!ss || ss != stage->last ||
		    memcmp(&ss->opts, opts, sizeof(*opts))) {
			NL_SET_ERR_MSG(extack,
				       "Only the Service staged last, with the same options, can take more backends");
			return -EINVAL;
		}
	} else {
		if (ss) {
			NL_SET_ERR_MSG(extack, "Service given twice");
			return -EEXIST;
		}
		if (stage->n_services >= kcip_max_services) {
			NL_SET_ERR_MSG(extack,
				       "Service limit of this netns reached (module parameter max_services)");
			return -ENOSPC;
		}
		ss = kzalloc(sizeof(*ss), GFP_KERNEL_ACCOUNT);
		if (!ss)
			return -ENOMEM;
		ss->key = *key;
		ss->opts = *opts;
		err = rhashtable_insert_fast(&stage->svcs, &ss->node,
					     kcip_stage_params);
		if (err) {
			kfree(ss);
			return err;
		}
		list_add_tail(&ss->list, &stage->svc_list);
		stage->n_services++;
		stage->last = ss;
	}

	if (!n_be)
		return 0;
	if (ss->n_be + n_be > ss->cap) {
		u32 cap = max(ss->n_be + n_be, 2 * ss->cap);

		arr = kvmalloc_array(cap, sizeof(*arr), GFP_KERNEL_ACCOUNT);
		if (!arr)
			return -ENOMEM;
		if (ss->n_be)
			memcpy(arr, ss->be, ss->n_be * sizeof(*arr));
		kvfree(ss->be);
		ss->be = arr;
		ss->cap = cap;
	}
	memcpy(&ss->be[ss->n_be], be, n_be * sizeof(*be));
	ss->n_be += n_be;
	stage->n_backends += n_be;
	return 0;
}

static int kcip_be_sort_cmp(const void *a, const void *b)
{
	const struct kcip_backend *x = a, *y = b;

	return kcip_be_cmp(&x->addr, x->port, &y->addr, y->port);
}

/*
 * Free what @x holds that @other (its counterpart in the other table, if
 * any) does not share: a Service that stays hands its counters, its
 * unchanged config and its kept backends' counters on.
 */
static void kcip_svc_release(struct kcip_service *x, struct kcip_service *other)
{
	struct kcip_svc_cfg *xc, *oc;
	u32 i;

	if (!other) {
		kcip_svc_free(x);
		return;
	}
	xc = rcu_dereference_protected(x->cfg, 1);
	oc = rcu_dereference_protected(other->cfg, 1);
	if (xc != oc) {
		for (i = 0; i < xc->n_be; i++) {
			int j = kcip_be_index(oc, &xc->be[i].addr,
					      xc->be[i].port);

			if (j < 0 || oc->be[j].stats != xc->be[i].stats)
				free_percpu(xc->be[i].stats);
		}
		kcip_cfg_free(xc);
	}
	kfree(x);
}

/* Free every Service of @tbl, keeping what @other shares, and @tbl. */
static void kcip_table_release(struct kcip_table *tbl,
			       struct kcip_table *other)
{
	struct kcip_service *svc, *tmp;

	list_for_each_entry_safe(svc, tmp, &tbl->list, list) {
		list_del(&svc->list);
		kcip_svc_release(svc, kcip_table_find(other, &svc->key));
	}
	kcip_table_free(tbl);
}

/* The Service @ss will be in the new table, built on @old if it exists. */
static struct kcip_service *kcip_stage_build(struct kcip_stage_svc *ss,
					     struct kcip_service *old,
					     struct kcip_restore_counts *counts,
					     struct netlink_ext_ack *extack)
{
	struct kcip_svc_cfg *ocfg = NULL, *cfg;
	struct kcip_service *svc;
	u32 i;
	int err;

	svc = kzalloc(sizeof(*svc), GFP_KERNEL_ACCOUNT);
	if (!svc)
		return ERR_PTR(-ENOMEM);
	svc->key = ss->key;
	if (old) {
		ocfg = rcu_dereference_protected(old->cfg, 1);
		svc->stats = old->stats;
		atomic_set(&svc->rr_next, atomic_read(&old->rr_next));
	} else {
		svc->stats = kcip_stats_alloc(KCIP_C_MAX);
		if (!svc->stats) {
			err = -ENOMEM;
			goto err_svc;
		}
	}

	cfg = kcip_cfg_alloc(ss->n_be);
	if (!cfg) {
		err = -ENOMEM;
		goto err_stats;
	}
	cfg->opts = ss->opts;
	for (i = 0; i < ss->n_be; i++) {
		int j = ocfg ? kcip_be_index(ocfg, &ss->be[i].addr,
					     ss->be[i].port) : -1;

		cfg->be[i] = ss->be[i];
		cfg->be[i].stats = j >= 0 ? ocfg->be[j].stats :
					    kcip_stats_alloc(KCIP_C_BE_MAX);
		if (j >= 0 && ocfg->be[j].state == cfg->be[i].state)
			cfg->be[i].quarantined_until =
				READ_ONCE(ocfg->be[j].quarantined_until);
		if (!cfg->be[i].stats) {
			err = -ENOMEM;
			goto err_cfg;
		}
	}

	if (ocfg && kcip_cfg_same(ocfg, cfg)) {
		/* every backend was found: no counters were allocated */
		kcip_cfg_free(cfg);
		cfg = ocfg;
		counts->unchanged++;
	} else {
		err = kcip_cfg_prepare(cfg, extack);
		if (err)
			goto err_cfg;
		if (old)
			counts->changed++;
		else
			counts->added++;
	}
	RCU_INIT_POINTER(svc->cfg, cfg);
	return svc;

err_cfg:
	while (i--)
		if (!ocfg || kcip_be_index(ocfg, &cfg->be[i].addr,
					   cfg->be[i].port) < 0)
			free_percpu(cfg->be[i].stats);
	kcip_cfg_free(cfg);
err_stats:
	if (!old)
		free_percpu(svc->stats);
err_svc:
	kfree(svc);
	return ERR_PTR(err);
}

static int kcip_stage_check(struct kcip_stage *stage,
			    struct netlink_ext_ack *extack)
{
	struct kcip_stage_svc *ss;
	u32 i;

	list_for_each_entry(ss, &stage->svc_list, list) {
		sort(ss->be, ss->n_be, sizeof(*ss->be), kcip_be_sort_cmp, NULL);
		for (i = 1; i < ss->n_be; i++) {
			if (!kcip_be_sort_cmp(&ss->be[i - 1], &ss->be[i])) {
				NL_SET_ERR_MSG(extack,
					       "A backend is given twice in one Service");
				return -EINVAL;
			}
		}
		cond_resched();
	}
	return 0;
}

/* Make the netns's state exactly @stage's; @stage is consumed. */
int kcip_stage_commit(struct net *net, struct kcip_stage *stage,
		      struct kcip_restore_counts *counts,
		      struct netlink_ext_ack *extack)
{
	struct kcip_net *kn = kcip_pernet(net);
	struct kcip_table *old = kcip_tbl(kn), *new;
	struct kcip_stage_svc *ss;
	int err;

	memset(counts, 0, sizeof(*counts));
	err = kcip_stage_check(stage, extack);
	if (err)
		goto out;

	new = kcip_table_alloc();
	if (!new) {
		err = -ENOMEM;
		goto out;
	}
	list_for_each_entry(ss, &stage->svc_list, list) {
		struct kcip_service *svc;

		svc = kcip_stage_build(ss, kcip_table_find(old, &ss->key),
				       counts, extack);
		if (IS_ERR(svc)) {
			err = PTR_ERR(svc);
			goto err_new;
		}
		err = kcip_table_insert(new, svc);
		if (err) {
			kcip_svc_release(svc, kcip_table_find(old, &svc->key));
			goto err_new;
		}
		cond_resched();
	}
	counts->deleted = old->n_services - counts->changed - counts->unchanged;
	/*
	 * The same state again (a resync that found nothing to do): keep the
	 * old table, its generation and the flows, and tell nobody.
	 */
	if (!kcip_restore_changed(counts)) {
		kcip_table_release(new, old);
		goto out;
	}

	if (new->n_services) {
		err = kcip_hooks_need(net, new->n_retry, extack);
		if (err)
			goto err_new;
	}

	rcu_assign_pointer(kn->tbl, new);
	kn->generation++;
	synchronize_rcu();

	/* the old table is out of the packet path's sight */
	kcip_ct_flush_diff(net, old, new);
	kcip_table_release(old, new);
	goto out;

err_new:
	kcip_table_release(new, old);
out:
	kcip_stage_free(stage);
	return err;
}

/* A client that goes away leaves no stage behind. */
static int kcip_netlink_event(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	struct netlink_notify *n = ptr;
	struct kcip_stage *stage;
	struct kcip_net *kn;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC)
		return NOTIFY_DONE;

	kn = kcip_pernet(n->net);
	mutex_lock(&kn->lock);
	stage = kcip_stage_find(kn, n->portid);
	if (stage)
		kcip_stage_free(stage);
	mutex_unlock(&kn->lock);
	return NOTIFY_DONE;
}

static struct notifier_block kcip_netlink_notifier = {
	.notifier_call = kcip_netlink_event,
};

int __init kcip_restore_init(void)
{
	return netlink_register_notifier(&kcip_netlink_notifier);
}

void kcip_restore_exit(void)
{
	netlink_unregister_notifier(&kcip_netlink_notifier);
}

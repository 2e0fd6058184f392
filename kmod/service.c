// SPDX-License-Identifier: GPL-2.0
/*
 * Single changes to the Service table: one Service or one backend at a
 * time, each made whole before the packet path sees it.
 *
 * Every function here runs under kcip_net.lock.  A change to a Service
 * builds a new struct kcip_svc_cfg, publishes it with rcu_replace_pointer()
 * and frees the old one after a grace period.
 */
#include <linux/percpu.h>
#include <linux/slab.h>
#include <net/netlink.h>

#include "kclusterip.h"

static struct kcip_svc_cfg *kcip_cfg(const struct kcip_net *kn,
				     const struct kcip_service *svc)
{
	return rcu_dereference_protected(svc->cfg, lockdep_is_held(&kn->lock));
}

static int kcip_cfg_publish(struct kcip_net *kn, struct kcip_service *svc,
			    struct kcip_svc_cfg *cfg,
			    struct netlink_ext_ack *extack)
{
	struct kcip_table *tbl = kcip_tbl(kn);
	struct kcip_svc_cfg *old;
	int err;

	err = kcip_cfg_prepare(cfg, extack);
	if (err)
		return err;
	old = rcu_replace_pointer(svc->cfg, cfg, lockdep_is_held(&kn->lock));
	tbl->n_backends += cfg->n_be;
	tbl->n_backends -= old->n_be;
	if ((old->opts.flags ^ cfg->opts.flags) & KCIP_SVC_F_RETRY)
		WRITE_ONCE(tbl->n_retry, tbl->n_retry +
			   ((cfg->opts.flags & KCIP_SVC_F_RETRY) ? 1 : -1));
	kcip_cfg_free_deferred(old);
	kn->generation++;
	return 0;
}

/*
 * Register the NAT hooks when a netns gets its first Service.  They stay
 * until the netns goes: TCP flows of a deleted Service are left to finish,
 * and nf_nat translates them only while someone holds its hooks.
 */
int kcip_hooks_need(struct net *net, bool retry,
		    struct netlink_ext_ack *extack)
{
	struct kcip_net *kn = kcip_pernet(net);
	int err;

	if (!kn->hooks_on) {
		err = kcip_hooks_register(net);
		if (err) {
			NL_SET_ERR_MSG(extack,
				       "Cannot register the NAT hooks in this netns");
			return err;
		}
		kn->hooks_on = true;
	}
	/*
	 * Retry's hooks see every packet: only from the first Service with
	 * retry on, so that retry off costs nothing.  Kept like the others.
	 */
	if (retry && !kn->retry_on) {
		err = kcip_retry_register(net);
		if (err) {
			NL_SET_ERR_MSG(extack,
				       "Cannot register the retry hooks in this netns");
			return err;
		}
		kn->retry_on = true;
	}
	return 0;
}

int kcip_svc_add(struct net *net, const struct kcip_svc_key *key,
		 const struct kcip_svc_opts *opts,
		 struct netlink_ext_ack *extack)
{
	struct kcip_net *kn = kcip_pernet(net);
	struct kcip_table *tbl = kcip_tbl(kn);
	struct kcip_svc_cfg *cfg;
	struct kcip_service *svc;
	int err;

	if (kcip_table_find(tbl, key)) {
		NL_SET_ERR_MSG(extack, "Service already exists");
		return -EEXIST;
	}
	if (tbl->n_services >= kcip_max_services) {
		NL_SET_ERR_MSG(extack,
			       "Service limit of this netns reached (module parameter max_services)");
		return -ENOSPC;
	}

	svc = kzalloc(sizeof(*svc), GFP_KERNEL_ACCOUNT);
	if (!svc)
		return -ENOMEM;
	svc->key = *key;
	svc->stats = kcip_stats_alloc(KCIP_C_MAX);
	cfg = kcip_cfg_alloc(0);
	if (!svc->stats || !cfg) {
		err = -ENOMEM;
		goto err_free;
	}
	cfg->opts = *opts;
	RCU_INIT_POINTER(svc->cfg, cfg);

	err = kcip_hooks_need(net, opts->flags & KCIP_SVC_F_RETRY, extack);
	if (err)
		goto err_free;
	err = kcip_table_insert(tbl, svc);
	if (err)
		goto err_free;
	kn->generation++;
	return 0;

err_free:
	if (cfg)
		kcip_cfg_free(cfg);
	free_percpu(svc->stats);
	kfree(svc);
	return err;
}

int kcip_svc_change(struct net *net, struct kcip_service *svc,
		    const struct kcip_svc_opts *opts,
		    struct netlink_ext_ack *extack)
{
	struct kcip_net *kn = kcip_pernet(net);
	const struct kcip_svc_cfg *old = kcip_cfg(kn, svc);
	struct kcip_svc_cfg *cfg;
	int err;

	err = kcip_hooks_need(net, opts->flags & KCIP_SVC_F_RETRY, extack);
	if (err)
		return err;

	cfg = kcip_cfg_dup(old, old->n_be, U32_MAX);
	if (!cfg)
		return -ENOMEM;
	cfg->opts = *opts;
	err = kcip_cfg_publish(kn, svc, cfg, extack);
	if (err)
		kcip_cfg_free(cfg);
	return err;
}

void kcip_svc_del(struct net *net, struct kcip_service *svc)
{
	struct kcip_net *kn = kcip_pernet(net);
	struct kcip_svc_key key = svc->key;

	kcip_table_remove(kcip_tbl(kn), svc);
	kn->generation++;
	kcip_svc_free_deferred(svc);
	/*
	 * UDP and SCTP flows would go on reaching the backends of a Service
	 * that is gone; TCP flows are left to finish, as Kubernetes does.
	 */
	kcip_ct_flush(net, &key, NULL, false);
}

void kcip_svc_flush(struct net *net)
{
	struct kcip_net *kn = kcip_pernet(net);
	struct kcip_table *tbl = kcip_tbl(kn);
	struct kcip_service *svc, *tmp;

	list_for_each_entry_safe(svc, tmp, &tbl->list, list) {
		struct kcip_svc_key key = svc->key;

		kcip_table_remove(tbl, svc);
		kcip_svc_free_deferred(svc);
		kcip_ct_flush(net, &key, NULL, false);
	}
	kn->generation++;
}

int kcip_be_add(struct kcip_net *kn, struct kcip_service *svc,
		const struct kcip_backend *be, struct netlink_ext_ack *extack)
{
	const struct kcip_svc_cfg *old = kcip_cfg(kn, svc);
	struct kcip_svc_cfg *cfg;
	int pos, err;

	pos = kcip_be_index(old, &be->addr, be->port);
	if (pos >= 0) {
		NL_SET_ERR_MSG(extack, "Backend already exists");
		return -EEXIST;
	}
	pos = -pos - 1;
	if (kcip_tbl(kn)->n_backends >= kcip_max_backends) {
		NL_SET_ERR_MSG(extack,
			       "Backend limit of this netns reached (module parameter max_backends)");
		return -ENOSPC;
	}

	cfg = kcip_cfg_alloc(old->n_be + 1);
	if (!cfg)
		return -ENOMEM;
	cfg->opts = old->opts;
	memcpy(cfg->be, old->be, pos * sizeof(*cfg->be));
	memcpy(&cfg->be[pos + 1], &old->be[pos],
	       (old->n_be - pos) * sizeof(*cfg->be));
	cfg->be[pos] = *be;
	cfg->be[pos].stats = kcip_stats_alloc(KCIP_C_BE_MAX);
	if (!cfg->be[pos].stats) {
		err = -ENOMEM;
		goto err_free;
	}
	err = kcip_cfg_publish(kn, svc, cfg, extack);
	if (err)
		goto err_stats;
	return 0;

err_stats:
	free_percpu(cfg->be[pos].stats);
err_free:
	kcip_cfg_free(cfg);
	return err;
}

static int kcip_be_find(const struct kcip_svc_cfg *cfg,
			const struct kcip_backend *be,
			struct netlink_ext_ack *extack)
{
	int pos = kcip_be_index(cfg, &be->addr, be->port);

	if (pos < 0)
		NL_SET_ERR_MSG(extack, "Backend does not exist");
	return pos;
}

int kcip_be_change(struct net *net, struct kcip_service *svc,
		   const struct kcip_backend *be, u32 flags_mask,
		   bool has_weight, bool has_state,
		   struct netlink_ext_ack *extack)
{
	struct kcip_net *kn = kcip_pernet(net);
	const struct kcip_svc_cfg *old = kcip_cfg(kn, svc);
	struct kcip_backend *nbe, obe;
	struct kcip_svc_cfg *cfg;
	int pos, err;

	pos = kcip_be_find(old, be, extack);
	if (pos < 0)
		return -ENOENT;
	obe = old->be[pos];

	cfg = kcip_cfg_dup(old, old->n_be, U32_MAX);
	if (!cfg)
		return -ENOMEM;
	nbe = &cfg->be[pos];
	if (has_weight)
		nbe->weight = be->weight;
	if (has_state) {
		nbe->state = be->state;
		/* the control plane has spoken: quarantine ends */
		nbe->quarantined_until = 0;
	}
	nbe->flags = (nbe->flags & ~flags_mask) | (be->flags & flags_mask);

	err = kcip_cfg_publish(kn, svc, cfg, extack);
	if (err) {
		kcip_cfg_free(cfg);
		return err;
	}
	/* a backend set down loses its flows as a deleted one does */
	if (nbe->state == KCIP_BE_STATE_DOWN &&
	    obe.state != KCIP_BE_STATE_DOWN)
		kcip_ct_flush(net, &svc->key, &obe, false);
	return 0;
}

int kcip_be_del(struct net *net, struct kcip_service *svc,
		const struct kcip_backend *be, bool flush_tcp,
		struct netlink_ext_ack *extack)
{
	struct kcip_net *kn = kcip_pernet(net);
	struct kcip_svc_cfg *old = kcip_cfg(kn, svc);
	struct kcip_backend gone;
	struct kcip_svc_cfg *cfg;
	int pos, err;

	pos = kcip_be_find(old, be, extack);
	if (pos < 0)
		return -ENOENT;
	gone = old->be[pos];

	cfg = kcip_cfg_dup(old, old->n_be - 1, pos);
	if (!cfg)
		return -ENOMEM;
	/* the old config frees the stats once no packet can reach them */
	old->dead_stats = gone.stats;
	err = kcip_cfg_publish(kn, svc, cfg, extack);
	if (err) {
		old->dead_stats = NULL;
		kcip_cfg_free(cfg);
		return err;
	}
	kcip_ct_flush(net, &svc->key, &gone, flush_tcp);
	return 0;
}

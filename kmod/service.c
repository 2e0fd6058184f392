// SPDX-License-Identifier: GPL-2.0
/*
 * The Service table of a network namespace.
 *
 * Every function here runs under kcip_net.lock.  A change builds a new
 * struct kcip_svc_cfg, publishes it with rcu_replace_pointer() and frees
 * the old one after a grace period, so the packet path always sees a whole
 * config, old or new.
 */
#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <net/netlink.h>

#include "kclusterip.h"

static struct kcip_svc_cfg *kcip_cfg_alloc(u32 n_be)
{
	struct kcip_svc_cfg *cfg;
	size_t size;

	/* be[n_be], then pick[n_be] and cum[n_be] */
	size = size_add(struct_size(cfg, be, n_be),
			array_size(2 * sizeof(u32), n_be));
	cfg = kvzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!cfg)
		return NULL;
	cfg->n_be = n_be;
	cfg->pick = (u32 *)&cfg->be[n_be];
	cfg->cum = cfg->pick + n_be;
	return cfg;
}

/* Free a config no packet can see; the backends' stats are not its own. */
static void kcip_cfg_free(struct kcip_svc_cfg *cfg)
{
	free_percpu(cfg->dead_stats);
	kvfree(cfg->maglev);
	kvfree(cfg);
}

static void kcip_cfg_free_rcu(struct rcu_head *head)
{
	kcip_cfg_free(container_of(head, struct kcip_svc_cfg, rcu));
}

static struct kcip_svc_cfg *kcip_cfg(const struct kcip_net *kn,
				     const struct kcip_service *svc)
{
	return rcu_dereference_protected(svc->cfg, lockdep_is_held(&kn->lock));
}

/* Copy @old's backends, leaving out index @skip (or none if U32_MAX). */
static struct kcip_svc_cfg *kcip_cfg_dup(const struct kcip_svc_cfg *old,
					 u32 n_be, u32 skip)
{
	struct kcip_svc_cfg *cfg = kcip_cfg_alloc(n_be);
	u32 i, j = 0;

	if (!cfg)
		return NULL;
	cfg->opts = old->opts;
	for (i = 0; i < old->n_be && j < n_be; i++) {
		if (i == skip)
			continue;
		cfg->be[j++] = old->be[i];
	}
	return cfg;
}

static int kcip_cfg_publish(struct kcip_net *kn, struct kcip_service *svc,
			    struct kcip_svc_cfg *cfg,
			    struct netlink_ext_ack *extack)
{
	struct kcip_svc_cfg *old;
	u64 total = 0;
	u32 i;

	for (i = 0; i < cfg->n_be; i++)
		total += cfg->be[i].weight;
	if (total > U32_MAX) {
		NL_SET_ERR_MSG(extack,
			       "Sum of the Service's backend weights is too large");
		return -ERANGE;
	}
	if (kcip_sched_prepare(cfg))
		return -ENOMEM;

	old = rcu_replace_pointer(svc->cfg, cfg, lockdep_is_held(&kn->lock));
	if (old)
		call_rcu(&old->rcu, kcip_cfg_free_rcu);
	kn->generation++;
	return 0;
}

static int kcip_be_cmp(const union nf_inet_addr *a1, __be16 p1,
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

void kcip_stats_sum(const struct kcip_stats __percpu *stats,
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
			for (i = 0; i < KCIP_C_MAX; i++)
				c[i] = u64_stats_read(&s->c[i]);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		for (i = 0; i < KCIP_C_MAX; i++)
			sum->c[i] += c[i];
	}
}

static struct kcip_stats __percpu *kcip_stats_alloc(void)
{
	struct kcip_stats __percpu *stats;
	int cpu;

	stats = alloc_percpu_gfp(struct kcip_stats, GFP_KERNEL_ACCOUNT);
	if (!stats)
		return NULL;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(stats, cpu)->syncp);
	return stats;
}

bool kcip_key_is_nodeport(const struct kcip_svc_key *key)
{
	static const union nf_inet_addr any;

	return !memcmp(&key->addr, &any, sizeof(any));
}

struct kcip_service *kcip_svc_find(struct kcip_net *kn,
				   const struct kcip_svc_key *key)
{
	return rhashtable_lookup_fast(&kn->services, key, KCIP_SVC_PARAMS);
}

int kcip_svc_add(struct net *net, const struct kcip_svc_key *key,
		 const struct kcip_svc_opts *opts,
		 struct netlink_ext_ack *extack)
{
	struct kcip_net *kn = kcip_pernet(net);
	struct kcip_svc_cfg *cfg;
	struct kcip_service *svc;
	int err;

	if (kcip_svc_find(kn, key)) {
		NL_SET_ERR_MSG(extack, "Service already exists");
		return -EEXIST;
	}
	if (kn->n_services >= kcip_max_services) {
		NL_SET_ERR_MSG(extack,
			       "Service limit of this netns reached (module parameter max_services)");
		return -ENOSPC;
	}

	svc = kzalloc(sizeof(*svc), GFP_KERNEL_ACCOUNT);
	if (!svc)
		return -ENOMEM;
	svc->key = *key;
	svc->stats = kcip_stats_alloc();
	cfg = kcip_cfg_alloc(0);
	if (!svc->stats || !cfg) {
		err = -ENOMEM;
		goto err_free;
	}
	cfg->opts = *opts;
	RCU_INIT_POINTER(svc->cfg, cfg);

	if (!kn->hooks_on) {
		err = kcip_hooks_register(net);
		if (err) {
			NL_SET_ERR_MSG(extack,
				       "Cannot register the NAT hooks in this netns");
			goto err_free;
		}
		kn->hooks_on = true;
	}

	err = rhashtable_insert_fast(&kn->services, &svc->node,
				     KCIP_SVC_PARAMS);
	if (err)
		goto err_hooks;

	list_add_tail(&svc->list, &kn->svc_list);
	kn->n_services++;
	if (kcip_key_is_nodeport(key))
		WRITE_ONCE(kn->n_nodeport, kn->n_nodeport + 1);
	kn->generation++;
	return 0;

err_hooks:
	if (!kn->n_services) {
		kcip_hooks_unregister(net);
		kn->hooks_on = false;
	}
err_free:
	if (cfg)
		kcip_cfg_free(cfg);
	free_percpu(svc->stats);
	kfree(svc);
	return err;
}

int kcip_svc_change(struct kcip_net *kn, struct kcip_service *svc,
		    const struct kcip_svc_opts *opts,
		    struct netlink_ext_ack *extack)
{
	const struct kcip_svc_cfg *old = kcip_cfg(kn, svc);
	struct kcip_svc_cfg *cfg;
	int err;

	cfg = kcip_cfg_dup(old, old->n_be, U32_MAX);
	if (!cfg)
		return -ENOMEM;
	cfg->opts = *opts;
	err = kcip_cfg_publish(kn, svc, cfg, extack);
	if (err)
		kcip_cfg_free(cfg);
	return err;
}

static void kcip_svc_free_rcu(struct rcu_head *head)
{
	struct kcip_service *svc = container_of(head, struct kcip_service, rcu);
	/* the last grace period is over: nobody else can see the config */
	struct kcip_svc_cfg *cfg = rcu_dereference_protected(svc->cfg, 1);
	u32 i;

	for (i = 0; i < cfg->n_be; i++)
		free_percpu(cfg->be[i].stats);
	kcip_cfg_free(cfg);
	free_percpu(svc->stats);
	kfree(svc);
}

/* Unlink @svc; its memory goes after a grace period. */
static void kcip_svc_unlink(struct kcip_net *kn, struct kcip_service *svc)
{
	rhashtable_remove_fast(&kn->services, &svc->node, KCIP_SVC_PARAMS);
	list_del(&svc->list);
	kn->n_services--;
	if (kcip_key_is_nodeport(&svc->key))
		WRITE_ONCE(kn->n_nodeport, kn->n_nodeport - 1);
	kn->n_backends -= kcip_cfg(kn, svc)->n_be;
	kn->generation++;
}

static void kcip_hooks_maybe_off(struct net *net, struct kcip_net *kn)
{
	if (kn->n_services || !kn->hooks_on)
		return;
	kcip_hooks_unregister(net);
	kn->hooks_on = false;
}

void kcip_svc_del(struct net *net, struct kcip_service *svc)
{
	struct kcip_net *kn = kcip_pernet(net);
	struct kcip_svc_key key = svc->key;

	kcip_svc_unlink(kn, svc);
	call_rcu(&svc->rcu, kcip_svc_free_rcu);
	kcip_hooks_maybe_off(net, kn);
	/*
	 * UDP and SCTP flows would go on reaching the backends of a Service
	 * that is gone; TCP flows are left to finish, as Kubernetes does.
	 */
	kcip_ct_flush(net, &key, NULL, false);
}

void kcip_svc_flush(struct net *net)
{
	struct kcip_net *kn = kcip_pernet(net);
	struct kcip_service *svc, *tmp;

	list_for_each_entry_safe(svc, tmp, &kn->svc_list, list) {
		struct kcip_svc_key key = svc->key;

		kcip_svc_unlink(kn, svc);
		call_rcu(&svc->rcu, kcip_svc_free_rcu);
		kcip_ct_flush(net, &key, NULL, false);
	}
	kcip_hooks_maybe_off(net, kn);
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
	if (kn->n_backends >= kcip_max_backends) {
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
	cfg->be[pos].stats = kcip_stats_alloc();
	if (!cfg->be[pos].stats) {
		err = -ENOMEM;
		goto err_free;
	}
	err = kcip_cfg_publish(kn, svc, cfg, extack);
	if (err)
		goto err_stats;
	kn->n_backends++;
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
	if (has_state)
		nbe->state = be->state;
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
	kn->n_backends--;
	kcip_ct_flush(net, &svc->key, &gone, flush_tcp);
	return 0;
}

int kcip_net_init_table(struct kcip_net *kn)
{
	return rhashtable_init(&kn->services, &KCIP_SVC_PARAMS);
}

/* netns exit: the hooks are gone, nothing else can see the table */
void kcip_net_free_table(struct kcip_net *kn)
{
	struct kcip_service *svc, *tmp;

	list_for_each_entry_safe(svc, tmp, &kn->svc_list, list) {
		list_del(&svc->list);
		call_rcu(&svc->rcu, kcip_svc_free_rcu);
	}
	kn->n_services = 0;
	kn->n_backends = 0;
	rhashtable_destroy(&kn->services);
}

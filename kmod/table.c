// SPDX-License-Identifier: GPL-2.0
/*
 * The Service table of a network namespace.
 *
 * kcip_net.tbl points to the table the packet path reads.  Single changes
 * edit it in place (an rhashtable insert or remove, a config swap); a
 * restore builds a whole new table and swaps the pointer, so the packet
 * path sees the old state or the new one, never a mix.
 */
#include <linux/slab.h>

#include "kclusterip.h"

struct kcip_table *kcip_table_alloc(void)
{
	struct kcip_table *tbl;

	tbl = kzalloc(sizeof(*tbl), GFP_KERNEL_ACCOUNT);
	if (!tbl)
		return NULL;
	INIT_LIST_HEAD(&tbl->list);
	if (rhashtable_init(&tbl->ht, &KCIP_SVC_PARAMS)) {
		kfree(tbl);
		return NULL;
	}
	return tbl;
}

/* Free an emptied table that no packet can see any more. */
void kcip_table_free(struct kcip_table *tbl)
{
	WARN_ON_ONCE(!list_empty(&tbl->list));
	rhashtable_destroy(&tbl->ht);
	kfree(tbl);
}

bool kcip_key_is_nodeport(const struct kcip_svc_key *key)
{
	static const union nf_inet_addr any;

	return !memcmp(&key->addr, &any, sizeof(any));
}

struct kcip_service *kcip_table_find(struct kcip_table *tbl,
				     const struct kcip_svc_key *key)
{
	return rhashtable_lookup_fast(&tbl->ht, key, KCIP_SVC_PARAMS);
}

struct kcip_service *kcip_svc_find(struct kcip_net *kn,
				   const struct kcip_svc_key *key)
{
	return kcip_table_find(kcip_tbl(kn), key);
}

int kcip_table_insert(struct kcip_table *tbl, struct kcip_service *svc)
{
	int err;

	err = rhashtable_insert_fast(&tbl->ht, &svc->node, KCIP_SVC_PARAMS);
	if (err)
		return err;
	list_add_tail(&svc->list, &tbl->list);
	tbl->n_services++;
	tbl->n_backends += rcu_dereference_protected(svc->cfg, 1)->n_be;
	if (kcip_key_is_nodeport(&svc->key))
		WRITE_ONCE(tbl->n_nodeport, tbl->n_nodeport + 1);
	if (rcu_dereference_protected(svc->cfg, 1)->opts.flags &
	    KCIP_SVC_F_RETRY)
		WRITE_ONCE(tbl->n_retry, tbl->n_retry + 1);
	return 0;
}

void kcip_table_remove(struct kcip_table *tbl, struct kcip_service *svc)
{
	rhashtable_remove_fast(&tbl->ht, &svc->node, KCIP_SVC_PARAMS);
	list_del(&svc->list);
	tbl->n_services--;
	tbl->n_backends -= rcu_dereference_protected(svc->cfg, 1)->n_be;
	if (kcip_key_is_nodeport(&svc->key))
		WRITE_ONCE(tbl->n_nodeport, tbl->n_nodeport - 1);
	if (rcu_dereference_protected(svc->cfg, 1)->opts.flags &
	    KCIP_SVC_F_RETRY)
		WRITE_ONCE(tbl->n_retry, tbl->n_retry - 1);
}

/* Free a Service and all it owns, now: nothing may see it any more. */
void kcip_svc_free(struct kcip_service *svc)
{
	kcip_cfg_free_all(rcu_dereference_protected(svc->cfg, 1));
	free_percpu(svc->stats);
	kfree(svc);
}

static void kcip_svc_free_rcu(struct rcu_head *head)
{
	kcip_svc_free(container_of(head, struct kcip_service, rcu));
}

void kcip_svc_free_deferred(struct kcip_service *svc)
{
	call_rcu(&svc->rcu, kcip_svc_free_rcu);
}

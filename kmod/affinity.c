// SPDX-License-Identifier: GPL-2.0
/*
 * Session affinity "clientip": a client address keeps its backend for as
 * long as it opens new flows within the Service's timeout.
 *
 * One rhashtable per netns, keyed by (Service, client address).  Lookups
 * are lockless; an entry is immutable but for its expiry time, so a client
 * that must move is given a new entry.  Only a new client (or one that must
 * move) takes a bucket lock, on its first flow; every later flow reads.
 * An entry whose backend is gone, down or no longer eligible is ignored at
 * once and replaced; expired entries and those of Services that are gone
 * are reclaimed by a periodic walk.  Entries are bounded per netns by the
 * module parameter max_affinity.
 */
#include <linux/jiffies.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/netfilter/nf_conntrack.h>

#include "kclusterip.h"

unsigned int kcip_max_affinity __read_mostly = 262144;

#define KCIP_AFF_GC_INTERVAL	(5 * HZ)

struct kcip_aff_key {
	struct kcip_svc_key svc;
	union nf_inet_addr client;
};

struct kcip_aff {
	struct rhash_head node;
	struct kcip_aff_key key;
	union nf_inet_addr be_addr;
	__be16 be_port;
	unsigned long expires;		/* jiffies; READ_ONCE/WRITE_ONCE */
	struct rcu_head rcu;
};

static const struct rhashtable_params kcip_aff_params = {
	.key_len = sizeof(struct kcip_aff_key),
	.key_offset = offsetof(struct kcip_aff, key),
	.head_offset = offsetof(struct kcip_aff, node),
	.automatic_shrinking = true,
};

static void kcip_aff_key_fill(struct kcip_aff_key *key,
			      const struct kcip_service *svc,
			      const struct nf_conn *ct)
{
	const struct nf_conntrack_tuple *t =
		&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;

	memset(key, 0, sizeof(*key));
	key->svc = svc->key;
	if (svc->key.family == AF_INET)
		key->client.ip = t->src.u3.ip;
	else
		key->client.in6 = t->src.u3.in6;
}

static void kcip_aff_remove(struct kcip_net *kn, struct kcip_aff *aff)
{
	if (!rhashtable_remove_fast(&kn->affinity, &aff->node,
				    kcip_aff_params)) {
		atomic_dec(&kn->n_affinity);
		kfree_rcu(aff, rcu);
	}
}

/* The backend @aff names, if it may still take new flows. */
static const struct kcip_backend *
kcip_aff_backend(const struct kcip_svc_cfg *cfg, const struct kcip_aff *aff)
{
	int i;

	if (time_after_eq(jiffies, READ_ONCE(aff->expires)))
		return NULL;
	i = kcip_be_index(cfg, &aff->be_addr, aff->be_port);
	if (i < 0 || !kcip_be_eligible(cfg, &cfg->be[i]))
		return NULL;
	/* retry moved this client's flows elsewhere: so does affinity */
	if ((cfg->opts.flags & KCIP_SVC_F_RETRY) &&
	    kcip_be_quarantined(&cfg->be[i]))
		return NULL;
	return &cfg->be[i];
}

/*
 * Called on the packet path, under RCU, for a new flow of a Service with
 * client-IP affinity.
 */
const struct kcip_backend *kcip_aff_pick(struct kcip_net *kn,
					 struct kcip_service *svc,
					 const struct kcip_svc_cfg *cfg,
					 const struct nf_conn *ct)
{
	unsigned long timeout = (unsigned long)cfg->opts.affinity_timeout * HZ;
	const struct kcip_backend *be;
	struct kcip_aff *aff, *old;
	struct kcip_aff_key key;

	kcip_aff_key_fill(&key, svc, ct);
	aff = rhashtable_lookup(&kn->affinity, &key, kcip_aff_params);
	if (aff) {
		be = kcip_aff_backend(cfg, aff);
		if (be) {
			WRITE_ONCE(aff->expires, jiffies + timeout);
			return be;
		}
		/* gone, down, no longer eligible or expired: move on */
		kcip_aff_remove(kn, aff);
	}

	be = kcip_sched_pick(svc, cfg, ct);
	if (!be)
		return NULL;
	if (atomic_inc_return(&kn->n_affinity) > kcip_max_affinity)
		goto no_entry;
	aff = kzalloc(sizeof(*aff), GFP_ATOMIC);
	if (!aff)
		goto no_entry;
	aff->key = key;
	aff->be_addr = be->addr;
	aff->be_port = be->port;
	aff->expires = jiffies + timeout;

	old = rhashtable_lookup_get_insert_fast(&kn->affinity, &aff->node,
						kcip_aff_params);
	if (!old) {
		if (!delayed_work_pending(&kn->aff_gc))
			schedule_delayed_work(&kn->aff_gc,
					      KCIP_AFF_GC_INTERVAL);
		return be;
	}
	kfree(aff);
	atomic_dec(&kn->n_affinity);
	/* another CPU placed this client first: follow it if it can be */
	if (!IS_ERR(old)) {
		const struct kcip_backend *other = kcip_aff_backend(cfg, old);

		if (other)
			return other;
	}
	return be;

no_entry:
	atomic_dec(&kn->n_affinity);
	return be;
}

/* The backend client @client has affinity to, if valid; under RCU. */
const struct kcip_backend *kcip_aff_peek(struct kcip_net *kn,
					 const struct kcip_service *svc,
					 const struct kcip_svc_cfg *cfg,
					 const union nf_inet_addr *client)
{
	struct kcip_aff_key key;
	struct kcip_aff *aff;

	memset(&key, 0, sizeof(key));
	key.svc = svc->key;
	key.client = *client;
	aff = rhashtable_lookup(&kn->affinity, &key, kcip_aff_params);
	return aff ? kcip_aff_backend(cfg, aff) : NULL;
}

static bool kcip_aff_stale(struct kcip_net *kn, const struct kcip_aff *aff)
{
	const struct kcip_service *svc;
	const struct kcip_svc_cfg *cfg;

	if (time_after_eq(jiffies, READ_ONCE(aff->expires)))
		return true;
	svc = rhashtable_lookup(&rcu_dereference(kn->tbl)->ht, &aff->key.svc,
				KCIP_SVC_PARAMS);
	if (!svc)
		return true;
	cfg = rcu_dereference(svc->cfg);
	return cfg->opts.affinity != KCIP_AFFINITY_CLIENTIP;
}

static void kcip_aff_gc(struct work_struct *work)
{
	struct kcip_net *kn = container_of(to_delayed_work(work),
					   struct kcip_net, aff_gc);
	struct rhashtable_iter iter;
	struct kcip_aff *aff;

	rhashtable_walk_enter(&kn->affinity, &iter);
	rhashtable_walk_start(&iter);
	while ((aff = rhashtable_walk_next(&iter))) {
		if (IS_ERR(aff))
			continue;	/* -EAGAIN: a resize, walk on */
		if (kcip_aff_stale(kn, aff))
			kcip_aff_remove(kn, aff);
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);

	if (atomic_read(&kn->n_affinity))
		schedule_delayed_work(&kn->aff_gc, KCIP_AFF_GC_INTERVAL);
}

int kcip_aff_init(struct kcip_net *kn)
{
	atomic_set(&kn->n_affinity, 0);
	INIT_DELAYED_WORK(&kn->aff_gc, kcip_aff_gc);
	return rhashtable_init(&kn->affinity, &kcip_aff_params);
}

static void kcip_aff_free(void *ptr, void *arg)
{
	kfree(ptr);
}

/* netns exit, after the hooks are gone and a grace period has passed */
void kcip_aff_exit(struct kcip_net *kn)
{
	cancel_delayed_work_sync(&kn->aff_gc);
	rhashtable_free_and_destroy(&kn->affinity, kcip_aff_free, NULL);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kclusterip internal definitions.
 *
 * Per network namespace, Services live in an rhashtable keyed by
 * (address, port, family, protocol) and in a list kept for dumps.  Everything
 * the packet path reads of a Service (options and backends) is one
 * struct kcip_svc_cfg, replaced whole under RCU on each change and never
 * edited in place.  Changes are serialised by the per-netns mutex.
 */
#ifndef _KCLUSTERIP_H
#define _KCLUSTERIP_H

#include <linux/bottom_half.h>
#include <linux/mutex.h>
#include <linux/rhashtable.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>
#include <linux/netfilter.h>
#include <net/net_namespace.h>
#include <linux/kclusterip.h>

struct netlink_ext_ack;

/* Hash key: laid out without padding and always fully initialised. */
struct kcip_svc_key {
	union nf_inet_addr addr;
	__be16 port;
	u8 family;
	u8 proto;
};

/*
 * A backend has the first KCIP_C_BE_MAX counters, a Service all of them:
 * per-CPU memory is counted per backend times the number of CPUs.
 */
enum kcip_counter {
	KCIP_C_NEW_FLOWS,
	KCIP_C_PACKETS,
	KCIP_C_BYTES,
	KCIP_C_FAILURES,	/* backend: failures seen by retry */
	KCIP_C_BE_MAX,
	KCIP_C_REJECTS = KCIP_C_BE_MAX,
	KCIP_C_DROPS,
	KCIP_C_RETRIES,		/* Service: flows sent to another backend */
	KCIP_C_MAX
};

/* Per-CPU counters of a Service or a backend: as many as it has. */
struct kcip_stats {
	struct u64_stats_sync syncp;
	u64_stats_t c[];
};

struct kcip_stats_sum {
	u64 c[KCIP_C_MAX];
};

/*
 * Count one event on this CPU.  LOCAL_OUT may run in process context:
 * keep softirqs off while the counters change, as nft_counter does.
 */
static inline void kcip_stats_inc(struct kcip_stats __percpu *stats,
				  enum kcip_counter c)
{
	struct kcip_stats *s;

	local_bh_disable();
	s = this_cpu_ptr(stats);
	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->c[c]);
	u64_stats_update_end(&s->syncp);
	local_bh_enable();
}

struct kcip_backend {
	union nf_inet_addr addr;
	__be16 port;
	u8 state;		/* enum kcip_be_state */
	u8 flags;		/* enum kcip_be_flags */
	u32 weight;
	/* owned by the backend for its whole life, shared by the configs */
	struct kcip_stats __percpu *stats;
	/*
	 * The one field the packet path writes (retry.c, READ_ONCE and
	 * WRITE_ONCE): jiffies until which the backend takes no new flow;
	 * 0 when it is not quarantined.  Copied into a config's successor.
	 */
	unsigned long quarantined_until;
};

/* Service options, as set by the control plane. */
struct kcip_svc_opts {
	u8 sched;
	u8 affinity;
	u8 traffic_policy;
	u8 no_endpoints;
	u32 flags;
	u32 affinity_timeout;
	u32 quarantine;
};

/*
 * What the packet path reads of a Service.  Backends are kept sorted by
 * (address, port) so that lookups are a binary search and the array does
 * not depend on the order they were added in.  pick[] holds, for the
 * backends eligible for new flows, the index into be[] and cum[] the
 * running sum of their weights: a weighted random choice is one random
 * number and a binary search, with no lock.
 */
struct kcip_svc_cfg {
	struct rcu_head rcu;
	struct kcip_svc_opts opts;
	u32 n_be;
	u32 n_pick;
	u32 pick_total;
	u8 pick_state;		/* the state eligible backends are in */
	u32 rr_stride;		/* KCIP_SCHED_RR, rounds over KCIP_RR_SEQ_MAX */
	u32 rr_len;		/* KCIP_SCHED_RR: length of rr_seq */
	u32 *rr_seq;		/* KCIP_SCHED_RR: a round, as indexes into be[] */
	u32 maglev_size;	/* KCIP_SCHED_MAGLEV: a prime */
	u32 *maglev;		/* maglev_size indexes into be[] */
	/* stats of a backend this config no longer has, freed with it */
	struct kcip_stats __percpu *dead_stats;
	u32 *pick;
	u32 *cum;
	struct kcip_backend *be;	/* n_be, then pick[] and cum[] */
};

struct kcip_service {
	struct rhash_head node;
	struct kcip_svc_key key;
	struct list_head list;
	struct kcip_svc_cfg __rcu *cfg;
	struct kcip_stats __percpu *stats;
	atomic_t rr_next;
	u32 dump_off;		/* active-flow counting, under kcip_net.lock */
	struct rcu_head rcu;
};

/* The Services of a netns: kcip_net.tbl, or a restore's new state. */
struct kcip_table {
	struct rhashtable ht;
	struct list_head list;		/* in insertion order, for dumps */
	u32 n_services;
	u32 n_backends;
	u32 n_nodeport;			/* Services at 0.0.0.0 or :: */
	u32 n_retry;			/* Services with retry on */
};

struct kcip_net {
	struct mutex lock;		/* serialises every change */
	struct kcip_table __rcu *tbl;
	u64 generation;			/* bumped by every change */
	bool hooks_on;			/* NAT hooks registered in this netns */
	bool retry_on;			/* and retry's, retry.c */
	struct list_head stages;	/* restores being staged, restore.c */
	struct rhashtable affinity;	/* client -> backend, affinity.c */
	atomic_t n_affinity;
	struct delayed_work aff_gc;
};

/* A constant expression, so that every inline lookup is specialised. */
#define KCIP_SVC_PARAMS ((const struct rhashtable_params) {		\
	.key_len = sizeof(struct kcip_svc_key),				\
	.key_offset = offsetof(struct kcip_service, key),		\
	.head_offset = offsetof(struct kcip_service, node),		\
	.automatic_shrinking = true,					\
})

/* module parameters */
extern unsigned int kcip_max_affinity;
extern unsigned int kcip_max_services;
extern unsigned int kcip_max_backends;
extern bool kcip_userns;

struct kcip_net *kcip_pernet(const struct net *net);

/* The current table, for the control plane (under kcip_net.lock). */
static inline struct kcip_table *kcip_tbl(struct kcip_net *kn)
{
	return rcu_dereference_protected(kn->tbl, lockdep_is_held(&kn->lock));
}

/* cfg.c: a Service's config and counters */
struct kcip_svc_cfg *kcip_cfg_alloc(u32 n_be);
void kcip_cfg_free(struct kcip_svc_cfg *cfg);
void kcip_cfg_free_deferred(struct kcip_svc_cfg *cfg);
void kcip_cfg_free_all(struct kcip_svc_cfg *cfg);
struct kcip_svc_cfg *kcip_cfg_dup(const struct kcip_svc_cfg *old, u32 n_be,
				  u32 skip);
int kcip_cfg_prepare(struct kcip_svc_cfg *cfg, struct netlink_ext_ack *extack);
bool kcip_cfg_same(const struct kcip_svc_cfg *a, const struct kcip_svc_cfg *b);
int kcip_be_cmp(const union nf_inet_addr *a1, __be16 p1,
		const union nf_inet_addr *a2, __be16 p2);
int kcip_be_index(const struct kcip_svc_cfg *cfg,
		  const union nf_inet_addr *addr, __be16 port);
struct kcip_stats __percpu *kcip_stats_alloc(unsigned int n);
void kcip_stats_sum(const struct kcip_stats __percpu *stats, unsigned int n,
		    struct kcip_stats_sum *sum);

/* table.c: a table of Services */
struct kcip_table *kcip_table_alloc(void);
void kcip_table_free(struct kcip_table *tbl);
bool kcip_key_is_nodeport(const struct kcip_svc_key *key);
struct kcip_service *kcip_table_find(struct kcip_table *tbl,
				     const struct kcip_svc_key *key);
struct kcip_service *kcip_svc_find(struct kcip_net *kn,
				   const struct kcip_svc_key *key);
int kcip_table_insert(struct kcip_table *tbl, struct kcip_service *svc);
void kcip_table_remove(struct kcip_table *tbl, struct kcip_service *svc);
void kcip_svc_free(struct kcip_service *svc);
void kcip_svc_free_deferred(struct kcip_service *svc);

/* service.c: single changes, under kcip_net.lock */
int kcip_hooks_need(struct net *net, bool retry,
		    struct netlink_ext_ack *extack);
int kcip_svc_add(struct net *net, const struct kcip_svc_key *key,
		 const struct kcip_svc_opts *opts,
		 struct netlink_ext_ack *extack);
int kcip_svc_change(struct net *net, struct kcip_service *svc,
		    const struct kcip_svc_opts *opts,
		    struct netlink_ext_ack *extack);
void kcip_svc_del(struct net *net, struct kcip_service *svc);
void kcip_svc_flush(struct net *net);
int kcip_be_add(struct kcip_net *kn, struct kcip_service *svc,
		const struct kcip_backend *be, struct netlink_ext_ack *extack);
int kcip_be_change(struct net *net, struct kcip_service *svc,
		   const struct kcip_backend *be, u32 flags_mask,
		   bool has_weight, bool has_state,
		   struct netlink_ext_ack *extack);
int kcip_be_del(struct net *net, struct kcip_service *svc,
		const struct kcip_backend *be, bool flush_tcp,
		struct netlink_ext_ack *extack);

/* restore.c: whole-state transactions */
struct kcip_stage;
struct kcip_restore_counts {
	u32 added;
	u32 changed;
	u32 deleted;
	u32 unchanged;
};

/* Did a restore change anything?  If not, it kept the old generation. */
static inline bool kcip_restore_changed(const struct kcip_restore_counts *c)
{
	return c->added || c->changed || c->deleted;
}

struct kcip_stage *kcip_stage_begin(struct kcip_net *kn, u32 portid);
struct kcip_stage *kcip_stage_find(struct kcip_net *kn, u32 portid);
void kcip_stage_abort(struct kcip_stage *stage);
int kcip_stage_add(struct kcip_stage *stage, const struct kcip_svc_key *key,
		   const struct kcip_svc_opts *opts,
		   const struct kcip_backend *be, u32 n_be, bool append,
		   struct netlink_ext_ack *extack);
int kcip_stage_commit(struct net *net, struct kcip_stage *stage,
		      struct kcip_restore_counts *counts,
		      struct netlink_ext_ack *extack);
void kcip_stages_free(struct kcip_net *kn);
int kcip_restore_init(void);
void kcip_restore_exit(void);

/* sched.c: eligibility and choice of a backend */
extern unsigned int kcip_maglev_min_size;
int kcip_sched_prepare(struct kcip_svc_cfg *cfg);
const struct kcip_backend *kcip_sched_pick(struct kcip_service *svc,
					   const struct kcip_svc_cfg *cfg,
					   const struct nf_conn *ct);
const struct kcip_backend *kcip_sched_peek(struct kcip_service *svc,
					   const struct kcip_svc_cfg *cfg,
					   const struct nf_conntrack_tuple *t,
					   u8 family);
u32 kcip_tuple_hash(const struct nf_conntrack_tuple *t, u8 family,
		    bool client_only);
bool kcip_be_eligible(const struct kcip_svc_cfg *cfg,
		      const struct kcip_backend *be);

/* affinity.c: client-IP session affinity */
const struct kcip_backend *kcip_aff_pick(struct kcip_net *kn,
					 struct kcip_service *svc,
					 const struct kcip_svc_cfg *cfg,
					 const struct nf_conn *ct);
const struct kcip_backend *kcip_aff_peek(struct kcip_net *kn,
					 const struct kcip_service *svc,
					 const struct kcip_svc_cfg *cfg,
					 const union nf_inet_addr *client);
int kcip_aff_init(struct kcip_net *kn);
void kcip_aff_exit(struct kcip_net *kn);

/* retry.c: passive health checks */
bool kcip_be_quarantined(const struct kcip_backend *be);
int kcip_retry_register(struct net *net);
void kcip_retry_unregister(struct net *net);

/* hook.c: the NAT hook of a netns */
bool kcip_addr_is_local(struct net *net, u8 family,
			const union nf_inet_addr *addr);
int kcip_hooks_register(struct net *net);
void kcip_hooks_unregister(struct net *net);

/* conntrack.c: drop the flows of what was removed */
void kcip_ct_flush(struct net *net, const struct kcip_svc_key *key,
		   const struct kcip_backend *be, bool tcp_too);
void kcip_ct_flush_diff(struct net *net, struct kcip_table *old,
			struct kcip_table *new);
void kcip_ct_key(const struct nf_conn *ct, struct kcip_svc_key *key);
int kcip_ct_backend_index(const struct kcip_svc_cfg *cfg,
			  const struct nf_conn *ct);
struct kcip_service *kcip_ct_service(struct kcip_table *tbl,
				     const struct nf_conn *ct);
u64 *kcip_ct_active(struct net *net, u32 *n);

/* netlink.c */
int kcip_genl_init(void);
void kcip_genl_exit(void);

#endif /* _KCLUSTERIP_H */

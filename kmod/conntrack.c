// SPDX-License-Identifier: GPL-2.0
/*
 * Conntrack is the source of truth for a flow's backend.  When a backend
 * goes away (or down), the flows nf_nat bound to it must go too, or UDP
 * clients that keep their 5-tuple (DNS resolvers do) would send into a
 * black hole until the entry times out: kube-proxy's best-known failure.
 * TCP flows are left to finish unless asked, as Kubernetes does.
 */
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_tuple.h>

#include "kclusterip.h"

struct kcip_ct_match {
	struct kcip_net *kn;
	const struct kcip_svc_key *key;
	bool nodeport;
	const struct kcip_backend *be;	/* NULL: every backend */
	bool tcp_too;
};

static bool kcip_addr_eq(u8 family, const union nf_inet_addr *a,
			 const union nf_inet_addr *b)
{
	if (family == AF_INET)
		return a->ip == b->ip;
	return ipv6_addr_equal(&a->in6, &b->in6);
}

static int kcip_ct_matches(struct nf_conn *ct, void *data)
{
	const struct kcip_ct_match *m = data;
	const struct nf_conntrack_tuple *orig, *reply;

	if (!(ct->status & IPS_DST_NAT) || nf_ct_l3num(ct) != m->key->family)
		return 0;

	orig = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	if (orig->dst.protonum != m->key->proto ||
	    orig->dst.u.all != m->key->port)
		return 0;
	if (m->nodeport) {
		/* to one of the node's addresses, not to a VIP of its own */
		struct kcip_svc_key vip = *m->key;

		vip.addr = orig->dst.u3;
		if (m->key->family == AF_INET)
			memset(&vip.addr.all[1], 0, 3 * sizeof(vip.addr.all[1]));
		if (kcip_svc_find(m->kn, &vip))
			return 0;
	} else if (!kcip_addr_eq(m->key->family, &orig->dst.u3,
				 &m->key->addr)) {
		return 0;
	}
	if (orig->dst.protonum == IPPROTO_TCP && !m->tcp_too)
		return 0;

	if (!m->be)
		return 1;
	reply = &ct->tuplehash[IP_CT_DIR_REPLY].tuple;
	return reply->src.u.all == m->be->port &&
	       kcip_addr_eq(m->key->family, &reply->src.u3, &m->be->addr);
}

/* Remove the NATed flows of Service @key (to backend @be, if given). */
void kcip_ct_flush(struct net *net, const struct kcip_svc_key *key,
		   const struct kcip_backend *be, bool tcp_too)
{
	struct kcip_ct_match m = {
		.kn = kcip_pernet(net),
		.key = key,
		.nodeport = kcip_key_is_nodeport(key),
		.be = be,
		.tcp_too = tcp_too,
	};
	struct nf_ct_iter_data iter = { .net = net, .data = &m };

	if (key->proto == IPPROTO_TCP && !tcp_too)
		return;
	nf_ct_iterate_cleanup_net(kcip_ct_matches, &iter);
}

struct kcip_ct_diff {
	struct kcip_table *old;
	struct kcip_table *new;
};

/* The key of the Service a flow's original tuple is addressed to. */
void kcip_ct_key(const struct nf_conn *ct, struct kcip_svc_key *key)
{
	const struct nf_conntrack_tuple *t =
		&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;

	memset(key, 0, sizeof(*key));
	key->family = nf_ct_l3num(ct);
	if (key->family == AF_INET)
		key->addr.ip = t->dst.u3.ip;
	else
		key->addr.in6 = t->dst.u3.in6;
	key->proto = t->dst.protonum;
	key->port = t->dst.u.all;
}

/* Index in @cfg of the backend @ct was sent to, or negative. */
int kcip_ct_backend_index(const struct kcip_svc_cfg *cfg,
			  const struct nf_conn *ct)
{
	const struct nf_conntrack_tuple *reply =
		&ct->tuplehash[IP_CT_DIR_REPLY].tuple;
	union nf_inet_addr addr;

	memset(&addr, 0, sizeof(addr));
	if (nf_ct_l3num(ct) == AF_INET)
		addr.ip = reply->src.u3.ip;
	else
		addr.in6 = reply->src.u3.in6;
	return kcip_be_index(cfg, &addr, reply->src.u.all);
}

/*
 * The Service of @tbl that NATed @ct: its VIP's, or a NodePort's.  Under
 * RCU or the netns lock.
 */
struct kcip_service *kcip_ct_service(struct kcip_table *tbl,
				     const struct nf_conn *ct)
{
	struct kcip_service *svc;
	struct kcip_svc_key key;

	kcip_ct_key(ct, &key);
	svc = rhashtable_lookup(&tbl->ht, &key, KCIP_SVC_PARAMS);
	if (svc || !READ_ONCE(tbl->n_nodeport))
		return svc;
	memset(&key.addr, 0, sizeof(key.addr));
	return rhashtable_lookup(&tbl->ht, &key, KCIP_SVC_PARAMS);
}

/* A UDP or SCTP flow whose Service or backend is gone, or down, in new. */
static int kcip_ct_diff_matches(struct nf_conn *ct, void *data)
{
	const struct kcip_ct_diff *d = data;
	struct kcip_service *o, *n;
	const struct kcip_svc_cfg *nc;
	int i;

	if (!(ct->status & IPS_DST_NAT) ||
	    nf_ct_protonum(ct) == IPPROTO_TCP)
		return 0;
	rcu_read_lock();
	o = kcip_ct_service(d->old, ct);
	rcu_read_unlock();
	if (!o)
		return 0;
	n = kcip_table_find(d->new, &o->key);
	if (!n)
		return 1;
	nc = rcu_dereference_protected(n->cfg, 1);
	if (nc == rcu_dereference_protected(o->cfg, 1))
		return 0;
	i = kcip_ct_backend_index(nc, ct);
	return i < 0 || nc->be[i].state == KCIP_BE_STATE_DOWN;
}

/* After a restore: one walk of the conntrack table for all that went. */
void kcip_ct_flush_diff(struct net *net, struct kcip_table *old,
			struct kcip_table *new)
{
	struct kcip_ct_diff d = { .old = old, .new = new };
	struct nf_ct_iter_data iter = { .net = net, .data = &d };

	if (!old->n_services)
		return;
	nf_ct_iterate_cleanup_net(kcip_ct_diff_matches, &iter);
}

struct kcip_ct_active {
	struct kcip_table *tbl;
	u64 *count;
	u32 n;
};

/* Count @ct for its Service and backend; never removes anything. */
static int kcip_ct_active_count(struct nf_conn *ct, void *data)
{
	const struct kcip_ct_active *a = data;
	const struct kcip_svc_cfg *cfg;
	struct kcip_service *svc;
	int i;

	if (!(ct->status & IPS_DST_NAT))
		return 0;
	rcu_read_lock();
	svc = kcip_ct_service(a->tbl, ct);
	if (!svc || svc->dump_off >= a->n)
		goto out;
	a->count[svc->dump_off]++;
	cfg = rcu_dereference(svc->cfg);
	i = kcip_ct_backend_index(cfg, ct);
	if (i >= 0 && svc->dump_off + 1 + i < a->n)
		a->count[svc->dump_off + 1 + i]++;
out:
	rcu_read_unlock();
	return 0;
}

/*
 * Active flows of every Service and backend of the netns, by one walk of
 * the conntrack table: a slot per Service followed by one per backend, in
 * table order.  Under kcip_net.lock; kvfree() the result.
 */
u64 *kcip_ct_active(struct net *net, u32 *n)
{
	struct kcip_table *tbl = kcip_tbl(kcip_pernet(net));
	struct kcip_ct_active a = { .tbl = tbl };
	struct nf_ct_iter_data iter = { .net = net, .data = &a };
	struct kcip_service *svc;
	u32 off = 0;

	a.n = tbl->n_services + tbl->n_backends;
	a.count = kvcalloc(a.n ?: 1, sizeof(*a.count), GFP_KERNEL);
	if (!a.count)
		return NULL;
	list_for_each_entry(svc, &tbl->list, list) {
		svc->dump_off = off;
		off += 1 + rcu_dereference_protected(svc->cfg, 1)->n_be;
	}
	nf_ct_iterate_cleanup_net(kcip_ct_active_count, &iter);
	*n = a.n;
	return a.count;
}

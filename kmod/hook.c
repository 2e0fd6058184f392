// SPDX-License-Identifier: GPL-2.0
/*
 * The packet path: NAT lookup functions registered with nf_nat, as
 * iptable_nat and nft_chain_nat register theirs.  nf_nat calls them only
 * for the first packet of a flow whose NAT of that kind is not set up yet.
 *
 * At PRE_ROUTING and LOCAL_OUT we pick a backend and hand it to
 * nf_nat_setup_info() as a destination NAT; at POSTROUTING we masquerade
 * the flows of Services that ask for it and hairpin flows.  nf_nat and
 * conntrack translate the rest of the flow and its replies (ICMP errors
 * included).  Where we set nothing up, the next NAT function at the same
 * hook (iptables, nft) gets its turn.
 */
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/inetdevice.h>
#include <net/addrconf.h>
#include <net/route.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_nat.h>
#include <net/netfilter/nf_nat_masquerade.h>
#include <net/netfilter/ipv4/nf_reject.h>
#include <net/netfilter/ipv6/nf_reject.h>

#include "kclusterip.h"

static void kcip_stats_packet(struct kcip_stats __percpu *stats,
			      unsigned int len)
{
	struct kcip_stats *s;

	local_bh_disable();
	s = this_cpu_ptr(stats);
	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->c[KCIP_C_PACKETS]);
	u64_stats_add(&s->c[KCIP_C_BYTES], len);
	u64_stats_update_end(&s->syncp);
	local_bh_enable();
}

bool kcip_addr_is_local(struct net *net, u8 family,
			const union nf_inet_addr *addr)
{
	if (family == AF_INET)
		return !ipv4_is_loopback(addr->ip) &&
		       inet_addr_type(net, addr->ip) == RTN_LOCAL;
	return !ipv6_addr_loopback(&addr->in6) &&
	       ipv6_chk_addr(net, &addr->in6, NULL, 0);
}

/*
 * The Service a flow's original tuple is addressed to: its own virtual IP,
 * or else a NodePort entry when the destination is an address of this
 * node (never for traffic only routed through it).
 */
static struct kcip_service *kcip_lookup(struct net *net, struct kcip_net *kn,
					const struct nf_conn *ct)
{
	struct kcip_service *svc;
	struct kcip_table *tbl;
	struct kcip_svc_key key;

	kcip_ct_key(ct, &key);
	tbl = rcu_dereference(kn->tbl);
	svc = rhashtable_lookup(&tbl->ht, &key, KCIP_SVC_PARAMS);
	if (svc || !READ_ONCE(tbl->n_nodeport))
		return svc;
	if (!kcip_addr_is_local(net, key.family, &key.addr))
		return NULL;
	memset(&key.addr, 0, sizeof(key.addr));
	return rhashtable_lookup(&tbl->ht, &key, KCIP_SVC_PARAMS);
}

/* No usable backend: answer as Kubernetes does, or drop. */
static unsigned int kcip_no_backend(const struct kcip_service *svc,
				    const struct kcip_svc_cfg *cfg,
				    struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	if (cfg->opts.no_endpoints == KCIP_NO_ENDPOINTS_DROP) {
		kcip_stats_inc(svc->stats, KCIP_C_DROPS);
		return NF_DROP;
	}

	kcip_stats_inc(svc->stats, KCIP_C_REJECTS);
	if (state->pf == NFPROTO_IPV4)
		nf_send_unreach(skb, ICMP_PORT_UNREACH, state->hook);
	else
		nf_send_unreach6(state->net, skb, ICMPV6_PORT_UNREACH,
				 state->hook);
	return NF_DROP;
}

static unsigned int kcip_dnat_fn(void *priv, struct sk_buff *skb,
				 const struct nf_hook_state *state)
{
	const struct kcip_backend *be;
	const struct kcip_svc_cfg *cfg;
	struct nf_nat_range2 range;
	enum ip_conntrack_info ctinfo;
	struct kcip_service *svc;
	struct kcip_net *kn;
	struct nf_conn *ct;
	unsigned int ret;

	ct = nf_ct_get(skb, &ctinfo);
	/* related flows (ICMP errors, helpers' expectations) are not ours */
	if (!ct || ctinfo != IP_CT_NEW)
		return NF_ACCEPT;

	kn = kcip_pernet(state->net);
	svc = kcip_lookup(state->net, kn, ct);
	if (!svc)
		return NF_ACCEPT;

	cfg = rcu_dereference(svc->cfg);
	if (cfg->opts.affinity == KCIP_AFFINITY_CLIENTIP)
		be = kcip_aff_pick(kn, svc, cfg, ct);
	else
		be = kcip_sched_pick(svc, cfg, ct);
	if (!be)
		return kcip_no_backend(svc, cfg, skb, state);

	memset(&range, 0, sizeof(range));
	range.flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED;
	range.min_addr = be->addr;
	range.max_addr = be->addr;
	range.min_proto.all = be->port;
	range.max_proto.all = be->port;

	ret = nf_nat_setup_info(ct, &range, NF_NAT_MANIP_DST);
	if (ret == NF_ACCEPT) {
		kcip_stats_inc(svc->stats, KCIP_C_NEW_FLOWS);
		kcip_stats_inc(be->stats, KCIP_C_NEW_FLOWS);
	}
	return ret;
}

/*
 * Masquerade a Service's flows when it asks for it, and always a hairpin
 * flow (a backend reaching its own Service and picked for it): without a
 * new source the backend would answer itself directly.
 */
static unsigned int kcip_snat_fn(void *priv, struct sk_buff *skb,
				 const struct nf_hook_state *state)
{
	const struct nf_conntrack_tuple *orig, *reply;
	const struct kcip_svc_cfg *cfg;
	enum ip_conntrack_info ctinfo;
	struct nf_nat_range2 range;
	struct kcip_service *svc;
	struct nf_conn *ct;
	bool hairpin;

	ct = nf_ct_get(skb, &ctinfo);
	if (!ct || ctinfo != IP_CT_NEW || !(ct->status & IPS_DST_NAT))
		return NF_ACCEPT;

	svc = kcip_lookup(state->net, kcip_pernet(state->net), ct);
	if (!svc)
		return NF_ACCEPT;
	cfg = rcu_dereference(svc->cfg);

	orig = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	reply = &ct->tuplehash[IP_CT_DIR_REPLY].tuple;
	hairpin = nf_inet_addr_cmp(&orig->src.u3, &reply->src.u3);
	if (!hairpin && !(cfg->opts.flags & KCIP_SVC_F_MASQUERADE))
		return NF_ACCEPT;

	memset(&range, 0, sizeof(range));
	if (state->pf == NFPROTO_IPV4)
		return nf_nat_masquerade_ipv4(skb, state->hook, &range,
					      state->out);
	return nf_nat_masquerade_ipv6(skb, &range, state->out);
}

/*
 * Count every packet of a flow we translated, both ways, on the packet's
 * first hook after NAT (PRE_ROUTING for what comes in, replies included;
 * LOCAL_OUT for what the node sends).  The cost: for each packet of a
 * destination-NATed flow, the Service lookup again and a binary search
 * for its backend.
 */
static unsigned int kcip_count_fn(void *priv, struct sk_buff *skb,
				  const struct nf_hook_state *state)
{
	const struct kcip_svc_cfg *cfg;
	enum ip_conntrack_info ctinfo;
	struct kcip_service *svc;
	struct nf_conn *ct;
	int i;

	ct = nf_ct_get(skb, &ctinfo);
	if (!ct || !(ct->status & IPS_DST_NAT_DONE))
		return NF_ACCEPT;
	svc = kcip_ct_service(rcu_dereference(kcip_pernet(state->net)->tbl),
			      ct);
	if (!svc)
		return NF_ACCEPT;
	kcip_stats_packet(svc->stats, skb->len);

	cfg = rcu_dereference(svc->cfg);
	i = kcip_ct_backend_index(cfg, ct);
	if (i >= 0)
		kcip_stats_packet(cfg->be[i].stats, skb->len);
	return NF_ACCEPT;
}

static const struct nf_hook_ops kcip_count_ops[] = {
	{
		.hook = kcip_count_fn,
		.pf = NFPROTO_INET,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = NF_IP_PRI_NAT_DST + 1,
	},
	{
		.hook = kcip_count_fn,
		.pf = NFPROTO_INET,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP_PRI_NAT_DST + 1,
	},
};

static const struct nf_hook_ops kcip_nat_ops[] = {
	{
		.hook = kcip_dnat_fn,
		.pf = NFPROTO_INET,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = NF_IP_PRI_NAT_DST,
	},
	{
		.hook = kcip_dnat_fn,
		.pf = NFPROTO_INET,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP_PRI_NAT_DST,
	},
	{
		.hook = kcip_snat_fn,
		.pf = NFPROTO_INET,
		.hooknum = NF_INET_POST_ROUTING,
		.priority = NF_IP_PRI_NAT_SRC,
	},
};

/*
 * Called when a netns gets its first Service: until then its traffic does
 * not pass through us, nor through conntrack on our account.
 */
int kcip_hooks_register(struct net *net)
{
	int i, err;

	err = nf_ct_netns_get(net, NFPROTO_INET);
	if (err)
		return err;

	for (i = 0; i < ARRAY_SIZE(kcip_nat_ops); i++) {
		err = nf_nat_inet_register_fn(net, &kcip_nat_ops[i]);
		if (err)
			goto err_unreg;
	}
	err = nf_register_net_hooks(net, kcip_count_ops,
				    ARRAY_SIZE(kcip_count_ops));
	if (err)
		goto err_unreg;
	return 0;

err_unreg:
	while (i--)
		nf_nat_inet_unregister_fn(net, &kcip_nat_ops[i]);
	nf_ct_netns_put(net, NFPROTO_INET);
	return err;
}

void kcip_hooks_unregister(struct net *net)
{
	struct kcip_net *kn = kcip_pernet(net);
	int i;

	if (kn->retry_on) {
		kcip_retry_unregister(net);
		kn->retry_on = false;
	}
	nf_unregister_net_hooks(net, kcip_count_ops,
				ARRAY_SIZE(kcip_count_ops));
	for (i = 0; i < ARRAY_SIZE(kcip_nat_ops); i++)
		nf_nat_inet_unregister_fn(net, &kcip_nat_ops[i]);
	nf_ct_netns_put(net, NFPROTO_INET);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The packet path: a NAT lookup function registered with nf_nat at
 * PRE_ROUTING and LOCAL_OUT, as iptable_nat and nft_chain_nat register
 * theirs.  nf_nat calls it only for the first packet of a flow whose
 * destination NAT is not set up yet; we pick a backend and hand it to
 * nf_nat_setup_info().  nf_nat and conntrack translate the rest of the flow
 * and its replies.  If we set nothing up, the next NAT function at the same
 * hook (iptables, nft) gets its turn.
 */
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_nat.h>
#include <net/netfilter/ipv4/nf_reject.h>
#include <net/netfilter/ipv6/nf_reject.h>

#include "kclusterip.h"

static const struct rhashtable_params kcip_hook_params = {
	.key_len = sizeof(struct kcip_svc_key),
	.key_offset = offsetof(struct kcip_service, key),
	.head_offset = offsetof(struct kcip_service, node),
};

/*
 * LOCAL_OUT may run in process context: keep softirqs off while this CPU's
 * counters change, as nft_counter does.
 */
static void kcip_stats_inc(struct kcip_stats __percpu *stats,
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

static unsigned int kcip_nat_fn(void *priv, struct sk_buff *skb,
				const struct nf_hook_state *state)
{
	const struct nf_conntrack_tuple *t;
	const struct kcip_backend *be;
	const struct kcip_svc_cfg *cfg;
	struct nf_nat_range2 range;
	struct kcip_service *svc;
	enum ip_conntrack_info ctinfo;
	struct kcip_svc_key key;
	struct kcip_net *kn;
	struct nf_conn *ct;
	unsigned int ret;

	ct = nf_ct_get(skb, &ctinfo);
	/* related flows (ICMP errors, helpers' expectations) are not ours */
	if (!ct || ctinfo != IP_CT_NEW)
		return NF_ACCEPT;

	t = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	memset(&key, 0, sizeof(key));
	if (state->pf == NFPROTO_IPV4) {
		key.family = AF_INET;
		key.addr.ip = t->dst.u3.ip;
	} else {
		key.family = AF_INET6;
		key.addr.in6 = t->dst.u3.in6;
	}
	key.proto = t->dst.protonum;
	key.port = t->dst.u.all;

	kn = kcip_pernet(state->net);
	svc = rhashtable_lookup(&kn->services, &key, kcip_hook_params);
	if (!svc)
		return NF_ACCEPT;

	cfg = rcu_dereference(svc->cfg);
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

static const struct nf_hook_ops kcip_nat_ops[] = {
	{
		.hook = kcip_nat_fn,
		.pf = NFPROTO_INET,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = NF_IP_PRI_NAT_DST,
	},
	{
		.hook = kcip_nat_fn,
		.pf = NFPROTO_INET,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP_PRI_NAT_DST,
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
	return 0;

err_unreg:
	while (i--)
		nf_nat_inet_unregister_fn(net, &kcip_nat_ops[i]);
	nf_ct_netns_put(net, NFPROTO_INET);
	return err;
}

void kcip_hooks_unregister(struct net *net)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(kcip_nat_ops); i++)
		nf_nat_inet_unregister_fn(net, &kcip_nat_ops[i]);
	nf_ct_netns_put(net, NFPROTO_INET);
}

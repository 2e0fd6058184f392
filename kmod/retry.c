// SPDX-License-Identifier: GPL-2.0
/*
 * Retry (passive health): for Services with "retry on", a new flow whose
 * backend refuses it or cannot be reached is given another backend, and
 * the failed backend takes no new flow for the Service's quarantine time.
 *
 * Three signs of failure, for a flow that has had no proper answer yet:
 * - a TCP RST in answer to the SYN, from the backend;
 * - an ICMP or ICMPv6 destination-unreachable about the flow, from the
 *   backend or from the node itself (no route, no neighbour);
 * - the client sending its SYN again: no SYN-ACK came in time.
 * For the first two, the flow's conntrack entry is removed and the error
 * dropped, so the client's next SYN (or datagram) starts a new flow that
 * picks another backend.  For the third, the entry is removed just before
 * conntrack sees the retransmitted SYN, so that very SYN goes elsewhere.
 * When every eligible backend is quarantined, errors pass as usual.
 *
 * The hooks exist only in a netns with Services, and cost a test of the
 * Service table's retry count when no Service has retry on.
 */
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_zones.h>
#include <net/netfilter/nf_conntrack_tuple.h>

#include "kclusterip.h"
#include "nl.h"

bool kcip_be_quarantined(const struct kcip_backend *be)
{
	unsigned long until = READ_ONCE(be->quarantined_until);

	return until && time_before(jiffies, until);
}

static bool kcip_retry_wanted(struct net *net)
{
	struct kcip_table *tbl = rcu_dereference(kcip_pernet(net)->tbl);

	return tbl && READ_ONCE(tbl->n_retry);
}

/* The backend @ct was sent to, in its Service's current config. */
static struct kcip_backend *kcip_ct_backend(const struct kcip_svc_cfg *cfg,
					    const struct nf_conn *ct)
{
	int i = kcip_ct_backend_index(cfg, ct);

	return i < 0 ? NULL : (struct kcip_backend *)&cfg->be[i];
}

static bool kcip_other_backend_left(const struct kcip_svc_cfg *cfg,
				    const struct kcip_backend *failed)
{
	u32 i;

	for (i = 0; i < cfg->n_pick; i++) {
		const struct kcip_backend *be = &cfg->be[cfg->pick[i]];

		if (be != failed && !kcip_be_quarantined(be))
			return true;
	}
	return false;
}

/*
 * @ct's backend failed it.  Quarantine the backend; returns true when the
 * flow should move on (another backend is left): the caller removes the
 * entry and drops what would have told the client.
 */
static bool kcip_retry_failed(struct net *net, struct nf_conn *ct)
{
	const struct kcip_svc_cfg *cfg;
	struct kcip_service *svc;
	struct kcip_backend *be;
	unsigned long until;

	if (!(ct->status & IPS_DST_NAT))
		return false;
	svc = kcip_ct_service(rcu_dereference(kcip_pernet(net)->tbl), ct);
	if (!svc)
		return false;
	cfg = rcu_dereference(svc->cfg);
	if (!(cfg->opts.flags & KCIP_SVC_F_RETRY))
		return false;
	be = kcip_ct_backend(cfg, ct);
	if (!be)
		return false;

	if (!kcip_be_quarantined(be)) {
		until = jiffies + (unsigned long)cfg->opts.quarantine * HZ;
		WRITE_ONCE(be->quarantined_until, until ?: 1);
		kcip_stats_inc(be->stats, KCIP_C_FAILURES);
		kcip_notify_quarantine(net, &svc->key, be);
	}
	if (!kcip_other_backend_left(cfg, be))
		return false;
	kcip_stats_inc(svc->stats, KCIP_C_RETRIES);
	return true;
}

/* Where the transport header starts, and which protocol it is; or -1. */
static int kcip_l4_offset(const struct sk_buff *skb, u8 pf, u8 *proto)
{
	unsigned int nhoff = skb_network_offset(skb);
	__be16 frag_off;
	int off;

	if (pf == NFPROTO_IPV4) {
		const struct iphdr *iph = ip_hdr(skb);

		if (ip_is_fragment(iph))
			return -1;
		*proto = iph->protocol;
		return nhoff + ip_hdrlen(skb);
	}
	*proto = ipv6_hdr(skb)->nexthdr;
	off = ipv6_skip_exthdr(skb, nhoff + sizeof(struct ipv6hdr), proto,
			       &frag_off);
	return off < 0 || frag_off ? -1 : off;
}

static bool kcip_is_unreach(const struct sk_buff *skb, u8 pf)
{
	int off;
	u8 proto;

	off = kcip_l4_offset(skb, pf, &proto);
	if (off < 0)
		return false;
	if (pf == NFPROTO_IPV4) {
		const struct icmphdr *ih;
		struct icmphdr _ih;

		if (proto != IPPROTO_ICMP)
			return false;
		ih = skb_header_pointer(skb, off, sizeof(_ih), &_ih);
		/* "fragmentation needed" is path MTU discovery, not a failure */
		return ih && ih->type == ICMP_DEST_UNREACH &&
		       ih->code != ICMP_FRAG_NEEDED;
	} else {
		const struct icmp6hdr *ih;
		struct icmp6hdr _ih;

		if (proto != IPPROTO_ICMPV6)
			return false;
		ih = skb_header_pointer(skb, off, sizeof(_ih), &_ih);
		return ih && ih->icmp6_type == ICMPV6_DEST_UNREACH;
	}
}

static const struct tcphdr *kcip_tcp_header(const struct sk_buff *skb, u8 pf,
					    struct tcphdr *buf)
{
	int off;
	u8 proto;

	off = kcip_l4_offset(skb, pf, &proto);
	if (off < 0 || proto != IPPROTO_TCP)
		return NULL;
	return skb_header_pointer(skb, off, sizeof(*buf), buf);
}

/*
 * After conntrack: an RST or an unreachable error coming back for a flow
 * that never got a proper answer.
 */
static unsigned int kcip_retry_answer_fn(void *priv, struct sk_buff *skb,
					 const struct nf_hook_state *state)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct;
	bool fail = false;

	if (!kcip_retry_wanted(state->net))
		return NF_ACCEPT;
	ct = nf_ct_get(skb, &ctinfo);
	if (!ct || test_bit(IPS_ASSURED_BIT, &ct->status))
		return NF_ACCEPT;

	if (ctinfo == IP_CT_RELATED_REPLY) {
		fail = kcip_is_unreach(skb, state->pf);
	} else if (ctinfo == IP_CT_ESTABLISHED_REPLY &&
		   nf_ct_protonum(ct) == IPPROTO_TCP) {
		const struct tcphdr *th;
		struct tcphdr _th;

		th = kcip_tcp_header(skb, state->pf, &_th);
		fail = th && th->rst;
	}
	if (!fail || !kcip_retry_failed(state->net, ct))
		return NF_ACCEPT;

	/*
	 * An error the node sends while forwarding the first packet comes
	 * with the flow's entry not yet confirmed: that one is not in the
	 * table to remove, and goes away with the dropped packet.
	 */
	if (nf_ct_is_confirmed(ct))
		nf_ct_kill(ct);
	return NF_DROP;
}

/*
 * Before conntrack: a SYN again on an entry that has had no answer.  Its
 * entry goes, so conntrack makes a new one and NAT picks again.
 */
static unsigned int kcip_retry_syn_fn(void *priv, struct sk_buff *skb,
				      const struct nf_hook_state *state)
{
	struct nf_conntrack_tuple_hash *h;
	struct nf_conntrack_tuple tuple;
	const struct tcphdr *th;
	struct tcphdr _th;
	struct nf_conn *ct;
	unsigned int nhoff = skb_network_offset(skb);
	u8 l3num = state->pf == NFPROTO_IPV4 ? AF_INET : AF_INET6;

	if (!kcip_retry_wanted(state->net) || skb_nfct(skb))
		return NF_ACCEPT;
	th = kcip_tcp_header(skb, state->pf, &_th);
	if (!th || !th->syn || th->ack || th->rst)
		return NF_ACCEPT;

	if (!nf_ct_get_tuplepr(skb, nhoff, l3num, state->net, &tuple))
		return NF_ACCEPT;
	h = nf_conntrack_find_get(state->net, &nf_ct_zone_dflt, &tuple);
	if (!h)
		return NF_ACCEPT;
	ct = nf_ct_tuplehash_to_ctrack(h);
	if (NF_CT_DIRECTION(h) == IP_CT_DIR_ORIGINAL &&
	    !test_bit(IPS_SEEN_REPLY_BIT, &ct->status) &&
	    kcip_retry_failed(state->net, ct))
		nf_ct_delete(ct, 0, 0);
	nf_ct_put(ct);
	return NF_ACCEPT;
}

static const struct nf_hook_ops kcip_retry_ops[] = {
	{
		.hook = kcip_retry_syn_fn,
		.pf = NFPROTO_INET,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = NF_IP_PRI_CONNTRACK - 1,
	},
	{
		.hook = kcip_retry_syn_fn,
		.pf = NFPROTO_INET,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP_PRI_CONNTRACK - 1,
	},
	{
		.hook = kcip_retry_answer_fn,
		.pf = NFPROTO_INET,
		.hooknum = NF_INET_PRE_ROUTING,
		.priority = NF_IP_PRI_CONNTRACK + 1,
	},
	{
		/* errors the node itself sends: no route, no neighbour */
		.hook = kcip_retry_answer_fn,
		.pf = NFPROTO_INET,
		.hooknum = NF_INET_LOCAL_OUT,
		.priority = NF_IP_PRI_CONNTRACK + 1,
	},
};

int kcip_retry_register(struct net *net)
{
	return nf_register_net_hooks(net, kcip_retry_ops,
				     ARRAY_SIZE(kcip_retry_ops));
}

void kcip_retry_unregister(struct net *net)
{
	nf_unregister_net_hooks(net, kcip_retry_ops,
				ARRAY_SIZE(kcip_retry_ops));
}

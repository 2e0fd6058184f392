// SPDX-License-Identifier: GPL-2.0
/*
 * What the family tells: Services in dumps and GET replies, and changes
 * on the "monitor" multicast group.
 */
#include <net/genetlink.h>
#include <net/sock.h>

#include "kclusterip.h"
#include "nl.h"

int kcip_put_addr(struct sk_buff *skb, u8 family, int a4, int a6,
		  const union nf_inet_addr *addr)
{
	if (family == AF_INET)
		return nla_put_in_addr(skb, a4, addr->ip);
	return nla_put_in6_addr(skb, a6, &addr->in6);
}

static int kcip_put_u64(struct sk_buff *skb, int type, u64 v)
{
	return nla_put_u64_64bit(skb, type, v, KCIP_A_STATS_PAD);
}

/* A STATS nest; @active is the active-flow count when one was made. */
static int kcip_put_stats(struct sk_buff *skb, int type,
			  const struct kcip_stats __percpu *stats, bool svc,
			  const u64 *active)
{
	struct kcip_stats_sum sum;
	struct nlattr *nest;

	kcip_stats_sum(stats, svc ? KCIP_C_MAX : KCIP_C_BE_MAX, &sum);
	nest = nla_nest_start(skb, type);
	if (!nest)
		return -EMSGSIZE;
	if (kcip_put_u64(skb, KCIP_A_STATS_NEW_FLOWS, sum.c[KCIP_C_NEW_FLOWS]) ||
	    kcip_put_u64(skb, KCIP_A_STATS_PACKETS, sum.c[KCIP_C_PACKETS]) ||
	    kcip_put_u64(skb, KCIP_A_STATS_BYTES, sum.c[KCIP_C_BYTES]) ||
	    (active &&
	     kcip_put_u64(skb, KCIP_A_STATS_ACTIVE_FLOWS, *active)) ||
	    (!svc &&
	     kcip_put_u64(skb, KCIP_A_STATS_FAILURES,
			  sum.c[KCIP_C_FAILURES])) ||
	    (svc &&
	     (kcip_put_u64(skb, KCIP_A_STATS_REJECTS, sum.c[KCIP_C_REJECTS]) ||
	      kcip_put_u64(skb, KCIP_A_STATS_DROPS, sum.c[KCIP_C_DROPS]) ||
	      kcip_put_u64(skb, KCIP_A_STATS_RETRIES,
			   sum.c[KCIP_C_RETRIES])))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int kcip_put_be_active(struct sk_buff *skb, u8 family,
			      const struct kcip_backend *be,
			      const u64 *active);

/* A BACKEND nest; with its counters when it has them. */
int kcip_put_be(struct sk_buff *skb, u8 family, const struct kcip_backend *be)
{
	return kcip_put_be_active(skb, family, be, NULL);
}

static int kcip_put_be_active(struct sk_buff *skb, u8 family,
			      const struct kcip_backend *be,
			      const u64 *active)
{
	struct nlattr *nest = nla_nest_start(skb, KCIP_A_BACKEND);

	if (!nest)
		return -EMSGSIZE;
	if (kcip_put_addr(skb, family, KCIP_A_BE_ADDR4, KCIP_A_BE_ADDR6,
			  &be->addr) ||
	    nla_put_be16(skb, KCIP_A_BE_PORT, be->port) ||
	    nla_put_u32(skb, KCIP_A_BE_WEIGHT, be->weight) ||
	    nla_put_u8(skb, KCIP_A_BE_STATE, be->state) ||
	    nla_put_u32(skb, KCIP_A_BE_FLAGS, be->flags) ||
	    (kcip_be_quarantined(be) &&
	     nla_put_u32(skb, KCIP_A_BE_QUARANTINE,
			 DIV_ROUND_UP(READ_ONCE(be->quarantined_until) -
				      jiffies, HZ))) ||
	    (be->stats &&
	     kcip_put_stats(skb, KCIP_A_BE_STATS, be->stats, false,
			    active))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int kcip_put_svc_ident(struct sk_buff *skb,
			      const struct kcip_svc_key *key)
{
	if (nla_put_u16(skb, KCIP_A_SVC_FAMILY, key->family) ||
	    nla_put_u8(skb, KCIP_A_SVC_PROTO, key->proto) ||
	    kcip_put_addr(skb, key->family, KCIP_A_SVC_ADDR4,
			  KCIP_A_SVC_ADDR6, &key->addr) ||
	    nla_put_be16(skb, KCIP_A_SVC_PORT, key->port))
		return -EMSGSIZE;
	return 0;
}

static int kcip_put_svc_opts(struct sk_buff *skb,
			     const struct kcip_svc_opts *o)
{
	if (nla_put_u8(skb, KCIP_A_SVC_SCHED, o->sched) ||
	    nla_put_u8(skb, KCIP_A_SVC_AFFINITY, o->affinity) ||
	    nla_put_u32(skb, KCIP_A_SVC_AFFINITY_TIMEOUT,
			o->affinity_timeout) ||
	    nla_put_u8(skb, KCIP_A_SVC_TRAFFIC_POLICY, o->traffic_policy) ||
	    nla_put_u8(skb, KCIP_A_SVC_NO_ENDPOINTS, o->no_endpoints) ||
	    nla_put_u32(skb, KCIP_A_SVC_FLAGS, o->flags) ||
	    nla_put_u32(skb, KCIP_A_SVC_QUARANTINE, o->quarantine))
		return -EMSGSIZE;
	return 0;
}

/* A SERVICE nest: identity, and options when given. */
int kcip_put_svc(struct sk_buff *skb, const struct kcip_svc_key *key,
		 const struct kcip_svc_opts *opts)
{
	struct nlattr *nest = nla_nest_start(skb, KCIP_A_SERVICE);

	if (!nest)
		return -EMSGSIZE;
	if (kcip_put_svc_ident(skb, key) ||
	    (opts && kcip_put_svc_opts(skb, opts))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * One message for @svc with its backends from *@be_pos on, as many as fit.
 * Returns 0 when the last backend went in, 1 when more are left (*@be_pos
 * says where to go on), -EMSGSIZE when nothing useful fit.
 */
static int kcip_fill_svc(struct sk_buff *skb, u32 portid, u32 seq, int flags,
			 struct kcip_net *kn, const struct kcip_service *svc,
			 u32 *be_pos, struct netlink_callback *cb,
			 const u64 *active)
{
	const struct kcip_svc_cfg *cfg;
	struct nlattr *nest, *bnest;
	void *hdr;
	u32 i;

	cfg = rcu_dereference_protected(svc->cfg, lockdep_is_held(&kn->lock));
	hdr = genlmsg_put(skb, portid, seq, &kcip_genl_family, flags,
			  KCIP_CMD_SERVICE_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);

	if (nla_put_u64_64bit(skb, KCIP_A_GENERATION, kn->generation,
			      KCIP_A_PAD))
		goto cancel;
	nest = nla_nest_start(skb, KCIP_A_SERVICE);
	if (!nest || kcip_put_svc_ident(skb, &svc->key) ||
	    kcip_put_svc_opts(skb, &cfg->opts) ||
	    kcip_put_stats(skb, KCIP_A_SVC_STATS, svc->stats, true, active))
		goto cancel;
	bnest = nla_nest_start(skb, KCIP_A_SVC_BACKENDS);
	if (!bnest)
		goto cancel;
	for (i = *be_pos; i < cfg->n_be; i++)
		if (kcip_put_be_active(skb, svc->key.family, &cfg->be[i],
				       active ? &active[1 + i] : NULL))
			break;
	/* a part without any backend would make no progress */
	if (i == *be_pos && i < cfg->n_be)
		goto cancel;
	nla_nest_end(skb, bnest);
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	*be_pos = i;
	return i < cfg->n_be;

cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* A dump opens with the generation alone, so even an empty one has it. */
static int kcip_fill_generation(struct sk_buff *skb,
				struct netlink_callback *cb,
				struct kcip_net *kn)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &kcip_genl_family, NLM_F_MULTI, KCIP_CMD_SERVICE_GET);
	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);
	if (nla_put_u64_64bit(skb, KCIP_A_GENERATION, kn->generation,
			      KCIP_A_PAD)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * Dump cursor: cb->args[0] is the index of the Service in the list,
 * cb->args[1] the first backend still to send, cb->args[2] whether the
 * generation went out.  A change between two parts bumps the generation,
 * which flags the dump NLM_F_DUMP_INTR.  With KCIP_OP_F_ACTIVE, .start
 * counts active flows: cb->args[3] holds the counts, cb->args[4] how many,
 * cb->args[5] the generation they were counted at.
 */
int kcip_nl_svc_dump_start(struct netlink_callback *cb)
{
	struct nlattr *flags = kcip_dump_attr(cb, KCIP_A_FLAGS);
	struct nlattr *only = kcip_dump_attr(cb, KCIP_A_SERVICE);
	struct net *net = sock_net(cb->skb->sk);
	struct kcip_net *kn = kcip_pernet(net);
	struct nlattr *tb[KCIP_A_SVC_MAX + 1];
	struct kcip_svc_key key;
	u32 n;
	u64 *active;
	int err;

	/* a dump of one Service: its identity must be whole */
	if (only) {
		err = kcip_parse_svc(only, kcip_svc_policy, tb, &key, false,
				     NULL);
		if (err)
			return err;
	}
	if (!flags || !(nla_get_u32(flags) & KCIP_OP_F_ACTIVE))
		return 0;
	mutex_lock(&kn->lock);
	active = kcip_ct_active(net, &n);
	cb->args[5] = (u32)kn->generation ?: 1;
	mutex_unlock(&kn->lock);
	if (!active)
		return -ENOMEM;
	cb->args[3] = (unsigned long)active;
	cb->args[4] = n;
	return 0;
}

int kcip_nl_svc_dump_done(struct netlink_callback *cb)
{
	kvfree((u64 *)cb->args[3]);
	return 0;
}

/*
 * The dump of the one Service named by @nest, in as many parts as its
 * backends need: "kcipctl service show SVC" at any table size.  A Service
 * that does not exist gives a dump with the generation alone.
 */
static void kcip_svc_dump_one(struct sk_buff *skb, struct netlink_callback *cb,
			      struct kcip_net *kn, struct nlattr *nest,
			      unsigned long *idx, u32 *be_pos)
{
	const u64 *active = (const u64 *)cb->args[3];
	struct nlattr *tb[KCIP_A_SVC_MAX + 1];
	const struct kcip_svc_cfg *cfg;
	struct kcip_service *svc;
	struct kcip_svc_key key;

	/* checked by kcip_nl_svc_dump_start() */
	if (*idx || kcip_parse_svc(nest, kcip_svc_policy, tb, &key, false,
				   NULL))
		return;
	svc = kcip_svc_find(kn, &key);
	if (!svc) {
		*idx = 1;
		return;
	}
	cfg = rcu_dereference_protected(svc->cfg, lockdep_is_held(&kn->lock));
	if (active && svc->dump_off + 1 + cfg->n_be > cb->args[4])
		active = NULL;
	if (!kcip_fill_svc(skb, NETLINK_CB(cb->skb).portid,
			   cb->nlh->nlmsg_seq, NLM_F_MULTI, kn, svc, be_pos, cb,
			   active ? &active[svc->dump_off] : NULL)) {
		*idx = 1;
		*be_pos = 0;
	}
}

int kcip_nl_svc_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kcip_net *kn = kcip_pernet(sock_net(skb->sk));
	struct nlattr *only = kcip_dump_attr(cb, KCIP_A_SERVICE);
	unsigned long idx = cb->args[0], i = 0;
	const u64 *active = (const u64 *)cb->args[3];
	u32 be_pos = cb->args[1], off = 0;
	struct kcip_service *svc;
	int ret;

	mutex_lock(&kn->lock);
	cb->seq = (u32)kn->generation ?: 1;
	/* counts made at another generation than this part's: flag it */
	if (active && !cb->prev_seq)
		cb->prev_seq = cb->args[5];
	if (!cb->args[2]) {
		if (kcip_fill_generation(skb, cb, kn))
			goto out;
		cb->args[2] = 1;
	}
	if (only) {
		kcip_svc_dump_one(skb, cb, kn, only, &idx, &be_pos);
		goto out;
	}
	list_for_each_entry(svc, &kcip_tbl(kn)->list, list) {
		const struct kcip_svc_cfg *cfg =
			rcu_dereference_protected(svc->cfg,
						  lockdep_is_held(&kn->lock));
		u32 here = off;

		off += 1 + cfg->n_be;
		if (i++ < idx)
			continue;
		ret = kcip_fill_svc(skb, NETLINK_CB(cb->skb).portid,
				    cb->nlh->nlmsg_seq, NLM_F_MULTI, kn, svc,
				    &be_pos, cb,
				    active && off <= cb->args[4] ?
				    &active[here] : NULL);
		if (ret)
			break;
		idx++;
		be_pos = 0;
	}
out:
	mutex_unlock(&kn->lock);

	cb->args[0] = idx;
	cb->args[1] = be_pos;
	return skb->len;
}

int kcip_nl_svc_get(struct sk_buff *skb, struct genl_info *info)
{
	struct kcip_net *kn = kcip_pernet(genl_info_net(info));
	struct nlattr *tb[KCIP_A_SVC_MAX + 1];
	const struct kcip_svc_cfg *cfg;
	struct kcip_service *svc;
	struct kcip_svc_key key;
	struct sk_buff *msg;
	u64 *active = NULL;
	u32 be_pos = 0, n;
	size_t size;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KCIP_A_SERVICE))
		return -EINVAL;
	err = kcip_parse_svc(info->attrs[KCIP_A_SERVICE], kcip_svc_policy, tb,
			     &key, false, info->extack);
	if (err)
		return err;

	mutex_lock(&kn->lock);
	svc = kcip_find_or_err(kn, &key, info);
	if (!svc) {
		err = -ENOENT;
		goto out;
	}
	cfg = rcu_dereference_protected(svc->cfg, lockdep_is_held(&kn->lock));
	/* a generous bound: a backend takes well under 128 bytes */
	size = NLMSG_GOODSIZE + (size_t)cfg->n_be * 128;
	msg = genlmsg_new(size, GFP_KERNEL);
	if (!msg) {
		err = -ENOMEM;
		goto out;
	}
	if (info->attrs[KCIP_A_FLAGS] &&
	    (nla_get_u32(info->attrs[KCIP_A_FLAGS]) & KCIP_OP_F_ACTIVE)) {
		active = kcip_ct_active(genl_info_net(info), &n);
		if (!active) {
			nlmsg_free(msg);
			err = -ENOMEM;
			goto out;
		}
	}
	err = kcip_fill_svc(msg, info->snd_portid, info->snd_seq, 0, kn, svc,
			    &be_pos, NULL,
			    active && svc->dump_off + 1 + cfg->n_be <= n ?
			    &active[svc->dump_off] : NULL);
	if (err) {
		nlmsg_free(msg);
		err = err < 0 ? err : -EMSGSIZE;
		goto out;
	}
	err = genlmsg_reply(msg, info);
out:
	mutex_unlock(&kn->lock);
	kvfree(active);
	return err;
}

/*
 * An event for the "monitor" group, or NULL when nobody listens (or there
 * is no memory: events are best effort, the generation tells what was
 * missed).  kcip_event_send() sends it.
 */
void *kcip_event_start(struct net *net, u8 cmd, gfp_t gfp,
		       struct sk_buff **msg)
{
	void *hdr;

	if (!genl_has_listeners(&kcip_genl_family, net, KCIP_MCGRP_MONITOR_ID))
		return NULL;
	*msg = genlmsg_new(NLMSG_GOODSIZE, gfp);
	if (!*msg)
		return NULL;
	hdr = genlmsg_put(*msg, 0, 0, &kcip_genl_family, 0, cmd);
	if (!hdr)
		nlmsg_free(*msg);
	return hdr;
}

/* Send what kcip_event_start() began; @ok false: it did not fit, drop it. */
void kcip_event_send(struct net *net, struct sk_buff *msg, void *hdr,
		     bool ok, gfp_t gfp)
{
	if (!ok) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&kcip_genl_family, net, msg, 0,
				KCIP_MCGRP_MONITOR_ID, gfp);
}

/*
 * Tell the "monitor" group about a change: @cmd with the Service's identity
 * (and options, @opts), and a backend (@be) for backend changes.
 */
void kcip_notify(struct net *net, u8 cmd, const struct kcip_svc_key *key,
		 const struct kcip_svc_opts *opts,
		 const struct kcip_backend *be)
{
	struct kcip_net *kn = kcip_pernet(net);
	struct sk_buff *msg;
	void *hdr;

	hdr = kcip_event_start(net, cmd, GFP_KERNEL, &msg);
	if (!hdr)
		return;
	kcip_event_send(net, msg, hdr,
			!nla_put_u64_64bit(msg, KCIP_A_GENERATION,
					   kn->generation, KCIP_A_PAD) &&
			!(key && kcip_put_svc(msg, key, opts)) &&
			!(be && kcip_put_be(msg, key->family, be)),
			GFP_KERNEL);
}

/* A backend change: the backend as it is now, or as it was when deleted. */
void kcip_notify_be(struct net *net, struct kcip_net *kn,
		    const struct kcip_service *svc,
		    const struct kcip_backend *be, u8 cmd)
{
	const struct kcip_svc_cfg *cfg;
	struct kcip_backend now;
	int i;

	cfg = rcu_dereference_protected(svc->cfg, lockdep_is_held(&kn->lock));
	i = kcip_be_index(cfg, &be->addr, be->port);
	now = i >= 0 ? cfg->be[i] : *be;
	now.stats = NULL;
	kcip_notify(net, cmd, &svc->key, NULL, &now);
}

/*
 * Retry quarantined a backend: said from the packet path, so without
 * sleeping, and without the generation (no change was made).
 */
void kcip_notify_quarantine(struct net *net, const struct kcip_svc_key *key,
			    const struct kcip_backend *be)
{
	struct kcip_backend now = *be;
	struct sk_buff *msg;
	void *hdr;

	hdr = kcip_event_start(net, KCIP_CMD_BACKEND_QUARANTINE, GFP_ATOMIC,
			       &msg);
	if (!hdr)
		return;
	now.stats = NULL;
	kcip_event_send(net, msg, hdr,
			!kcip_put_svc(msg, key, NULL) &&
			!kcip_put_be(msg, key->family, &now), GFP_ATOMIC);
}

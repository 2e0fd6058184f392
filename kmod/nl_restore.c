// SPDX-License-Identifier: GPL-2.0
/*
 * The family's whole-state commands, restore, and explain.
 */
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/netfilter/nf_conntrack_tuple.h>

#include "kclusterip.h"
#include "nl.h"

int kcip_nl_restore_begin(struct sk_buff *skb, struct genl_info *info)
{
	struct kcip_net *kn = kcip_pernet(genl_info_net(info));
	int err;

	err = kcip_may_change(skb, info);
	if (err)
		return err;
	mutex_lock(&kn->lock);
	if (!kcip_stage_begin(kn, info->snd_portid))
		err = -ENOMEM;
	mutex_unlock(&kn->lock);
	return err;
}

static struct kcip_stage *kcip_stage_or_err(struct kcip_net *kn,
					    struct genl_info *info)
{
	struct kcip_stage *stage = kcip_stage_find(kn, info->snd_portid);

	if (!stage)
		NL_SET_ERR_MSG(info->extack,
			       "No restore is open on this socket (RESTORE_BEGIN first)");
	return stage;
}

int kcip_nl_restore_abort(struct sk_buff *skb, struct genl_info *info)
{
	struct kcip_net *kn = kcip_pernet(genl_info_net(info));
	struct kcip_stage *stage;
	int err;

	err = kcip_may_change(skb, info);
	if (err)
		return err;
	mutex_lock(&kn->lock);
	stage = kcip_stage_or_err(kn, info);
	if (stage)
		kcip_stage_abort(stage);
	mutex_unlock(&kn->lock);
	return stage ? 0 : -ENOENT;
}

/* The backends of a staged Service: an array of BACKEND nests. */
static struct kcip_backend *kcip_parse_be_array(struct nlattr *array,
						const struct kcip_svc_key *key,
						u32 *n_be,
						struct netlink_ext_ack *extack)
{
	bool has_weight, has_state;
	struct kcip_backend *be;
	struct nlattr *attr;
	int rem, err;
	u32 n = 0, mask;

	*n_be = 0;
	if (!array)
		return NULL;
	nla_for_each_nested(attr, array, rem)
		n++;
	if (!n)
		return NULL;
	be = kvmalloc_array(n, sizeof(*be), GFP_KERNEL_ACCOUNT);
	if (!be)
		return ERR_PTR(-ENOMEM);
	n = 0;
	nla_for_each_nested(attr, array, rem) {
		err = kcip_parse_be(attr, key, &be[n], false, &has_weight,
				    &has_state, &mask, extack);
		if (err) {
			kvfree(be);
			return ERR_PTR(err);
		}
		n++;
	}
	*n_be = n;
	return be;
}

/* A transaction with a refused part cannot be committed: drop it. */
static int kcip_stage_refuse(struct kcip_net *kn, struct genl_info *info,
			     int err)
{
	struct kcip_stage *stage;

	mutex_lock(&kn->lock);
	stage = kcip_stage_find(kn, info->snd_portid);
	if (stage)
		kcip_stage_abort(stage);
	mutex_unlock(&kn->lock);
	return err;
}

int kcip_nl_restore_service(struct sk_buff *skb, struct genl_info *info)
{
	struct kcip_net *kn = kcip_pernet(genl_info_net(info));
	struct nlattr *tb[KCIP_A_SVC_MAX + 1];
	struct kcip_svc_opts opts;
	struct kcip_stage *stage;
	struct kcip_backend *be;
	struct kcip_svc_key key;
	bool append = false;
	u32 n_be;
	int err;

	err = kcip_may_change(skb, info);
	if (err)
		return err;
	if (GENL_REQ_ATTR_CHECK(info, KCIP_A_SERVICE))
		return kcip_stage_refuse(kn, info, -EINVAL);
	err = kcip_parse_svc(info->attrs[KCIP_A_SERVICE],
			     kcip_svc_restore_policy, tb, &key, true,
			     info->extack);
	if (err)
		return kcip_stage_refuse(kn, info, err);
	kcip_opts_default(&opts);
	err = kcip_parse_opts(tb, &opts, false, info->extack);
	if (err)
		return kcip_stage_refuse(kn, info, err);
	be = kcip_parse_be_array(tb[KCIP_A_SVC_BACKENDS], &key, &n_be,
				 info->extack);
	if (IS_ERR(be))
		return kcip_stage_refuse(kn, info, PTR_ERR(be));
	if (info->attrs[KCIP_A_FLAGS])
		append = nla_get_u32(info->attrs[KCIP_A_FLAGS]) &
			 KCIP_OP_F_APPEND;

	mutex_lock(&kn->lock);
	stage = kcip_stage_or_err(kn, info);
	if (!stage) {
		err = -ENOENT;
		goto out;
	}
	err = kcip_stage_add(stage, &key, &opts, be, n_be, append,
			     info->extack);
	/* a transaction with a refused part cannot be committed */
	if (err)
		kcip_stage_abort(stage);
out:
	mutex_unlock(&kn->lock);
	kvfree(be);
	return err;
}

static int kcip_put_restore(struct sk_buff *msg, struct kcip_net *kn,
			    const struct kcip_restore_counts *c)
{
	struct kcip_table *tbl = kcip_tbl(kn);
	struct nlattr *nest;

	if (nla_put_u64_64bit(msg, KCIP_A_GENERATION, kn->generation,
			      KCIP_A_PAD))
		return -EMSGSIZE;
	nest = nla_nest_start(msg, KCIP_A_RESTORE);
	if (!nest ||
	    nla_put_u32(msg, KCIP_A_RESTORE_ADDED, c->added) ||
	    nla_put_u32(msg, KCIP_A_RESTORE_CHANGED, c->changed) ||
	    nla_put_u32(msg, KCIP_A_RESTORE_DELETED, c->deleted) ||
	    nla_put_u32(msg, KCIP_A_RESTORE_UNCHANGED, c->unchanged) ||
	    nla_put_u32(msg, KCIP_A_RESTORE_SERVICES, tbl->n_services) ||
	    nla_put_u32(msg, KCIP_A_RESTORE_BACKENDS, tbl->n_backends))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static void kcip_notify_restore(struct net *net, struct kcip_net *kn,
				const struct kcip_restore_counts *c)
{
	struct sk_buff *msg;
	void *hdr;

	hdr = kcip_event_start(net, KCIP_CMD_RESTORE_COMMIT, GFP_KERNEL, &msg);
	if (hdr)
		kcip_event_send(net, msg, hdr, !kcip_put_restore(msg, kn, c),
				GFP_KERNEL);
}

int kcip_nl_restore_commit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct kcip_net *kn = kcip_pernet(net);
	struct kcip_restore_counts counts;
	struct kcip_stage *stage;
	struct sk_buff *msg;
	void *hdr;
	int err;

	err = kcip_may_change(skb, info);
	if (err)
		return err;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	mutex_lock(&kn->lock);
	stage = kcip_stage_or_err(kn, info);
	if (!stage) {
		err = -ENOENT;
		goto err_unlock;
	}
	if (info->attrs[KCIP_A_GENERATION] &&
	    nla_get_u64(info->attrs[KCIP_A_GENERATION]) != kn->generation) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KCIP_A_GENERATION],
				    "The state changed since that generation; nothing was applied");
		kcip_stage_abort(stage);
		err = -EAGAIN;
		goto err_unlock;
	}
	err = kcip_stage_commit(net, stage, &counts, info->extack);
	if (err)
		goto err_unlock;

	hdr = genlmsg_put_reply(msg, info, &kcip_genl_family, 0,
				KCIP_CMD_RESTORE_COMMIT);
	if (!hdr || kcip_put_restore(msg, kn, &counts)) {
		/* committed all the same: the ack says so */
		nlmsg_free(msg);
		msg = NULL;
	} else {
		genlmsg_end(msg, hdr);
	}
	if (kcip_restore_changed(&counts))
		kcip_notify_restore(net, kn, &counts);
	mutex_unlock(&kn->lock);
	return msg ? genlmsg_reply(msg, info) : 0;

err_unlock:
	mutex_unlock(&kn->lock);
	nlmsg_free(msg);
	return err;
}

struct kcip_explain {
	u8 result;
	bool nodeport;
	bool affinity;
	const struct kcip_backend *be;
};

static int kcip_parse_explain(struct genl_info *info,
			      struct nf_conntrack_tuple *t, u8 *family)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *nest = info->attrs[KCIP_A_EXPLAIN];
	struct nlattr *tb[KCIP_A_EXPLAIN_MAX + 1];
	union nf_inet_addr src, dst;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KCIP_A_EXPLAIN))
		return -EINVAL;
	err = nla_parse_nested(tb, KCIP_A_EXPLAIN_MAX, nest,
			       kcip_explain_policy, extack);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, KCIP_A_EXPLAIN_FAMILY) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, KCIP_A_EXPLAIN_PROTO) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, KCIP_A_EXPLAIN_SPORT) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, KCIP_A_EXPLAIN_DPORT)) {
		NL_SET_ERR_MSG(extack,
			       "A flow needs a family, a protocol, addresses and ports");
		return -EINVAL;
	}
	*family = nla_get_u16(tb[KCIP_A_EXPLAIN_FAMILY]);
	if (*family != AF_INET && *family != AF_INET6) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KCIP_A_EXPLAIN_FAMILY],
				    "Family must be AF_INET or AF_INET6");
		return -EAFNOSUPPORT;
	}
	err = kcip_parse_addr(*family, tb[KCIP_A_EXPLAIN_SRC4],
			      tb[KCIP_A_EXPLAIN_SRC6], &src, nest, extack);
	if (err)
		return err;
	err = kcip_parse_addr(*family, tb[KCIP_A_EXPLAIN_DST4],
			      tb[KCIP_A_EXPLAIN_DST6], &dst, nest, extack);
	if (err)
		return err;

	memset(t, 0, sizeof(*t));
	t->src.u3 = src;
	t->dst.u3 = dst;
	t->src.u.all = nla_get_be16(tb[KCIP_A_EXPLAIN_SPORT]);
	t->dst.u.all = nla_get_be16(tb[KCIP_A_EXPLAIN_DPORT]);
	t->dst.protonum = nla_get_u8(tb[KCIP_A_EXPLAIN_PROTO]);
	return 0;
}

/* What kcip_dnat_fn() would do with a new flow @t; under RCU and lock. */
static struct kcip_service *kcip_explain(struct net *net, struct kcip_net *kn,
					 const struct nf_conntrack_tuple *t,
					 u8 family, struct kcip_explain *ex)
{
	struct kcip_table *tbl = kcip_tbl(kn);
	const struct kcip_svc_cfg *cfg;
	struct kcip_service *svc;
	struct kcip_svc_key key;

	memset(ex, 0, sizeof(*ex));
	memset(&key, 0, sizeof(key));
	key.family = family;
	key.addr = t->dst.u3;
	key.proto = t->dst.protonum;
	key.port = t->dst.u.all;
	svc = kcip_table_find(tbl, &key);
	if (!svc && tbl->n_nodeport &&
	    kcip_addr_is_local(net, family, &key.addr)) {
		memset(&key.addr, 0, sizeof(key.addr));
		svc = kcip_table_find(tbl, &key);
		ex->nodeport = !!svc;
	}
	if (!svc) {
		ex->result = KCIP_EXPLAIN_NO_SERVICE;
		return NULL;
	}

	cfg = rcu_dereference_protected(svc->cfg, lockdep_is_held(&kn->lock));
	if (cfg->opts.affinity == KCIP_AFFINITY_CLIENTIP) {
		ex->be = kcip_aff_peek(kn, svc, cfg, &t->src.u3);
		ex->affinity = !!ex->be;
	}
	if (!ex->be)
		ex->be = kcip_sched_peek(svc, cfg, t, family);
	if (ex->be)
		ex->result = KCIP_EXPLAIN_BACKEND;
	else if (cfg->pick_total)
		ex->result = KCIP_EXPLAIN_ANY;
	else
		ex->result = KCIP_EXPLAIN_NO_ENDPOINTS;
	return svc;
}

/* How many of the eligible backends new flows pass over; -1: retry off. */
static int kcip_explain_quarantined(const struct kcip_svc_cfg *cfg)
{
	u32 i;
	int n = 0;

	if (!(cfg->opts.flags & KCIP_SVC_F_RETRY))
		return -1;
	for (i = 0; i < cfg->n_pick; i++)
		n += kcip_be_quarantined(&cfg->be[cfg->pick[i]]);
	return n;
}

int kcip_nl_explain(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct kcip_net *kn = kcip_pernet(net);
	const struct kcip_svc_cfg *cfg = NULL;
	struct nf_conntrack_tuple t;
	struct kcip_service *svc;
	struct kcip_explain ex;
	struct kcip_backend be;
	struct nlattr *nest;
	struct sk_buff *msg;
	int quarantined = -1;
	u8 family;
	void *hdr;
	int err;

	err = kcip_parse_explain(info, &t, &family);
	if (err)
		return err;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &kcip_genl_family, 0,
				KCIP_CMD_EXPLAIN);
	if (!hdr)
		goto err_size;

	mutex_lock(&kn->lock);
	rcu_read_lock();
	svc = kcip_explain(net, kn, &t, family, &ex);
	if (svc) {
		cfg = rcu_dereference_protected(svc->cfg,
						lockdep_is_held(&kn->lock));
		quarantined = kcip_explain_quarantined(cfg);
	}
	if (ex.be) {
		be = *ex.be;
		be.stats = NULL;	/* counters are for dumps */
	}
	rcu_read_unlock();

	nest = nla_nest_start(msg, KCIP_A_EXPLAIN);
	if (!nest ||
	    nla_put_u8(msg, KCIP_A_EXPLAIN_RESULT, ex.result) ||
	    nla_put_u8(msg, KCIP_A_EXPLAIN_NODEPORT, ex.nodeport) ||
	    nla_put_u8(msg, KCIP_A_EXPLAIN_AFFINITY, ex.affinity) ||
	    (cfg &&
	     (nla_put_u32(msg, KCIP_A_EXPLAIN_ELIGIBLE, cfg->n_pick) ||
	      nla_put_u8(msg, KCIP_A_EXPLAIN_STATE, cfg->pick_state))) ||
	    (quarantined >= 0 &&
	     nla_put_u32(msg, KCIP_A_EXPLAIN_QUARANTINED, quarantined)))
		goto err_unlock;
	nla_nest_end(msg, nest);
	if (svc && kcip_put_svc(msg, &svc->key, &cfg->opts))
		goto err_unlock;
	if (ex.be && kcip_put_be(msg, family, &be))
		goto err_unlock;
	mutex_unlock(&kn->lock);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_unlock:
	mutex_unlock(&kn->lock);
err_size:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

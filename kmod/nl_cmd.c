// SPDX-License-Identifier: GPL-2.0
/*
 * The family's single-change commands: a Service or a backend at a time.
 */
#include <net/genetlink.h>

#include "kclusterip.h"
#include "nl.h"

/* The SERVICE attribute of a request, parsed with the ordinary policy. */
static int kcip_parse_svc_attr(struct genl_info *info, struct nlattr **tb,
			       struct kcip_svc_key *key, bool opts_ok)
{
	if (GENL_REQ_ATTR_CHECK(info, KCIP_A_SERVICE))
		return -EINVAL;
	return kcip_parse_svc(info->attrs[KCIP_A_SERVICE], kcip_svc_policy, tb,
			      key, opts_ok, info->extack);
}

struct kcip_service *kcip_find_or_err(struct kcip_net *kn,
				      const struct kcip_svc_key *key,
				      struct genl_info *info)
{
	struct kcip_service *svc = kcip_svc_find(kn, key);

	if (!svc)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KCIP_A_SERVICE],
				    "Service does not exist");
	return svc;
}

int kcip_nl_svc_new(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct kcip_net *kn = kcip_pernet(net);
	struct nlattr *tb[KCIP_A_SVC_MAX + 1];
	struct kcip_svc_opts opts;
	struct kcip_svc_key key;
	int err;

	err = kcip_may_change(skb, info);
	if (err)
		return err;
	err = kcip_parse_svc_attr(info, tb, &key, true);
	if (err)
		return err;
	kcip_opts_default(&opts);
	err = kcip_parse_opts(tb, &opts, false, info->extack);
	if (err)
		return err;

	mutex_lock(&kn->lock);
	err = kcip_svc_add(net, &key, &opts, info->extack);
	if (!err)
		kcip_notify(net, KCIP_CMD_SERVICE_NEW, &key, &opts, NULL);
	mutex_unlock(&kn->lock);
	return err;
}

int kcip_nl_svc_set(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct kcip_net *kn = kcip_pernet(net);
	struct nlattr *tb[KCIP_A_SVC_MAX + 1];
	struct kcip_service *svc;
	struct kcip_svc_opts opts;
	struct kcip_svc_key key;
	int err;

	err = kcip_may_change(skb, info);
	if (err)
		return err;
	err = kcip_parse_svc_attr(info, tb, &key, true);
	if (err)
		return err;

	mutex_lock(&kn->lock);
	svc = kcip_find_or_err(kn, &key, info);
	if (!svc) {
		err = -ENOENT;
		goto out;
	}
	opts = rcu_dereference_protected(svc->cfg,
					 lockdep_is_held(&kn->lock))->opts;
	err = kcip_parse_opts(tb, &opts, true, info->extack);
	if (err)
		goto out;
	err = kcip_svc_change(net, svc, &opts, info->extack);
	if (!err)
		kcip_notify(net, KCIP_CMD_SERVICE_SET, &key, &opts, NULL);
out:
	mutex_unlock(&kn->lock);
	return err;
}

int kcip_nl_svc_del(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct kcip_net *kn = kcip_pernet(net);
	struct nlattr *tb[KCIP_A_SVC_MAX + 1];
	struct kcip_service *svc;
	struct kcip_svc_key key;
	int err;

	err = kcip_may_change(skb, info);
	if (err)
		return err;
	err = kcip_parse_svc_attr(info, tb, &key, false);
	if (err)
		return err;

	mutex_lock(&kn->lock);
	svc = kcip_find_or_err(kn, &key, info);
	if (svc) {
		kcip_svc_del(net, svc);
		kcip_notify(net, KCIP_CMD_SERVICE_DEL, &key, NULL, NULL);
	}
	mutex_unlock(&kn->lock);
	return svc ? 0 : -ENOENT;
}

int kcip_nl_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct kcip_net *kn = kcip_pernet(net);
	int err;

	err = kcip_may_change(skb, info);
	if (err)
		return err;
	mutex_lock(&kn->lock);
	kcip_svc_flush(net);
	kcip_notify(net, KCIP_CMD_FLUSH, NULL, NULL, NULL);
	mutex_unlock(&kn->lock);
	return 0;
}

enum kcip_be_op { KCIP_BE_OP_ADD, KCIP_BE_OP_CHANGE, KCIP_BE_OP_DEL };

static const u8 kcip_be_op_cmd[] = {
	[KCIP_BE_OP_ADD] = KCIP_CMD_BACKEND_NEW,
	[KCIP_BE_OP_CHANGE] = KCIP_CMD_BACKEND_SET,
	[KCIP_BE_OP_DEL] = KCIP_CMD_BACKEND_DEL,
};

static int kcip_nl_be(struct sk_buff *skb, struct genl_info *info,
		      enum kcip_be_op op)
{
	struct net *net = genl_info_net(info);
	struct kcip_net *kn = kcip_pernet(net);
	struct nlattr *tb[KCIP_A_SVC_MAX + 1];
	bool has_weight, has_state;
	struct kcip_service *svc;
	struct kcip_svc_key key;
	struct kcip_backend be;
	u32 mask, flags = 0;
	int err;

	err = kcip_may_change(skb, info);
	if (err)
		return err;
	err = kcip_parse_svc_attr(info, tb, &key, false);
	if (err)
		return err;
	if (GENL_REQ_ATTR_CHECK(info, KCIP_A_BACKEND))
		return -EINVAL;
	err = kcip_parse_be(info->attrs[KCIP_A_BACKEND], &key, &be,
			    op == KCIP_BE_OP_CHANGE, &has_weight, &has_state,
			    &mask, info->extack);
	if (err)
		return err;
	if (info->attrs[KCIP_A_FLAGS])
		flags = nla_get_u32(info->attrs[KCIP_A_FLAGS]);
	if (flags && op != KCIP_BE_OP_DEL) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KCIP_A_FLAGS],
				    "Flush is only for a backend's deletion");
		return -EINVAL;
	}

	mutex_lock(&kn->lock);
	svc = kcip_find_or_err(kn, &key, info);
	if (!svc) {
		err = -ENOENT;
		goto out;
	}
	switch (op) {
	case KCIP_BE_OP_ADD:
		err = kcip_be_add(kn, svc, &be, info->extack);
		break;
	case KCIP_BE_OP_CHANGE:
		err = kcip_be_change(net, svc, &be, mask, has_weight,
				     has_state, info->extack);
		break;
	case KCIP_BE_OP_DEL:
		err = kcip_be_del(net, svc, &be,
				  flags & KCIP_OP_F_FLUSH_TCP, info->extack);
		break;
	}
	if (!err)
		kcip_notify_be(net, kn, svc, &be, kcip_be_op_cmd[op]);
out:
	mutex_unlock(&kn->lock);
	return err;
}

int kcip_nl_be_new(struct sk_buff *skb, struct genl_info *info)
{
	return kcip_nl_be(skb, info, KCIP_BE_OP_ADD);
}

int kcip_nl_be_set(struct sk_buff *skb, struct genl_info *info)
{
	return kcip_nl_be(skb, info, KCIP_BE_OP_CHANGE);
}

int kcip_nl_be_del(struct sk_buff *skb, struct genl_info *info)
{
	return kcip_nl_be(skb, info, KCIP_BE_OP_DEL);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink family "kclusterip": see uapi/linux/kclusterip.h and
 * Documentation/netlink/specs/kclusterip.yaml.
 */
#include <linux/in.h>
#include <linux/in6.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "kclusterip.h"

/* nla_policy's own bounds are s16: wider ranges go through these */
static struct netlink_range_validation kcip_affinity_timeout_range = {
	.min = 1,
	.max = KCIP_MAX_AFFINITY_TIMEOUT,
};

static struct netlink_range_validation kcip_weight_range = {
	.max = KCIP_MAX_WEIGHT,
};

static const struct nla_policy kcip_svc_policy[KCIP_A_SVC_MAX + 1] = {
	[KCIP_A_SVC_FAMILY]		= { .type = NLA_U16 },
	[KCIP_A_SVC_PROTO]		= { .type = NLA_U8 },
	[KCIP_A_SVC_ADDR4]		= NLA_POLICY_EXACT_LEN(sizeof(__be32)),
	[KCIP_A_SVC_ADDR6]		= NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[KCIP_A_SVC_PORT]		= { .type = NLA_BE16 },
	[KCIP_A_SVC_SCHED]		= NLA_POLICY_MAX(NLA_U8, KCIP_SCHED_MAX),
	[KCIP_A_SVC_AFFINITY]		= NLA_POLICY_MAX(NLA_U8, KCIP_AFFINITY_MAX),
	[KCIP_A_SVC_AFFINITY_TIMEOUT]	= NLA_POLICY_FULL_RANGE(NLA_U32,
							&kcip_affinity_timeout_range),
	[KCIP_A_SVC_TRAFFIC_POLICY]	= NLA_POLICY_MAX(NLA_U8,
							 KCIP_TRAFFIC_POLICY_MAX),
	[KCIP_A_SVC_NO_ENDPOINTS]	= NLA_POLICY_MAX(NLA_U8,
							 KCIP_NO_ENDPOINTS_MAX),
	[KCIP_A_SVC_FLAGS]		= NLA_POLICY_MASK(NLA_U32, __KCIP_SVC_F_ALL),
	[KCIP_A_SVC_FLAGS_MASK]		= NLA_POLICY_MASK(NLA_U32, __KCIP_SVC_F_ALL),
	[KCIP_A_SVC_QUARANTINE]		= NLA_POLICY_RANGE(NLA_U32, 1,
							   KCIP_MAX_QUARANTINE),
	[KCIP_A_SVC_STATS]		= { .type = NLA_REJECT },
	[KCIP_A_SVC_BACKENDS]		= { .type = NLA_REJECT },
	[KCIP_A_SVC_PAD]		= { .type = NLA_REJECT },
};

static const struct nla_policy kcip_be_policy[KCIP_A_BE_MAX + 1] = {
	[KCIP_A_BE_ADDR4]		= NLA_POLICY_EXACT_LEN(sizeof(__be32)),
	[KCIP_A_BE_ADDR6]		= NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[KCIP_A_BE_PORT]		= { .type = NLA_BE16 },
	[KCIP_A_BE_WEIGHT]		= NLA_POLICY_FULL_RANGE(NLA_U32,
							&kcip_weight_range),
	[KCIP_A_BE_STATE]		= NLA_POLICY_MAX(NLA_U8, KCIP_BE_STATE_MAX),
	[KCIP_A_BE_FLAGS]		= NLA_POLICY_MASK(NLA_U32, __KCIP_BE_F_ALL),
	[KCIP_A_BE_FLAGS_MASK]		= NLA_POLICY_MASK(NLA_U32, __KCIP_BE_F_ALL),
	[KCIP_A_BE_STATS]		= { .type = NLA_REJECT },
	[KCIP_A_BE_PAD]			= { .type = NLA_REJECT },
};

/* Service commands and GET: one Service nest. */
static const struct nla_policy kcip_svc_cmd_policy[KCIP_A_MAX + 1] = {
	[KCIP_A_SERVICE]	= NLA_POLICY_NESTED(kcip_svc_policy),
};

/* Backend commands: the Service's identity, the backend, op flags. */
static const struct nla_policy kcip_be_cmd_policy[KCIP_A_MAX + 1] = {
	[KCIP_A_SERVICE]	= NLA_POLICY_NESTED(kcip_svc_policy),
	[KCIP_A_BACKEND]	= NLA_POLICY_NESTED(kcip_be_policy),
	[KCIP_A_FLAGS]		= NLA_POLICY_MASK(NLA_U32, __KCIP_OP_F_ALL),
};

/* FLUSH takes no attribute. */
static const struct nla_policy kcip_none_policy[KCIP_A_MAX + 1] = {
};

static struct genl_family kcip_genl_family;

/* Reading is free; changing needs CAP_NET_ADMIN as the contract says. */
static int kcip_may_change(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);

	if (netlink_capable(skb, CAP_NET_ADMIN))
		return 0;
	if (kcip_userns && netlink_ns_capable(skb, net->user_ns, CAP_NET_ADMIN))
		return 0;
	NL_SET_ERR_MSG(info->extack,
		       "Changing Services needs CAP_NET_ADMIN");
	return -EPERM;
}

static int kcip_parse_addr(u16 family, struct nlattr *a4, struct nlattr *a6,
			   union nf_inet_addr *addr, struct nlattr *nest,
			   struct netlink_ext_ack *extack)
{
	memset(addr, 0, sizeof(*addr));
	if (family == AF_INET && a4 && !a6) {
		addr->ip = nla_get_in_addr(a4);
		return 0;
	}
	if (family == AF_INET6 && a6 && !a4) {
		addr->in6 = nla_get_in6_addr(a6);
		return 0;
	}
	NL_SET_ERR_MSG_ATTR(extack, nest,
			    "Exactly one address, of the Service's family, is needed");
	return -EINVAL;
}

static bool kcip_addr_is_any(u16 family, const union nf_inet_addr *addr)
{
	if (family == AF_INET)
		return addr->ip == htonl(INADDR_ANY);
	return ipv6_addr_any(&addr->in6);
}

static bool kcip_addr_is_unicast(u16 family, const union nf_inet_addr *addr)
{
	if (family == AF_INET)
		return !ipv4_is_multicast(addr->ip) &&
		       !ipv4_is_lbcast(addr->ip) &&
		       !ipv4_is_zeronet(addr->ip);
	return !ipv6_addr_any(&addr->in6) &&
	       !ipv6_addr_is_multicast(&addr->in6);
}

static bool kcip_svc_has_opts(struct nlattr **tb)
{
	int i;

	for (i = KCIP_A_SVC_SCHED; i <= KCIP_A_SVC_QUARANTINE; i++)
		if (tb[i])
			return true;
	return false;
}

/* Parse the SERVICE nest into a key; @tb receives its attributes. */
static int kcip_parse_svc(struct genl_info *info, struct nlattr **tb,
			  struct kcip_svc_key *key, bool opts_ok)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *nest = info->attrs[KCIP_A_SERVICE];
	u16 family;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KCIP_A_SERVICE))
		return -EINVAL;
	err = nla_parse_nested(tb, KCIP_A_SVC_MAX, nest, kcip_svc_policy,
			       extack);
	if (err)
		return err;

	if (NL_REQ_ATTR_CHECK(extack, nest, tb, KCIP_A_SVC_FAMILY) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, KCIP_A_SVC_PROTO) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, KCIP_A_SVC_PORT)) {
		NL_SET_ERR_MSG(extack,
			       "Service needs a family, a protocol and a port");
		return -EINVAL;
	}

	memset(key, 0, sizeof(*key));
	family = nla_get_u16(tb[KCIP_A_SVC_FAMILY]);
	if (family != AF_INET && family != AF_INET6) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KCIP_A_SVC_FAMILY],
				    "Service family must be AF_INET or AF_INET6");
		return -EAFNOSUPPORT;
	}
	key->family = family;

	key->proto = nla_get_u8(tb[KCIP_A_SVC_PROTO]);
	if (key->proto != IPPROTO_TCP && key->proto != IPPROTO_UDP &&
	    key->proto != IPPROTO_SCTP) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KCIP_A_SVC_PROTO],
				    "Service protocol must be TCP, UDP or SCTP");
		return -EPROTONOSUPPORT;
	}

	key->port = nla_get_be16(tb[KCIP_A_SVC_PORT]);
	if (!key->port) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KCIP_A_SVC_PORT],
				    "Service port must not be 0");
		return -EINVAL;
	}

	err = kcip_parse_addr(family, tb[KCIP_A_SVC_ADDR4],
			      tb[KCIP_A_SVC_ADDR6], &key->addr, nest, extack);
	if (err)
		return err;
	/* all-zeroes is a NodePort entry */
	if (!kcip_addr_is_any(family, &key->addr) &&
	    !kcip_addr_is_unicast(family, &key->addr)) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "Service address must be a unicast address");
		return -EINVAL;
	}

	if (!opts_ok && kcip_svc_has_opts(tb)) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "Only the Service's address, port and protocol are accepted here");
		return -EINVAL;
	}
	return 0;
}

static void kcip_opts_default(struct kcip_svc_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->sched = KCIP_SCHED_RANDOM;
	opts->affinity = KCIP_AFFINITY_NONE;
	opts->traffic_policy = KCIP_TRAFFIC_POLICY_CLUSTER;
	opts->no_endpoints = KCIP_NO_ENDPOINTS_REJECT;
	opts->affinity_timeout = KCIP_DEFAULT_AFFINITY_TIMEOUT;
	opts->quarantine = KCIP_DEFAULT_QUARANTINE;
}

/* Apply the options in @tb to @opts; @change: FLAGS_MASK is allowed. */
static int kcip_parse_opts(struct nlattr **tb, struct kcip_svc_opts *opts,
			   bool change, struct netlink_ext_ack *extack)
{
	u32 mask = __KCIP_SVC_F_ALL;

	if (tb[KCIP_A_SVC_SCHED])
		opts->sched = nla_get_u8(tb[KCIP_A_SVC_SCHED]);
	if (tb[KCIP_A_SVC_AFFINITY])
		opts->affinity = nla_get_u8(tb[KCIP_A_SVC_AFFINITY]);
	if (tb[KCIP_A_SVC_AFFINITY_TIMEOUT])
		opts->affinity_timeout =
			nla_get_u32(tb[KCIP_A_SVC_AFFINITY_TIMEOUT]);
	if (tb[KCIP_A_SVC_TRAFFIC_POLICY])
		opts->traffic_policy = nla_get_u8(tb[KCIP_A_SVC_TRAFFIC_POLICY]);
	if (tb[KCIP_A_SVC_NO_ENDPOINTS])
		opts->no_endpoints = nla_get_u8(tb[KCIP_A_SVC_NO_ENDPOINTS]);
	if (tb[KCIP_A_SVC_QUARANTINE])
		opts->quarantine = nla_get_u32(tb[KCIP_A_SVC_QUARANTINE]);

	if (tb[KCIP_A_SVC_FLAGS_MASK]) {
		if (!change) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KCIP_A_SVC_FLAGS_MASK],
					    "A flags mask is only for changes");
			return -EINVAL;
		}
		mask = nla_get_u32(tb[KCIP_A_SVC_FLAGS_MASK]);
	}
	if (tb[KCIP_A_SVC_FLAGS])
		opts->flags = (opts->flags & ~mask) |
			      (nla_get_u32(tb[KCIP_A_SVC_FLAGS]) & mask);

	/* Refuse, never ignore, what the packet path does not do yet. */
	if (opts->flags & KCIP_SVC_F_RETRY) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KCIP_A_SVC_FLAGS],
				    "Retry is not implemented yet");
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * Parse the BACKEND nest.  @has_weight/@has_state/@mask say what a change
 * sets; for an add, absent values take their defaults.
 */
static int kcip_parse_be(struct genl_info *info, const struct kcip_svc_key *key,
			 struct kcip_backend *be, bool change,
			 bool *has_weight, bool *has_state, u32 *mask)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *nest = info->attrs[KCIP_A_BACKEND];
	struct nlattr *tb[KCIP_A_BE_MAX + 1];
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KCIP_A_BACKEND))
		return -EINVAL;
	err = nla_parse_nested(tb, KCIP_A_BE_MAX, nest, kcip_be_policy,
			       extack);
	if (err)
		return err;

	memset(be, 0, sizeof(*be));
	err = kcip_parse_addr(key->family, tb[KCIP_A_BE_ADDR4],
			      tb[KCIP_A_BE_ADDR6], &be->addr, nest, extack);
	if (err)
		return err;
	if (!kcip_addr_is_unicast(key->family, &be->addr)) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "Backend address must be a unicast address");
		return -EINVAL;
	}
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, KCIP_A_BE_PORT)) {
		NL_SET_ERR_MSG(extack, "Backend needs a port");
		return -EINVAL;
	}
	be->port = nla_get_be16(tb[KCIP_A_BE_PORT]);
	if (!be->port) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KCIP_A_BE_PORT],
				    "Backend port must not be 0");
		return -EINVAL;
	}

	be->weight = 1;
	be->state = KCIP_BE_STATE_READY;
	*has_weight = !!tb[KCIP_A_BE_WEIGHT];
	*has_state = !!tb[KCIP_A_BE_STATE];
	if (*has_weight)
		be->weight = nla_get_u32(tb[KCIP_A_BE_WEIGHT]);
	if (*has_state)
		be->state = nla_get_u8(tb[KCIP_A_BE_STATE]);

	*mask = tb[KCIP_A_BE_FLAGS] ? __KCIP_BE_F_ALL : 0;
	if (tb[KCIP_A_BE_FLAGS_MASK]) {
		if (!change) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KCIP_A_BE_FLAGS_MASK],
					    "A flags mask is only for changes");
			return -EINVAL;
		}
		*mask = nla_get_u32(tb[KCIP_A_BE_FLAGS_MASK]);
	}
	if (tb[KCIP_A_BE_FLAGS])
		be->flags = nla_get_u32(tb[KCIP_A_BE_FLAGS]) & *mask;
	return 0;
}

static struct kcip_service *kcip_find_or_err(struct kcip_net *kn,
					     const struct kcip_svc_key *key,
					     struct genl_info *info)
{
	struct kcip_service *svc = kcip_svc_find(kn, key);

	if (!svc)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KCIP_A_SERVICE],
				    "Service does not exist");
	return svc;
}

static int kcip_nl_svc_new(struct sk_buff *skb, struct genl_info *info)
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
	err = kcip_parse_svc(info, tb, &key, true);
	if (err)
		return err;
	kcip_opts_default(&opts);
	err = kcip_parse_opts(tb, &opts, false, info->extack);
	if (err)
		return err;

	mutex_lock(&kn->lock);
	err = kcip_svc_add(net, &key, &opts, info->extack);
	mutex_unlock(&kn->lock);
	return err;
}

static int kcip_nl_svc_set(struct sk_buff *skb, struct genl_info *info)
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
	err = kcip_parse_svc(info, tb, &key, true);
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
	err = kcip_svc_change(kn, svc, &opts, info->extack);
out:
	mutex_unlock(&kn->lock);
	return err;
}

static int kcip_nl_svc_del(struct sk_buff *skb, struct genl_info *info)
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
	err = kcip_parse_svc(info, tb, &key, false);
	if (err)
		return err;

	mutex_lock(&kn->lock);
	svc = kcip_find_or_err(kn, &key, info);
	if (svc)
		kcip_svc_del(net, svc);
	mutex_unlock(&kn->lock);
	return svc ? 0 : -ENOENT;
}

static int kcip_nl_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct kcip_net *kn = kcip_pernet(net);
	int err;

	err = kcip_may_change(skb, info);
	if (err)
		return err;
	mutex_lock(&kn->lock);
	kcip_svc_flush(net);
	mutex_unlock(&kn->lock);
	return 0;
}

enum kcip_be_op { KCIP_BE_OP_ADD, KCIP_BE_OP_CHANGE, KCIP_BE_OP_DEL };

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
	err = kcip_parse_svc(info, tb, &key, false);
	if (err)
		return err;
	err = kcip_parse_be(info, &key, &be, op == KCIP_BE_OP_CHANGE,
			    &has_weight, &has_state, &mask);
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
out:
	mutex_unlock(&kn->lock);
	return err;
}

static int kcip_nl_be_new(struct sk_buff *skb, struct genl_info *info)
{
	return kcip_nl_be(skb, info, KCIP_BE_OP_ADD);
}

static int kcip_nl_be_set(struct sk_buff *skb, struct genl_info *info)
{
	return kcip_nl_be(skb, info, KCIP_BE_OP_CHANGE);
}

static int kcip_nl_be_del(struct sk_buff *skb, struct genl_info *info)
{
	return kcip_nl_be(skb, info, KCIP_BE_OP_DEL);
}

static int kcip_put_addr(struct sk_buff *skb, u8 family, int a4, int a6,
			 const union nf_inet_addr *addr)
{
	if (family == AF_INET)
		return nla_put_in_addr(skb, a4, addr->ip);
	return nla_put_in6_addr(skb, a6, &addr->in6);
}

static int kcip_put_stats(struct sk_buff *skb, int type,
			  const struct kcip_stats __percpu *stats, bool svc)
{
	struct kcip_stats_sum sum;
	struct nlattr *nest;

	kcip_stats_sum(stats, &sum);
	nest = nla_nest_start(skb, type);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, KCIP_A_STATS_NEW_FLOWS, sum.c[KCIP_C_NEW_FLOWS],
			      KCIP_A_STATS_PAD))
		goto err;
	if (svc &&
	    (nla_put_u64_64bit(skb, KCIP_A_STATS_REJECTS, sum.c[KCIP_C_REJECTS],
			       KCIP_A_STATS_PAD) ||
	     nla_put_u64_64bit(skb, KCIP_A_STATS_DROPS, sum.c[KCIP_C_DROPS],
			       KCIP_A_STATS_PAD)))
		goto err;
	nla_nest_end(skb, nest);
	return 0;
err:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

static int kcip_put_be(struct sk_buff *skb, u8 family,
		       const struct kcip_backend *be)
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
	    kcip_put_stats(skb, KCIP_A_BE_STATS, be->stats, false)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int kcip_put_svc_attrs(struct sk_buff *skb,
			      const struct kcip_service *svc,
			      const struct kcip_svc_cfg *cfg)
{
	const struct kcip_svc_key *key = &svc->key;
	const struct kcip_svc_opts *o = &cfg->opts;

	if (nla_put_u16(skb, KCIP_A_SVC_FAMILY, key->family) ||
	    nla_put_u8(skb, KCIP_A_SVC_PROTO, key->proto) ||
	    kcip_put_addr(skb, key->family, KCIP_A_SVC_ADDR4,
			  KCIP_A_SVC_ADDR6, &key->addr) ||
	    nla_put_be16(skb, KCIP_A_SVC_PORT, key->port) ||
	    nla_put_u8(skb, KCIP_A_SVC_SCHED, o->sched) ||
	    nla_put_u8(skb, KCIP_A_SVC_AFFINITY, o->affinity) ||
	    nla_put_u32(skb, KCIP_A_SVC_AFFINITY_TIMEOUT,
			o->affinity_timeout) ||
	    nla_put_u8(skb, KCIP_A_SVC_TRAFFIC_POLICY, o->traffic_policy) ||
	    nla_put_u8(skb, KCIP_A_SVC_NO_ENDPOINTS, o->no_endpoints) ||
	    nla_put_u32(skb, KCIP_A_SVC_FLAGS, o->flags) ||
	    nla_put_u32(skb, KCIP_A_SVC_QUARANTINE, o->quarantine))
		return -EMSGSIZE;
	return kcip_put_stats(skb, KCIP_A_SVC_STATS, svc->stats, true);
}

/*
 * One message for @svc with its backends from *@be_pos on, as many as fit.
 * Returns 0 when the last backend went in, 1 when more are left (*@be_pos
 * says where to go on), -EMSGSIZE when nothing useful fit.
 */
static int kcip_fill_svc(struct sk_buff *skb, u32 portid, u32 seq, int flags,
			 struct kcip_net *kn, const struct kcip_service *svc,
			 u32 *be_pos, struct netlink_callback *cb)
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
	if (!nest || kcip_put_svc_attrs(skb, svc, cfg))
		goto cancel;
	bnest = nla_nest_start(skb, KCIP_A_SVC_BACKENDS);
	if (!bnest)
		goto cancel;
	for (i = *be_pos; i < cfg->n_be; i++)
		if (kcip_put_be(skb, svc->key.family, &cfg->be[i]))
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
 * which flags the dump NLM_F_DUMP_INTR.
 */
static int kcip_nl_svc_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kcip_net *kn = kcip_pernet(sock_net(skb->sk));
	unsigned long idx = cb->args[0], i = 0;
	u32 be_pos = cb->args[1];
	struct kcip_service *svc;
	int ret;

	mutex_lock(&kn->lock);
	cb->seq = (u32)kn->generation ?: 1;
	if (!cb->args[2]) {
		if (kcip_fill_generation(skb, cb, kn))
			goto out;
		cb->args[2] = 1;
	}
	list_for_each_entry(svc, &kn->svc_list, list) {
		if (i++ < idx)
			continue;
		ret = kcip_fill_svc(skb, NETLINK_CB(cb->skb).portid,
				    cb->nlh->nlmsg_seq, NLM_F_MULTI, kn, svc,
				    &be_pos, cb);
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

static int kcip_nl_svc_get(struct sk_buff *skb, struct genl_info *info)
{
	struct kcip_net *kn = kcip_pernet(genl_info_net(info));
	struct nlattr *tb[KCIP_A_SVC_MAX + 1];
	const struct kcip_svc_cfg *cfg;
	struct kcip_service *svc;
	struct kcip_svc_key key;
	struct sk_buff *msg;
	u32 be_pos = 0;
	size_t size;
	int err;

	err = kcip_parse_svc(info, tb, &key, false);
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
	err = kcip_fill_svc(msg, info->snd_portid, info->snd_seq, 0, kn, svc,
			    &be_pos, NULL);
	if (err) {
		nlmsg_free(msg);
		err = err < 0 ? err : -EMSGSIZE;
		goto out;
	}
	err = genlmsg_reply(msg, info);
out:
	mutex_unlock(&kn->lock);
	return err;
}

static const struct genl_ops kcip_genl_ops[] = {
	{
		.cmd = KCIP_CMD_SERVICE_NEW,
		.doit = kcip_nl_svc_new,
		.policy = kcip_svc_cmd_policy,
		.maxattr = KCIP_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KCIP_CMD_SERVICE_SET,
		.doit = kcip_nl_svc_set,
		.policy = kcip_svc_cmd_policy,
		.maxattr = KCIP_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KCIP_CMD_SERVICE_DEL,
		.doit = kcip_nl_svc_del,
		.policy = kcip_svc_cmd_policy,
		.maxattr = KCIP_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KCIP_CMD_SERVICE_GET,
		.doit = kcip_nl_svc_get,
		.dumpit = kcip_nl_svc_dump,
		.policy = kcip_svc_cmd_policy,
		.maxattr = KCIP_A_MAX,
	},
	{
		.cmd = KCIP_CMD_BACKEND_NEW,
		.doit = kcip_nl_be_new,
		.policy = kcip_be_cmd_policy,
		.maxattr = KCIP_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KCIP_CMD_BACKEND_SET,
		.doit = kcip_nl_be_set,
		.policy = kcip_be_cmd_policy,
		.maxattr = KCIP_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KCIP_CMD_BACKEND_DEL,
		.doit = kcip_nl_be_del,
		.policy = kcip_be_cmd_policy,
		.maxattr = KCIP_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KCIP_CMD_FLUSH,
		.doit = kcip_nl_flush,
		.policy = kcip_none_policy,
		.maxattr = KCIP_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family kcip_genl_family __ro_after_init = {
	.name = KCIP_GENL_NAME,
	.version = KCIP_GENL_VERSION,
	.maxattr = KCIP_A_MAX,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = kcip_genl_ops,
	.n_ops = ARRAY_SIZE(kcip_genl_ops),
};

int __init kcip_genl_init(void)
{
	return genl_register_family(&kcip_genl_family);
}

void kcip_genl_exit(void)
{
	genl_unregister_family(&kcip_genl_family);
}

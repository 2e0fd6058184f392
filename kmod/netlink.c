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
#include "nl.h"

/* nla_policy's own bounds are s16: wider ranges go through these */
static struct netlink_range_validation kcip_affinity_timeout_range = {
	.min = 1,
	.max = KCIP_MAX_AFFINITY_TIMEOUT,
};

static struct netlink_range_validation kcip_weight_range = {
	.max = KCIP_MAX_WEIGHT,
};

const struct nla_policy kcip_svc_policy[KCIP_A_SVC_MAX + 1] = {
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

const struct nla_policy kcip_be_policy[KCIP_A_BE_MAX + 1] = {
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
	[KCIP_A_BE_QUARANTINE]		= { .type = NLA_REJECT },
};

/* A staged Service carries its backends. */
const struct nla_policy kcip_svc_restore_policy[KCIP_A_SVC_MAX + 1] = {
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
	[KCIP_A_SVC_FLAGS_MASK]		= { .type = NLA_REJECT },
	[KCIP_A_SVC_QUARANTINE]		= NLA_POLICY_RANGE(NLA_U32, 1,
							   KCIP_MAX_QUARANTINE),
	[KCIP_A_SVC_STATS]		= { .type = NLA_REJECT },
	[KCIP_A_SVC_BACKENDS]		= NLA_POLICY_NESTED_ARRAY(kcip_be_policy),
	[KCIP_A_SVC_PAD]		= { .type = NLA_REJECT },
};

static const struct nla_policy kcip_restore_cmd_policy[KCIP_A_MAX + 1] = {
	[KCIP_A_SERVICE]	= NLA_POLICY_NESTED(kcip_svc_restore_policy),
	[KCIP_A_FLAGS]		= NLA_POLICY_MASK(NLA_U32, KCIP_OP_F_APPEND),
};

static const struct nla_policy kcip_commit_cmd_policy[KCIP_A_MAX + 1] = {
	[KCIP_A_GENERATION]	= { .type = NLA_U64 },
};

const struct nla_policy kcip_explain_policy[KCIP_A_EXPLAIN_MAX + 1] = {
	[KCIP_A_EXPLAIN_FAMILY]	= { .type = NLA_U16 },
	[KCIP_A_EXPLAIN_PROTO]	= { .type = NLA_U8 },
	[KCIP_A_EXPLAIN_SRC4]	= NLA_POLICY_EXACT_LEN(sizeof(__be32)),
	[KCIP_A_EXPLAIN_SRC6]	= NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[KCIP_A_EXPLAIN_SPORT]	= { .type = NLA_BE16 },
	[KCIP_A_EXPLAIN_DST4]	= NLA_POLICY_EXACT_LEN(sizeof(__be32)),
	[KCIP_A_EXPLAIN_DST6]	= NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[KCIP_A_EXPLAIN_DPORT]	= { .type = NLA_BE16 },
};

static const struct nla_policy kcip_explain_cmd_policy[KCIP_A_MAX + 1] = {
	[KCIP_A_EXPLAIN]	= NLA_POLICY_NESTED(kcip_explain_policy),
};

/* Service commands and GET: one Service nest. */
static const struct nla_policy kcip_svc_cmd_policy[KCIP_A_MAX + 1] = {
	[KCIP_A_SERVICE]	= NLA_POLICY_NESTED(kcip_svc_policy),
};

/* GET: a Service for the doit, none for dumps; what to count. */
static const struct nla_policy kcip_get_cmd_policy[KCIP_A_MAX + 1] = {
	[KCIP_A_SERVICE]	= NLA_POLICY_NESTED(kcip_svc_policy),
	[KCIP_A_FLAGS]		= NLA_POLICY_MASK(NLA_U32, KCIP_OP_F_ACTIVE),
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

/* Reading is free; changing needs CAP_NET_ADMIN as the contract says. */
int kcip_may_change(struct sk_buff *skb, struct genl_info *info)
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
		.start = kcip_nl_svc_dump_start,
		.dumpit = kcip_nl_svc_dump,
		.done = kcip_nl_svc_dump_done,
		.policy = kcip_get_cmd_policy,
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
	{
		.cmd = KCIP_CMD_RESTORE_BEGIN,
		.doit = kcip_nl_restore_begin,
		.policy = kcip_none_policy,
		.maxattr = KCIP_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KCIP_CMD_RESTORE_SERVICE,
		.doit = kcip_nl_restore_service,
		.policy = kcip_restore_cmd_policy,
		.maxattr = KCIP_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KCIP_CMD_RESTORE_COMMIT,
		.doit = kcip_nl_restore_commit,
		.policy = kcip_commit_cmd_policy,
		.maxattr = KCIP_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KCIP_CMD_RESTORE_ABORT,
		.doit = kcip_nl_restore_abort,
		.policy = kcip_none_policy,
		.maxattr = KCIP_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = KCIP_CMD_EXPLAIN,
		.doit = kcip_nl_explain,
		.policy = kcip_explain_cmd_policy,
		.maxattr = KCIP_A_MAX,
	},
};

static const struct genl_multicast_group kcip_mcgrps[] = {
	[KCIP_MCGRP_MONITOR_ID] = { .name = KCIP_MCGRP_MONITOR },
};

struct genl_family kcip_genl_family __ro_after_init = {
	.name = KCIP_GENL_NAME,
	.version = KCIP_GENL_VERSION,
	.maxattr = KCIP_A_MAX,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = kcip_genl_ops,
	.n_ops = ARRAY_SIZE(kcip_genl_ops),
	.mcgrps = kcip_mcgrps,
	.n_mcgrps = ARRAY_SIZE(kcip_mcgrps),
};

int __init kcip_genl_init(void)
{
	return genl_register_family(&kcip_genl_family);
}

void kcip_genl_exit(void)
{
	genl_unregister_family(&kcip_genl_family);
}

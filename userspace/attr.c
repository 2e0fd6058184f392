// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's attributes into kcipctl's structures, checked for type and
 * length first.  Attributes this version does not know are skipped, so a
 * newer kernel's additions do not break an older kcipctl.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>

#include "attr.h"

static const struct attr_policy top_policy[KCIP_A_MAX + 1] = {
	[KCIP_A_GENERATION] = { MNL_TYPE_U64 },
	[KCIP_A_SERVICE] = { MNL_TYPE_NESTED },
	[KCIP_A_BACKEND] = { MNL_TYPE_NESTED },
	[KCIP_A_FLAGS] = { MNL_TYPE_U32 },
	[KCIP_A_RESTORE] = { MNL_TYPE_NESTED },
	[KCIP_A_EXPLAIN] = { MNL_TYPE_NESTED },
};

static const struct attr_policy svc_policy[KCIP_A_SVC_MAX + 1] = {
	[KCIP_A_SVC_FAMILY] = { MNL_TYPE_U16 },
	[KCIP_A_SVC_PROTO] = { MNL_TYPE_U8 },
	[KCIP_A_SVC_ADDR4] = { MNL_TYPE_BINARY, 4 },
	[KCIP_A_SVC_ADDR6] = { MNL_TYPE_BINARY, 16 },
	[KCIP_A_SVC_PORT] = { MNL_TYPE_U16 },
	[KCIP_A_SVC_SCHED] = { MNL_TYPE_U8 },
	[KCIP_A_SVC_AFFINITY] = { MNL_TYPE_U8 },
	[KCIP_A_SVC_AFFINITY_TIMEOUT] = { MNL_TYPE_U32 },
	[KCIP_A_SVC_TRAFFIC_POLICY] = { MNL_TYPE_U8 },
	[KCIP_A_SVC_NO_ENDPOINTS] = { MNL_TYPE_U8 },
	[KCIP_A_SVC_FLAGS] = { MNL_TYPE_U32 },
	[KCIP_A_SVC_FLAGS_MASK] = { MNL_TYPE_U32 },
	[KCIP_A_SVC_QUARANTINE] = { MNL_TYPE_U32 },
	[KCIP_A_SVC_STATS] = { MNL_TYPE_NESTED },
	[KCIP_A_SVC_BACKENDS] = { MNL_TYPE_NESTED },
};

static const struct attr_policy be_policy[KCIP_A_BE_MAX + 1] = {
	[KCIP_A_BE_ADDR4] = { MNL_TYPE_BINARY, 4 },
	[KCIP_A_BE_ADDR6] = { MNL_TYPE_BINARY, 16 },
	[KCIP_A_BE_PORT] = { MNL_TYPE_U16 },
	[KCIP_A_BE_WEIGHT] = { MNL_TYPE_U32 },
	[KCIP_A_BE_STATE] = { MNL_TYPE_U8 },
	[KCIP_A_BE_FLAGS] = { MNL_TYPE_U32 },
	[KCIP_A_BE_FLAGS_MASK] = { MNL_TYPE_U32 },
	[KCIP_A_BE_STATS] = { MNL_TYPE_NESTED },
	[KCIP_A_BE_QUARANTINE] = { MNL_TYPE_U32 },
};

static const struct attr_policy stats_policy[KCIP_A_STATS_MAX + 1] = {
	[KCIP_A_STATS_NEW_FLOWS] = { MNL_TYPE_U64 },
	[KCIP_A_STATS_REJECTS] = { MNL_TYPE_U64 },
	[KCIP_A_STATS_DROPS] = { MNL_TYPE_U64 },
	[KCIP_A_STATS_PACKETS] = { MNL_TYPE_U64 },
	[KCIP_A_STATS_BYTES] = { MNL_TYPE_U64 },
	[KCIP_A_STATS_ACTIVE_FLOWS] = { MNL_TYPE_U64 },
	[KCIP_A_STATS_FAILURES] = { MNL_TYPE_U64 },
	[KCIP_A_STATS_RETRIES] = { MNL_TYPE_U64 },
};

static const struct attr_policy restore_policy[KCIP_A_RESTORE_MAX + 1] = {
	[KCIP_A_RESTORE_ADDED] = { MNL_TYPE_U32 },
	[KCIP_A_RESTORE_CHANGED] = { MNL_TYPE_U32 },
	[KCIP_A_RESTORE_DELETED] = { MNL_TYPE_U32 },
	[KCIP_A_RESTORE_UNCHANGED] = { MNL_TYPE_U32 },
	[KCIP_A_RESTORE_SERVICES] = { MNL_TYPE_U32 },
	[KCIP_A_RESTORE_BACKENDS] = { MNL_TYPE_U32 },
};

struct attr_table {
	const struct nlattr **tb;
	const struct attr_policy *policy;
	unsigned int max;
};

/* Unknown (newer) attributes are skipped; known ones must be well formed. */
static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct attr_table *at = data;
	unsigned int type = mnl_attr_get_type(attr);
	const struct attr_policy *p;
	int ret;

	if (type > at->max)
		return MNL_CB_OK;
	p = &at->policy[type];
	if (p->type == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;
	if (p->len)
		ret = mnl_attr_validate2(attr, p->type, p->len);
	else
		ret = mnl_attr_validate(attr, p->type);
	if (ret < 0)
		return MNL_CB_ERROR;
	at->tb[type] = attr;
	return MNL_CB_OK;
}

int attr_parse_nested(const struct nlattr *nest,
		      const struct attr_policy *policy, unsigned int max,
		      const struct nlattr **tb)
{
	struct attr_table at = { .tb = tb, .policy = policy, .max = max };

	return mnl_attr_parse_nested(nest, attr_cb, &at) < 0 ? -1 : 0;
}

int attr_parse_msg(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	struct attr_table at = { .tb = tb, .policy = top_policy,
				 .max = KCIP_A_MAX };

	if (mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN)
		return -1;
	return mnl_attr_parse(nlh, GENL_HDRLEN, attr_cb, &at) < 0 ? -1 : 0;
}

static void parse_stats(const struct nlattr *nest, struct stats *st)
{
	const struct nlattr *tb[KCIP_A_STATS_MAX + 1] = { NULL };

	if (!nest || attr_parse_nested(nest, stats_policy, KCIP_A_STATS_MAX,
				       tb))
		return;
	st->present = true;
	if (tb[KCIP_A_STATS_NEW_FLOWS])
		st->new_flows = mnl_attr_get_u64(tb[KCIP_A_STATS_NEW_FLOWS]);
	if (tb[KCIP_A_STATS_REJECTS])
		st->rejects = mnl_attr_get_u64(tb[KCIP_A_STATS_REJECTS]);
	if (tb[KCIP_A_STATS_DROPS])
		st->drops = mnl_attr_get_u64(tb[KCIP_A_STATS_DROPS]);
	if (tb[KCIP_A_STATS_PACKETS])
		st->packets = mnl_attr_get_u64(tb[KCIP_A_STATS_PACKETS]);
	if (tb[KCIP_A_STATS_BYTES])
		st->bytes = mnl_attr_get_u64(tb[KCIP_A_STATS_BYTES]);
	if (tb[KCIP_A_STATS_RETRIES])
		st->retries = mnl_attr_get_u64(tb[KCIP_A_STATS_RETRIES]);
	if (tb[KCIP_A_STATS_FAILURES])
		st->failures = mnl_attr_get_u64(tb[KCIP_A_STATS_FAILURES]);
	if (tb[KCIP_A_STATS_ACTIVE_FLOWS]) {
		st->has_active = true;
		st->active = mnl_attr_get_u64(tb[KCIP_A_STATS_ACTIVE_FLOWS]);
	}
}

/* Address from an ADDR4 or ADDR6 attribute, whichever is there. */
static int get_addr(const struct nlattr *a4, const struct nlattr *a6,
		    struct endpoint *ep)
{
	if (a4) {
		ep->family = AF_INET;
		memcpy(ep->addr, mnl_attr_get_payload(a4), 4);
	} else if (a6) {
		ep->family = AF_INET6;
		memcpy(ep->addr, mnl_attr_get_payload(a6), 16);
	} else {
		return -1;
	}
	return 0;
}

static int parse_svc_id(const struct nlattr **tb, struct svc_id *id)
{
	memset(id, 0, sizeof(*id));
	if (!tb[KCIP_A_SVC_FAMILY] || !tb[KCIP_A_SVC_PROTO] ||
	    !tb[KCIP_A_SVC_PORT])
		return -1;
	if (get_addr(tb[KCIP_A_SVC_ADDR4], tb[KCIP_A_SVC_ADDR6], &id->ep))
		return -1;
	if (mnl_attr_get_u16(tb[KCIP_A_SVC_FAMILY]) != id->ep.family)
		return -1;
	id->proto = mnl_attr_get_u8(tb[KCIP_A_SVC_PROTO]);
	id->ep.port = ntohs(mnl_attr_get_u16(tb[KCIP_A_SVC_PORT]));
	return 0;
}

static void get_u8(const struct nlattr *a, uint8_t *v)
{
	if (a)
		*v = mnl_attr_get_u8(a);
}

static void get_u32(const struct nlattr *a, uint32_t *v)
{
	if (a)
		*v = mnl_attr_get_u32(a);
}

static void parse_svc_opts(const struct nlattr **tb, struct svc_opts *o)
{
	unsigned int i;

	memset(o, 0, sizeof(*o));
	for (i = KCIP_A_SVC_SCHED; i <= KCIP_A_SVC_QUARANTINE; i++)
		if (tb[i])
			o->set |= OPT_BIT(i);
	get_u8(tb[KCIP_A_SVC_SCHED], &o->sched);
	get_u8(tb[KCIP_A_SVC_AFFINITY], &o->affinity);
	get_u32(tb[KCIP_A_SVC_AFFINITY_TIMEOUT], &o->affinity_timeout);
	get_u8(tb[KCIP_A_SVC_TRAFFIC_POLICY], &o->traffic_policy);
	get_u8(tb[KCIP_A_SVC_NO_ENDPOINTS], &o->no_endpoints);
	get_u32(tb[KCIP_A_SVC_FLAGS], &o->flags);
	get_u32(tb[KCIP_A_SVC_QUARANTINE], &o->quarantine);
}

int attr_parse_service(const struct nlattr *nest, struct svc_id *id,
		       struct svc_opts *o, struct stats *st,
		       const struct nlattr **backends)
{
	const struct nlattr *tb[KCIP_A_SVC_MAX + 1] = { NULL };

	if (attr_parse_nested(nest, svc_policy, KCIP_A_SVC_MAX, tb) ||
	    parse_svc_id(tb, id))
		return -1;
	parse_svc_opts(tb, o);
	if (st) {
		memset(st, 0, sizeof(*st));
		parse_stats(tb[KCIP_A_SVC_STATS], st);
	}
	if (backends)
		*backends = tb[KCIP_A_SVC_BACKENDS];
	return 0;
}

int attr_parse_backend(const struct nlattr *nest, struct backend *be)
{
	const struct nlattr *tb[KCIP_A_BE_MAX + 1] = { NULL };
	unsigned int i;

	memset(be, 0, sizeof(*be));
	if (attr_parse_nested(nest, be_policy, KCIP_A_BE_MAX, tb))
		return -1;
	if (get_addr(tb[KCIP_A_BE_ADDR4], tb[KCIP_A_BE_ADDR6], &be->ep) ||
	    !tb[KCIP_A_BE_PORT])
		return -1;
	be->ep.port = ntohs(mnl_attr_get_u16(tb[KCIP_A_BE_PORT]));
	for (i = KCIP_A_BE_WEIGHT; i <= KCIP_A_BE_FLAGS; i++)
		if (tb[i])
			be->opts.set |= OPT_BIT(i);
	get_u32(tb[KCIP_A_BE_WEIGHT], &be->opts.weight);
	get_u8(tb[KCIP_A_BE_STATE], &be->opts.state);
	get_u32(tb[KCIP_A_BE_FLAGS], &be->opts.flags);
	parse_stats(tb[KCIP_A_BE_STATS], &be->stats);
	get_u32(tb[KCIP_A_BE_QUARANTINE], &be->quarantine);
	return 0;
}

int attr_parse_restore(const struct nlattr *nest, struct restore_counts *c)
{
	const struct nlattr *tb[KCIP_A_RESTORE_MAX + 1] = { NULL };

	memset(c, 0, sizeof(*c));
	if (attr_parse_nested(nest, restore_policy, KCIP_A_RESTORE_MAX, tb))
		return -1;
	get_u32(tb[KCIP_A_RESTORE_ADDED], &c->added);
	get_u32(tb[KCIP_A_RESTORE_CHANGED], &c->changed);
	get_u32(tb[KCIP_A_RESTORE_DELETED], &c->deleted);
	get_u32(tb[KCIP_A_RESTORE_UNCHANGED], &c->unchanged);
	get_u32(tb[KCIP_A_RESTORE_SERVICES], &c->services);
	get_u32(tb[KCIP_A_RESTORE_BACKENDS], &c->backends);
	return 0;
}

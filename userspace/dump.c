// SPDX-License-Identifier: GPL-2.0
/*
 * KCIP_CMD_SERVICE_GET dump into a struct table.
 *
 * A Service with many backends arrives over several consecutive messages,
 * each repeating its identity and options: they are merged.  A dump that
 * raced a change (NLM_F_DUMP_INTR, or two generations seen) is retried.
 * The result is sorted, so the output does not depend on the kernel's
 * hash order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "kcipctl.h"

#define DUMP_TRIES 5

struct dump_ctx {
	struct table *t;
	bool intr;		/* two generations seen */
	const char *bad;	/* what was malformed, if anything */
};

/* Expected type and, for binary attributes, length of an attribute. */
struct attr_policy {
	enum mnl_attr_data_type type;
	uint16_t len;
};

static const struct attr_policy top_policy[KCIP_A_MAX + 1] = {
	[KCIP_A_GENERATION] = { MNL_TYPE_U64 },
	[KCIP_A_SERVICE] = { MNL_TYPE_NESTED },
	[KCIP_A_BACKEND] = { MNL_TYPE_NESTED },
	[KCIP_A_FLAGS] = { MNL_TYPE_U32 },
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
};

static const struct attr_policy stats_policy[KCIP_A_STATS_MAX + 1] = {
	[KCIP_A_STATS_NEW_FLOWS] = { MNL_TYPE_U64 },
	[KCIP_A_STATS_REJECTS] = { MNL_TYPE_U64 },
	[KCIP_A_STATS_DROPS] = { MNL_TYPE_U64 },
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

static int parse_nested(const struct nlattr *nest,
			const struct attr_policy *policy, unsigned int max,
			const struct nlattr **tb)
{
	struct attr_table at = { .tb = tb, .policy = policy, .max = max };

	return mnl_attr_parse_nested(nest, attr_cb, &at) < 0 ? -1 : 0;
}

static void parse_stats(const struct nlattr *nest, struct stats *st)
{
	const struct nlattr *tb[KCIP_A_STATS_MAX + 1] = { NULL };

	if (!nest || parse_nested(nest, stats_policy, KCIP_A_STATS_MAX, tb))
		return;
	st->present = true;
	if (tb[KCIP_A_STATS_NEW_FLOWS])
		st->new_flows = mnl_attr_get_u64(tb[KCIP_A_STATS_NEW_FLOWS]);
	if (tb[KCIP_A_STATS_REJECTS])
		st->rejects = mnl_attr_get_u64(tb[KCIP_A_STATS_REJECTS]);
	if (tb[KCIP_A_STATS_DROPS])
		st->drops = mnl_attr_get_u64(tb[KCIP_A_STATS_DROPS]);
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

static int parse_backend_attr(const struct nlattr *nest, struct backend *be)
{
	const struct nlattr *tb[KCIP_A_BE_MAX + 1] = { NULL };

	memset(be, 0, sizeof(*be));
	if (parse_nested(nest, be_policy, KCIP_A_BE_MAX, tb))
		return -1;
	if (get_addr(tb[KCIP_A_BE_ADDR4], tb[KCIP_A_BE_ADDR6], &be->ep) ||
	    !tb[KCIP_A_BE_PORT])
		return -1;
	be->ep.port = ntohs(mnl_attr_get_u16(tb[KCIP_A_BE_PORT]));
	get_u32(tb[KCIP_A_BE_WEIGHT], &be->opts.weight);
	get_u8(tb[KCIP_A_BE_STATE], &be->opts.state);
	get_u32(tb[KCIP_A_BE_FLAGS], &be->opts.flags);
	parse_stats(tb[KCIP_A_BE_STATS], &be->stats);
	return 0;
}

/* Grow *@arr of *@cap elements of @size so that it holds @n + 1. */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = reallocarray(*arr, ncap, size);
	if (!p)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

static int add_backends(struct dump_ctx *d, struct service *s,
			const struct nlattr *list)
{
	const struct nlattr *a;

	if (!list)
		return 0;
	mnl_attr_for_each_nested(a, list) {
		if (mnl_attr_get_type(a) != KCIP_A_BACKEND)
			continue;
		if (grow((void **)&s->be, &s->be_cap, s->nbe, sizeof(*s->be)))
			return -ENOMEM;
		if (parse_backend_attr(a, &s->be[s->nbe])) {
			d->bad = "backend";
			return -EBADMSG;
		}
		s->nbe++;
	}
	return 0;
}

static int add_service(struct dump_ctx *d, const struct nlattr *nest)
{
	const struct nlattr *tb[KCIP_A_SVC_MAX + 1] = { NULL };
	struct table *t = d->t;
	struct service *s;
	struct svc_id id;

	if (parse_nested(nest, svc_policy, KCIP_A_SVC_MAX, tb) ||
	    parse_svc_id(tb, &id)) {
		d->bad = "service";
		return -EBADMSG;
	}
	if (tb[KCIP_A_SVC_BACKENDS] &&
	    mnl_attr_validate(tb[KCIP_A_SVC_BACKENDS], MNL_TYPE_NESTED) < 0) {
		d->bad = "backend list";
		return -EBADMSG;
	}

	/* The next part of the Service the previous message began? */
	s = t->nsvc ? &t->svc[t->nsvc - 1] : NULL;
	if (!s || svc_id_cmp(&s->id, &id)) {
		if (grow((void **)&t->svc, &t->svc_cap, t->nsvc,
			 sizeof(*t->svc)))
			return -ENOMEM;
		s = &t->svc[t->nsvc++];
		memset(s, 0, sizeof(*s));
		s->id = id;
		parse_svc_opts(tb, &s->opts);
		parse_stats(tb[KCIP_A_SVC_STATS], &s->stats);
	}
	return add_backends(d, s, tb[KCIP_A_SVC_BACKENDS]);
}

static int dump_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KCIP_A_MAX + 1] = { NULL };
	struct attr_table at = { .tb = tb, .policy = top_policy,
				 .max = KCIP_A_MAX };
	struct dump_ctx *d = data;
	struct table *t = d->t;
	uint64_t gen;
	int ret;

	if (mnl_attr_parse(nlh, GENL_HDRLEN, attr_cb, &at) < 0) {
		d->bad = "message";
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (tb[KCIP_A_GENERATION]) {
		gen = mnl_attr_get_u64(tb[KCIP_A_GENERATION]);
		if (t->have_generation && gen != t->generation)
			d->intr = true;
		t->generation = gen;
		t->have_generation = true;
	}
	if (tb[KCIP_A_SERVICE]) {
		ret = add_service(d, tb[KCIP_A_SERVICE]);
		if (ret) {
			errno = -ret;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_OK;
}

static int cmp_service(const void *a, const void *b)
{
	const struct service *x = a, *y = b;

	return svc_id_cmp(&x->id, &y->id);
}

static int cmp_backend(const void *a, const void *b)
{
	const struct backend *x = a, *y = b;

	return endpoint_cmp(&x->ep, &y->ep);
}

/* qsort() and bsearch() want a valid pointer even for no elements. */
static void table_sort(struct table *t)
{
	size_t i;

	if (!t->nsvc)
		return;
	qsort(t->svc, t->nsvc, sizeof(*t->svc), cmp_service);
	for (i = 0; i < t->nsvc; i++)
		if (t->svc[i].nbe)
			qsort(t->svc[i].be, t->svc[i].nbe,
			      sizeof(*t->svc[i].be), cmp_backend);
}

void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nsvc; i++)
		free(t->svc[i].be);
	free(t->svc);
	memset(t, 0, sizeof(*t));
}

/* Fill @t with every Service of the netns; prints its own errors. */
int dump_table(struct nl *nl, struct table *t)
{
	struct nlmsghdr *nlh;
	int try, ret;

	for (try = 0; try < DUMP_TRIES; try++) {
		struct dump_ctx d = { .t = t };

		memset(t, 0, sizeof(*t));
		nlh = nl_msg(nl, KCIP_CMD_SERVICE_GET, 0);
		ret = nl_dump(nl, nlh, dump_msg_cb, &d);
		if (ret == -EINTR) {	/* NLM_F_DUMP_INTR */
			d.intr = true;
		} else if (ret) {
			if (d.bad)
				errmsg("malformed %s in the kernel's answer",
				       d.bad);
			else
				nl_perror(nl, ret);
			table_free(t);
			return -1;
		}
		if (!d.intr) {
			table_sort(t);
			return 0;
		}
		table_free(t);
	}
	errmsg("the state kept changing during the dump, gave up after %d tries",
	       DUMP_TRIES);
	return -1;
}

struct service *table_find(struct table *t, const struct svc_id *id)
{
	struct service key = { .id = *id };

	if (!t->nsvc)
		return NULL;
	return bsearch(&key, t->svc, t->nsvc, sizeof(*t->svc), cmp_service);
}

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

#include "attr.h"

#define DUMP_TRIES 5

struct dump_ctx {
	struct table *t;
	bool intr;		/* two generations seen */
	const char *bad;	/* what was malformed, if anything */
};

static int add_backends(struct dump_ctx *d, struct service *s,
			const struct nlattr *list)
{
	const struct nlattr *a;

	if (!list)
		return 0;
	mnl_attr_for_each_nested(a, list) {
		if (mnl_attr_get_type(a) != KCIP_A_BACKEND)
			continue;
		if (grow_array((void **)&s->be, &s->be_cap, s->nbe, sizeof(*s->be)))
			return -ENOMEM;
		if (attr_parse_backend(a, &s->be[s->nbe])) {
			d->bad = "backend";
			return -EBADMSG;
		}
		s->nbe++;
	}
	return 0;
}

static int add_service(struct dump_ctx *d, const struct nlattr *nest)
{
	const struct nlattr *backends;
	struct table *t = d->t;
	struct svc_opts opts;
	struct stats stats;
	struct service *s;
	struct svc_id id;

	if (attr_parse_service(nest, &id, &opts, &stats, &backends)) {
		d->bad = "service";
		return -EBADMSG;
	}

	/* The next part of the Service the previous message began? */
	s = t->nsvc ? &t->svc[t->nsvc - 1] : NULL;
	if (!s || svc_id_cmp(&s->id, &id)) {
		if (grow_array((void **)&t->svc, &t->svc_cap, t->nsvc,
			       sizeof(*t->svc)))
			return -ENOMEM;
		s = &t->svc[t->nsvc++];
		memset(s, 0, sizeof(*s));
		s->id = id;
		s->opts = opts;
		s->stats = stats;
	}
	return add_backends(d, s, backends);
}

static int dump_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KCIP_A_MAX + 1] = { NULL };
	struct dump_ctx *d = data;
	struct table *t = d->t;
	uint64_t gen;
	int ret;

	if (attr_parse_msg(nlh, tb)) {
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

/*
 * Fill @t with every Service of the netns, or only @only when not NULL
 * (the kernel then dumps that one alone: @t is empty if it does not
 * exist); @active: with active-flow counts.  Prints its own errors.
 */
int dump_table(struct nl *nl, struct table *t, bool active,
	       const struct svc_id *only)
{
	struct nlmsghdr *nlh;
	int try, ret;

	for (try = 0; try < DUMP_TRIES; try++) {
		struct dump_ctx d = { .t = t };

		memset(t, 0, sizeof(*t));
		nlh = nl_msg(nl, KCIP_CMD_SERVICE_GET, 0);
		/* active flows cost the kernel a conntrack walk: only for -s */
		if (active)
			mnl_attr_put_u32(nlh, KCIP_A_FLAGS, KCIP_OP_F_ACTIVE);
		if (only) {
			struct nlattr *nest;

			nest = mnl_attr_nest_start(nlh, KCIP_A_SERVICE);
			nl_put_svc_id(nlh, only);
			mnl_attr_nest_end(nlh, nest);
		}
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

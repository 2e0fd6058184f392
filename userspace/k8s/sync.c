// SPDX-License-Identifier: GPL-2.0
/*
 * From the model to the kernel.
 *
 * Each Service's entries are computed when it or one of its EndpointSlices
 * changes.  An entry (ADDR:PORT/PROTO) belongs to one Service: when two
 * make the same one (two Services sharing an external IP and port, say),
 * the older one (creationTimestamp, then namespace/name) keeps it and the
 * other is reported.
 *
 * A full sync writes every entry as `kcipctl save` lines and hands them
 * to kcipctl's restore: one transaction, which the kernel applies as a
 * diff (what did not change keeps its flows).  After that, a change is
 * applied by comparing the entries it touches with what was applied
 * before, in single service and backend add/change/del requests; if the
 * kernel refuses one (someone else changed the state), a full sync puts
 * everything right.  --dry-run prints the lines instead of sending them.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "k8s.h"

/* The Services that make one entry. */
struct claim {
	struct svc_id id;		/* the table's key */
	struct ksvc **owners;
	size_t n, cap;
};

/* The socket of the single requests, open while a change is applied. */
static struct nl *ops_nl;

static void oom(void)
{
	errmsg("out of memory");
	exit(EXIT_FAIL);
}

/* FNV-1a over the identity, padding left out. */
static unsigned long id_hash(const void *key)
{
	const struct svc_id *id = key;
	unsigned char b[1 + 16 + 2 + 1];
	unsigned long h = 2166136261u;
	size_t i;

	b[0] = id->ep.family == AF_INET6;
	memcpy(b + 1, id->ep.addr, 16);
	memcpy(b + 17, &id->ep.port, 2);
	b[19] = id->proto;
	for (i = 0; i < sizeof(b); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static int id_equal(const void *a, const void *b)
{
	return !svc_id_cmp(a, b);
}

int sync_init(struct k8s *k)
{
	k->claims = lh_table_new(1024, NULL, id_hash, id_equal);
	k->applied = lh_table_new(1024, NULL, id_hash, id_equal);
	return k->claims && k->applied ? 0 : -1;
}

static void free_applied(struct lh_table *t)
{
	struct lh_entry *e;

	lh_foreach(t, e) {
		struct service *s = lh_entry_v(e);

		free(s->be);
		free(s);
	}
	lh_table_free(t);
}

void sync_free(struct k8s *k)
{
	struct lh_entry *e;

	if (k->claims) {
		lh_foreach(k->claims, e) {
			struct claim *c = lh_entry_v(e);

			free(c->owners);
			free(c);
		}
		lh_table_free(k->claims);
	}
	if (k->applied)
		free_applied(k->applied);
}

/* ---- who owns an entry ---- */

static int cmp_id_entry(const void *key, const void *elem)
{
	return svc_id_cmp(key, &((const struct service *)elem)->id);
}

static const struct service *entry_of(const struct ksvc *s,
				      const struct svc_id *id)
{
	return bsearch(id, s->entries, s->nentries, sizeof(*s->entries),
		       cmp_id_entry);
}

/* @a keeps an entry that @b makes too; one being deleted never does. */
static bool older(const struct ksvc *a, const struct ksvc *b)
{
	int r;

	if (!a->spec || !b->spec)
		return b->spec == NULL && a->spec != NULL;
	r = strcmp(a->spec->created, b->spec->created);
	return r ? r < 0 : strcmp(a->key, b->key) < 0;
}

static struct ksvc *winner(const struct claim *c)
{
	struct ksvc *w = c->owners[0];
	size_t i;

	for (i = 1; i < c->n; i++)
		if (older(c->owners[i], w))
			w = c->owners[i];
	return w;
}

/* The entry @id should be now, or NULL. */
static const struct service *target(struct k8s *k, const struct svc_id *id)
{
	struct claim *c;

	if (!lh_table_lookup_ex(k->claims, id, (void **)&c))
		return NULL;
	return entry_of(winner(c), id);
}

static void claim_add(struct k8s *k, const struct svc_id *id,
		      struct ksvc *s)
{
	char buf[SERVICE_STRLEN];
	struct claim *c;
	struct ksvc *w;

	if (!lh_table_lookup_ex(k->claims, id, (void **)&c)) {
		c = calloc(1, sizeof(*c));
		if (!c)
			oom();
		c->id = *id;
		if (lh_table_insert(k->claims, &c->id, c))
			oom();
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 2;
		c->owners = reallocarray(c->owners, c->cap, sizeof(*c->owners));
		if (!c->owners)
			oom();
	}
	c->owners[c->n++] = s;
	if (c->n == 1)
		return;
	w = winner(c);
	format_service(id, buf, sizeof(buf));
	errmsg("Services %s and %s both make entry %s: %s keeps it",
	       s->key, w == s ? c->owners[0]->key : w->key, buf, w->key);
}

static void claim_del(struct k8s *k, const struct svc_id *id,
		      struct ksvc *s)
{
	struct claim *c;
	size_t i;

	if (!lh_table_lookup_ex(k->claims, id, (void **)&c))
		return;
	for (i = 0; i < c->n; i++) {
		if (c->owners[i] != s)
			continue;
		c->owners[i] = c->owners[--c->n];
		break;
	}
	if (c->n)
		return;
	lh_table_delete(k->claims, &c->id);
	free(c->owners);
	free(c);
}

/* ---- single requests ---- */

static const char *word(const struct name *tbl, unsigned int v)
{
	const char *w = name_of(tbl, v);

	return w ? w : "?";
}

/* Print (--dry-run, -v) and send one request; @be NULL for a Service's. */
static int request(struct k8s *k, const char *line, uint8_t cmd,
		   const struct service *s, const struct backend *be)
{
	char where[320];
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	int ret;

	if (k->dry_run || k->verbose)
		printf("%s\n", line);
	if (k->dry_run)
		return 0;
	if (!ops_nl) {
		ops_nl = nl_open(NULL);
		if (!ops_nl)
			return -1;
	}
	nlh = nl_msg(ops_nl, cmd, 0);
	nest = mnl_attr_nest_start(nlh, KCIP_A_SERVICE);
	nl_put_svc_id(nlh, &s->id);
	if (!be && cmd != KCIP_CMD_SERVICE_DEL)
		nl_put_svc_opts(nlh, &s->opts, cmd == KCIP_CMD_SERVICE_SET);
	mnl_attr_nest_end(nlh, nest);
	if (be)
		nl_put_backend(nlh, &be->ep, &be->opts,
			       cmd == KCIP_CMD_BACKEND_SET);
	ret = nl_do(ops_nl, nlh);
	if (!ret)
		return 0;
	snprintf(where, sizeof(where), "%s: ", line);
	errmsg_where = where;
	nl_perror(ops_nl, ret);
	errmsg_where = NULL;
	k->failures++;
	return -1;
}

/* A save line ("service add ..." or "backend add ...") into @buf. */
static void save_line(char *buf, size_t len, const struct service *s,
		      const char *id, const struct backend *be)
{
	FILE *f = fmemopen(buf, len, "w");

	buf[0] = '\0';
	if (!f)
		return;
	if (be)
		save_backend(f, id, be);
	else
		save_service(f, s, id);
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

static int svc_request(struct k8s *k, uint8_t cmd, const struct service *s)
{
	const struct svc_opts *o = &s->opts;
	char id[SERVICE_STRLEN], line[256], tmo[32] = "";

	format_service(&s->id, id, sizeof(id));
	if (cmd == KCIP_CMD_SERVICE_NEW) {
		save_line(line, sizeof(line), s, id, NULL);
	} else if (cmd == KCIP_CMD_SERVICE_SET) {
		if (o->affinity != KCIP_AFFINITY_NONE)
			snprintf(tmo, sizeof(tmo), " timeout %u",
				 o->affinity_timeout);
		snprintf(line, sizeof(line),
			 "service change %s sched %s affinity %s%s traffic-policy %s no-endpoints %s masquerade %s retry off",
			 id, word(sched_names, o->sched),
			 word(affinity_names, o->affinity), tmo,
			 word(traffic_policy_names, o->traffic_policy),
			 word(no_endpoints_names, o->no_endpoints),
			 o->flags & KCIP_SVC_F_MASQUERADE ? "on" : "off");
	} else {
		snprintf(line, sizeof(line), "service del %s", id);
	}
	return request(k, line, cmd, s, NULL);
}

static int be_request(struct k8s *k, uint8_t cmd, const struct service *s,
		      const struct backend *be)
{
	char id[SERVICE_STRLEN], ep[ENDPOINT_STRLEN], line[256];
	const struct be_opts *o = &be->opts;

	format_service(&s->id, id, sizeof(id));
	format_endpoint(&be->ep, ep, sizeof(ep));
	if (cmd == KCIP_CMD_BACKEND_NEW)
		save_line(line, sizeof(line), s, id, be);
	else if (cmd == KCIP_CMD_BACKEND_SET)
		snprintf(line, sizeof(line), "backend change %s %s weight %u state %s %s",
			 id, ep, o->weight, word(be_state_names, o->state),
			 o->flags & KCIP_BE_F_LOCAL ? "local" : "nonlocal");
	else
		snprintf(line, sizeof(line), "backend del %s %s", id, ep);
	return request(k, line, cmd, s, be);
}

static bool same_svc_opts(const struct svc_opts *a, const struct svc_opts *b)
{
	return a->sched == b->sched && a->affinity == b->affinity &&
	       a->affinity_timeout == b->affinity_timeout &&
	       a->traffic_policy == b->traffic_policy &&
	       a->no_endpoints == b->no_endpoints && a->flags == b->flags;
}

static bool same_be_opts(const struct be_opts *a, const struct be_opts *b)
{
	return a->weight == b->weight && a->state == b->state &&
	       a->flags == b->flags;
}

/*
 * Backends of @want that @have lacks or has otherwise, added or changed
 * first; then those @have has and @want has not, deleted: a Pod replaced
 * by another never leaves the entry without a backend.
 */
static int diff_backends(struct k8s *k, const struct service *want,
			 const struct service *have)
{
	size_t i = 0, j = 0;
	int r;

	while (i < want->nbe) {
		r = j < have->nbe ? endpoint_cmp(&want->be[i].ep,
						 &have->be[j].ep) : -1;
		if (r > 0) {
			j++;
			continue;
		}
		if (r < 0) {
			if (be_request(k, KCIP_CMD_BACKEND_NEW, want,
				       &want->be[i]))
				return -1;
		} else {
			if (!same_be_opts(&want->be[i].opts,
					  &have->be[j].opts) &&
			    be_request(k, KCIP_CMD_BACKEND_SET, want,
				       &want->be[i]))
				return -1;
			j++;
		}
		i++;
	}
	for (i = 0, j = 0; j < have->nbe; j++) {
		while (i < want->nbe &&
		       endpoint_cmp(&want->be[i].ep, &have->be[j].ep) < 0)
			i++;
		if (i < want->nbe &&
		    !endpoint_cmp(&want->be[i].ep, &have->be[j].ep))
			continue;
		if (be_request(k, KCIP_CMD_BACKEND_DEL, have, &have->be[j]))
			return -1;
	}
	return 0;
}

/* Make entry @id in the kernel what it should be now. */
static int reconcile(struct k8s *k, const struct svc_id *id)
{
	const struct service *want = target(k, id);
	struct service *have = NULL, copy;
	size_t i;

	lh_table_lookup_ex(k->applied, id, (void **)&have);
	if (!want && !have)
		return 0;
	if (!want) {
		if (svc_request(k, KCIP_CMD_SERVICE_DEL, have))
			return -1;
		lh_table_delete(k->applied, &have->id);
		free(have->be);
		free(have);
		return 0;
	}
	if (service_copy(&copy, want))
		oom();
	if (!have) {
		if (svc_request(k, KCIP_CMD_SERVICE_NEW, want))
			goto fail;
		for (i = 0; i < want->nbe; i++)
			if (be_request(k, KCIP_CMD_BACKEND_NEW, want,
				       &want->be[i]))
				goto fail;
		have = malloc(sizeof(*have));
		if (!have)
			oom();
		*have = copy;
		if (lh_table_insert(k->applied, &have->id, have))
			oom();
		return 0;
	}
	if ((!same_svc_opts(&want->opts, &have->opts) &&
	     svc_request(k, KCIP_CMD_SERVICE_SET, want)) ||
	    diff_backends(k, want, have))
		goto fail;
	free(have->be);
	*have = copy;
	return 0;
fail:
	free(copy.be);
	return -1;
}

static int cmp_id(const void *a, const void *b)
{
	return svc_id_cmp(a, b);
}

/* The ids an update touched. */
struct ids {
	struct svc_id *id;
	size_t n, cap;
};

static void ids_add(struct ids *ids, const struct svc_id *id)
{
	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? 2 * ids->cap : 16;
		ids->id = reallocarray(ids->id, ids->cap, sizeof(*ids->id));
		if (!ids->id)
			oom();
	}
	ids->id[ids->n++] = *id;
}

/* Service @s's entries anew, and who owns them; the ids into @ids. */
static void recompute(struct k8s *k, struct ksvc *s, struct ids *ids)
{
	struct service *old = s->entries, *ne;
	size_t nold = s->nentries, nn, i;

	if (ksvc_entries(k, s, &ne, &nn))
		oom();
	for (i = 0; i < nold; i++) {
		claim_del(k, &old[i].id, s);
		ids_add(ids, &old[i].id);
	}
	s->entries = ne;
	s->nentries = nn;
	for (i = 0; i < nn; i++) {
		claim_add(k, &ne[i].id, s);
		ids_add(ids, &ne[i].id);
	}
	entries_free(old, nold);
}

int sync_dirty(struct k8s *k, bool apply)
{
	struct ids ids = { NULL, 0, 0 };
	struct ksvc *s;
	size_t i;
	int ret = 0;

	/* every dirty Service first: owners are settled before reconciling */
	while ((s = k->dirty)) {
		k->dirty = s->next_dirty;
		s->dirty = false;
		recompute(k, s, &ids);
		if (!s->spec && !s->nslices) {
			lh_table_delete(k->svcs, s->key);
			free(s->slices);
			free(s->key);
			free(s);
		}
	}
	if (apply && ids.n) {
		qsort(ids.id, ids.n, sizeof(*ids.id), cmp_id);
		/* after a refusal, stop: a full sync follows */
		for (i = 0; i < ids.n && !ret; i++)
			if (!i || svc_id_cmp(&ids.id[i - 1], &ids.id[i]))
				ret = reconcile(k, &ids.id[i]);
	}
	free(ids.id);
	if (ops_nl) {
		nl_close(ops_nl);
		ops_nl = NULL;
	}
	return ret;
}

/* ---- full sync ---- */

static int cmp_entry_ptr(const void *a, const void *b)
{
	const struct service *const *x = a, *const *y = b;

	return svc_id_cmp(&(*x)->id, &(*y)->id);
}

int sync_full(struct k8s *k, bool header)
{
	const struct service **all;
	struct lh_table *applied;
	struct lh_entry *e;
	size_t n = 0, i, j, len = 0;
	char id[SERVICE_STRLEN], *buf = NULL;
	FILE *f;
	int ret = 0;

	sync_dirty(k, false);
	all = malloc((lh_table_length(k->claims) + 1) * sizeof(*all));
	if (!all)
		oom();
	lh_foreach(k->claims, e) {
		struct claim *c = lh_entry_v(e);

		all[n++] = entry_of(winner(c), &c->id);
	}
	qsort(all, n, sizeof(*all), cmp_entry_ptr);

	f = open_memstream(&buf, &len);
	if (!f)
		oom();
	for (i = 0; i < n; i++) {
		format_service(&all[i]->id, id, sizeof(id));
		save_service(f, all[i], id);
		for (j = 0; j < all[i]->nbe; j++)
			save_backend(f, id, &all[i]->be[j]);
	}
	if (fclose(f))
		oom();

	if (k->dry_run) {
		if (header)
			puts("# sync: restore");
		fwrite(buf, 1, len, stdout);
		if (header)
			puts("# sync: commit");
	} else {
		if (k->verbose && header)
			printf("# sync: restore of %zu entries\n", n);
		f = len ? fmemopen(buf, len, "r") : fopen("/dev/null", "r");
		if (!f)
			oom();
		ret = restore_stream(&k->opts, f, "sync");
		fclose(f);
	}
	free(buf);

	if (!ret) {
		/* what the kernel has now */
		applied = lh_table_new(1024, NULL, id_hash, id_equal);
		if (!applied)
			oom();
		for (i = 0; i < n; i++) {
			struct service *s = malloc(sizeof(*s));

			if (!s || service_copy(s, all[i]) ||
			    lh_table_insert(applied, &s->id, s))
				oom();
		}
		free_applied(k->applied);
		k->applied = applied;
	}
	free(all);
	fflush(stdout);
	return ret;
}

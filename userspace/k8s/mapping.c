// SPDX-License-Identifier: GPL-2.0
/*
 * A Service and its EndpointSlices into kclusterip entries, as kube-proxy
 * programs them.  Per family of the Service's cluster IPs, per Service port:
 *
 *   cluster IP           traffic-policy from internalTrafficPolicy,
 *                        masquerade off
 *   NodePort             0.0.0.0:NP or [::]:NP (NodePort, LoadBalancer)
 *   externalIPs          of that family
 *   load balancer IPs    status.loadBalancer.ingress[].ip (LoadBalancer;
 *                        not those with ipMode Proxy)
 *     these three: traffic-policy from externalTrafficPolicy, masquerade
 *     on with policy Cluster (kube-proxy masquerades external traffic
 *     then), off with Local (the client's address is kept)
 *
 * every one with sessionAffinity ClientIP as `affinity clientip timeout T`.
 * Backends: the endpoints of the Service's EndpointSlices of that family
 * (addressType), on the slice port with the Service port's name and
 * protocol, with its number (the EndpointSlice controller resolved
 * targetPort).  An endpoint in several slices counts once (local first,
 * then the best state).  Traffic policy Local with usable endpoints in
 * the cluster but none on this node drops new flows, as kube-proxy does;
 * no usable endpoint at all rejects them.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "k8s.h"

struct entries {
	struct service *e;
	size_t n, cap;
	const char *key;		/* the Service, in messages */
};

void entries_free(struct service *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(e[i].be);
	free(e);
}

int service_copy(struct service *dst, const struct service *src)
{
	*dst = *src;
	dst->be = NULL;
	dst->be_cap = src->nbe;
	if (!src->nbe)
		return 0;
	dst->be = malloc(src->nbe * sizeof(*dst->be));
	if (!dst->be)
		return -1;
	memcpy(dst->be, src->be, src->nbe * sizeof(*dst->be));
	return 0;
}

static bool same_opts(const struct svc_opts *a, const struct svc_opts *b)
{
	return a->sched == b->sched && a->affinity == b->affinity &&
	       a->affinity_timeout == b->affinity_timeout &&
	       a->traffic_policy == b->traffic_policy &&
	       a->no_endpoints == b->no_endpoints && a->flags == b->flags;
}

/* Every option explicit: a change sets them all. */
static void entry_opts(const struct k8s *k, const struct kspec *sp,
		       bool local, bool masquerade, bool drop,
		       struct svc_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->set = OPT_BIT(KCIP_A_SVC_SCHED) | OPT_BIT(KCIP_A_SVC_AFFINITY) |
		 OPT_BIT(KCIP_A_SVC_AFFINITY_TIMEOUT) |
		 OPT_BIT(KCIP_A_SVC_TRAFFIC_POLICY) |
		 OPT_BIT(KCIP_A_SVC_NO_ENDPOINTS) | OPT_BIT(KCIP_A_SVC_FLAGS);
	o->sched = k->sched;
	o->affinity = sp->affinity ? KCIP_AFFINITY_CLIENTIP :
				     KCIP_AFFINITY_NONE;
	o->affinity_timeout = sp->affinity_timeout;
	o->traffic_policy = local ? KCIP_TRAFFIC_POLICY_LOCAL :
				    KCIP_TRAFFIC_POLICY_CLUSTER;
	o->no_endpoints = local && drop ? KCIP_NO_ENDPOINTS_DROP :
					  KCIP_NO_ENDPOINTS_REJECT;
	o->flags = masquerade ? KCIP_SVC_F_MASQUERADE : 0;
	o->flags_mask = KCIP_SVC_F_MASQUERADE | KCIP_SVC_F_RETRY;
	o->quarantine = KCIP_DEFAULT_QUARANTINE;
}

/*
 * One entry, with a copy of @be.  The same entry twice in one Service
 * (an external IP that is also its load balancer IP) is kept once; if
 * the two disagree, the first one made (cluster IP, NodePort, external,
 * load balancer) stays.
 */
static int add_entry(struct entries *es, const struct kaddr *a,
		     uint16_t port, uint8_t proto, const struct svc_opts *o,
		     const struct backend *be, size_t nbe)
{
	struct service *s, tmp;
	char id[SERVICE_STRLEN];
	size_t i;

	memset(&tmp, 0, sizeof(tmp));
	tmp.id.ep.family = a->family;
	memcpy(tmp.id.ep.addr, a->addr, sizeof(a->addr));
	tmp.id.ep.port = port;
	tmp.id.proto = proto;
	for (i = 0; i < es->n; i++) {
		if (svc_id_cmp(&es->e[i].id, &tmp.id))
			continue;
		if (!same_opts(&es->e[i].opts, o)) {
			format_service(&tmp.id, id, sizeof(id));
			errmsg("Service %s: entry %s made twice, with different options: the first one kept",
			       es->key, id);
		}
		return 0;
	}
	if (es->n == es->cap) {
		es->cap = es->cap ? 2 * es->cap : 4;
		s = reallocarray(es->e, es->cap, sizeof(*es->e));
		if (!s)
			return -1;
		es->e = s;
	}
	tmp.opts = *o;
	tmp.be = (struct backend *)be;
	tmp.nbe = nbe;
	if (service_copy(&es->e[es->n], &tmp))
		return -1;
	es->n++;
	return 0;
}

static int cmp_backend(const void *a, const void *b)
{
	const struct backend *x = a, *y = b;

	return endpoint_cmp(&x->ep, &y->ep);
}

static int cmp_service(const void *a, const void *b)
{
	const struct service *x = a, *y = b;

	return svc_id_cmp(&x->id, &y->id);
}

/* @b is a better copy of the same endpoint than @a. */
static bool better(const struct backend *a, const struct backend *b)
{
	bool la = a->opts.flags & KCIP_BE_F_LOCAL;
	bool lb = b->opts.flags & KCIP_BE_F_LOCAL;

	if (la != lb)
		return lb;
	return b->opts.state < a->opts.state;	/* ready < terminating < down */
}

/* The backends of Service port @p in @family: sorted, each once. */
static int collect(const struct ksvc *s, const struct kport *p, int family,
		   struct backend **out, size_t *nout)
{
	struct backend *be = NULL;
	size_t n = 0, cap = 0, i, j;
	int pi, ei;

	for (i = 0; i < s->nslices; i++) {
		const struct kslice *sl = s->slices[i];
		const struct kslport *sp = NULL;

		if (sl->family != family)
			continue;
		for (pi = 0; pi < sl->nports && !sp; pi++)
			if (sl->ports[pi].port &&
			    sl->ports[pi].proto == p->proto &&
			    !strcmp(sl->ports[pi].name, p->name))
				sp = &sl->ports[pi];
		if (!sp)
			continue;
		for (ei = 0; ei < sl->neps; ei++) {
			const struct kendpoint *kep = &sl->eps[ei];
			struct backend *b;

			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				b = reallocarray(be, cap, sizeof(*be));
				if (!b) {
					free(be);
					return -1;
				}
				be = b;
			}
			b = &be[n++];
			memset(b, 0, sizeof(*b));
			b->ep.family = family;
			memcpy(b->ep.addr, kep->addr.addr, sizeof(b->ep.addr));
			b->ep.port = sp->port;
			b->opts.set = OPT_BIT(KCIP_A_BE_WEIGHT) |
				      OPT_BIT(KCIP_A_BE_STATE) |
				      OPT_BIT(KCIP_A_BE_FLAGS);
			b->opts.weight = 1;
			b->opts.state = kep->state;
			b->opts.flags = kep->local ? KCIP_BE_F_LOCAL : 0;
			b->opts.flags_mask = KCIP_BE_F_LOCAL;
		}
	}
	if (n)
		qsort(be, n, sizeof(*be), cmp_backend);
	for (i = 0, j = 0; i < n; i++) {
		if (j && !endpoint_cmp(&be[j - 1].ep, &be[i].ep)) {
			if (better(&be[j - 1], &be[i]))
				be[j - 1] = be[i];
			continue;
		}
		be[j++] = be[i];
	}
	*out = be;
	*nout = j;
	return 0;
}

static bool usable(const struct backend *b)
{
	return b->opts.state != KCIP_BE_STATE_DOWN;
}

/* The entries of one port in one family. */
static int port_entries(const struct k8s *k, const struct ksvc *s,
			const struct kport *p, const struct kaddr *cip,
			struct entries *es)
{
	const struct kspec *sp = s->spec;
	bool any = false, local = false, masq = !sp->etp_local;
	struct kaddr any_addr = { .family = cip->family };
	struct backend *be;
	struct svc_opts o;
	size_t nbe, i;
	int ret = 0;

	if (collect(s, p, cip->family, &be, &nbe))
		return -1;
	for (i = 0; i < nbe; i++) {
		any |= usable(&be[i]);
		local |= usable(&be[i]) && (be[i].opts.flags & KCIP_BE_F_LOCAL);
	}

	entry_opts(k, sp, sp->itp_local, false, any && !local, &o);
	ret |= add_entry(es, cip, p->port, p->proto, &o, be, nbe);

	entry_opts(k, sp, sp->etp_local, masq, any && !local, &o);
	if (sp->type != KSVC_CLUSTERIP && p->node_port)
		ret |= add_entry(es, &any_addr, p->node_port, p->proto, &o, be,
				 nbe);
	for (i = 0; i < (size_t)sp->nexternal; i++)
		if (sp->external[i].family == cip->family)
			ret |= add_entry(es, &sp->external[i], p->port,
					 p->proto, &o, be, nbe);
	for (i = 0; i < (size_t)sp->nlb; i++)
		if (sp->lb[i].family == cip->family)
			ret |= add_entry(es, &sp->lb[i], p->port, p->proto, &o,
					 be, nbe);
	free(be);
	return ret;
}

/* The entries Service @s makes now, sorted by id. */
int ksvc_entries(const struct k8s *k, const struct ksvc *s,
		 struct service **out, size_t *n)
{
	struct entries es = { .key = s->key };
	int f, p;

	*out = NULL;
	*n = 0;
	if (!s->spec || s->spec->no_entries)
		return 0;
	for (f = 0; f < s->spec->ncluster; f++)
		for (p = 0; p < s->spec->nports; p++)
			if (port_entries(k, s, &s->spec->ports[p],
					 &s->spec->cluster[f], &es)) {
				entries_free(es.e, es.n);
				return -1;
			}
	if (es.n)
		qsort(es.e, es.n, sizeof(*es.e), cmp_service);
	*out = es.e;
	*n = es.n;
	return 0;
}

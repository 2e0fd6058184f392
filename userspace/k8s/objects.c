// SPDX-License-Identifier: GPL-2.0
/*
 * Kubernetes objects, as the API server and kubectl print them, into the
 * model: Services (v1) and EndpointSlices (discovery.k8s.io/v1), bare, in a
 * List (kubectl's "List", or a typed ServiceList / EndpointSliceList whose
 * items carry no kind), or in watch events {"type": ..., "object": ...}.
 *
 * Every object is checked whole before it touches the model: one that is
 * malformed (a field of the wrong type, an address that does not parse,
 * a protocol kclusterip does not have) is reported and left out, and the
 * model keeps what it had for that object.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "k8s.h"

#define SVC_NAME_LABEL		"kubernetes.io/service-name"
#define PROXY_NAME_LABEL	"service.kubernetes.io/service-proxy-name"
#define INITIAL_END_ANNOT	"k8s.io/initial-events-end"

/* What was wrong with an object. */
struct perr {
	char msg[256];
};

static int bad(struct perr *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct perr *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- typed access: absent and null are the same ---- */

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

/* @path names the member in messages ("spec.type"). */
static int get_typed(struct json_object *o, const char *key, json_type type,
		     const char *path, struct json_object **out,
		     struct perr *e)
{
	static const char *const names[] = {
		[json_type_null] = "null", [json_type_boolean] = "a boolean",
		[json_type_double] = "a number", [json_type_int] = "an integer",
		[json_type_object] = "an object", [json_type_array] = "an array",
		[json_type_string] = "a string",
	};
	struct json_object *v = member(o, key);

	*out = v;
	if (!v || json_object_is_type(v, type))
		return 0;
	return bad(e, "%s is %s, not %s", path,
		   names[json_object_get_type(v)], names[type]);
}

/* A string member; *@out is @dflt when absent. */
static int get_str(struct json_object *o, const char *key, const char *path,
		   const char *dflt, const char **out, struct perr *e)
{
	struct json_object *v;

	if (get_typed(o, key, json_type_string, path, &v, e))
		return -1;
	*out = v ? json_object_get_string(v) : dflt;
	return 0;
}

/* An integer member in [@min, @max]; *@out is @dflt when absent. */
static int get_int(struct json_object *o, const char *key, const char *path,
		   int64_t min, int64_t max, int64_t dflt, int64_t *out,
		   struct perr *e)
{
	struct json_object *v;

	if (get_typed(o, key, json_type_int, path, &v, e))
		return -1;
	*out = v ? json_object_get_int64(v) : dflt;
	if (*out < min || *out > max)
		return bad(e, "%s %lld is not in %lld..%lld", path,
			   (long long)*out, (long long)min, (long long)max);
	return 0;
}

/* A boolean member: 1, 0, or -1 when absent. */
static int get_bool(struct json_object *o, const char *key, const char *path,
		    int *out, struct perr *e)
{
	struct json_object *v;

	if (get_typed(o, key, json_type_boolean, path, &v, e))
		return -1;
	*out = v ? json_object_get_boolean(v) : -1;
	return 0;
}

/* An array member, *@n its length (0 when absent). */
static int get_arr(struct json_object *o, const char *key, const char *path,
		   struct json_object **out, size_t *n, struct perr *e)
{
	if (get_typed(o, key, json_type_array, path, out, e))
		return -1;
	*n = *out ? json_object_array_length(*out) : 0;
	return 0;
}

/* Element @i of array @a, which must be an object (@path "spec.ports"). */
static int get_elem(struct json_object *a, size_t i, json_type type,
		    const char *path, struct json_object **out,
		    struct perr *e)
{
	*out = json_object_array_get_idx(a, i);
	if (*out && json_object_is_type(*out, type))
		return 0;
	return bad(e, "%s[%zu] is not %s", path, i,
		   type == json_type_object ? "an object" : "a string");
}

static int parse_addr(const char *s, int family, struct kaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (family != AF_INET6 && inet_pton(AF_INET, s, a->addr) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (family != AF_INET && inet_pton(AF_INET6, s, a->addr) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

/* TCP, UDP or SCTP; absent is TCP. */
static int get_proto(struct json_object *o, const char *path, uint8_t *proto,
		     struct perr *e)
{
	static const struct name k8s_protos[] = {
		{ "TCP", IPPROTO_TCP }, { "UDP", IPPROTO_UDP },
		{ "SCTP", IPPROTO_SCTP }, { NULL, 0 }
	};
	const char *s;
	unsigned int v;

	if (get_str(o, "protocol", path, "TCP", &s, e))
		return -1;
	if (value_of(k8s_protos, s, &v))
		return bad(e, "%s \"%s\" is not TCP, UDP or SCTP", path, s);
	*proto = v;
	return 0;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		errmsg("out of memory");
		exit(EXIT_FAIL);
	}
	return d;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		errmsg("out of memory");
		exit(EXIT_FAIL);
	}
	return p;
}

/* "NAMESPACE/NAME" from metadata, in @buf. */
static int meta_key(struct json_object *o, char *buf, size_t len,
		    struct perr *e)
{
	struct json_object *meta;
	const char *ns, *name;

	if (get_typed(o, "metadata", json_type_object, "metadata", &meta, e))
		return -1;
	if (!meta)
		return bad(e, "no metadata");
	if (get_str(meta, "namespace", "metadata.namespace", "", &ns, e) ||
	    get_str(meta, "name", "metadata.name", "", &name, e))
		return -1;
	if (!*ns || !*name)
		return bad(e, "no metadata.namespace or metadata.name");
	if ((size_t)snprintf(buf, len, "%s/%s", ns, name) >= len)
		return bad(e, "name too long");
	return 0;
}

/* metadata.labels[@label], or NULL. */
static int get_label(struct json_object *o, const char *label,
		     const char **out, struct perr *e)
{
	struct json_object *labels;

	if (get_typed(member(o, "metadata"), "labels", json_type_object,
		      "metadata.labels", &labels, e))
		return -1;
	return get_str(labels, label, label, NULL, out, e);
}

/* ---- Service ---- */

void kspec_free(struct kspec *sp)
{
	int i;

	if (!sp)
		return;
	for (i = 0; i < sp->nports; i++)
		free(sp->ports[i].name);
	free(sp->ports);
	free(sp->external);
	free(sp->lb);
	free(sp->created);
	free(sp);
}

/* An array of address strings, @path[i], into *@out. */
static int parse_addrs(struct json_object *arr, size_t n, const char *path,
		       struct kaddr **out, int *nout, struct perr *e)
{
	struct json_object *v;
	size_t i;

	*out = xcalloc(n, sizeof(**out));
	for (i = 0; i < n; i++) {
		if (get_elem(arr, i, json_type_string, path, &v, e))
			return -1;
		if (parse_addr(json_object_get_string(v), 0, &(*out)[i]))
			return bad(e, "%s[%zu] \"%s\" is not an IP address",
				   path, i, json_object_get_string(v));
	}
	*nout = n;
	return 0;
}

static int parse_cluster_ips(struct json_object *spec, struct kspec *sp,
			     struct perr *e)
{
	struct json_object *ips, *v;
	const char *one;
	size_t n, i;

	if (get_arr(spec, "clusterIPs", "spec.clusterIPs", &ips, &n, e) ||
	    get_str(spec, "clusterIP", "spec.clusterIP", "", &one, e))
		return -1;
	if (n > 2)
		return bad(e, "spec.clusterIPs has %zu addresses", n);
	for (i = 0; i < (n ? n : 1); i++) {
		if (n) {
			if (get_elem(ips, i, json_type_string,
				     "spec.clusterIPs", &v, e))
				return -1;
			one = json_object_get_string(v);
		}
		if (!strcmp(one, "None")) {
			sp->no_entries = "headless (clusterIP None)";
			return 0;
		}
		if (!*one) {
			sp->no_entries = "no cluster IP";
			return 0;
		}
		if (parse_addr(one, 0, &sp->cluster[i]))
			return bad(e, "cluster IP \"%s\" is not an IP address",
				   one);
		if (i && sp->cluster[0].family == sp->cluster[1].family)
			return bad(e, "spec.clusterIPs has two addresses of one family");
	}
	sp->ncluster = i;
	return 0;
}

static int parse_ports(struct json_object *spec, struct kspec *sp,
		       struct perr *e)
{
	struct json_object *ports, *p;
	char path[64];
	const char *name;
	int64_t port, np;
	size_t n, i;

	if (get_arr(spec, "ports", "spec.ports", &ports, &n, e))
		return -1;
	sp->ports = xcalloc(n, sizeof(*sp->ports));
	for (i = 0; i < n; i++) {
		struct kport *kp = &sp->ports[i];

		if (get_elem(ports, i, json_type_object, "spec.ports", &p, e))
			return -1;
		snprintf(path, sizeof(path), "spec.ports[%zu].protocol", i);
		if (get_proto(p, path, &kp->proto, e))
			return -1;
		snprintf(path, sizeof(path), "spec.ports[%zu].port", i);
		if (!member(p, "port"))
			return bad(e, "%s is missing", path);
		if (get_int(p, "port", path, 1, 65535, 0, &port, e))
			return -1;
		snprintf(path, sizeof(path), "spec.ports[%zu].nodePort", i);
		if (get_int(p, "nodePort", path, 0, 65535, 0, &np, e))
			return -1;
		snprintf(path, sizeof(path), "spec.ports[%zu].name", i);
		if (get_str(p, "name", path, "", &name, e))
			return -1;
		kp->port = port;
		kp->node_port = np;
		kp->name = xstrdup(name);
		sp->nports = i + 1;
	}
	return 0;
}

static int parse_lb(struct json_object *o, struct kspec *sp, struct perr *e)
{
	struct json_object *lb, *ing, *v;
	const char *ip, *mode;
	char path[64];
	size_t n, i;

	if (get_typed(member(o, "status"), "loadBalancer", json_type_object,
		      "status.loadBalancer", &lb, e) ||
	    get_arr(lb, "ingress", "status.loadBalancer.ingress", &ing, &n, e))
		return -1;
	sp->lb = xcalloc(n, sizeof(*sp->lb));
	for (i = 0; i < n; i++) {
		if (get_elem(ing, i, json_type_object,
			     "status.loadBalancer.ingress", &v, e))
			return -1;
		snprintf(path, sizeof(path), "status.loadBalancer.ingress[%zu].ip", i);
		if (get_str(v, "ip", path, "", &ip, e))
			return -1;
		snprintf(path, sizeof(path), "status.loadBalancer.ingress[%zu].ipMode", i);
		if (get_str(v, "ipMode", path, "VIP", &mode, e))
			return -1;
		if (strcmp(mode, "VIP") && strcmp(mode, "Proxy"))
			return bad(e, "%s \"%s\" is not VIP or Proxy", path, mode);
		/* hostname-only ingress, or one the load balancer proxies */
		if (!*ip || !strcmp(mode, "Proxy"))
			continue;
		if (parse_addr(ip, 0, &sp->lb[sp->nlb]))
			return bad(e, "status.loadBalancer.ingress[%zu].ip \"%s\" is not an IP address",
				   i, ip);
		sp->nlb++;
	}
	return 0;
}

/* "Cluster" (default) or "Local" */
static int get_policy(struct json_object *spec, const char *key, bool *local,
		      struct perr *e)
{
	char path[48];
	const char *s;

	snprintf(path, sizeof(path), "spec.%s", key);
	if (get_str(spec, key, path, "Cluster", &s, e))
		return -1;
	if (strcmp(s, "Cluster") && strcmp(s, "Local"))
		return bad(e, "%s \"%s\" is not Cluster or Local", path, s);
	*local = !strcmp(s, "Local");
	return 0;
}

static int parse_affinity(struct json_object *spec, struct kspec *sp,
			  struct perr *e)
{
	struct json_object *cfg, *cip;
	const char *s;
	int64_t t;

	if (get_str(spec, "sessionAffinity", "spec.sessionAffinity", "None",
		    &s, e))
		return -1;
	if (strcmp(s, "None") && strcmp(s, "ClientIP"))
		return bad(e, "spec.sessionAffinity \"%s\" is not None or ClientIP",
			   s);
	sp->affinity = !strcmp(s, "ClientIP");
	if (get_typed(spec, "sessionAffinityConfig", json_type_object,
		      "spec.sessionAffinityConfig", &cfg, e) ||
	    get_typed(cfg, "clientIP", json_type_object,
		      "spec.sessionAffinityConfig.clientIP", &cip, e) ||
	    get_int(cip, "timeoutSeconds",
		    "spec.sessionAffinityConfig.clientIP.timeoutSeconds", 1,
		    KCIP_MAX_AFFINITY_TIMEOUT, KCIP_DEFAULT_AFFINITY_TIMEOUT,
		    &t, e))
		return -1;
	sp->affinity_timeout = sp->affinity ? t : KCIP_DEFAULT_AFFINITY_TIMEOUT;
	return 0;
}

static int parse_spec(struct json_object *o, struct kspec *sp,
		      struct perr *e)
{
	static const struct name types[] = {
		{ "ClusterIP", KSVC_CLUSTERIP }, { "NodePort", KSVC_NODEPORT },
		{ "LoadBalancer", KSVC_LOADBALANCER },
		{ "ExternalName", KSVC_EXTERNALNAME }, { NULL, 0 }
	};
	struct json_object *spec, *ext;
	const char *s;
	unsigned int v;
	size_t n;

	if (get_str(member(o, "metadata"), "creationTimestamp",
		    "metadata.creationTimestamp", "", &s, e))
		return -1;
	sp->created = xstrdup(s);
	if (get_label(o, PROXY_NAME_LABEL, &s, e))
		return -1;
	if (s) {
		/* kube-proxy leaves these to the proxy they name */
		sp->no_entries = "label " PROXY_NAME_LABEL;
		return 0;
	}
	if (get_typed(o, "spec", json_type_object, "spec", &spec, e))
		return -1;
	if (!spec)
		return bad(e, "no spec");
	if (get_str(spec, "type", "spec.type", "ClusterIP", &s, e))
		return -1;
	if (value_of(types, s, &v))
		return bad(e, "spec.type \"%s\" is not ClusterIP, NodePort, LoadBalancer or ExternalName",
			   s);
	sp->type = v;
	if (sp->type == KSVC_EXTERNALNAME) {
		sp->no_entries = "type ExternalName";
		return 0;
	}
	if (parse_cluster_ips(spec, sp, e) || parse_ports(spec, sp, e) ||
	    get_arr(spec, "externalIPs", "spec.externalIPs", &ext, &n, e) ||
	    parse_addrs(ext, n, "spec.externalIPs", &sp->external,
			&sp->nexternal, e) ||
	    get_policy(spec, "externalTrafficPolicy", &sp->etp_local, e) ||
	    get_policy(spec, "internalTrafficPolicy", &sp->itp_local, e) ||
	    parse_affinity(spec, sp, e))
		return -1;
	/* external policy Local exists for NodePort and LoadBalancer only */
	if (sp->type == KSVC_CLUSTERIP)
		sp->etp_local = false;
	if (sp->type == KSVC_LOADBALANCER && parse_lb(o, sp, e))
		return -1;
	return 0;
}

/* ---- EndpointSlice ---- */

void kslice_free(struct kslice *sl)
{
	int i;

	if (!sl)
		return;
	for (i = 0; i < sl->nports; i++)
		free(sl->ports[i].name);
	free(sl->ports);
	free(sl->eps);
	free(sl->key);
	free(sl->svc_key);
	free(sl);
}

static int parse_slice_ports(struct json_object *o, struct kslice *sl,
			     struct perr *e)
{
	struct json_object *ports, *p;
	const char *name;
	char path[48];
	int64_t port;
	size_t n, i;

	if (get_arr(o, "ports", "ports", &ports, &n, e))
		return -1;
	sl->ports = xcalloc(n, sizeof(*sl->ports));
	for (i = 0; i < n; i++) {
		struct kslport *kp = &sl->ports[i];

		if (get_elem(ports, i, json_type_object, "ports", &p, e))
			return -1;
		snprintf(path, sizeof(path), "ports[%zu].protocol", i);
		if (get_proto(p, path, &kp->proto, e))
			return -1;
		/* no port number: kube-proxy does not use the port */
		snprintf(path, sizeof(path), "ports[%zu].port", i);
		if (get_int(p, "port", path, 0, 65535, 0, &port, e))
			return -1;
		snprintf(path, sizeof(path), "ports[%zu].name", i);
		if (get_str(p, "name", path, "", &name, e))
			return -1;
		kp->port = port;
		kp->name = xstrdup(name);
		sl->nports = i + 1;
	}
	return 0;
}

/*
 * Conditions, as kube-proxy reads them: ready and serving default to
 * true, terminating to false.  Ready: ready; serving and terminating:
 * terminating (used only when nothing is ready); otherwise down.
 */
static int parse_conditions(struct json_object *ep, const char *path,
			    uint8_t *state, struct perr *e)
{
	struct json_object *c;
	int ready, serving, terminating;
	char p[96];

	snprintf(p, sizeof(p), "%s.conditions", path);
	if (get_typed(ep, "conditions", json_type_object, p, &c, e))
		return -1;
	snprintf(p, sizeof(p), "%s.conditions.ready", path);
	if (get_bool(c, "ready", p, &ready, e))
		return -1;
	snprintf(p, sizeof(p), "%s.conditions.serving", path);
	if (get_bool(c, "serving", p, &serving, e))
		return -1;
	snprintf(p, sizeof(p), "%s.conditions.terminating", path);
	if (get_bool(c, "terminating", p, &terminating, e))
		return -1;
	if (ready != 0)
		*state = KCIP_BE_STATE_READY;
	else if (serving != 0 && terminating == 1)
		*state = KCIP_BE_STATE_TERMINATING;
	else
		*state = KCIP_BE_STATE_DOWN;
	return 0;
}

static int parse_endpoints(struct json_object *o, const char *node,
			   struct kslice *sl, struct perr *e)
{
	struct json_object *eps, *ep, *addrs, *a;
	const char *nodename;
	char path[48], p[96];
	size_t n, na, i;

	if (get_arr(o, "endpoints", "endpoints", &eps, &n, e))
		return -1;
	sl->eps = xcalloc(n, sizeof(*sl->eps));
	for (i = 0; i < n; i++) {
		struct kendpoint *kep = &sl->eps[i];

		snprintf(path, sizeof(path), "endpoints[%zu]", i);
		if (get_elem(eps, i, json_type_object, "endpoints", &ep, e))
			return -1;
		snprintf(p, sizeof(p), "%s.addresses", path);
		if (get_arr(ep, "addresses", p, &addrs, &na, e))
			return -1;
		if (!na)
			return bad(e, "%s has no addresses", path);
		if (get_elem(addrs, 0, json_type_string, p, &a, e))
			return -1;
		/* kube-proxy uses the first address */
		if (sl->family &&
		    parse_addr(json_object_get_string(a), sl->family,
			       &kep->addr))
			return bad(e, "%s[0] \"%s\" is not an %s address", p,
				   json_object_get_string(a),
				   sl->family == AF_INET ? "IPv4" : "IPv6");
		if (parse_conditions(ep, path, &kep->state, e))
			return -1;
		snprintf(p, sizeof(p), "%s.nodeName", path);
		if (get_str(ep, "nodeName", p, "", &nodename, e))
			return -1;
		kep->local = *nodename && !strcmp(nodename, node);
		sl->neps = i + 1;
	}
	return 0;
}

static int parse_slice(struct json_object *o, const char *node,
		       struct kslice *sl, struct perr *e)
{
	const char *svc, *type;
	const char *ns;

	if (get_label(o, SVC_NAME_LABEL, &svc, e))
		return -1;
	if (!svc || !*svc)
		return bad(e, "no label " SVC_NAME_LABEL);
	ns = json_object_get_string(member(member(o, "metadata"),
					   "namespace"));
	sl->svc_key = xcalloc(strlen(ns) + strlen(svc) + 2, 1);
	sprintf(sl->svc_key, "%s/%s", ns, svc);
	if (get_str(o, "addressType", "addressType", "", &type, e))
		return -1;
	if (!strcmp(type, "IPv4"))
		sl->family = AF_INET;
	else if (!strcmp(type, "IPv6"))
		sl->family = AF_INET6;
	else if (strcmp(type, "FQDN"))	/* FQDN: kube-proxy ignores it */
		return bad(e, "addressType \"%s\" is not IPv4, IPv6 or FQDN",
			   type);
	return parse_slice_ports(o, sl, e) || parse_endpoints(o, node, sl, e);
}

/* ---- the model ---- */

void ksvc_mark_dirty(struct k8s *k, struct ksvc *s)
{
	if (s->dirty)
		return;
	s->dirty = true;
	s->next_dirty = k->dirty;
	k->dirty = s;
}

static struct ksvc *get_ksvc(struct k8s *k, const char *key)
{
	struct ksvc *s;

	if (lh_table_lookup_ex(k->svcs, key, (void **)&s))
		return s;
	s = xcalloc(1, sizeof(*s));
	s->key = xstrdup(key);
	if (lh_table_insert(k->svcs, s->key, s)) {
		errmsg("out of memory");
		exit(EXIT_FAIL);
	}
	return s;
}

static void detach_slice(struct k8s *k, struct kslice *sl)
{
	struct ksvc *s;
	size_t i;

	if (!lh_table_lookup_ex(k->svcs, sl->svc_key, (void **)&s))
		return;
	for (i = 0; i < s->nslices; i++) {
		if (s->slices[i] != sl)
			continue;
		s->slices[i] = s->slices[--s->nslices];
		break;
	}
	ksvc_mark_dirty(k, s);
}

static void attach_slice(struct k8s *k, struct kslice *sl)
{
	struct ksvc *s = get_ksvc(k, sl->svc_key);

	if (s->nslices == s->slices_cap) {
		s->slices_cap = s->slices_cap ? 2 * s->slices_cap : 4;
		s->slices = reallocarray(s->slices, s->slices_cap,
					 sizeof(*s->slices));
		if (!s->slices) {
			errmsg("out of memory");
			exit(EXIT_FAIL);
		}
	}
	s->slices[s->nslices++] = sl;
	ksvc_mark_dirty(k, s);
}

static void drop_slice(struct k8s *k, const char *key)
{
	struct kslice *old;

	if (!lh_table_lookup_ex(k->slices, key, (void **)&old))
		return;
	detach_slice(k, old);
	lh_table_delete(k->slices, key);
	kslice_free(old);
}

/* Apply one object to the model; @deleted: it is gone. */
static enum kobj_result apply_object(struct k8s *k, struct json_object *o,
				     const char *default_kind,
				     const char *event, const char *where,
				     k8s_event_cb cb)
{
	struct perr e = { "" };
	const char *kind, *api;
	char key[512], what[600];
	bool deleted = event && !strcmp(event, "DELETED");
	bool is_svc;

	if (!json_object_is_type(o, json_type_object)) {
		errmsg("%s: an object that is not a JSON object: skipped",
		       where);
		return KOBJ_SKIPPED;
	}
	kind = json_object_get_string(member(o, "kind"));
	api = json_object_get_string(member(o, "apiVersion"));
	if (!kind)
		kind = default_kind ? default_kind : "(no kind)";
	is_svc = !strcmp(kind, "Service");
	if ((!is_svc && strcmp(kind, "EndpointSlice")) ||
	    (api && strcmp(api, is_svc ? "v1" : "discovery.k8s.io/v1"))) {
		errmsg("%s: unknown object %s%s%s: skipped", where,
		       api ? api : "", api ? " " : "", kind);
		return KOBJ_SKIPPED;
	}
	if (meta_key(o, key, sizeof(key), &e)) {
		errmsg("%s: %s: %s: skipped", where, kind, e.msg);
		return KOBJ_SKIPPED;
	}
	snprintf(what, sizeof(what), "%s%s%s %s", event ? event : "",
		 event ? " " : "", kind, key);

	if (is_svc) {
		struct kspec *sp = NULL;
		struct ksvc *s;

		if (!deleted) {
			sp = xcalloc(1, sizeof(*sp));
			if (parse_spec(o, sp, &e)) {
				errmsg("%s: Service %s: %s: skipped", where,
				       key, e.msg);
				kspec_free(sp);
				return KOBJ_SKIPPED;
			}
		}
		s = get_ksvc(k, key);
		kspec_free(s->spec);
		s->spec = sp;
		ksvc_mark_dirty(k, s);
	} else {
		struct kslice *sl = NULL;

		if (!deleted) {
			sl = xcalloc(1, sizeof(*sl));
			sl->key = xstrdup(key);
			if (parse_slice(o, k->node, sl, &e)) {
				errmsg("%s: EndpointSlice %s: %s: skipped",
				       where, key, e.msg);
				kslice_free(sl);
				return KOBJ_SKIPPED;
			}
		}
		drop_slice(k, key);
		if (sl) {
			if (lh_table_insert(k->slices, sl->key, sl)) {
				errmsg("out of memory");
				exit(EXIT_FAIL);
			}
			attach_slice(k, sl);
		}
	}
	if (cb && cb(k, what))
		return KOBJ_SKIPPED;
	return KOBJ_DONE;
}

static bool initial_end(struct json_object *o)
{
	struct json_object *a = member(member(o, "metadata"), "annotations");
	const char *v = json_object_get_string(member(a, INITIAL_END_ANNOT));

	return v && !strcmp(v, "true");
}

enum kobj_result k8s_handle(struct k8s *k, struct json_object *obj,
			    const char *where, k8s_event_cb cb)
{
	struct json_object *items, *o = member(obj, "object");
	const char *type = json_object_get_string(member(obj, "type"));
	const char *kind = json_object_get_string(member(obj, "kind"));
	char item_kind[64], item_where[400];
	size_t i, n, len;

	if (!json_object_is_type(obj, json_type_object)) {
		errmsg("%s: a JSON value that is not an object: skipped",
		       where);
		return KOBJ_SKIPPED;
	}
	if (type && !kind) {	/* a watch event */
		if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED") ||
		    !strcmp(type, "DELETED"))
			return apply_object(k, o, NULL, type, where, cb);
		if (!strcmp(type, "BOOKMARK"))
			return initial_end(o) ? KOBJ_INITIAL_END : KOBJ_DONE;
		if (!strcmp(type, "ERROR")) {
			const char *msg = json_object_get_string(
				member(o, "message"));

			errmsg("%s: watch error: %s", where,
			       msg ? msg : "(no message)");
			return KOBJ_SKIPPED;
		}
		errmsg("%s: unknown watch event type \"%s\": skipped", where,
		       type);
		return KOBJ_SKIPPED;
	}
	len = kind ? strlen(kind) : 0;
	items = member(obj, "items");
	if (len >= 4 && !strcmp(kind + len - 4, "List") &&
	    json_object_is_type(items, json_type_array)) {
		/* typed lists (ServiceList) leave the kind out of items */
		snprintf(item_kind, sizeof(item_kind), "%.*s", (int)(len - 4),
			 kind);
		n = json_object_array_length(items);
		for (i = 0; i < n; i++) {
			snprintf(item_where, sizeof(item_where), "%s, item %zu",
				 where, i + 1);
			apply_object(k, json_object_array_get_idx(items, i),
				     len > 4 ? item_kind : NULL, NULL,
				     item_where, cb);
		}
		return KOBJ_INITIAL_END;
	}
	return apply_object(k, obj, NULL, NULL, where, cb);
}

int k8s_init(struct k8s *k)
{
	k->svcs = lh_kchar_table_new(1024, NULL);
	k->slices = lh_kchar_table_new(1024, NULL);
	if (!k->svcs || !k->slices || sync_init(k)) {
		errmsg("out of memory");
		return -1;
	}
	return 0;
}

void k8s_free(struct k8s *k)
{
	struct lh_entry *e;

	sync_free(k);
	if (k->slices) {
		lh_foreach(k->slices, e)
			kslice_free(lh_entry_v(e));
		lh_table_free(k->slices);
	}
	if (k->svcs) {
		lh_foreach(k->svcs, e) {
			struct ksvc *s = lh_entry_v(e);

			kspec_free(s->spec);
			entries_free(s->entries, s->nentries);
			free(s->slices);
			free(s->key);
			free(s);
		}
		lh_table_free(k->svcs);
	}
}

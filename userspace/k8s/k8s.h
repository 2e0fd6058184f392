/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcip-k8s-sync: Kubernetes Services and EndpointSlices into kclusterip
 * state, with kcipctl's library code.
 *
 *   main.c     options, reading the input streams, the initial sync
 *   objects.c  JSON objects (json-c) into checked structures; the model
 *   mapping.c  a Service and its EndpointSlices into entries, as kube-proxy
 *   sync.c     who owns an entry; full sync (restore), incremental changes
 */
#ifndef KCIP_K8S_H
#define KCIP_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "kcipctl.h"

/* An address of a Service or an endpoint (port unused). */
struct kaddr {
	int family;
	unsigned char addr[16];
};

enum ksvc_type {
	KSVC_CLUSTERIP,
	KSVC_NODEPORT,
	KSVC_LOADBALANCER,
	KSVC_EXTERNALNAME,
};

struct kport {				/* spec.ports[] */
	char *name;			/* "" when unnamed */
	uint8_t proto;
	uint16_t port;
	uint16_t node_port;		/* 0: none */
};

/* A Service, checked. */
struct kspec {
	char *created;			/* metadata.creationTimestamp, or "" */
	enum ksvc_type type;
	const char *no_entries;		/* why it gets none (headless...), or NULL */
	struct kaddr cluster[2];	/* spec.clusterIPs, one per family */
	int ncluster;
	struct kport *ports;
	int nports;
	struct kaddr *external;		/* spec.externalIPs */
	int nexternal;
	struct kaddr *lb;		/* status.loadBalancer.ingress[].ip */
	int nlb;
	bool etp_local, itp_local;
	bool affinity;
	uint32_t affinity_timeout;
};

struct kslport {			/* an EndpointSlice's ports[] */
	char *name;
	uint8_t proto;
	uint16_t port;			/* 0: none given, not used */
};

struct kendpoint {			/* an EndpointSlice's endpoints[] */
	struct kaddr addr;		/* addresses[0] */
	uint8_t state;			/* enum kcip_be_state */
	bool local;			/* nodeName is this node */
};

struct kslice {
	char *key;			/* NAMESPACE/NAME */
	char *svc_key;			/* NAMESPACE/kubernetes.io/service-name */
	int family;			/* addressType; 0 for FQDN (not used) */
	struct kslport *ports;
	int nports;
	struct kendpoint *eps;
	int neps;
};

/*
 * Everything known about one NAMESPACE/NAME Service: the Service object
 * (if seen), its EndpointSlices, and the entries they make.
 */
struct ksvc {
	char *key;
	struct kspec *spec;		/* NULL: no Service object */
	struct kslice **slices;
	size_t nslices, slices_cap;
	struct service *entries;	/* kcipctl's struct, sorted by id */
	size_t nentries;
	bool dirty;			/* entries need computing */
	struct ksvc *next_dirty;
};

/* The whole model and what has been applied. */
struct k8s {
	const char *node;
	uint8_t sched;			/* --sched */
	bool dry_run, verbose, watch;
	struct opts opts;		/* for kcipctl's restore */
	struct lh_table *svcs;		/* key -> struct ksvc */
	struct lh_table *slices;	/* key -> struct kslice */
	struct lh_table *claims;	/* svc_id -> struct claim */
	struct lh_table *applied;	/* svc_id -> struct service */
	struct ksvc *dirty;		/* list through next_dirty */
	unsigned long failures;		/* changes the kernel refused */
};

/* objects.c */
enum kobj_result {
	KOBJ_DONE,			/* applied to the model */
	KOBJ_SKIPPED,			/* reported and left out */
	KOBJ_INITIAL_END,		/* a bookmark ending the initial events */
};

int k8s_init(struct k8s *k);
void k8s_free(struct k8s *k);
/*
 * One top-level JSON value of an input (@where names it in messages): a
 * watch event, a List, or a bare object.  @event_cb, if not NULL, runs
 * after each change to the model, with a line describing it.
 */
typedef int (*k8s_event_cb)(struct k8s *k, const char *what);
enum kobj_result k8s_handle(struct k8s *k, struct json_object *obj,
			    const char *where, k8s_event_cb event_cb);
void ksvc_mark_dirty(struct k8s *k, struct ksvc *s);
void kspec_free(struct kspec *sp);
void kslice_free(struct kslice *sl);

/* mapping.c */
int ksvc_entries(const struct k8s *k, const struct ksvc *s,
		 struct service **out, size_t *n);
void entries_free(struct service *e, size_t n);
int service_copy(struct service *dst, const struct service *src);

/* sync.c */
int sync_init(struct k8s *k);
void sync_free(struct k8s *k);
/* Recompute the dirty Services; @apply: send what changed at once. */
int sync_dirty(struct k8s *k, bool apply);
/* Make the kernel's state exactly the model's, in one restore. */
int sync_full(struct k8s *k, bool header);

#endif /* KCIP_K8S_H */

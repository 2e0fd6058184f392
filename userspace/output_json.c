// SPDX-License-Identifier: GPL-2.0
/*
 * JSON output, one document on one line:
 *
 * {"generation":N,"services":[{"address":"10.96.0.10","port":80,
 *   "protocol":"tcp","family":"inet","sched":"random","affinity":"none",
 *   "affinity_timeout":10800,"traffic_policy":"cluster",
 *   "no_endpoints":"reject","masquerade":false,"retry":false,
 *   "quarantine":10,"backends":[{"address":"10.244.1.5","port":8080,
 *   "weight":1,"state":"ready","local":false}]}]}
 *
 * -s adds "stats" objects to Services and backends.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>

#include "json.h"
#include "kcipctl.h"

void json_word(struct json *j, const char *key, const struct name *tbl,
	       unsigned int value)
{
	const char *w = name_of(tbl, value);
	char num[16];

	if (!w) {
		snprintf(num, sizeof(num), "%u", value);
		w = num;
	}
	json_str(j, key, w);
}

static void put_addr(struct json *j, const struct endpoint *ep)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(ep->family, ep->addr, a, sizeof(a)))
		a[0] = '\0';
	json_str(j, "address", a);
	json_u64(j, "port", ep->port);
}

static void put_stats(struct json *j, const struct stats *st, bool service)
{
	if (!st->present)
		return;
	json_obj_open(j, "stats");
	json_u64(j, "new_flows", st->new_flows);
	if (st->has_active)
		json_u64(j, "active_flows", st->active);
	json_u64(j, "packets", st->packets);
	json_u64(j, "bytes", st->bytes);
	if (service) {
		json_u64(j, "rejects", st->rejects);
		json_u64(j, "drops", st->drops);
		json_u64(j, "retries", st->retries);
	} else {
		json_u64(j, "failures", st->failures);
	}
	json_obj_close(j);
}

/* A backend object, member @key (NULL in an array). */
void json_backend(struct json *j, const char *key, const struct backend *be,
		  bool stats)
{
	json_obj_open(j, key);
	put_addr(j, &be->ep);
	json_u64(j, "weight", be->opts.weight);
	json_word(j, "state", be_state_names, be->opts.state);
	json_bool(j, "local", be->opts.flags & KCIP_BE_F_LOCAL);
	if (be->quarantine)
		json_u64(j, "quarantined_seconds", be->quarantine);
	if (stats)
		put_stats(j, &be->stats, false);
	json_obj_close(j);
}

/* A Service's members: its identity, then its options if @o. */
void json_svc_fields(struct json *j, const struct svc_id *id,
		     const struct svc_opts *o)
{
	put_addr(j, &id->ep);
	json_word(j, "protocol", proto_names, id->proto);
	json_str(j, "family", id->ep.family == AF_INET6 ? "inet6" : "inet");
	if (!o)
		return;
	json_word(j, "sched", sched_names, o->sched);
	json_word(j, "affinity", affinity_names, o->affinity);
	json_u64(j, "affinity_timeout", o->affinity_timeout);
	json_word(j, "traffic_policy", traffic_policy_names, o->traffic_policy);
	json_word(j, "no_endpoints", no_endpoints_names, o->no_endpoints);
	json_bool(j, "masquerade", o->flags & KCIP_SVC_F_MASQUERADE);
	json_bool(j, "retry", o->flags & KCIP_SVC_F_RETRY);
	json_u64(j, "quarantine", o->quarantine);
}

static void put_service(struct json *j, const struct service *s, bool stats)
{
	size_t i;

	json_obj_open(j, NULL);
	json_svc_fields(j, &s->id, &s->opts);
	json_arr_open(j, "backends");
	for (i = 0; i < s->nbe; i++)
		json_backend(j, NULL, &s->be[i], stats);
	json_arr_close(j);
	if (stats)
		put_stats(j, &s->stats, true);
	json_obj_close(j);
}

void print_table_json(FILE *f, const struct table *t, bool stats)
{
	struct json j;
	size_t i;

	json_init(&j, f);
	json_obj_open(&j, NULL);
	if (t->have_generation)
		json_u64(&j, "generation", t->generation);
	json_arr_open(&j, "services");
	for (i = 0; i < t->nsvc; i++)
		put_service(&j, &t->svc[i], stats);
	json_arr_close(&j);
	json_obj_close(&j);
	json_end(&j);
}

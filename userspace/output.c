// SPDX-License-Identifier: GPL-2.0
/*
 * Plain output: a line per Service, then an indented line per backend.
 *
 *   service 10.96.0.10:80/tcp sched random affinity none traffic-policy cluster no-endpoints reject masquerade off
 *     backend 10.244.1.5:8080 weight 1 state ready
 *
 * With -s: a `generation N` first line (whole-table listings only), a
 * `  stats ...` line under each Service and `new-flows N` on each backend.
 */
#include <inttypes.h>

#include "kcipctl.h"

/* The word for @value, or the number if a newer kernel sent one. */
static void put_word(FILE *f, const char *key, const struct name *tbl,
		     unsigned int value)
{
	const char *w = name_of(tbl, value);

	if (w)
		fprintf(f, " %s %s", key, w);
	else
		fprintf(f, " %s %u", key, value);
}

/* " weight W state S[ local]" */
void print_be_opts(FILE *f, const struct be_opts *o)
{
	fprintf(f, " weight %" PRIu32, o->weight);
	put_word(f, "state", be_state_names, o->state);
	if (o->flags & KCIP_BE_F_LOCAL)
		fputs(" local", f);
}

static void print_backend(FILE *f, const struct backend *be, bool stats)
{
	char ep[ENDPOINT_STRLEN];

	format_endpoint(&be->ep, ep, sizeof(ep));
	fprintf(f, "  backend %s", ep);
	print_be_opts(f, &be->opts);
	if (be->quarantine)
		fprintf(f, " quarantined %" PRIu32 "s", be->quarantine);
	if (stats && be->stats.present) {
		fprintf(f, " new-flows %" PRIu64, be->stats.new_flows);
		if (be->stats.has_active)
			fprintf(f, " active %" PRIu64, be->stats.active);
		fprintf(f, " packets %" PRIu64 " bytes %" PRIu64
			" failures %" PRIu64, be->stats.packets,
			be->stats.bytes, be->stats.failures);
	}
	fputc('\n', f);
}

/* Every option, " sched S affinity A ...", as `show` prints them. */
void print_svc_opts(FILE *f, const struct svc_opts *o)
{
	put_word(f, "sched", sched_names, o->sched);
	put_word(f, "affinity", affinity_names, o->affinity);
	if (o->affinity == KCIP_AFFINITY_CLIENTIP)
		fprintf(f, " timeout %" PRIu32, o->affinity_timeout);
	put_word(f, "traffic-policy", traffic_policy_names, o->traffic_policy);
	put_word(f, "no-endpoints", no_endpoints_names, o->no_endpoints);
	fprintf(f, " masquerade %s",
		o->flags & KCIP_SVC_F_MASQUERADE ? "on" : "off");
	if (o->flags & KCIP_SVC_F_RETRY)
		fprintf(f, " retry on quarantine %" PRIu32, o->quarantine);
}

static void print_service(FILE *f, const struct service *s, bool stats)
{
	char id[SERVICE_STRLEN];
	size_t i;

	format_service(&s->id, id, sizeof(id));
	fprintf(f, "service %s", id);
	print_svc_opts(f, &s->opts);
	fputc('\n', f);

	if (stats && s->stats.present) {
		fprintf(f, "  stats new-flows %" PRIu64, s->stats.new_flows);
		if (s->stats.has_active)
			fprintf(f, " active %" PRIu64, s->stats.active);
		fprintf(f, " packets %" PRIu64 " bytes %" PRIu64
			" rejects %" PRIu64 " drops %" PRIu64
			" retries %" PRIu64 "\n", s->stats.packets,
			s->stats.bytes, s->stats.rejects, s->stats.drops,
			s->stats.retries);
	}
	for (i = 0; i < s->nbe; i++)
		print_backend(f, &s->be[i], stats);
}

void print_table(FILE *f, const struct table *t, bool stats, bool generation)
{
	size_t i;

	if (stats && generation && t->have_generation)
		fprintf(f, "generation %" PRIu64 "\n", t->generation);
	for (i = 0; i < t->nsvc; i++)
		print_service(f, &t->svc[i], stats);
}

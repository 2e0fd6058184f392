// SPDX-License-Identifier: GPL-2.0
/*
 * kcipctl save: the whole state as the lines `kcipctl restore` reads,
 *
 *   service add 10.96.0.10:80/tcp sched maglev masquerade on
 *   backend add 10.96.0.10:80/tcp 10.244.1.5:8080 weight 2 local
 *
 * in the order of `show` (Services by family, address, port, protocol;
 * each one's backends by family, address, port), every option that is not
 * the default and none that is, so that `save | restore` is a no-op.
 */
#include <inttypes.h>

#include "kcipctl.h"

/* " KEY WORD", or -1 when a newer kernel sent a value we cannot name. */
static int put_word(FILE *f, const char *key, const struct name *tbl,
		    unsigned int value, const char *id)
{
	const char *w = name_of(tbl, value);

	if (!w) {
		errmsg("%s has %s %u, which this kcipctl cannot name", id,
		       key, value);
		return -1;
	}
	fprintf(f, " %s %s", key, w);
	return 0;
}

/* @id: the Service's string */
int save_service(FILE *f, const struct service *s, const char *id)
{
	const struct svc_opts *o = &s->opts;
	int err = 0;

	if (o->flags & ~(uint32_t)__KCIP_SVC_F_ALL) {
		errmsg("service %s has flags 0x%" PRIx32
		       ", which this kcipctl cannot name", id, o->flags);
		return -1;
	}
	fprintf(f, "service add %s", id);
	if (o->sched != KCIP_SCHED_RANDOM)
		err |= put_word(f, "sched", sched_names, o->sched, id);
	if (o->affinity != KCIP_AFFINITY_NONE ||
	    o->affinity_timeout != KCIP_DEFAULT_AFFINITY_TIMEOUT)
		err |= put_word(f, "affinity", affinity_names, o->affinity, id);
	if (o->affinity_timeout != KCIP_DEFAULT_AFFINITY_TIMEOUT)
		fprintf(f, " timeout %" PRIu32, o->affinity_timeout);
	if (o->traffic_policy != KCIP_TRAFFIC_POLICY_CLUSTER)
		err |= put_word(f, "traffic-policy", traffic_policy_names,
				o->traffic_policy, id);
	if (o->no_endpoints != KCIP_NO_ENDPOINTS_REJECT)
		err |= put_word(f, "no-endpoints", no_endpoints_names,
				o->no_endpoints, id);
	if (o->flags & KCIP_SVC_F_MASQUERADE)
		fputs(" masquerade on", f);
	if ((o->flags & KCIP_SVC_F_RETRY) ||
	    o->quarantine != KCIP_DEFAULT_QUARANTINE)
		fprintf(f, " retry %s",
			o->flags & KCIP_SVC_F_RETRY ? "on" : "off");
	if (o->quarantine != KCIP_DEFAULT_QUARANTINE)
		fprintf(f, " quarantine %" PRIu32, o->quarantine);
	fputc('\n', f);
	return err;
}

int save_backend(FILE *f, const char *id, const struct backend *be)
{
	const struct be_opts *o = &be->opts;
	char ep[ENDPOINT_STRLEN];
	int err = 0;

	format_endpoint(&be->ep, ep, sizeof(ep));
	if (o->flags & ~(uint32_t)__KCIP_BE_F_ALL) {
		errmsg("backend %s of service %s has flags 0x%" PRIx32
		       ", which this kcipctl cannot name", ep, id, o->flags);
		return -1;
	}
	fprintf(f, "backend add %s %s", id, ep);
	if (o->weight != 1)
		fprintf(f, " weight %" PRIu32, o->weight);
	if (o->state != KCIP_BE_STATE_READY)
		err |= put_word(f, "state", be_state_names, o->state, ep);
	if (o->flags & KCIP_BE_F_LOCAL)
		fputs(" local", f);
	fputc('\n', f);
	return err;
}

int do_save(const struct opts *o, int argc, char **argv)
{
	struct table t;
	struct nl *nl;
	size_t i, j;
	int ret = no_args("save", argc, argv);

	if (ret)
		return ret < 0 ? EXIT_FAIL : 0;
	if (o->json) {
		errmsg("save prints restore's lines, not JSON (try \"kcipctl -j show\")");
		return EXIT_FAIL;
	}
	nl = nl_open(o->netns);
	if (!nl)
		return EXIT_FAIL;
	if (dump_table(nl, &t, false, NULL)) {
		nl_close(nl);
		return EXIT_FAIL;
	}
	nl_close(nl);

	for (i = 0; i < t.nsvc && !ret; i++) {
		const struct service *s = &t.svc[i];
		char id[SERVICE_STRLEN];

		format_service(&s->id, id, sizeof(id));
		if (save_service(stdout, s, id))
			ret = EXIT_FAIL;
		for (j = 0; j < s->nbe && !ret; j++)
			if (save_backend(stdout, id, &s->be[j]))
				ret = EXIT_FAIL;
	}
	table_free(&t);
	return ret;
}

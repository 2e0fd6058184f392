// SPDX-License-Identifier: GPL-2.0
/*
 * kcipctl explain PROTO SRC:SPORT DST:DPORT: which Service entry a new
 * flow like this one would match, and which backend it would get and why,
 * or why none; nothing is changed.
 *
 *   no service matches: the flow is not translated
 *   service 10.96.0.10:80/tcp (sched maglev, affinity none): backend 10.244.1.5:8080 (maglev hash; 3 ready backends)
 *   service 10.96.0.10:80/tcp (sched random, affinity none): a weighted random one of 3 ready backends
 *   service 0.0.0.0:30080/tcp (NodePort entry, sched rr, affinity none): backend 10.244.1.5:8080 (round robin, next in turn; 1 ready backend)
 *   service 10.96.0.10:80/tcp (sched random, affinity clientip): backend 10.244.1.5:8080 (client-IP affinity; 2 ready backends)
 *   service 10.96.0.10:80/tcp (sched random, affinity none): no endpoints (reject: ICMP port unreachable)
 *   service 10.96.0.10:80/tcp (sched rr, affinity none): backend 10.244.1.6:8080 (round robin, next in turn; 3 ready backends, 1 of them quarantined and passed over)
 *
 * -j: {"result":"backend","reason":"maglev","nodeport":false,
 *      "affinity":false,"eligible":3,"state":"ready","quarantined":0,
 *      "service":{...},
 *      "backend":{...}}
 * The exit status is 0 whenever the kernel answered, whatever it said.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>

#include "attr.h"
#include "json.h"

static const struct attr_policy explain_policy[KCIP_A_EXPLAIN_MAX + 1] = {
	[KCIP_A_EXPLAIN_RESULT] = { MNL_TYPE_U8 },
	[KCIP_A_EXPLAIN_NODEPORT] = { MNL_TYPE_U8 },
	[KCIP_A_EXPLAIN_AFFINITY] = { MNL_TYPE_U8 },
	[KCIP_A_EXPLAIN_ELIGIBLE] = { MNL_TYPE_U32 },
	[KCIP_A_EXPLAIN_STATE] = { MNL_TYPE_U8 },
	[KCIP_A_EXPLAIN_QUARANTINED] = { MNL_TYPE_U32 },
};

static const struct name result_names[] = {
	{ "no_service", KCIP_EXPLAIN_NO_SERVICE },
	{ "backend", KCIP_EXPLAIN_BACKEND },
	{ "any", KCIP_EXPLAIN_ANY },
	{ "no_endpoints", KCIP_EXPLAIN_NO_ENDPOINTS },
	{ NULL, 0 }
};

struct answer {
	bool have_result, have_svc, have_be, have_eligible, have_quarantined;
	uint8_t result;
	bool nodeport, affinity;
	uint32_t eligible, quarantined;
	uint8_t state;
	struct svc_id id;
	struct svc_opts opts;
	struct backend be;
	const char *bad;
};

static int explain_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KCIP_A_MAX + 1] = { NULL };
	const struct nlattr *ex[KCIP_A_EXPLAIN_MAX + 1] = { NULL };
	struct answer *a = data;

	if (attr_parse_msg(nlh, tb) || !tb[KCIP_A_EXPLAIN] ||
	    attr_parse_nested(tb[KCIP_A_EXPLAIN], explain_policy,
			      KCIP_A_EXPLAIN_MAX, ex) ||
	    !ex[KCIP_A_EXPLAIN_RESULT]) {
		a->bad = "answer";
		return MNL_CB_OK;
	}
	a->have_result = true;
	a->result = mnl_attr_get_u8(ex[KCIP_A_EXPLAIN_RESULT]);
	if (ex[KCIP_A_EXPLAIN_NODEPORT])
		a->nodeport = mnl_attr_get_u8(ex[KCIP_A_EXPLAIN_NODEPORT]);
	if (ex[KCIP_A_EXPLAIN_AFFINITY])
		a->affinity = mnl_attr_get_u8(ex[KCIP_A_EXPLAIN_AFFINITY]);
	if (ex[KCIP_A_EXPLAIN_ELIGIBLE]) {
		a->have_eligible = true;
		a->eligible = mnl_attr_get_u32(ex[KCIP_A_EXPLAIN_ELIGIBLE]);
	}
	if (ex[KCIP_A_EXPLAIN_STATE])
		a->state = mnl_attr_get_u8(ex[KCIP_A_EXPLAIN_STATE]);
	if (ex[KCIP_A_EXPLAIN_QUARANTINED]) {
		a->have_quarantined = true;
		a->quarantined = mnl_attr_get_u32(ex[KCIP_A_EXPLAIN_QUARANTINED]);
	}
	if (tb[KCIP_A_SERVICE]) {
		if (attr_parse_service(tb[KCIP_A_SERVICE], &a->id, &a->opts,
				       NULL, NULL)) {
			a->bad = "service";
			return MNL_CB_OK;
		}
		a->have_svc = true;
	}
	if (tb[KCIP_A_BACKEND]) {
		if (attr_parse_backend(tb[KCIP_A_BACKEND], &a->be)) {
			a->bad = "backend";
			return MNL_CB_OK;
		}
		a->have_be = true;
	}
	return MNL_CB_OK;
}

static void put_request(struct nlmsghdr *nlh, uint8_t proto,
			const struct endpoint *src, const struct endpoint *dst)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, KCIP_A_EXPLAIN);
	size_t len = src->family == AF_INET ? 4 : 16;

	mnl_attr_put_u16(nlh, KCIP_A_EXPLAIN_FAMILY, src->family);
	mnl_attr_put_u8(nlh, KCIP_A_EXPLAIN_PROTO, proto);
	mnl_attr_put(nlh, src->family == AF_INET ? KCIP_A_EXPLAIN_SRC4 :
		     KCIP_A_EXPLAIN_SRC6, len, src->addr);
	mnl_attr_put_u16(nlh, KCIP_A_EXPLAIN_SPORT, htons(src->port));
	mnl_attr_put(nlh, dst->family == AF_INET ? KCIP_A_EXPLAIN_DST4 :
		     KCIP_A_EXPLAIN_DST6, len, dst->addr);
	mnl_attr_put_u16(nlh, KCIP_A_EXPLAIN_DPORT, htons(dst->port));
	mnl_attr_nest_end(nlh, nest);
}

static const char *word_or(const struct name *tbl, unsigned int v,
			   char *buf, size_t len)
{
	const char *w = name_of(tbl, v);

	if (w)
		return w;
	snprintf(buf, len, "%u", v);
	return buf;
}

/* "3 ready backends", "1 terminating local backend (no ready one)" */
static void print_eligible(const struct answer *a)
{
	char num[16];

	printf("%" PRIu32 " %s%s backend%s", a->eligible,
	       word_or(be_state_names, a->state, num, sizeof(num)),
	       a->opts.traffic_policy == KCIP_TRAFFIC_POLICY_LOCAL ?
	       " local" : "", a->eligible == 1 ? "" : "s");
	if (a->state == KCIP_BE_STATE_TERMINATING)
		fputs(" (no ready one)", stdout);
	if (!a->have_quarantined || !a->quarantined)
		return;
	if (a->quarantined < a->eligible)
		printf(", %" PRIu32 " of them quarantined and passed over",
		       a->quarantined);
	else
		fputs(", all quarantined: the first choice stands", stdout);
}

/* Why this backend: the word for JSON, the words for people. */
static const char *reason(const struct answer *a, bool human)
{
	if (a->affinity)
		return human ? "client-IP affinity" : "affinity";
	switch (a->opts.sched) {
	case KCIP_SCHED_MAGLEV:
		if (!human)
			return "maglev";
		return a->opts.affinity == KCIP_AFFINITY_CLIENTIP ?
		       "maglev hash of the client address" : "maglev hash";
	case KCIP_SCHED_RR:
		return human ? "round robin, next in turn" : "rr";
	default:
		return "scheduler";
	}
}

static void print_answer(const struct answer *a)
{
	char id[SERVICE_STRLEN], ep[ENDPOINT_STRLEN], n1[16], n2[16];

	if (a->result == KCIP_EXPLAIN_NO_SERVICE || !a->have_svc) {
		if (a->result == KCIP_EXPLAIN_NO_SERVICE)
			puts("no service matches: the flow is not translated");
		else
			printf("result %u\n", a->result);
		return;
	}
	format_service(&a->id, id, sizeof(id));
	printf("service %s (%ssched %s, affinity %s", id,
	       a->nodeport ? "NodePort entry, " : "",
	       word_or(sched_names, a->opts.sched, n1, sizeof(n1)),
	       word_or(affinity_names, a->opts.affinity, n2, sizeof(n2)));
	if (a->opts.traffic_policy == KCIP_TRAFFIC_POLICY_LOCAL)
		fputs(", traffic-policy local", stdout);
	fputs("): ", stdout);

	switch (a->result) {
	case KCIP_EXPLAIN_BACKEND:
		if (a->have_be) {
			format_endpoint(&a->be.ep, ep, sizeof(ep));
			printf("backend %s (", ep);
		} else {
			fputs("a backend (", stdout);
		}
		fputs(reason(a, true), stdout);
		if (a->have_eligible) {
			fputs("; ", stdout);
			print_eligible(a);
		}
		puts(")");
		break;
	case KCIP_EXPLAIN_ANY:
		fputs("a weighted random one of ", stdout);
		print_eligible(a);
		putchar('\n');
		break;
	case KCIP_EXPLAIN_NO_ENDPOINTS:
		if (a->opts.no_endpoints == KCIP_NO_ENDPOINTS_DROP)
			puts("no endpoints (drop)");
		else
			printf("no endpoints (reject: %s port unreachable)\n",
			       a->id.ep.family == AF_INET6 ? "ICMPv6" : "ICMP");
		break;
	default:
		printf("result %u\n", a->result);
	}
}

static void print_answer_json(const struct answer *a)
{
	char num[16];
	struct json j;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_str(&j, "result",
		 word_or(result_names, a->result, num, sizeof(num)));
	if (a->result == KCIP_EXPLAIN_BACKEND && a->have_svc)
		json_str(&j, "reason", reason(a, false));
	json_bool(&j, "nodeport", a->nodeport);
	json_bool(&j, "affinity", a->affinity);
	if (a->have_eligible && a->have_svc) {
		json_u64(&j, "eligible", a->eligible);
		if (a->eligible)
			json_word(&j, "state", be_state_names, a->state);
		if (a->have_quarantined)
			json_u64(&j, "quarantined", a->quarantined);
	}
	if (a->have_svc) {
		json_obj_open(&j, "service");
		json_svc_fields(&j, &a->id, &a->opts);
		json_obj_close(&j);
	}
	if (a->have_be)
		json_backend(&j, "backend", &a->be, false);
	json_obj_close(&j);
	json_end(&j);
}

static int explain(const struct opts *o, uint8_t proto,
		   const struct endpoint *src, const struct endpoint *dst)
{
	struct answer a = { 0 };
	struct nlmsghdr *nlh;
	struct nl *nl;
	int ret;

	nl = nl_open(o->netns);
	if (!nl)
		return EXIT_FAIL;
	nlh = nl_msg(nl, KCIP_CMD_EXPLAIN, 0);
	put_request(nlh, proto, src, dst);
	ret = nl_request(nl, nlh, explain_cb, &a);
	if (ret)
		nl_perror(nl, ret);
	nl_close(nl);
	if (ret)
		return EXIT_FAIL;
	if (a.bad || !a.have_result) {
		errmsg("malformed %s in the kernel's answer",
		       a.bad ? a.bad : "answer");
		return EXIT_FAIL;
	}
	if (o->json)
		print_answer_json(&a);
	else
		print_answer(&a);
	return 0;
}

int do_explain(const struct opts *o, int argc, char **argv)
{
	struct endpoint src, dst;
	unsigned int proto;

	if (argc >= 1 && is_help(argv[0])) {
		usage_explain(stdout);
		return 0;
	}
	if (argc < 1) {
		errmsg("missing PROTO (tcp, udp or sctp)");
		return EXIT_FAIL;
	}
	if (parse_word("protocol", proto_names, argv[0], &proto))
		return EXIT_FAIL;
	if (argc < 2) {
		errmsg("missing SRC:SPORT");
		return EXIT_FAIL;
	}
	if (parse_addr_port("source", argv[1], &src))
		return EXIT_FAIL;
	if (argc < 3) {
		errmsg("missing DST:DPORT");
		return EXIT_FAIL;
	}
	if (parse_addr_port("destination", argv[2], &dst))
		return EXIT_FAIL;
	if (argc > 3) {
		errmsg("unexpected argument \"%s\" after DST:DPORT", argv[3]);
		return EXIT_FAIL;
	}
	if (src.family != dst.family) {
		errmsg("source %s is %s but destination %s is %s", argv[1],
		       src.family == AF_INET6 ? "IPv6" : "IPv4", argv[2],
		       dst.family == AF_INET6 ? "IPv6" : "IPv4");
		return EXIT_FAIL;
	}
	return explain(o, proto, &src, &dst);
}

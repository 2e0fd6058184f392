// SPDX-License-Identifier: GPL-2.0
/*
 * kcipctl service add|change SERVICE [OPTIONS]
 * kcipctl service del SERVICE
 * kcipctl service show [SERVICE]
 *
 * Only the options the user gave are sent: the kernel applies its defaults
 * on add and keeps the other values on change.
 */
#include <stddef.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "kcipctl.h"

/* Options whose value is one word of a table, stored in a u8. */
struct word_opt {
	const char *word;
	unsigned int attr;
	const struct name *names;
	size_t offset;			/* of the u8 in struct svc_opts */
};

static const struct word_opt word_opts[] = {
	{ "sched", KCIP_A_SVC_SCHED, sched_names,
	  offsetof(struct svc_opts, sched) },
	{ "affinity", KCIP_A_SVC_AFFINITY, affinity_names,
	  offsetof(struct svc_opts, affinity) },
	{ "traffic-policy", KCIP_A_SVC_TRAFFIC_POLICY, traffic_policy_names,
	  offsetof(struct svc_opts, traffic_policy) },
	{ "no-endpoints", KCIP_A_SVC_NO_ENDPOINTS, no_endpoints_names,
	  offsetof(struct svc_opts, no_endpoints) },
};

/* on|off options, each a bit of KCIP_A_SVC_FLAGS. */
struct flag_opt {
	const char *word;
	uint32_t flag;
};

static const struct flag_opt flag_opts[] = {
	{ "masquerade", KCIP_SVC_F_MASQUERADE },
	{ "retry", KCIP_SVC_F_RETRY },
};

/* `WORD VALUE` of a word option; returns the number of words used. */
static int parse_word_opt(const struct word_opt *wo, int argc, char **argv,
			  struct svc_opts *o)
{
	unsigned int v;

	if (o->set & OPT_BIT(wo->attr))
		return dup_option(wo->word);
	if (need_value(wo->word, argc) ||
	    parse_word(wo->word, wo->names, argv[1], &v))
		return -1;
	*((uint8_t *)o + wo->offset) = v;
	o->set |= OPT_BIT(wo->attr);
	return 2;
}

static int parse_flag_opt(const struct flag_opt *fo, int argc, char **argv,
			  struct svc_opts *o)
{
	unsigned int v;

	if (o->flags_mask & fo->flag)
		return dup_option(fo->word);
	if (need_value(fo->word, argc) ||
	    parse_word(fo->word, on_off_names, argv[1], &v))
		return -1;
	o->flags_mask |= fo->flag;
	if (v)
		o->flags |= fo->flag;
	o->set |= OPT_BIT(KCIP_A_SVC_FLAGS);
	return 2;
}

/* `[timeout SECONDS]` after affinity, `[quarantine SECONDS]` after retry. */
static int parse_seconds_opt(const char *word, unsigned int attr,
			     uint32_t max, uint32_t *val, int argc, char **argv,
			     struct svc_opts *o)
{
	if (argc < 1 || strcmp(argv[0], word))
		return 0;
	if (need_value(word, argc) ||
	    parse_u32(word, argv[1], 1, max, val))
		return -1;
	o->set |= OPT_BIT(attr);
	return 2;
}

/* One option at argv[0]; returns the number of words used, or -1. */
static int parse_one_opt(int argc, char **argv, struct svc_opts *o)
{
	int n, m;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(word_opts); i++) {
		if (strcmp(argv[0], word_opts[i].word))
			continue;
		n = parse_word_opt(&word_opts[i], argc, argv, o);
		if (n < 0 || word_opts[i].attr != KCIP_A_SVC_AFFINITY)
			return n;
		m = parse_seconds_opt("timeout", KCIP_A_SVC_AFFINITY_TIMEOUT,
				      KCIP_MAX_AFFINITY_TIMEOUT,
				      &o->affinity_timeout, argc - n, argv + n,
				      o);
		return m < 0 ? m : n + m;
	}
	for (i = 0; i < ARRAY_SIZE(flag_opts); i++) {
		if (strcmp(argv[0], flag_opts[i].word))
			continue;
		n = parse_flag_opt(&flag_opts[i], argc, argv, o);
		if (n < 0 || flag_opts[i].flag != KCIP_SVC_F_RETRY)
			return n;
		m = parse_seconds_opt("quarantine", KCIP_A_SVC_QUARANTINE,
				      KCIP_MAX_QUARANTINE, &o->quarantine,
				      argc - n, argv + n, o);
		return m < 0 ? m : n + m;
	}
	if (!strcmp(argv[0], "timeout"))
		errmsg("\"timeout\" goes right after \"affinity none|clientip\"");
	else if (!strcmp(argv[0], "quarantine"))
		errmsg("\"quarantine\" goes right after \"retry on|off\"");
	else
		errmsg("unknown service option \"%s\" (try \"kcipctl service help\")",
		       argv[0]);
	return -1;
}

int svc_opts_parse(int argc, char **argv, struct svc_opts *o)
{
	int n;

	memset(o, 0, sizeof(*o));
	while (argc > 0) {
		n = parse_one_opt(argc, argv, o);
		if (n < 0)
			return -1;
		argc -= n;
		argv += n;
	}
	return 0;
}

/* The options given; @change: SET, which takes a flags mask. */
void nl_put_svc_opts(struct nlmsghdr *nlh, const struct svc_opts *o,
		     bool change)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(word_opts); i++)
		if (o->set & OPT_BIT(word_opts[i].attr))
			mnl_attr_put_u8(nlh, word_opts[i].attr,
					*((const uint8_t *)o +
					  word_opts[i].offset));
	if (o->set & OPT_BIT(KCIP_A_SVC_AFFINITY_TIMEOUT))
		mnl_attr_put_u32(nlh, KCIP_A_SVC_AFFINITY_TIMEOUT,
				 o->affinity_timeout);
	if (o->set & OPT_BIT(KCIP_A_SVC_QUARANTINE))
		mnl_attr_put_u32(nlh, KCIP_A_SVC_QUARANTINE, o->quarantine);
	if (o->flags_mask) {
		mnl_attr_put_u32(nlh, KCIP_A_SVC_FLAGS, o->flags);
		if (change)
			mnl_attr_put_u32(nlh, KCIP_A_SVC_FLAGS_MASK,
					 o->flags_mask);
	}
}

/* SERVICE_NEW, _SET or _DEL; @o is NULL for DEL. */
static int svc_request(const struct opts *go, uint8_t cmd,
		       const struct svc_id *id, const struct svc_opts *o)
{
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct nl *nl;
	int ret;

	nl = nl_open(go->netns);
	if (!nl)
		return EXIT_FAIL;
	nlh = nl_msg(nl, cmd, 0);
	nest = mnl_attr_nest_start(nlh, KCIP_A_SERVICE);
	nl_put_svc_id(nlh, id);
	if (o)
		nl_put_svc_opts(nlh, o, cmd == KCIP_CMD_SERVICE_SET);
	mnl_attr_nest_end(nlh, nest);

	ret = nl_do(nl, nlh);
	if (ret)
		nl_perror(nl, ret);
	nl_close(nl);
	return ret ? EXIT_FAIL : 0;
}

static int svc_add_change(const struct opts *go, uint8_t cmd, int argc,
			  char **argv)
{
	struct svc_opts o;
	struct svc_id id;

	if (argc < 1) {
		errmsg("missing SERVICE (ADDR:PORT/PROTO)");
		return EXIT_FAIL;
	}
	if (parse_service(argv[0], &id) ||
	    svc_opts_parse(argc - 1, argv + 1, &o))
		return EXIT_FAIL;
	return svc_request(go, cmd, &id, &o);
}

static int svc_del(const struct opts *go, int argc, char **argv)
{
	struct svc_id id;

	if (argc < 1) {
		errmsg("missing SERVICE (ADDR:PORT/PROTO)");
		return EXIT_FAIL;
	}
	if (parse_service(argv[0], &id))
		return EXIT_FAIL;
	if (argc > 1) {
		errmsg("unexpected argument \"%s\" after SERVICE", argv[1]);
		return EXIT_FAIL;
	}
	return svc_request(go, KCIP_CMD_SERVICE_DEL, &id, NULL);
}

static int svc_show(const struct opts *go, int argc, char **argv)
{
	struct svc_id id;

	if (argc == 0)
		return show_services(go, NULL);
	if (parse_service(argv[0], &id))
		return EXIT_FAIL;
	if (argc > 1) {
		errmsg("unexpected argument \"%s\" after SERVICE", argv[1]);
		return EXIT_FAIL;
	}
	return show_services(go, &id);
}

int do_service(const struct opts *go, int argc, char **argv)
{
	const char *cmd;

	if (argc == 0)
		return show_services(go, NULL);
	cmd = argv[0];
	argc--;
	argv++;
	if (is_help(cmd) || (argc && is_help(argv[0]))) {
		usage_service(stdout);
		return 0;
	}
	if (!strcmp(cmd, "add"))
		return svc_add_change(go, KCIP_CMD_SERVICE_NEW, argc, argv);
	if (!strcmp(cmd, "change"))
		return svc_add_change(go, KCIP_CMD_SERVICE_SET, argc, argv);
	if (!strcmp(cmd, "del") || !strcmp(cmd, "delete"))
		return svc_del(go, argc, argv);
	if (!strcmp(cmd, "show") || !strcmp(cmd, "list"))
		return svc_show(go, argc, argv);
	errmsg("unknown service command \"%s\" (try \"kcipctl service help\")",
	       cmd);
	return EXIT_FAIL;
}

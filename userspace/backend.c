// SPDX-License-Identifier: GPL-2.0
/*
 * kcipctl backend add    SERVICE BACKEND [weight W] [state S] [local]
 * kcipctl backend change SERVICE BACKEND [weight W] [state S] [local|nonlocal]
 * kcipctl backend del    SERVICE BACKEND [flush]
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>

#include "kcipctl.h"

struct be_req {
	struct svc_id svc;
	struct endpoint be;
	struct be_opts opts;
	uint32_t op_flags;		/* KCIP_A_FLAGS, enum kcip_op_flags */
};

static const char *family_name(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* SERVICE BACKEND, of the same family. */
int parse_svc_backend(int argc, char **argv, struct svc_id *svc,
		      struct endpoint *be)
{
	if (argc < 1) {
		errmsg("missing SERVICE (ADDR:PORT/PROTO)");
		return -1;
	}
	if (parse_service(argv[0], svc))
		return -1;
	if (argc < 2) {
		errmsg("missing BACKEND (ADDR:PORT)");
		return -1;
	}
	if (parse_backend(argv[1], be))
		return -1;
	if (be->family != svc->ep.family) {
		errmsg("backend %s is %s but service %s is %s", argv[1],
		       family_name(be->family), argv[0],
		       family_name(svc->ep.family));
		return -1;
	}
	return 0;
}

static int parse_target(int argc, char **argv, struct be_req *r)
{
	return parse_svc_backend(argc, argv, &r->svc, &r->be);
}

/* One option at argv[0]; returns the number of words used, or -1. */
static int parse_one_opt(int argc, char **argv, struct be_opts *o)
{
	const char *w = argv[0];
	unsigned int v;

	if (!strcmp(w, "weight")) {
		if (o->set & OPT_BIT(KCIP_A_BE_WEIGHT))
			return dup_option(w);
		if (need_value(w, argc) ||
		    parse_u32(w, argv[1], 0, KCIP_MAX_WEIGHT, &o->weight))
			return -1;
		o->set |= OPT_BIT(KCIP_A_BE_WEIGHT);
		return 2;
	}
	if (!strcmp(w, "state")) {
		if (o->set & OPT_BIT(KCIP_A_BE_STATE))
			return dup_option(w);
		if (need_value(w, argc) ||
		    parse_word(w, be_state_names, argv[1], &v))
			return -1;
		o->state = v;
		o->set |= OPT_BIT(KCIP_A_BE_STATE);
		return 2;
	}
	if (!strcmp(w, "local") || !strcmp(w, "nonlocal")) {
		if (o->flags_mask & KCIP_BE_F_LOCAL)
			return dup_option(w);
		o->flags_mask |= KCIP_BE_F_LOCAL;
		if (!strcmp(w, "local"))
			o->flags |= KCIP_BE_F_LOCAL;
		o->set |= OPT_BIT(KCIP_A_BE_FLAGS);
		return 1;
	}
	errmsg("unknown backend option \"%s\" (try \"kcipctl backend help\")",
	       w);
	return -1;
}

int be_opts_parse(int argc, char **argv, struct be_opts *o)
{
	int n;

	while (argc > 0) {
		n = parse_one_opt(argc, argv, o);
		if (n < 0)
			return -1;
		argc -= n;
		argv += n;
	}
	return 0;
}

/* The service's identity is enough to name it. */
static void put_service(struct nlmsghdr *nlh, const struct svc_id *id)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, KCIP_A_SERVICE);

	nl_put_svc_id(nlh, id);
	mnl_attr_nest_end(nlh, nest);
}

/* A BACKEND nest with the options given; @change: with a flags mask. */
void nl_put_backend(struct nlmsghdr *nlh, const struct endpoint *ep,
		    const struct be_opts *o, bool change)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, KCIP_A_BACKEND);

	if (ep->family == AF_INET)
		mnl_attr_put(nlh, KCIP_A_BE_ADDR4, 4, ep->addr);
	else
		mnl_attr_put(nlh, KCIP_A_BE_ADDR6, 16, ep->addr);
	mnl_attr_put_u16(nlh, KCIP_A_BE_PORT, htons(ep->port));
	if (o->set & OPT_BIT(KCIP_A_BE_WEIGHT))
		mnl_attr_put_u32(nlh, KCIP_A_BE_WEIGHT, o->weight);
	if (o->set & OPT_BIT(KCIP_A_BE_STATE))
		mnl_attr_put_u8(nlh, KCIP_A_BE_STATE, o->state);
	if (o->flags_mask) {
		mnl_attr_put_u32(nlh, KCIP_A_BE_FLAGS, o->flags);
		if (change)
			mnl_attr_put_u32(nlh, KCIP_A_BE_FLAGS_MASK,
					 o->flags_mask);
	}
	mnl_attr_nest_end(nlh, nest);
}

static int be_request(const struct opts *go, uint8_t cmd,
		      const struct be_req *r)
{
	struct nlmsghdr *nlh;
	struct nl *nl;
	int ret;

	nl = nl_open(go->netns);
	if (!nl)
		return EXIT_FAIL;
	nlh = nl_msg(nl, cmd, 0);
	put_service(nlh, &r->svc);
	nl_put_backend(nlh, &r->be, &r->opts, cmd == KCIP_CMD_BACKEND_SET);
	if (r->op_flags)
		mnl_attr_put_u32(nlh, KCIP_A_FLAGS, r->op_flags);

	ret = nl_do(nl, nlh);
	if (ret)
		nl_perror(nl, ret);
	nl_close(nl);
	return ret ? EXIT_FAIL : 0;
}

static int be_add_change(const struct opts *go, uint8_t cmd, int argc,
			 char **argv)
{
	struct be_req r;

	memset(&r, 0, sizeof(r));
	if (parse_target(argc, argv, &r) ||
	    be_opts_parse(argc - 2, argv + 2, &r.opts))
		return EXIT_FAIL;
	return be_request(go, cmd, &r);
}

static int be_del(const struct opts *go, int argc, char **argv)
{
	struct be_req r;
	int i;

	memset(&r, 0, sizeof(r));
	if (parse_target(argc, argv, &r))
		return EXIT_FAIL;
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "flush")) {
			errmsg("unknown backend del option \"%s\" (try \"kcipctl backend help\")",
			       argv[i]);
			return EXIT_FAIL;
		}
		if (r.op_flags & KCIP_OP_F_FLUSH_TCP) {
			dup_option(argv[i]);
			return EXIT_FAIL;
		}
		r.op_flags |= KCIP_OP_F_FLUSH_TCP;
	}
	return be_request(go, KCIP_CMD_BACKEND_DEL, &r);
}

int do_backend(const struct opts *go, int argc, char **argv)
{
	const char *cmd;

	if (argc == 0) {
		usage_backend(stderr);
		return EXIT_FAIL;
	}
	cmd = argv[0];
	argc--;
	argv++;
	if (is_help(cmd) || (argc && is_help(argv[0]))) {
		usage_backend(stdout);
		return 0;
	}
	if (!strcmp(cmd, "add"))
		return be_add_change(go, KCIP_CMD_BACKEND_NEW, argc, argv);
	if (!strcmp(cmd, "change"))
		return be_add_change(go, KCIP_CMD_BACKEND_SET, argc, argv);
	if (!strcmp(cmd, "del") || !strcmp(cmd, "delete"))
		return be_del(go, argc, argv);
	errmsg("unknown backend command \"%s\" (try \"kcipctl backend help\")",
	       cmd);
	return EXIT_FAIL;
}

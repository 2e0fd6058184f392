// SPDX-License-Identifier: GPL-2.0
/* `show`, `service show [SERVICE]` and `flush`: whole-table commands. */
#include "kcipctl.h"

/* No arguments, or `help`.  Returns 1 if help was printed. */
int no_args(const char *cmd, int argc, char **argv)
{
	if (argc == 0)
		return 0;
	if (is_help(argv[0])) {
		usage_all(stdout);
		return 1;
	}
	errmsg("unexpected argument \"%s\" after \"%s\"", argv[0], cmd);
	return -1;
}

/* Print every Service, or only @only. */
int show_services(const struct opts *o, const struct svc_id *only)
{
	struct table t, view;
	struct nl *nl;
	int ret = EXIT_FAIL;

	nl = nl_open(o->netns);
	if (!nl)
		return EXIT_FAIL;
	if (dump_table(nl, &t, o->stats, only))
		goto out;

	view = t;
	if (only) {
		char id[SERVICE_STRLEN];

		view.svc = table_find(&t, only);
		view.nsvc = 1;
		if (!view.svc) {
			format_service(only, id, sizeof(id));
			errmsg("no such service %s", id);
			goto out_free;
		}
	}
	if (o->json)
		print_table_json(stdout, &view, o->stats);
	else
		print_table(stdout, &view, o->stats, !only);
	ret = 0;
out_free:
	table_free(&t);
out:
	nl_close(nl);
	return ret;
}

int do_show(const struct opts *o, int argc, char **argv)
{
	int ret = no_args("show", argc, argv);

	if (ret)
		return ret < 0 ? EXIT_FAIL : 0;
	return show_services(o, NULL);
}

int do_flush(const struct opts *o, int argc, char **argv)
{
	struct nlmsghdr *nlh;
	struct nl *nl;
	int ret = no_args("flush", argc, argv);

	if (ret)
		return ret < 0 ? EXIT_FAIL : 0;
	nl = nl_open(o->netns);
	if (!nl)
		return EXIT_FAIL;
	nlh = nl_msg(nl, KCIP_CMD_FLUSH, 0);
	ret = nl_do(nl, nlh);
	if (ret)
		nl_perror(nl, ret);
	nl_close(nl);
	return ret ? EXIT_FAIL : 0;
}

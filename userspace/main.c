// SPDX-License-Identifier: GPL-2.0
/*
 * kcipctl: configure kclusterip Service VIPs.
 *
 *   kcipctl [-j] [-s] [-n NETNS] OBJECT COMMAND [ARGS]
 *   kcipctl [-j] [-s] [-n NETNS] [-f] -b FILE
 */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "kcipctl.h"

/* @run gets the words after OBJECT; NULL: in the contract, not done yet. */
struct object {
	const char *word;
	int (*run)(const struct opts *o, int argc, char **argv);
};

static int do_help(const struct opts *o, int argc, char **argv)
{
	(void)o;
	(void)argc;
	(void)argv;
	usage_all(stdout);
	return 0;
}

static const struct object objects[] = {
	{ "service", do_service },
	{ "backend", do_backend },
	{ "show", do_show },
	{ "flush", do_flush },
	{ "save", do_save },
	{ "restore", do_restore },
	{ "monitor", do_monitor },
	{ "explain", do_explain },
	{ "help", do_help },
};

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "stats", no_argument, NULL, 's' },
	{ "netns", required_argument, NULL, 'n' },
	{ "batch", required_argument, NULL, 'b' },
	{ "force", no_argument, NULL, 'f' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/*
 * Returns the index of OBJECT in argv (of argc with -b), 0 to exit 0, -1 to
 * fail.
 */
static int parse_global(int argc, char **argv, struct opts *o, bool *force)
{
	int c;

	opterr = 0;
	/* '+': stop at OBJECT; ':': tell a missing NETNS from a bad option */
	while ((c = getopt_long(argc, argv, "+:jsn:b:fVh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 's':
			o->stats = true;
			break;
		case 'n':
			o->netns = optarg;
			break;
		case 'b':
			o->batch = optarg;
			break;
		case 'f':
			*force = true;
			break;
		case 'V':
			print_version();
			return 0;
		case 'h':
			usage_all(stdout);
			return 0;
		case ':':
			errmsg("missing value after \"%s\"", argv[optind - 1]);
			return -1;
		default:
			if (optopt)
				errmsg("unknown option \"-%c\" (try \"kcipctl help\")",
				       optopt);
			else
				errmsg("unknown option \"%s\" (try \"kcipctl help\")",
				       argv[optind - 1]);
			return -1;
		}
	}
	if (o->batch) {
		if (optind < argc) {
			errmsg("unexpected \"%s\" after -b FILE: the commands are FILE's lines",
			       argv[optind]);
			return -1;
		}
		return argc;
	}
	if (*force) {
		errmsg("-f (--force) goes with -b FILE");
		return -1;
	}
	if (optind >= argc) {
		usage_all(stderr);
		return -1;
	}
	return optind;
}

int run_object(const struct opts *o, int argc, char **argv)
{
	const char *word = argv[0];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(objects); i++) {
		if (strcmp(word, objects[i].word))
			continue;
		if (!objects[i].run) {
			errmsg("'%s' is not implemented yet", word);
			return EXIT_FAIL;
		}
		return objects[i].run(o, argc - 1, argv + 1);
	}
	errmsg("unknown object \"%s\" (try \"kcipctl help\")", word);
	return EXIT_FAIL;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	bool force = false;
	int idx, ret;

	idx = parse_global(argc, argv, &o, &force);
	if (idx <= 0)
		ret = idx ? EXIT_FAIL : 0;
	else if (o.batch)
		ret = run_batch(&o, force);
	else
		ret = run_object(&o, argc - idx, argv + idx);

	/* A full disk or a closed pipe must not look like success. */
	if (fflush(stdout) || ferror(stdout)) {
		errmsg("write error: %s", strerror(errno));
		ret = EXIT_FAIL;
	}
	return ret;
}

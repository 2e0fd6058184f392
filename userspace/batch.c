// SPDX-License-Identifier: GPL-2.0
/*
 * kcipctl -b FILE: one command per line, as iproute2's "ip -batch".  A
 * shell loop starts one kcipctl per change; a batch costs one process for
 * all of them.  The global options of the command line (-j, -s, -n) apply
 * to every line; without -f the batch stops at the first failed command.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kcipctl.h"

/* Run the lines of @f, called @name in messages. */
static int run_lines(const struct opts *o, FILE *f, const char *name,
		     bool force)
{
	char *buf = NULL, **words = NULL, where[256];
	size_t bufcap = 0, wcap = 0;
	unsigned int line = 0, failed = 0;
	int n, ret;

	while (getline(&buf, &bufcap, f) >= 0) {
		line++;
		n = split_words(buf, &words, &wcap);
		if (n < 0) {
			errmsg("%s", strerror(ENOMEM));
			failed++;
			break;
		}
		if (!n)
			continue;
		/* the line's own errors say where they come from */
		snprintf(where, sizeof(where), "%s:%u: ", name, line);
		errmsg_where = where;
		if (words[0][0] == '-') {
			errmsg("\"%s\": global options go on the command line, before -b",
			       words[0]);
			ret = EXIT_FAIL;
		} else {
			ret = run_object(o, n, words);
		}
		errmsg_where = NULL;
		/* what the command printed comes before the verdict on it */
		fflush(stdout);
		if (!ret)
			continue;
		failed++;
		errmsg("%s:%u: command failed", name, line);
		if (!force)
			break;
	}
	if (ferror(f)) {
		errmsg("%s: read error: %s", name, strerror(errno));
		failed++;
	}
	free(buf);
	free(words);
	return failed ? EXIT_FAIL : 0;
}

int run_batch(const struct opts *o, bool force)
{
	FILE *f;
	int ret;

	if (!strcmp(o->batch, "-"))
		return run_lines(o, stdin, "<stdin>", force);
	f = fopen(o->batch, "r");
	if (!f) {
		errmsg("cannot open %s: %s", o->batch, strerror(errno));
		return EXIT_FAIL;
	}
	ret = run_lines(o, f, o->batch, force);
	fclose(f);
	return ret;
}

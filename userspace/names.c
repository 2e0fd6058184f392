// SPDX-License-Identifier: GPL-2.0
/*
 * Words of the command line and of the output, and the values they stand
 * for.  Parsing and printing share these tables so they cannot disagree.
 */
#include <netinet/in.h>
#include <string.h>

#include "kcipctl.h"

const struct name sched_names[] = {
	{ "random", KCIP_SCHED_RANDOM },
	{ "rr", KCIP_SCHED_RR },
	{ "maglev", KCIP_SCHED_MAGLEV },
	{ NULL, 0 }
};

const struct name affinity_names[] = {
	{ "none", KCIP_AFFINITY_NONE },
	{ "clientip", KCIP_AFFINITY_CLIENTIP },
	{ NULL, 0 }
};

const struct name traffic_policy_names[] = {
	{ "cluster", KCIP_TRAFFIC_POLICY_CLUSTER },
	{ "local", KCIP_TRAFFIC_POLICY_LOCAL },
	{ NULL, 0 }
};

const struct name no_endpoints_names[] = {
	{ "reject", KCIP_NO_ENDPOINTS_REJECT },
	{ "drop", KCIP_NO_ENDPOINTS_DROP },
	{ NULL, 0 }
};

const struct name be_state_names[] = {
	{ "ready", KCIP_BE_STATE_READY },
	{ "terminating", KCIP_BE_STATE_TERMINATING },
	{ "down", KCIP_BE_STATE_DOWN },
	{ NULL, 0 }
};

const struct name proto_names[] = {
	{ "tcp", IPPROTO_TCP },
	{ "udp", IPPROTO_UDP },
	{ "sctp", IPPROTO_SCTP },
	{ NULL, 0 }
};

const struct name on_off_names[] = {
	{ "off", 0 },
	{ "on", 1 },
	{ NULL, 0 }
};

/* The word for @value, or NULL when a newer kernel sent one we don't know. */
const char *name_of(const struct name *tbl, unsigned int value)
{
	for (; tbl->word; tbl++)
		if (tbl->value == value)
			return tbl->word;
	return NULL;
}

int value_of(const struct name *tbl, const char *word, unsigned int *value)
{
	for (; tbl->word; tbl++) {
		if (!strcmp(tbl->word, word)) {
			*value = tbl->value;
			return 0;
		}
	}
	return -1;
}

/* "a, b or c" */
void names_list(FILE *f, const struct name *tbl)
{
	const struct name *n;

	for (n = tbl; n->word; n++) {
		if (n != tbl)
			fputs(n[1].word ? ", " : " or ", f);
		fputs(n->word, f);
	}
}

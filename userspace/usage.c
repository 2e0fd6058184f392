// SPDX-License-Identifier: GPL-2.0
/* Help texts and version. */
#include "kcipctl.h"

static const char usage_head[] =
	"Usage: kcipctl [-j] [-s] [-n NETNS] OBJECT COMMAND [ARGS]\n"
	"       kcipctl -V | --version\n"
	"\n"
	"OBJECT COMMAND :=\n"
	"  service { add | change | del | show | help }\n"
	"  backend { add | change | del | help }\n"
	"  show          every Service with its backends\n"
	"  flush         remove all Services in this network namespace\n"
	"  save          print the state as `service add`/`backend add` lines\n"
	"  restore [FILE|-]\n"
	"  monitor\n"
	"  help\n"
	"\n"
	"  -j, --json         JSON output\n"
	"  -s, --stats        add counters\n"
	"  -n, --netns NETNS  run in network namespace NETNS (as `ip -n`)\n"
	"\n";

static const char usage_syntax[] =
	"SERVICE := ADDR:PORT/PROTO   10.96.0.10:53/udp   [fd00::10]:443/tcp\n"
	"           ADDR 0.0.0.0 or [::] is a NodePort\n"
	"BACKEND := ADDR:PORT         10.244.1.5:8053     [fd00:244::5]:8443\n"
	"PROTO   := tcp | udp | sctp\n";

static const char usage_svc[] =
	"kcipctl service add    SERVICE [OPTIONS]\n"
	"kcipctl service change SERVICE [OPTIONS]\n"
	"kcipctl service del    SERVICE\n"
	"kcipctl service show   [SERVICE]\n"
	"  OPTIONS:\n"
	"    sched random|rr|maglev\n"
	"    affinity none|clientip [timeout SECONDS]\n"
	"    traffic-policy cluster|local\n"
	"    no-endpoints reject|drop\n"
	"    masquerade on|off\n"
	"    retry on|off [quarantine SECONDS]\n";

static const char usage_be[] =
	"kcipctl backend add    SERVICE BACKEND [weight W] [state ready|terminating|down] [local]\n"
	"kcipctl backend change SERVICE BACKEND [weight W] [state ready|terminating|down] [local|nonlocal]\n"
	"kcipctl backend del    SERVICE BACKEND [flush]\n";

void usage_all(FILE *f)
{
	fputs(usage_head, f);
	fputs(usage_svc, f);
	fputc('\n', f);
	fputs(usage_be, f);
	fputc('\n', f);
	fputs(usage_syntax, f);
}

void usage_service(FILE *f)
{
	fputs(usage_svc, f);
	fputc('\n', f);
	fputs(usage_syntax, f);
}

void usage_backend(FILE *f)
{
	fputs(usage_be, f);
	fputc('\n', f);
	fputs(usage_syntax, f);
}

void print_version(void)
{
	printf("kcipctl %s\n", VERSION);
}

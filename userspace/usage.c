// SPDX-License-Identifier: GPL-2.0
/* Help texts and version. */
#include "kcipctl.h"

static const char usage_head[] =
	"Usage: kcipctl [-j] [-s] [-n NETNS] OBJECT COMMAND [ARGS]\n"
	"       kcipctl [-j] [-s] [-n NETNS] [-f] -b FILE\n"
	"       kcipctl -V | --version\n"
	"\n"
	"OBJECT COMMAND :=\n"
	"  service { add | change | del | show | help }\n"
	"  backend { add | change | del | help }\n"
	"  show          every Service with its backends (-s: counters)\n"
	"  flush         remove all Services in this network namespace\n"
	"  save          print the state as `service add`/`backend add` lines\n"
	"  restore [FILE|-]\n"
	"                make the state exactly FILE's (save's lines; default\n"
	"                stdin), all or nothing; -s, -j: say what changed\n"
	"  monitor       print each change as it happens, one line each\n"
	"  explain PROTO SRC:SPORT DST:DPORT\n"
	"                which Service and backend a new flow would get, and why\n"
	"  help\n"
	"\n"
	"  -j, --json         JSON output\n"
	"  -s, --stats        add counters\n"
	"  -n, --netns NETNS  run in network namespace NETNS (as `ip -n`)\n"
	"  -b, --batch FILE   run FILE's lines (- : stdin), each OBJECT COMMAND\n"
	"                     [ARGS], in one process; stop at the first failure\n"
	"  -f, --force        with -b: go on after a failed line (exit 1 still)\n"
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

static const char usage_rs[] =
	"kcipctl save\n"
	"kcipctl [-s] [-j] restore [FILE|-]\n"
	"  FILE holds the lines save prints (blank lines and # comments too):\n"
	"    service add SERVICE [OPTIONS]\n"
	"    backend add SERVICE BACKEND [weight W] [state ready|terminating|down] [local]\n"
	"  a backend after its Service's `service add` line, nothing twice;\n"
	"  the state becomes exactly that, in one transaction, or stays as it\n"
	"  was; -s prints a summary line, -j the same as JSON\n";

static const char usage_ex[] =
	"kcipctl explain PROTO SRC:SPORT DST:DPORT\n"
	"  e.g. kcipctl explain tcp 10.0.0.1:40000 10.96.0.10:80\n"
	"       kcipctl explain udp [fd00::1]:5353 [fd00::10]:53\n";

void usage_all(FILE *f)
{
	fputs(usage_head, f);
	fputs(usage_svc, f);
	fputc('\n', f);
	fputs(usage_be, f);
	fputc('\n', f);
	fputs(usage_syntax, f);
}

void usage_restore(FILE *f)
{
	fputs(usage_rs, f);
	fputc('\n', f);
	fputs(usage_syntax, f);
}

void usage_explain(FILE *f)
{
	fputs(usage_ex, f);
	fputc('\n', f);
	fputs("PROTO   := tcp | udp | sctp\n", f);
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

// SPDX-License-Identifier: GPL-2.0
/*
 * kcipctl monitor: a line per change, as the "monitor" multicast group
 * tells it, until SIGINT or SIGTERM (exit 0).
 *
 *   service add 10.96.0.10:80/tcp sched random affinity none ...
 *   service change 10.96.0.10:80/tcp sched maglev affinity none ...
 *   service del 10.96.0.10:80/tcp
 *   backend add 10.96.0.10:80/tcp 10.244.1.5:8080 weight 1 state ready
 *   backend change 10.96.0.10:80/tcp 10.244.1.5:8080 weight 1 state down
 *   backend del 10.96.0.10:80/tcp 10.244.1.5:8080
 *   flush
 *   restore 3 added, 1 changed, 0 deleted, 5 unchanged; 9 services, 27 backends
 *
 * -j: a JSON object per line, {"event":"service add","generation":N,
 * "service":{...},"backend":{...}} ("restore":{...} for a restore).
 * Events the kernel could not queue (a full receive buffer) are lost:
 * a warning on stderr says so, and monitoring goes on.
 */
#define _GNU_SOURCE		/* ppoll() */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <string.h>

#include <linux/genetlink.h>

#include "attr.h"
#include "json.h"

#define MONITOR_RCVBUF	(4 << 20)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char *const event_names[KCIP_CMD_MAX + 1] = {
	[KCIP_CMD_SERVICE_NEW] = "service add",
	[KCIP_CMD_SERVICE_SET] = "service change",
	[KCIP_CMD_SERVICE_DEL] = "service del",
	[KCIP_CMD_BACKEND_NEW] = "backend add",
	[KCIP_CMD_BACKEND_SET] = "backend change",
	[KCIP_CMD_BACKEND_DEL] = "backend del",
	[KCIP_CMD_FLUSH] = "flush",
	[KCIP_CMD_RESTORE_COMMIT] = "restore",
	[KCIP_CMD_BACKEND_QUARANTINE] = "backend quarantine",
};

struct event {
	uint8_t cmd;
	const char *name;		/* NULL: a command we do not know */
	bool have_generation, have_svc, have_be, have_restore;
	uint64_t generation;
	struct svc_id id;
	struct svc_opts opts;
	struct backend be;
	struct restore_counts rc;
};

static void print_restore_counts(const struct restore_counts *c)
{
	printf(" %" PRIu32 " added, %" PRIu32 " changed, %" PRIu32
	       " deleted, %" PRIu32 " unchanged; %" PRIu32 " services, %"
	       PRIu32 " backends", c->added, c->changed, c->deleted,
	       c->unchanged, c->services, c->backends);
}

static void print_event(const struct event *ev)
{
	char id[SERVICE_STRLEN], ep[ENDPOINT_STRLEN];

	if (!ev->name) {
		printf("unknown event %u\n", ev->cmd);
		return;
	}
	fputs(ev->name, stdout);
	if (ev->have_svc) {
		format_service(&ev->id, id, sizeof(id));
		printf(" %s", id);
	}
	if (ev->have_be) {
		format_endpoint(&ev->be.ep, ep, sizeof(ep));
		printf(" %s", ep);
		if (ev->cmd == KCIP_CMD_BACKEND_QUARANTINE)
			printf(" for %" PRIu32 "s", ev->be.quarantine);
		else if (ev->cmd != KCIP_CMD_BACKEND_DEL)
			print_be_opts(stdout, &ev->be.opts);
	} else if (ev->have_svc && ev->opts.set) {
		print_svc_opts(stdout, &ev->opts);
	}
	if (ev->have_restore)
		print_restore_counts(&ev->rc);
	putchar('\n');
}

static void print_event_json(const struct event *ev)
{
	const struct restore_counts *c = &ev->rc;
	struct json j;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	if (ev->name) {
		json_str(&j, "event", ev->name);
	} else {
		json_str(&j, "event", "unknown");
		json_u64(&j, "cmd", ev->cmd);
	}
	if (ev->have_generation)
		json_u64(&j, "generation", ev->generation);
	if (ev->have_svc) {
		json_obj_open(&j, "service");
		json_svc_fields(&j, &ev->id, ev->opts.set ? &ev->opts : NULL);
		json_obj_close(&j);
	}
	if (ev->have_be)
		json_backend(&j, "backend", &ev->be, false);
	if (ev->have_restore) {
		json_obj_open(&j, "restore");
		json_u64(&j, "added", c->added);
		json_u64(&j, "changed", c->changed);
		json_u64(&j, "deleted", c->deleted);
		json_u64(&j, "unchanged", c->unchanged);
		json_u64(&j, "services", c->services);
		json_u64(&j, "backends", c->backends);
		json_obj_close(&j);
	}
	json_obj_close(&j);
	json_end(&j);
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KCIP_A_MAX + 1] = { NULL };
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	const struct opts *o = data;
	struct event ev;

	if (mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.cmd = g->cmd;
	ev.name = ev.cmd <= KCIP_CMD_MAX ? event_names[ev.cmd] : NULL;
	if (attr_parse_msg(nlh, tb) ||
	    (tb[KCIP_A_SERVICE] &&
	     attr_parse_service(tb[KCIP_A_SERVICE], &ev.id, &ev.opts, NULL,
				NULL)) ||
	    (tb[KCIP_A_BACKEND] &&
	     attr_parse_backend(tb[KCIP_A_BACKEND], &ev.be)) ||
	    (tb[KCIP_A_RESTORE] &&
	     attr_parse_restore(tb[KCIP_A_RESTORE], &ev.rc))) {
		fprintf(stderr, "kcipctl: warning: malformed event (command %u) skipped\n",
			ev.cmd);
		return 0;
	}
	ev.have_svc = tb[KCIP_A_SERVICE];
	ev.have_be = tb[KCIP_A_BACKEND] && ev.have_svc;
	ev.have_restore = tb[KCIP_A_RESTORE];
	if (tb[KCIP_A_GENERATION]) {
		ev.have_generation = true;
		ev.generation = mnl_attr_get_u64(tb[KCIP_A_GENERATION]);
	}
	if (o->json)
		print_event_json(&ev);
	else
		print_event(&ev);
	/* one event at a time for whoever reads the pipe */
	if (fflush(stdout) || ferror(stdout))
		return -EIO;
	return 0;
}

/* SIGINT and SIGTERM end the loop: blocked but while waiting. */
static int setup_signals(sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -1;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	return sigprocmask(SIG_BLOCK, &block, wait_mask);
}

int do_monitor(const struct opts *o, int argc, char **argv)
{
	struct pollfd pfd = { .events = POLLIN };
	sigset_t wait_mask;
	struct nl *nl;
	int ret = no_args("monitor", argc, argv);

	if (ret)
		return ret < 0 ? EXIT_FAIL : 0;
	nl = nl_open(o->netns);
	if (!nl)
		return EXIT_FAIL;
	if (nl_join_monitor(nl)) {
		nl_close(nl);
		return EXIT_FAIL;
	}
	nl_set_rcvbuf(nl, MONITOR_RCVBUF);
	if (setup_signals(&wait_mask)) {
		errmsg("cannot set up signals: %s", strerror(errno));
		nl_close(nl);
		return EXIT_FAIL;
	}
	pfd.fd = nl_fd(nl);

	ret = 0;
	while (!stop) {
		/* the signals get through only here: no wakeup is missed */
		if (ppoll(&pfd, 1, NULL, &wait_mask) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		ret = nl_recv_events(nl, event_cb, (void *)o);
		if (ret == -ENOBUFS) {
			fprintf(stderr, "kcipctl: warning: events were lost (receive buffer full)\n");
			ret = 0;
		} else if (ret == -EINTR || ret == -EAGAIN) {
			ret = 0;
		} else if (ret) {
			break;
		}
	}
	nl_close(nl);
	if (ret == -EIO)	/* stdout: main() reports it */
		return EXIT_FAIL;
	if (ret) {
		errmsg("%s", strerror(-ret));
		return EXIT_FAIL;
	}
	return 0;
}

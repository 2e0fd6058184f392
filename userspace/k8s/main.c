// SPDX-License-Identifier: GPL-2.0
/*
 * kcip-k8s-sync: program a node's kclusterip from Kubernetes Services and
 * EndpointSlices, as kubectl prints them.
 *
 *   kcip-k8s-sync --node NAME [--watch] [--dry-run] [OPTIONS] [FILE|-]...
 *
 * Without --watch: read every input to its end (Lists, objects, events),
 * then make the kernel's state exactly what they say in one restore
 * transaction.  Nothing is applied if an input is not JSON or has no
 * object at all.
 *
 * With --watch: the inputs are watch streams (one per kubectl, since
 * `kubectl get --watch` takes one resource type).  Their first events are
 * the current objects; once every input has told that they are all there
 * (a List, a BOOKMARK annotated k8s.io/initial-events-end, or its end) or
 * all inputs have been quiet for --settle milliseconds after each sent
 * something, the whole state is committed in one restore.  From then on
 * each event is applied as it comes, changing only the entries it
 * touches.  When an input ends, what the others have ready is applied
 * and the program exits (a DaemonSet restarts it and kubectl).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "k8s.h"

#define READ_SIZE	65536
/* Kubernetes objects nest deeper than json-c's default 32 (managedFields). */
#define JSON_DEPTH	256
#define DEFAULT_SETTLE	2000

struct input {
	const char *name;
	int fd;
	struct json_tokener *tok;
	size_t offset;		/* bytes read before the current buffer */
	unsigned long objects;
	bool pending;		/* part of a value read, not ended yet */
	bool eof;
	bool initial_done;	/* its initial objects are all in */
};

enum phase {
	PHASE_INITIAL,		/* gathering the current objects */
	PHASE_RUNNING,		/* applying events as they come */
};

static struct k8s K;
static enum phase phase;
static bool fatal;

static void usage(FILE *f)
{
	fputs("Usage: kcip-k8s-sync --node NAME [--watch] [--dry-run] [OPTIONS] [FILE|-]...\n"
	      "\n"
	      "Program kclusterip from Kubernetes Services and EndpointSlices, read as\n"
	      "kubectl prints them:\n"
	      "  kubectl get services,endpointslices -A -o json | kcip-k8s-sync --node NAME\n"
	      "  kcip-k8s-sync --node NAME --watch \\\n"
	      "      <(kubectl get services -A --watch -o json --output-watch-events) \\\n"
	      "      <(kubectl get endpointslices -A --watch -o json --output-watch-events)\n"
	      "\n"
	      "  -N, --node NAME     this node's name: its endpoints are flagged local\n"
	      "  -w, --watch         inputs are watch streams: sync once the current\n"
	      "                      objects are in, then apply each event as it comes\n"
	      "  -d, --dry-run       print what would be sent, send nothing: the save\n"
	      "                      lines of a full sync, the requests of each event\n"
	      "  -s, --settle MS     --watch: inputs quiet this long end the initial\n"
	      "                      objects (default 2000)\n"
	      "      --sched S       scheduler of every entry: random, rr or maglev\n"
	      "                      (default random)\n"
	      "  -n, --netns NETNS   work in network namespace NETNS (as ip -n)\n"
	      "  -v, --verbose       print each request sent, with the event it is for\n"
	      "  -V, --version       print the version\n"
	      "  -h, --help          this help\n"
	      "\n"
	      "FILE is - (standard input, the default) or a file, FIFO or pipe.\n", f);
}

static int input_open(struct input *in, const char *path)
{
	memset(in, 0, sizeof(*in));
	if (!strcmp(path, "-")) {
		in->name = "<stdin>";
		in->fd = STDIN_FILENO;
	} else {
		in->name = path;
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0) {
			errmsg("cannot open %s: %s", path, strerror(errno));
			return -1;
		}
	}
	in->tok = json_tokener_new_ex(JSON_DEPTH);
	if (!in->tok) {
		errmsg("out of memory");
		return -1;
	}
	json_tokener_set_flags(in->tok, JSON_TOKENER_STRICT |
				       JSON_TOKENER_ALLOW_TRAILING_CHARS);
	return 0;
}

static void input_close(struct input *in)
{
	if (in->tok)
		json_tokener_free(in->tok);
	if (in->fd > STDIN_FILENO)
		close(in->fd);
}

static bool all_initial_done(const struct input *in, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!in[i].initial_done)
			return false;
	return true;
}

/* Every input sent something, or ended: quiet now means all is in. */
static bool all_started(const struct input *in, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!in[i].objects && !in[i].eof)
			return false;
	return true;
}

static void initial_sync(void)
{
	phase = PHASE_RUNNING;
	if (sync_full(&K, true))
		fatal = true;
}

/* After each change to the model, once running: apply it. */
static int apply_event(struct k8s *k, const char *what)
{
	if (k->dry_run || k->verbose)
		printf("# %s\n", what);
	if (sync_dirty(k, true)) {
		errmsg("%s: not applied; syncing everything", what);
		if (sync_full(k, true)) {
			fatal = true;
			return -1;
		}
	}
	fflush(stdout);
	return 0;
}

/* The complete JSON values in @buf, handled one by one. */
static int feed(struct input *in, const char *buf, size_t len,
		struct input *all, int nin)
{
	struct json_object *obj;
	enum json_tokener_error err;
	enum kobj_result r;
	char where[300];
	size_t off = 0, used;

	while (off < len && !fatal) {
		obj = json_tokener_parse_ex(in->tok, buf + off, len - off);
		err = json_tokener_get_error(in->tok);
		if (err == json_tokener_continue) {
			for (; off < len; off++)
				if (!strchr(" \t\r\n", buf[off]))
					in->pending = true;
			break;
		}
		used = json_tokener_get_parse_end(in->tok);
		if (err != json_tokener_success) {
			errmsg("%s: not JSON at offset %zu: %s", in->name,
			       in->offset + off + used,
			       json_tokener_error_desc(err));
			return -1;
		}
		off += used;
		in->pending = false;
		in->objects++;
		snprintf(where, sizeof(where), "%s: value %lu", in->name,
			 in->objects);
		r = k8s_handle(&K, obj, where,
			       phase == PHASE_RUNNING ? apply_event : NULL);
		json_object_put(obj);
		if (r == KOBJ_INITIAL_END)
			in->initial_done = true;
		if (K.watch && phase == PHASE_INITIAL &&
		    all_initial_done(all, nin))
			initial_sync();
	}
	in->offset += len;
	return fatal ? -1 : 0;
}

/* Read once from @in: -1 on error, 0 otherwise (in->eof at the end). */
static int input_read(struct input *in, struct input *all, int nin)
{
	static char buf[READ_SIZE];
	ssize_t n;

	n = read(in->fd, buf, sizeof(buf));
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		errmsg("%s: read error: %s", in->name, strerror(errno));
		return -1;
	}
	if (n > 0)
		return feed(in, buf, n, all, nin);
	in->eof = true;
	in->initial_done = true;
	if (in->pending) {
		errmsg("%s: ends in the middle of a JSON value", in->name);
		return -1;
	}
	if (!in->objects) {
		errmsg("%s: no Kubernetes objects: nothing applied", in->name);
		return -1;
	}
	if (K.watch && phase == PHASE_INITIAL && all_initial_done(all, nin))
		initial_sync();
	return fatal ? -1 : 0;
}

static int run_once(struct input *in, int nin)
{
	int i;

	for (i = 0; i < nin; i++)
		while (!in[i].eof)
			if (input_read(&in[i], in, nin))
				return -1;
	return sync_full(&K, false);
}

/* Wait for the inputs; @timeout in ms, -1 for none. */
static int wait_inputs(struct input *in, int nin, int timeout,
		       struct pollfd *pfd)
{
	int i, n = 0, ret;

	for (i = 0; i < nin; i++) {
		pfd[i].fd = in[i].eof ? -1 : in[i].fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
		n += !in[i].eof;
	}
	if (!n)
		return 0;
	ret = poll(pfd, nin, timeout);
	if (ret < 0 && errno != EINTR) {
		errmsg("poll: %s", strerror(errno));
		return -1;
	}
	return ret < 0 ? 1 : ret;
}

static int run_watch(struct input *in, int nin, int settle)
{
	struct pollfd *pfd = calloc(nin, sizeof(*pfd));
	bool ended = false;
	int i, r;

	if (!pfd) {
		errmsg("out of memory");
		return -1;
	}
	while (!ended && !fatal) {
		r = wait_inputs(in, nin,
				phase == PHASE_INITIAL && all_started(in, nin) ?
				settle : -1, pfd);
		if (r < 0)
			goto fail;
		if (r == 0) {
			/* the current objects are all in */
			if (phase == PHASE_INITIAL)
				initial_sync();
			continue;
		}
		for (i = 0; i < nin && !fatal; i++) {
			if (!pfd[i].revents)
				continue;
			if (input_read(&in[i], in, nin))
				goto fail;
			ended |= in[i].eof;
		}
	}
	/* one input ended: apply what the others have ready, and stop */
	while (!fatal && wait_inputs(in, nin, 0, pfd) > 0)
		for (i = 0; i < nin && !fatal; i++)
			if (pfd[i].revents && input_read(&in[i], in, nin))
				goto fail;
	if (!fatal && phase == PHASE_INITIAL)
		initial_sync();
	free(pfd);
	return fatal ? -1 : 0;
fail:
	free(pfd);
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "node", required_argument, NULL, 'N' },
		{ "watch", no_argument, NULL, 'w' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "settle", required_argument, NULL, 's' },
		{ "sched", required_argument, NULL, 'S' },
		{ "netns", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *netns = NULL;
	static const char *stdin_only[] = { "-" };
	const char **paths;
	struct input *in;
	uint32_t settle = DEFAULT_SETTLE;
	unsigned int v;
	int c, i, nin, ret = EXIT_FAIL;

	progname = "kcip-k8s-sync";
	K.opts.stats = true;	/* restore prints what it did */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":N:wds:n:vVh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'N':
			K.node = optarg;
			break;
		case 'w':
			K.watch = true;
			break;
		case 'd':
			K.dry_run = true;
			break;
		case 's':
			if (parse_u32("--settle", optarg, 1, 3600000, &settle))
				return EXIT_FAIL;
			break;
		case 'S':
			if (parse_word("--sched", sched_names, optarg, &v))
				return EXIT_FAIL;
			K.sched = v;
			break;
		case 'n':
			netns = optarg;
			break;
		case 'v':
			K.verbose = true;
			break;
		case 'V':
			printf("kcip-k8s-sync %s\n", VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			errmsg("missing value after \"%s\"", argv[optind - 1]);
			return EXIT_FAIL;
		default:
			errmsg("unknown option \"%s\" (try \"kcip-k8s-sync --help\")",
			       argv[optind - 1]);
			return EXIT_FAIL;
		}
	}
	if (!K.node || !*K.node) {
		errmsg("--node NAME is required (the node's name, as the API server knows it)");
		return EXIT_FAIL;
	}
	if (netns && netns_switch(netns))
		return EXIT_FAIL;

	nin = argc - optind;
	paths = nin ? (const char **)argv + optind : stdin_only;
	if (!nin)
		nin = 1;
	in = calloc(nin, sizeof(*in));
	if (!in || k8s_init(&K)) {
		errmsg("out of memory");
		return EXIT_FAIL;
	}
	for (i = 0; i < nin; i++)
		if (input_open(&in[i], paths[i]))
			goto out;
	if (K.watch)
		setvbuf(stdout, NULL, _IOLBF, 0);

	if (!(K.watch ? run_watch(in, nin, settle) : run_once(in, nin)))
		ret = 0;
out:
	for (i = 0; i < nin; i++)
		input_close(&in[i]);
	free(in);
	k8s_free(&K);
	if (fflush(stdout) || ferror(stdout)) {
		errmsg("write error: %s", strerror(errno));
		ret = EXIT_FAIL;
	}
	return ret;
}

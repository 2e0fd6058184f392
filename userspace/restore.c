// SPDX-License-Identifier: GPL-2.0
/*
 * kcipctl restore [FILE|-]: make the state exactly FILE's, in one
 * transaction.
 *
 * FILE has the lines `kcipctl save` prints, `service add SERVICE [OPTIONS]`
 * and `backend add SERVICE BACKEND [OPTIONS]`, with blank lines and
 * `#` comments.  All of it is read and checked first (syntax, a Service or
 * a backend given twice, a backend whose Service has no `service add` line
 * above it, backend weights adding up past the kernel's limit): any error is reported as `FILE:LINE: message` and nothing is
 * sent.  Then RESTORE_BEGIN, one RESTORE_SERVICE per Service with its
 * backends (a Service too big for one message goes on in more messages
 * flagged KCIP_OP_F_APPEND), many messages per send, and RESTORE_COMMIT.
 * The kernel stages everything and applies it at the commit, or nothing:
 * it drops the stage on the first refused message, and when the socket
 * closes, so an error or a kill leaves the state as it was.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "attr.h"
#include "json.h"

/* No RESTORE_SERVICE message is bigger. */
#define MSG_MAX		32768
/* A BACKEND nest at most: nest, ADDR6, PORT, WEIGHT, STATE, FLAGS. */
#define BE_NEST_MAX	(4 + 20 + 8 + 8 + 8 + 8)
/*
 * Requests per send: even if each one failed, their error messages fit
 * in the socket's receive buffer.
 */
#define BATCH_SIZE	(4 * MSG_MAX)
#define BATCH_MSGS	64
#define RCVBUF_SIZE	(1 << 20)

struct rs_svc {
	struct svc_id id;
	struct svc_opts opts;
	unsigned int line;
	uint32_t first;		/* its backends: order[first .. first + nbe) */
	uint32_t nbe;
	uint64_t weights;	/* their sum: the kernel's limit is 2^32 - 1 */
};

struct rs_be {
	struct endpoint ep;
	struct be_opts opts;
	unsigned int line;
	uint32_t svc;
};

/* Open addressing; slots hold an index + 1, 0 is empty. */
struct htab {
	uint32_t *slot;
	size_t size;		/* a power of two */
	size_t n;
};

struct rs {
	const char *file;	/* as the messages name it */
	struct rs_svc *svc;
	size_t nsvc, svc_cap;
	struct rs_be *be;
	size_t nbe, be_cap;
	uint32_t *order;	/* backend indices grouped by Service */
	struct htab svc_ht, be_ht;
	char where[256];	/* "FILE:LINE: " */
};

/* What the messages of the batch in flight stand for. */
struct msg_info {
	unsigned int seq;
	uint32_t svc;
	uint32_t be_from;	/* index in the Service's backends */
	size_t offset;		/* in the batch buffer */
};

/* FNV-1a */
static uint32_t hash_bytes(uint32_t h, const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len--)
		h = (h ^ *c++) * 16777619u;
	return h;
}

static uint32_t hash_endpoint(uint32_t h, const struct endpoint *ep)
{
	unsigned char fam = ep->family;

	h = hash_bytes(h, &fam, 1);
	h = hash_bytes(h, ep->addr, ep->family == AF_INET ? 4 : 16);
	return hash_bytes(h, &ep->port, sizeof(ep->port));
}

static uint32_t svc_hash(const struct rs *rs, uint32_t i)
{
	const struct svc_id *id = &rs->svc[i].id;

	return hash_bytes(hash_endpoint(2166136261u, &id->ep), &id->proto, 1);
}

static bool svc_eq(const struct rs *rs, uint32_t a, uint32_t b)
{
	return !svc_id_cmp(&rs->svc[a].id, &rs->svc[b].id);
}

static uint32_t be_hash(const struct rs *rs, uint32_t i)
{
	const struct rs_be *be = &rs->be[i];

	return hash_endpoint(hash_bytes(2166136261u, &be->svc,
					sizeof(be->svc)), &be->ep);
}

static bool be_eq(const struct rs *rs, uint32_t a, uint32_t b)
{
	return rs->be[a].svc == rs->be[b].svc &&
	       !endpoint_cmp(&rs->be[a].ep, &rs->be[b].ep);
}

typedef uint32_t (*hash_fn)(const struct rs *rs, uint32_t i);
typedef bool (*eq_fn)(const struct rs *rs, uint32_t a, uint32_t b);

static void ht_place(const struct rs *rs, struct htab *ht, hash_fn hash,
		     uint32_t i)
{
	size_t mask = ht->size - 1, s = hash(rs, i) & mask;

	while (ht->slot[s])
		s = (s + 1) & mask;
	ht->slot[s] = i + 1;
}

static int ht_grow(const struct rs *rs, struct htab *ht, hash_fn hash)
{
	struct htab old = *ht;
	size_t s;

	ht->size = old.size ? old.size * 2 : 1024;
	ht->slot = calloc(ht->size, sizeof(*ht->slot));
	if (!ht->slot) {
		*ht = old;
		return -1;
	}
	for (s = 0; s < old.size; s++)
		if (old.slot[s])
			ht_place(rs, ht, hash, old.slot[s] - 1);
	free(old.slot);
	return 0;
}

/*
 * The entry equal to @i, or none (then, if @add, @i goes in): returns its
 * index, -1 when there was none, -2 when out of memory.
 */
static int64_t ht_find(const struct rs *rs, struct htab *ht, hash_fn hash,
		       eq_fn eq, uint32_t i, bool add)
{
	size_t mask, s;

	if ((ht->n + 1) * 2 > ht->size && ht_grow(rs, ht, hash))
		return -2;
	mask = ht->size - 1;
	for (s = hash(rs, i) & mask; ht->slot[s]; s = (s + 1) & mask)
		if (eq(rs, ht->slot[s] - 1, i))
			return ht->slot[s] - 1;
	if (add) {
		ht->slot[s] = i + 1;
		ht->n++;
	}
	return -1;
}

static void rs_free(struct rs *rs)
{
	free(rs->svc);
	free(rs->be);
	free(rs->order);
	free(rs->svc_ht.slot);
	free(rs->be_ht.slot);
}

static int no_memory(void)
{
	errmsg("%s", strerror(ENOMEM));
	return -1;
}

/* `service add SERVICE [OPTIONS]`, @argv after "add". */
static int line_service(struct rs *rs, unsigned int line, int argc,
			char **argv)
{
	struct rs_svc *s;
	char id[SERVICE_STRLEN];
	int64_t dup;

	if (grow_array((void **)&rs->svc, &rs->svc_cap, rs->nsvc, sizeof(*rs->svc)))
		return no_memory();
	s = &rs->svc[rs->nsvc];
	memset(s, 0, sizeof(*s));
	s->line = line;
	if (argc < 1) {
		errmsg("missing SERVICE (ADDR:PORT/PROTO)");
		return -1;
	}
	if (parse_service(argv[0], &s->id) ||
	    svc_opts_parse(argc - 1, argv + 1, &s->opts))
		return -1;
	dup = ht_find(rs, &rs->svc_ht, svc_hash, svc_eq, rs->nsvc, true);
	if (dup == -2)
		return no_memory();
	if (dup >= 0) {
		format_service(&s->id, id, sizeof(id));
		errmsg("service %s is given twice (first on line %u)", id,
		       rs->svc[dup].line);
		return -1;
	}
	rs->nsvc++;
	return 0;
}

/* `backend add SERVICE BACKEND [OPTIONS]`, @argv after "add". */
static int line_backend(struct rs *rs, unsigned int line, int argc,
			char **argv)
{
	char id[SERVICE_STRLEN], ep[ENDPOINT_STRLEN];
	struct rs_svc key;
	struct rs_be *be;
	int64_t found;

	if (grow_array((void **)&rs->be, &rs->be_cap, rs->nbe, sizeof(*rs->be)) ||
	    grow_array((void **)&rs->svc, &rs->svc_cap, rs->nsvc, sizeof(*rs->svc)))
		return no_memory();
	be = &rs->be[rs->nbe];
	memset(be, 0, sizeof(*be));
	be->line = line;
	memset(&key, 0, sizeof(key));
	if (parse_svc_backend(argc, argv, &key.id, &be->ep) ||
	    be_opts_parse(argc - 2, argv + 2, &be->opts))
		return -1;

	/* look the Service up with a scratch entry past the last one */
	rs->svc[rs->nsvc] = key;
	found = ht_find(rs, &rs->svc_ht, svc_hash, svc_eq, rs->nsvc, false);
	if (found == -2)
		return no_memory();
	if (found == -1) {
		format_service(&key.id, id, sizeof(id));
		errmsg("service %s has no \"service add\" line above this backend",
		       id);
		return -1;
	}
	be->svc = found;
	found = ht_find(rs, &rs->be_ht, be_hash, be_eq, rs->nbe, true);
	if (found == -2)
		return no_memory();
	if (found >= 0) {
		format_service(&key.id, id, sizeof(id));
		format_endpoint(&be->ep, ep, sizeof(ep));
		errmsg("backend %s of service %s is given twice (first on line %u)",
		       ep, id, rs->be[found].line);
		return -1;
	}
	rs->svc[be->svc].weights += be->opts.set & OPT_BIT(KCIP_A_BE_WEIGHT) ?
				    be->opts.weight : 1;
	if (rs->svc[be->svc].weights > UINT32_MAX) {
		format_service(&key.id, id, sizeof(id));
		errmsg("the weights of service %s's backends add up to more than %" PRIu32,
		       id, UINT32_MAX);
		return -1;
	}
	rs->svc[be->svc].nbe++;
	rs->nbe++;
	return 0;
}

static int parse_line(struct rs *rs, unsigned int line, int argc,
		      char **argv)
{
	bool svc = !strcmp(argv[0], "service");

	if (!svc && strcmp(argv[0], "backend")) {
		errmsg("unknown line start \"%s\" (expected \"service add\" or \"backend add\")",
		       argv[0]);
		return -1;
	}
	if (argc < 2 || strcmp(argv[1], "add")) {
		errmsg("\"%s%s%s\": a restore file has only \"service add\" and \"backend add\" lines",
		       argv[0], argc < 2 ? "" : " ", argc < 2 ? "" : argv[1]);
		return -1;
	}
	if (svc)
		return line_service(rs, line, argc - 2, argv + 2);
	return line_backend(rs, line, argc - 2, argv + 2);
}

static void set_where(struct rs *rs, unsigned int line)
{
	snprintf(rs->where, sizeof(rs->where), "%s:%u: ", rs->file, line);
	errmsg_where = rs->where;
}

/* Read and check the whole of @f. */
static int parse_file(struct rs *rs, FILE *f)
{
	char *buf = NULL, **words = NULL;
	size_t bufcap = 0, wcap = 0;
	unsigned int line = 0;
	int n, ret = 0;

	while (getline(&buf, &bufcap, f) >= 0) {
		line++;
		n = split_words(buf, &words, &wcap);
		if (n < 0) {
			ret = no_memory();
			break;
		}
		if (!n)
			continue;
		set_where(rs, line);
		ret = parse_line(rs, line, n, words);
		errmsg_where = NULL;
		if (ret)
			break;
	}
	if (!ret && ferror(f)) {
		errmsg("%s: read error: %s", rs->file, strerror(errno));
		ret = -1;
	}
	free(buf);
	free(words);
	return ret;
}

/* Each Service's backends together, in the file's order. */
static int group_backends(struct rs *rs)
{
	size_t i;
	uint32_t pos = 0;

	rs->order = malloc((rs->nbe ? rs->nbe : 1) * sizeof(*rs->order));
	if (!rs->order)
		return no_memory();
	for (i = 0; i < rs->nsvc; i++) {
		rs->svc[i].first = pos;
		pos += rs->svc[i].nbe;
		rs->svc[i].nbe = 0;
	}
	for (i = 0; i < rs->nbe; i++) {
		struct rs_svc *s = &rs->svc[rs->be[i].svc];

		rs->order[s->first + s->nbe++] = i;
	}
	return 0;
}

/* ---- sending ---- */

struct sender {
	struct rs *rs;
	struct nl *nl;
	char *buf;
	size_t len;
	struct msg_info info[BATCH_MSGS];
	unsigned int nmsg;
};

/*
 * The line an error is about: the backend's whose nest the kernel pointed
 * at (extack offset), else the Service's.
 */
static unsigned int error_line(struct sender *sd, const struct msg_info *mi)
{
	const struct rs_svc *s = &sd->rs->svc[mi->svc];
	const struct nlmsghdr *nlh =
		(const struct nlmsghdr *)(sd->buf + mi->offset);
	uint32_t offs = nl_err_offset(sd->nl), i = 0;
	const struct nlattr *a, *b, *list = NULL;

	if (!offs || offs >= nlh->nlmsg_len)
		return s->line;
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) != KCIP_A_SERVICE)
			continue;
		mnl_attr_for_each_nested(b, a)
			if (mnl_attr_get_type(b) == KCIP_A_SVC_BACKENDS)
				list = b;
	}
	if (!list)
		return s->line;
	mnl_attr_for_each_nested(b, list) {
		size_t start = (const char *)b - (const char *)nlh;

		if (offs >= start && offs < start + MNL_ALIGN(b->nla_len))
			return sd->rs->be[sd->rs->order[s->first + mi->be_from +
							i]].line;
		i++;
	}
	return s->line;
}

static int flush_batch(struct sender *sd)
{
	struct nlmsghdr *last;
	unsigned int err_seq = 0, i;
	int ret;

	if (!sd->nmsg)
		return 0;
	last = (struct nlmsghdr *)(sd->buf + sd->info[sd->nmsg - 1].offset);
	last->nlmsg_flags |= NLM_F_ACK;
	ret = nl_batch(sd->nl, sd->buf, sd->len, last->nlmsg_seq, &err_seq);
	if (ret) {
		for (i = 0; i < sd->nmsg; i++) {
			if (sd->info[i].seq != err_seq)
				continue;
			set_where(sd->rs, error_line(sd, &sd->info[i]));
			break;
		}
		nl_perror(sd->nl, ret);
		errmsg_where = NULL;
		return -1;
	}
	sd->len = 0;
	sd->nmsg = 0;
	return 0;
}

/* RESTORE_SERVICE messages for Service @i, as many as its backends need. */
static int send_service(struct sender *sd, uint32_t i)
{
	const struct rs_svc *s = &sd->rs->svc[i];
	struct nlattr *nest, *list;
	struct nlmsghdr *nlh;
	uint32_t pos = 0;
	bool append = false;

	do {
		struct msg_info *mi;

		if (sd->nmsg == BATCH_MSGS || sd->len + MSG_MAX > BATCH_SIZE)
			if (flush_batch(sd))
				return -1;
		nlh = nl_msg_at(sd->nl, sd->buf + sd->len,
				KCIP_CMD_RESTORE_SERVICE, 0);
		mi = &sd->info[sd->nmsg++];
		mi->seq = nlh->nlmsg_seq;
		mi->svc = i;
		mi->be_from = pos;
		mi->offset = sd->len;
		if (append)
			mnl_attr_put_u32(nlh, KCIP_A_FLAGS, KCIP_OP_F_APPEND);
		nest = mnl_attr_nest_start(nlh, KCIP_A_SERVICE);
		nl_put_svc_id(nlh, &s->id);
		nl_put_svc_opts(nlh, &s->opts, false);
		if (s->nbe) {
			list = mnl_attr_nest_start(nlh, KCIP_A_SVC_BACKENDS);
			while (pos < s->nbe &&
			       nlh->nlmsg_len + BE_NEST_MAX + 8 <= MSG_MAX) {
				const struct rs_be *be =
					&sd->rs->be[sd->rs->order[s->first + pos]];

				nl_put_backend(nlh, &be->ep, &be->opts, false);
				pos++;
			}
			mnl_attr_nest_end(nlh, list);
		}
		mnl_attr_nest_end(nlh, nest);
		sd->len += MNL_ALIGN(nlh->nlmsg_len);
		append = true;
	} while (pos < s->nbe);
	return 0;
}

struct commit_reply {
	bool have_counts, have_generation;
	struct restore_counts c;
	uint64_t generation;
};

static int commit_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KCIP_A_MAX + 1] = { NULL };
	struct commit_reply *r = data;

	if (attr_parse_msg(nlh, tb))
		return MNL_CB_OK;
	if (tb[KCIP_A_GENERATION]) {
		r->generation = mnl_attr_get_u64(tb[KCIP_A_GENERATION]);
		r->have_generation = true;
	}
	if (tb[KCIP_A_RESTORE] && !attr_parse_restore(tb[KCIP_A_RESTORE], &r->c))
		r->have_counts = true;
	return MNL_CB_OK;
}

static void print_summary(const struct opts *o, const struct commit_reply *r)
{
	const struct restore_counts *c = &r->c;
	struct json j;

	if (o->json) {
		json_init(&j, stdout);
		json_obj_open(&j, NULL);
		if (r->have_counts) {
			json_u64(&j, "added", c->added);
			json_u64(&j, "changed", c->changed);
			json_u64(&j, "deleted", c->deleted);
			json_u64(&j, "unchanged", c->unchanged);
			json_u64(&j, "services", c->services);
			json_u64(&j, "backends", c->backends);
		}
		if (r->have_generation)
			json_u64(&j, "generation", r->generation);
		json_obj_close(&j);
		json_end(&j);
		return;
	}
	if (!r->have_counts) {
		puts("restore: committed");
		return;
	}
	printf("restore: %" PRIu32 " added, %" PRIu32 " changed, %" PRIu32
	       " deleted, %" PRIu32 " unchanged; %" PRIu32 " services, %"
	       PRIu32 " backends", c->added, c->changed, c->deleted,
	       c->unchanged, c->services, c->backends);
	if (r->have_generation)
		printf(", generation %" PRIu64, r->generation);
	putchar('\n');
}

static int send_all(const struct opts *o, struct rs *rs)
{
	struct sender sd = { .rs = rs };
	struct commit_reply reply = { 0 };
	struct nlmsghdr *nlh;
	uint32_t i;
	int ret = -1;

	sd.buf = malloc(BATCH_SIZE);
	if (!sd.buf)
		return no_memory();
	sd.nl = nl_open(o->netns);
	if (!sd.nl)
		goto out;
	nl_set_rcvbuf(sd.nl, RCVBUF_SIZE);

	nlh = nl_msg(sd.nl, KCIP_CMD_RESTORE_BEGIN, 0);
	ret = nl_do(sd.nl, nlh);
	if (ret) {
		nl_perror(sd.nl, ret);
		goto out;
	}
	ret = -1;
	for (i = 0; i < rs->nsvc; i++)
		if (send_service(&sd, i))
			goto out;
	if (flush_batch(&sd))
		goto out;

	nlh = nl_msg(sd.nl, KCIP_CMD_RESTORE_COMMIT, 0);
	ret = nl_request(sd.nl, nlh, commit_cb, &reply);
	if (ret) {
		nl_perror(sd.nl, ret);
		goto out;
	}
	if (o->stats || o->json)
		print_summary(o, &reply);
out:
	/* closing the socket drops a stage left open */
	nl_close(sd.nl);
	free(sd.buf);
	return ret ? -1 : 0;
}

/*
 * Read @f (named @name in messages), check it, stage and commit it.
 * Returns 0 or -1, errors printed.
 */
int restore_stream(const struct opts *o, FILE *f, const char *name)
{
	struct rs rs;
	int ret;

	memset(&rs, 0, sizeof(rs));
	rs.file = name;
	ret = parse_file(&rs, f);
	if (!ret)
		ret = group_backends(&rs);
	if (!ret)
		ret = send_all(o, &rs);
	rs_free(&rs);
	return ret;
}

int do_restore(const struct opts *o, int argc, char **argv)
{
	const char *path = "-";
	const char *name;
	FILE *f;
	int ret;

	if (argc >= 1 && is_help(argv[0])) {
		usage_restore(stdout);
		return 0;
	}
	if (argc >= 1)
		path = argv[0];
	if (argc > 1) {
		errmsg("unexpected argument \"%s\" after FILE", argv[1]);
		return EXIT_FAIL;
	}

	if (!strcmp(path, "-")) {
		if (o->batch && !strcmp(o->batch, "-")) {
			errmsg("standard input holds the batch: restore FILE instead");
			return EXIT_FAIL;
		}
		name = "<stdin>";
		f = stdin;
	} else {
		name = path;
		f = fopen(path, "r");
		if (!f) {
			errmsg("cannot open %s: %s", path, strerror(errno));
			return EXIT_FAIL;
		}
	}
	ret = restore_stream(o, f, name);
	if (f != stdin)
		fclose(f);
	return ret ? EXIT_FAIL : 0;
}

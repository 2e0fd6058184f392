// SPDX-License-Identifier: GPL-2.0
/*
 * A fake "kclusterip" generic netlink family for testing kcipctl without the
 * module: LD_PRELOAD it and every NETLINK_GENERIC socket talks to this file
 * instead of the kernel.  It follows the uapi header: strict attribute
 * lengths, NLA_F_NESTED required, extack messages on errors, dumps split
 * over several messages, NLM_F_DUMP_INTR on demand, several requests per
 * send handled in order (errors answered even without NLM_F_ACK), restore
 * stages owned by the socket, explain, and "monitor" events.
 *
 * Environment:
 *   FAKE_STATE=FILE    state kept between runs (required)
 *   FAKE_LOG=FILE      one decoded line per request is appended
 *   FAKE_EVENTS=FILE   every change appends its "monitor" event here; a
 *                      socket that joins the group gets them all, then
 *                      SIGTERM when it waits for more
 *   FAKE_NOFAMILY=1    the family does not exist (ENOENT)
 *   FAKE_NOGROUP=1     the family has no multicast group
 *   FAKE_EPERM=1       every change fails with EPERM, without extack
 *   FAKE_SPLIT=N       at most N backends per dump message (default 2)
 *   FAKE_INTR=N        flag the first N dumps NLM_F_DUMP_INTR
 *   FAKE_STATS=1       counters are non-zero
 *   FAKE_GENHDR=1      dumps start with a message of KCIP_A_GENERATION only
 *   FAKE_REFUSE_PORT=N RESTORE_SERVICE of a Service on port N is refused
 *   FAKE_REFUSE_BE=N   RESTORE_SERVICE with a backend on port N is refused,
 *                      extack pointing at that backend's nest
 *   FAKE_AFFINITY=1    explain: client-IP affinity Services have an entry
 *   FAKE_QUARANTINED=N explain: N eligible backends of a Service with
 *                      retry on are quarantined
 *   FAKE_MAXMSG=N      refuse requests longer than N bytes (default 32768)
 *
 * Test code only: single socket, single thread, no bounds on fun.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/kclusterip.h>

#define FAMILY_ID	0x42
#define GROUP_ID	7
#define FAKE_PORTID	4242

struct fbe {
	unsigned char addr[16];
	uint16_t port;			/* network order */
	uint32_t weight, flags;
	uint8_t state;
};

struct fsvc {
	uint16_t family;
	uint8_t proto;
	unsigned char addr[16];
	uint16_t port;			/* network order */
	uint8_t sched, affinity, tp, noep;
	uint32_t timeout, quarantine, flags;
	int nbe, cap;
	struct fbe *be;
};

struct fstate {
	uint64_t generation;
	int dumps;
	int nsvc, cap;
	struct fsvc *svc;
};

static struct fstate st;
static struct fstate *stage;	/* open restore, NULL if none */
static int stage_last = -1;	/* what KCIP_OP_F_APPEND extends */
static int fake_fd = -1;
static bool subscribed;
static char **queue;
static size_t *queue_len;
static int qhead, qtail, qcap;
static char out[1 << 17];	/* reply being built */

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

static void state_free(struct fstate *s)
{
	int i;

	for (i = 0; i < s->nsvc; i++)
		free(s->svc[i].be);
	free(s->svc);
	memset(s, 0, sizeof(*s));
}

static struct fsvc *svc_new(struct fstate *s)
{
	struct fsvc *v;

	if (s->nsvc == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->svc = xrealloc(s->svc, s->cap * sizeof(*s->svc));
	}
	v = &s->svc[s->nsvc++];
	memset(v, 0, sizeof(*v));
	return v;
}

static struct fbe *be_new(struct fsvc *v)
{
	if (v->nbe == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 8;
		v->be = xrealloc(v->be, v->cap * sizeof(*v->be));
	}
	memset(&v->be[v->nbe], 0, sizeof(v->be[0]));
	return &v->be[v->nbe++];
}

static void load(void)
{
	FILE *f = fopen(getenv("FAKE_STATE"), "r");
	struct fsvc v;
	int i, n;

	state_free(&st);
	if (!f)
		return;
	if (fread(&st.generation, sizeof(st.generation), 1, f) != 1 ||
	    fread(&st.dumps, sizeof(st.dumps), 1, f) != 1 ||
	    fread(&n, sizeof(n), 1, f) != 1)
		n = 0;
	for (i = 0; i < n; i++) {
		struct fsvc *s;

		if (fread(&v, sizeof(v), 1, f) != 1)
			break;
		s = svc_new(&st);
		*s = v;
		s->cap = s->nbe;
		s->be = xrealloc(NULL, s->nbe * sizeof(*s->be));
		if (s->nbe && fread(s->be, sizeof(*s->be), s->nbe, f) !=
			      (size_t)s->nbe)
			s->nbe = 0;
	}
	fclose(f);
}

static void save(void)
{
	FILE *f = fopen(getenv("FAKE_STATE"), "w");
	int i;

	if (!f)
		return;
	fwrite(&st.generation, sizeof(st.generation), 1, f);
	fwrite(&st.dumps, sizeof(st.dumps), 1, f);
	fwrite(&st.nsvc, sizeof(st.nsvc), 1, f);
	for (i = 0; i < st.nsvc; i++) {
		fwrite(&st.svc[i], sizeof(st.svc[i]), 1, f);
		fwrite(st.svc[i].be, sizeof(struct fbe), st.svc[i].nbe, f);
	}
	fclose(f);
}

static void logp(const char *fmt, ...)
{
	const char *path = getenv("FAKE_LOG");
	va_list ap;
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "a");
	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void push(const void *buf, size_t len)
{
	if (qhead == qtail)
		qhead = qtail = 0;
	if (qtail == qcap) {
		qcap = qcap ? 2 * qcap : 64;
		queue = xrealloc(queue, qcap * sizeof(*queue));
		queue_len = xrealloc(queue_len, qcap * sizeof(*queue_len));
	}
	queue[qtail] = xrealloc(NULL, len);
	memcpy(queue[qtail], buf, len);
	queue_len[qtail++] = len;
}

static struct nlmsghdr *reply_start(const struct nlmsghdr *req, char *buf,
				    uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = req ? req->nlmsg_seq : 0;
	nlh->nlmsg_pid = req ? FAKE_PORTID : 0;
	return nlh;
}

static const char *bad;		/* extack of a failure */
static uint32_t bad_offs;	/* extack offset of the bad attribute */

/*
 * ACK or error, capped, with an extack message if @msg; as the kernel
 * does, only errors are answered to a request without NLM_F_ACK.
 */
static void ack(const struct nlmsghdr *req, int error, const char *msg)
{
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;

	logp(" -> %d%s%s\n", error, msg ? " " : "", msg ? msg : "");
	if (!error && !(req->nlmsg_flags & NLM_F_ACK))
		return;
	nlh = reply_start(req, out, NLMSG_ERROR, NLM_F_CAPPED);
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg = *req;
	if (msg) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
		if (error && bad_offs)
			mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, bad_offs);
	}
	push(out, nlh->nlmsg_len);
}

static void getfamily(const struct nlmsghdr *req)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	struct nlattr *grps, *grp;

	if (getenv("FAKE_NOFAMILY")) {
		ack(req, -ENOENT, NULL);
		return;
	}
	nlh = reply_start(req, out, GENL_ID_CTRL, 0);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_NEWFAMILY;
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, FAMILY_ID);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, KCIP_GENL_NAME);
	if (!getenv("FAKE_NOGROUP")) {
		grps = mnl_attr_nest_start(nlh, CTRL_ATTR_MCAST_GROUPS);
		grp = mnl_attr_nest_start(nlh, 1);
		mnl_attr_put_strz(nlh, CTRL_ATTR_MCAST_GRP_NAME,
				  KCIP_MCGRP_MONITOR);
		mnl_attr_put_u32(nlh, CTRL_ATTR_MCAST_GRP_ID, GROUP_ID);
		mnl_attr_nest_end(nlh, grp);
		mnl_attr_nest_end(nlh, grps);
	}
	push(out, nlh->nlmsg_len);
	ack(req, 0, NULL);
}

/* Exact payload lengths, as NL_VALIDATE_STRICT would check. */
static const int svc_len[KCIP_A_SVC_MAX + 1] = {
	[KCIP_A_SVC_FAMILY] = 2, [KCIP_A_SVC_PROTO] = 1,
	[KCIP_A_SVC_ADDR4] = 4, [KCIP_A_SVC_ADDR6] = 16,
	[KCIP_A_SVC_PORT] = 2, [KCIP_A_SVC_SCHED] = 1,
	[KCIP_A_SVC_AFFINITY] = 1, [KCIP_A_SVC_AFFINITY_TIMEOUT] = 4,
	[KCIP_A_SVC_TRAFFIC_POLICY] = 1, [KCIP_A_SVC_NO_ENDPOINTS] = 1,
	[KCIP_A_SVC_FLAGS] = 4, [KCIP_A_SVC_FLAGS_MASK] = 4,
	[KCIP_A_SVC_QUARANTINE] = 4,
	[KCIP_A_SVC_BACKENDS] = -1,	/* RESTORE_SERVICE only */
};

static const int be_len[KCIP_A_BE_MAX + 1] = {
	[KCIP_A_BE_ADDR4] = 4, [KCIP_A_BE_ADDR6] = 16, [KCIP_A_BE_PORT] = 2,
	[KCIP_A_BE_WEIGHT] = 4, [KCIP_A_BE_STATE] = 1, [KCIP_A_BE_FLAGS] = 4,
	[KCIP_A_BE_FLAGS_MASK] = 4,
};

static const int ex_len[KCIP_A_EXPLAIN_MAX + 1] = {
	[KCIP_A_EXPLAIN_FAMILY] = 2, [KCIP_A_EXPLAIN_PROTO] = 1,
	[KCIP_A_EXPLAIN_SRC4] = 4, [KCIP_A_EXPLAIN_SRC6] = 16,
	[KCIP_A_EXPLAIN_SPORT] = 2, [KCIP_A_EXPLAIN_DST4] = 4,
	[KCIP_A_EXPLAIN_DST6] = 16, [KCIP_A_EXPLAIN_DPORT] = 2,
};

/*
 * Fill @tb from @nest; log each attribute as type=hex.  A length of -1
 * is a nest, logged as its number of members, allowed only if @nests.
 */
static int parse(const struct nlattr *nest, const int *lens, int max,
		 const struct nlattr **tb, const char *name, bool nests)
{
	const struct nlattr *a, *b;
	unsigned int i;

	if (!(nest->nla_type & NLA_F_NESTED)) {
		bad = "NLA_F_NESTED is missing";
		return -1;
	}
	logp(" %s{", name);
	mnl_attr_for_each_nested(a, nest) {
		int t = mnl_attr_get_type(a), n = 0;

		if (t > max || !lens[t] ||
		    (lens[t] > 0 &&
		     mnl_attr_get_payload_len(a) != (unsigned int)lens[t]) ||
		    (lens[t] < 0 && !nests)) {
			bad = "Unknown attribute or bad length";
			return -1;
		}
		if (tb[t]) {
			bad = "Duplicate attribute";
			return -1;
		}
		tb[t] = a;
		if (lens[t] < 0) {
			if (!(a->nla_type & NLA_F_NESTED)) {
				bad = "NLA_F_NESTED is missing";
				return -1;
			}
			mnl_attr_for_each_nested(b, a)
				n++;
			logp(" %d=[%d]", t, n);
			continue;
		}
		logp(" %d=", t);
		for (i = 0; i < mnl_attr_get_payload_len(a); i++)
			logp("%02x", ((unsigned char *)mnl_attr_get_payload(a))[i]);
	}
	logp(" }");
	return 0;
}

static struct fsvc *find_in(struct fstate *s, const struct fsvc *key)
{
	int i;

	for (i = 0; i < s->nsvc; i++)
		if (s->svc[i].family == key->family &&
		    s->svc[i].proto == key->proto &&
		    s->svc[i].port == key->port &&
		    !memcmp(s->svc[i].addr, key->addr, 16))
			return &s->svc[i];
	return NULL;
}

static struct fsvc *find_svc(const struct nlattr **tb, struct fsvc *key)
{
	memset(key, 0, sizeof(*key));
	if (!tb[KCIP_A_SVC_FAMILY] || !tb[KCIP_A_SVC_PROTO] ||
	    !tb[KCIP_A_SVC_PORT]) {
		bad = "Service identity incomplete";
		return NULL;
	}
	key->family = mnl_attr_get_u16(tb[KCIP_A_SVC_FAMILY]);
	key->proto = mnl_attr_get_u8(tb[KCIP_A_SVC_PROTO]);
	key->port = mnl_attr_get_u16(tb[KCIP_A_SVC_PORT]);
	if (key->family == AF_INET && tb[KCIP_A_SVC_ADDR4] &&
	    !tb[KCIP_A_SVC_ADDR6])
		memcpy(key->addr, mnl_attr_get_payload(tb[KCIP_A_SVC_ADDR4]), 4);
	else if (key->family == AF_INET6 && tb[KCIP_A_SVC_ADDR6] &&
		 !tb[KCIP_A_SVC_ADDR4])
		memcpy(key->addr, mnl_attr_get_payload(tb[KCIP_A_SVC_ADDR6]), 16);
	else {
		bad = "Address does not match family";
		return NULL;
	}
	return find_in(&st, key);
}

static int apply_svc(struct fsvc *s, const struct nlattr **tb, bool set)
{
	uint32_t mask = __KCIP_SVC_F_ALL;

	if (tb[KCIP_A_SVC_FLAGS_MASK] && !set) {
		bad = "FLAGS_MASK only with SET";
		return -EINVAL;
	}
	if (set && tb[KCIP_A_SVC_FLAGS]) {
		if (!tb[KCIP_A_SVC_FLAGS_MASK]) {
			bad = "FLAGS without FLAGS_MASK";
			return -EINVAL;
		}
		mask = mnl_attr_get_u32(tb[KCIP_A_SVC_FLAGS_MASK]);
	}
	if (tb[KCIP_A_SVC_SCHED])
		s->sched = mnl_attr_get_u8(tb[KCIP_A_SVC_SCHED]);
	if (tb[KCIP_A_SVC_AFFINITY])
		s->affinity = mnl_attr_get_u8(tb[KCIP_A_SVC_AFFINITY]);
	if (tb[KCIP_A_SVC_AFFINITY_TIMEOUT])
		s->timeout = mnl_attr_get_u32(tb[KCIP_A_SVC_AFFINITY_TIMEOUT]);
	if (tb[KCIP_A_SVC_TRAFFIC_POLICY])
		s->tp = mnl_attr_get_u8(tb[KCIP_A_SVC_TRAFFIC_POLICY]);
	if (tb[KCIP_A_SVC_NO_ENDPOINTS])
		s->noep = mnl_attr_get_u8(tb[KCIP_A_SVC_NO_ENDPOINTS]);
	if (tb[KCIP_A_SVC_QUARANTINE])
		s->quarantine = mnl_attr_get_u32(tb[KCIP_A_SVC_QUARANTINE]);
	if (tb[KCIP_A_SVC_FLAGS])
		s->flags = (s->flags & ~mask) |
			   (mnl_attr_get_u32(tb[KCIP_A_SVC_FLAGS]) & mask);
	return 0;
}

static int be_key(const struct fsvc *s, const struct nlattr **tb,
		  struct fbe *key)
{
	memset(key, 0, sizeof(*key));
	if (s->family == AF_INET && tb[KCIP_A_BE_ADDR4])
		memcpy(key->addr, mnl_attr_get_payload(tb[KCIP_A_BE_ADDR4]), 4);
	else if (s->family == AF_INET6 && tb[KCIP_A_BE_ADDR6])
		memcpy(key->addr, mnl_attr_get_payload(tb[KCIP_A_BE_ADDR6]), 16);
	else {
		bad = "Backend address does not match the Service's family";
		return -1;
	}
	if (!tb[KCIP_A_BE_PORT]) {
		bad = "Backend port missing";
		return -1;
	}
	key->port = mnl_attr_get_u16(tb[KCIP_A_BE_PORT]);
	return 0;
}

static struct fbe *find_be(struct fsvc *s, const struct fbe *key)
{
	int i;

	for (i = 0; i < s->nbe; i++)
		if (s->be[i].port == key->port &&
		    !memcmp(s->be[i].addr, key->addr, 16))
			return &s->be[i];
	return NULL;
}

/* ---- "monitor" events, as the kernel builds them ---- */

static void put_ident(struct nlmsghdr *nlh, const struct fsvc *s)
{
	mnl_attr_put_u16(nlh, KCIP_A_SVC_FAMILY, s->family);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PROTO, s->proto);
	if (s->family == AF_INET)
		mnl_attr_put(nlh, KCIP_A_SVC_ADDR4, 4, s->addr);
	else
		mnl_attr_put(nlh, KCIP_A_SVC_ADDR6, 16, s->addr);
	mnl_attr_put_u16(nlh, KCIP_A_SVC_PORT, s->port);
}

static void put_opts(struct nlmsghdr *nlh, const struct fsvc *s)
{
	mnl_attr_put_u8(nlh, KCIP_A_SVC_SCHED, s->sched);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_AFFINITY, s->affinity);
	mnl_attr_put_u32(nlh, KCIP_A_SVC_AFFINITY_TIMEOUT, s->timeout);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_TRAFFIC_POLICY, s->tp);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_NO_ENDPOINTS, s->noep);
	mnl_attr_put_u32(nlh, KCIP_A_SVC_FLAGS, s->flags);
	mnl_attr_put_u32(nlh, KCIP_A_SVC_QUARANTINE, s->quarantine);
}

static void put_svc(struct nlmsghdr *nlh, const struct fsvc *s, bool opts)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, KCIP_A_SERVICE);

	put_ident(nlh, s);
	if (opts)
		put_opts(nlh, s);
	mnl_attr_nest_end(nlh, n);
}

static void put_be(struct nlmsghdr *nlh, const struct fsvc *s,
		   const struct fbe *be)
{
	struct nlattr *b = mnl_attr_nest_start(nlh, KCIP_A_BACKEND);

	if (s->family == AF_INET)
		mnl_attr_put(nlh, KCIP_A_BE_ADDR4, 4, be->addr);
	else
		mnl_attr_put(nlh, KCIP_A_BE_ADDR6, 16, be->addr);
	mnl_attr_put_u16(nlh, KCIP_A_BE_PORT, be->port);
	mnl_attr_put_u32(nlh, KCIP_A_BE_WEIGHT, be->weight);
	mnl_attr_put_u8(nlh, KCIP_A_BE_STATE, be->state);
	mnl_attr_put_u32(nlh, KCIP_A_BE_FLAGS, be->flags);
	mnl_attr_nest_end(nlh, b);
}

static char evbuf[4096];

static struct nlmsghdr *event_start(uint8_t cmd, uint64_t generation)
{
	struct nlmsghdr *nlh = reply_start(NULL, evbuf, FAMILY_ID, 0);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	g->cmd = cmd;
	g->version = KCIP_GENL_VERSION;
	mnl_attr_put_u64(nlh, KCIP_A_GENERATION, generation);
	return nlh;
}

static void event_end(struct nlmsghdr *nlh)
{
	const char *path = getenv("FAKE_EVENTS");
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "a");
	if (!f)
		return;
	fwrite(nlh, 1, nlh->nlmsg_len, f);
	fclose(f);
}

/* The event of the change @cmd just made (generation already bumped). */
static void notify(uint8_t cmd, const struct fsvc *s, const struct fbe *be)
{
	struct nlmsghdr *nlh = event_start(cmd, st.generation + 1);

	if (s)
		put_svc(nlh, s, cmd == KCIP_CMD_SERVICE_NEW ||
				cmd == KCIP_CMD_SERVICE_SET);
	if (be)
		put_be(nlh, s, be);
	event_end(nlh);
}

/* Events recorded so far, two per datagram: for a socket joining. */
static void replay_events(void)
{
	const char *path = getenv("FAKE_EVENTS");
	static char buf[1 << 16];
	size_t len, used = 0, start = 0;
	int n = 0;
	FILE *f;

	if (!path || !(f = fopen(path, "r")))
		return;
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	while (used + sizeof(struct nlmsghdr) <= len) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(buf + used);

		if (nlh->nlmsg_len < sizeof(*nlh) ||
		    nlh->nlmsg_len > len - used)
			break;
		used += NLMSG_ALIGN(nlh->nlmsg_len);
		if (++n % 2 == 0) {
			push(buf + start, used - start);
			start = used;
		}
	}
	if (used > start)
		push(buf + start, used - start);
}

/* ---- single changes ---- */

static int do_cmd(const struct nlmsghdr *req, uint8_t cmd,
		  const struct nlattr **top)
{
	const struct nlattr *stb[KCIP_A_SVC_MAX + 1] = { 0 };
	const struct nlattr *btb[KCIP_A_BE_MAX + 1] = { 0 };
	struct fsvc key, *s;
	struct fbe bkey, *b;
	uint32_t mask;
	int err;

	(void)req;
	if (cmd == KCIP_CMD_FLUSH) {
		notify(cmd, NULL, NULL);
		for (int i = 0; i < st.nsvc; i++)
			free(st.svc[i].be);
		st.nsvc = 0;
		return 0;
	}
	if (!top[KCIP_A_SERVICE]) {
		bad = "Service missing";
		return -EINVAL;
	}
	if (parse(top[KCIP_A_SERVICE], svc_len, KCIP_A_SVC_MAX, stb, "svc",
		  false))
		return -EINVAL;
	s = find_svc(stb, &key);
	if (bad)
		return -EINVAL;

	switch (cmd) {
	case KCIP_CMD_SERVICE_NEW:
		if (s) {
			bad = "Service already exists";
			return -EEXIST;
		}
		key.timeout = KCIP_DEFAULT_AFFINITY_TIMEOUT;
		key.quarantine = KCIP_DEFAULT_QUARANTINE;
		if (apply_svc(&key, stb, false))
			return -EINVAL;
		*svc_new(&st) = key;
		notify(cmd, &key, NULL);
		return 0;
	case KCIP_CMD_SERVICE_SET:
		if (!s) {
			bad = "No such Service";
			return -ENOENT;
		}
		err = apply_svc(s, stb, true);
		if (!err)
			notify(cmd, s, NULL);
		return err;
	case KCIP_CMD_SERVICE_DEL:
		if (!s) {
			bad = "No such Service";
			return -ENOENT;
		}
		notify(cmd, s, NULL);
		free(s->be);
		*s = st.svc[--st.nsvc];
		return 0;
	}

	/* backends */
	if (!s) {
		bad = "No such Service";
		return -ENOENT;
	}
	if (!top[KCIP_A_BACKEND]) {
		bad = "Backend missing";
		return -EINVAL;
	}
	if (parse(top[KCIP_A_BACKEND], be_len, KCIP_A_BE_MAX, btb, "be",
		  false))
		return -EINVAL;
	if (be_key(s, btb, &bkey))
		return -EINVAL;
	b = find_be(s, &bkey);
	switch (cmd) {
	case KCIP_CMD_BACKEND_NEW:
		if (b) {
			bad = "Backend already exists";
			return -EEXIST;
		}
		if (btb[KCIP_A_BE_FLAGS_MASK]) {
			bad = "FLAGS_MASK only with SET";
			return -EINVAL;
		}
		b = be_new(s);
		*b = bkey;
		b->weight = 1;
		break;
	case KCIP_CMD_BACKEND_SET:
		if (!b) {
			bad = "No such backend";
			return -ENOENT;
		}
		break;
	case KCIP_CMD_BACKEND_DEL:
		if (!b) {
			bad = "No such backend";
			return -ENOENT;
		}
		notify(cmd, s, b);
		*b = s->be[--s->nbe];
		return 0;
	default:
		bad = "Unknown command";
		return -EOPNOTSUPP;
	}
	if (btb[KCIP_A_BE_WEIGHT])
		b->weight = mnl_attr_get_u32(btb[KCIP_A_BE_WEIGHT]);
	if (btb[KCIP_A_BE_STATE])
		b->state = mnl_attr_get_u8(btb[KCIP_A_BE_STATE]);
	if (btb[KCIP_A_BE_FLAGS]) {
		mask = btb[KCIP_A_BE_FLAGS_MASK] ?
		       mnl_attr_get_u32(btb[KCIP_A_BE_FLAGS_MASK]) : ~0U;
		b->flags = (b->flags & ~mask) |
			   (mnl_attr_get_u32(btb[KCIP_A_BE_FLAGS]) & mask);
	}
	notify(cmd, s, b);
	return 0;
}

/* ---- restore ---- */

static void stage_drop(void)
{
	if (stage) {
		state_free(stage);
		free(stage);
	}
	stage = NULL;
	stage_last = -1;
}

static int no_stage(void)
{
	bad = "No restore is open on this socket (RESTORE_BEGIN first)";
	return -ENOENT;
}

static bool same_opts(const struct fsvc *a, const struct fsvc *b)
{
	return a->sched == b->sched && a->affinity == b->affinity &&
	       a->tp == b->tp && a->noep == b->noep &&
	       a->timeout == b->timeout && a->quarantine == b->quarantine &&
	       a->flags == b->flags;
}

static int restore_service(const struct nlmsghdr *req,
			   const struct nlattr **top)
{
	const struct nlattr *stb[KCIP_A_SVC_MAX + 1] = { 0 };
	const struct nlattr *a;
	const char *refuse_be = getenv("FAKE_REFUSE_BE");
	const char *refuse = getenv("FAKE_REFUSE_PORT");
	struct fsvc key, *s;
	bool append = false;
	int n = 0;

	if (top[KCIP_A_FLAGS])
		append = mnl_attr_get_u32(top[KCIP_A_FLAGS]) & KCIP_OP_F_APPEND;
	if (!top[KCIP_A_SERVICE]) {
		bad = "Service missing";
		return -EINVAL;
	}
	if (parse(top[KCIP_A_SERVICE], svc_len, KCIP_A_SVC_MAX, stb, "svc",
		  true))
		return -EINVAL;
	find_svc(stb, &key);
	if (bad)
		return -EINVAL;
	if (stb[KCIP_A_SVC_FLAGS_MASK]) {
		bad = "FLAGS_MASK is not for a restore";
		return -EINVAL;
	}
	if (!stage)
		return no_stage();
	key.timeout = KCIP_DEFAULT_AFFINITY_TIMEOUT;
	key.quarantine = KCIP_DEFAULT_QUARANTINE;
	apply_svc(&key, stb, false);
	if (refuse && ntohs(key.port) == atoi(refuse)) {
		bad = "Refused by the fake kernel";
		return -EINVAL;
	}

	s = find_in(stage, &key);
	if (append) {
		if (!s || s - stage->svc != stage_last || !same_opts(s, &key)) {
			bad = "Only the Service staged last, with the same options, can take more backends";
			return -EINVAL;
		}
	} else {
		if (s) {
			bad = "Service given twice";
			return -EEXIST;
		}
		s = svc_new(stage);
		*s = key;
		stage_last = s - stage->svc;
	}
	if (!stb[KCIP_A_SVC_BACKENDS])
		return 0;
	mnl_attr_for_each_nested(a, stb[KCIP_A_SVC_BACKENDS]) {
		const struct nlattr *btb[KCIP_A_BE_MAX + 1] = { 0 };
		struct fbe bkey;

		if (mnl_attr_get_type(a) != KCIP_A_BACKEND) {
			bad = "Not a backend";
			return -EINVAL;
		}
		if (parse(a, be_len, KCIP_A_BE_MAX, btb, "be", false))
			return -EINVAL;
		if (btb[KCIP_A_BE_FLAGS_MASK]) {
			bad = "FLAGS_MASK is not for a restore";
			return -EINVAL;
		}
		if (be_key(s, btb, &bkey))
			return -EINVAL;
		if (refuse_be && ntohs(bkey.port) == atoi(refuse_be)) {
			bad = "Backend refused by the fake kernel";
			bad_offs = (const char *)a - (const char *)req;
			return -EINVAL;
		}
		bkey.weight = btb[KCIP_A_BE_WEIGHT] ?
			      mnl_attr_get_u32(btb[KCIP_A_BE_WEIGHT]) : 1;
		if (btb[KCIP_A_BE_STATE])
			bkey.state = mnl_attr_get_u8(btb[KCIP_A_BE_STATE]);
		if (btb[KCIP_A_BE_FLAGS])
			bkey.flags = mnl_attr_get_u32(btb[KCIP_A_BE_FLAGS]);
		*be_new(s) = bkey;
		n++;
	}
	logp(" staged=%d", n);
	return 0;
}

static int cmp_be(const void *x, const void *y)
{
	const struct fbe *a = x, *b = y;
	int r = memcmp(a->addr, b->addr, 16);

	return r ? r : (int)a->port - (int)b->port;
}

static bool same_svc(struct fsvc *a, struct fsvc *b)
{
	int i;

	if (!same_opts(a, b) || a->nbe != b->nbe)
		return false;
	qsort(a->be, a->nbe, sizeof(*a->be), cmp_be);
	qsort(b->be, b->nbe, sizeof(*b->be), cmp_be);
	for (i = 0; i < a->nbe; i++)
		if (cmp_be(&a->be[i], &b->be[i]) ||
		    a->be[i].weight != b->be[i].weight ||
		    a->be[i].state != b->be[i].state ||
		    a->be[i].flags != b->be[i].flags)
			return false;
	return true;
}

static void restore_commit(const struct nlmsghdr *req)
{
	uint32_t added = 0, changed = 0, unchanged = 0, backends = 0;
	struct nlmsghdr *nlh;
	struct nlattr *n;
	struct fsvc *old;
	int i, j;

	bad = NULL;
	if (!stage) {
		ack(req, no_stage(), bad);
		return;
	}
	for (i = 0; i < stage->nsvc; i++) {
		struct fsvc *s = &stage->svc[i];

		qsort(s->be, s->nbe, sizeof(*s->be), cmp_be);
		for (j = 1; j < s->nbe; j++)
			if (!cmp_be(&s->be[j - 1], &s->be[j])) {
				stage_drop();
				ack(req, -EINVAL,
				    "A backend is given twice in one Service");
				return;
			}
		backends += s->nbe;
		old = find_in(&st, s);
		if (!old)
			added++;
		else if (same_svc(old, s))
			unchanged++;
		else
			changed++;
	}
	stage->generation = st.generation + 1;
	stage->dumps = st.dumps;

	nlh = event_start(KCIP_CMD_RESTORE_COMMIT, stage->generation);
	n = mnl_attr_nest_start(nlh, KCIP_A_RESTORE);
	mnl_attr_put_u32(nlh, KCIP_A_RESTORE_ADDED, added);
	mnl_attr_put_u32(nlh, KCIP_A_RESTORE_CHANGED, changed);
	mnl_attr_put_u32(nlh, KCIP_A_RESTORE_DELETED,
			 st.nsvc - changed - unchanged);
	mnl_attr_put_u32(nlh, KCIP_A_RESTORE_UNCHANGED, unchanged);
	mnl_attr_put_u32(nlh, KCIP_A_RESTORE_SERVICES, stage->nsvc);
	mnl_attr_put_u32(nlh, KCIP_A_RESTORE_BACKENDS, backends);
	mnl_attr_nest_end(nlh, n);
	event_end(nlh);

	/* the reply is the event, addressed to the requester */
	nlh->nlmsg_seq = req->nlmsg_seq;
	nlh->nlmsg_pid = FAKE_PORTID;
	push(nlh, nlh->nlmsg_len);

	state_free(&st);
	st = *stage;
	free(stage);
	stage = NULL;
	stage_last = -1;
	save();
	ack(req, 0, NULL);
}

/* ---- explain ---- */

static bool eligible(const struct fsvc *s, const struct fbe *b, uint8_t state)
{
	return b->weight && b->state == state &&
	       (s->tp != KCIP_TRAFFIC_POLICY_LOCAL ||
		(b->flags & KCIP_BE_F_LOCAL));
}

static void explain(const struct nlmsghdr *req, const struct nlattr **top)
{
	const struct nlattr *tb[KCIP_A_EXPLAIN_MAX + 1] = { 0 };
	uint8_t result, state = KCIP_BE_STATE_READY, nodeport = 0, aff = 0;
	const struct fbe *pick = NULL;
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	struct nlattr *n;
	struct fsvc key, *s;
	uint32_t count = 0;
	int i;

	bad = NULL;
	if (!top[KCIP_A_EXPLAIN] ||
	    parse(top[KCIP_A_EXPLAIN], ex_len, KCIP_A_EXPLAIN_MAX, tb, "ex",
		  false)) {
		ack(req, -EINVAL, bad ? bad : "Explain missing");
		return;
	}
	if (!tb[KCIP_A_EXPLAIN_FAMILY] || !tb[KCIP_A_EXPLAIN_PROTO] ||
	    !tb[KCIP_A_EXPLAIN_SPORT] || !tb[KCIP_A_EXPLAIN_DPORT]) {
		ack(req, -EINVAL,
		    "A flow needs a family, a protocol, addresses and ports");
		return;
	}
	memset(&key, 0, sizeof(key));
	key.family = mnl_attr_get_u16(tb[KCIP_A_EXPLAIN_FAMILY]);
	key.proto = mnl_attr_get_u8(tb[KCIP_A_EXPLAIN_PROTO]);
	key.port = mnl_attr_get_u16(tb[KCIP_A_EXPLAIN_DPORT]);
	if (key.family == AF_INET && tb[KCIP_A_EXPLAIN_DST4] &&
	    tb[KCIP_A_EXPLAIN_SRC4])
		memcpy(key.addr, mnl_attr_get_payload(tb[KCIP_A_EXPLAIN_DST4]), 4);
	else if (key.family == AF_INET6 && tb[KCIP_A_EXPLAIN_DST6] &&
		 tb[KCIP_A_EXPLAIN_SRC6])
		memcpy(key.addr, mnl_attr_get_payload(tb[KCIP_A_EXPLAIN_DST6]), 16);
	else {
		ack(req, -EINVAL, "Exactly one address, of the Service's family, is needed");
		return;
	}
	s = find_in(&st, &key);
	if (!s) {
		memset(key.addr, 0, sizeof(key.addr));
		s = find_in(&st, &key);
		nodeport = !!s;
	}
	if (!s) {
		result = KCIP_EXPLAIN_NO_SERVICE;
	} else {
		for (i = 0; i < s->nbe; i++)
			count += eligible(s, &s->be[i], state);
		if (!count) {
			state = KCIP_BE_STATE_TERMINATING;
			for (i = 0; i < s->nbe; i++)
				count += eligible(s, &s->be[i], state);
		}
		for (i = 0; i < s->nbe && !pick; i++)
			if (eligible(s, &s->be[i], state))
				pick = &s->be[i];
		if (!count)
			result = KCIP_EXPLAIN_NO_ENDPOINTS;
		else if (s->affinity == KCIP_AFFINITY_CLIENTIP &&
			 getenv("FAKE_AFFINITY"))
			result = KCIP_EXPLAIN_BACKEND, aff = 1;
		else if (s->sched != KCIP_SCHED_RANDOM)
			result = KCIP_EXPLAIN_BACKEND;
		else
			result = KCIP_EXPLAIN_ANY;
	}

	nlh = reply_start(req, out, FAMILY_ID, 0);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = KCIP_CMD_EXPLAIN;
	g->version = KCIP_GENL_VERSION;
	n = mnl_attr_nest_start(nlh, KCIP_A_EXPLAIN);
	mnl_attr_put_u8(nlh, KCIP_A_EXPLAIN_RESULT, result);
	mnl_attr_put_u8(nlh, KCIP_A_EXPLAIN_NODEPORT, nodeport);
	mnl_attr_put_u8(nlh, KCIP_A_EXPLAIN_AFFINITY, aff);
	if (s) {
		mnl_attr_put_u32(nlh, KCIP_A_EXPLAIN_ELIGIBLE, count);
		mnl_attr_put_u8(nlh, KCIP_A_EXPLAIN_STATE, state);
		/* FAKE_QUARANTINED=N: N of them are quarantined */
		if (s->flags & KCIP_SVC_F_RETRY)
			mnl_attr_put_u32(nlh, KCIP_A_EXPLAIN_QUARANTINED,
					 getenv("FAKE_QUARANTINED") ?
					 atoi(getenv("FAKE_QUARANTINED")) : 0);
	}
	mnl_attr_nest_end(nlh, n);
	if (s)
		put_svc(nlh, s, true);
	if (result == KCIP_EXPLAIN_BACKEND)
		put_be(nlh, s, pick);
	push(out, nlh->nlmsg_len);
	ack(req, 0, NULL);
}

/* ---- dumps ---- */

static void put_stats(struct nlmsghdr *nlh, int type, uint64_t base)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, type);

	mnl_attr_put_u64(nlh, KCIP_A_STATS_NEW_FLOWS, base);
	mnl_attr_put_u64(nlh, KCIP_A_STATS_REJECTS, base / 2);
	mnl_attr_put_u64(nlh, KCIP_A_STATS_DROPS, base / 3);
	mnl_attr_nest_end(nlh, n);
}

/* One message: Service @s with backends [from, to). */
static struct nlmsghdr *dump_one(const struct nlmsghdr *req, char *buf,
				 const struct fsvc *s, int from, int to,
				 uint16_t flags)
{
	uint64_t base = getenv("FAKE_STATS") ? 1000 : 0;
	struct nlmsghdr *nlh = reply_start(req, buf, FAMILY_ID,
					   NLM_F_MULTI | flags);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	struct nlattr *n, *l, *b;
	int i;

	g->cmd = KCIP_CMD_SERVICE_GET;
	g->version = KCIP_GENL_VERSION;
	mnl_attr_put_u64(nlh, KCIP_A_GENERATION, st.generation);
	n = mnl_attr_nest_start(nlh, KCIP_A_SERVICE);
	put_ident(nlh, s);
	put_opts(nlh, s);
	mnl_attr_put_u32(nlh, 200, 0xdead);	/* from a newer kernel */
	put_stats(nlh, KCIP_A_SVC_STATS, base);
	l = mnl_attr_nest_start(nlh, KCIP_A_SVC_BACKENDS);
	for (i = from; i < to; i++) {
		const struct fbe *be = &s->be[i];

		b = mnl_attr_nest_start(nlh, KCIP_A_BACKEND);
		if (s->family == AF_INET)
			mnl_attr_put(nlh, KCIP_A_BE_ADDR4, 4, be->addr);
		else
			mnl_attr_put(nlh, KCIP_A_BE_ADDR6, 16, be->addr);
		mnl_attr_put_u16(nlh, KCIP_A_BE_PORT, be->port);
		mnl_attr_put_u32(nlh, KCIP_A_BE_WEIGHT, be->weight);
		mnl_attr_put_u8(nlh, KCIP_A_BE_STATE, be->state);
		mnl_attr_put_u32(nlh, KCIP_A_BE_FLAGS, be->flags);
		put_stats(nlh, KCIP_A_BE_STATS, base + i);
		mnl_attr_nest_end(nlh, b);
	}
	mnl_attr_nest_end(nlh, l);
	mnl_attr_nest_end(nlh, n);
	return nlh;
}

/* Three messages per read, to exercise multi-message buffers. */
static void dump(const struct nlmsghdr *req)
{
	int split = getenv("FAKE_SPLIT") ? atoi(getenv("FAKE_SPLIT")) : 2;
	int intr = getenv("FAKE_INTR") ? atoi(getenv("FAKE_INTR")) : 0;
	uint16_t flags = st.dumps++ < intr ? NLM_F_DUMP_INTR : 0;
	size_t used = 0;
	int i, from, count = 0;
	struct nlmsghdr *nlh;

	const struct nlattr *top[KCIP_A_MAX + 1] = { 0 };
	const struct nlattr *stb[KCIP_A_SVC_MAX + 1] = { 0 };
	const struct nlattr *a;
	struct fsvc key, *only = NULL;

	if (split < 1 || split > 100)
		split = 100;	/* a message stays well under 32 KiB */
	/* a dump of one Service: KCIP_A_SERVICE names it */
	mnl_attr_for_each(a, req, GENL_HDRLEN)
		if (mnl_attr_get_type(a) <= KCIP_A_MAX)
			top[mnl_attr_get_type(a)] = a;
	if (top[KCIP_A_SERVICE]) {
		bad = NULL;
		if (parse(top[KCIP_A_SERVICE], svc_len, KCIP_A_SVC_MAX, stb,
			  "svc", false))
			abort();
		only = find_svc(stb, &key);
		logp(" only %s", only ? "(found)" : "(none)");
	}
	if (getenv("FAKE_GENHDR")) {
		struct genlmsghdr *g;

		nlh = reply_start(req, out, FAMILY_ID, NLM_F_MULTI | flags);
		g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
		g->cmd = KCIP_CMD_SERVICE_GET;
		g->version = KCIP_GENL_VERSION;
		mnl_attr_put_u64(nlh, KCIP_A_GENERATION, st.generation);
		used = nlh->nlmsg_len;
		count++;
	}
	for (i = 0; i < st.nsvc; i++) {
		if (top[KCIP_A_SERVICE] && only != &st.svc[i])
			continue;
		from = 0;
		do {
			int to = from + split < st.svc[i].nbe ?
				 from + split : st.svc[i].nbe;

			nlh = dump_one(req, out + used, &st.svc[i], from, to,
				       flags);
			used += nlh->nlmsg_len;
			if (++count % 3 == 0) {
				push(out, used);
				used = 0;
			}
			from = to;
		} while (from < st.svc[i].nbe);
	}
	nlh = reply_start(req, out + used, NLMSG_DONE, NLM_F_MULTI);
	mnl_nlmsg_put_extra_header(nlh, sizeof(int));
	used += nlh->nlmsg_len;
	push(out, used);
	save();
}

static const char * const cmd_names[] = {
	"UNSPEC", "SERVICE_NEW", "SERVICE_SET", "SERVICE_DEL", "SERVICE_GET",
	"BACKEND_NEW", "BACKEND_SET", "BACKEND_DEL", "FLUSH",
	"RESTORE_BEGIN", "RESTORE_SERVICE", "RESTORE_COMMIT", "RESTORE_ABORT",
	"EXPLAIN",
};

static void handle(const struct nlmsghdr *req)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(req);
	const struct nlattr *top[KCIP_A_MAX + 1] = { 0 };
	const struct nlattr *a;
	int ret;

	if (req->nlmsg_type == GENL_ID_CTRL) {
		getfamily(req);
		return;
	}
	if (req->nlmsg_type != FAMILY_ID || g->cmd > KCIP_CMD_MAX) {
		ack(req, -EOPNOTSUPP, NULL);
		return;
	}
	logp("%s%s", cmd_names[g->cmd],
	     req->nlmsg_flags & NLM_F_DUMP ? " dump" : "");
	if (g->cmd == KCIP_CMD_SERVICE_GET && (req->nlmsg_flags & NLM_F_DUMP)) {
		dump(req);
		logp("\n");
		return;
	}
	bad = NULL;
	bad_offs = 0;
	mnl_attr_for_each(a, req, GENL_HDRLEN) {
		int t = mnl_attr_get_type(a);

		if (t < 1 || t > KCIP_A_MAX) {
			ack(req, -EINVAL, "Unknown attribute");
			return;
		}
		top[t] = a;
	}
	if (top[KCIP_A_FLAGS])
		logp(" flags=%u", mnl_attr_get_u32(top[KCIP_A_FLAGS]));
	if (g->cmd == KCIP_CMD_EXPLAIN) {
		explain(req, top);
		return;
	}
	if (getenv("FAKE_EPERM")) {
		ack(req, -EPERM, NULL);
		return;
	}
	switch (g->cmd) {
	case KCIP_CMD_RESTORE_BEGIN:
		stage_drop();
		stage = xrealloc(NULL, sizeof(*stage));
		memset(stage, 0, sizeof(*stage));
		ack(req, 0, NULL);
		return;
	case KCIP_CMD_RESTORE_ABORT:
		ret = stage ? 0 : no_stage();
		stage_drop();
		ack(req, ret, ret ? bad : NULL);
		return;
	case KCIP_CMD_RESTORE_SERVICE:
		ret = restore_service(req, top);
		if (ret)
			stage_drop();
		ack(req, ret, ret ? bad : NULL);
		return;
	case KCIP_CMD_RESTORE_COMMIT:
		restore_commit(req);
		return;
	}
	ret = do_cmd(req, g->cmd, top);
	if (!ret) {
		st.generation++;
		save();
	}
	ack(req, ret, ret ? bad : NULL);
}

/* Every request of one send, in order, as netlink_rcv_skb() does. */
static void handle_all(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	const char *max = getenv("FAKE_MAXMSG");
	int n = len;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		if (nlh->nlmsg_len > (unsigned int)(max ? atoi(max) : 32768)) {
			logp("too big: %u bytes\n", nlh->nlmsg_len);
			ack(nlh, -EMSGSIZE, "Message too big for the fake kernel");
			continue;
		}
		handle(nlh);
	}
}

/* ---- the socket calls libmnl and kcipctl make ---- */

int socket(int domain, int type, int protocol)
{
	static int (*real)(int, int, int);

	if (!real)
		real = dlsym(RTLD_NEXT, "socket");
	if (domain != AF_NETLINK || protocol != NETLINK_GENERIC)
		return real(domain, type, protocol);
	if (!getenv("FAKE_STATE")) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	load();
	fake_fd = real(AF_UNIX, SOCK_DGRAM, 0);
	return fake_fd;
}

int close(int fd)
{
	static int (*real)(int);

	if (!real)
		real = dlsym(RTLD_NEXT, "close");
	if (fd == fake_fd && fd >= 0) {
		/* the socket's stage goes with it */
		stage_drop();
		state_free(&st);
		while (qhead < qtail)
			free(queue[qhead++]);
		free(queue);
		free(queue_len);
		queue = NULL;
		queue_len = NULL;
		qhead = qtail = qcap = 0;
		subscribed = false;
		fake_fd = -1;
	}
	return real(fd);
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);

	if (fd == fake_fd)
		return 0;
	if (!real)
		real = dlsym(RTLD_NEXT, "bind");
	return real(fd, addr, len);
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	static int (*real)(int, struct sockaddr *, socklen_t *);
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK,
				  .nl_pid = FAKE_PORTID };

	if (fd == fake_fd) {
		memcpy(addr, &nl, sizeof(nl));
		*len = sizeof(nl);
		return 0;
	}
	if (!real)
		real = dlsym(RTLD_NEXT, "getsockname");
	return real(fd, addr, len);
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	static int (*real)(int, int, int, const void *, socklen_t);

	if (fd == fake_fd) {
		if (level == SOL_NETLINK && name == NETLINK_ADD_MEMBERSHIP) {
			if (len != sizeof(int) ||
			    *(const int *)val != GROUP_ID) {
				errno = EINVAL;
				return -1;
			}
			logp("join group %d\n", GROUP_ID);
			subscribed = true;
			replay_events();
		}
		return 0;
	}
	if (!real)
		real = dlsym(RTLD_NEXT, "setsockopt");
	return real(fd, level, name, val, len);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
	       const struct sockaddr *addr, socklen_t alen)
{
	static ssize_t (*real)(int, const void *, size_t, int,
			       const struct sockaddr *, socklen_t);
	if (fd == fake_fd) {
		handle_all(buf, len);
		return len;
	}
	if (!real)
		real = dlsym(RTLD_NEXT, "sendto");
	return real(fd, buf, len, flags, addr, alen);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	static ssize_t (*real)(int, struct msghdr *, int);
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	size_t len;

	if (fd != fake_fd) {
		if (!real)
			real = dlsym(RTLD_NEXT, "recvmsg");
		return real(fd, msg, flags);
	}
	if (qhead == qtail) {
		errno = EAGAIN;
		return -1;
	}
	len = queue_len[qhead];
	msg->msg_flags = 0;
	if (len > msg->msg_iov[0].iov_len) {
		len = msg->msg_iov[0].iov_len;
		msg->msg_flags = MSG_TRUNC;
	}
	memcpy(msg->msg_iov[0].iov_base, queue[qhead], len);
	free(queue[qhead++]);
	memcpy(msg->msg_name, &nl, sizeof(nl));
	msg->msg_namelen = sizeof(nl);
	return len;
}

/*
 * Waiting on the fake socket never blocks: readable while something is
 * queued; once the queue is empty, a waiting monitor gets SIGTERM, as a
 * test would send it.
 */
int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo,
	  const sigset_t *mask)
{
	static int (*real)(struct pollfd *, nfds_t, const struct timespec *,
			   const sigset_t *);
	nfds_t i;

	if (!real)
		real = dlsym(RTLD_NEXT, "ppoll");
	for (i = 0; i < nfds; i++) {
		if (fds[i].fd != fake_fd)
			continue;
		if (qhead < qtail) {
			fds[i].revents = POLLIN;
			return 1;
		}
		/* deliver it through @mask, as a real wait would */
		raise(SIGTERM);
		return real(NULL, 0, NULL, mask);
	}
	return real(fds, nfds, tmo, mask);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * A fake "kclusterip" generic netlink family for testing kcipctl without the
 * module: LD_PRELOAD it and every NETLINK_GENERIC socket talks to this file
 * instead of the kernel.  It follows the uapi header: strict attribute
 * lengths, NLA_F_NESTED required, extack messages on errors, dumps split
 * over several messages, NLM_F_DUMP_INTR on demand.
 *
 * Environment:
 *   FAKE_STATE=FILE    state kept between runs (required)
 *   FAKE_LOG=FILE      one decoded line per request is appended
 *   FAKE_NOFAMILY=1    the family does not exist (ENOENT)
 *   FAKE_EPERM=1       every change fails with EPERM, without extack
 *   FAKE_SPLIT=N       at most N backends per dump message (default 2)
 *   FAKE_INTR=N        flag the first N dumps NLM_F_DUMP_INTR
 *   FAKE_STATS=1       counters are non-zero
 *   FAKE_GENHDR=1      dumps start with a message of KCIP_A_GENERATION only
 *
 * Test code only: single socket, single thread, no bounds on fun.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
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
#define MAX_SVC		64
#define MAX_BE		64
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
	int nbe;
	struct fbe be[MAX_BE];
};

struct fstate {
	uint64_t generation;
	int dumps;
	int nsvc;
	struct fsvc svc[MAX_SVC];
};

static struct fstate st;
static int fake_fd = -1;
static char *queue[1024];
static size_t queue_len[1024];
static int qhead, qtail;
static char out[65536];		/* reply being built */

static void load(void)
{
	FILE *f = fopen(getenv("FAKE_STATE"), "r");

	memset(&st, 0, sizeof(st));
	if (f) {
		if (fread(&st, sizeof(st), 1, f) != 1)
			memset(&st, 0, sizeof(st));
		fclose(f);
	}
}

static void save(void)
{
	FILE *f = fopen(getenv("FAKE_STATE"), "w");

	if (f) {
		fwrite(&st, sizeof(st), 1, f);
		fclose(f);
	}
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
	queue[qtail] = malloc(len);
	memcpy(queue[qtail], buf, len);
	queue_len[qtail++] = len;
}

static struct nlmsghdr *reply_start(const struct nlmsghdr *req, char *buf,
				    uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = req->nlmsg_seq;
	nlh->nlmsg_pid = FAKE_PORTID;
	return nlh;
}

/* ACK or error, capped, with an extack message if @msg. */
static void ack(const struct nlmsghdr *req, int error, const char *msg)
{
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;

	if (!error && !(req->nlmsg_flags & NLM_F_ACK))
		return;
	nlh = reply_start(req, out, NLMSG_ERROR, NLM_F_CAPPED);
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg = *req;
	if (msg) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
	}
	push(out, nlh->nlmsg_len);
	logp(" -> %d%s%s\n", error, msg ? " " : "", msg ? msg : "");
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
	grps = mnl_attr_nest_start(nlh, CTRL_ATTR_MCAST_GROUPS);
	grp = mnl_attr_nest_start(nlh, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_MCAST_GRP_NAME, KCIP_MCGRP_MONITOR);
	mnl_attr_put_u32(nlh, CTRL_ATTR_MCAST_GRP_ID, 7);
	mnl_attr_nest_end(nlh, grp);
	mnl_attr_nest_end(nlh, grps);
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
};

static const int be_len[KCIP_A_BE_MAX + 1] = {
	[KCIP_A_BE_ADDR4] = 4, [KCIP_A_BE_ADDR6] = 16, [KCIP_A_BE_PORT] = 2,
	[KCIP_A_BE_WEIGHT] = 4, [KCIP_A_BE_STATE] = 1, [KCIP_A_BE_FLAGS] = 4,
	[KCIP_A_BE_FLAGS_MASK] = 4,
};

static const char *bad;		/* extack of a parse failure */

/* Fill @tb from @nest; log each attribute as type=hex. */
static int parse(const struct nlattr *nest, const int *lens, int max,
		 const struct nlattr **tb, const char *name)
{
	const struct nlattr *a;
	unsigned int i;

	if (!(nest->nla_type & NLA_F_NESTED)) {
		bad = "NLA_F_NESTED is missing";
		return -1;
	}
	logp(" %s{", name);
	mnl_attr_for_each_nested(a, nest) {
		int t = mnl_attr_get_type(a);

		if (t > max || !lens[t] ||
		    mnl_attr_get_payload_len(a) != lens[t]) {
			bad = "Unknown attribute or bad length";
			return -1;
		}
		if (tb[t]) {
			bad = "Duplicate attribute";
			return -1;
		}
		tb[t] = a;
		logp(" %d=", t);
		for (i = 0; i < mnl_attr_get_payload_len(a); i++)
			logp("%02x", ((unsigned char *)mnl_attr_get_payload(a))[i]);
	}
	logp(" }");
	return 0;
}

static struct fsvc *find_svc(const struct nlattr **tb, struct fsvc *key)
{
	int i;

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
	for (i = 0; i < st.nsvc; i++)
		if (st.svc[i].family == key->family &&
		    st.svc[i].proto == key->proto &&
		    st.svc[i].port == key->port &&
		    !memcmp(st.svc[i].addr, key->addr, 16))
			return &st.svc[i];
	return NULL;
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

static struct fbe *find_be(struct fsvc *s, const struct nlattr **tb,
			   struct fbe *key)
{
	int i;

	memset(key, 0, sizeof(*key));
	if (s->family == AF_INET && tb[KCIP_A_BE_ADDR4])
		memcpy(key->addr, mnl_attr_get_payload(tb[KCIP_A_BE_ADDR4]), 4);
	else if (s->family == AF_INET6 && tb[KCIP_A_BE_ADDR6])
		memcpy(key->addr, mnl_attr_get_payload(tb[KCIP_A_BE_ADDR6]), 16);
	else {
		bad = "Backend address does not match the Service's family";
		return NULL;
	}
	if (!tb[KCIP_A_BE_PORT]) {
		bad = "Backend port missing";
		return NULL;
	}
	key->port = mnl_attr_get_u16(tb[KCIP_A_BE_PORT]);
	for (i = 0; i < s->nbe; i++)
		if (s->be[i].port == key->port &&
		    !memcmp(s->be[i].addr, key->addr, 16))
			return &s->be[i];
	return NULL;
}

static int do_cmd(const struct nlmsghdr *req, uint8_t cmd)
{
	const struct nlattr *top[KCIP_A_MAX + 1] = { 0 };
	const struct nlattr *stb[KCIP_A_SVC_MAX + 1] = { 0 };
	const struct nlattr *btb[KCIP_A_BE_MAX + 1] = { 0 };
	const struct nlattr *a;
	struct fsvc key, *s;
	struct fbe bkey, *b;
	uint32_t mask;

	mnl_attr_for_each(a, req, GENL_HDRLEN) {
		int t = mnl_attr_get_type(a);

		if (t < 1 || t > KCIP_A_MAX) {
			bad = "Unknown attribute";
			return -EINVAL;
		}
		top[t] = a;
	}
	if (top[KCIP_A_FLAGS])
		logp(" flags=%u", mnl_attr_get_u32(top[KCIP_A_FLAGS]));
	if (cmd == KCIP_CMD_FLUSH) {
		st.nsvc = 0;
		return 0;
	}
	if (!top[KCIP_A_SERVICE]) {
		bad = "Service missing";
		return -EINVAL;
	}
	if (parse(top[KCIP_A_SERVICE], svc_len, KCIP_A_SVC_MAX, stb, "svc"))
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
		st.svc[st.nsvc++] = key;
		return 0;
	case KCIP_CMD_SERVICE_SET:
		if (!s) {
			bad = "No such Service";
			return -ENOENT;
		}
		return apply_svc(s, stb, true);
	case KCIP_CMD_SERVICE_DEL:
		if (!s) {
			bad = "No such Service";
			return -ENOENT;
		}
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
	if (parse(top[KCIP_A_BACKEND], be_len, KCIP_A_BE_MAX, btb, "be"))
		return -EINVAL;
	b = find_be(s, btb, &bkey);
	if (bad)
		return -EINVAL;
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
		b = &s->be[s->nbe++];
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
	return 0;
}

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
	mnl_attr_put_u16(nlh, KCIP_A_SVC_FAMILY, s->family);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PROTO, s->proto);
	if (s->family == AF_INET)
		mnl_attr_put(nlh, KCIP_A_SVC_ADDR4, 4, s->addr);
	else
		mnl_attr_put(nlh, KCIP_A_SVC_ADDR6, 16, s->addr);
	mnl_attr_put_u16(nlh, KCIP_A_SVC_PORT, s->port);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_SCHED, s->sched);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_AFFINITY, s->affinity);
	mnl_attr_put_u32(nlh, KCIP_A_SVC_AFFINITY_TIMEOUT, s->timeout);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_TRAFFIC_POLICY, s->tp);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_NO_ENDPOINTS, s->noep);
	mnl_attr_put_u32(nlh, KCIP_A_SVC_FLAGS, s->flags);
	mnl_attr_put_u32(nlh, KCIP_A_SVC_QUARANTINE, s->quarantine);
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
};

static void handle(const struct nlmsghdr *req)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(req);
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
		logp("\n");
		dump(req);
		return;
	}
	if (getenv("FAKE_EPERM")) {
		ack(req, -EPERM, NULL);
		return;
	}
	bad = NULL;
	ret = do_cmd(req, g->cmd);
	if (!ret) {
		st.generation++;
		save();
	}
	ack(req, ret, ret ? bad : NULL);
}

/* ---- the socket calls libmnl makes ---- */

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

	if (fd == fake_fd)
		return 0;
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
		handle(buf);
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

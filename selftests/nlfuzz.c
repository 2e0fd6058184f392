// SPDX-License-Identifier: GPL-2.0
/*
 * nlfuzz: a fuzzer for the "kclusterip" generic netlink family.
 *
 * Usage: nlfuzz [-c] [-M] [-v] [-x] [-n COUNT] [-t THREADS] [-s SEED]
 *               [-w SECONDS]
 *
 *   -n COUNT    messages to send in all (default 20000)
 *   -t THREADS  threads sending at the same time (default 4), each on
 *               sockets of its own
 *   -s SEED     seed of the generator (default: from the clock)
 *   -c          afterwards, dump the whole state and check it (valid
 *               Services, backends of their Service's family, ranges,
 *               nothing twice), and that SERVICE_GET agrees with the dump
 *   -M          no "monitor" listener (by default one thread listens, so
 *               that the kernel builds and sends its change events too:
 *               without a listener it skips that code)
 *   -w SECONDS  how long to wait for an answer (default 20)
 *   -v          print each thread's first refusals with their extack
 *               messages
 *   -x          trace every message (hex) on stderr before it is sent
 *
 * Run it in the netns under test (ip netns exec NS nlfuzz), as root.  It
 * starts from valid requests for every command of the family, made in a
 * small address space (VIPs in 10.96.0.0/28 and fd00::/124, backends in
 * 10.244.0.0/28 and fd00:244::/124, ports 1..4) so that they collide and
 * hit existing objects, and mutates most of them: attributes dropped,
 * duplicated, oversized, cut, retyped, moved, nested deep; unknown
 * attributes; bit flips; bad lengths, flags, commands and versions in the
 * headers; fully random messages too.  Dumps and whole restore
 * transactions (some committed, some aborted, some abandoned by closing
 * the socket) come in between.
 *
 * Every answer of the kernel is untrusted input: its lengths are checked
 * before use, and what it says about Services and backends is checked
 * against the uapi (family, protocol, port, addresses, ranges, no duplicate
 * backend in a message).  A request that must be answered (NLM_F_ACK, or a
 * dump) and is not within -w seconds counts as "no answer"; a request that
 * may go unanswered is followed by a NLMSG_NOOP probe with NLM_F_ACK, whose
 * ack says the kernel is done with the request.
 *
 * Output, at the end:
 *
 *   nlfuzz: sent N, accepted A, refused R (by errno: EINVAL x, ...), dumps D, restores S, seed X
 *   nlfuzz: silent Q, stray answers Y, commits C, aborts B, abandoned Z, split Services in dumps P, events E (overruns O), T threads, S s
 *   nlfuzz: state: S services, B backends, consistent          (-c)
 *
 * "silent" requests got no answer and needed none (no NLM_F_ACK, bad
 * nlmsg_len...); "split Services" counts dump messages that went on with
 * the Service of the message before (too many backends for one).
 *
 * Exit status: 0 when every message was sent and answered as it should be
 * (and with -c the state is consistent), 1 otherwise: a local failure
 * (socket error, no answer, an answer that does not parse, a Service or
 * backend that breaks the uapi's rules).  Each failure is reported with the
 * thread, its seed, the message's number and the request in hex.
 *
 * Reproducing: thread I draws from the seed SEED + I, so "-t 1 -s SEED+I"
 * replays its messages (except the generation put in a RESTORE_COMMIT,
 * which is the last one the thread saw); -x shows them.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/kclusterip.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK		10
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK		11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK	12
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED		0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS		0x200
#endif
#ifndef NLM_F_DUMP_INTR
#define NLM_F_DUMP_INTR		0x10
#endif

#define MAX_NODES	1024		/* attributes in one request */
#define HEAP_MAX	16384		/* their payload bytes */
/* a request never exceeds this: HEAP_MAX + 7 bytes of header and padding
 * per attribute + the headers, plus the junk appended to some */
#define MSG_MAX		32768
#define RX_MAX		(256 * 1024)	/* acks echo requests, dumps fill 32K */
#define NERRNO		4096
#define PROBE_SEQ	0x80000000u	/* probes' sequence numbers */

/* ------------------------------------------------------------ options */

static unsigned long opt_count = 20000;
static unsigned int opt_threads = 4;
static uint64_t opt_seed;
static bool opt_check, opt_monitor = true, opt_verbose, opt_trace;
static unsigned int opt_wait = 20;

static uint16_t family_id;
static uint32_t monitor_grp;

static atomic_long budget;		/* messages still to send */
static atomic_bool workers_done;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* ------------------------------------------------------------ output */

static void say(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&out_lock);
}

/* at most 512 bytes of @b in hex, for reports: what to replay */
static void hex(char *out, size_t outlen, const uint8_t *b, size_t len)
{
	size_t i, n = len > 512 ? 512 : len, pos = 0;

	out[0] = 0;
	for (i = 0; i < n && pos + 3 < outlen; i++)
		pos += snprintf(out + pos, outlen - pos, "%02x", b[i]);
	if (n < len && pos + 4 < outlen)
		snprintf(out + pos, outlen - pos, "...");
}

static const struct {
	int e;
	const char *name;
} errnames[] = {
	{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" },
	{ EINTR, "EINTR" }, { EIO, "EIO" }, { E2BIG, "E2BIG" },
	{ EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" }, { EFAULT, "EFAULT" },
	{ EBUSY, "EBUSY" }, { EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
	{ EINVAL, "EINVAL" }, { ENOSPC, "ENOSPC" }, { ERANGE, "ERANGE" },
	{ ENODATA, "ENODATA" }, { EBADMSG, "EBADMSG" },
	{ EOVERFLOW, "EOVERFLOW" }, { EMSGSIZE, "EMSGSIZE" },
	{ EPROTONOSUPPORT, "EPROTONOSUPPORT" }, { EOPNOTSUPP, "EOPNOTSUPP" },
	{ EAFNOSUPPORT, "EAFNOSUPPORT" }, { ENOBUFS, "ENOBUFS" },
	{ ENOTCONN, "ENOTCONN" }, { ETIMEDOUT, "ETIMEDOUT" },
	/* kernel-internal values that should never reach user space */
	{ 512, "ERESTARTSYS" }, { 524, "ENOTSUPP" },
};

static void errname(int e, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++) {
		if (errnames[i].e == e) {
			snprintf(buf, len, "%s", errnames[i].name);
			return;
		}
	}
	snprintf(buf, len, "E%d", e);
}

/* ------------------------------------------------------------ random */

/* xoshiro256**, seeded through splitmix64: fast, and the same everywhere */
struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_init(struct rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* 0..n-1 */
static uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rnd(r) >> 32) * n) >> 32);
}

static bool chance(struct rng *r, unsigned int pct)
{
	return below(r, 100) < pct;
}

/* 0..n-1, small values more often: collisions on the first objects */
static uint32_t skewed(struct rng *r, uint32_t n)
{
	return below(r, 1 + below(r, n));
}

static void rnd_bytes(struct rng *r, uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)rnd(r);
}

/* ------------------------------------------------------------ requests */

/*
 * A request is built as a tree of attributes, so that mutations can work
 * on attributes (drop, copy, move, retype, lie about a length) before it
 * is laid out in bytes; byte-level mutations come after.  Node 0 is the
 * root: the message's top-level attributes are its children.
 */
struct node {
	int parent, first, last, next;	/* -1: none */
	uint16_t type;			/* nla_type as sent, NLA_F_* included */
	int16_t len_lie;		/* added to the true nla_len */
	uint16_t off, len;		/* a leaf's payload, in the heap */
	bool nest;
};

struct msg {
	uint16_t type, flags;
	uint32_t seq, pid;
	uint8_t cmd, version;
	uint16_t reserved;
	int nn;
	struct node n[MAX_NODES];
	uint32_t hused;
	uint8_t heap[HEAP_MAX];
};

static void m_reset(struct msg *m, uint16_t flags, uint32_t seq, uint8_t cmd)
{
	m->type = family_id;
	m->flags = flags;
	m->seq = seq;
	m->pid = 0;
	m->cmd = cmd;
	m->version = KCIP_GENL_VERSION;
	m->reserved = 0;
	m->nn = 1;
	m->hused = 0;
	memset(&m->n[0], 0, sizeof(m->n[0]));
	m->n[0].parent = m->n[0].first = m->n[0].last = m->n[0].next = -1;
	m->n[0].nest = true;
}

static void m_link(struct msg *m, int parent, int i)
{
	struct node *p = &m->n[parent];

	m->n[i].parent = parent;
	m->n[i].next = -1;
	if (p->last >= 0)
		m->n[p->last].next = i;
	else
		p->first = i;
	p->last = i;
}

static void m_unlink(struct msg *m, int i)
{
	struct node *p = &m->n[m->n[i].parent];
	int c, prev = -1;

	for (c = p->first; c >= 0 && c != i; c = m->n[c].next)
		prev = c;
	if (c < 0)
		return;
	if (prev >= 0)
		m->n[prev].next = m->n[i].next;
	else
		p->first = m->n[i].next;
	if (p->last == i)
		p->last = prev;
	m->n[i].next = -1;
	m->n[i].parent = -1;
}

/* A new attribute, last child of @parent; -1 when the request is full. */
static int m_add(struct msg *m, int parent, uint16_t type, bool nest,
		 const void *data, size_t len)
{
	struct node *nd;
	int i;

	if (parent < 0 || m->nn >= MAX_NODES || len > HEAP_MAX - m->hused)
		return -1;
	i = m->nn++;
	nd = &m->n[i];
	memset(nd, 0, sizeof(*nd));
	nd->first = nd->last = -1;
	nd->nest = nest;
	nd->type = nest ? (type | NLA_F_NESTED) : type;
	if (!nest) {
		nd->off = (uint16_t)m->hused;
		nd->len = (uint16_t)len;
		if (data)
			memcpy(m->heap + m->hused, data, len);
		else
			memset(m->heap + m->hused, 0, len);
		m->hused += len;
	}
	m_link(m, parent, i);
	return i;
}

static int m_nest(struct msg *m, int parent, uint16_t type)
{
	return m_add(m, parent, type, true, NULL, 0);
}

static void m_u8(struct msg *m, int parent, uint16_t type, uint8_t v)
{
	m_add(m, parent, type, false, &v, sizeof(v));
}

static void m_u16(struct msg *m, int parent, uint16_t type, uint16_t v)
{
	m_add(m, parent, type, false, &v, sizeof(v));
}

static void m_u32(struct msg *m, int parent, uint16_t type, uint32_t v)
{
	m_add(m, parent, type, false, &v, sizeof(v));
}

static void m_u64(struct msg *m, int parent, uint16_t type, uint64_t v)
{
	m_add(m, parent, type, false, &v, sizeof(v));
}

/* Copy the subtree @src as the last child of @parent (as far as it fits). */
static int m_copy(struct msg *m, int src, int parent, int depth)
{
	struct node s = m->n[src];
	int i, c;

	if (depth > 64)
		return -1;
	if (s.nest) {
		i = m_nest(m, parent, s.type & NLA_TYPE_MASK);
		if (i < 0)
			return -1;
		m->n[i].type = s.type;
		/* children of src added from here on are the copy's own */
		for (c = s.first; c >= 0 && c != i; c = m->n[c].next)
			if (m_copy(m, c, i, depth + 1) < 0)
				break;
	} else {
		i = m_add(m, parent, s.type, false, NULL, s.len);
		if (i < 0)
			return -1;
		memcpy(m->heap + m->n[i].off, m->heap + s.off, s.len);
	}
	m->n[i].len_lie = s.len_lie;
	return i;
}

static size_t emit_attrs(const struct msg *m, int parent, uint8_t *out,
			 size_t pos)
{
	int c;

	for (c = m->n[parent].first; c >= 0; c = m->n[c].next) {
		const struct node *nd = &m->n[c];
		struct nlattr a;
		size_t start = pos;
		long len;

		pos += NLA_HDRLEN;
		if (nd->nest) {
			pos = emit_attrs(m, c, out, pos);
		} else {
			memcpy(out + pos, m->heap + nd->off, nd->len);
			pos += nd->len;
		}
		len = (long)(pos - start) + nd->len_lie;
		if (len < 0)
			len = 0;
		if (len > 0xffff)
			len = 0xffff;
		a.nla_len = (uint16_t)len;
		a.nla_type = nd->type;
		memcpy(out + start, &a, sizeof(a));
		while (pos & (NLA_ALIGNTO - 1))
			out[pos++] = 0;
	}
	return pos;
}

/* Lay @m out in @out (MSG_MAX bytes); returns its length. */
static size_t m_emit(const struct msg *m, uint8_t *out)
{
	struct nlmsghdr h;
	struct genlmsghdr g;
	size_t len;

	len = emit_attrs(m, 0, out, NLMSG_HDRLEN + GENL_HDRLEN);
	h.nlmsg_len = (uint32_t)len;
	h.nlmsg_type = m->type;
	h.nlmsg_flags = m->flags;
	h.nlmsg_seq = m->seq;
	h.nlmsg_pid = m->pid;
	g.cmd = m->cmd;
	g.version = m->version;
	g.reserved = m->reserved;
	memcpy(out, &h, sizeof(h));
	memcpy(out + NLMSG_HDRLEN, &g, sizeof(g));
	return len;
}

enum { F_ANY, F_LEAF, F_NEST, F_PARENT };

/* The attributes of @m that pass @f, in @out; how many. */
static int m_collect(const struct msg *m, int *out, int f)
{
	int stack[MAX_NODES], sp = 0, n = 0, c;

	stack[sp++] = 0;
	while (sp) {
		int i = stack[--sp];
		const struct node *nd = &m->n[i];
		bool take;

		if (i == 0)
			take = f == F_PARENT;
		else
			take = f == F_ANY || (f == F_LEAF && !nd->nest) ||
			       ((f == F_NEST || f == F_PARENT) && nd->nest);
		if (take)
			out[n++] = i;
		if (nd->nest)
			for (c = nd->first; c >= 0 && sp < MAX_NODES;
			     c = m->n[c].next)
				stack[sp++] = c;
	}
	return n;
}

/* ------------------------------------------------------------ workers */

struct stats {
	uint64_t sent, accepted, refused, silent, dumps, restores;
	uint64_t commits, aborts, abandoned, stray;
	uint64_t continued;		/* dump parts going on with a Service */
	uint64_t noanswer, bad, sockerr;
	uint64_t by_errno[NERRNO];
};

struct be_rec {
	uint8_t addr[16];
	uint16_t port;			/* network order */
	uint32_t weight, flags;
	uint8_t state;
};

struct svc_rec {
	uint16_t family;
	uint8_t proto;
	uint8_t addr[16];
	uint16_t port;			/* network order */
	uint8_t sched, affinity, tp, noep;
	uint32_t aff_timeout, flags, quarantine;
	struct be_rec *be;
	size_t nbe, cap;
};

struct worker {
	unsigned int idx;
	pthread_t th;
	struct rng rng;
	struct mnl_socket *nl;
	uint32_t seq, probe;
	uint64_t last_gen;		/* the newest generation seen */
	uint8_t *tx, *rx;
	size_t txlen;
	struct msg *m;
	int pick[MAX_NODES];
	struct svc_rec scratch;		/* reply checks */
	struct svc_rec prev;		/* the last Service of this dump */
	char what[160];			/* what the request is, for reports */
	unsigned int extack_shown;
	struct stats st;
	bool stop;			/* a local failure: stop here */
};

static bool claim(void)
{
	return atomic_fetch_sub(&budget, 1) > 0;
}

static void worker_fail(struct worker *w, uint64_t *counter, const char *fmt,
			...)
{
	char buf[256], h[1100];
	va_list ap;

	(*counter)++;
	w->stop = true;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	hex(h, sizeof(h), w->tx, w->txlen);
	/* every failure comes after the message was counted as sent */
	say("nlfuzz: FAIL: thread %u (seed %" PRIu64 "), message #%" PRIu64
	    " (%s): %s\nnlfuzz:   request (%zu bytes): %s\n", w->idx,
	    opt_seed + w->idx, w->st.sent - 1, w->what, buf, w->txlen, h);
}

static int sock_open(struct worker *w)
{
	struct timeval tv = { .tv_sec = opt_wait };
	int fd, on = 1, size = 1 << 20;

	w->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!w->nl || mnl_socket_bind(w->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		say("nlfuzz: thread %u: netlink socket: %s\n", w->idx,
		    strerror(errno));
		if (w->nl)
			mnl_socket_close(w->nl);
		w->nl = NULL;
		w->st.sockerr++;
		w->stop = true;
		return -1;
	}
	fd = mnl_socket_get_fd(w->nl);
	/* the ack variants the kernel has to build differ per socket */
	if (chance(&w->rng, 70))
		setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
	if (chance(&w->rng, 50))
		setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
	if (chance(&w->rng, 30))
		setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on,
			   sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return 0;
}

static void sock_close(struct worker *w)
{
	if (w->nl)
		mnl_socket_close(w->nl);
	w->nl = NULL;
}

/* ------------------------------------------------------------ answers */

/*
 * Index the attributes in [p, p+len) by type into @tb (the first of each
 * type); -1 when they do not tile the area exactly, as a kernel message's
 * always do.
 */
static int attrs(const uint8_t *p, size_t len, const struct nlattr **tb,
		 unsigned int max)
{
	if (tb)
		memset(tb, 0, (max + 1) * sizeof(*tb));
	while (len >= NLA_HDRLEN) {
		struct nlattr a;
		size_t step;

		memcpy(&a, p, sizeof(a));
		if (a.nla_len < NLA_HDRLEN || a.nla_len > len)
			return -1;
		if (tb && (a.nla_type & NLA_TYPE_MASK) <= max &&
		    !tb[a.nla_type & NLA_TYPE_MASK])
			tb[a.nla_type & NLA_TYPE_MASK] = (const void *)p;
		step = NLA_ALIGN(a.nla_len);
		if (step > len)
			step = len;
		p += step;
		len -= step;
	}
	return len ? -1 : 0;
}

static size_t alen(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

static const uint8_t *adata(const struct nlattr *a)
{
	return (const uint8_t *)a + NLA_HDRLEN;
}

/* exact sizes: the kernel's nla_put_uN() make exactly these */
static bool get_u8(const struct nlattr *a, uint8_t *v)
{
	if (!a || alen(a) != 1)
		return false;
	*v = adata(a)[0];
	return true;
}

static bool get_u16(const struct nlattr *a, uint16_t *v)
{
	if (!a || alen(a) != 2)
		return false;
	memcpy(v, adata(a), 2);
	return true;
}

static bool get_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || alen(a) != 4)
		return false;
	memcpy(v, adata(a), 4);
	return true;
}

static bool get_u64(const struct nlattr *a, uint64_t *v)
{
	if (!a || alen(a) != 8)
		return false;
	memcpy(v, adata(a), 8);
	return true;
}

static bool addr_any(uint16_t family, const uint8_t *a)
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, family == AF_INET ? 4 : 16);
}

static bool addr_unicast(uint16_t family, const uint8_t *a)
{
	if (addr_any(family, a))
		return false;
	/*
	 * The module's rule, with the kernel's helpers: not multicast, not
	 * 255.255.255.255, not 0.0.0.0 (ipv4_is_zeronet() is addr == 0 since
	 * 0.0.0.0/8 became usable), so 0.1.2.3, 240.0.0.0/4 and loopback
	 * count as unicast.
	 */
	if (family == AF_INET)
		return (a[0] < 224 || a[0] > 239) &&
		       !(a[0] == 255 && a[1] == 255 && a[2] == 255 &&
			 a[3] == 255);
	return a[0] != 0xff;
}

static void fmt_addr(uint16_t family, const uint8_t *a, char *buf,
		     size_t len)
{
	if (!inet_ntop(family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

/* One address out of ADDR4/ADDR6: exactly one, of the family's size. */
static const char *get_addr(uint16_t family, const struct nlattr *a4,
			    const struct nlattr *a6, uint8_t *out)
{
	memset(out, 0, 16);
	if (family == AF_INET) {
		if (!a4 || a6 || alen(a4) != 4)
			return "an AF_INET address must be ADDR4 alone, 4 bytes";
		memcpy(out, adata(a4), 4);
	} else {
		if (!a6 || a4 || alen(a6) != 16)
			return "an AF_INET6 address must be ADDR6 alone, 16 bytes";
		memcpy(out, adata(a6), 16);
	}
	return NULL;
}

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -1)

static int parse_backend(const struct nlattr *nest, uint16_t family,
			 struct be_rec *b, char *why, size_t whylen)
{
	const struct nlattr *tb[KCIP_A_BE_MAX + 1];
	const char *err;
	uint32_t q;

	memset(b, 0, sizeof(*b));
	if (!(nest->nla_type & NLA_F_NESTED) ||
	    attrs(adata(nest), alen(nest), tb, KCIP_A_BE_MAX))
		return WHY("backend: malformed nest");
	err = get_addr(family, tb[KCIP_A_BE_ADDR4], tb[KCIP_A_BE_ADDR6],
		       b->addr);
	if (err)
		return WHY("backend: %s", err);
	if (!addr_unicast(family, b->addr)) {
		char ab[64];

		fmt_addr(family, b->addr, ab, sizeof(ab));
		return WHY("backend: address %s is not unicast", ab);
	}
	if (!get_u16(tb[KCIP_A_BE_PORT], &b->port) || !b->port)
		return WHY("backend: port missing, mis-sized or 0");
	if (!get_u32(tb[KCIP_A_BE_WEIGHT], &b->weight) ||
	    b->weight > KCIP_MAX_WEIGHT)
		return WHY("backend: weight missing or %u > %u", b->weight,
			   KCIP_MAX_WEIGHT);
	if (!get_u8(tb[KCIP_A_BE_STATE], &b->state) ||
	    b->state > KCIP_BE_STATE_MAX)
		return WHY("backend: state missing or out of the enum (%u)",
			   b->state);
	if (!get_u32(tb[KCIP_A_BE_FLAGS], &b->flags) ||
	    (b->flags & ~(uint32_t)__KCIP_BE_F_ALL))
		return WHY("backend: flags missing or unknown (0x%x)",
			   b->flags);
	if (tb[KCIP_A_BE_FLAGS_MASK])
		return WHY("backend: has a flags mask");
	if (tb[KCIP_A_BE_QUARANTINE] && !get_u32(tb[KCIP_A_BE_QUARANTINE], &q))
		return WHY("backend: quarantine mis-sized");
	if (tb[KCIP_A_BE_STATS] &&
	    (!(tb[KCIP_A_BE_STATS]->nla_type & NLA_F_NESTED) ||
	     attrs(adata(tb[KCIP_A_BE_STATS]), alen(tb[KCIP_A_BE_STATS]), NULL,
		   0) < 0))
		return WHY("backend: malformed stats");
	return 0;
}

static int be_cmp(const void *x, const void *y)
{
	const struct be_rec *a = x, *b = y;
	int r = memcmp(a->addr, b->addr, 16);

	return r ? r : (int)ntohs(a->port) - (int)ntohs(b->port);
}

enum svc_mode {
	SVC_IDENT,	/* identity only (events of backends, deletions) */
	SVC_OPTS,	/* identity and every option (events, explain) */
	SVC_FULL,	/* and stats and backends (dumps, GET) */
};

/*
 * Check a SERVICE nest against the uapi; its backends (SVC_FULL) go to
 * @s->be.  0, or -1 with what is wrong in @why.
 */
static int parse_service(const struct nlattr *nest, enum svc_mode mode,
			 struct svc_rec *s, char *why, size_t whylen)
{
	const struct nlattr *tb[KCIP_A_SVC_MAX + 1];
	const struct nlattr *a;
	const char *err;
	size_t i, rem;
	int t;

	s->nbe = 0;
	if (!(nest->nla_type & NLA_F_NESTED) ||
	    attrs(adata(nest), alen(nest), tb, KCIP_A_SVC_MAX))
		return WHY("service: malformed nest");
	if (!get_u16(tb[KCIP_A_SVC_FAMILY], &s->family) ||
	    (s->family != AF_INET && s->family != AF_INET6))
		return WHY("service: family missing or not AF_INET/AF_INET6");
	if (!get_u8(tb[KCIP_A_SVC_PROTO], &s->proto) ||
	    (s->proto != IPPROTO_TCP && s->proto != IPPROTO_UDP &&
	     s->proto != IPPROTO_SCTP))
		return WHY("service: protocol missing or not TCP/UDP/SCTP");
	if (!get_u16(tb[KCIP_A_SVC_PORT], &s->port) || !s->port)
		return WHY("service: port missing, mis-sized or 0");
	err = get_addr(s->family, tb[KCIP_A_SVC_ADDR4], tb[KCIP_A_SVC_ADDR6],
		       s->addr);
	if (err)
		return WHY("service: %s", err);
	if (!addr_any(s->family, s->addr) &&
	    !addr_unicast(s->family, s->addr)) {
		char ab[64];

		fmt_addr(s->family, s->addr, ab, sizeof(ab));
		return WHY("service: address %s neither NodePort nor unicast",
			   ab);
	}
	if (tb[KCIP_A_SVC_FLAGS_MASK])
		return WHY("service: has a flags mask");

	if (mode == SVC_IDENT) {
		for (t = KCIP_A_SVC_SCHED; t <= KCIP_A_SVC_BACKENDS; t++)
			if (tb[t] && t != KCIP_A_SVC_FLAGS_MASK)
				return WHY("service: attribute %d beside an identity",
					   t);
		return 0;
	}
	if (!get_u8(tb[KCIP_A_SVC_SCHED], &s->sched) ||
	    s->sched > KCIP_SCHED_MAX ||
	    !get_u8(tb[KCIP_A_SVC_AFFINITY], &s->affinity) ||
	    s->affinity > KCIP_AFFINITY_MAX ||
	    !get_u32(tb[KCIP_A_SVC_AFFINITY_TIMEOUT], &s->aff_timeout) ||
	    s->aff_timeout < 1 || s->aff_timeout > KCIP_MAX_AFFINITY_TIMEOUT ||
	    !get_u8(tb[KCIP_A_SVC_TRAFFIC_POLICY], &s->tp) ||
	    s->tp > KCIP_TRAFFIC_POLICY_MAX ||
	    !get_u8(tb[KCIP_A_SVC_NO_ENDPOINTS], &s->noep) ||
	    s->noep > KCIP_NO_ENDPOINTS_MAX ||
	    !get_u32(tb[KCIP_A_SVC_FLAGS], &s->flags) ||
	    (s->flags & ~(uint32_t)__KCIP_SVC_F_ALL) ||
	    !get_u32(tb[KCIP_A_SVC_QUARANTINE], &s->quarantine) ||
	    s->quarantine < 1 || s->quarantine > KCIP_MAX_QUARANTINE)
		return WHY("service: an option is missing, mis-sized or out of range (sched %u affinity %u timeout %u policy %u no-endpoints %u flags 0x%x quarantine %u)",
			   s->sched, s->affinity, s->aff_timeout, s->tp,
			   s->noep, s->flags, s->quarantine);
	if (mode == SVC_OPTS) {
		if (tb[KCIP_A_SVC_STATS] || tb[KCIP_A_SVC_BACKENDS])
			return WHY("service: stats or backends where none belong");
		return 0;
	}

	a = tb[KCIP_A_SVC_STATS];
	if (!a || !(a->nla_type & NLA_F_NESTED) ||
	    attrs(adata(a), alen(a), NULL, 0) < 0)
		return WHY("service: stats missing or malformed");
	a = tb[KCIP_A_SVC_BACKENDS];
	if (!a || !(a->nla_type & NLA_F_NESTED) ||
	    attrs(adata(a), alen(a), NULL, 0) < 0)
		return WHY("service: backends missing or malformed");
	for (i = 0, rem = alen(a); rem >= NLA_HDRLEN;) {
		const struct nlattr *b = (const void *)(adata(a) + i);
		size_t step = NLA_ALIGN(b->nla_len);

		if ((b->nla_type & NLA_TYPE_MASK) != KCIP_A_BACKEND)
			return WHY("service: backends holds attribute %u",
				   b->nla_type & NLA_TYPE_MASK);
		if (s->nbe == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 16;
			struct be_rec *n = realloc(s->be, cap * sizeof(*n));

			if (!n)
				return WHY("out of memory");
			s->be = n;
			s->cap = cap;
		}
		if (parse_backend(b, s->family, &s->be[s->nbe], why, whylen))
			return -1;
		s->nbe++;
		if (step > rem)
			step = rem;
		i += step;
		rem -= step;
	}
	if (s->nbe > 1) {
		struct be_rec *sorted = malloc(s->nbe * sizeof(*sorted));

		if (!sorted)
			return WHY("out of memory");
		memcpy(sorted, s->be, s->nbe * sizeof(*sorted));
		qsort(sorted, s->nbe, sizeof(*sorted), be_cmp);
		for (i = 1; i < s->nbe; i++) {
			if (!be_cmp(&sorted[i - 1], &sorted[i])) {
				unsigned int port = ntohs(sorted[i].port);
				char ab[64];

				fmt_addr(s->family, sorted[i].addr, ab,
					 sizeof(ab));
				free(sorted);
				return WHY("service: backend %s port %u twice",
					   ab, port);
			}
		}
		free(sorted);
	}
	return 0;
}

/* genl header and attributes of a message of the family */
static int family_msg(const struct nlmsghdr *h, const struct genlmsghdr **g,
		      const struct nlattr **tb, char *why, size_t whylen)
{
	const uint8_t *p = (const uint8_t *)h + NLMSG_HDRLEN;

	if (h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return WHY("message of the family without a genl header");
	*g = (const void *)p;
	if ((*g)->version != KCIP_GENL_VERSION)
		return WHY("genl version %u", (*g)->version);
	if (attrs(p + GENL_HDRLEN, h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN,
		  tb, KCIP_A_MAX))
		return WHY("malformed attributes (command %u)", (*g)->cmd);
	return 0;
}

static int check_restore_counts(const struct nlattr *a, char *why,
				size_t whylen)
{
	const struct nlattr *tb[KCIP_A_RESTORE_MAX + 1];
	uint32_t v;
	int t;

	if (!a || !(a->nla_type & NLA_F_NESTED) ||
	    attrs(adata(a), alen(a), tb, KCIP_A_RESTORE_MAX))
		return WHY("restore counts missing or malformed");
	for (t = KCIP_A_RESTORE_ADDED; t <= KCIP_A_RESTORE_BACKENDS; t++)
		if (!get_u32(tb[t], &v))
			return WHY("restore count %d missing", t);
	return 0;
}

/*
 * A reply (doit or dump part) of the family: what every command may say,
 * checked.  The generation goes to @gen when there is one.
 */
static int check_reply(struct worker *w, const struct nlmsghdr *h,
		       uint64_t *gen, char *why, size_t whylen)
{
	const struct nlattr *tb[KCIP_A_MAX + 1];
	const struct genlmsghdr *g;
	struct svc_rec *s = &w->scratch;

	s->family = 0;			/* no Service (yet) */
	if (family_msg(h, &g, tb, why, whylen))
		return -1;
	switch (g->cmd) {
	case KCIP_CMD_SERVICE_GET:
		if (!get_u64(tb[KCIP_A_GENERATION], gen))
			return WHY("SERVICE_GET reply without a generation");
		if (tb[KCIP_A_SERVICE] &&
		    parse_service(tb[KCIP_A_SERVICE], SVC_FULL, s, why, whylen))
			return -1;
		return 0;
	case KCIP_CMD_RESTORE_COMMIT:
		if (!get_u64(tb[KCIP_A_GENERATION], gen))
			return WHY("RESTORE_COMMIT reply without a generation");
		return check_restore_counts(tb[KCIP_A_RESTORE], why, whylen);
	case KCIP_CMD_EXPLAIN: {
		const struct nlattr *et[KCIP_A_EXPLAIN_MAX + 1];
		const struct nlattr *e = tb[KCIP_A_EXPLAIN];
		uint8_t res, np, aff, st;
		uint32_t elig;
		struct be_rec b;

		if (!e || !(e->nla_type & NLA_F_NESTED) ||
		    attrs(adata(e), alen(e), et, KCIP_A_EXPLAIN_MAX))
			return WHY("EXPLAIN reply without a well-formed explain nest");
		if (!get_u8(et[KCIP_A_EXPLAIN_RESULT], &res) ||
		    res >= __KCIP_EXPLAIN_MAX ||
		    !get_u8(et[KCIP_A_EXPLAIN_NODEPORT], &np) || np > 1 ||
		    !get_u8(et[KCIP_A_EXPLAIN_AFFINITY], &aff) || aff > 1)
			return WHY("EXPLAIN: result, nodeport or affinity missing or out of range");
		if (res == KCIP_EXPLAIN_NO_SERVICE) {
			if (tb[KCIP_A_SERVICE] || tb[KCIP_A_BACKEND])
				return WHY("EXPLAIN: no Service, but a Service or backend");
			return 0;
		}
		if (!get_u32(et[KCIP_A_EXPLAIN_ELIGIBLE], &elig) ||
		    !get_u8(et[KCIP_A_EXPLAIN_STATE], &st) ||
		    st > KCIP_BE_STATE_MAX)
			return WHY("EXPLAIN: eligible or state missing or out of range");
		if (!tb[KCIP_A_SERVICE] ||
		    parse_service(tb[KCIP_A_SERVICE], SVC_OPTS, s, why, whylen))
			return tb[KCIP_A_SERVICE] ? -1 :
			       WHY("EXPLAIN: a Service matched but is not in the reply");
		if ((res == KCIP_EXPLAIN_BACKEND) != !!tb[KCIP_A_BACKEND])
			return WHY("EXPLAIN: result %u with%s a backend", res,
				   tb[KCIP_A_BACKEND] ? "" : "out");
		if (tb[KCIP_A_BACKEND] &&
		    parse_backend(tb[KCIP_A_BACKEND], s->family, &b, why,
				  whylen))
			return -1;
		return 0;
	}
	}
	return WHY("reply with command %u", g->cmd);
}

/* An ack's structure, extack TLVs included. */
static int check_ack(struct worker *w, const struct nlmsghdr *h, int *error,
		     char *why, size_t whylen)
{
	size_t plen = h->nlmsg_len - NLMSG_HDRLEN, off;
	const uint8_t *p = (const uint8_t *)h + NLMSG_HDRLEN;
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct nlmsgerr e;

	if (plen < sizeof(e))
		return WHY("ack of %zu bytes", plen);
	memcpy(&e, p, sizeof(e));
	if (e.error > 0 || e.error < -4095)
		return WHY("ack with error %d", e.error);
	*error = -e.error;
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return 0;
	off = sizeof(e);
	if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
		if (e.msg.nlmsg_len < NLMSG_HDRLEN)
			return WHY("ack echoes a request of %u bytes",
				   e.msg.nlmsg_len);
		off += e.msg.nlmsg_len - NLMSG_HDRLEN;
	}
	off = NLMSG_ALIGN(off);
	if (off > plen || attrs(p + off, plen - off, tb, NLMSGERR_ATTR_MAX))
		return WHY("ack with malformed extack attributes");
	if (tb[NLMSGERR_ATTR_MSG]) {
		const struct nlattr *a = tb[NLMSGERR_ATTR_MSG];

		if (!alen(a) || adata(a)[alen(a) - 1])
			return WHY("extack message not NUL-terminated");
		if (opt_verbose && *error && w && w->extack_shown < 5) {
			w->extack_shown++;
			say("nlfuzz: thread %u: %s: errno %d: %s\n", w->idx,
			    w->what, *error, (const char *)adata(a));
		}
	}
	return 0;
}

/* ------------------------------------------------------------ exchange */

enum result { R_ACCEPTED, R_REFUSED, R_SILENT, R_FAILED };

static void count(struct worker *w, enum result r, int err)
{
	switch (r) {
	case R_ACCEPTED:
		w->st.accepted++;
		break;
	case R_REFUSED:
		w->st.refused++;
		w->st.by_errno[err > 0 && err < NERRNO ? err : 0]++;
		break;
	case R_SILENT:
		w->st.silent++;
		break;
	case R_FAILED:
		break;
	}
}

static int send_buf(struct worker *w, const void *b, size_t len)
{
	ssize_t n;

	do {
		n = mnl_socket_sendto(w->nl, b, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != len) {
		worker_fail(w, &w->st.sockerr, "sendto: %s",
			    n < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return 0;
}

/*
 * Netlink parses what follows a message's nlmsg_len in a datagram as more
 * messages (cut or padded requests leave such tails): point every one of
 * them that the kernel would hand to a family at ours, so that no other
 * family gets our junk and a bug found is this family's.  The first
 * message's type is ours or a safe one by construction.
 */
static void keep_to_family(uint8_t *b, size_t len)
{
	size_t off = 0, step;
	struct nlmsghdr h;

	while (len - off >= NLMSG_HDRLEN) {
		memcpy(&h, b + off, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - off)
			break;		/* the kernel stops here too */
		if (off && h.nlmsg_type >= NLMSG_MIN_TYPE &&
		    h.nlmsg_type != family_id)
			memcpy(b + off + offsetof(struct nlmsghdr, nlmsg_type),
			       &family_id, sizeof(family_id));
		step = NLMSG_ALIGN(h.nlmsg_len);
		off += step < len - off ? step : len - off;
	}
}

/*
 * Send w->tx (w->txlen bytes) and collect what the kernel answers for it.
 *
 * What the kernel owes a datagram follows from its first header as sent:
 * one it cannot parse (short, or longer than the datagram) is dropped
 * silently; a request of our family with NLM_F_ACK, or a dump, gets an
 * answer; anything else may get one or not (no NLM_F_ACK and success,
 * control messages, other types).  Netlink handles a request in the
 * sender's sendmsg(), in order, so a NLMSG_NOOP probe with NLM_F_ACK sent
 * right after it is acked after whatever the request got: the probe's ack
 * ends the wait.  Answers to other sequence numbers (junk after the first
 * header is parsed as more messages) are strays.
 */
static enum result exchange(struct worker *w, int *errp)
{
	bool must = false, known = false, final = false, probing, probed = false;
	uint32_t seq = 0, probe_seq = 0;
	uint16_t rflags = 0;
	char why[512];
	int error = 0;

	*errp = 0;
	w->prev.family = 0;
	keep_to_family(w->tx, w->txlen);
	if (w->txlen >= NLMSG_HDRLEN) {
		struct nlmsghdr h;

		memcpy(&h, w->tx, sizeof(h));
		if (h.nlmsg_len >= NLMSG_HDRLEN && h.nlmsg_len <= w->txlen) {
			known = true;
			seq = h.nlmsg_seq;
			rflags = h.nlmsg_flags;
			if (!(rflags & NLM_F_REQUEST) ||
			    h.nlmsg_type < NLMSG_MIN_TYPE)
				must = rflags & NLM_F_ACK;
			else if (h.nlmsg_type == family_id)
				must = (rflags & NLM_F_ACK) ||
				       (rflags & NLM_F_DUMP) == NLM_F_DUMP;
		}
	}
	if (opt_trace) {
		char h[1100];

		hex(h, sizeof(h), w->tx, w->txlen);
		say("nlfuzz: T%u #%" PRIu64 " %s len %zu: %s\n", w->idx,
		    w->st.sent, w->what, w->txlen, h);
	}
	w->st.sent++;
	if (send_buf(w, w->tx, w->txlen))
		return R_FAILED;
	probing = !must;
	if (probing) {
		struct nlmsghdr p = {
			.nlmsg_len = NLMSG_HDRLEN,
			.nlmsg_type = NLMSG_NOOP,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
			.nlmsg_seq = probe_seq = PROBE_SEQ | ++w->probe,
		};

		if (send_buf(w, &p, sizeof(p)))
			return R_FAILED;
	}

	while (probing ? !probed : !final) {
		struct sockaddr_nl sa;
		struct iovec iov = { w->rx, RX_MAX };
		struct msghdr mh = {
			.msg_name = &sa, .msg_namelen = sizeof(sa),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		size_t off, n;
		ssize_t r;

		r = recvmsg(mnl_socket_get_fd(w->nl), &mh, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			worker_fail(w, &w->st.noanswer,
				    "no answer within %u s (%s)", opt_wait,
				    probing ? "to the probe after it" :
					      "it asked for one");
			return R_FAILED;
		}
		if (r < 0) {
			worker_fail(w, &w->st.sockerr, "recvmsg: %s",
				    strerror(errno));
			return R_FAILED;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			worker_fail(w, &w->st.bad, "answer of more than %d bytes",
				    RX_MAX);
			return R_FAILED;
		}
		if (sa.nl_pid != 0) {
			w->st.stray++;
			continue;
		}
		n = (size_t)r;
		for (off = 0; off + NLMSG_HDRLEN <= n;) {
			const struct nlmsghdr *h = (const void *)(w->rx + off);
			uint64_t gen = 0;

			if (h->nlmsg_len < NLMSG_HDRLEN ||
			    h->nlmsg_len > n - off) {
				worker_fail(w, &w->st.bad,
					    "answer with nlmsg_len %u in %zu bytes",
					    h->nlmsg_len, n - off);
				return R_FAILED;
			}
			off += NLMSG_ALIGN(h->nlmsg_len);

			if (h->nlmsg_type == family_id &&
			    check_reply(w, h, &gen, why, sizeof(why))) {
				worker_fail(w, &w->st.bad, "bad reply: %s", why);
				return R_FAILED;
			}
			if (gen > w->last_gen)
				w->last_gen = gen;
			/* a Service too big for one dump message goes on in
			 * the next: count it, to see the fuzz gets there */
			if (h->nlmsg_type == family_id && w->scratch.family &&
			    (h->nlmsg_flags & NLM_F_MULTI)) {
				const struct svc_rec *a = &w->scratch, *b = &w->prev;

				if (a->family == b->family && a->proto == b->proto &&
				    a->port == b->port &&
				    !memcmp(a->addr, b->addr, 16))
					w->st.continued++;
				w->prev.family = a->family;
				w->prev.proto = a->proto;
				w->prev.port = a->port;
				memcpy(w->prev.addr, a->addr, 16);
			}
			if (h->nlmsg_type == NLMSG_ERROR &&
			    check_ack(w, h, &error, why, sizeof(why))) {
				worker_fail(w, &w->st.bad, "bad ack: %s", why);
				return R_FAILED;
			}
			if (probing && h->nlmsg_seq == probe_seq) {
				if (h->nlmsg_type != NLMSG_ERROR || error) {
					worker_fail(w, &w->st.bad,
						    "probe answered with type %u error %d",
						    h->nlmsg_type, error);
					return R_FAILED;
				}
				probed = true;
				continue;
			}
			if (!known || h->nlmsg_seq != seq || final) {
				w->st.stray++;
				continue;
			}
			switch (h->nlmsg_type) {
			case NLMSG_ERROR:
				*errp = error;
				final = true;
				break;
			case NLMSG_DONE: {
				int32_t e = 0;

				if (h->nlmsg_len >= NLMSG_HDRLEN + 4)
					memcpy(&e, (const uint8_t *)h +
					       NLMSG_HDRLEN, 4);
				if (e > 0 || e < -4095) {
					worker_fail(w, &w->st.bad,
						    "NLMSG_DONE with error %d", e);
					return R_FAILED;
				}
				*errp = -e;
				final = true;
				break;
			}
			default:
				if (h->nlmsg_type != family_id) {
					worker_fail(w, &w->st.bad,
						    "answer of type %u",
						    h->nlmsg_type);
					return R_FAILED;
				}
				/* a doit's reply ends it unless an ack follows */
				if (!(h->nlmsg_flags & NLM_F_MULTI) &&
				    !(rflags & NLM_F_ACK))
					final = true;
				break;
			}
		}
		if (off < n) {
			worker_fail(w, &w->st.bad, "%zu stray bytes after the answers",
				    n - off);
			return R_FAILED;
		}
	}
	if (!final)
		return R_SILENT;
	return *errp ? R_REFUSED : R_ACCEPTED;
}

/* Send w->tx and count the outcome; the result for the caller. */
static enum result xfer(struct worker *w)
{
	enum result r;
	int err;

	r = exchange(w, &err);
	count(w, r, err);
	return r;
}

/* ------------------------------------------------------------ templates */

struct svc_id {
	uint16_t family;
	uint8_t proto;
	uint8_t addr[16];
	uint16_t port;			/* network order */
};

enum {
	O_SCHED = 1 << 0, O_AFF = 1 << 1, O_AFF_TIMEOUT = 1 << 2,
	O_TP = 1 << 3, O_NOEP = 1 << 4, O_FLAGS = 1 << 5, O_MASK = 1 << 6,
	O_QUAR = 1 << 7, O_WEIGHT = 1 << 8, O_STATE = 1 << 9,
};

struct svc_opts {
	uint32_t has;
	uint8_t sched, affinity, tp, noep;
	uint32_t aff_timeout, flags, mask, quarantine;
};

struct be_spec {
	uint8_t addr[16];
	uint16_t port;
	uint32_t has;
	uint32_t weight, flags, mask;
	uint8_t state;
};

static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_TCP, IPPROTO_TCP,
				  IPPROTO_UDP, IPPROTO_UDP, IPPROTO_SCTP };

/* VIP number @i of the family: 10.96.0.i, fd00::i (0..15) */
static void vip(uint16_t family, unsigned int i, uint8_t *a)
{
	memset(a, 0, 16);
	if (family == AF_INET) {
		a[0] = 10;
		a[1] = 96;
		a[3] = (uint8_t)i;
	} else {
		a[0] = 0xfd;
		a[15] = (uint8_t)i;
	}
}

/* backend address number @i: 10.244.0.i, fd00:244::i (0..15) */
static void be_addr(uint16_t family, unsigned int i, uint8_t *a)
{
	memset(a, 0, 16);
	if (family == AF_INET) {
		a[0] = 10;
		a[1] = 244;
		a[3] = (uint8_t)i;
	} else {
		a[0] = 0xfd;
		a[2] = 0x02;
		a[3] = 0x44;
		a[15] = (uint8_t)i;
	}
}

static void pick_svc(struct rng *r, struct svc_id *s)
{
	s->family = chance(r, 60) ? AF_INET : AF_INET6;
	s->proto = protos[below(r, sizeof(protos))];
	if (chance(r, 5))
		memset(s->addr, 0, sizeof(s->addr));	/* NodePort */
	else
		vip(s->family, skewed(r, 16), s->addr);
	s->port = htons((uint16_t)(1 + skewed(r, 4)));
}

/*
 * Service number @v of the space: 2 families x 3 protocols x 16 VIPs x 4
 * ports (384): distinct numbers are distinct Services.
 */
#define SVC_SPACE	384

static void svc_n(unsigned int v, struct svc_id *s)
{
	static const uint8_t p3[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };

	v %= SVC_SPACE;
	s->family = v < SVC_SPACE / 2 ? AF_INET : AF_INET6;
	s->proto = p3[(v / 64) % 3];
	vip(s->family, (v / 4) % 16, s->addr);
	s->port = htons((uint16_t)(v % 4 + 1));
}

static void pick_opts(struct rng *r, struct svc_opts *o, bool change)
{
	static const uint32_t timeouts[] = { 1, 60, 10800, 86400 };
	static const uint32_t quarantines[] = { 1, 10, 3600 };

	memset(o, 0, sizeof(*o));
	if (chance(r, 30)) {
		o->has |= O_SCHED;
		o->sched = (uint8_t)below(r, KCIP_SCHED_MAX + 1);
	}
	if (chance(r, 25)) {
		o->has |= O_AFF;
		o->affinity = (uint8_t)below(r, KCIP_AFFINITY_MAX + 1);
	}
	if (chance(r, 20)) {
		o->has |= O_AFF_TIMEOUT;
		o->aff_timeout = chance(r, 50) ? timeouts[below(r, 4)] :
			1 + below(r, KCIP_MAX_AFFINITY_TIMEOUT);
	}
	if (chance(r, 25)) {
		o->has |= O_TP;
		o->tp = (uint8_t)below(r, KCIP_TRAFFIC_POLICY_MAX + 1);
	}
	if (chance(r, 25)) {
		o->has |= O_NOEP;
		o->noep = (uint8_t)below(r, KCIP_NO_ENDPOINTS_MAX + 1);
	}
	if (chance(r, 30)) {
		o->has |= O_FLAGS;
		o->flags = below(r, __KCIP_SVC_F_ALL + 1);
	}
	if (change && chance(r, 30)) {
		o->has |= O_MASK;
		o->mask = below(r, __KCIP_SVC_F_ALL + 1);
	}
	if (chance(r, 20)) {
		o->has |= O_QUAR;
		o->quarantine = chance(r, 50) ? quarantines[below(r, 3)] :
			1 + below(r, KCIP_MAX_QUARANTINE);
	}
}

/* backend number @v (0..63) of the space: address v / 4, port v % 4 + 1 */
static void pick_be_n(struct rng *r, uint16_t family, unsigned int v,
		      struct be_spec *b, bool change)
{
	static const uint32_t weights[] = { 0, 1, 2, 100, KCIP_MAX_WEIGHT };

	memset(b, 0, sizeof(*b));
	be_addr(family, (v / 4) % 16, b->addr);
	b->port = htons((uint16_t)(v % 4 + 1));
	if (chance(r, 40)) {
		b->has |= O_WEIGHT;
		b->weight = chance(r, 60) ? weights[below(r, 5)] :
			below(r, KCIP_MAX_WEIGHT + 1);
	}
	if (chance(r, 30)) {
		b->has |= O_STATE;
		b->state = (uint8_t)below(r, KCIP_BE_STATE_MAX + 1);
	}
	if (chance(r, 20)) {
		b->has |= O_FLAGS;
		b->flags = below(r, __KCIP_BE_F_ALL + 1);
	}
	if (change && chance(r, 20)) {
		b->has |= O_MASK;
		b->mask = below(r, __KCIP_BE_F_ALL + 1);
	}
}

static void pick_be(struct rng *r, uint16_t family, struct be_spec *b,
		    bool change)
{
	unsigned int a = skewed(r, 16), p = skewed(r, 4);

	pick_be_n(r, family, a * 4 + p, b, change);
}

static void put_addr(struct msg *m, int parent, uint16_t family, int a4,
		     int a6, const uint8_t *a)
{
	if (family == AF_INET)
		m_add(m, parent, (uint16_t)a4, false, a, 4);
	else
		m_add(m, parent, (uint16_t)a6, false, a, 16);
}

static int put_svc(struct msg *m, int parent, const struct svc_id *s,
		   const struct svc_opts *o)
{
	int n = m_nest(m, parent, KCIP_A_SERVICE);

	m_u16(m, n, KCIP_A_SVC_FAMILY, s->family);
	m_u8(m, n, KCIP_A_SVC_PROTO, s->proto);
	put_addr(m, n, s->family, KCIP_A_SVC_ADDR4, KCIP_A_SVC_ADDR6, s->addr);
	m_u16(m, n, KCIP_A_SVC_PORT, s->port);
	if (!o)
		return n;
	if (o->has & O_SCHED)
		m_u8(m, n, KCIP_A_SVC_SCHED, o->sched);
	if (o->has & O_AFF)
		m_u8(m, n, KCIP_A_SVC_AFFINITY, o->affinity);
	if (o->has & O_AFF_TIMEOUT)
		m_u32(m, n, KCIP_A_SVC_AFFINITY_TIMEOUT, o->aff_timeout);
	if (o->has & O_TP)
		m_u8(m, n, KCIP_A_SVC_TRAFFIC_POLICY, o->tp);
	if (o->has & O_NOEP)
		m_u8(m, n, KCIP_A_SVC_NO_ENDPOINTS, o->noep);
	if (o->has & O_FLAGS)
		m_u32(m, n, KCIP_A_SVC_FLAGS, o->flags);
	if (o->has & O_MASK)
		m_u32(m, n, KCIP_A_SVC_FLAGS_MASK, o->mask);
	if (o->has & O_QUAR)
		m_u32(m, n, KCIP_A_SVC_QUARANTINE, o->quarantine);
	return n;
}

static void put_be(struct msg *m, int parent, uint16_t family,
		   const struct be_spec *b, bool opts)
{
	int n = m_nest(m, parent, KCIP_A_BACKEND);

	put_addr(m, n, family, KCIP_A_BE_ADDR4, KCIP_A_BE_ADDR6, b->addr);
	m_u16(m, n, KCIP_A_BE_PORT, b->port);
	if (!opts)
		return;
	if (b->has & O_WEIGHT)
		m_u32(m, n, KCIP_A_BE_WEIGHT, b->weight);
	if (b->has & O_STATE)
		m_u8(m, n, KCIP_A_BE_STATE, b->state);
	if (b->has & O_FLAGS)
		m_u32(m, n, KCIP_A_BE_FLAGS, b->flags);
	if (b->has & O_MASK)
		m_u32(m, n, KCIP_A_BE_FLAGS_MASK, b->mask);
}

/*
 * A RESTORE_SERVICE's Service nest with @nbe backends, numbers @first,
 * @first + 1, ... of the backend space (distinct up to 64 of them).
 */
static void put_restore_svc(struct worker *w, const struct svc_id *s,
			    const struct svc_opts *o, unsigned int first,
			    unsigned int nbe)
{
	struct msg *m = w->m;
	int n = put_svc(m, 0, s, o), bn;
	struct be_spec b;
	unsigned int i;

	if (!nbe && chance(&w->rng, 50))
		return;
	bn = m_nest(m, n, KCIP_A_SVC_BACKENDS);
	for (i = 0; i < nbe; i++) {
		pick_be_n(&w->rng, s->family, (first + i) % 64, &b, false);
		put_be(m, bn, s->family, &b, true);
	}
}

static void put_explain(struct worker *w)
{
	struct rng *r = &w->rng;
	struct msg *m = w->m;
	struct svc_id s;
	uint8_t src[16], dst[16];
	int n;

	pick_svc(r, &s);
	memcpy(dst, s.addr, 16);
	memset(src, 0, 16);
	if (s.family == AF_INET) {
		src[0] = 10;
		src[3] = (uint8_t)(1 + below(r, 250));
		if (addr_any(AF_INET, dst)) {	/* a local address: NodePort */
			dst[0] = 127;
			dst[3] = 1;
		}
	} else {
		src[0] = 0xfd;
		src[1] = 1;
		src[15] = (uint8_t)(1 + below(r, 250));
		if (addr_any(AF_INET6, dst))
			dst[15] = 1;
	}
	n = m_nest(m, 0, KCIP_A_EXPLAIN);
	m_u16(m, n, KCIP_A_EXPLAIN_FAMILY, s.family);
	m_u8(m, n, KCIP_A_EXPLAIN_PROTO, s.proto);
	put_addr(m, n, s.family, KCIP_A_EXPLAIN_SRC4, KCIP_A_EXPLAIN_SRC6, src);
	m_u16(m, n, KCIP_A_EXPLAIN_SPORT, htons((uint16_t)(1 + below(r, 65535))));
	put_addr(m, n, s.family, KCIP_A_EXPLAIN_DST4, KCIP_A_EXPLAIN_DST6, dst);
	m_u16(m, n, KCIP_A_EXPLAIN_DPORT, s.port);
}

/* A valid request for @cmd in w->m. */
static void build_cmd(struct worker *w, uint8_t cmd)
{
	struct rng *r = &w->rng;
	struct msg *m = w->m;
	struct svc_opts o;
	struct be_spec b;
	struct svc_id s;
	int n;

	m_reset(m, NLM_F_REQUEST | NLM_F_ACK, ++w->seq, cmd);
	switch (cmd) {
	case KCIP_CMD_SERVICE_NEW:
	case KCIP_CMD_SERVICE_SET:
		pick_svc(r, &s);
		pick_opts(r, &o, cmd == KCIP_CMD_SERVICE_SET);
		put_svc(m, 0, &s, &o);
		break;
	case KCIP_CMD_SERVICE_DEL:
		pick_svc(r, &s);
		put_svc(m, 0, &s, NULL);
		break;
	case KCIP_CMD_SERVICE_GET:
		pick_svc(r, &s);
		put_svc(m, 0, &s, NULL);
		if (chance(r, 20))
			m_u32(m, 0, KCIP_A_FLAGS, KCIP_OP_F_ACTIVE);
		break;
	case KCIP_CMD_BACKEND_NEW:
	case KCIP_CMD_BACKEND_SET:
	case KCIP_CMD_BACKEND_DEL:
		pick_svc(r, &s);
		pick_be(r, s.family, &b, cmd == KCIP_CMD_BACKEND_SET);
		put_svc(m, 0, &s, NULL);
		put_be(m, 0, s.family, &b, cmd != KCIP_CMD_BACKEND_DEL);
		if (cmd == KCIP_CMD_BACKEND_DEL && chance(r, 30))
			m_u32(m, 0, KCIP_A_FLAGS, KCIP_OP_F_FLUSH_TCP);
		break;
	case KCIP_CMD_RESTORE_SERVICE:
		pick_svc(r, &s);
		pick_opts(r, &o, false);
		n = (int)below(r, 6);
		put_restore_svc(w, &s, &o, below(r, 64), (unsigned int)n);
		if (chance(r, 20))
			m_u32(m, 0, KCIP_A_FLAGS, KCIP_OP_F_APPEND);
		break;
	case KCIP_CMD_RESTORE_COMMIT:
		if (chance(r, 40))
			m_u64(m, 0, KCIP_A_GENERATION,
			      chance(r, 70) ? w->last_gen : rnd(r));
		break;
	case KCIP_CMD_EXPLAIN:
		put_explain(w);
		break;
	default:	/* FLUSH, RESTORE_BEGIN, RESTORE_ABORT: no attributes */
		break;
	}
}

/* ------------------------------------------------------------ mutations */

enum {
	/* on the tree */
	MT_DROP, MT_DUP, MT_OVERSIZE, MT_RESIZE, MT_RETYPE, MT_UNKNOWN,
	MT_DEEP, MT_FLAGBITS, MT_LENLIE, MT_VALUE, MT_VALUE2, MT_SHUFFLE,
	MT_MOVE, MT_EMPTY, MT_SWAPNEST,
	/* on the headers */
	MH_FLAGS, MH_CMD, MH_VERSION, MH_TYPE, MH_SEQ,
	/* on the bytes */
	MB_BITFLIP, MB_BYTES, MB_TRUNC, MB_JUNK, MB_NLMSGLEN,
	__M_MAX
};

static const char *const mnames[] = {
	"drop", "dup", "oversize", "resize", "retype", "unknown", "deep",
	"flagbits", "lenlie", "value", "value", "shuffle", "move", "empty",
	"swapnest", "hdrflags", "cmd", "version", "type", "seq", "bitflip",
	"bytes", "trunc", "junk", "nlmsglen",
};

static int pick_node(struct worker *w, int f)
{
	int n = m_collect(w->m, w->pick, f);

	return n ? w->pick[below(&w->rng, (uint32_t)n)] : -1;
}

/* is @a inside the subtree of @b (or @b itself)? */
static bool inside(const struct msg *m, int a, int b)
{
	for (; a >= 0; a = m->n[a].parent)
		if (a == b)
			return true;
	return false;
}

/* values at the edges of what the policies accept, or just past them */
static void mut_value(struct worker *w)
{
	static const uint8_t v8[] = { 0, 1, 2, 3, 4, 6, 17, 132, 0x7f, 0x80,
				      0xff };
	static const uint16_t v16[] = { 0, 1, 2, 3, 4, AF_INET, AF_INET6, 99,
					0x100, 0x200, 0x300, 0x400, 0x7fff,
					0x8000, 0xffff };
	static const uint32_t v32[] = { 0, 1, 2, 3, 4, 7, 0xff, 3600, 3601,
					10800, 65535, 65536, 86400, 86401,
					0x7fffffff, 0x80000000, 0xffffffff };
	struct rng *r = &w->rng;
	struct msg *m = w->m;
	int i = pick_node(w, F_LEAF);
	uint8_t *p;
	uint32_t len;

	if (i < 0)
		return;
	p = m->heap + m->n[i].off;
	len = m->n[i].len;
	if (chance(r, 15)) {
		rnd_bytes(r, p, len);
		return;
	}
	switch (len) {
	case 0:
		break;
	case 1:
		p[0] = v8[below(r, sizeof(v8))];
		break;
	case 2: {
		uint16_t v = v16[below(r, sizeof(v16) / sizeof(v16[0]))];

		memcpy(p, &v, 2);
		break;
	}
	case 4: {
		uint32_t v = v32[below(r, sizeof(v32) / sizeof(v32[0]))];

		if (chance(r, 25)) {	/* an address */
			static const uint8_t a4[][4] = {
				{ 0, 0, 0, 0 }, { 224, 0, 0, 1 },
				{ 255, 255, 255, 255 }, { 127, 0, 0, 1 },
				{ 0, 1, 2, 3 }, { 10, 96, 0, 15 },
			};

			memcpy(p, a4[below(r, 6)], 4);
		} else {
			memcpy(p, &v, 4);
		}
		break;
	}
	case 8: {
		uint64_t v = chance(r, 50) ? w->last_gen + below(r, 3) : rnd(r);

		if (chance(r, 20))
			v = chance(r, 50) ? 0 : ~0ULL;
		memcpy(p, &v, 8);
		break;
	}
	case 16: {
		static const uint8_t mc[16] = { 0xff, 0x02, [15] = 1 };
		static const uint8_t lo[16] = { [15] = 1 };
		static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff,
						    10, 96, 0, 1 };

		switch (below(r, 4)) {
		case 0:
			memset(p, 0, 16);
			break;
		case 1:
			memcpy(p, mc, 16);
			break;
		case 2:
			memcpy(p, lo, 16);
			break;
		default:
			memcpy(p, mapped, 16);
			break;
		}
		break;
	}
	default:
		p[below(r, len)] ^= (uint8_t)(1 << below(r, 8));
		break;
	}
}

/* Apply tree or header mutation @k to w->m; false if it found no target. */
static bool mutate_tree(struct worker *w, int k)
{
	struct rng *r = &w->rng;
	struct msg *m = w->m;
	int i, p, c, d, depth;

	switch (k) {
	case MT_DROP:			/* a missing attribute */
		i = pick_node(w, F_ANY);
		if (i < 0)
			return false;
		m_unlink(m, i);
		return true;
	case MT_DUP:			/* the same attribute twice */
		i = pick_node(w, F_ANY);
		if (i < 0)
			return false;
		c = m_copy(m, i, m->n[i].parent, 0);
		if (c >= 0 && chance(r, 50)) {	/* the copy first */
			m_unlink(m, c);
			p = m->n[i].parent;
			m->n[c].parent = p;
			m->n[c].next = m->n[p].first;
			m->n[p].first = c;
		}
		return true;
	case MT_OVERSIZE:		/* a leaf far longer than its type */
		i = pick_node(w, F_LEAF);
		if (i < 0)
			return false;
		d = chance(r, 70) ? (int)(5 + below(r, 60)) :
				    (int)(200 + below(r, 8000));
		if ((uint32_t)d > HEAP_MAX - m->hused)
			return false;
		m->n[i].off = (uint16_t)m->hused;
		m->n[i].len = (uint16_t)d;
		rnd_bytes(r, m->heap + m->hused, (size_t)d);
		m->hused += (uint32_t)d;
		return true;
	case MT_RESIZE:			/* wrong length: cut or padded */
		i = pick_node(w, F_LEAF);
		if (i < 0)
			return false;
		if (m->n[i].len && chance(r, 60)) {
			m->n[i].len = (uint16_t)below(r, m->n[i].len);
		} else {
			d = (int)(1 + below(r, 4));
			if ((uint32_t)(m->n[i].len + d) > HEAP_MAX - m->hused)
				return false;
			memcpy(m->heap + m->hused, m->heap + m->n[i].off,
			       m->n[i].len);
			m->n[i].off = (uint16_t)m->hused;
			memset(m->heap + m->hused + m->n[i].len, 0, (size_t)d);
			m->n[i].len = (uint16_t)(m->n[i].len + d);
			m->hused += m->n[i].len;
		}
		return true;
	case MT_RETYPE:			/* another (known) type's place */
		i = pick_node(w, F_ANY);
		if (i < 0)
			return false;
		m->n[i].type = (uint16_t)((m->n[i].type & ~NLA_TYPE_MASK) |
					  (chance(r, 80) ? below(r, 18) :
					   below(r, NLA_TYPE_MASK + 1)));
		return true;
	case MT_UNKNOWN: {		/* a type past every max */
		uint8_t junk[8];
		uint16_t t = chance(r, 70) ? (uint16_t)(KCIP_A_SVC_MAX + 1 +
							below(r, 8)) :
			     (uint16_t)below(r, NLA_TYPE_MASK + 1);

		p = pick_node(w, F_PARENT);
		rnd_bytes(r, junk, sizeof(junk));
		if (chance(r, 20))
			m_nest(m, p, t);
		else
			m_add(m, p, t, false, junk, below(r, 9));
		return true;
	}
	case MT_DEEP:			/* nests in nests, many levels */
		p = pick_node(w, F_PARENT);
		c = chance(r, 60) ? pick_node(w, F_ANY) : -1;
		depth = chance(r, 80) ? (int)(2 + below(r, 30)) :
					(int)(30 + below(r, 400));
		for (d = 0; d < depth && p >= 0; d++) {
			static const uint16_t types[] = {
				KCIP_A_SERVICE, KCIP_A_BACKEND,
				KCIP_A_SVC_BACKENDS, KCIP_A_EXPLAIN,
				KCIP_A_RESTORE, 1,
			};
			uint16_t t = chance(r, 80) ? types[below(r, 6)] :
				     (uint16_t)below(r, 20);

			p = m_nest(m, p, t);
		}
		if (p >= 0 && c >= 0)
			m_copy(m, c, p, 0);
		return true;
	case MT_FLAGBITS:		/* NLA_F_NESTED / NET_BYTEORDER wrong */
		i = pick_node(w, F_ANY);
		if (i < 0)
			return false;
		m->n[i].type ^= chance(r, 70) ? NLA_F_NESTED :
						NLA_F_NET_BYTEORDER;
		return true;
	case MT_LENLIE:			/* nla_len says more or less */
		i = pick_node(w, F_ANY);
		if (i < 0)
			return false;
		switch (below(r, 4)) {
		case 0:
			m->n[i].len_lie = (int16_t)(-1 - (int)below(r, 8));
			break;
		case 1:
			m->n[i].len_lie = (int16_t)(1 + below(r, 16));
			break;
		case 2:
			m->n[i].len_lie = -0x7fff;	/* nla_len 0 */
			break;
		default:
			m->n[i].len_lie = (int16_t)(below(r, 2000));
			break;
		}
		return true;
	case MT_VALUE:
	case MT_VALUE2:
		mut_value(w);
		return true;
	case MT_SHUFFLE:		/* other order: must not matter */
		p = pick_node(w, F_PARENT);
		i = m->n[p].first;
		if (i < 0 || m->n[i].next < 0)
			return false;
		for (d = 0; d < 4; d++) {
			c = m->n[p].first;
			for (i = (int)below(r, 4); i > 0 && m->n[c].next >= 0; i--)
				c = m->n[c].next;
			m_unlink(m, c);
			m_link(m, p, c);
		}
		return true;
	case MT_MOVE:			/* an attribute in the wrong nest */
		i = pick_node(w, F_ANY);
		p = pick_node(w, F_PARENT);
		if (i < 0 || p < 0 || inside(m, p, i))
			return false;
		m_unlink(m, i);
		m_link(m, p, i);
		return true;
	case MT_EMPTY:			/* a nest with nothing in it */
		i = pick_node(w, F_NEST);
		if (i < 0) {
			m_nest(m, 0, (uint16_t)(1 + below(r, KCIP_A_MAX)));
			return true;
		}
		m->n[i].first = m->n[i].last = -1;
		return true;
	case MT_SWAPNEST:		/* a leaf turned nest, holding junk */
		i = pick_node(w, F_LEAF);
		if (i < 0)
			return false;
		m->n[i].nest = true;
		m->n[i].type |= NLA_F_NESTED;
		m->n[i].first = m->n[i].last = -1;
		if (chance(r, 60))
			m_u32(m, i, (uint16_t)(1 + below(r, 16)), (uint32_t)rnd(r));
		return true;
	case MH_FLAGS:
		switch (below(r, 7)) {
		case 0:
			m->flags |= NLM_F_DUMP;		/* a dump of a doit */
			break;
		case 1:
			m->flags &= ~NLM_F_ACK;
			break;
		case 2:
			m->flags &= ~NLM_F_REQUEST;
			break;
		case 3:
			m->flags |= NLM_F_ROOT;		/* half a dump */
			break;
		case 4:
			m->flags |= NLM_F_ECHO;
			break;
		case 5:		/* NEW's and DELETE's flags, ignored by genl */
			m->flags |= (uint16_t)(0x100 << below(r, 4));
			break;
		default:
			m->flags = (uint16_t)rnd(r);
			break;
		}
		return true;
	case MH_CMD: {
		static const uint8_t cmds[] = {
			KCIP_CMD_UNSPEC, KCIP_CMD_BACKEND_QUARANTINE,
			__KCIP_CMD_MAX, __KCIP_CMD_MAX + 1, 100, 255,
		};

		m->cmd = chance(r, 50) ? cmds[below(r, sizeof(cmds))] :
					 (uint8_t)(1 + below(r, KCIP_CMD_MAX));
		return true;
	}
	case MH_VERSION:
		if (chance(r, 50))
			m->version = chance(r, 50) ? 0 : (uint8_t)rnd(r);
		else
			m->reserved = (uint16_t)rnd(r);
		return true;
	case MH_TYPE:
		/*
		 * Control messages or a type nobody has; never another
		 * family's id: a bug found must be this family's.
		 */
		m->type = chance(r, 60) ? (uint16_t)below(r, NLMSG_MIN_TYPE) :
			  (uint16_t)(0xf000 | below(r, 0x1000));
		return true;
	case MH_SEQ:
		if (chance(r, 50))
			m->seq = (uint32_t)rnd(r);
		else
			m->pid = chance(r, 50) ? (uint32_t)rnd(r) : 1;
		return true;
	}
	return false;
}

/* Byte-level mutation @k of w->tx; the type field is left alone. */
static void mutate_bytes(struct worker *w, int k)
{
	struct rng *r = &w->rng;
	uint8_t *b = w->tx;
	size_t len = w->txlen, pos, i, n;
	uint32_t v;

	switch (k) {
	case MB_BITFLIP:
		for (n = 1 + below(r, 4), i = 0; i < n && len > 6; i++) {
			pos = below(r, (uint32_t)len);
			if (pos == 4 || pos == 5)
				continue;
			b[pos] ^= (uint8_t)(1 << below(r, 8));
		}
		break;
	case MB_BYTES:
		for (n = 1 + below(r, 4), i = 0; i < n && len > NLMSG_HDRLEN; i++) {
			static const uint8_t vals[] = { 0, 0xff, 0x7f, 0x80, 1 };

			pos = NLMSG_HDRLEN + below(r, (uint32_t)(len - NLMSG_HDRLEN));
			b[pos] = chance(r, 50) ? vals[below(r, 5)] : (uint8_t)rnd(r);
		}
		break;
	case MB_TRUNC:			/* the message cut short */
		if (!len)
			break;
		w->txlen = chance(r, 80) ? NLMSG_HDRLEN + below(r,
				(uint32_t)(len > NLMSG_HDRLEN ? len - NLMSG_HDRLEN : 1)) :
			   below(r, (uint32_t)len);
		if (w->txlen > len)
			w->txlen = len;
		if (!w->txlen)		/* an empty datagram is no message */
			w->txlen = 1;
		if (w->txlen >= 4 && chance(r, 70)) {	/* and says so */
			v = (uint32_t)w->txlen;
			memcpy(b, &v, 4);
		}
		break;
	case MB_JUNK:			/* bytes after the attributes */
		n = 1 + below(r, chance(r, 80) ? 16 : 256);
		if (len + n > MSG_MAX)
			break;
		rnd_bytes(r, b + len, n);
		w->txlen = len + n;
		if (chance(r, 50)) {	/* inside the message, or after it */
			v = (uint32_t)w->txlen;
			memcpy(b, &v, 4);
		}
		break;
	case MB_NLMSGLEN:
		if (len < 4)
			break;
		switch (below(r, 5)) {
		case 0:
			v = (uint32_t)(len > NLMSG_HDRLEN ?
				NLMSG_HDRLEN + below(r, (uint32_t)(len - NLMSG_HDRLEN)) :
				len);
			break;
		case 1:
			v = (uint32_t)(len + 1 + below(r, 64));
			break;
		case 2:
			v = below(r, NLMSG_HDRLEN + 1);
			break;
		case 3:
			v = NLMSG_HDRLEN + GENL_HDRLEN - below(r, 4);
			break;
		default:
			v = (uint32_t)rnd(r);
			break;
		}
		memcpy(b, &v, 4);
		break;
	}
}

/* A random attribute soup under @parent, @depth levels at most. */
static void random_attrs(struct worker *w, int parent, int depth)
{
	struct rng *r = &w->rng;
	unsigned int n = below(&w->rng, 6), i;
	uint8_t junk[40];

	for (i = 0; i < n; i++) {
		uint16_t t = (uint16_t)(chance(r, 85) ? below(r, 18) :
					below(r, NLA_TYPE_MASK + 1));

		if (depth > 0 && chance(r, 30)) {
			int c = m_nest(w->m, parent, t);

			if (c >= 0)
				random_attrs(w, c, depth - 1);
		} else {
			size_t len = chance(r, 60) ?
				(size_t)(1u << below(r, 5)) : below(r, sizeof(junk));

			rnd_bytes(r, junk, len);
			m_add(w->m, parent, t, false, junk, len);
		}
	}
}

/* A random message in w->tx. */
static void build_random(struct worker *w)
{
	struct rng *r = &w->rng;
	struct msg *m = w->m;
	uint16_t flags;
	uint8_t cmd;
	uint32_t v;

	/* one draw after the other: argument order is unspecified in C */
	flags = chance(r, 80) ? NLM_F_REQUEST | NLM_F_ACK : (uint16_t)rnd(r);
	cmd = (uint8_t)below(r, chance(r, 90) ? __KCIP_CMD_MAX + 2 : 256);
	m_reset(m, flags, ++w->seq, cmd);
	if (chance(r, 10))
		m->version = (uint8_t)rnd(r);
	if (chance(r, 60)) {
		snprintf(w->what, sizeof(w->what), "random attributes, cmd %u",
			 m->cmd);
		random_attrs(w, 0, 3);
		w->txlen = m_emit(m, w->tx);
	} else {
		size_t n = below(r, 300);

		snprintf(w->what, sizeof(w->what), "random bytes, cmd %u",
			 m->cmd);
		w->txlen = m_emit(m, w->tx);
		rnd_bytes(r, w->tx + w->txlen, n);
		w->txlen += n;
		if (chance(r, 50))		/* the genl header too */
			rnd_bytes(r, w->tx + NLMSG_HDRLEN, GENL_HDRLEN);
		v = (uint32_t)w->txlen;
		memcpy(w->tx, &v, 4);
	}
	if (chance(r, 10))
		mutate_bytes(w, MB_NLMSGLEN);
}

/* ------------------------------------------------------------ operations */

static const struct {
	uint8_t cmd;
	unsigned int weight;
} cmd_weights[] = {
	{ KCIP_CMD_SERVICE_NEW, 14 }, { KCIP_CMD_SERVICE_SET, 8 },
	{ KCIP_CMD_SERVICE_DEL, 5 }, { KCIP_CMD_SERVICE_GET, 6 },
	{ KCIP_CMD_BACKEND_NEW, 22 }, { KCIP_CMD_BACKEND_SET, 10 },
	{ KCIP_CMD_BACKEND_DEL, 9 }, { KCIP_CMD_FLUSH, 1 },
	{ KCIP_CMD_RESTORE_BEGIN, 2 }, { KCIP_CMD_RESTORE_SERVICE, 3 },
	{ KCIP_CMD_RESTORE_COMMIT, 2 }, { KCIP_CMD_RESTORE_ABORT, 2 },
	{ KCIP_CMD_EXPLAIN, 8 },
};

static uint8_t pick_cmd(struct rng *r)
{
	unsigned int total = 0, i, x;

	for (i = 0; i < sizeof(cmd_weights) / sizeof(cmd_weights[0]); i++)
		total += cmd_weights[i].weight;
	x = below(r, total);
	for (i = 0; x >= cmd_weights[i].weight; i++)
		x -= cmd_weights[i].weight;
	return cmd_weights[i].cmd;
}

/* Mutate w->m with @n mutations, lay it out in w->tx. */
static void mutate(struct worker *w, unsigned int n)
{
	int byte_muts[8], nb = 0, k;
	size_t pos = strlen(w->what);
	const char *sep = " mut ";
	unsigned int i;

	for (i = 0; i < n && i < 8; i++) {
		k = (int)below(&w->rng, __M_MAX);
		if (k >= MB_BITFLIP)
			byte_muts[nb++] = k;
		else if (!mutate_tree(w, k))
			continue;
		if (pos + 12 < sizeof(w->what))
			pos += (size_t)snprintf(w->what + pos,
						sizeof(w->what) - pos, "%s%s",
						sep, mnames[k]);
		sep = ",";
	}
	w->txlen = m_emit(w->m, w->tx);
	for (k = 0; k < nb; k++)
		mutate_bytes(w, byte_muts[k]);
}

static void op_single(struct worker *w)
{
	struct rng *r = &w->rng;
	unsigned int kind = below(r, 100);
	uint8_t cmd = pick_cmd(r);

	if (kind >= 95) {
		build_random(w);
	} else {
		build_cmd(w, cmd);
		snprintf(w->what, sizeof(w->what), "cmd %u%s", cmd,
			 kind < 35 ? " valid" : "");
		if (kind < 35)
			w->txlen = m_emit(w->m, w->tx);
		else
			mutate(w, 1 + skewed(r, 4));
	}
	xfer(w);
}

static void op_dump(struct worker *w)
{
	struct rng *r = &w->rng;
	struct msg *m = w->m;
	struct svc_id s;

	m_reset(m, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP, ++w->seq,
		KCIP_CMD_SERVICE_GET);
	if (chance(r, 20))
		m_u32(m, 0, KCIP_A_FLAGS, KCIP_OP_F_ACTIVE);
	if (chance(r, 15)) {			/* the dump of one Service */
		pick_svc(r, &s);
		put_svc(m, 0, &s, NULL);
	}
	snprintf(w->what, sizeof(w->what), "dump");
	if (chance(r, 10)) {
		mutate_tree(w, chance(r, 50) ? MT_VALUE : MT_UNKNOWN);
		snprintf(w->what, sizeof(w->what), "dump mutated");
	}
	w->txlen = m_emit(m, w->tx);
	w->st.dumps++;
	xfer(w);
}

/*
 * A whole restore: BEGIN, Services (some in several parts with APPEND),
 * then COMMIT, ABORT, or the socket closed.  Now and then a part is
 * mutated, which drops the stage: what follows is refused.  One in twenty
 * is big: 10 to 40 distinct Services of 10 to 64 backends, unmutated, so
 * that its commit goes through and dumps of the state it leaves continue
 * Services from one message to the next.
 */
static void op_restore(struct worker *w)
{
	struct rng *r = &w->rng;
	bool big = chance(r, 5);
	unsigned int nsvc = big ? 10 + below(r, 31) : 1 + below(r, 6);
	unsigned int end = big ? below(r, 70) : below(r, 100), i, j;
	unsigned int v0 = below(r, SVC_SPACE), stride = 1 + 2 * below(r, 8);
	struct msg *m = w->m;
	enum result res;

	if (!claim())
		return;
	w->st.restores++;
	build_cmd(w, KCIP_CMD_RESTORE_BEGIN);
	snprintf(w->what, sizeof(w->what), "restore begin");
	w->txlen = m_emit(m, w->tx);
	if (xfer(w) == R_FAILED)
		return;

	for (i = 0; i < nsvc; i++) {
		unsigned int parts = chance(r, 25) ? 2 + below(r, 3) : 1;
		unsigned int first = below(r, 64), done = 0;
		struct svc_opts o;
		struct svc_id s;

		if (big)	/* an odd stride: distinct numbers (384 = 3 x 128) */
			svc_n(v0 + i * (stride % 3 ? stride : stride + 2), &s);
		else
			pick_svc(r, &s);
		pick_opts(r, &o, false);
		for (j = 0; j < parts; j++) {
			unsigned int nbe = big ? 10 + below(r, 30) :
				chance(r, 10) ? 1 + below(r, 40) : below(r, 6);

			if (done + nbe > 64)
				nbe = 64 - done;
			if (!claim())
				return;
			m_reset(m, NLM_F_REQUEST | NLM_F_ACK, ++w->seq,
				KCIP_CMD_RESTORE_SERVICE);
			put_restore_svc(w, &s, &o, first + done, nbe);
			done += nbe;
			if (j)
				m_u32(m, 0, KCIP_A_FLAGS, KCIP_OP_F_APPEND);
			snprintf(w->what, sizeof(w->what),
				 "%srestore service %u part %u", big ? "big " : "",
				 i, j);
			if (!big && chance(r, 6))
				mutate(w, 1);
			else
				w->txlen = m_emit(m, w->tx);
			if (xfer(w) == R_FAILED)
				return;
		}
	}

	if (end >= 85) {			/* abandoned: the socket goes */
		w->st.abandoned++;
		sock_close(w);
		sock_open(w);
		return;
	}
	if (!claim())
		return;
	if (end < 65) {
		m_reset(m, NLM_F_REQUEST | NLM_F_ACK, ++w->seq,
			KCIP_CMD_RESTORE_COMMIT);
		j = below(r, 100);
		if (j < 25)
			m_u64(m, 0, KCIP_A_GENERATION, w->last_gen);
		else if (j < 35)
			m_u64(m, 0, KCIP_A_GENERATION, rnd(r) % (w->last_gen + 2));
		snprintf(w->what, sizeof(w->what), "restore commit");
	} else {
		build_cmd(w, KCIP_CMD_RESTORE_ABORT);
		snprintf(w->what, sizeof(w->what), "restore abort");
	}
	w->txlen = m_emit(m, w->tx);
	res = xfer(w);
	if (res == R_ACCEPTED && end < 65)
		w->st.commits++;
	else if (res == R_ACCEPTED)
		w->st.aborts++;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (sock_open(w))
		return NULL;
	while (!w->stop) {
		unsigned int op = below(&w->rng, 1000);

		if (op < 15) {
			op_restore(w);
			continue;
		}
		if (!claim())
			break;
		if (op < 55)
			op_dump(w);
		else
			op_single(w);
	}
	sock_close(w);
	return NULL;
}

/* ------------------------------------------------------------ monitor */

struct monitor {
	pthread_t th;
	uint64_t events, overruns, bad, sockerr;
	uint64_t last_gen;
	uint8_t *rx;
	struct svc_rec scratch;
};

/* Check one event of the "monitor" group; 0 or -1 with @why. */
static int check_event(struct monitor *mon, const struct nlmsghdr *h,
		       char *why, size_t whylen)
{
	const struct nlattr *tb[KCIP_A_MAX + 1];
	const struct genlmsghdr *g;
	struct svc_rec *s = &mon->scratch;
	struct be_rec b;
	uint64_t gen;

	if (h->nlmsg_type != family_id)
		return WHY("event of type %u", h->nlmsg_type);
	if (family_msg(h, &g, tb, why, whylen))
		return -1;
	if (g->cmd != KCIP_CMD_BACKEND_QUARANTINE) {
		if (!get_u64(tb[KCIP_A_GENERATION], &gen))
			return WHY("event %u without a generation", g->cmd);
		/* sent under the netns's lock, in the order of the changes */
		if (gen < mon->last_gen)
			return WHY("event %u: generation %" PRIu64
				   " after %" PRIu64, g->cmd, gen,
				   mon->last_gen);
		mon->last_gen = gen;
	}
	switch (g->cmd) {
	case KCIP_CMD_SERVICE_NEW:
	case KCIP_CMD_SERVICE_SET:
	case KCIP_CMD_SERVICE_DEL:
		if (!tb[KCIP_A_SERVICE])
			return WHY("event %u without a Service", g->cmd);
		return parse_service(tb[KCIP_A_SERVICE],
				     g->cmd == KCIP_CMD_SERVICE_DEL ? SVC_IDENT :
				     SVC_OPTS, s, why, whylen);
	case KCIP_CMD_BACKEND_NEW:
	case KCIP_CMD_BACKEND_SET:
	case KCIP_CMD_BACKEND_DEL:
	case KCIP_CMD_BACKEND_QUARANTINE:
		if (!tb[KCIP_A_SERVICE] || !tb[KCIP_A_BACKEND])
			return WHY("event %u without a Service or backend",
				   g->cmd);
		if (parse_service(tb[KCIP_A_SERVICE], SVC_IDENT, s, why, whylen))
			return -1;
		return parse_backend(tb[KCIP_A_BACKEND], s->family, &b, why,
				     whylen);
	case KCIP_CMD_FLUSH:
		if (tb[KCIP_A_SERVICE] || tb[KCIP_A_BACKEND])
			return WHY("FLUSH event with a Service or backend");
		return 0;
	case KCIP_CMD_RESTORE_COMMIT:
		return check_restore_counts(tb[KCIP_A_RESTORE], why, whylen);
	}
	return WHY("event with command %u", g->cmd);
}

static void *monitor_main(void *arg)
{
	struct monitor *mon = arg;
	struct mnl_socket *nl;
	int fd, size = 1 << 20;
	char why[512];

	nl = mnl_socket_open(NETLINK_GENERIC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		say("nlfuzz: monitor: netlink socket: %s\n", strerror(errno));
		mon->sockerr++;
		if (nl)
			mnl_socket_close(nl);
		return NULL;
	}
	fd = mnl_socket_get_fd(nl);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &monitor_grp,
		       sizeof(monitor_grp))) {
		say("nlfuzz: monitor: joining group %u: %s\n", monitor_grp,
		    strerror(errno));
		mon->sockerr++;
		mnl_socket_close(nl);
		return NULL;
	}
	for (;;) {
		bool done = atomic_load(&workers_done);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;
		size_t off, n;

		/* once the workers are done, what is queued is all there is */
		if (!done && poll(&pfd, 1, 100) <= 0)
			continue;
		r = recv(fd, mon->rx, RX_MAX, MSG_DONTWAIT | MSG_TRUNC);
		if (r < 0 && errno == ENOBUFS) {	/* events are best effort */
			mon->overruns++;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (done && errno == EAGAIN)
				break;
			continue;
		}
		if (r < 0) {
			say("nlfuzz: monitor: recv: %s\n", strerror(errno));
			mon->sockerr++;
			break;
		}
		if (r > RX_MAX) {
			say("nlfuzz: monitor: FAIL: event of %zd bytes\n", r);
			mon->bad++;
			continue;
		}
		n = (size_t)r;
		for (off = 0; off + NLMSG_HDRLEN <= n;) {
			const struct nlmsghdr *h = (const void *)(mon->rx + off);

			if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > n - off) {
				say("nlfuzz: monitor: FAIL: event with nlmsg_len %u in %zu bytes\n",
				    h->nlmsg_len, n - off);
				mon->bad++;
				break;
			}
			off += NLMSG_ALIGN(h->nlmsg_len);
			mon->events++;
			if (check_event(mon, h, why, sizeof(why))) {
				say("nlfuzz: monitor: FAIL: bad event: %s\n", why);
				mon->bad++;
			}
		}
	}
	mnl_socket_close(nl);
	return NULL;
}

/* ------------------------------------------------------------ family */

static int grp_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1] = { NULL };
	const struct nlattr *a;
	uint32_t *grp = data;

	mnl_attr_for_each_nested(a, attr) {
		int t = mnl_attr_get_type(a);

		if (t <= CTRL_ATTR_MCAST_GRP_MAX)
			tb[t] = a;
	}
	if (tb[CTRL_ATTR_MCAST_GRP_NAME] && tb[CTRL_ATTR_MCAST_GRP_ID] &&
	    mnl_attr_validate(tb[CTRL_ATTR_MCAST_GRP_NAME],
			      MNL_TYPE_NUL_STRING) >= 0 &&
	    mnl_attr_validate(tb[CTRL_ATTR_MCAST_GRP_ID], MNL_TYPE_U32) >= 0 &&
	    !strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]),
		    KCIP_MCGRP_MONITOR))
		*grp = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
	return MNL_CB_OK;
}

static int family_attr_cb(const struct nlattr *attr, void *data)
{
	(void)data;
	switch (mnl_attr_get_type(attr)) {
	case CTRL_ATTR_FAMILY_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U16) >= 0)
			family_id = mnl_attr_get_u16(attr);
		break;
	case CTRL_ATTR_MCAST_GROUPS:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) >= 0)
			mnl_attr_parse_nested(attr, grp_cb, &monitor_grp);
		break;
	}
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb, data);
	return MNL_CB_OK;
}

static int resolve_family(void)
{
	static char buf[16384];
	struct mnl_socket *nl;
	struct genlmsghdr *genl;
	struct nlmsghdr *nlh;
	struct timeval tv = { .tv_sec = 10 };
	int ret, err = 0;

	nl = mnl_socket_open(NETLINK_GENERIC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = CTRL_CMD_GETFAMILY;
	genl->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, KCIP_GENL_NAME);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	while (ret > 0) {
		ret = mnl_cb_run(buf, (size_t)ret, 1, mnl_socket_get_portid(nl),
				 family_cb, NULL);
		if (ret <= MNL_CB_STOP)
			break;
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	}
	if (ret < 0 && !family_id)
		err = -errno;
out:
	mnl_socket_close(nl);
	if (err)
		return err;
	return family_id ? 0 : -ENOENT;
}

/* ------------------------------------------------------------ -c */

struct table {
	struct svc_rec *svc;
	size_t n, cap;
	uint64_t gen;
};

static bool same_ident(const struct svc_rec *a, const struct svc_rec *b)
{
	return a->family == b->family && a->proto == b->proto &&
	       a->port == b->port && !memcmp(a->addr, b->addr, 16);
}

static bool same_opts(const struct svc_rec *a, const struct svc_rec *b)
{
	return a->sched == b->sched && a->affinity == b->affinity &&
	       a->aff_timeout == b->aff_timeout && a->tp == b->tp &&
	       a->noep == b->noep && a->flags == b->flags &&
	       a->quarantine == b->quarantine;
}

static void svc_name(const struct svc_rec *s, char *buf, size_t len)
{
	char a[64];

	fmt_addr(s->family, s->addr, a, sizeof(a));
	snprintf(buf, len, s->family == AF_INET6 ? "[%s]:%u/%u" : "%s:%u/%u",
		 a, ntohs(s->port), s->proto);
}

static void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->svc[i].be);
	free(t->svc);
	memset(t, 0, sizeof(*t));
}

static unsigned int nproblems;

static void problem(const char *fmt, ...)
{
	va_list ap;

	if (++nproblems > 20)
		return;
	printf("nlfuzz: state: inconsistent: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* One part of the dump into @t: a Service, or more backends of the last. */
static void table_add(struct table *t, const struct svc_rec *s)
{
	struct svc_rec *last = t->n ? &t->svc[t->n - 1] : NULL;
	char name[96];
	size_t i;

	svc_name(s, name, sizeof(name));
	if (last && same_ident(last, s)) {
		/* a Service with many backends comes in several parts */
		if (!same_opts(last, s))
			problem("Service %s: its parts disagree on options", name);
		if (!s->nbe)
			problem("Service %s: a continued part without backends",
				name);
	} else {
		for (i = 0; i < t->n; i++)
			if (same_ident(&t->svc[i], s))
				problem("Service %s listed twice", name);
		if (t->n == t->cap) {
			size_t cap = t->cap ? 2 * t->cap : 64;
			struct svc_rec *n = realloc(t->svc, cap * sizeof(*n));

			if (!n) {
				problem("out of memory");
				return;
			}
			t->svc = n;
			t->cap = cap;
		}
		last = &t->svc[t->n++];
		*last = *s;
		last->be = NULL;
		last->nbe = last->cap = 0;
	}
	if (!s->nbe)
		return;
	if (last->nbe + s->nbe > last->cap) {
		size_t cap = last->nbe + s->nbe + 16;
		struct be_rec *n = realloc(last->be, cap * sizeof(*n));

		if (!n) {
			problem("out of memory");
			return;
		}
		last->be = n;
		last->cap = cap;
	}
	memcpy(&last->be[last->nbe], s->be, s->nbe * sizeof(*s->be));
	last->nbe += s->nbe;
}

/*
 * Read the answers to request @seq on @nl until it is done (NLMSG_DONE, an
 * ack, or a reply when @reply_ends), calling @fn for each message of the
 * family.  The error of the request, or -1 on a failure of our own.
 */
static int read_answers(struct mnl_socket *nl, uint8_t *rx, uint32_t seq,
			int (*fn)(const struct nlmsghdr *, void *), void *arg,
			bool *intr)
{
	for (;;) {
		ssize_t r = recv(mnl_socket_get_fd(nl), rx, RX_MAX, MSG_TRUNC);
		size_t off, n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			printf("nlfuzz: state: recv: %s\n",
			       errno == EAGAIN ? "no answer" : strerror(errno));
			return -1;
		}
		if (r > RX_MAX) {
			printf("nlfuzz: state: answer of %zd bytes\n", r);
			return -1;
		}
		n = (size_t)r;
		for (off = 0; off + NLMSG_HDRLEN <= n;) {
			const struct nlmsghdr *h = (const void *)(rx + off);
			struct nlmsgerr e;
			int32_t done;

			if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > n - off) {
				printf("nlfuzz: state: answer with nlmsg_len %u\n",
				       h->nlmsg_len);
				return -1;
			}
			off += NLMSG_ALIGN(h->nlmsg_len);
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_flags & NLM_F_DUMP_INTR)
				*intr = true;
			switch (h->nlmsg_type) {
			case NLMSG_ERROR:
				if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(e)) {
					printf("nlfuzz: state: short ack\n");
					return -1;
				}
				memcpy(&e, (const uint8_t *)h + NLMSG_HDRLEN,
				       sizeof(e));
				return e.error < 0 ? -e.error : 0;
			case NLMSG_DONE:
				done = 0;
				if (h->nlmsg_len >= NLMSG_HDRLEN + 4)
					memcpy(&done, (const uint8_t *)h +
					       NLMSG_HDRLEN, 4);
				return done < 0 ? -done : 0;
			default:
				if (h->nlmsg_type == family_id && fn(h, arg))
					return -1;
				break;
			}
		}
	}
}

struct dump_ctx {
	struct table *t;
	struct svc_rec s;
	bool first;
};

static int dump_part(const struct nlmsghdr *h, void *arg)
{
	const struct nlattr *tb[KCIP_A_MAX + 1];
	struct dump_ctx *c = arg;
	const struct genlmsghdr *g;
	char why[512];
	uint64_t gen;

	if (family_msg(h, &g, tb, why, sizeof(why))) {
		problem("%s", why);
		return 0;
	}
	if (g->cmd != KCIP_CMD_SERVICE_GET) {
		problem("dump message with command %u", g->cmd);
		return 0;
	}
	if (!get_u64(tb[KCIP_A_GENERATION], &gen)) {
		problem("dump message without a generation");
		return 0;
	}
	c->t->gen = gen;
	if (c->first) {
		c->first = false;
		if (tb[KCIP_A_SERVICE])
			problem("the first dump message has a Service");
		return 0;
	}
	if (!tb[KCIP_A_SERVICE]) {
		problem("a dump message without a Service");
		return 0;
	}
	if (parse_service(tb[KCIP_A_SERVICE], SVC_FULL, &c->s, why,
			  sizeof(why))) {
		problem("%s", why);
		return 0;
	}
	table_add(c->t, &c->s);
	return 0;
}

static int get_reply(const struct nlmsghdr *h, void *arg)
{
	const struct nlattr *tb[KCIP_A_MAX + 1];
	struct dump_ctx *c = arg;
	const struct genlmsghdr *g;
	char why[512];

	if (family_msg(h, &g, tb, why, sizeof(why)) || !tb[KCIP_A_SERVICE] ||
	    parse_service(tb[KCIP_A_SERVICE], SVC_FULL, &c->s, why,
			  sizeof(why))) {
		problem("SERVICE_GET reply: %s", why);
		return 0;
	}
	c->first = true;	/* got one */
	return 0;
}

static int check_state(void)
{
	struct mnl_socket *nl;
	struct timeval tv = { .tv_sec = opt_wait };
	struct dump_ctx c = { 0 };
	struct table t = { 0 };
	uint8_t *rx = malloc(RX_MAX);
	char buf[512], name[96];
	unsigned int attempt;
	size_t i, j, nbe = 0;
	bool intr = true;
	int err = -1;

	nl = mnl_socket_open(NETLINK_GENERIC);
	if (!rx || !nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		printf("nlfuzz: state: netlink socket: %s\n", strerror(errno));
		free(rx);
		return 1;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));

	/* a dump that saw a change is flagged: nothing changes now, but... */
	for (attempt = 0; attempt < 3 && intr; attempt++) {
		struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
		struct genlmsghdr *g;

		table_free(&t);
		nproblems = 0;
		h->nlmsg_type = family_id;
		h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP;
		h->nlmsg_seq = 1000 + attempt;
		g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
		g->cmd = KCIP_CMD_SERVICE_GET;
		g->version = KCIP_GENL_VERSION;
		if (mnl_socket_sendto(nl, h, h->nlmsg_len) < 0) {
			printf("nlfuzz: state: sendto: %s\n", strerror(errno));
			goto out;
		}
		intr = false;
		c.t = &t;
		c.first = true;
		err = read_answers(nl, rx, h->nlmsg_seq, dump_part, &c, &intr);
		if (err) {
			if (err > 0)
				printf("nlfuzz: state: dump refused: %s\n",
				       strerror(err));
			err = -1;
			goto out;
		}
	}
	if (intr)
		problem("every dump was interrupted by changes");

	for (i = 0; i < t.n; i++) {
		struct svc_rec *s = &t.svc[i];

		svc_name(s, name, sizeof(name));
		nbe += s->nbe;
		if (s->nbe > 1) {
			qsort(s->be, s->nbe, sizeof(*s->be), be_cmp);
			for (j = 1; j < s->nbe; j++)
				if (!be_cmp(&s->be[j - 1], &s->be[j]))
					problem("Service %s: a backend twice (port %u)",
						name, ntohs(s->be[j].port));
		}
	}

	/* the doit must tell the same as the dump */
	for (i = 0; i < t.n && i < 512; i++) {
		const struct svc_rec *s = &t.svc[i];
		struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
		struct genlmsghdr *g;
		struct nlattr *nest;
		int e;

		svc_name(s, name, sizeof(name));
		h->nlmsg_type = family_id;
		h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		h->nlmsg_seq = 2000 + (uint32_t)i;
		g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
		g->cmd = KCIP_CMD_SERVICE_GET;
		g->version = KCIP_GENL_VERSION;
		nest = mnl_attr_nest_start(h, KCIP_A_SERVICE);
		mnl_attr_put_u16(h, KCIP_A_SVC_FAMILY, s->family);
		mnl_attr_put_u8(h, KCIP_A_SVC_PROTO, s->proto);
		if (s->family == AF_INET)
			mnl_attr_put(h, KCIP_A_SVC_ADDR4, 4, s->addr);
		else
			mnl_attr_put(h, KCIP_A_SVC_ADDR6, 16, s->addr);
		mnl_attr_put_u16(h, KCIP_A_SVC_PORT, s->port);
		mnl_attr_nest_end(h, nest);
		if (mnl_socket_sendto(nl, h, h->nlmsg_len) < 0) {
			printf("nlfuzz: state: sendto: %s\n", strerror(errno));
			err = -1;
			goto out;
		}
		c.first = false;
		c.s.nbe = 0;
		e = read_answers(nl, rx, h->nlmsg_seq, get_reply, &c, &intr);
		if (e < 0) {
			err = -1;
			goto out;
		}
		if (e || !c.first) {
			problem("Service %s of the dump: SERVICE_GET says %s",
				name, e ? strerror(e) : "nothing");
			continue;
		}
		if (!same_ident(s, &c.s) || !same_opts(s, &c.s) ||
		    c.s.nbe != s->nbe)
			problem("Service %s: SERVICE_GET gives %zu backends or other options than the dump (%zu)",
				name, c.s.nbe, s->nbe);
	}
	err = 0;
	if (nproblems > 20)
		printf("nlfuzz: state: ... %u problems in all\n", nproblems);
	if (nproblems)
		printf("nlfuzz: state: %zu services, %zu backends, %u problem(s)\n",
		       t.n, nbe, nproblems);
	else
		printf("nlfuzz: state: %zu services, %zu backends, consistent\n",
		       t.n, nbe);
out:
	free(c.s.be);
	table_free(&t);
	mnl_socket_close(nl);
	free(rx);
	return err || nproblems ? 1 : 0;
}

/* ------------------------------------------------------------ main */

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"Usage: nlfuzz [-c] [-M] [-v] [-x] [-n COUNT] [-t THREADS] [-s SEED] [-w SECONDS]\n");
	exit(status);
}

static unsigned long number(const char *s, unsigned long min,
			    unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "nlfuzz: bad number '%s' (%lu..%lu)\n", s, min,
			max);
		exit(1);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct monitor mon = { 0 };
	struct worker *workers;
	struct stats tot = { 0 };
	struct timespec t0, t1;
	char ebuf[1024], name[32];
	bool seeded = false;
	size_t pos = 0;
	unsigned int i;
	int ret, opt, e;

	while ((opt = getopt(argc, argv, "cMvxn:t:s:w:h")) != -1) {
		switch (opt) {
		case 'c':
			opt_check = true;
			break;
		case 'M':
			opt_monitor = false;
			break;
		case 'v':
			opt_verbose = true;
			break;
		case 'x':
			opt_trace = true;
			break;
		case 'n':
			opt_count = number(optarg, 0, 1UL << 40);
			break;
		case 't':
			opt_threads = (unsigned int)number(optarg, 1, 256);
			break;
		case 's':
			opt_seed = strtoull(optarg, NULL, 0);
			seeded = true;
			break;
		case 'w':
			opt_wait = (unsigned int)number(optarg, 1, 3600);
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(1);
		}
	}
	if (optind != argc)
		usage(1);
	if (!seeded) {
		clock_gettime(CLOCK_REALTIME, &t0);
		opt_seed = ((uint64_t)t0.tv_sec * 1000003u) ^
			   (uint64_t)t0.tv_nsec ^ ((uint64_t)getpid() << 20);
		opt_seed %= 1000000000;		/* short enough to retype */
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	ret = resolve_family();
	if (ret) {
		fprintf(stderr, "nlfuzz: family %s: %s\n", KCIP_GENL_NAME,
			strerror(-ret));
		return 1;
	}
	if (opt_monitor && !monitor_grp) {
		fprintf(stderr, "nlfuzz: family %s has no group %s\n",
			KCIP_GENL_NAME, KCIP_MCGRP_MONITOR);
		return 1;
	}
	atomic_store(&budget, (long)opt_count);
	/* first, so that a run that never ends still told its seed */
	printf("nlfuzz: family %s id %u, %lu messages, %u threads, seed %"
	       PRIu64 "\n", KCIP_GENL_NAME, family_id, opt_count, opt_threads,
	       opt_seed);

	workers = calloc(opt_threads, sizeof(*workers));
	if (!workers)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (opt_monitor) {
		mon.rx = malloc(RX_MAX);
		if (!mon.rx || pthread_create(&mon.th, NULL, monitor_main, &mon)) {
			fprintf(stderr, "nlfuzz: cannot start the monitor\n");
			return 1;
		}
	}
	for (i = 0; i < opt_threads; i++) {
		struct worker *w = &workers[i];

		w->idx = i;
		rng_init(&w->rng, opt_seed + i);
		w->tx = malloc(MSG_MAX);
		w->rx = malloc(RX_MAX);
		w->m = malloc(sizeof(*w->m));
		if (!w->tx || !w->rx || !w->m ||
		    pthread_create(&w->th, NULL, worker_main, w)) {
			fprintf(stderr, "nlfuzz: cannot start thread %u\n", i);
			return 1;
		}
	}
	for (i = 0; i < opt_threads; i++) {
		struct worker *w = &workers[i];
		uint64_t *a = (uint64_t *)&tot, *b = (uint64_t *)&w->st;
		size_t k;

		pthread_join(w->th, NULL);
		for (k = 0; k < sizeof(tot) / sizeof(uint64_t); k++)
			a[k] += b[k];
		free(w->tx);
		free(w->rx);
		free(w->m);
		free(w->scratch.be);
	}
	atomic_store(&workers_done, true);
	if (opt_monitor)
		pthread_join(mon.th, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	/* errnos by count, the most frequent first */
	ebuf[0] = 0;
	for (;;) {
		uint64_t best = 0;
		int which = -1;

		for (e = 0; e < NERRNO; e++) {
			if (tot.by_errno[e] > best) {
				best = tot.by_errno[e];
				which = e;
			}
		}
		if (which < 0)
			break;
		errname(which, name, sizeof(name));
		if (pos + 40 < sizeof(ebuf))
			pos += (size_t)snprintf(ebuf + pos, sizeof(ebuf) - pos,
						"%s%s %" PRIu64, pos ? ", " : "",
						name, best);
		tot.by_errno[which] = 0;
	}
	printf("nlfuzz: sent %" PRIu64 ", accepted %" PRIu64 ", refused %"
	       PRIu64 " (by errno: %s), dumps %" PRIu64 ", restores %" PRIu64
	       ", seed %" PRIu64 "\n", tot.sent, tot.accepted, tot.refused,
	       pos ? ebuf : "none", tot.dumps, tot.restores, opt_seed);
	printf("nlfuzz: silent %" PRIu64 ", stray answers %" PRIu64
	       ", commits %" PRIu64 ", aborts %" PRIu64 ", abandoned %" PRIu64
	       ", split Services in dumps %" PRIu64 ", events %" PRIu64
	       " (overruns %" PRIu64 "), %u threads, %.1f s\n",
	       tot.silent, tot.stray, tot.commits, tot.aborts, tot.abandoned,
	       tot.continued, mon.events, mon.overruns, opt_threads,
	       (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);

	ret = 0;
	if (tot.noanswer || tot.bad || tot.sockerr || mon.bad || mon.sockerr) {
		printf("nlfuzz: FAIL: no answer %" PRIu64 ", bad answers %"
		       PRIu64 ", socket errors %" PRIu64 ", bad events %" PRIu64
		       "\n", tot.noanswer, tot.bad, tot.sockerr + mon.sockerr,
		       mon.bad);
		ret = 1;
	}
	if (tot.sent != opt_count) {
		printf("nlfuzz: FAIL: sent %" PRIu64 " of %lu messages\n",
		       tot.sent, opt_count);
		ret = 1;
	}
	if (opt_check && check_state())
		ret = 1;
	free(mon.rx);
	free(mon.scratch.be);
	free(workers);
	return ret;
}

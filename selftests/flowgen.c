// SPDX-License-Identifier: GPL-2.0
/*
 * flowgen: a fast flow generator and responder for the scheduler selftests.
 *
 * Server:   flowgen --serve NAME [-p tcp|udp|tcp,udp] [-d] PORT
 *           flowgen --serve NAME@ADDR[,NAME@ADDR...] [-p ...] [-d] PORT
 *   One process, one epoll loop, no fork per flow (socat's fork costs a
 *   lot under QEMU's software emulation).  NAME alone listens on [::]
 *   (dual-stack); NAME@ADDR answers as NAME on ADDR only, so one process
 *   can play several backends living in one namespace.
 *   TCP: writes "NAME\n" on accept, then answers every line it gets with
 *   "NAME " + the line, until the peer closes or resets.
 *   UDP: answers every datagram with "NAME " + the datagram, from the
 *   address it was sent to.
 *   -d: go to the background once listening (prints the server's pid).
 *
 * Client:   flowgen [OPTIONS] ADDR PORT
 *   Opens COUNT new flows to ADDR:PORT, a few at once, each from its own
 *   source port, and records which backend answered (the first word of the
 *   answer).  A TCP flow is connect + read the greeting + close with a
 *   reset (SO_LINGER 0): neither end keeps a TIME_WAIT socket, and a new SYN
 *   on the same 5-tuple makes conntrack drop the old entry and start a new
 *   one, so a second run with the same --sport-base opens the same 5-tuples
 *   afresh.  A UDP flow is one request, resent up to --retries times.
 *
 *   -p, --proto tcp|udp      protocol (default tcp)
 *   -n, --count N            flows (default 100)
 *   -c, --concurrency N      flows in flight at once (default 16)
 *   -t, --timeout MS         per flow (default 3000)
 *   -b, --sport-base P       flow i binds source port P+i (default: the
 *                            kernel picks one, which is recorded)
 *   -s, --source ADDR        source address to bind
 *   -r, --retries N          UDP: resend the request N times (default 2)
 *   -v, --flows              print "SPORT BACKEND" for each flow, in order;
 *                            BACKEND is !refused, !timeout or !error when
 *                            there was no answer
 *   -e, --expect ok|refused|timeout|any   what every flow must end as
 *                            (default ok); the exit status says
 *   -q, --quiet              no summary line
 *
 *   The last line is the summary
 *     be1=N be2=N ... ok=N refused=N timeouts=N errors=N ms=ELAPSED
 *
 * Sysctls:  flowgen --sysctl NETNS:KEY=VALUE...
 *   Sets sysctls (net.ipv4.ip_forward=1...) in named namespaces, in one
 *   process.
 *
 * Stream mode:   flowgen --stream SECONDS [--stop FILE] [-n N] ... ADDR PORT
 *   (TCP) N long connections at once, each sending a line "SEQ PAD\n"
 *   (--size bytes) every --interval ms and checking that the answer is
 *   exactly "NAME SEQ PAD\n" with the NAME of the greeting: the connection
 *   keeps its backend, loses and reorders nothing.  They end after
 *   SECONDS, or sooner once FILE exists.  Prints "connected SPORT
 *   NAME" (flushed) as each one is up, and at the end one line per
 *   connection
 *     stream SPORT NAME rounds=N bytes=N maxgap_ms=N ok|error: WHY
 *   then the summary.  A connection fails on a reset, an error, a wrong
 *   answer or no answer within --timeout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define NAME_MAX_LEN	32
#define LINE_MAX_LEN	16384
#define BUF_LEN		(2 * LINE_MAX_LEN + 2 * NAME_MAX_LEN)

enum { FL_PENDING, FL_OK, FL_REFUSED, FL_TIMEOUT, FL_ERROR };
static const char *const status_word[] = {
	"pending", "ok", "refused", "timeout", "error"
};

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("flowgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_proto(const char *s, bool *tcp, bool *udp)
{
	char buf[32], *tok, *save;

	*tcp = *udp = false;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "tcp"))
			*tcp = true;
		else if (!strcmp(tok, "udp"))
			*udp = true;
		else
			return -1;
	}
	return *tcp || *udp ? 0 : -1;
}

static long parse_num(const char *what, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		die("bad %s \"%s\" (%ld..%ld)", what, s, lo, hi);
	return v;
}

/* ------------------------------------------------------------- server */

enum { K_LISTEN, K_UDP, K_CONN };

/* a listening TCP socket or a UDP socket, answering as @name */
struct listener {
	int kind;
	int fd;
	const char *name;
	size_t name_len;
};

struct conn {
	int kind;
	int fd;
	const char *name;
	size_t name_len;
	size_t in_len, out_len, out_off;
	char in[BUF_LEN];
	char out[BUF_LEN];
};

static void conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* Write what is queued; false when the connection is gone. */
static bool conn_flush(int ep, struct conn *c)
{
	struct epoll_event ev = { .data.ptr = c };

	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off,
				  c->out_len - c->out_off);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return false;
		}
		c->out_off += n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	ev.events = EPOLLIN | (c->out_len ? EPOLLOUT : 0);
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	return true;
}

static bool conn_queue(struct conn *c, const char *p, size_t len)
{
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + len > sizeof(c->out))
		return false;
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
	return true;
}

/* Answer every complete line; false to close. */
static bool conn_input(int ep, struct conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, c->in + c->in_len,
				 sizeof(c->in) - c->in_len);
		char *p, *nl;

		if (n == 0)
			return false;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			       errno == EINTR;
		c->in_len += n;
		p = c->in;
		while ((nl = memchr(p, '\n', c->in + c->in_len - p))) {
			if (!conn_queue(c, c->name, c->name_len) ||
			    !conn_queue(c, " ", 1) ||
			    !conn_queue(c, p, nl + 1 - p))
				return false;
			p = nl + 1;
		}
		c->in_len -= p - c->in;
		memmove(c->in, p, c->in_len);
		if (c->in_len == sizeof(c->in))
			return false;	/* line too long */
		if (!conn_flush(ep, c))
			return false;
		if (c->out_len)		/* the peer does not read: wait */
			return true;
	}
}

static void accept_all(int ep, struct listener *l)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	while ((fd = accept4(l->fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct conn *c = calloc(1, sizeof(*c));

		if (!c) {
			close(fd);
			continue;
		}
		c->kind = K_CONN;
		c->fd = fd;
		c->name = l->name;
		c->name_len = l->name_len;
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		if (!conn_queue(c, c->name, c->name_len) ||
		    !conn_queue(c, "\n", 1) || !conn_flush(ep, c))
			conn_close(ep, c);
	}
}

/*
 * Answer every datagram waiting on @l, from the address it was sent to
 * (for a socket bound to a wildcard address): a backend may have several
 * addresses, and an answer from another one than the request went to
 * would not match the node's conntrack entry.
 */
static void udp_answer(struct listener *l)
{
	char buf[LINE_MAX_LEN + NAME_MAX_LEN + 2];

	for (;;) {
		struct sockaddr_storage peer;
		union {
			char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
			struct cmsghdr align;
		} cbuf;
		struct iovec iov = {
			.iov_base = buf + l->name_len + 1,
			.iov_len = sizeof(buf) - l->name_len - 1,
		};
		struct msghdr m = {
			.msg_name = &peer, .msg_namelen = sizeof(peer),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf.b, .msg_controllen = sizeof(cbuf),
		};
		struct in6_pktinfo *pi = NULL;
		struct cmsghdr *cm;
		ssize_t len;

		len = recvmsg(l->fd, &m, 0);
		if (len < 0)
			return;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
			if (cm->cmsg_level == IPPROTO_IPV6 &&
			    cm->cmsg_type == IPV6_PKTINFO)
				pi = (struct in6_pktinfo *)CMSG_DATA(cm);
		memcpy(buf, l->name, l->name_len);
		buf[l->name_len] = ' ';
		iov.iov_base = buf;
		iov.iov_len = len + l->name_len + 1;
		m.msg_flags = 0;
		if (pi) {
			pi->ipi6_ifindex = 0;	/* let routing choose */
			m.msg_controllen = CMSG_SPACE(sizeof(*pi));
		} else {
			m.msg_control = NULL;
			m.msg_controllen = 0;
		}
		sendmsg(l->fd, &m, 0);
	}
}

/* A socket of @type bound to @addr (NULL: [::], dual-stack) and @port. */
static int listen_socket(int type, const char *addr, int port)
{
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} sa;
	int fam = AF_INET6, fd, zero = 0, one = 1;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t l;

	memset(&sa, 0, sizeof(sa));
	sa.v6.sin6_family = AF_INET6;
	sa.v6.sin6_port = htons(port);
	if (addr) {
		l = strlen(addr);
		if (l >= 2 && addr[0] == '[' && addr[l - 1] == ']' &&
		    l - 2 < sizeof(buf)) {
			memcpy(buf, addr + 1, l - 2);
			buf[l - 2] = 0;
			addr = buf;
		}
		if (inet_pton(AF_INET, addr, &sa.v4.sin_addr) == 1) {
			fam = AF_INET;
			sa.v4.sin_family = AF_INET;
			sa.v4.sin_port = htons(port);
		} else if (inet_pton(AF_INET6, addr, &sa.v6.sin6_addr) != 1) {
			die("bad address \"%s\"", addr);
		}
	}
	fd = socket(fam, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (fam == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, addr ? &one : &zero,
			   sizeof(int));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, fam == AF_INET ?
		 sizeof(sa.v4) : sizeof(sa.v6)) < 0)
		die("bind %s port %d: %s", addr ? addr : "[::]", port,
		    strerror(errno));
	if (type == SOCK_STREAM && listen(fd, 4096) < 0)
		die("listen: %s", strerror(errno));
	if (type == SOCK_DGRAM && fam == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
		       sizeof(one)) < 0)
		die("IPV6_RECVPKTINFO: %s", strerror(errno));
	return fd;
}

/*
 * Serve SPEC: "NAME" (every address, dual-stack) or a comma-separated list
 * of NAME@ADDR (answer as NAME on ADDR), e.g.
 * "be1@10.244.1.2,be1@fd00:244:1::2,be2@10.244.2.2".
 */
static int serve(char *spec, bool tcp, bool udp, int port, bool daemonize)
{
	struct epoll_event ev, evs[64];
	char *tok, *save;
	int ep;

	signal(SIGPIPE, SIG_IGN);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll: %s", strerror(errno));
	for (tok = strtok_r(spec, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *at = strchr(tok, '@');
		int t;

		if (at)
			*at++ = 0;
		if (!*tok || strlen(tok) >= NAME_MAX_LEN ||
		    strpbrk(tok, " \n"))
			die("bad server name \"%s\"", tok);
		for (t = 0; t < 2; t++) {
			struct listener *l;

			if (!(t ? udp : tcp))
				continue;
			l = calloc(1, sizeof(*l));
			if (!l)
				die("out of memory");
			l->kind = t ? K_UDP : K_LISTEN;
			l->name = tok;
			l->name_len = strlen(tok);
			l->fd = listen_socket(t ? SOCK_DGRAM : SOCK_STREAM,
					      at, port);
			ev.events = EPOLLIN;
			ev.data.ptr = l;
			epoll_ctl(ep, EPOLL_CTL_ADD, l->fd, &ev);
		}
	}
	if (daemonize) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid) {
			printf("%d\n", pid);
			return 0;
		}
		setsid();
		if (!freopen("/dev/null", "r", stdin) ||
		    !freopen("/dev/null", "w", stdout) ||
		    !freopen("/dev/null", "w", stderr))
			_exit(2);
	}

	for (;;) {
		int i, n = epoll_wait(ep, evs, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		for (i = 0; i < n; i++) {
			int kind = *(int *)evs[i].data.ptr;
			struct conn *c = evs[i].data.ptr;
			bool ok = true;

			if (kind == K_LISTEN) {
				accept_all(ep, evs[i].data.ptr);
				continue;
			}
			if (kind == K_UDP) {
				udp_answer(evs[i].data.ptr);
				continue;
			}
			if (evs[i].events & (EPOLLERR | EPOLLHUP))
				ok = false;
			if (ok && (evs[i].events & EPOLLOUT))
				ok = conn_flush(ep, c);
			if (ok && (evs[i].events & EPOLLIN))
				ok = conn_input(ep, c);
			if (!ok)
				conn_close(ep, c);
		}
	}
}

/* ------------------------------------------------------------- client */

union sa {
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

struct flow {
	uint16_t sport;
	uint8_t status;
	char name[NAME_MAX_LEN];
	/* stream mode */
	uint64_t rounds, bytes, maxgap;
	char why[80];
};

enum { S_FREE, S_CONNECT, S_GREETING, S_WAIT_ANSWER, S_IDLE };

struct slot {
	int fd;
	int state;
	long flow;
	int tries;
	uint64_t deadline;	/* give up (or UDP: resend) */
	uint64_t expire;	/* UDP: give up */
	uint64_t next_round;	/* stream: send the next request */
	uint64_t last_answer;	/* stream: for maxgap */
	uint64_t seq;
	size_t len;		/* of buf */
	size_t want_len;	/* stream: length of the expected answer */
	char buf[BUF_LEN];
	char want[BUF_LEN];
};

static struct {
	bool udp;
	int family;
	union sa dst, src;
	socklen_t salen;
	bool have_src;
	long count;
	int conc;
	int timeout;
	int sport_base;
	int retries;
	int stream_secs;
	const char *stop_file;
	int interval;
	int size;
	bool verbose;
	bool quiet;
	int expect;		/* F_* or -1: any */
} o = {
	.count = 100, .conc = 16, .timeout = 3000, .sport_base = -1,
	.retries = 2, .interval = 20, .size = 64, .expect = FL_OK,
};

static struct flow *flows;
static struct slot *slots;
static int ep;

static int parse_addr(const char *s, int port, void *sa)
{
	struct sockaddr_in *s4 = sa;
	struct sockaddr_in6 *s6 = sa;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t l = strlen(s);

	if (l >= 2 && s[0] == '[' && s[l - 1] == ']' && l - 2 < sizeof(buf)) {
		memcpy(buf, s + 1, l - 2);
		buf[l - 2] = 0;
		s = buf;
	}
	memset(sa, 0, sizeof(struct sockaddr_in6));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		return AF_INET6;
	}
	return -1;
}

static void slot_release(struct slot *s)
{
	if (s->fd >= 0) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		if (!o.udp)
			setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg,
				   sizeof(lg));
		epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
	}
	s->fd = -1;
	s->state = S_FREE;
}

static void flow_end(struct slot *s, int status, const char *fmt, ...)
{
	struct flow *f = &flows[s->flow];

	f->status = status;
	if (fmt) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(f->why, sizeof(f->why), fmt, ap);
		va_end(ap);
	}
	slot_release(s);
}

static int errno_status(int err)
{
	if (err == ECONNREFUSED)
		return FL_REFUSED;
	if (err == ETIMEDOUT)
		return FL_TIMEOUT;
	return FL_ERROR;
}

static void udp_send(struct slot *s)
{
	static const char req[] = "flowgen\n";

	if (send(s->fd, req, sizeof(req) - 1, 0) < 0 &&
	    errno != EAGAIN && errno != ENOBUFS) {
		int err = errno;

		flow_end(s, errno_status(err), "send: %s", strerror(err));
		return;
	}
	s->tries++;
	s->deadline = now_ms() + o.timeout / (o.retries + 1);
	if (s->deadline > s->expire)
		s->deadline = s->expire;
}

/* Start flow @i in slot @s; false when it ended at once. */
static bool flow_start(struct slot *s, long i)
{
	struct flow *f = &flows[i];
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
	union sa src;
	socklen_t sl = sizeof(src);
	int fd, one = 1, err;

	memset(s, 0, offsetof(struct slot, buf));
	s->flow = i;
	s->fd = -1;
	fd = socket(o.family, (o.udp ? SOCK_DGRAM : SOCK_STREAM) |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	s->fd = fd;
	if (o.sport_base >= 0 || o.have_src) {
		src = o.src;
		if (o.family == AF_INET)
			src.v4.sin_port = htons(o.sport_base >= 0 ?
						o.sport_base + i : 0);
		else
			src.v6.sin6_port = htons(o.sport_base >= 0 ?
						 o.sport_base + i : 0);
		if (!o.udp)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				   sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, o.salen) < 0) {
			err = errno;
			f->sport = o.sport_base >= 0 ? o.sport_base + i : 0;
			flow_end(s, FL_ERROR, "bind: %s", strerror(err));
			return false;
		}
	}
	if (!o.udp)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&o.dst, o.salen) < 0 &&
	    errno != EINPROGRESS) {
		err = errno;
		flow_end(s, errno_status(err), "connect: %s", strerror(err));
		return false;
	}
	if (!getsockname(fd, (struct sockaddr *)&src, &sl))
		f->sport = ntohs(o.family == AF_INET ? src.v4.sin_port :
				 src.v6.sin6_port);
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	s->expire = now_ms() + o.timeout;
	s->deadline = s->expire;
	if (o.udp) {
		s->state = S_WAIT_ANSWER;
		udp_send(s);
		return s->state != S_FREE;
	}
	s->state = S_GREETING;
	return true;
}

/* The first word of an answer; false when it is not a name. */
static bool take_name(struct flow *f, const char *p, size_t len)
{
	size_t n = 0;

	while (n < len && p[n] != ' ' && p[n] != '\n')
		n++;
	if (!n || n >= NAME_MAX_LEN)
		return false;
	memcpy(f->name, p, n);
	f->name[n] = 0;
	return true;
}

/* Stream mode: queue request number s->seq and the answer it must get. */
static bool stream_send(struct slot *s)
{
	struct flow *f = &flows[s->flow];
	char req[LINE_MAX_LEN];
	int n, i;
	ssize_t w;

	n = snprintf(req, sizeof(req), "%llu ", (unsigned long long)s->seq);
	for (i = n; i < o.size - 1; i++)
		req[i] = 'a' + (s->seq * 7 + i) % 26;
	if (i < n)
		i = n;
	req[i++] = '\n';
	w = write(s->fd, req, i);
	if (w != i) {
		/* a small request on a connection that is kept drained */
		int err = w < 0 ? errno : EAGAIN;

		flow_end(s, errno_status(err), "write round %llu: %s",
			 (unsigned long long)s->seq, strerror(err));
		return false;
	}
	s->want_len = snprintf(s->want, sizeof(s->want), "%s ", f->name);
	memcpy(s->want + s->want_len, req, i);
	s->want_len += i;
	f->bytes += i;
	s->state = S_WAIT_ANSWER;
	s->deadline = now_ms() + o.timeout;
	return true;
}

static void slot_input(struct slot *s, uint64_t stream_end)
{
	struct flow *f = &flows[s->flow];
	ssize_t n;

	for (;;) {
		char *nl;

		if (s->len == sizeof(s->buf)) {
			flow_end(s, FL_ERROR, "answer too long");
			return;
		}
		n = recv(s->fd, s->buf + s->len, sizeof(s->buf) - s->len, 0);
		if (n < 0) {
			int err = errno;

			if (err == EAGAIN || err == EWOULDBLOCK)
				return;
			if (err == EINTR)
				continue;
			if (o.udp && err == ECONNREFUSED) {
				flow_end(s, FL_REFUSED, NULL);
				return;
			}
			flow_end(s, errno_status(err), "%s%s",
				 o.stream_secs ? "stream: " : "",
				 strerror(err));
			return;
		}
		if (n == 0) {
			flow_end(s, FL_ERROR, "connection closed by peer%s",
				 s->state == S_GREETING ? " before answering" :
				 "");
			return;
		}
		if (o.udp) {
			if (!take_name(f, s->buf, n)) {
				flow_end(s, FL_ERROR, "bad answer");
				return;
			}
			flow_end(s, FL_OK, NULL);
			return;
		}
		s->len += n;
		while ((nl = memchr(s->buf, '\n', s->len))) {
			size_t l = nl + 1 - s->buf;

			if (s->state == S_GREETING) {
				if (!take_name(f, s->buf, l)) {
					flow_end(s, FL_ERROR, "bad greeting");
					return;
				}
				if (!o.stream_secs) {
					flow_end(s, FL_OK, NULL);
					return;
				}
				printf("connected %u %s\n", f->sport, f->name);
				fflush(stdout);
				s->last_answer = now_ms();
				s->seq = 1;
				if (!stream_send(s))
					return;
			} else if (s->state == S_WAIT_ANSWER) {
				uint64_t t = now_ms();

				if (l != s->want_len ||
				    memcmp(s->buf, s->want, l)) {
					flow_end(s, FL_ERROR,
						 "round %llu: wrong answer \"%.*s\"",
						 (unsigned long long)s->seq,
						 (int)(l > 40 ? 40 : l - 1),
						 s->buf);
					return;
				}
				f->rounds++;
				f->bytes += l;
				if (t - s->last_answer > f->maxgap)
					f->maxgap = t - s->last_answer;
				s->last_answer = t;
				s->seq++;
				if (t >= stream_end) {
					flow_end(s, FL_OK, NULL);
					return;
				}
				s->state = S_IDLE;
				s->next_round = t + o.interval;
				s->deadline = s->next_round;
			} else {
				flow_end(s, FL_ERROR, "unexpected data");
				return;
			}
			s->len -= l;
			memmove(s->buf, s->buf + l, s->len);
		}
	}
}

static void slot_timer(struct slot *s, uint64_t t)
{
	if (s->state == S_IDLE) {
		stream_send(s);
		return;
	}
	if (o.udp && t < s->expire) {
		udp_send(s);
		return;
	}
	if (s->state == S_GREETING)
		flow_end(s, FL_TIMEOUT, "no answer in %d ms", o.timeout);
	else
		flow_end(s, FL_TIMEOUT, "round %llu: no answer in %d ms",
			 (unsigned long long)s->seq, o.timeout);
}

static int name_cmp(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

static void summary(uint64_t ms)
{
	long i, j, n = 0, st[5] = { 0 };
	char **names = calloc(o.count, sizeof(*names));
	long *cnt = calloc(o.count, sizeof(*cnt));

	if (!names || !cnt)
		die("out of memory");
	for (i = 0; i < o.count; i++) {
		st[flows[i].status]++;
		if (flows[i].status != FL_OK)
			continue;
		for (j = 0; j < n; j++)
			if (!strcmp(names[j], flows[i].name))
				break;
		if (j == n)
			names[n++] = flows[i].name;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < o.count; i++) {
		if (flows[i].status != FL_OK)
			continue;
		for (j = 0; j < n; j++)
			if (!strcmp(names[j], flows[i].name))
				cnt[j]++;
	}
	for (j = 0; j < n; j++)
		printf("%s=%ld ", names[j], cnt[j]);
	printf("ok=%ld refused=%ld timeouts=%ld errors=%ld ms=%llu\n",
	       st[FL_OK], st[FL_REFUSED], st[FL_TIMEOUT],
	       st[FL_ERROR] + st[FL_PENDING], (unsigned long long)ms);
	free(names);
	free(cnt);
}

static int client(void)
{
	struct epoll_event evs[64];
	uint64_t start = now_ms(), stream_end = 0, stop_check = 0;
	long next = 0, done = 0, i;
	int active = 0, bad = 0;

	signal(SIGPIPE, SIG_IGN);
	flows = calloc(o.count, sizeof(*flows));
	slots = calloc(o.conc, sizeof(*slots));
	if (!flows || !slots)
		die("out of memory");
	for (i = 0; i < o.conc; i++) {
		slots[i].fd = -1;
		slots[i].state = S_FREE;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll: %s", strerror(errno));
	if (o.stream_secs)
		stream_end = start + o.stream_secs * 1000ULL;

	while (done < o.count) {
		uint64_t t, first;
		int n, wait, k;

		/* fill free slots */
		for (k = 0; k < o.conc && next < o.count; k++) {
			if (slots[k].state != S_FREE)
				continue;
			if (!flow_start(&slots[k], next++))
				done++;
			else
				active++;
		}
		t = now_ms();
		first = UINT64_MAX;
		for (k = 0; k < o.conc; k++)
			if (slots[k].state != S_FREE &&
			    slots[k].deadline < first)
				first = slots[k].deadline;
		if (!active)
			continue;
		wait = first <= t ? 0 : first - t > 100 ? 100 : first - t;
		n = epoll_wait(ep, evs, 64, wait);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (k = 0; k < n; k++) {
			struct slot *s = evs[k].data.ptr;

			if (s->state == S_FREE)
				continue;
			if ((evs[k].events & EPOLLERR) &&
			    !(evs[k].events & EPOLLIN)) {
				int err = 0;
				socklen_t el = sizeof(err);

				getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err,
					   &el);
				flow_end(s, errno_status(err), "%s",
					 strerror(err));
			} else {
				slot_input(s, stream_end);
			}
		}
		t = now_ms();
		if (o.stop_file && t >= stop_check) {
			if (!access(o.stop_file, F_OK) && t < stream_end)
				stream_end = t;
			stop_check = t + 100;
		}
		for (k = 0; k < o.conc; k++)
			if (slots[k].state != S_FREE && slots[k].deadline <= t)
				slot_timer(&slots[k], t);
		for (k = 0, active = 0, done = next; k < o.conc; k++)
			if (slots[k].state != S_FREE) {
				active++;
				done--;
			}
	}

	for (i = 0; i < o.count; i++) {
		struct flow *f = &flows[i];

		if (o.stream_secs)
			printf("stream %u %s rounds=%llu bytes=%llu maxgap_ms=%llu %s%s%s\n",
			       f->sport, f->name[0] ? f->name : "-",
			       (unsigned long long)f->rounds,
			       (unsigned long long)f->bytes,
			       (unsigned long long)f->maxgap,
			       f->status == FL_OK ? "ok" : "error",
			       f->why[0] ? ": " : "", f->why);
		else if (o.verbose)
			printf("%u %s%s\n", f->sport,
			       f->status == FL_OK ? "" : "!",
			       f->status == FL_OK ? f->name :
			       status_word[f->status]);
		if (o.expect >= 0 && f->status != o.expect) {
			if (bad++ < 5 && !o.stream_secs)
				fprintf(stderr, "flowgen: flow %ld (sport %u): %s%s%s\n",
					i, f->sport, status_word[f->status],
					f->why[0] ? ": " : "", f->why);
		}
	}
	if (!o.quiet)
		summary(now_ms() - start);
	fflush(stdout);
	return bad ? 1 : 0;
}

/*
 * flowgen --sysctl NETNS:KEY=VALUE...: set sysctls in named network
 * namespaces (/run/netns/NETNS), all in one process: under software
 * emulation starting "ip netns exec NETNS sysctl" once per namespace costs
 * seconds.  /proc/sys/net shows the namespace of the process that looks,
 * so each write follows a setns().
 */
static int sysctls(int argc, char **argv)
{
	char path[512], cur[256] = "";
	int i, fd;

	for (i = 0; i < argc; i++) {
		char *colon = strchr(argv[i], ':'), *eq, *p;
		ssize_t n;

		eq = colon ? strchr(colon, '=') : NULL;
		if (!colon || !eq || colon == argv[i] || eq == colon + 1)
			die("bad \"%s\": NETNS:KEY=VALUE", argv[i]);
		*colon = *eq = 0;
		if (strcmp(cur, argv[i])) {
			snprintf(path, sizeof(path), "/run/netns/%s", argv[i]);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
				die("netns %s: %s", argv[i], strerror(errno));
			close(fd);
			snprintf(cur, sizeof(cur), "%s", argv[i]);
		}
		n = snprintf(path, sizeof(path), "/proc/sys/%s", colon + 1);
		if (n < 0 || (size_t)n >= sizeof(path))
			die("key too long");
		for (p = path + strlen("/proc/sys/"); *p; p++)
			if (*p == '.')
				*p = '/';
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			die("%s in %s: %s", colon + 1, cur, strerror(errno));
		n = strlen(eq + 1);
		if (write(fd, eq + 1, n) != n)
			die("%s=%s in %s: %s", colon + 1, eq + 1, cur,
			    strerror(errno));
		close(fd);
	}
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: flowgen [-p tcp|udp] [-n COUNT] [-c CONCURRENCY] [-t TIMEOUT_MS]\n"
	      "               [-b SPORT_BASE] [-s SRCADDR] [-r RETRIES] [-v] [-q]\n"
	      "               [-e ok|refused|timeout|any] ADDR PORT\n"
	      "       flowgen --stream SECONDS [-n CONNS] [--interval MS] [--size BYTES]\n"
	      "               [--stop FILE] [-t TIMEOUT_MS] [-b SPORT_BASE] ADDR PORT\n"
	      "       flowgen --serve NAME|NAME@ADDR[,NAME@ADDR...] [-p tcp|udp|tcp,udp] [-d] PORT\n"
	      "       flowgen --sysctl NETNS:KEY=VALUE...\n", f);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "proto", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "sport-base", required_argument, NULL, 'b' },
		{ "source", required_argument, NULL, 's' },
		{ "retries", required_argument, NULL, 'r' },
		{ "flows", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "expect", required_argument, NULL, 'e' },
		{ "serve", required_argument, NULL, 'S' },
		{ "daemon", no_argument, NULL, 'd' },
		{ "stream", required_argument, NULL, 'L' },
		{ "interval", required_argument, NULL, 'i' },
		{ "size", required_argument, NULL, 'z' },
		{ "stop", required_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *proto = NULL, *src = NULL;
	char *srv_spec = NULL;
	bool tcp = true, udp = false, daemonize = false;
	int c, port;

	if (argc > 1 && !strcmp(argv[1], "--sysctl"))
		return sysctls(argc - 2, argv + 2);

	while ((c = getopt_long(argc, argv, "p:n:c:t:b:s:r:vqe:S:dL:i:z:X:h",
				lo, NULL)) != -1) {
		switch (c) {
		case 'p': proto = optarg; break;
		case 'n': o.count = parse_num("count", optarg, 1, 10000000); break;
		case 'c': o.conc = parse_num("concurrency", optarg, 1, 4096); break;
		case 't': o.timeout = parse_num("timeout", optarg, 1, 3600000); break;
		case 'b': o.sport_base = parse_num("source port", optarg, 1, 65535); break;
		case 's': src = optarg; break;
		case 'r': o.retries = parse_num("retries", optarg, 0, 100); break;
		case 'v': o.verbose = true; break;
		case 'q': o.quiet = true; break;
		case 'e':
			if (!strcmp(optarg, "ok"))
				o.expect = FL_OK;
			else if (!strcmp(optarg, "refused"))
				o.expect = FL_REFUSED;
			else if (!strcmp(optarg, "timeout"))
				o.expect = FL_TIMEOUT;
			else if (!strcmp(optarg, "any"))
				o.expect = -1;
			else
				die("bad --expect \"%s\"", optarg);
			break;
		case 'S': srv_spec = optarg; break;
		case 'd': daemonize = true; break;
		case 'L': o.stream_secs = parse_num("stream seconds", optarg, 1, 86400); break;
		case 'i': o.interval = parse_num("interval", optarg, 0, 60000); break;
		case 'X': o.stop_file = optarg; break;
		case 'z': o.size = parse_num("size", optarg, 8, LINE_MAX_LEN - NAME_MAX_LEN); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (proto && parse_proto(proto, &tcp, &udp))
		die("bad protocol \"%s\" (tcp, udp or tcp,udp)", proto);

	if (srv_spec) {
		if (argc - optind != 1) {
			usage(stderr);
			return 2;
		}
		port = parse_num("port", argv[optind], 1, 65535);
		return serve(srv_spec, tcp, udp, port, daemonize);
	}

	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	if (tcp && udp)
		die("a client speaks one protocol");
	o.udp = udp;
	if (o.udp && o.stream_secs)
		die("--stream is TCP only");
	port = parse_num("port", argv[optind + 1], 1, 65535);
	o.family = parse_addr(argv[optind], port, &o.dst);
	if (o.family < 0)
		die("bad address \"%s\"", argv[optind]);
	o.salen = o.family == AF_INET ? sizeof(struct sockaddr_in) :
		  sizeof(struct sockaddr_in6);
	memset(&o.src, 0, sizeof(o.src));
	o.src.v4.sin_family = o.family;
	if (src) {
		if (parse_addr(src, 0, &o.src) != o.family)
			die("source %s is not of the family of %s", src,
			    argv[optind]);
		o.have_src = true;
	}
	if (o.sport_base >= 0 && o.sport_base + o.count - 1 > 65535)
		die("--sport-base %d + --count %ld goes past port 65535",
		    o.sport_base, o.count);
	if (o.stream_secs)
		o.conc = o.count;	/* every connection at once */
	if (o.conc > o.count)
		o.conc = o.count;
	return client();
}

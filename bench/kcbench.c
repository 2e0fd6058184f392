// SPDX-License-Identifier: GPL-2.0
/*
 * kcbench: the traffic side of `make bench`.
 *
 * Server:  kcbench serve PORT
 *   One process, one epoll loop.  TCP: listens on 0.0.0.0:PORT, accepts and
 *   closes at once.  UDP: answers every datagram on 0.0.0.0:PORT with the
 *   datagram, from the address it was sent to (IP_PKTINFO), so a backend
 *   namespace with "ip route add local 10.128.0.0/10 dev lo" plays any
 *   number of endpoint addresses with two sockets.
 *
 * Client:  kcbench tcp|udp -f ADDRS -p PORT -s SRC [-d SECS] [-c CONC]
 *          [-b SPORT_BASE] [-n SPORTS]
 *   Opens new flows for SECS seconds, CONC at once, round robin over the
 *   addresses in file ADDRS (one IPv4 address a line), each from source
 *   SRC and the next source port of SPORT_BASE..SPORT_BASE+SPORTS-1 (a new
 *   5-tuple each time: a new conntrack entry, not a reused one).
 *   tcp: nonblocking connect; on completion SO_LINGER 0 and close (a RST,
 *   no TIME_WAIT).  udp: bind, connect, send 16 bytes, wait for the answer,
 *   close.  A flow not done within 2 s counts as an error.
 *   Prints one JSON line: {"proto":..,"flows":N,"errors":N,"secs":S,"rate":R}
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int serve(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct epoll_event ev, evs[64];
	int one = 1, lt, lu, ep, i, n;
	char buf[2048], cbuf[256];

	lt = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	lu = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (lt < 0 || lu < 0)
		die("socket");
	setsockopt(lt, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(lu, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(lu, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	if (bind(lt, (void *)&sa, sizeof(sa)) || bind(lu, (void *)&sa, sizeof(sa)))
		die("bind");
	if (listen(lt, 4096))
		die("listen");
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.fd = lt;
	epoll_ctl(ep, EPOLL_CTL_ADD, lt, &ev);
	ev.data.fd = lu;
	epoll_ctl(ep, EPOLL_CTL_ADD, lu, &ev);
	for (;;) {
		n = epoll_wait(ep, evs, 64, -1);
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == lt) {
				int c;

				while ((c = accept4(lt, NULL, NULL, 0)) >= 0)
					close(c);
				continue;
			}
			for (;;) {
				struct sockaddr_in peer;
				struct iovec iov = { buf, sizeof(buf) };
				struct msghdr m = {
					.msg_name = &peer, .msg_namelen = sizeof(peer),
					.msg_iov = &iov, .msg_iovlen = 1,
					.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
				};
				struct cmsghdr *cm;
				ssize_t len = recvmsg(lu, &m, 0);

				if (len < 0)
					break;
				iov.iov_len = len;
				for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
					if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
						struct in_pktinfo *pi = (void *)CMSG_DATA(cm);

						pi->ipi_spec_dst = pi->ipi_addr;
						pi->ipi_ifindex = 0;
					}
				sendmsg(lu, &m, 0);
			}
		}
	}
	return 0;
}

struct slot {
	int fd;
	double start;
};

int main(int argc, char **argv)
{
	const char *file = NULL, *src = "0.0.0.0";
	int port = 80, conc = 8, udp, i, n, nvips = 0, cap = 0, opt;
	unsigned int sport_base = 10000, sports = 50000, sp = 0, vi = 0;
	double secs = 5, t0, t_end, t;
	long flows = 0, errors = 0;
	struct in_addr *vips = NULL, srcaddr;
	struct epoll_event ev, evs[256];
	struct slot *slots;
	char line[128];
	FILE *f;
	int ep;

	if (argc >= 3 && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]));
	if (argc < 2 || (strcmp(argv[1], "tcp") && strcmp(argv[1], "udp"))) {
		fprintf(stderr, "usage: kcbench serve PORT | kcbench tcp|udp -f ADDRS -p PORT -s SRC [-d SECS] [-c CONC] [-b SPORT_BASE] [-n SPORTS]\n");
		return 2;
	}
	udp = !strcmp(argv[1], "udp");
	optind = 2;
	while ((opt = getopt(argc, argv, "f:p:s:d:c:b:n:")) != -1) {
		switch (opt) {
		case 'f': file = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 's': src = optarg; break;
		case 'd': secs = atof(optarg); break;
		case 'c': conc = atoi(optarg); break;
		case 'b': sport_base = atoi(optarg); break;
		case 'n': sports = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!file || !(f = fopen(file, "r")))
		die("addresses file");
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \t\r\n")] = 0;
		if (!*line)
			continue;
		if (nvips == cap) {
			cap = cap ? cap * 2 : 128;
			vips = realloc(vips, cap * sizeof(*vips));
		}
		if (inet_pton(AF_INET, line, &vips[nvips]) != 1) {
			fprintf(stderr, "bad address %s\n", line);
			return 2;
		}
		nvips++;
	}
	fclose(f);
	if (!nvips || inet_pton(AF_INET, src, &srcaddr) != 1 || conc < 1 || conc > 256)
		return 2;
	slots = calloc(conc, sizeof(*slots));
	ep = epoll_create1(0);

	t0 = now();
	t_end = t0 + secs;
	for (i = 0; i < conc; i++)
		slots[i].fd = -1;
	for (;;) {
		t = now();
		/* (re)start idle slots, time out stuck ones */
		for (i = 0; i < conc; i++) {
			struct sockaddr_in sa = { .sin_family = AF_INET };
			int one = 1, fd;

			if (slots[i].fd >= 0 && t - slots[i].start > 2.0) {
				close(slots[i].fd);
				slots[i].fd = -1;
				errors++;
			}
			if (slots[i].fd >= 0 || t >= t_end)
				continue;
			fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK, 0);
			if (fd < 0)
				die("socket");
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			sa.sin_addr = srcaddr;
			sa.sin_port = htons(sport_base + sp);
			sp = (sp + 1) % sports;
			if (bind(fd, (void *)&sa, sizeof(sa))) {
				close(fd);
				errors++;
				i--;	/* port busy: try the next one */
				continue;
			}
			sa.sin_addr = vips[vi];
			sa.sin_port = htons(port);
			vi = (vi + 1) % nvips;
			if (connect(fd, (void *)&sa, sizeof(sa)) && errno != EINPROGRESS) {
				close(fd);
				errors++;
				continue;
			}
			if (udp && send(fd, "kcbench-request\n", 16, 0) != 16) {
				close(fd);
				errors++;
				continue;
			}
			ev.events = udp ? EPOLLIN : EPOLLOUT;
			ev.data.u32 = i;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			slots[i].fd = fd;
			slots[i].start = t;
		}
		if (t >= t_end) {
			for (i = 0; i < conc; i++)
				if (slots[i].fd >= 0)
					break;
			if (i == conc || t > t_end + 2.5)
				break;
		}
		n = epoll_wait(ep, evs, 256, 50);
		for (i = 0; i < n; i++) {
			struct slot *s = &slots[evs[i].data.u32];
			struct linger lg = { 1, 0 };
			int err = 0;
			socklen_t l = sizeof(err);
			char buf[64];

			if (s->fd < 0)
				continue;
			if (udp) {
				if (recv(s->fd, buf, sizeof(buf), 0) > 0)
					flows++;
				else
					errors++;
			} else {
				getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
				if (err)
					errors++;
				else
					flows++;
				setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			}
			close(s->fd);
			s->fd = -1;
		}
	}
	t = now() - t0;
	printf("{\"proto\":\"%s\",\"flows\":%ld,\"errors\":%ld,\"secs\":%.3f,\"rate\":%.1f}\n",
	       udp ? "udp" : "tcp", flows, errors, t, flows / (secs < t ? secs : t));
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * nlmalformed: send hand-made, malformed or invalid requests to the
 * "kclusterip" generic netlink family and check that each one is refused
 * with an error ack.
 *
 * Usage: nlmalformed [-v]
 *
 * Run it in the netns under test (ip netns exec NS nlmalformed).  The
 * backend cases name the Service 10.96.0.10:80/tcp, which the caller should
 * have created, so that they are refused for what is wrong with them and
 * not just because the Service is missing.  Prints one line per case:
 *
 *	ok <case> errno=<n> msg=<extack message> [missing-attr=<type>]
 *	FAIL <case> <why>
 *
 * and exits 1 if any request was accepted (or got the wrong errno where one
 * is required), 2 on a setup error (no such family...), else 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/kclusterip.h>
#include <libmnl/libmnl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define BUFSZ 16384

static struct mnl_socket *nl;
static uint16_t family_id;
static unsigned int seq;
static bool verbose;
static int nfail;

/* ------------------------------------------------------------ family */

static int family_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U16) >= 0)
		*(uint16_t *)data = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb, data);
	return MNL_CB_OK;
}

static int resolve_family(void)
{
	char buf[BUFSZ];
	struct genlmsghdr *genl;
	struct nlmsghdr *nlh;
	uint16_t id = 0;
	int ret;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = CTRL_CMD_GETFAMILY;
	genl->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, KCIP_GENL_NAME);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	while (ret > 0) {
		ret = mnl_cb_run(buf, ret, seq, mnl_socket_get_portid(nl),
				 family_cb, &id);
		if (ret <= MNL_CB_STOP)
			break;
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	}
	if (ret < 0 && !id)
		return -errno;
	family_id = id;
	return id ? 0 : -ENOENT;
}

/* ------------------------------------------------------------ messages */

static struct nlmsghdr *msg_start(char *buf, uint8_t cmd)
{
	struct genlmsghdr *genl;
	struct nlmsghdr *nlh;

	memset(buf, 0, BUFSZ);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = family_id;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = KCIP_GENL_VERSION;
	return nlh;
}

static void put_in4(struct nlmsghdr *nlh, uint16_t type, const char *a)
{
	struct in_addr in;

	inet_pton(AF_INET, a, &in);
	mnl_attr_put(nlh, type, 4, &in);
}

static void put_in6(struct nlmsghdr *nlh, uint16_t type, const char *a)
{
	struct in6_addr in6;

	inet_pton(AF_INET6, a, &in6);
	mnl_attr_put(nlh, type, 16, &in6);
}

/* the identity of the Service the caller made: 10.96.0.10:80/tcp */
static void put_svc_id(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, KCIP_A_SVC_FAMILY, AF_INET);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PROTO, IPPROTO_TCP);
	put_in4(nlh, KCIP_A_SVC_ADDR4, "10.96.0.10");
	mnl_attr_put_u16(nlh, KCIP_A_SVC_PORT, htons(80));
}

/* a Service that does not exist; valid in every other way */
static void put_svc_new(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, KCIP_A_SVC_FAMILY, AF_INET);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PROTO, IPPROTO_TCP);
	put_in4(nlh, KCIP_A_SVC_ADDR4, "10.96.7.7");
	mnl_attr_put_u16(nlh, KCIP_A_SVC_PORT, htons(80));
}

static struct nlattr *svc_nest(struct nlmsghdr *nlh)
{
	return mnl_attr_nest_start(nlh, KCIP_A_SERVICE);
}

/* a backend command on the existing Service; the backend nest is left open */
static struct nlattr *be_msg(char *buf, uint8_t cmd, struct nlmsghdr **pnlh)
{
	struct nlmsghdr *nlh = msg_start(buf, cmd);
	struct nlattr *n;

	n = svc_nest(nlh);
	put_svc_id(nlh);
	mnl_attr_nest_end(nlh, n);
	*pnlh = nlh;
	return mnl_attr_nest_start(nlh, KCIP_A_BACKEND);
}

/* ------------------------------------------------------------ acks */

struct ack {
	int error;		/* 0: accepted, >0: errno, -1: no ack */
	char msg[256];
	unsigned int offs;
	int miss_type;		/* -1: none */
};

static int ack_attr_cb(const struct nlattr *attr, void *data)
{
	struct ack *ack = data;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
			snprintf(ack->msg, sizeof(ack->msg), "%s",
				 mnl_attr_get_str(attr));
		break;
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			ack->offs = mnl_attr_get_u32(attr);
		break;
	case 5:	/* NLMSGERR_ATTR_MISS_TYPE, 6.0+ */
		if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			ack->miss_type = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

/* Send LEN bytes of BUF (a request with sequence number SEQNO) and wait up
 * to 2 s for its ack. */
static void send_raw(const void *buf, size_t len, unsigned int seqno,
		     struct ack *ack)
{
	char rbuf[BUFSZ];
	struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
	int n;

	memset(ack, 0, sizeof(*ack));
	ack->error = -1;
	ack->miss_type = -1;
	if (mnl_socket_sendto(nl, buf, len) < 0) {
		ack->error = errno;
		snprintf(ack->msg, sizeof(ack->msg), "(sendto: %s)",
			 strerror(errno));
		return;
	}
	for (;;) {
		struct nlmsghdr *nlh;

		if (poll(&pfd, 1, 2000) <= 0)
			return;	/* no ack */
		n = mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));
		if (n <= 0)
			return;
		for (nlh = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			struct nlmsgerr *err;

			if (nlh->nlmsg_seq != seqno ||
			    nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			err = mnl_nlmsg_get_payload(nlh);
			ack->error = -err->error;
			if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
				unsigned int off = sizeof(*err);

				if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
					off += err->msg.nlmsg_len -
					       sizeof(struct nlmsghdr);
				mnl_attr_parse(nlh, off, ack_attr_cb, ack);
			}
			return;
		}
	}
}

static void send_msg(struct nlmsghdr *nlh, struct ack *ack)
{
	send_raw(nlh, nlh->nlmsg_len, nlh->nlmsg_seq, ack);
}

/* want: 0 any error, else that errno; noack_ok: no ack at all is fine */
static void report(const char *name, const struct ack *ack, int want,
		   bool noack_ok)
{
	if (ack->error == -1 && noack_ok) {
		printf("ok %s noack\n", name);
		return;
	}
	if (ack->error == -1) {
		printf("FAIL %s no ack\n", name);
		nfail++;
		return;
	}
	if (ack->error == 0) {
		printf("FAIL %s accepted\n", name);
		nfail++;
		return;
	}
	if (want && ack->error != want) {
		printf("FAIL %s errno=%d (%s), want %d (%s) msg=%s\n", name,
		       ack->error, strerror(ack->error), want, strerror(want),
		       ack->msg);
		nfail++;
		return;
	}
	printf("ok %s errno=%d msg=%s", name, ack->error, ack->msg);
	if (ack->miss_type >= 0)
		printf(" missing-attr=%d", ack->miss_type);
	if (verbose)
		printf(" (%s, offset %u)", strerror(ack->error), ack->offs);
	printf("\n");
}

/* ------------------------------------------------------------ cases */

static char buf[BUFSZ];

static void svc_case(const char *name, void (*fill)(struct nlmsghdr *),
		     int want)
{
	struct nlmsghdr *nlh = msg_start(buf, KCIP_CMD_SERVICE_NEW);
	struct nlattr *n = svc_nest(nlh);
	struct ack ack;

	fill(nlh);
	mnl_attr_nest_end(nlh, n);
	send_msg(nlh, &ack);
	report(name, &ack, want, false);
}

static void be_case(const char *name, uint8_t cmd,
		    void (*fill)(struct nlmsghdr *), int want)
{
	struct nlmsghdr *nlh;
	struct nlattr *n = be_msg(buf, cmd, &nlh);
	struct ack ack;

	fill(nlh);
	mnl_attr_nest_end(nlh, n);
	send_msg(nlh, &ack);
	report(name, &ack, want, false);
}

static void f_addr4_3(struct nlmsghdr *nlh)
{
	static const uint8_t a[3] = { 10, 96, 7 };

	mnl_attr_put_u16(nlh, KCIP_A_SVC_FAMILY, AF_INET);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PROTO, IPPROTO_TCP);
	mnl_attr_put(nlh, KCIP_A_SVC_ADDR4, 3, a);
	mnl_attr_put_u16(nlh, KCIP_A_SVC_PORT, htons(80));
}

static void f_addr6_4(struct nlmsghdr *nlh)
{
	static const uint8_t a[4] = { 0xfd, 0, 0, 0x96 };

	mnl_attr_put_u16(nlh, KCIP_A_SVC_FAMILY, AF_INET6);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PROTO, IPPROTO_TCP);
	mnl_attr_put(nlh, KCIP_A_SVC_ADDR6, 4, a);
	mnl_attr_put_u16(nlh, KCIP_A_SVC_PORT, htons(80));
}

static void f_both_addrs(struct nlmsghdr *nlh)
{
	put_svc_new(nlh);
	put_in6(nlh, KCIP_A_SVC_ADDR6, "fd00:96::77");
}

static void f_inet_addr6(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, KCIP_A_SVC_FAMILY, AF_INET);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PROTO, IPPROTO_TCP);
	put_in6(nlh, KCIP_A_SVC_ADDR6, "fd00:96::77");
	mnl_attr_put_u16(nlh, KCIP_A_SVC_PORT, htons(80));
}

static void f_inet6_addr4(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, KCIP_A_SVC_FAMILY, AF_INET6);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PROTO, IPPROTO_TCP);
	put_in4(nlh, KCIP_A_SVC_ADDR4, "10.96.7.7");
	mnl_attr_put_u16(nlh, KCIP_A_SVC_PORT, htons(80));
}

static void f_no_addr(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, KCIP_A_SVC_FAMILY, AF_INET);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PROTO, IPPROTO_TCP);
	mnl_attr_put_u16(nlh, KCIP_A_SVC_PORT, htons(80));
}

static void f_family_99(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, KCIP_A_SVC_FAMILY, 99);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PROTO, IPPROTO_TCP);
	put_in4(nlh, KCIP_A_SVC_ADDR4, "10.96.7.7");
	mnl_attr_put_u16(nlh, KCIP_A_SVC_PORT, htons(80));
}

static void f_proto_99(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, KCIP_A_SVC_FAMILY, AF_INET);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PROTO, 99);
	put_in4(nlh, KCIP_A_SVC_ADDR4, "10.96.7.7");
	mnl_attr_put_u16(nlh, KCIP_A_SVC_PORT, htons(80));
}

static void f_port_0(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, KCIP_A_SVC_FAMILY, AF_INET);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PROTO, IPPROTO_TCP);
	put_in4(nlh, KCIP_A_SVC_ADDR4, "10.96.7.7");
	mnl_attr_put_u16(nlh, KCIP_A_SVC_PORT, 0);
}

static void f_port_1byte(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, KCIP_A_SVC_FAMILY, AF_INET);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PROTO, IPPROTO_TCP);
	put_in4(nlh, KCIP_A_SVC_ADDR4, "10.96.7.7");
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PORT, 80);
}

static void f_multicast(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, KCIP_A_SVC_FAMILY, AF_INET);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PROTO, IPPROTO_TCP);
	put_in4(nlh, KCIP_A_SVC_ADDR4, "224.0.0.5");
	mnl_attr_put_u16(nlh, KCIP_A_SVC_PORT, htons(80));
}

static void f_unknown_svc_attr(struct nlmsghdr *nlh)
{
	put_svc_new(nlh);
	mnl_attr_put_u32(nlh, KCIP_A_SVC_MAX + 5, 1);
}

static void f_svc_flags(struct nlmsghdr *nlh)
{
	put_svc_new(nlh);
	mnl_attr_put_u32(nlh, KCIP_A_SVC_FLAGS, 1U << 31);
}

static void f_sched_9(struct nlmsghdr *nlh)
{
	put_svc_new(nlh);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_SCHED, 9);
}

static void f_no_endpoints_9(struct nlmsghdr *nlh)
{
	put_svc_new(nlh);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_NO_ENDPOINTS, 9);
}

static void f_affinity_timeout_0(struct nlmsghdr *nlh)
{
	put_svc_new(nlh);
	mnl_attr_put_u32(nlh, KCIP_A_SVC_AFFINITY_TIMEOUT, 0);
}

static void f_affinity_timeout_big(struct nlmsghdr *nlh)
{
	put_svc_new(nlh);
	mnl_attr_put_u32(nlh, KCIP_A_SVC_AFFINITY_TIMEOUT,
			 KCIP_MAX_AFFINITY_TIMEOUT + 1);
}

static void f_quarantine_0(struct nlmsghdr *nlh)
{
	put_svc_new(nlh);
	mnl_attr_put_u32(nlh, KCIP_A_SVC_QUARANTINE, 0);
}

static void f_stats_given(struct nlmsghdr *nlh)
{
	struct nlattr *n;

	put_svc_new(nlh);
	n = mnl_attr_nest_start(nlh, KCIP_A_SVC_STATS);
	mnl_attr_put_u64(nlh, KCIP_A_STATS_NEW_FLOWS, 1);
	mnl_attr_nest_end(nlh, n);
}

static void f_mask_on_new(struct nlmsghdr *nlh)
{
	put_svc_new(nlh);
	mnl_attr_put_u32(nlh, KCIP_A_SVC_FLAGS_MASK, 0);
}

static void b_weight_70000(struct nlmsghdr *nlh)
{
	put_in4(nlh, KCIP_A_BE_ADDR4, "10.244.7.7");
	mnl_attr_put_u16(nlh, KCIP_A_BE_PORT, htons(8080));
	mnl_attr_put_u32(nlh, KCIP_A_BE_WEIGHT, 70000);
}

static void b_state_9(struct nlmsghdr *nlh)
{
	put_in4(nlh, KCIP_A_BE_ADDR4, "10.244.7.7");
	mnl_attr_put_u16(nlh, KCIP_A_BE_PORT, htons(8080));
	mnl_attr_put_u8(nlh, KCIP_A_BE_STATE, 9);
}

static void b_port_0(struct nlmsghdr *nlh)
{
	put_in4(nlh, KCIP_A_BE_ADDR4, "10.244.7.7");
	mnl_attr_put_u16(nlh, KCIP_A_BE_PORT, 0);
}

static void b_no_port(struct nlmsghdr *nlh)
{
	put_in4(nlh, KCIP_A_BE_ADDR4, "10.244.7.7");
}

static void b_addr6_for_inet(struct nlmsghdr *nlh)
{
	put_in6(nlh, KCIP_A_BE_ADDR6, "fd00:244::77");
	mnl_attr_put_u16(nlh, KCIP_A_BE_PORT, htons(8080));
}

static void b_addr4_5bytes(struct nlmsghdr *nlh)
{
	static const uint8_t a[5] = { 10, 244, 7, 7, 7 };

	mnl_attr_put(nlh, KCIP_A_BE_ADDR4, 5, a);
	mnl_attr_put_u16(nlh, KCIP_A_BE_PORT, htons(8080));
}

static void b_flags(struct nlmsghdr *nlh)
{
	put_in4(nlh, KCIP_A_BE_ADDR4, "10.244.7.7");
	mnl_attr_put_u16(nlh, KCIP_A_BE_PORT, htons(8080));
	mnl_attr_put_u32(nlh, KCIP_A_BE_FLAGS, 1U << 31);
}

static void b_unknown_attr(struct nlmsghdr *nlh)
{
	put_in4(nlh, KCIP_A_BE_ADDR4, "10.244.7.7");
	mnl_attr_put_u16(nlh, KCIP_A_BE_PORT, htons(8080));
	mnl_attr_put_u32(nlh, KCIP_A_BE_MAX + 3, 1);
}

static void b_missing(struct nlmsghdr *nlh)
{
	put_in4(nlh, KCIP_A_BE_ADDR4, "10.244.7.8");
	mnl_attr_put_u16(nlh, KCIP_A_BE_PORT, htons(8080));
}

static void b_multicast(struct nlmsghdr *nlh)
{
	put_in4(nlh, KCIP_A_BE_ADDR4, "239.1.1.1");
	mnl_attr_put_u16(nlh, KCIP_A_BE_PORT, htons(8080));
}

int main(int argc, char **argv)
{
	struct nlmsghdr *nlh;
	struct nlattr *n;
	struct ack ack;
	int one = 1;
	int ret;

	if (argc > 1 && !strcmp(argv[1], "-v"))
		verbose = true;
	setvbuf(stdout, NULL, _IOLBF, 0);

	nl = mnl_socket_open(NETLINK_GENERIC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nlmalformed: netlink socket");
		return 2;
	}
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	ret = resolve_family();
	if (ret) {
		fprintf(stderr, "nlmalformed: family %s: %s\n", KCIP_GENL_NAME,
			strerror(-ret));
		return 2;
	}
	if (verbose)
		printf("# family %s id %u\n", KCIP_GENL_NAME, family_id);

	/* no SERVICE nest at all */
	nlh = msg_start(buf, KCIP_CMD_SERVICE_NEW);
	send_msg(nlh, &ack);
	report("missing_service", &ack, 0, false);

	nlh = msg_start(buf, KCIP_CMD_SERVICE_DEL);
	send_msg(nlh, &ack);
	report("del_missing_service_nest", &ack, 0, false);

	svc_case("addr4_3_bytes", f_addr4_3, 0);
	svc_case("addr6_4_bytes", f_addr6_4, 0);
	svc_case("both_addr4_and_addr6", f_both_addrs, 0);
	svc_case("inet_with_addr6", f_inet_addr6, 0);
	svc_case("inet6_with_addr4", f_inet6_addr4, 0);
	svc_case("no_addr", f_no_addr, 0);
	svc_case("family_99", f_family_99, 0);
	svc_case("proto_99", f_proto_99, 0);
	svc_case("port_0", f_port_0, 0);
	svc_case("port_1_byte", f_port_1byte, 0);
	svc_case("multicast_vip", f_multicast, 0);
	svc_case("unknown_svc_attr", f_unknown_svc_attr, 0);
	svc_case("svc_flags_bit31", f_svc_flags, 0);
	svc_case("sched_9", f_sched_9, 0);
	svc_case("no_endpoints_9", f_no_endpoints_9, 0);
	svc_case("affinity_timeout_0", f_affinity_timeout_0, 0);
	svc_case("affinity_timeout_86401", f_affinity_timeout_big, 0);
	svc_case("quarantine_0", f_quarantine_0, 0);
	svc_case("stats_in_request", f_stats_given, 0);
	svc_case("flags_mask_on_new", f_mask_on_new, 0);

	/* the existing Service again: EEXIST */
	nlh = msg_start(buf, KCIP_CMD_SERVICE_NEW);
	n = svc_nest(nlh);
	put_svc_id(nlh);
	mnl_attr_nest_end(nlh, n);
	send_msg(nlh, &ack);
	report("duplicate_service", &ack, EEXIST, false);

	/* unknown top-level attribute (strict validation) */
	nlh = msg_start(buf, KCIP_CMD_SERVICE_NEW);
	n = svc_nest(nlh);
	put_svc_new(nlh);
	mnl_attr_nest_end(nlh, n);
	mnl_attr_put_u32(nlh, KCIP_A_MAX + 10, 1);
	send_msg(nlh, &ack);
	report("unknown_top_attr", &ack, 0, false);

	/* SERVICE that is not a nest: no NLA_F_NESTED, junk payload */
	nlh = msg_start(buf, KCIP_CMD_SERVICE_NEW);
	mnl_attr_put_u32(nlh, KCIP_A_SERVICE, 0x01020304);
	send_msg(nlh, &ack);
	report("service_not_nested", &ack, 0, false);

	/* SERVICE with valid contents but without NLA_F_NESTED */
	nlh = msg_start(buf, KCIP_CMD_SERVICE_NEW);
	n = svc_nest(nlh);
	put_svc_new(nlh);
	mnl_attr_nest_end(nlh, n);
	n->nla_type &= ~NLA_F_NESTED;
	send_msg(nlh, &ack);
	report("service_nest_flag_missing", &ack, 0, false);

	/* GENERATION is output only */
	nlh = msg_start(buf, KCIP_CMD_FLUSH);
	mnl_attr_put_u64(nlh, KCIP_A_GENERATION, 1);
	send_msg(nlh, &ack);
	report("flush_with_attr", &ack, 0, false);

	/* an attribute whose length runs past the end of the message */
	nlh = msg_start(buf, KCIP_CMD_SERVICE_NEW);
	n = svc_nest(nlh);
	put_svc_new(nlh);
	mnl_attr_nest_end(nlh, n);
	n->nla_len += 64;
	send_msg(nlh, &ack);
	report("attr_len_beyond_message", &ack, 0, false);

	/* an attribute inside the nest running past the nest's end */
	nlh = msg_start(buf, KCIP_CMD_SERVICE_NEW);
	n = svc_nest(nlh);
	put_svc_new(nlh);
	mnl_attr_nest_end(nlh, n);
	((struct nlattr *)mnl_attr_get_payload(n))->nla_len = 200;
	send_msg(nlh, &ack);
	report("inner_attr_len_beyond_nest", &ack, 0, false);

	/* nlmsg_len shorter than the generic netlink header */
	nlh = msg_start(buf, KCIP_CMD_SERVICE_NEW);
	nlh->nlmsg_len = sizeof(struct nlmsghdr) + 2;
	send_raw(nlh, nlh->nlmsg_len, nlh->nlmsg_seq, &ack);
	report("truncated_genl_header", &ack, 0, false);

	/* nlmsg_len claims more than was sent: the kernel drops it silently
	 * (netlink_rcv_skb), an error ack is fine too; it must not apply */
	nlh = msg_start(buf, KCIP_CMD_SERVICE_NEW);
	n = svc_nest(nlh);
	put_svc_new(nlh);
	mnl_attr_nest_end(nlh, n);
	{
		unsigned int len = nlh->nlmsg_len;

		nlh->nlmsg_len = len + 64;
		send_raw(nlh, len, nlh->nlmsg_seq, &ack);
	}
	report("nlmsg_len_beyond_data", &ack, 0, true);

	/* the message cut in the middle of an attribute */
	nlh = msg_start(buf, KCIP_CMD_SERVICE_NEW);
	n = svc_nest(nlh);
	put_svc_new(nlh);
	mnl_attr_nest_end(nlh, n);
	nlh->nlmsg_len -= 3;
	send_msg(nlh, &ack);
	report("message_cut_in_attribute", &ack, 0, false);

	/* unknown command */
	nlh = msg_start(buf, KCIP_CMD_MAX + 20);
	send_msg(nlh, &ack);
	report("unknown_command", &ack, 0, false);

	/* GET (doit) of a Service that does not exist */
	nlh = msg_start(buf, KCIP_CMD_SERVICE_GET);
	n = svc_nest(nlh);
	put_svc_new(nlh);
	mnl_attr_nest_end(nlh, n);
	send_msg(nlh, &ack);
	report("get_missing_service", &ack, ENOENT, false);

	/* DEL of a Service that does not exist */
	nlh = msg_start(buf, KCIP_CMD_SERVICE_DEL);
	n = svc_nest(nlh);
	put_svc_new(nlh);
	mnl_attr_nest_end(nlh, n);
	send_msg(nlh, &ack);
	report("del_missing_service", &ack, ENOENT, false);

	/* backend commands */
	be_case("backend_weight_70000", KCIP_CMD_BACKEND_NEW, b_weight_70000, 0);
	be_case("backend_state_9", KCIP_CMD_BACKEND_NEW, b_state_9, 0);
	be_case("backend_port_0", KCIP_CMD_BACKEND_NEW, b_port_0, 0);
	be_case("backend_no_port", KCIP_CMD_BACKEND_NEW, b_no_port, 0);
	be_case("backend_addr6_for_inet", KCIP_CMD_BACKEND_NEW, b_addr6_for_inet, 0);
	be_case("backend_addr4_5_bytes", KCIP_CMD_BACKEND_NEW, b_addr4_5bytes, 0);
	be_case("backend_flags_bit31", KCIP_CMD_BACKEND_NEW, b_flags, 0);
	be_case("backend_unknown_attr", KCIP_CMD_BACKEND_NEW, b_unknown_attr, 0);
	be_case("backend_multicast", KCIP_CMD_BACKEND_NEW, b_multicast, 0);
	be_case("backend_del_missing", KCIP_CMD_BACKEND_DEL, b_missing, ENOENT);
	be_case("backend_change_missing", KCIP_CMD_BACKEND_SET, b_missing, ENOENT);

	/* BACKEND_NEW without the BACKEND nest */
	nlh = msg_start(buf, KCIP_CMD_BACKEND_NEW);
	n = svc_nest(nlh);
	put_svc_id(nlh);
	mnl_attr_nest_end(nlh, n);
	send_msg(nlh, &ack);
	report("backend_nest_missing", &ack, 0, false);

	/* BACKEND_NEW on a Service that does not exist */
	nlh = msg_start(buf, KCIP_CMD_BACKEND_NEW);
	n = svc_nest(nlh);
	put_svc_new(nlh);
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, KCIP_A_BACKEND);
	b_missing(nlh);
	mnl_attr_nest_end(nlh, n);
	send_msg(nlh, &ack);
	report("backend_add_missing_service", &ack, ENOENT, false);

	/* op flags: unknown bit, and FLUSH_TCP on something else than DEL */
	nlh = msg_start(buf, KCIP_CMD_BACKEND_DEL);
	n = svc_nest(nlh);
	put_svc_id(nlh);
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, KCIP_A_BACKEND);
	b_missing(nlh);
	mnl_attr_nest_end(nlh, n);
	mnl_attr_put_u32(nlh, KCIP_A_FLAGS, 1U << 31);
	send_msg(nlh, &ack);
	report("op_flags_bit31", &ack, 0, false);

	nlh = msg_start(buf, KCIP_CMD_BACKEND_NEW);
	n = svc_nest(nlh);
	put_svc_id(nlh);
	mnl_attr_nest_end(nlh, n);
	n = mnl_attr_nest_start(nlh, KCIP_A_BACKEND);
	b_missing(nlh);
	mnl_attr_nest_end(nlh, n);
	mnl_attr_put_u32(nlh, KCIP_A_FLAGS, KCIP_OP_F_FLUSH_TCP);
	send_msg(nlh, &ack);
	report("flush_tcp_on_backend_add", &ack, 0, false);

	mnl_socket_close(nl);
	printf("# %d case(s) failed\n", nfail);
	return nfail ? 1 : 0;
}

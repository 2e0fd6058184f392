// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink plumbing: one socket per run, the "kclusterip" family id
 * resolved through nlctrl, requests acknowledged with extended ACKs, dumps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "kcipctl.h"

#define NL_SEND_SIZE	8192
/* The kernel sizes dump messages up to 32 KiB for a big enough reader. */
#define NL_RECV_SIZE	65536

struct nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	uint16_t family;		/* generic netlink id of "kclusterip" */
	uint32_t monitor_group;		/* multicast group id, 0 if none */
	char errmsg[256];		/* extack message of the last reply */
	int miss_type;			/* extack missing attribute, or -1 */
	uint32_t err_offs;		/* extack bad attribute's offset, or 0 */
	char sbuf[NL_SEND_SIZE];
	char rbuf[NL_RECV_SIZE];
};

/* What the mnl callbacks of one request see. */
struct talk {
	struct nl *nl;
	nl_msg_cb cb;
	void *data;
	bool intr;		/* a dump message had NLM_F_DUMP_INTR */
};

static int extack_attr_cb(const struct nlattr *attr, void *data)
{
	struct nl *nl = data;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			break;
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%s",
			 mnl_attr_get_str(attr));
		break;
	case NLMSGERR_ATTR_MISS_TYPE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			break;
		nl->miss_type = mnl_attr_get_u32(attr);
		break;
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			break;
		nl->err_offs = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

/* TLVs start @offset bytes into the payload of an ERROR or DONE message. */
static void parse_extack(struct nl *nl, const struct nlmsghdr *nlh,
			 size_t offset)
{
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (MNL_ALIGN(offset) > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_parse(nlh, offset, extack_attr_cb, nl);
}

static int cb_error(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t offset = sizeof(*e);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += mnl_nlmsg_get_payload_len(&e->msg);
	parse_extack(t->nl, nlh, offset);

	if (e->error) {
		errno = e->error < 0 ? -e->error : e->error;
		return MNL_CB_ERROR;
	}
	if (t->nl->errmsg[0])
		fprintf(stderr, "%s: warning: %s\n", progname, t->nl->errmsg);
	return MNL_CB_STOP;
}

/* A dump ends with DONE, which carries an error if the dump failed. */
static int cb_done(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;
	int error;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(error))
		return MNL_CB_STOP;
	memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
	parse_extack(t->nl, nlh, sizeof(error));
	if (error) {
		errno = error < 0 ? -error : error;
		return MNL_CB_ERROR;
	}
	return MNL_CB_STOP;
}

static int cb_noop(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

static int cb_overrun(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	errno = ENOSPC;
	return MNL_CB_ERROR;
}

static int cb_data(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;

	return t->cb ? t->cb(nlh, t->data) : MNL_CB_OK;
}

/* Not const: mnl_cb_run2() takes a plain pointer. */
static mnl_cb_t cb_ctl[NLMSG_MIN_TYPE] = {
	[NLMSG_NOOP] = cb_noop,
	[NLMSG_ERROR] = cb_error,
	[NLMSG_DONE] = cb_done,
	[NLMSG_OVERRUN] = cb_overrun,
};

/*
 * mnl_cb_run2() stops at a message flagged NLM_F_DUMP_INTR, leaving the
 * rest of the dump unread.  Note the flag and clear it instead, so the dump
 * is read to its end and can then be retried on a clean socket.
 */
static void take_dump_intr(struct talk *t, char *buf, ssize_t len)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	int n = len;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
			t->intr = true;
			nlh->nlmsg_flags &= ~NLM_F_DUMP_INTR;
		}
	}
}

static void nl_clear_error(struct nl *nl)
{
	nl->errmsg[0] = '\0';
	nl->miss_type = -1;
	nl->err_offs = 0;
}

/*
 * Send @nlh and read the answers until its ACK or, for a dump, DONE.
 * Returns 0, -EINTR for a dump that raced a change, or a negative errno;
 * nl->errmsg has the kernel's extack text.
 */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb cb,
		   void *data)
{
	struct talk t = { .nl = nl, .cb = cb, .data = data };
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	nl_clear_error(nl);

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl->sock, nl->rbuf, sizeof(nl->rbuf));
		if (n < 0)
			return -errno;
		take_dump_intr(&t, nl->rbuf, n);
		ret = mnl_cb_run2(nl->rbuf, n, seq, nl->portid, cb_data, &t,
				  cb_ctl, ARRAY_SIZE(cb_ctl));
	} while (ret > MNL_CB_STOP);

	if (ret < 0)
		return -(errno ? errno : EPROTO);
	return t.intr ? -EINTR : 0;
}

static struct nlmsghdr *msg_start(struct nl *nl, void *buf, uint16_t type,
				  uint8_t cmd, uint8_t version, uint16_t flags)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *genl;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;

	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

/* A kclusterip request; the buffer lives in @nl until the next call. */
struct nlmsghdr *nl_msg(struct nl *nl, uint8_t cmd, uint16_t flags)
{
	return msg_start(nl, nl->sbuf, nl->family, cmd, KCIP_GENL_VERSION,
			 flags);
}

/* The same, built at @buf (for batches), with the next sequence number. */
struct nlmsghdr *nl_msg_at(struct nl *nl, void *buf, uint8_t cmd,
			   uint16_t flags)
{
	return msg_start(nl, buf, nl->family, cmd, KCIP_GENL_VERSION, flags);
}

int nl_do(struct nl *nl, struct nlmsghdr *nlh)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	return nl_talk(nl, nlh, NULL, NULL);
}

/* A request with a reply: @cb sees the reply, then the ACK ends it. */
int nl_request(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb cb, void *data)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	return nl_talk(nl, nlh, cb, data);
}

/*
 * Send @len bytes holding several requests at once, the last one with
 * sequence number @last_seq and NLM_F_ACK, the others without: the kernel
 * handles them in order within the send and answers only errors and that
 * last ACK.  Read the answers up to that ACK.  Returns 0, or the first
 * error (negative errno) with *@err_seq the request that got it and
 * nl->errmsg, nl->err_offs its extack.  Requests after a failed one may
 * fail too; only the first error is kept.
 */
int nl_batch(struct nl *nl, void *buf, size_t len, unsigned int last_seq,
	     unsigned int *err_seq)
{
	const struct nlmsghdr *nlh;
	const struct nlmsgerr *e;
	int first = 0, n;
	bool done = false;

	nl_clear_error(nl);
	if (mnl_socket_sendto(nl->sock, buf, len) < 0)
		return -errno;
	while (!done) {
		n = mnl_socket_recvfrom(nl->sock, nl->rbuf, sizeof(nl->rbuf));
		if (n < 0)
			return first ? first : -errno;
		for (nlh = (struct nlmsghdr *)nl->rbuf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    (nlh->nlmsg_pid && nlh->nlmsg_pid != nl->portid))
				continue;
			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
				return first ? first : -EBADMSG;
			e = mnl_nlmsg_get_payload(nlh);
			if (e->error && !first) {
				size_t offset = sizeof(*e);

				if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
					offset += mnl_nlmsg_get_payload_len(&e->msg);
				parse_extack(nl, nlh, offset);
				first = e->error < 0 ? e->error : -e->error;
				*err_seq = nlh->nlmsg_seq;
			}
			if (nlh->nlmsg_seq == last_seq)
				done = true;
		}
	}
	return first;
}

/* Join the "monitor" multicast group. */
int nl_join_monitor(struct nl *nl)
{
	int group = nl->monitor_group;

	if (!group) {
		errmsg("the kernel's family has no \"%s\" multicast group",
		       KCIP_MCGRP_MONITOR);
		return -1;
	}
	if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) < 0) {
		errmsg("cannot join the \"%s\" multicast group: %s",
		       KCIP_MCGRP_MONITOR, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Read one datagram of events and give each message to @cb.  Returns 0,
 * -EINTR when a signal came, -ENOBUFS when events were lost (the socket
 * goes on), another negative errno, or @cb's negative return.
 */
int nl_recv_events(struct nl *nl, nl_msg_cb cb, void *data)
{
	const struct nlmsghdr *nlh;
	int n, ret;

	n = mnl_socket_recvfrom(nl->sock, nl->rbuf, sizeof(nl->rbuf));
	if (n < 0)
		return -errno;
	for (nlh = (struct nlmsghdr *)nl->rbuf; mnl_nlmsg_ok(nlh, n);
	     nlh = mnl_nlmsg_next(nlh, &n)) {
		if (nlh->nlmsg_type != nl->family)
			continue;
		ret = cb(nlh, data);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Best effort: a bigger receive buffer (many ACKs, bursts of events). */
void nl_set_rcvbuf(struct nl *nl, int size)
{
	int fd = mnl_socket_get_fd(nl->sock);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

int nl_fd(const struct nl *nl)
{
	return mnl_socket_get_fd(nl->sock);
}

/* The bad attribute's offset in the request, from the last error. */
uint32_t nl_err_offset(const struct nl *nl)
{
	return nl->err_offs;
}

int nl_dump(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb cb, void *data)
{
	nlh->nlmsg_flags |= NLM_F_DUMP;
	return nl_talk(nl, nlh, cb, data);
}

void nl_perror(struct nl *nl, int error)
{
	if (error < 0)
		error = -error;
	if (nl && nl->errmsg[0])
		errmsg("%s", nl->errmsg);
	else if (nl && nl->miss_type >= 0)
		errmsg("%s (missing attribute %d)", strerror(error),
		       nl->miss_type);
	else
		errmsg("%s", strerror(error));
}

/* The service's identity, shared by every command that names one. */
void nl_put_svc_id(struct nlmsghdr *nlh, const struct svc_id *id)
{
	const struct endpoint *ep = &id->ep;

	mnl_attr_put_u16(nlh, KCIP_A_SVC_FAMILY, ep->family);
	mnl_attr_put_u8(nlh, KCIP_A_SVC_PROTO, id->proto);
	if (ep->family == AF_INET)
		mnl_attr_put(nlh, KCIP_A_SVC_ADDR4, 4, ep->addr);
	else
		mnl_attr_put(nlh, KCIP_A_SVC_ADDR6, 16, ep->addr);
	mnl_attr_put_u16(nlh, KCIP_A_SVC_PORT, htons(ep->port));
}

static void parse_mcast_group(const struct nlattr *grp, struct nl *nl)
{
	const struct nlattr *a;
	const char *name = NULL;
	uint32_t id = 0;

	mnl_attr_for_each_nested(a, grp) {
		switch (mnl_attr_get_type(a)) {
		case CTRL_ATTR_MCAST_GRP_NAME:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				name = mnl_attr_get_str(a);
			break;
		case CTRL_ATTR_MCAST_GRP_ID:
			if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
				id = mnl_attr_get_u32(a);
			break;
		}
	}
	if (name && !strcmp(name, KCIP_MCGRP_MONITOR))
		nl->monitor_group = id;
}

static int family_attr_cb(const struct nlattr *attr, void *data)
{
	struct nl *nl = data;
	const struct nlattr *grp;

	switch (mnl_attr_get_type(attr)) {
	case CTRL_ATTR_FAMILY_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
			return MNL_CB_ERROR;
		nl->family = mnl_attr_get_u16(attr);
		break;
	case CTRL_ATTR_MCAST_GROUPS:
		mnl_attr_for_each_nested(grp, attr)
			parse_mcast_group(grp, nl);
		break;
	}
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb,
			      data);
}

static int resolve_family(struct nl *nl)
{
	struct nlmsghdr *nlh;
	int ret;

	nlh = msg_start(nl, nl->sbuf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1,
			NLM_F_ACK);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, KCIP_GENL_NAME);
	ret = nl_talk(nl, nlh, family_cb, nl);
	if (ret == -ENOENT) {
		errmsg("kclusterip module not loaded (family \"%s\" not found)",
		       KCIP_GENL_NAME);
		return ret;
	}
	if (ret) {
		nl_perror(nl, ret);
		return ret;
	}
	if (!nl->family) {
		errmsg("no id for family \"%s\" in the kernel's answer",
		       KCIP_GENL_NAME);
		return -EPROTO;
	}
	return 0;
}

static void set_ack_options(struct nl *nl)
{
	int one = 1;

	/* Kernels before 4.12 lack extended ACKs; plain errors still work. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
}

/*
 * Enter @netns (if any), open the socket and find the family.
 * Prints its own errors.
 */
struct nl *nl_open(const char *netns)
{
	struct nl *nl;

	if (netns && netns_switch(netns))
		return NULL;
	nl = calloc(1, sizeof(*nl));
	if (!nl) {
		errmsg("%s", strerror(errno));
		return NULL;
	}
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock) {
		errmsg("cannot open a generic netlink socket: %s",
		       strerror(errno));
		goto err_free;
	}
	set_ack_options(nl);
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		errmsg("cannot bind the netlink socket: %s", strerror(errno));
		goto err_close;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = time(NULL);

	if (resolve_family(nl))
		goto err_close;
	return nl;

err_close:
	mnl_socket_close(nl->sock);
err_free:
	free(nl);
	return NULL;
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

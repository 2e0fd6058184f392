// SPDX-License-Identifier: GPL-2.0
/*
 * Turning the family's attributes into Services, options and backends.
 * The policies check types, lengths and ranges; this checks the rest and
 * says what is wrong through extack.
 */
#include <linux/in.h>
#include <linux/in6.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "kclusterip.h"
#include "nl.h"

int kcip_parse_addr(u16 family, struct nlattr *a4, struct nlattr *a6,
		    union nf_inet_addr *addr, struct nlattr *nest,
		    struct netlink_ext_ack *extack)
{
	memset(addr, 0, sizeof(*addr));
	if (family == AF_INET && a4 && !a6) {
		addr->ip = nla_get_in_addr(a4);
		return 0;
	}
	if (family == AF_INET6 && a6 && !a4) {
		addr->in6 = nla_get_in6_addr(a6);
		return 0;
	}
	NL_SET_ERR_MSG_ATTR(extack, nest,
			    "Exactly one address, of the Service's family, is needed");
	return -EINVAL;
}

bool kcip_addr_is_any(u16 family, const union nf_inet_addr *addr)
{
	if (family == AF_INET)
		return addr->ip == htonl(INADDR_ANY);
	return ipv6_addr_any(&addr->in6);
}

static bool kcip_addr_is_unicast(u16 family, const union nf_inet_addr *addr)
{
	if (family == AF_INET)
		return !ipv4_is_multicast(addr->ip) &&
		       !ipv4_is_lbcast(addr->ip) &&
		       !ipv4_is_zeronet(addr->ip);
	return !ipv6_addr_any(&addr->in6) &&
	       !ipv6_addr_is_multicast(&addr->in6);
}

static bool kcip_svc_has_opts(struct nlattr **tb)
{
	int i;

	for (i = KCIP_A_SVC_SCHED; i <= KCIP_A_SVC_QUARANTINE; i++)
		if (tb[i])
			return true;
	return false;
}

/*
 * Parse a SERVICE nest (with @policy) into a key; @tb receives its
 * attributes.  Options are refused unless @opts_ok.
 */
int kcip_parse_svc(struct nlattr *nest, const struct nla_policy *policy,
		   struct nlattr **tb, struct kcip_svc_key *key, bool opts_ok,
		   struct netlink_ext_ack *extack)
{
	u16 family;
	int err;

	err = nla_parse_nested(tb, KCIP_A_SVC_MAX, nest, policy, extack);
	if (err)
		return err;

	if (NL_REQ_ATTR_CHECK(extack, nest, tb, KCIP_A_SVC_FAMILY) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, KCIP_A_SVC_PROTO) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, KCIP_A_SVC_PORT)) {
		NL_SET_ERR_MSG(extack,
			       "Service needs a family, a protocol and a port");
		return -EINVAL;
	}

	memset(key, 0, sizeof(*key));
	family = nla_get_u16(tb[KCIP_A_SVC_FAMILY]);
	if (family != AF_INET && family != AF_INET6) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KCIP_A_SVC_FAMILY],
				    "Service family must be AF_INET or AF_INET6");
		return -EAFNOSUPPORT;
	}
	key->family = family;

	key->proto = nla_get_u8(tb[KCIP_A_SVC_PROTO]);
	if (key->proto != IPPROTO_TCP && key->proto != IPPROTO_UDP &&
	    key->proto != IPPROTO_SCTP) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KCIP_A_SVC_PROTO],
				    "Service protocol must be TCP, UDP or SCTP");
		return -EPROTONOSUPPORT;
	}

	key->port = nla_get_be16(tb[KCIP_A_SVC_PORT]);
	if (!key->port) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KCIP_A_SVC_PORT],
				    "Service port must not be 0");
		return -EINVAL;
	}

	err = kcip_parse_addr(family, tb[KCIP_A_SVC_ADDR4],
			      tb[KCIP_A_SVC_ADDR6], &key->addr, nest, extack);
	if (err)
		return err;
	/* all-zeroes is a NodePort entry */
	if (!kcip_addr_is_any(family, &key->addr) &&
	    !kcip_addr_is_unicast(family, &key->addr)) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "Service address must be a unicast address");
		return -EINVAL;
	}

	if (!opts_ok && kcip_svc_has_opts(tb)) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "Only the Service's address, port and protocol are accepted here");
		return -EINVAL;
	}
	return 0;
}

void kcip_opts_default(struct kcip_svc_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->sched = KCIP_SCHED_RANDOM;
	opts->affinity = KCIP_AFFINITY_NONE;
	opts->traffic_policy = KCIP_TRAFFIC_POLICY_CLUSTER;
	opts->no_endpoints = KCIP_NO_ENDPOINTS_REJECT;
	opts->affinity_timeout = KCIP_DEFAULT_AFFINITY_TIMEOUT;
	opts->quarantine = KCIP_DEFAULT_QUARANTINE;
}

/* Apply the options in @tb to @opts; @change: FLAGS_MASK is allowed. */
int kcip_parse_opts(struct nlattr **tb, struct kcip_svc_opts *opts,
		    bool change, struct netlink_ext_ack *extack)
{
	u32 mask = __KCIP_SVC_F_ALL;

	if (tb[KCIP_A_SVC_SCHED])
		opts->sched = nla_get_u8(tb[KCIP_A_SVC_SCHED]);
	if (tb[KCIP_A_SVC_AFFINITY])
		opts->affinity = nla_get_u8(tb[KCIP_A_SVC_AFFINITY]);
	if (tb[KCIP_A_SVC_AFFINITY_TIMEOUT])
		opts->affinity_timeout =
			nla_get_u32(tb[KCIP_A_SVC_AFFINITY_TIMEOUT]);
	if (tb[KCIP_A_SVC_TRAFFIC_POLICY])
		opts->traffic_policy = nla_get_u8(tb[KCIP_A_SVC_TRAFFIC_POLICY]);
	if (tb[KCIP_A_SVC_NO_ENDPOINTS])
		opts->no_endpoints = nla_get_u8(tb[KCIP_A_SVC_NO_ENDPOINTS]);
	if (tb[KCIP_A_SVC_QUARANTINE])
		opts->quarantine = nla_get_u32(tb[KCIP_A_SVC_QUARANTINE]);

	if (tb[KCIP_A_SVC_FLAGS_MASK]) {
		if (!change) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KCIP_A_SVC_FLAGS_MASK],
					    "A flags mask is only for changes");
			return -EINVAL;
		}
		mask = nla_get_u32(tb[KCIP_A_SVC_FLAGS_MASK]);
	}
	if (tb[KCIP_A_SVC_FLAGS])
		opts->flags = (opts->flags & ~mask) |
			      (nla_get_u32(tb[KCIP_A_SVC_FLAGS]) & mask);
	return 0;
}

/*
 * Parse a BACKEND nest.  @has_weight/@has_state/@mask say what a change
 * sets; for an add, absent values take their defaults.
 */
int kcip_parse_be(struct nlattr *nest, const struct kcip_svc_key *key,
		  struct kcip_backend *be, bool change, bool *has_weight,
		  bool *has_state, u32 *mask, struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KCIP_A_BE_MAX + 1];
	int err;

	err = nla_parse_nested(tb, KCIP_A_BE_MAX, nest, kcip_be_policy,
			       extack);
	if (err)
		return err;

	memset(be, 0, sizeof(*be));
	err = kcip_parse_addr(key->family, tb[KCIP_A_BE_ADDR4],
			      tb[KCIP_A_BE_ADDR6], &be->addr, nest, extack);
	if (err)
		return err;
	if (!kcip_addr_is_unicast(key->family, &be->addr)) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "Backend address must be a unicast address");
		return -EINVAL;
	}
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, KCIP_A_BE_PORT)) {
		NL_SET_ERR_MSG(extack, "Backend needs a port");
		return -EINVAL;
	}
	be->port = nla_get_be16(tb[KCIP_A_BE_PORT]);
	if (!be->port) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KCIP_A_BE_PORT],
				    "Backend port must not be 0");
		return -EINVAL;
	}

	be->weight = 1;
	be->state = KCIP_BE_STATE_READY;
	*has_weight = !!tb[KCIP_A_BE_WEIGHT];
	*has_state = !!tb[KCIP_A_BE_STATE];
	if (*has_weight)
		be->weight = nla_get_u32(tb[KCIP_A_BE_WEIGHT]);
	if (*has_state)
		be->state = nla_get_u8(tb[KCIP_A_BE_STATE]);

	*mask = tb[KCIP_A_BE_FLAGS] ? __KCIP_BE_F_ALL : 0;
	if (tb[KCIP_A_BE_FLAGS_MASK]) {
		if (!change) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KCIP_A_BE_FLAGS_MASK],
					    "A flags mask is only for changes");
			return -EINVAL;
		}
		*mask = nla_get_u32(tb[KCIP_A_BE_FLAGS_MASK]);
	}
	if (tb[KCIP_A_BE_FLAGS])
		be->flags = nla_get_u32(tb[KCIP_A_BE_FLAGS]) & *mask;
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the generic netlink files of kclusterip share.
 */
#ifndef _KCLUSTERIP_NL_H
#define _KCLUSTERIP_NL_H

#include <net/genetlink.h>

#include "kclusterip.h"

/* index of "monitor" in the family's multicast groups */
#define KCIP_MCGRP_MONITOR_ID	0

extern struct genl_family kcip_genl_family;
extern const struct nla_policy kcip_svc_policy[KCIP_A_SVC_MAX + 1];
extern const struct nla_policy kcip_svc_restore_policy[KCIP_A_SVC_MAX + 1];
extern const struct nla_policy kcip_be_policy[KCIP_A_BE_MAX + 1];
extern const struct nla_policy kcip_explain_policy[KCIP_A_EXPLAIN_MAX + 1];

int kcip_may_change(struct sk_buff *skb, struct genl_info *info);

/* nl_parse.c */
int kcip_parse_addr(u16 family, struct nlattr *a4, struct nlattr *a6,
		    union nf_inet_addr *addr, struct nlattr *nest,
		    struct netlink_ext_ack *extack);
bool kcip_addr_is_any(u16 family, const union nf_inet_addr *addr);
int kcip_parse_svc(struct nlattr *nest, const struct nla_policy *policy,
		   struct nlattr **tb, struct kcip_svc_key *key, bool opts_ok,
		   struct netlink_ext_ack *extack);
void kcip_opts_default(struct kcip_svc_opts *opts);
int kcip_parse_opts(struct nlattr **tb, struct kcip_svc_opts *opts,
		    bool change, struct netlink_ext_ack *extack);
int kcip_parse_be(struct nlattr *nest, const struct kcip_svc_key *key,
		  struct kcip_backend *be, bool change, bool *has_weight,
		  bool *has_state, u32 *mask, struct netlink_ext_ack *extack);

/* nl_report.c */
int kcip_put_addr(struct sk_buff *skb, u8 family, int a4, int a6,
		  const union nf_inet_addr *addr);
int kcip_put_svc(struct sk_buff *skb, const struct kcip_svc_key *key,
		 const struct kcip_svc_opts *opts);
int kcip_put_be(struct sk_buff *skb, u8 family, const struct kcip_backend *be);
void *kcip_event_start(struct net *net, u8 cmd, gfp_t gfp,
		       struct sk_buff **msg);
void kcip_event_send(struct net *net, struct sk_buff *msg, void *hdr,
		     bool ok, gfp_t gfp);
void kcip_notify(struct net *net, u8 cmd, const struct kcip_svc_key *key,
		 const struct kcip_svc_opts *opts,
		 const struct kcip_backend *be);
void kcip_notify_quarantine(struct net *net, const struct kcip_svc_key *key,
			    const struct kcip_backend *be);
void kcip_notify_be(struct net *net, struct kcip_net *kn,
		    const struct kcip_service *svc,
		    const struct kcip_backend *be, u8 cmd);
int kcip_nl_svc_dump_start(struct netlink_callback *cb);
int kcip_nl_svc_dump(struct sk_buff *skb, struct netlink_callback *cb);
int kcip_nl_svc_dump_done(struct netlink_callback *cb);
int kcip_nl_svc_get(struct sk_buff *skb, struct genl_info *info);

/* nl_cmd.c */
struct kcip_service *kcip_find_or_err(struct kcip_net *kn,
				      const struct kcip_svc_key *key,
				      struct genl_info *info);
int kcip_nl_svc_new(struct sk_buff *skb, struct genl_info *info);
int kcip_nl_svc_set(struct sk_buff *skb, struct genl_info *info);
int kcip_nl_svc_del(struct sk_buff *skb, struct genl_info *info);
int kcip_nl_flush(struct sk_buff *skb, struct genl_info *info);
int kcip_nl_be_new(struct sk_buff *skb, struct genl_info *info);
int kcip_nl_be_set(struct sk_buff *skb, struct genl_info *info);
int kcip_nl_be_del(struct sk_buff *skb, struct genl_info *info);

/* nl_restore.c */
int kcip_nl_restore_begin(struct sk_buff *skb, struct genl_info *info);
int kcip_nl_restore_service(struct sk_buff *skb, struct genl_info *info);
int kcip_nl_restore_commit(struct sk_buff *skb, struct genl_info *info);
int kcip_nl_restore_abort(struct sk_buff *skb, struct genl_info *info);
int kcip_nl_explain(struct sk_buff *skb, struct genl_info *info);

#endif /* _KCLUSTERIP_NL_H */

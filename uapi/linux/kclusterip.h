/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * kclusterip: Kubernetes-style Service virtual IPs, DNATed by nf_nat.
 *
 * Generic netlink family "kclusterip", version KCIP_GENL_VERSION.
 * The single description of this ABI is
 * Documentation/netlink/specs/kclusterip.yaml; this header matches it.
 *
 * Addresses travel in their own attributes: IPv4 as a 4-byte big-endian
 * value (ADDR4), IPv6 as 16 bytes (ADDR6); exactly one of them is given and
 * it must agree with the Service's FAMILY.  Ports are big-endian u16.
 *
 * KCIP_CMD_SERVICE_NEW / _SET / _DEL / _GET (doit):
 *   KCIP_A_SERVICE: NLA_NESTED
 *     KCIP_A_SVC_FAMILY: NLA_U16, AF_INET or AF_INET6
 *     KCIP_A_SVC_PROTO: NLA_U8, IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP
 *     KCIP_A_SVC_ADDR4 or KCIP_A_SVC_ADDR6: the virtual IP; all-zeroes
 *                     makes a NodePort entry
 *     KCIP_A_SVC_PORT: NLA_BE16, not 0
 *     (NEW and SET only, all optional, absent means default for NEW and
 *      unchanged for SET)
 *     KCIP_A_SVC_SCHED: NLA_U8, enum kcip_sched
 *     KCIP_A_SVC_AFFINITY: NLA_U8, enum kcip_affinity
 *     KCIP_A_SVC_AFFINITY_TIMEOUT: NLA_U32, seconds, 1..86400
 *     KCIP_A_SVC_TRAFFIC_POLICY: NLA_U8, enum kcip_traffic_policy
 *     KCIP_A_SVC_NO_ENDPOINTS: NLA_U8, enum kcip_no_endpoints
 *     KCIP_A_SVC_FLAGS: NLA_U32, enum kcip_svc_flags (the values to set)
 *     KCIP_A_SVC_FLAGS_MASK: NLA_U32, which flags FLAGS sets (SET only;
 *                     NEW takes every flag from FLAGS)
 *     KCIP_A_SVC_QUARANTINE: NLA_U32, seconds, 1..3600
 *
 * KCIP_CMD_SERVICE_GET (dumpit and doit) request: KCIP_A_FLAGS may hold
 *   KCIP_OP_F_ACTIVE: count each Service's and backend's conntrack entries
 *   (one walk of the conntrack table) into KCIP_A_STATS_ACTIVE_FLOWS.
 * KCIP_CMD_SERVICE_GET replies:
 *   KCIP_A_GENERATION: NLA_U64, bumped by every change in the netns
 *   KCIP_A_SERVICE: NLA_NESTED
 *     every attribute above, always present, plus
 *     KCIP_A_SVC_STATS: NLA_NESTED, enum kcip_stats_attr
 *     KCIP_A_SVC_BACKENDS: NLA_NESTED
 *       KCIP_A_BACKEND: NLA_NESTED, one per backend (see below, + STATS)
 *   The first message of a dump carries KCIP_A_GENERATION alone.
 *   A Service with many backends is split over several messages; each
 *   repeats the Service's identity and options and carries the next part of
 *   its backends.  A dump is flagged NLM_F_DUMP_INTR when the state changed
 *   while it ran.
 *
 * KCIP_CMD_BACKEND_NEW / _SET / _DEL:
 *   KCIP_A_SERVICE: NLA_NESTED, identity only (FAMILY, PROTO, ADDR, PORT)
 *   KCIP_A_BACKEND: NLA_NESTED
 *     KCIP_A_BE_ADDR4 or KCIP_A_BE_ADDR6
 *     KCIP_A_BE_PORT: NLA_BE16, not 0
 *     KCIP_A_BE_WEIGHT: NLA_U32, 0..65535 (default 1)
 *     KCIP_A_BE_STATE: NLA_U8, enum kcip_be_state (default READY)
 *     KCIP_A_BE_FLAGS: NLA_U32, enum kcip_be_flags
 *     KCIP_A_BE_FLAGS_MASK: NLA_U32 (SET only)
 *     KCIP_A_BE_STATS: NLA_NESTED (dumps only)
 *   KCIP_A_FLAGS: NLA_U32, enum kcip_op_flags (BACKEND_DEL: FLUSH_TCP)
 *
 * KCIP_CMD_FLUSH: no attributes; removes every Service of the netns.
 *
 * Restore, a whole-state transaction owned by the requesting socket (it is
 * dropped when the socket closes):
 * KCIP_CMD_RESTORE_BEGIN: no attributes; opens (or reopens) the stage.
 * KCIP_CMD_RESTORE_SERVICE: stage one Service
 *   KCIP_A_SERVICE: NLA_NESTED, identity and options as for SERVICE_NEW,
 *                   plus KCIP_A_SVC_BACKENDS holding KCIP_A_BACKEND nests
 *   KCIP_A_FLAGS: KCIP_OP_F_APPEND: more backends for the Service staged
 *                 by the previous message (same identity and options)
 *   A refused RESTORE_SERVICE drops the stage; a client commits only after
 *   every part was accepted.
 * KCIP_CMD_RESTORE_COMMIT: make the state exactly the stage's, atomically
 *   KCIP_A_GENERATION: optional; commit only if the state's generation is
 *                      still this one (else -EAGAIN)
 *   reply and "monitor" event: KCIP_A_GENERATION, KCIP_A_RESTORE
 * KCIP_CMD_RESTORE_ABORT: drop the stage.
 *
 * KCIP_CMD_EXPLAIN: which entry and backend a new flow would get
 *   KCIP_A_EXPLAIN: FAMILY, PROTO, SRC4|SRC6, SPORT, DST4|DST6, DPORT
 *   reply: KCIP_A_EXPLAIN (RESULT, NODEPORT, AFFINITY, ELIGIBLE, STATE,
 *          QUARANTINED with retry on),
 *          KCIP_A_SERVICE (as in dumps, without backends and stats) and,
 *          for RESULT BACKEND, KCIP_A_BACKEND.
 *
 * Every change is announced on the multicast group "monitor": the command
 * that made it with KCIP_A_GENERATION and the object's attributes as a
 * dump shows them, without stats (a Service's without its backends; a
 * backend's with its Service's identity); a restore as one
 * KCIP_CMD_RESTORE_COMMIT event.  KCIP_CMD_BACKEND_QUARANTINE, an event
 * only, says that retry quarantined a backend (Service identity, backend).

 */
#ifndef _UAPI_LINUX_KCLUSTERIP_H
#define _UAPI_LINUX_KCLUSTERIP_H

#define KCIP_GENL_NAME		"kclusterip"
#define KCIP_GENL_VERSION	1
#define KCIP_MCGRP_MONITOR	"monitor"

enum kcip_cmd {
	KCIP_CMD_UNSPEC,
	KCIP_CMD_SERVICE_NEW,
	KCIP_CMD_SERVICE_SET,
	KCIP_CMD_SERVICE_DEL,
	KCIP_CMD_SERVICE_GET,
	KCIP_CMD_BACKEND_NEW,
	KCIP_CMD_BACKEND_SET,
	KCIP_CMD_BACKEND_DEL,
	KCIP_CMD_FLUSH,
	KCIP_CMD_RESTORE_BEGIN,
	KCIP_CMD_RESTORE_SERVICE,
	KCIP_CMD_RESTORE_COMMIT,
	KCIP_CMD_RESTORE_ABORT,
	KCIP_CMD_EXPLAIN,
	KCIP_CMD_BACKEND_QUARANTINE,	/* "monitor" event only */
	__KCIP_CMD_MAX
};

#define KCIP_CMD_MAX (__KCIP_CMD_MAX - 1)

enum kcip_attr {
	KCIP_A_UNSPEC,
	KCIP_A_GENERATION,
	KCIP_A_SERVICE,
	KCIP_A_BACKEND,
	KCIP_A_FLAGS,
	KCIP_A_PAD,
	KCIP_A_RESTORE,
	KCIP_A_EXPLAIN,
	__KCIP_A_MAX
};

#define KCIP_A_MAX (__KCIP_A_MAX - 1)

enum kcip_svc_attr {
	KCIP_A_SVC_UNSPEC,
	KCIP_A_SVC_FAMILY,
	KCIP_A_SVC_PROTO,
	KCIP_A_SVC_ADDR4,
	KCIP_A_SVC_ADDR6,
	KCIP_A_SVC_PORT,
	KCIP_A_SVC_SCHED,
	KCIP_A_SVC_AFFINITY,
	KCIP_A_SVC_AFFINITY_TIMEOUT,
	KCIP_A_SVC_TRAFFIC_POLICY,
	KCIP_A_SVC_NO_ENDPOINTS,
	KCIP_A_SVC_FLAGS,
	KCIP_A_SVC_FLAGS_MASK,
	KCIP_A_SVC_QUARANTINE,
	KCIP_A_SVC_STATS,
	KCIP_A_SVC_BACKENDS,
	KCIP_A_SVC_PAD,
	__KCIP_A_SVC_MAX
};

#define KCIP_A_SVC_MAX (__KCIP_A_SVC_MAX - 1)

enum kcip_be_attr {
	KCIP_A_BE_UNSPEC,
	KCIP_A_BE_ADDR4,
	KCIP_A_BE_ADDR6,
	KCIP_A_BE_PORT,
	KCIP_A_BE_WEIGHT,
	KCIP_A_BE_STATE,
	KCIP_A_BE_FLAGS,
	KCIP_A_BE_FLAGS_MASK,
	KCIP_A_BE_STATS,
	KCIP_A_BE_PAD,
	KCIP_A_BE_QUARANTINE,		/* NLA_U32, dumps: seconds left */
	__KCIP_A_BE_MAX
};

#define KCIP_A_BE_MAX (__KCIP_A_BE_MAX - 1)

/* Counters: NLA_U64 each, summed over CPUs. */
enum kcip_stats_attr {
	KCIP_A_STATS_UNSPEC,
	KCIP_A_STATS_NEW_FLOWS,		/* flows given a backend */
	KCIP_A_STATS_REJECTS,		/* new flows answered ICMP unreachable */
	KCIP_A_STATS_DROPS,		/* new flows dropped (no endpoints) */
	KCIP_A_STATS_PAD,
	KCIP_A_STATS_PACKETS,		/* both directions, after NAT */
	KCIP_A_STATS_BYTES,
	KCIP_A_STATS_ACTIVE_FLOWS,	/* conntrack entries now; dumps asked
					 * with KCIP_OP_F_ACTIVE only
					 */
	KCIP_A_STATS_FAILURES,		/* backend: failures retry saw */
	KCIP_A_STATS_RETRIES,		/* Service: flows moved by retry */
	__KCIP_A_STATS_MAX
};

#define KCIP_A_STATS_MAX (__KCIP_A_STATS_MAX - 1)

/* KCIP_A_RESTORE: what a commit did; NLA_U32 each. */
enum kcip_restore_attr {
	KCIP_A_RESTORE_UNSPEC,
	KCIP_A_RESTORE_ADDED,		/* Services that were not there */
	KCIP_A_RESTORE_CHANGED,		/* options or backends changed */
	KCIP_A_RESTORE_DELETED,
	KCIP_A_RESTORE_UNCHANGED,
	KCIP_A_RESTORE_SERVICES,	/* Services after the commit */
	KCIP_A_RESTORE_BACKENDS,	/* backends after the commit */
	__KCIP_A_RESTORE_MAX
};

#define KCIP_A_RESTORE_MAX (__KCIP_A_RESTORE_MAX - 1)

/* KCIP_A_EXPLAIN: a flow in, what a new flow like it would get out. */
enum kcip_explain_attr {
	KCIP_A_EXPLAIN_UNSPEC,
	KCIP_A_EXPLAIN_FAMILY,		/* NLA_U16, in */
	KCIP_A_EXPLAIN_PROTO,		/* NLA_U8, in */
	KCIP_A_EXPLAIN_SRC4,		/* NLA_BE32, in */
	KCIP_A_EXPLAIN_SRC6,		/* 16 bytes, in */
	KCIP_A_EXPLAIN_SPORT,		/* NLA_BE16, in */
	KCIP_A_EXPLAIN_DST4,		/* NLA_BE32, in */
	KCIP_A_EXPLAIN_DST6,		/* 16 bytes, in */
	KCIP_A_EXPLAIN_DPORT,		/* NLA_BE16, in */
	KCIP_A_EXPLAIN_RESULT,		/* NLA_U8, enum kcip_explain_result */
	KCIP_A_EXPLAIN_NODEPORT,	/* NLA_U8 0/1: matched a NodePort entry */
	KCIP_A_EXPLAIN_AFFINITY,	/* NLA_U8 0/1: an affinity entry decided */
	KCIP_A_EXPLAIN_ELIGIBLE,	/* NLA_U32: backends eligible */
	KCIP_A_EXPLAIN_STATE,		/* NLA_U8: state of the eligible ones */
	KCIP_A_EXPLAIN_QUARANTINED,	/* NLA_U32: of those, quarantined */
	__KCIP_A_EXPLAIN_MAX
};

#define KCIP_A_EXPLAIN_MAX (__KCIP_A_EXPLAIN_MAX - 1)

enum kcip_explain_result {
	KCIP_EXPLAIN_NO_SERVICE,	/* no entry: not ours, left alone */
	KCIP_EXPLAIN_BACKEND,		/* this backend (KCIP_A_BACKEND) */
	KCIP_EXPLAIN_ANY,		/* a weighted random one of ELIGIBLE */
	KCIP_EXPLAIN_NO_ENDPOINTS,	/* rejected or dropped, per options */
	__KCIP_EXPLAIN_MAX
};

enum kcip_sched {
	KCIP_SCHED_RANDOM,
	KCIP_SCHED_RR,
	KCIP_SCHED_MAGLEV,
	__KCIP_SCHED_MAX
};

#define KCIP_SCHED_MAX (__KCIP_SCHED_MAX - 1)

enum kcip_affinity {
	KCIP_AFFINITY_NONE,
	KCIP_AFFINITY_CLIENTIP,
	__KCIP_AFFINITY_MAX
};

#define KCIP_AFFINITY_MAX (__KCIP_AFFINITY_MAX - 1)

enum kcip_traffic_policy {
	KCIP_TRAFFIC_POLICY_CLUSTER,
	KCIP_TRAFFIC_POLICY_LOCAL,
	__KCIP_TRAFFIC_POLICY_MAX
};

#define KCIP_TRAFFIC_POLICY_MAX (__KCIP_TRAFFIC_POLICY_MAX - 1)

enum kcip_no_endpoints {
	KCIP_NO_ENDPOINTS_REJECT,
	KCIP_NO_ENDPOINTS_DROP,
	__KCIP_NO_ENDPOINTS_MAX
};

#define KCIP_NO_ENDPOINTS_MAX (__KCIP_NO_ENDPOINTS_MAX - 1)

enum kcip_svc_flags {
	KCIP_SVC_F_MASQUERADE = 1U << 0,
	KCIP_SVC_F_RETRY = 1U << 1,
	__KCIP_SVC_F_ALL = KCIP_SVC_F_MASQUERADE | KCIP_SVC_F_RETRY
};

enum kcip_be_state {
	KCIP_BE_STATE_READY,
	KCIP_BE_STATE_TERMINATING,
	KCIP_BE_STATE_DOWN,
	__KCIP_BE_STATE_MAX
};

#define KCIP_BE_STATE_MAX (__KCIP_BE_STATE_MAX - 1)

enum kcip_be_flags {
	KCIP_BE_F_LOCAL = 1U << 0,
	__KCIP_BE_F_ALL = KCIP_BE_F_LOCAL
};

enum kcip_op_flags {
	KCIP_OP_F_FLUSH_TCP = 1U << 0,	/* BACKEND_DEL: remove TCP flows too */
	KCIP_OP_F_APPEND = 1U << 1,	/* RESTORE_SERVICE: more backends */
	KCIP_OP_F_ACTIVE = 1U << 2,	/* SERVICE_GET: count active flows */
	__KCIP_OP_F_ALL = KCIP_OP_F_FLUSH_TCP | KCIP_OP_F_APPEND |
			  KCIP_OP_F_ACTIVE
};

#define KCIP_DEFAULT_AFFINITY_TIMEOUT	10800
#define KCIP_MAX_AFFINITY_TIMEOUT	86400
#define KCIP_DEFAULT_QUARANTINE		10
#define KCIP_MAX_QUARANTINE		3600
#define KCIP_MAX_WEIGHT			65535

#endif /* _UAPI_LINUX_KCLUSTERIP_H */

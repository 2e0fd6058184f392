/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcipctl: shared types and prototypes.
 *
 * The tool is split into small units with one job each:
 *   main.c     global options, object dispatch
 *   netns.c    -n NETNS
 *   usage.c    help texts and version
 *   parse.c    SERVICE / BACKEND / number / keyword parsing
 *   names.c    enum <-> word tables, shared by parsing and printing
 *   nl.c       generic netlink socket, family lookup, requests, dumps, extack
 *   service.c  `service add|change|del`
 *   backend.c  `backend add|change|del`
 *   attr.c     the kernel's attributes into these structures (attr.h)
 *   dump.c     SERVICE_GET dump into a table (merge split Services, retry)
 *   show.c     `show`, `service show`, `flush`
 *   save.c     `save`
 *   restore.c  `restore`: parse a whole file, stage it, commit
 *   monitor.c  `monitor`: the "monitor" multicast group, a line per event
 *   explain.c  `explain`: which Service and backend a new flow would get
 *   output.c   plain text rendering of a table
 *   output_json.c, json.c  JSON rendering and a tiny emitter
 */
#ifndef KCIPCTL_H
#define KCIPCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/kclusterip.h>

#ifndef VERSION
#define VERSION "0.1.0"
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit status of every failure, usage errors included. */
#define EXIT_FAIL 1

/* Global options. */
struct opts {
	bool json;		/* -j */
	bool stats;		/* -s */
	const char *netns;	/* -n NETNS */
	const char *batch;	/* -b FILE: commands from FILE ("-": stdin) */
};

/* An address and a port, as the user and the kernel see them. */
struct endpoint {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];		/* network order, IPv4 in the first 4 */
	uint16_t port;			/* host order */
};

struct svc_id {
	struct endpoint ep;
	uint8_t proto;			/* IPPROTO_TCP, _UDP or _SCTP */
};

/*
 * Service options.  @set has bit (1 << KCIP_A_SVC_x) for every option
 * given (on the command line) or present (in a dump).
 */
struct svc_opts {
	uint32_t set;
	uint8_t sched;
	uint8_t affinity;
	uint8_t traffic_policy;
	uint8_t no_endpoints;
	uint32_t affinity_timeout;
	uint32_t quarantine;
	uint32_t flags;
	uint32_t flags_mask;		/* flags the user named */
};

/* Backend options, same convention with KCIP_A_BE_x. */
struct be_opts {
	uint32_t set;
	uint32_t weight;
	uint8_t state;
	uint32_t flags;
	uint32_t flags_mask;
};

#define OPT_BIT(attr) (1U << (attr))

struct stats {
	bool present;
	bool has_active;	/* asked for, and the kernel counted them */
	uint64_t new_flows;
	uint64_t active;
	uint64_t packets;
	uint64_t bytes;
	uint64_t rejects;	/* Service */
	uint64_t drops;		/* Service */
	uint64_t retries;	/* Service */
	uint64_t failures;	/* backend */
};

struct backend {
	struct endpoint ep;
	struct be_opts opts;
	struct stats stats;
	uint32_t quarantine;	/* seconds of retry quarantine left */
};

struct service {
	struct svc_id id;
	struct svc_opts opts;
	struct stats stats;
	struct backend *be;
	size_t nbe;
	size_t be_cap;
};

/* The result of a SERVICE_GET dump. */
struct table {
	bool have_generation;
	uint64_t generation;
	struct service *svc;
	size_t nsvc;
	size_t svc_cap;
};

/* names.c */
struct name {
	const char *word;
	unsigned int value;
};

extern const struct name sched_names[];
extern const struct name affinity_names[];
extern const struct name traffic_policy_names[];
extern const struct name no_endpoints_names[];
extern const struct name be_state_names[];
extern const struct name proto_names[];
extern const struct name on_off_names[];

const char *name_of(const struct name *tbl, unsigned int value);
int value_of(const struct name *tbl, const char *word, unsigned int *value);
void names_list(FILE *f, const struct name *tbl);

/* usage.c */
void usage_all(FILE *f);
void usage_service(FILE *f);
void usage_backend(FILE *f);
void usage_restore(FILE *f);
void usage_explain(FILE *f);
void print_version(void);

/* parse.c */
extern const char *errmsg_where;	/* "FILE:LINE: " prefix, or NULL */
extern const char *progname;		/* "kcipctl" */
void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int parse_service(const char *s, struct svc_id *id);
int parse_backend(const char *s, struct endpoint *ep);
int parse_addr_port(const char *what, const char *s, struct endpoint *ep);
int parse_u32(const char *what, const char *s, uint32_t min, uint32_t max,
	      uint32_t *out);
int parse_word(const char *what, const struct name *tbl, const char *s,
	       unsigned int *out);
int need_value(const char *what, int argc);
int dup_option(const char *word);
bool is_help(const char *s);
int grow_array(void **arr, size_t *cap, size_t n, size_t size);
int split_words(char *buf, char ***words, size_t *cap);
int format_endpoint(const struct endpoint *ep, char *buf, size_t len);
int format_service(const struct svc_id *id, char *buf, size_t len);
int endpoint_cmp(const struct endpoint *a, const struct endpoint *b);
int svc_id_cmp(const struct svc_id *a, const struct svc_id *b);

#define ENDPOINT_STRLEN	(46 + 2 + 6 + 1)	/* [v6]:port */
#define SERVICE_STRLEN	(ENDPOINT_STRLEN + 5)	/* /sctp */

/* nl.c */
struct nl;

struct nl *nl_open(const char *netns);
void nl_close(struct nl *nl);
struct nlmsghdr *nl_msg(struct nl *nl, uint8_t cmd, uint16_t flags);
struct nlmsghdr *nl_msg_at(struct nl *nl, void *buf, uint8_t cmd,
			   uint16_t flags);
int nl_do(struct nl *nl, struct nlmsghdr *nlh);
typedef int (*nl_msg_cb)(const struct nlmsghdr *nlh, void *data);
int nl_request(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb cb, void *data);
int nl_dump(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb cb, void *data);
int nl_batch(struct nl *nl, void *buf, size_t len, unsigned int last_seq,
	     unsigned int *err_seq);
int nl_join_monitor(struct nl *nl);
int nl_recv_events(struct nl *nl, nl_msg_cb cb, void *data);
void nl_set_rcvbuf(struct nl *nl, int size);
uint32_t nl_err_offset(const struct nl *nl);
int nl_fd(const struct nl *nl);
void nl_perror(struct nl *nl, int error);
void nl_put_svc_id(struct nlmsghdr *nlh, const struct svc_id *id);

/* netns.c */
int netns_switch(const char *name);

/* service.c, backend.c, show.c...: `argv` starts after the command word. */
int do_service(const struct opts *o, int argc, char **argv);
int do_backend(const struct opts *o, int argc, char **argv);
int do_show(const struct opts *o, int argc, char **argv);
int do_flush(const struct opts *o, int argc, char **argv);
int do_save(const struct opts *o, int argc, char **argv);
int do_restore(const struct opts *o, int argc, char **argv);
int do_monitor(const struct opts *o, int argc, char **argv);
int do_explain(const struct opts *o, int argc, char **argv);
int show_services(const struct opts *o, const struct svc_id *only);
int no_args(const char *cmd, int argc, char **argv);

/* main.c */
int run_object(const struct opts *o, int argc, char **argv);

/* batch.c */
int run_batch(const struct opts *o, bool force);

/* save.c, restore.c: also used by kcip-k8s-sync */
int save_service(FILE *f, const struct service *s, const char *id);
int save_backend(FILE *f, const char *id, const struct backend *be);
int restore_stream(const struct opts *o, FILE *f, const char *name);

/* service.c, backend.c: options, shared with restore */
int svc_opts_parse(int argc, char **argv, struct svc_opts *o);
void nl_put_svc_opts(struct nlmsghdr *nlh, const struct svc_opts *o,
		     bool change);
int parse_svc_backend(int argc, char **argv, struct svc_id *svc,
		      struct endpoint *be);
int be_opts_parse(int argc, char **argv, struct be_opts *o);
void nl_put_backend(struct nlmsghdr *nlh, const struct endpoint *ep,
		    const struct be_opts *o, bool change);

/* dump.c */
int dump_table(struct nl *nl, struct table *t, bool active,
	       const struct svc_id *only);
void table_free(struct table *t);
struct service *table_find(struct table *t, const struct svc_id *id);

/* output.c, output_json.c */
struct json;

void print_table(FILE *f, const struct table *t, bool stats,
		 bool generation);
void print_svc_opts(FILE *f, const struct svc_opts *o);
void print_be_opts(FILE *f, const struct be_opts *o);
void print_table_json(FILE *f, const struct table *t, bool stats);
void json_word(struct json *j, const char *key, const struct name *tbl,
	       unsigned int value);
void json_svc_fields(struct json *j, const struct svc_id *id,
		     const struct svc_opts *o);
void json_backend(struct json *j, const char *key, const struct backend *be,
		  bool stats);

#endif /* KCIPCTL_H */

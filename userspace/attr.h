/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading the kernel's attributes: every known attribute is checked for
 * type and length before it is used; unknown (newer) ones are skipped.
 */
#ifndef KCIPCTL_ATTR_H
#define KCIPCTL_ATTR_H

#include <libmnl/libmnl.h>

#include "kcipctl.h"

/* Expected type and, for binary attributes, length of an attribute. */
struct attr_policy {
	enum mnl_attr_data_type type;
	uint16_t len;
};

/* What a restore commit did (KCIP_A_RESTORE). */
struct restore_counts {
	uint32_t added, changed, deleted, unchanged;
	uint32_t services, backends;
};

int attr_parse_nested(const struct nlattr *nest,
		      const struct attr_policy *policy, unsigned int max,
		      const struct nlattr **tb);
/* The top-level attributes of a kclusterip message, @tb[KCIP_A_MAX + 1]. */
int attr_parse_msg(const struct nlmsghdr *nlh, const struct nlattr **tb);
/*
 * A SERVICE nest: identity into @id, options present into @o (their
 * bits in o->set), counters into @st if not NULL, and the BACKENDS nest
 * into *@backends if not NULL (NULL when absent).
 */
int attr_parse_service(const struct nlattr *nest, struct svc_id *id,
		       struct svc_opts *o, struct stats *st,
		       const struct nlattr **backends);
int attr_parse_backend(const struct nlattr *nest, struct backend *be);
int attr_parse_restore(const struct nlattr *nest, struct restore_counts *c);

#endif /* KCIPCTL_ATTR_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Compatibility with the kernels kclusterip supports: Linux 6.1 and later.
 *
 * Force-included in every file by kmod/Kbuild (-include), this is the one
 * place with kernel-version conditionals; the rest of kmod/ reads like
 * mainline.  Each block names the upstream change.  The KCIP_HAVE_*
 * macros come from kmod/Kbuild's build-time probes of the target kernel's
 * headers, not from version numbers: distributions backport.
 */
#ifndef _KCLUSTERIP_COMPAT_H
#define _KCLUSTERIP_COMPAT_H

#include <net/genetlink.h>

/* Older kernels are stopped by kmod/Kbuild, with a message. */

/*
 * Linux 6.2, "genetlink: use struct genl_info for dumps": a dump's parsed
 * attributes moved from struct genl_dumpit_info's attrs into an embedded
 * struct genl_info, reached with genl_info_dump().
 */
static inline struct nlattr *kcip_dump_attr(struct netlink_callback *cb,
					    int type)
{
#ifdef KCIP_HAVE_GENL_INFO_DUMP
	return genl_info_dump(cb)->attrs[type];
#else
	return genl_dumpit_info(cb)->attrs[type];
#endif
}

#endif /* _KCLUSTERIP_COMPAT_H */

/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KCLUSTERIP_VERSION_H
#define _KCLUSTERIP_VERSION_H

/* Kept in step with the top-level VERSION file by the Makefile's check. */
#define KCIP_VERSION "0.1.0"

#endif /* _KCLUSTERIP_VERSION_H */

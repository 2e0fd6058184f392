// SPDX-License-Identifier: GPL-2.0
/* -n NETNS, as `ip -n`: run in the network namespace /run/netns/NETNS. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "kcipctl.h"

#define NETNS_RUN_DIR "/run/netns"

/* A NETNS with a '/' is taken as a path, e.g. /proc/PID/ns/net. */
int netns_switch(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (!*name) {
		errmsg("empty network namespace name");
		return -1;
	}
	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errmsg("cannot open network namespace \"%s\": %s", name,
		       strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		errmsg("cannot enter network namespace \"%s\": %s", name,
		       strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

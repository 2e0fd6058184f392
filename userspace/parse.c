// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing of the command line's values: SERVICE := ADDR:PORT/PROTO,
 * BACKEND := ADDR:PORT, numbers and keywords.  Every error is reported here,
 * as `kcipctl: <message>`, so callers only propagate -1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kcipctl.h"

/* "FILE:LINE: " while restore parses a file, else NULL. */
const char *errmsg_where;
/* Messages start "PROGNAME: "; kcip-k8s-sync, which shares this code, sets it. */
const char *progname = "kcipctl";

void errmsg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	if (errmsg_where)
		fputs(errmsg_where, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool is_help(const char *s)
{
	return !strcmp(s, "help") || !strcmp(s, "-h") || !strcmp(s, "--help");
}

int dup_option(const char *word)
{
	errmsg("duplicate option \"%s\"", word);
	return -1;
}

/* The option at argv[0] needs the word after it. */
int need_value(const char *what, int argc)
{
	if (argc >= 2)
		return 0;
	errmsg("missing value after \"%s\"", what);
	return -1;
}

int parse_u32(const char *what, const char *s, uint32_t min, uint32_t max,
	      uint32_t *out)
{
	unsigned long long v;
	char *end;

	/* strtoull accepts blanks, signs and "0x"; we want plain decimal. */
	if (*s < '0' || *s > '9')
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	errmsg("invalid %s \"%s\" (%u-%u)", what, s, min, max);
	return -1;
}

int parse_word(const char *what, const struct name *tbl, const char *s,
	       unsigned int *out)
{
	if (!value_of(tbl, s, out))
		return 0;
	fprintf(stderr, "%s: %sinvalid %s \"%s\" (", progname,
		errmsg_where ? errmsg_where : "", what, s);
	names_list(stderr, tbl);
	fputs(")\n", stderr);
	return -1;
}

/*
 * ADDR:PORT, ADDR being a dotted quad or a bracketed IPv6 address.
 * @s is @len bytes, not necessarily NUL-terminated.
 */
static int parse_endpoint(const char *what, const char *syntax,
			  const char *s, size_t len, struct endpoint *ep)
{
	char buf[INET6_ADDRSTRLEN + 2 + 1 + 5 + 1];
	char *addr, *port, *p;
	uint32_t v;

	if (len >= sizeof(buf))
		goto bad;
	memcpy(buf, s, len);
	buf[len] = '\0';

	memset(ep, 0, sizeof(*ep));
	if (buf[0] == '[') {
		addr = buf + 1;
		p = strchr(addr, ']');
		if (!p || p[1] != ':')
			goto bad;
		*p = '\0';
		port = p + 2;
		ep->family = AF_INET6;
	} else {
		p = strrchr(buf, ':');
		if (!p)
			goto bad;
		*p = '\0';
		if (strchr(buf, ':')) {
			errmsg("invalid %s \"%.*s\" (an IPv6 address goes in brackets: [ADDR]:PORT)",
			       what, (int)len, s);
			return -1;
		}
		addr = buf;
		port = p + 1;
		ep->family = AF_INET;
	}

	if (inet_pton(ep->family, addr, ep->addr) != 1) {
		errmsg("invalid %s address \"%s\"",
		    ep->family == AF_INET ? "IPv4" : "IPv6", addr);
		return -1;
	}
	if (parse_u32("port", port, 1, 65535, &v))
		return -1;
	ep->port = v;
	return 0;
bad:
	errmsg("invalid %s \"%.*s\" (expected %s)", what, (int)len, s,
	       syntax);
	return -1;
}

int parse_service(const char *s, struct svc_id *id)
{
	const char *slash = strrchr(s, '/');
	unsigned int proto;

	memset(id, 0, sizeof(*id));
	if (!slash) {
		errmsg("invalid service \"%s\" (expected ADDR:PORT/PROTO)", s);
		return -1;
	}
	if (parse_word("protocol", proto_names, slash + 1, &proto))
		return -1;
	id->proto = proto;
	return parse_endpoint("service", "ADDR:PORT/PROTO", s, slash - s,
			      &id->ep);
}

int parse_backend(const char *s, struct endpoint *ep)
{
	return parse_endpoint("backend", "ADDR:PORT", s, strlen(s), ep);
}

/* ADDR:PORT named @what in messages ("source", say). */
int parse_addr_port(const char *what, const char *s, struct endpoint *ep)
{
	return parse_endpoint(what, "ADDR:PORT", s, strlen(s), ep);
}

int format_endpoint(const struct endpoint *ep, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(ep->family, ep->addr, a, sizeof(a)))
		return snprintf(buf, len, "?:%u", ep->port);
	if (ep->family == AF_INET6)
		return snprintf(buf, len, "[%s]:%u", a, ep->port);
	return snprintf(buf, len, "%s:%u", a, ep->port);
}

int format_service(const struct svc_id *id, char *buf, size_t len)
{
	char e[ENDPOINT_STRLEN];
	const char *p = name_of(proto_names, id->proto);

	format_endpoint(&id->ep, e, sizeof(e));
	if (p)
		return snprintf(buf, len, "%s/%s", e, p);
	return snprintf(buf, len, "%s/%u", e, id->proto);
}

static int cmp_uint(unsigned int a, unsigned int b)
{
	return (a > b) - (a < b);
}

/* Order: family, address, port.  Used to sort and to match. */
int endpoint_cmp(const struct endpoint *a, const struct endpoint *b)
{
	int r;

	r = cmp_uint(a->family == AF_INET6, b->family == AF_INET6);
	if (r)
		return r;
	r = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (r)
		return r;
	return cmp_uint(a->port, b->port);
}

int svc_id_cmp(const struct svc_id *a, const struct svc_id *b)
{
	int r = endpoint_cmp(&a->ep, &b->ep);

	return r ? r : cmp_uint(a->proto, b->proto);
}

/* Grow *@arr of *@cap elements of @size so that it holds @n + 1. */
int grow_array(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = reallocarray(*arr, ncap, size);
	if (!p)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

/*
 * Split the line @buf into words (restore files and batches); a word
 * starting with '#' ends the line.  Returns their number, -1 without memory.
 */
int split_words(char *buf, char ***words, size_t *cap)
{
	static const char blanks[] = " \t\r\n\v\f";
	char *save = NULL, *w;
	int n = 0;

	for (w = strtok_r(buf, blanks, &save); w && *w != '#';
	     w = strtok_r(NULL, blanks, &save)) {
		if (grow_array((void **)words, cap, n, sizeof(**words)))
			return -1;
		(*words)[n++] = w;
	}
	return n;
}

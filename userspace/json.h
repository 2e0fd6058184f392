/* SPDX-License-Identifier: GPL-2.0 */
/* A tiny streaming JSON emitter: compact, one document per line. */
#ifndef KCIPCTL_JSON_H
#define KCIPCTL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 8

struct json {
	FILE *f;
	unsigned int depth;
	bool comma[JSON_MAX_DEPTH];	/* next member needs a ',' */
};

/* @key is the member name inside an object, NULL inside an array. */
void json_init(struct json *j, FILE *f);
void json_obj_open(struct json *j, const char *key);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_str(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, uint64_t val);
void json_bool(struct json *j, const char *key, bool val);
void json_end(struct json *j);

#endif /* KCIPCTL_JSON_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough JSON for QMP (qmp.c): find where a value ends, find a
 * member of an object, decode a string, and write a string escaped. Text
 * is never copied into a tree: values are (pointer, length) views into
 * the message.
 */
#ifndef VT_JSON_H
#define VT_JSON_H

#include <stddef.h>
#include <sys/types.h>

#include "ctlproto.h"

/*
 * The length of the value at p (leading blanks included), 0 when the
 * text ends before the value does, -1 when it is not JSON. Objects and
 * arrays nest at most JSON_MAX_DEPTH deep.
 */
#define JSON_MAX_DEPTH	64
ssize_t json_value_len(const char *p, size_t len);

/*
 * In the object obj (len bytes, blanks around allowed), the value of the
 * member key (a key without escapes), blanks stripped. 0, -ENOENT (no
 * such member), -EINVAL (obj is not an object).
 */
int json_member(const char *obj, size_t len, const char *key,
		const char **val, size_t *vlen);

/* The number of elements of the array arr, or -EINVAL. */
int json_array_count(const char *arr, size_t len);

/*
 * Decodes the JSON string val (with its quotes) into out as UTF-8, NUL
 * terminated; a longer string is cut at outsz - 1 bytes. 0, -EINVAL (not
 * a string, a bad escape), -E2BIG (cut).
 */
int json_string(const char *val, size_t vlen, char *out, size_t outsz);

/* Appends s (NUL terminated, UTF-8) as a JSON string. 0 or -ENOMEM. */
int json_add_string(struct sbuf *b, const char *s);

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A small, strict JSON reader (RFC 8259) for the records sdcompat itself writes with json.h and
 * reads back (sdcompat.run(5)): the whole document into a tree. Strict: anything RFC 8259 does not
 * allow is refused rather than guessed at, and so are a few things it allows that no record of
 * sdcompat holds — a duplicate key in an object, "\u0000" in a string, nesting deeper than
 * JSON_DEPTH_MAX, a number longer than 63 characters, invalid UTF-8. Fuzzed by tests/fuzz/fuzz-parsers.c. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define JSON_DEPTH_MAX 64

typedef enum JsonType {
        JSON_NULL,
        JSON_BOOLEAN,
        JSON_NUMBER,
        JSON_STRING,
        JSON_ARRAY,
        JSON_OBJECT,
} JsonType;

typedef struct JsonValue JsonValue;
struct JsonValue {
        JsonType type;
        bool boolean;
        double number;
        bool is_integer;     /* a number written without fraction or exponent that fits int64_t */
        int64_t integer;
        char *string;        /* JSON_STRING: UTF-8, NUL-terminated */
        JsonValue *items;    /* JSON_ARRAY, JSON_OBJECT: n_items values in document order */
        char **keys;         /* JSON_OBJECT: the key of each item */
        size_t n_items;
};

/* Parses size bytes at data (need not be NUL-terminated): 0 and a new tree in *ret, -EBADMSG for
 * anything that is not one strict JSON value surrounded by blanks, -ENOMEM. */
int json_parse(const char *data, size_t size, JsonValue **ret);
void json_value_free(JsonValue *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(JsonValue *, json_value_free);

/* The member key of an object; NULL if v is not an object or has no such member. */
const JsonValue *json_member(const JsonValue *v, const char *key);
/* The member's string; NULL if absent, null or not a string. */
const char *json_member_string(const JsonValue *v, const char *key);
/* The member as an integer: true and *ret when it is one. */
bool json_member_integer(const JsonValue *v, const char *key, int64_t *ret);

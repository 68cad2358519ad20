/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A minimal streaming JSON writer. Its reader, for the records sdcompat reads back, is json-parse.h;
 * both are small enough to link statically and to audit, unlike a library. Strings are escaped per RFC 8259; invalid UTF-8 bytes are replaced by U+FFFD so the
 * output always parses. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tri.h"

/* No depth limit and no per-level state: a container, once closed, is always an item of its
 * parent, so the parent needs a comma before its next item whatever the depth. */
typedef struct JsonWriter {
        FILE *f;
        bool pretty;
        unsigned depth;
        bool need_comma; /* the current container already holds an item */
} JsonWriter;

void json_init(JsonWriter *w, FILE *f, bool pretty);
/* key is NULL inside arrays and at the top level. */
void json_object_begin(JsonWriter *w, const char *key);
void json_object_end(JsonWriter *w);
void json_array_begin(JsonWriter *w, const char *key);
void json_array_end(JsonWriter *w);
void json_string(JsonWriter *w, const char *key, const char *value); /* NULL writes null */
void json_int(JsonWriter *w, const char *key, int64_t value);
void json_uint(JsonWriter *w, const char *key, uint64_t value);
void json_double(JsonWriter *w, const char *key, double value);
void json_bool(JsonWriter *w, const char *key, bool value);
void json_null(JsonWriter *w, const char *key);
void json_tri(JsonWriter *w, const char *key, SdcTri value); /* unknown writes null */
/* Ends the document with a newline. */
void json_finish(JsonWriter *w);

/* Writes s as a JSON string literal (with quotes) to f. */
void json_write_escaped(FILE *f, const char *s);

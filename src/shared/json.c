/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "json.h"
#include "macro.h"

void json_init(JsonWriter *w, FILE *f, bool pretty) {
        *w = (JsonWriter) { .f = f, .pretty = pretty };
}

/* Length of a valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_valid_len(const unsigned char *s) {
        unsigned c = s[0];
        size_t n;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                n = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
                n = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
                n = 4, cp = c & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

void json_write_escaped(FILE *f, const char *str) {
        const unsigned char *s = (const unsigned char *) str;

        fputc('"', f);
        while (*s) {
                size_t n;

                switch (*s) {
                case '"': fputs("\\\"", f); s++; continue;
                case '\\': fputs("\\\\", f); s++; continue;
                case '\n': fputs("\\n", f); s++; continue;
                case '\t': fputs("\\t", f); s++; continue;
                case '\r': fputs("\\r", f); s++; continue;
                default: break;
                }
                if (*s < 0x20) {
                        fprintf(f, "\\u%04x", *s);
                        s++;
                        continue;
                }
                n = utf8_valid_len(s);
                if (n == 0) {
                        fputs("\\ufffd", f);
                        s++;
                        continue;
                }
                fwrite(s, 1, n, f);
                s += n;
        }
        fputc('"', f);
}

static void indent(JsonWriter *w) {
        if (!w->pretty)
                return;
        fputc('\n', w->f);
        for (unsigned i = 0; i < w->depth; i++)
                fputs("  ", w->f);
}

static void prefix(JsonWriter *w, const char *key) {
        if (w->depth > 0) {
                if (w->need_comma)
                        fputc(',', w->f);
                w->need_comma = true;
                indent(w);
        }
        if (key) {
                json_write_escaped(w->f, key);
                fputs(w->pretty ? ": " : ":", w->f);
        }
}

static void open_container(JsonWriter *w, const char *key, char c) {
        prefix(w, key);
        fputc(c, w->f);
        w->depth++;
        w->need_comma = false;
}

static void close_container(JsonWriter *w, char c) {
        bool had = w->need_comma;

        if (w->depth > 0)
                w->depth--;
        if (had)
                indent(w);
        fputc(c, w->f);
        /* This container was an item of its parent (prefix() counted it there). */
        w->need_comma = true;
}

void json_object_begin(JsonWriter *w, const char *key) {
        open_container(w, key, '{');
}

void json_object_end(JsonWriter *w) {
        close_container(w, '}');
}

void json_array_begin(JsonWriter *w, const char *key) {
        open_container(w, key, '[');
}

void json_array_end(JsonWriter *w) {
        close_container(w, ']');
}

void json_string(JsonWriter *w, const char *key, const char *value) {
        prefix(w, key);
        if (value)
                json_write_escaped(w->f, value);
        else
                fputs("null", w->f);
}

void json_int(JsonWriter *w, const char *key, int64_t value) {
        prefix(w, key);
        fprintf(w->f, "%" PRIi64, value);
}

void json_uint(JsonWriter *w, const char *key, uint64_t value) {
        prefix(w, key);
        fprintf(w->f, "%" PRIu64, value);
}

void json_double(JsonWriter *w, const char *key, double value) {
        prefix(w, key);
        if (isfinite(value))
                fprintf(w->f, "%.6g", value);
        else
                fputs("null", w->f);
}

void json_bool(JsonWriter *w, const char *key, bool value) {
        prefix(w, key);
        fputs(value ? "true" : "false", w->f);
}

void json_null(JsonWriter *w, const char *key) {
        prefix(w, key);
        fputs("null", w->f);
}

void json_tri(JsonWriter *w, const char *key, SdcTri value) {
        if (value == SDC_TRI_UNKNOWN)
                json_null(w, key);
        else
                json_bool(w, key, value == SDC_TRI_YES);
}

void json_finish(JsonWriter *w) {
        fputc('\n', w->f);
        fflush(w->f);
}

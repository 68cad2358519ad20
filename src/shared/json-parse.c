/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json-parse.h"
#include "macro.h"

typedef struct Parser {
        const char *p, *end;
        unsigned depth;
} Parser;

static void skip_blanks(Parser *ps) {
        while (ps->p < ps->end && strchr(" \t\n\r", *ps->p) && *ps->p)
                ps->p++;
}

static bool take(Parser *ps, const char *word) {
        size_t n = strlen(word);

        if ((size_t) (ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
                return false;
        ps->p += n;
        return true;
}

static int hex4(Parser *ps, unsigned *ret) {
        unsigned v = 0;

        if (ps->end - ps->p < 4)
                return -EBADMSG;
        for (int i = 0; i < 4; i++) {
                char c = *ps->p++;
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned) (c - 'A' + 10);
                else
                        return -EBADMSG;
        }
        *ret = v;
        return 0;
}

static char *put_utf8(char *w, unsigned cp) {
        if (cp < 0x80)
                *w++ = (char) cp;
        else if (cp < 0x800) {
                *w++ = (char) (0xc0 | (cp >> 6));
                *w++ = (char) (0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
                *w++ = (char) (0xe0 | (cp >> 12));
                *w++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                *w++ = (char) (0x80 | (cp & 0x3f));
        } else {
                *w++ = (char) (0xf0 | (cp >> 18));
                *w++ = (char) (0x80 | ((cp >> 12) & 0x3f));
                *w++ = (char) (0x80 | ((cp >> 6) & 0x3f));
                *w++ = (char) (0x80 | (cp & 0x3f));
        }
        return w;
}

/* The length of the valid UTF-8 sequence at p (no overlong forms, no surrogates, at most
 * U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end) {
        unsigned cp, min;
        size_t n;

        if (p[0] < 0x80)
                return 1;
        if ((p[0] & 0xe0) == 0xc0)
                n = 2, cp = p[0] & 0x1f, min = 0x80;
        else if ((p[0] & 0xf0) == 0xe0)
                n = 3, cp = p[0] & 0x0f, min = 0x800;
        else if ((p[0] & 0xf8) == 0xf0)
                n = 4, cp = p[0] & 0x07, min = 0x10000;
        else
                return 0;
        if ((size_t) (end - p) < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

/* At the opening quote. A string never grows when unescaped, so its raw length bounds it. */
static int parse_string(Parser *ps, char **ret) {
        const char *start = ++ps->p;
        char *out, *w;

        while (ps->p < ps->end && *ps->p != '"')
                ps->p += *ps->p == '\\' && ps->end - ps->p > 1 ? 2 : 1;
        if (ps->p >= ps->end)
                return -EBADMSG;
        out = w = malloc((size_t) (ps->p - start) + 1);
        if (!out)
                return -ENOMEM;
        ps->end = ps->p; /* parse the contents within the quotes */
        ps->p = start;
        while (ps->p < ps->end) {
                unsigned char c = (unsigned char) *ps->p;

                if (c < 0x20)
                        goto bad;
                if (c != '\\') {
                        size_t n = utf8_len((const unsigned char *) ps->p, (const unsigned char *) ps->end);
                        if (n == 0)
                                goto bad;
                        memcpy(w, ps->p, n);
                        w += n;
                        ps->p += n;
                        continue;
                }
                ps->p++;
                switch (*ps->p++) {
                case '"': *w++ = '"'; break;
                case '\\': *w++ = '\\'; break;
                case '/': *w++ = '/'; break;
                case 'b': *w++ = '\b'; break;
                case 'f': *w++ = '\f'; break;
                case 'n': *w++ = '\n'; break;
                case 'r': *w++ = '\r'; break;
                case 't': *w++ = '\t'; break;
                case 'u': {
                        unsigned cp, lo;

                        if (hex4(ps, &cp) < 0 || cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
                                goto bad;
                        if (cp >= 0xd800 && cp <= 0xdbff) {
                                if (!take(ps, "\\u") || hex4(ps, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                                        goto bad;
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        }
                        w = put_utf8(w, cp);
                        break;
                }
                default:
                        goto bad;
                }
        }
        *w = 0;
        *ret = out;
        return 0;
bad:
        free(out);
        return -EBADMSG;
}

static int parse_number(Parser *ps, JsonValue *v) {
        const char *start = ps->p;
        bool integer = true;
        char buf[64], *end;

#define DIGITS()                                                                                              \
        do {                                                                                                  \
                if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')                                         \
                        return -EBADMSG;                                                                      \
                while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')                                     \
                        ps->p++;                                                                              \
        } while (0)

        if (ps->p < ps->end && *ps->p == '-')
                ps->p++;
        if (ps->p < ps->end && *ps->p == '0')
                ps->p++;
        else
                DIGITS();
        if (ps->p < ps->end && *ps->p == '.') {
                ps->p++;
                integer = false;
                DIGITS();
        }
        if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
                ps->p++;
                integer = false;
                if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
                        ps->p++;
                DIGITS();
        }
#undef DIGITS
        if ((size_t) (ps->p - start) >= sizeof(buf))
                return -EBADMSG; /* no record of sdcompat writes a number this long */
        memcpy(buf, start, (size_t) (ps->p - start));
        buf[ps->p - start] = 0;
        v->type = JSON_NUMBER;
        v->number = strtod(buf, NULL);
        if (integer) {
                errno = 0;
                v->integer = strtoll(buf, &end, 10);
                v->is_integer = errno == 0 && *end == 0;
        }
        return 0;
}

static int parse_value(Parser *ps, JsonValue *v);

static int add_item(Parser *ps, JsonValue *c, char *key) {
        JsonValue *items;
        char **keys;
        int r;

        items = realloc(c->items, (c->n_items + 1) * sizeof(JsonValue));
        if (!items)
                goto oom;
        c->items = items;
        if (c->type == JSON_OBJECT) {
                for (size_t i = 0; i < c->n_items; i++)
                        if (streq(c->keys[i], key)) {
                                free(key);
                                return -EBADMSG;
                        }
                keys = realloc(c->keys, (c->n_items + 1) * sizeof(char *));
                if (!keys)
                        goto oom;
                c->keys = keys;
                c->keys[c->n_items] = key;
        }
        c->items[c->n_items] = (JsonValue) {};
        r = parse_value(ps, &c->items[c->n_items]);
        c->n_items++; /* even when it failed: what it holds is freed with the container */
        return r;
oom:
        free(key);
        return -ENOMEM;
}

static int parse_container(Parser *ps, JsonValue *v) {
        bool object = *ps->p == '{';
        char close = object ? '}' : ']';
        int r;

        if (++ps->depth > JSON_DEPTH_MAX)
                return -EBADMSG;
        v->type = object ? JSON_OBJECT : JSON_ARRAY;
        ps->p++;
        skip_blanks(ps);
        if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                ps->depth--;
                return 0;
        }
        for (;;) {
                char *key = NULL;

                skip_blanks(ps);
                if (object) {
                        const char *end = ps->end;

                        if (ps->p >= ps->end || *ps->p != '"')
                                return -EBADMSG;
                        r = parse_string(ps, &key);
                        ps->end = end;
                        if (r < 0)
                                return r;
                        ps->p++; /* the closing quote */
                        skip_blanks(ps);
                        if (ps->p >= ps->end || *ps->p != ':') {
                                free(key);
                                return -EBADMSG;
                        }
                        ps->p++;
                }
                r = add_item(ps, v, key);
                if (r < 0)
                        return r;
                skip_blanks(ps);
                if (ps->p < ps->end && *ps->p == ',') {
                        ps->p++;
                        continue;
                }
                if (ps->p < ps->end && *ps->p == close) {
                        ps->p++;
                        ps->depth--;
                        return 0;
                }
                return -EBADMSG;
        }
}

static int parse_value(Parser *ps, JsonValue *v) {
        skip_blanks(ps);
        if (ps->p >= ps->end)
                return -EBADMSG;
        switch (*ps->p) {
        case '{':
        case '[':
                return parse_container(ps, v);
        case '"': {
                const char *end = ps->end;
                int r = parse_string(ps, &v->string);

                ps->end = end;
                if (r < 0)
                        return r;
                ps->p++;
                v->type = JSON_STRING;
                return 0;
        }
        case 't':
        case 'f':
                v->type = JSON_BOOLEAN;
                v->boolean = *ps->p == 't';
                return take(ps, v->boolean ? "true" : "false") ? 0 : -EBADMSG;
        case 'n':
                v->type = JSON_NULL;
                return take(ps, "null") ? 0 : -EBADMSG;
        default:
                return parse_number(ps, v);
        }
}

static void value_done(JsonValue *v) {
        for (size_t i = 0; i < v->n_items; i++) {
                value_done(&v->items[i]);
                if (v->keys)
                        free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
        free(v->string);
}

void json_value_free(JsonValue *v) {
        if (!v)
                return;
        value_done(v);
        free(v);
}

int json_parse(const char *data, size_t size, JsonValue **ret) {
        Parser ps = { .p = data, .end = data + size };
        JsonValue *v = calloc(1, sizeof(JsonValue));
        int r;

        if (!v)
                return -ENOMEM;
        r = parse_value(&ps, v);
        skip_blanks(&ps);
        if (r >= 0 && ps.p != ps.end)
                r = -EBADMSG;
        if (r < 0) {
                json_value_free(v);
                return r;
        }
        *ret = v;
        return 0;
}

const JsonValue *json_member(const JsonValue *v, const char *key) {
        if (!v || v->type != JSON_OBJECT)
                return NULL;
        for (size_t i = 0; i < v->n_items; i++)
                if (streq(v->keys[i], key))
                        return &v->items[i];
        return NULL;
}

const char *json_member_string(const JsonValue *v, const char *key) {
        const JsonValue *m = json_member(v, key);

        return m && m->type == JSON_STRING ? m->string : NULL;
}

bool json_member_integer(const JsonValue *v, const char *key, int64_t *ret) {
        const JsonValue *m = json_member(v, key);

        if (!m || m->type != JSON_NUMBER || !m->is_integer)
                return false;
        *ret = m->integer;
        return true;
}

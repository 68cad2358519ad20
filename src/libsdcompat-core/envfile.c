/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "envfile.h"
#include "macro.h"

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r';
}

static bool is_key_start(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_key_char(char c) {
        return is_key_start(c) || (c >= '0' && c <= '9');
}

/* After a value: blanks, then the end of the line or a comment. */
static bool rest_is_empty(const char *p, const char *end) {
        while (p < end && is_blank(*p))
                p++;
        return p == end || *p == '#';
}

/* Parses one line [p, end) (without its '\n', NUL-free) into out, which has room for
 * end - p + 1 bytes: the key, a NUL, the value, a NUL. *ret_value points at the value in out.
 * Returns 1 for an assignment, 0 for a blank or comment line, -EBADMSG if malformed. */
static int parse_line(const char *p, const char *end, char *out, const char **ret_value) {
        char *o = out, *value;

        while (p < end && is_blank(*p))
                p++;
        if (p == end || *p == '#')
                return 0;

        if (!is_key_start(*p))
                return -EBADMSG;
        while (p < end && is_key_char(*p))
                *o++ = *p++;
        if (p == end || *p != '=')
                return -EBADMSG;
        p++;
        *o++ = '\0';
        value = o;

        if (p < end && *p == '\'') {
                const char *q = memchr(p + 1, '\'', (size_t) (end - p - 1));

                if (!q)
                        return -EBADMSG;
                memcpy(o, p + 1, (size_t) (q - p - 1));
                o += q - p - 1;
                p = q + 1;
        } else if (p < end && *p == '"') {
                for (p++;; p++) {
                        if (p == end)
                                return -EBADMSG;
                        if (*p == '"')
                                break;
                        /* The shell's rule inside double quotes: a backslash escapes only these. */
                        if (*p == '\\' && p + 1 < end && strchr("\"\\$`", p[1]))
                                p++;
                        *o++ = *p;
                }
                p++;
        } else {
                while (p < end && !is_blank(*p)) {
                        if (*p == '"' || *p == '\'' || *p == '\\')
                                return -EBADMSG;
                        *o++ = *p++;
                }
        }
        *o = '\0';

        if (!rest_is_empty(p, end))
                return -EBADMSG;

        *ret_value = value;
        return 1;
}

int sdc_envfile_parse(const char *data, size_t size, SdcEnvfileFn fn, void *userdata, unsigned *ret_bad_line) {
        _cleanup_free_ char *buf = NULL;
        unsigned line = 0, bad_line = 0;
        const char *p, *end;

        if ((!data && size > 0) || !fn)
                return -EINVAL;
        p = data;
        end = data ? data + size : data; /* no arithmetic on NULL */

        /* Key and value together are never longer than the line they came from. */
        buf = malloc(MIN(size, (size_t) SDC_ENVFILE_LINE_MAX) + 1);
        if (!buf)
                return -ENOMEM;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *eol = nl ? nl : end;
                const char *value;
                int r;

                line++;
                if ((size_t) (eol - p) > SDC_ENVFILE_LINE_MAX || memchr(p, '\0', (size_t) (eol - p)))
                        r = -EBADMSG;
                else
                        r = parse_line(p, eol, buf, &value);

                if (r < 0) {
                        if (bad_line == 0)
                                bad_line = line;
                } else if (r > 0) {
                        r = fn(buf, value, line, userdata);
                        if (r < 0)
                                return r;
                }

                p = nl ? nl + 1 : end;
        }

        if (ret_bad_line)
                *ret_bad_line = bad_line;
        return bad_line > 0 ? -EBADMSG : 0;
}

typedef struct GetContext {
        const char *key;
        char *value;
} GetContext;

static int get_one(const char *key, const char *value, unsigned line, void *userdata) {
        GetContext *c = userdata;
        char *v;

        if (!streq(key, c->key))
                return 0;
        v = strdup(value);
        if (!v)
                return -ENOMEM;
        free(c->value);
        c->value = v;
        return 0;
}

int sdc_envfile_get(const char *data, size_t size, const char *key, char **ret) {
        GetContext c = { .key = key };
        int r;

        if (isempty(key) || !ret)
                return -EINVAL;

        r = sdc_envfile_parse(data, size, get_one, &c, NULL);
        if (r < 0 && r != -EBADMSG) {
                free(c.value);
                return r;
        }
        if (!c.value)
                return -ENOENT;

        *ret = c.value;
        return 0;
}

void sdc_envfile_put(FILE *f, const char *key, const char *value) {
        if (!value)
                return;
        fprintf(f, "%s=\"", key);
        for (const char *p = value; *p; p++) {
                if (strchr("\"\\`$", *p))
                        fputc('\\', f);
                fputc(*p == '\n' ? ' ' : *p, f);
        }
        fputs("\"\n", f);
}

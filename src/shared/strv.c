/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "strv.h"

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **s = l; *s; s++)
                free(*s);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

int strv_consume(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **c;

        if (!s)
                return -ENOMEM;
        c = realloc(*l, sizeof(char *) * (n + 2));
        if (!c) {
                free(s);
                return -ENOMEM;
        }
        c[n] = s;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *s) {
        return strv_consume(l, strdup(s));
}

int strv_extendv(char ***l, const char *fmt, va_list ap) {
        char *s;

        if (vasprintf(&s, fmt, ap) < 0)
                return -ENOMEM;
        return strv_consume(l, s);
}

int strv_extendf(char ***l, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = strv_extendv(l, fmt, ap);
        va_end(ap);
        return r;
}

bool strv_contains(char *const *l, const char *s) {
        STRV_FOREACH(i, l)
                if (streq(*i, s))
                        return true;
        return false;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void strv_sort(char **l) {
        size_t n = strv_length(l);

        if (n > 1)
                qsort(l, n, sizeof(char *), cmp_str);
}

char *strv_join(char *const *l, const char *sep) {
        size_t k = strlen(sep), n = 0;
        char *s, *p;

        STRV_FOREACH(i, l)
                n += strlen(*i) + k;
        s = malloc(n + 1);
        if (!s)
                return NULL;
        p = s;
        *p = 0;
        STRV_FOREACH(i, l) {
                if (p != s)
                        p = stpcpy(p, sep);
                p = stpcpy(p, *i);
        }
        return s;
}

int strv_split_extend(char ***l, const char *s, const char *separators) {
        for (const char *p = s; p && *p;) {
                size_t n = strcspn(p, separators);

                if (n > 0 && strv_consume(l, strndup(p, n)) < 0)
                        return -ENOMEM;
                p += n;
                p += strspn(p, separators);
        }
        return 0;
}

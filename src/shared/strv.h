/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* NULL-terminated string arrays. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "macro.h"

char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
/* Appends a copy of s; -ENOMEM on failure (the list is unchanged). */
int strv_extend(char ***l, const char *s);
/* Appends s itself, taking ownership (freed on failure). */
int strv_consume(char ***l, char *s);
/* Appends a word made by printf(): -ENOMEM, never a word cut short. */
int strv_extendf(char ***l, const char *fmt, ...) _printf_(2, 3);
int strv_extendv(char ***l, const char *fmt, va_list ap) _printf_(2, 0);
bool strv_contains(char *const *l, const char *s);
/* The words of l joined by sep ("" for none; NULL only when out of memory): the one formatter of a
 * list for a report line. */
char *strv_join(char *const *l, const char *sep);
/* Appends the words of s that separators delimit (empty words skipped). */
int strv_split_extend(char ***l, const char *s, const char *separators);
void strv_sort(char **l);

/* Whether the len bytes at s (need not be NUL-terminated) end with suffix. */
static inline bool endswith_n(const char *s, size_t len, const char *suffix) {
        size_t b = strlen(suffix);
        return len >= b && memcmp(s + len - b, suffix, b) == 0;
}

/* Whether s ends with suffix. */
static inline bool endswith(const char *s, const char *suffix) {
        return endswith_n(s, strlen(s), suffix);
}

#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)

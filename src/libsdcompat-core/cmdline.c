/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "macro.h"
#include "strv.h"

/* systemd's WHITESPACE, the separators extract_first_word() uses by default. */
static bool is_separator(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* One word starting at s (not a separator): its extent in the line, and its text with quotes
 * removed written to out (which has room for the extent plus NUL). Returns the extent. */
static size_t unquote_word(const char *s, char *out) {
        const char *p = s;
        char quote = 0;
        size_t n = 0;

        for (; *p; p++) {
                if (quote) {
                        if (*p == quote)
                                quote = 0;
                        else
                                out[n++] = *p;
                } else if (*p == '"' || *p == '\'')
                        quote = *p;
                else if (is_separator(*p))
                        break;
                else
                        out[n++] = *p;
        }
        out[n] = '\0';
        return (size_t) (p - s);
}

int sdc_cmdline_split(const char *s, char ***ret_words, size_t *ret_dashdash) {
        _cleanup_strv_free_ char **words = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t len, n_words = 0, allocated = 0, dashdash = SIZE_MAX;

        if (!s || !ret_words)
                return -EINVAL;
        len = strnlen(s, SDC_CMDLINE_MAX + 1);
        if (len > SDC_CMDLINE_MAX)
                return -E2BIG;

        /* One scratch buffer as long as the line: no word is longer. */
        buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;

        for (const char *p = s;;) {
                while (is_separator(*p))
                        p++;
                if (*p == '\0')
                        break;

                p += unquote_word(p, buf);

                /* Grown here rather than with strv_extend(), which walks the whole list on every
                 * call: a 64 KiB line of one-letter words would cost a billion steps. */
                if (n_words + 2 > allocated) {
                        size_t want = MAX(allocated * 2, (size_t) 16);
                        char **l = realloc(words, want * sizeof(char *));

                        if (!l)
                                return -ENOMEM;
                        words = l;
                        allocated = want;
                }
                words[n_words] = strdup(buf);
                if (!words[n_words])
                        return -ENOMEM;
                words[++n_words] = NULL;

                if (dashdash == SIZE_MAX && streq(buf, "--"))
                        dashdash = n_words;
        }

        /* An empty line is an empty list, not NULL: callers iterate it. */
        if (!words) {
                words = calloc(1, sizeof(char *));
                if (!words)
                        return -ENOMEM;
        }

        *ret_words = TAKE_PTR(words);
        if (ret_dashdash)
                *ret_dashdash = dashdash;
        return 0;
}

/* proc_cmdline_key_startswith()'s rule: '-' and '_' are interchangeable in keys. Returns what
 * follows key in word, or NULL. */
static const char *key_startswith(const char *word, const char *key) {
        for (; *key; word++, key++) {
                bool same = *word == *key || (*word == '-' && *key == '_') || (*word == '_' && *key == '-');

                if (!same) /* also stops at the end of word, since *key is not NUL */
                        return NULL;
        }
        return word;
}

int sdc_cmdline_get(char *const *words, const char *key, const char **ret_value) {
        const char *value = NULL;
        bool found = false;

        if (isempty(key))
                return -EINVAL;

        STRV_FOREACH(w, words) {
                const char *e = key_startswith(*w, key);

                if (!e)
                        continue;
                if (*e == '=') {
                        value = e + 1;
                        found = true;
                } else if (*e == '\0') {
                        value = NULL;
                        found = true;
                }
        }

        if (ret_value)
                *ret_value = value;
        return found;
}

/* ASCII only: strcasecmp() follows the locale, and in a Turkish one "YES" is not "yes". */
static bool ascii_strcaseeq(const char *a, const char *b) {
        for (;; a++, b++) {
                char x = *a >= 'A' && *a <= 'Z' ? (char) (*a - 'A' + 'a') : *a;
                char y = *b >= 'A' && *b <= 'Z' ? (char) (*b - 'A' + 'a') : *b;

                if (x != y)
                        return false;
                if (x == '\0')
                        return true;
        }
}

int sdc_parse_boolean(const char *v) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        if (!v)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (ascii_strcaseeq(v, yes[i]))
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (ascii_strcaseeq(v, no[i]))
                        return 0;
        return -EINVAL;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envfile.h"
#include "fileio.h"
#include "macro.h"
#include "strv.h"
#include "tests.h"

/* Every assignment as "KEY=value" plus its line number, in call order. */
typedef struct Collected {
        char **pairs;
        unsigned lines[64];
        unsigned n;
        unsigned stop_after; /* return -ECANCELED after this many calls; 0: never */
} Collected;

static int collect(const char *key, const char *value, unsigned line, void *userdata) {
        Collected *c = userdata;
        char *s;

        if (c->stop_after > 0 && c->n == c->stop_after)
                return -ECANCELED;
        ASSERT_TRUE(asprintf(&s, "%s=%s", key, value) >= 0);
        ASSERT_EQ(strv_consume(&c->pairs, s), 0);
        if (c->n < ELEMENTSOF(c->lines))
                c->lines[c->n] = line;
        c->n++;
        return 0;
}

/* The parser is handed exactly size bytes in their own allocation, with no NUL after them, so
 * that the sanitizers catch any read past the end. */
static int parse_exact(const char *text, size_t size, Collected *c, unsigned *bad) {
        _cleanup_free_ char *copy = malloc(size ? size : 1);

        ASSERT_TRUE(copy);
        memcpy(copy, text, size);
        return sdc_envfile_parse(copy, size, collect, c, bad);
}

static int get_exact(const char *text, const char *key, char **ret) {
        size_t size = strlen(text);
        _cleanup_free_ char *copy = malloc(size ? size : 1);

        ASSERT_TRUE(copy);
        memcpy(copy, text, size);
        return sdc_envfile_get(copy, size, key, ret);
}

/* The POSIX shell is the reference for the format: source text and print $key. */
static char *shell_value(const char *text, const char *key) {
        char path[] = "/tmp/test-envfile-XXXXXX", cmd[256], buf[4096];
        size_t n;
        FILE *f;
        int fd;

        fd = mkstemp(path);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);

        snprintf(cmd, sizeof(cmd), "sh -ec '. \"$0\"; printf %%s \"$%s\"' %s", key, path);
        f = popen(cmd, "r");
        ASSERT_TRUE(f);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        ASSERT_EQ(pclose(f), 0);
        unlink(path);
        return strdup(buf);
}

static void free_collected(Collected *c) {
        strv_free(c->pairs);
        *c = (Collected) {};
}

/* ---- real files ---- */

static void check_os_release(const char *path) {
        _cleanup_free_ char *data = NULL, *id = NULL, *version_id = NULL, *debian_version = NULL;
        Collected c = {};
        unsigned bad = 99;
        size_t size;

        if (read_full_file_at(AT_FDCWD, path, 1024 * 1024, &data, &size) < 0) {
                fprintf(stderr, "   %s: not present, skipping\n", path);
                return;
        }
        ASSERT_EQ(sdc_envfile_parse(data, size, collect, &c, &bad), 0);
        ASSERT_EQ(bad, 0);
        fprintf(stderr, "   %s: %u assignments\n", path, c.n);
        ASSERT_TRUE(c.n >= 5); /* os-release(5) files carry at least NAME, ID, PRETTY_NAME, ... */

        /* Each value as the shell reads it. */
        STRV_FOREACH(p, c.pairs) {
                _cleanup_free_ char *key = strndup(*p, strcspn(*p, "=")), *sh = NULL, *ours = NULL;

                ASSERT_TRUE(key);
                sh = shell_value(data, key);
                ASSERT_EQ(sdc_envfile_get(data, size, key, &ours), 0);
                fprintf(stderr, "     %s=\"%s\"\n", key, ours);
                ASSERT_STREQ(ours, sh);
        }

        ASSERT_EQ(sdc_envfile_get(data, size, "ID", &id), 0);
        ASSERT_EQ(sdc_envfile_get(data, size, "NO_SUCH_KEY", &version_id), -ENOENT);

        /* Debian's own version file names the release independently of os-release: "12.11". */
        if (read_full_file_at(AT_FDCWD, "/etc/debian_version", 4096, &debian_version, NULL) >= 0 &&
            debian_version[0] >= '1' && debian_version[0] <= '9') {
                debian_version[strspn(debian_version, "0123456789")] = '\0';
                ASSERT_STREQ(id, "debian");
                ASSERT_EQ(sdc_envfile_get(data, size, "VERSION_ID", &version_id), 0);
                ASSERT_STREQ(version_id, debian_version);
                fprintf(stderr, "   ID=%s VERSION_ID=%s, /etc/debian_version says %s\n", id, version_id,
                        debian_version);
        } else
                fprintf(stderr, "   not a Debian stable release, ID and VERSION_ID not checked\n");

        free_collected(&c);
}

static void test_os_release(void) {
        check_os_release("/etc/os-release");
        check_os_release("/usr/lib/os-release");
}

/* ---- hand-written ---- */

typedef struct Case {
        const char *text;
        const char *key;
        const char *value; /* NULL: -ENOENT */
        bool shell_agrees; /* false where sdcompat reads literally what the shell would expand */
} Case;

static void test_values(void) {
        static const Case cases[] = {
                { "A=b\n", "A", "b", true },
                { "A=b", "A", "b", true }, /* no final newline */
                { "A=\n", "A", "", true },
                { "A=''\n", "A", "", true },
                { "A=\"\"\n", "A", "", true },
                { "A=\"x y\"\n", "A", "x y", true },
                { "A='x y'\n", "A", "x y", true },
                { "A='a\\b \"c\" $d'\n", "A", "a\\b \"c\" $d", true },
                { "A=\"q\\\"b\\\\s\\$d\\`t\"\n", "A", "q\"b\\s$d`t", true },
                { "A=\"\\x \\n \\'\"\n", "A", "\\x \\n \\'", true }, /* other backslashes stay */
                { "A=\"it's\"\n", "A", "it's", true },
                { "A='say \"hi\"'\n", "A", "say \"hi\"", true },
                { "A=\"a # b\"\n", "A", "a # b", true },
                { "A=a#b\n", "A", "a#b", true },
                { "A=b # comment\n", "A", "b", true },
                { "A=\"b\"  # comment\n", "A", "b", true },
                { "A=b   \n", "A", "b", true },
                { "  \tA=b\n", "A", "b", true },
                { "# A=1\nA=2\n#A=3\n", "A", "2", true },
                { "A=1\nA=2\n", "A", "2", true }, /* last wins */
                { "A=1\nB=2\nA=3\n", "B", "2", true },
                { "A=1\n\n\n   \n\t\nA=4\n", "A", "4", true },
                { "_a_1=x\n", "_a_1", "x", true },
                { "NAME=\"D\xc3\xa9" "bian \xe2\x82\xac\"\n", "NAME", "D\xc3\xa9" "bian \xe2\x82\xac", true },
                { "URL=https://x.org/a?b=c&d=e\n", "URL", "https://x.org/a?b=c&d=e", false },
                { "A=b\r\nB=c\r\n", "A", "b", false }, /* DOS line ends: the shell keeps the \r */
                { "A=$HOME\n", "A", "$HOME", false },
                { "A=\"$HOME `id`\"\n", "A", "$HOME `id`", false },
                { "A=1\nB=x y\n", "A", "1", false }, /* a bad line elsewhere does not hide A */
                { "A=1\nA=x y\n", "A", "1", false }, /* nor does a bad line for the same key win */
                { "B=1\n", "A", NULL, true },
                { "", "A", NULL, true },
                { "AB=1\n", "A", NULL, true },
                { "a=1\n", "A", NULL, true }, /* keys are case-sensitive */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const Case *t = &cases[i];
                _cleanup_free_ char *v = NULL;
                int r;

                fprintf(stderr, "   [%zu] %s → ", i, t->key);
                r = get_exact(t->text, t->key, &v);
                fprintf(stderr, "%d \"%s\"\n", r, r == 0 ? v : "");
                if (!t->value) {
                        ASSERT_EQ(r, -ENOENT);
                        continue;
                }
                ASSERT_EQ(r, 0);
                ASSERT_STREQ(v, t->value);
                if (t->shell_agrees) {
                        _cleanup_free_ char *sh = shell_value(t->text, t->key);
                        ASSERT_STREQ(v, sh);
                }
        }
}

static void test_bad_lines(void) {
        static const char *const bad[] = {
                "A",          "=1",        "1A=1",      "A-B=1",     "A =1",       "A= 1 2",    "A=x y",
                "A=\"x",      "A='x",      "A=\"x\"y",  "A='x'y",    "A=\"x\" y",  "A=x\"y\"",  "A=x'y'",
                "A=x\\ y",    "A=\\$x",    "export A=1", "A.B=1",    "A=\"x\\\"",  "A=\"a\"\"b\"", "\xc3\xa9=1",
                "A=a;b c",    "[section]",
        };
        char buf[256];

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                Collected c = {};
                unsigned bad_line = 0;
                int n;

                /* A good line before and after: both still reach fn, the bad line is line 2. */
                n = snprintf(buf, sizeof(buf), "X=1\n%s\nY=2\n", bad[i]);
                fprintf(stderr, "   bad: %s\n", bad[i]);
                ASSERT_EQ(parse_exact(buf, (size_t) n, &c, &bad_line), -EBADMSG);
                ASSERT_EQ(bad_line, 2);
                ASSERT_EQ(c.n, 2);
                ASSERT_STREQ(c.pairs[0], "X=1");
                ASSERT_STREQ(c.pairs[1], "Y=2");
                ASSERT_EQ(c.lines[0], 1);
                ASSERT_EQ(c.lines[1], 3);
                free_collected(&c);
        }
}

static void test_report_first_bad(void) {
        static const char text[] = "# header\nA=1\nbad one\n\nB=2\nbad two\nC='3'";
        Collected c = {};
        unsigned bad = 0;

        ASSERT_EQ(parse_exact(text, sizeof(text) - 1, &c, &bad), -EBADMSG);
        ASSERT_EQ(bad, 3);
        ASSERT_EQ(c.n, 3);
        ASSERT_STREQ(c.pairs[2], "C=3");
        ASSERT_EQ(c.lines[0], 2);
        ASSERT_EQ(c.lines[1], 5);
        ASSERT_EQ(c.lines[2], 7);
        free_collected(&c);

        /* ret_bad_line may be NULL; all good → 0 and *ret_bad_line = 0. */
        ASSERT_EQ(parse_exact(text, sizeof(text) - 1, &c, NULL), -EBADMSG);
        free_collected(&c);
        bad = 99;
        ASSERT_EQ(parse_exact("A=1\nB=2\n", 8, &c, &bad), 0);
        ASSERT_EQ(bad, 0);
        free_collected(&c);
}

static void test_nul_and_size(void) {
        /* A NUL inside a line makes the line bad; size, not the NUL, ends the data. */
        static const char text[] = "A=1\nB=x\0y\nC=3\n";
        Collected c = {};
        unsigned bad = 0;

        ASSERT_EQ(parse_exact(text, sizeof(text) - 1, &c, &bad), -EBADMSG);
        ASSERT_EQ(bad, 2);
        ASSERT_EQ(c.n, 2);
        ASSERT_STREQ(c.pairs[1], "C=3");
        free_collected(&c);

        /* Only the first size bytes count: "A=12" cut to "A=1". */
        ASSERT_EQ(parse_exact("A=12", 3, &c, &bad), 0);
        ASSERT_STREQ(c.pairs[0], "A=1");
        free_collected(&c);

        ASSERT_EQ(parse_exact("", 0, &c, &bad), 0);
        ASSERT_EQ(c.n, 0);
        ASSERT_EQ(sdc_envfile_parse(NULL, 0, collect, &c, &bad), 0);
        ASSERT_EQ(sdc_envfile_parse(NULL, 1, collect, &c, &bad), -EINVAL);
        ASSERT_EQ(sdc_envfile_parse("A=1", 3, NULL, NULL, &bad), -EINVAL);
}

static void test_line_bound(void) {
        size_t n = SDC_ENVFILE_LINE_MAX;
        _cleanup_free_ char *text = malloc(n + 16);
        Collected c = {};
        unsigned bad = 0;

        /* Exactly SDC_ENVFILE_LINE_MAX bytes: accepted. */
        ASSERT_TRUE(text);
        memcpy(text, "A=", 2);
        memset(text + 2, 'x', n - 2);
        memcpy(text + n, "\nB=2\n", 5);
        ASSERT_EQ(parse_exact(text, n + 5, &c, &bad), 0);
        ASSERT_EQ(c.n, 2);
        ASSERT_EQ(strlen(c.pairs[0]), n);
        free_collected(&c);

        /* One more: that line is bad, the next one still read. */
        memcpy(text, "A=", 2);
        memset(text + 2, 'x', n - 1);
        memcpy(text + n + 1, "\nB=2\n", 5);
        ASSERT_EQ(parse_exact(text, n + 6, &c, &bad), -EBADMSG);
        ASSERT_EQ(bad, 1);
        ASSERT_EQ(c.n, 1);
        ASSERT_STREQ(c.pairs[0], "B=2");
        ASSERT_EQ(c.lines[0], 2);
        free_collected(&c);
}

static void test_callback_stops(void) {
        Collected c = { .stop_after = 2 };
        unsigned bad = 77;

        ASSERT_EQ(parse_exact("A=1\nB=2\nC=3\nD=4\n", 16, &c, &bad), -ECANCELED);
        ASSERT_EQ(c.n, 2);
        free_collected(&c);
}

int main(void) {
        TEST(test_os_release);
        TEST(test_values);
        TEST(test_bad_lines);
        TEST(test_report_first_bad);
        TEST(test_nul_and_size);
        TEST(test_line_bound);
        TEST(test_callback_stops);
        return 0;
}

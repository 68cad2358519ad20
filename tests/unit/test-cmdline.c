/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmdline.h"
#include "fileio.h"
#include "macro.h"
#include "strv.h"
#include "tests.h"
#include "version.h"

#define NO_DASHDASH SIZE_MAX

/* Splits line and compares with the expected words (NULL-terminated) and "--" position. */
static void check_split(const char *line, const char *const *expected, size_t expected_dashdash) {
        _cleanup_strv_free_ char **words = NULL;
        size_t dashdash = 0, n = 0;

        fprintf(stderr, "   split \"%s\"\n", line);
        ASSERT_EQ(sdc_cmdline_split(line, &words, &dashdash), 0);
        ASSERT_TRUE(words);
        for (; expected[n]; n++)
                ASSERT_STREQ(words[n], expected[n]);
        ASSERT_EQ(strv_length(words), n);
        ASSERT_EQ(dashdash, expected_dashdash);
}

#define SPLIT(line, dd, ...) check_split(line, (const char *const[]) { __VA_ARGS__, NULL }, dd)
#define SPLIT_EMPTY(line)    check_split(line, (const char *const[]) { NULL }, NO_DASHDASH)

static void test_real_line(void) {
        static const char line[] = "BOOT_IMAGE=/vmlinuz-6.1.0-9-amd64 root=UUID=1234 ro quiet "
                                   "systemd.unified_cgroup_hierarchy=0 \"rd.foo=a b\" -- hello --foo";
        _cleanup_strv_free_ char **words = NULL;
        size_t dashdash;
        const char *v;

        SPLIT(line, 7, "BOOT_IMAGE=/vmlinuz-6.1.0-9-amd64", "root=UUID=1234", "ro", "quiet",
              "systemd.unified_cgroup_hierarchy=0", "rd.foo=a b", "--", "hello", "--foo");

        ASSERT_EQ(sdc_cmdline_split(line, &words, &dashdash), 0);
        ASSERT_STREQ(words[dashdash - 1], "--");
        ASSERT_STREQ(words[dashdash], "hello");

        ASSERT_EQ(sdc_cmdline_get(words, "BOOT_IMAGE", &v), 1);
        ASSERT_STREQ(v, "/vmlinuz-6.1.0-9-amd64");
        ASSERT_EQ(sdc_cmdline_get(words, "root", &v), 1);
        ASSERT_STREQ(v, "UUID=1234"); /* the value starts after the first '=' */
        ASSERT_EQ(sdc_cmdline_get(words, "ro", &v), 1);
        ASSERT_TRUE(v == NULL);
        ASSERT_EQ(sdc_cmdline_get(words, "quiet", NULL), 1);
        ASSERT_EQ(sdc_cmdline_get(words, "systemd.unified_cgroup_hierarchy", &v), 1);
        ASSERT_STREQ(v, "0");
        ASSERT_EQ(sdc_parse_boolean(v), 0);
        /* systemd's key rule: '-' and '_' are the same. */
        ASSERT_EQ(sdc_cmdline_get(words, "systemd.unified-cgroup-hierarchy", &v), 1);
        ASSERT_STREQ(v, "0");
        ASSERT_EQ(sdc_cmdline_get(words, "rd.foo", &v), 1);
        ASSERT_STREQ(v, "a b");
        /* Not "rd." stripped, not a prefix match. */
        ASSERT_EQ(sdc_cmdline_get(words, "foo", &v), 0);
        ASSERT_TRUE(v == NULL);
        ASSERT_EQ(sdc_cmdline_get(words, "roo", &v), 0);
        ASSERT_EQ(sdc_cmdline_get(words, "r", &v), 0);
        ASSERT_EQ(sdc_cmdline_get(words, "BOOT_IMAGE=/vmlinuz", &v), 0);
        /* After "--" too, as systemd reads them (test_systemd_agrees proves that). */
        ASSERT_EQ(sdc_cmdline_get(words, "hello", &v), 1);
        ASSERT_TRUE(v == NULL);
        ASSERT_EQ(sdc_cmdline_get(words, "--foo", &v), 1);
        ASSERT_EQ(sdc_cmdline_get(words, "", &v), -EINVAL);
        ASSERT_EQ(sdc_cmdline_get(words, NULL, &v), -EINVAL);
}

static void test_quotes(void) {
        SPLIT("foo=\"a b\"", NO_DASHDASH, "foo=a b");
        SPLIT("'x y' z", NO_DASHDASH, "x y", "z");
        SPLIT("a\"b c\"d e", NO_DASHDASH, "ab cd", "e");
        SPLIT("a'\"'b", NO_DASHDASH, "a\"b");          /* a double quote inside single quotes */
        SPLIT("x=\"a b", NO_DASHDASH, "x=a b");         /* unterminated: to the end of the line */
        SPLIT("x='a \"b", NO_DASHDASH, "x=a \"b");
        SPLIT("\"\" a", NO_DASHDASH, "", "a");         /* an empty quoted word is a word */
        SPLIT("a\\\"b c\"", NO_DASHDASH, "a\\b c");    /* a backslash escapes nothing */
        SPLIT("a\\ b", NO_DASHDASH, "a\\", "b");
        SPLIT("x=a\\x20b", NO_DASHDASH, "x=a\\x20b");
        SPLIT(" \t\n a\tb\r\nc  ", NO_DASHDASH, "a", "b", "c");
        SPLIT("\xc3\xa9=\xe2\x82\xac", NO_DASHDASH, "\xc3\xa9=\xe2\x82\xac"); /* bytes pass through */
        SPLIT_EMPTY("");
        SPLIT_EMPTY(" \t\r\n ");
}

static void test_dashdash(void) {
        SPLIT("--", 1, "--");
        SPLIT("a --", 2, "a", "--");
        SPLIT("-- --", 1, "--", "--");                   /* the first one counts */
        SPLIT("a \"--\" b", 2, "a", "--", "b");          /* the kernel strips these quotes too */
        SPLIT("a --=x b", NO_DASHDASH, "a", "--=x", "b");
        SPLIT("a --x b", NO_DASHDASH, "a", "--x", "b");
        SPLIT("a \"b -- c\" d", NO_DASHDASH, "a", "b -- c", "d");
        SPLIT("a\t--\nb", 2, "a", "--", "b");
}

static void test_last_wins(void) {
        _cleanup_strv_free_ char **words = NULL;
        const char *v;

        ASSERT_EQ(sdc_cmdline_split("a=1 b a=2 c=x a-b_c=1 a_b-c=2 a=3 a rd.sdcompat.debug", &words, NULL), 0);
        ASSERT_EQ(sdc_cmdline_get(words, "a", &v), 1);
        ASSERT_TRUE(v == NULL); /* the bare word came last */
        ASSERT_EQ(sdc_cmdline_get(words, "c", &v), 1);
        ASSERT_STREQ(v, "x");
        ASSERT_EQ(sdc_cmdline_get(words, "a_b_c", &v), 1);
        ASSERT_STREQ(v, "2");
        ASSERT_EQ(sdc_cmdline_get(words, "a-b-c", &v), 1);
        ASSERT_STREQ(v, "2");
        ASSERT_EQ(sdc_cmdline_get(words, "rd.sdcompat.debug", &v), 1);
        ASSERT_TRUE(v == NULL);
        ASSERT_EQ(sdc_cmdline_get(words, "rd.sdcompat", &v), 0);
        words = strv_free(words);

        ASSERT_EQ(sdc_cmdline_split("a a=1 a=", &words, NULL), 0);
        ASSERT_EQ(sdc_cmdline_get(words, "a", &v), 1);
        ASSERT_STREQ(v, "");
        words = strv_free(words);

        /* An empty list and a NULL list: nothing found. */
        ASSERT_EQ(sdc_cmdline_split("", &words, NULL), 0);
        ASSERT_EQ(sdc_cmdline_get(words, "a", &v), 0);
        ASSERT_EQ(sdc_cmdline_get(NULL, "a", &v), 0);
}

static void test_boolean(void) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on", "YES", "Y", "True", "T", "ON", "oN" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off", "NO", "N", "False", "F", "OFF" };
        static const char *const bad[] = { "", "2", "-1", "01", "yess", "yesplease", "nope", "o", " 1", "1 ",
                                           "enable", "disable", "tru" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                ASSERT_EQ(sdc_parse_boolean(yes[i]), 1);
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                ASSERT_EQ(sdc_parse_boolean(no[i]), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_EQ(sdc_parse_boolean(bad[i]), -EINVAL);
        ASSERT_EQ(sdc_parse_boolean(NULL), -EINVAL);
}

static void test_bounds(void) {
        _cleanup_strv_free_ char **words = NULL;
        _cleanup_free_ char *big = NULL;
        size_t dashdash;

        /* Longest accepted: SDC_CMDLINE_MAX bytes of one-letter words, split in one pass. */
        big = malloc(SDC_CMDLINE_MAX + 2);
        ASSERT_TRUE(big);
        for (size_t i = 0; i < SDC_CMDLINE_MAX; i++)
                big[i] = i % 2 ? ' ' : 'a';
        big[SDC_CMDLINE_MAX] = '\0';
        ASSERT_EQ(sdc_cmdline_split(big, &words, &dashdash), 0);
        ASSERT_EQ(strv_length(words), SDC_CMDLINE_MAX / 2);
        ASSERT_EQ(dashdash, NO_DASHDASH);
        words = strv_free(words);

        big[SDC_CMDLINE_MAX] = 'a';
        big[SDC_CMDLINE_MAX + 1] = '\0';
        ASSERT_EQ(sdc_cmdline_split(big, &words, &dashdash), -E2BIG);
        ASSERT_TRUE(words == NULL);

        ASSERT_EQ(sdc_cmdline_split(NULL, &words, NULL), -EINVAL);
}

/* This host's own /proc/cmdline: whatever it holds must split, and a space-delimited "--" in it
 * must be found. */
static void test_proc_cmdline(void) {
        _cleanup_strv_free_ char **words = NULL;
        _cleanup_free_ char *line = NULL;
        size_t dashdash;

        if (read_full_file_at(AT_FDCWD, "/proc/cmdline", SDC_CMDLINE_MAX, &line, NULL) < 0) {
                fprintf(stderr, "   /proc/cmdline unreadable, skipping\n");
                return;
        }
        ASSERT_EQ(sdc_cmdline_split(line, &words, &dashdash), 0);
        fprintf(stderr, "   /proc/cmdline: %zu words, \"--\" at %zd\n", strv_length(words),
                dashdash == NO_DASHDASH ? (ssize_t) -1 : (ssize_t) dashdash - 1);
        if (strncmp(line, "-- ", 3) == 0 || strstr(line, " -- ") || strstr(line, " --\n")) {
                ASSERT_TRUE(dashdash != NO_DASHDASH);
                ASSERT_STREQ(words[dashdash - 1], "--");
        }
}

/* The installed systemd's major version, 0 if unknown. */
static unsigned host_systemd_major(void) {
        char banner[256] = "";
        SdcVersion v;
        FILE *f;

        f = popen("systemd --version 2>/dev/null | head -n1", "r");
        ASSERT_TRUE(f);
        if (!fgets(banner, sizeof(banner), f))
                banner[0] = '\0';
        pclose(f);
        return sdc_version_parse(banner, &v) >= 0 ? v.major : 0;
}

/* Before v249 systemd's splitter took a backslash as an escape: "\x" became "x". */
static char *pre_v249_unescape(const char *s) {
        char *r = strdup(s), *o = r;

        ASSERT_TRUE(r);
        for (; *s; s++) {
                if (*s == '\\' && s[1])
                        s++;
                *o++ = *s;
        }
        *o = '\0';
        return r;
}

/* systemd itself is the reference: systemd-debug-generator masks every unit named by a
 * systemd.mask= word of the command line it reads, and SYSTEMD_PROC_CMDLINE replaces
 * /proc/cmdline for it. The masks it creates must be exactly the values sdc_cmdline_split() finds,
 * including quotes removed in odd places, backslashes kept (v249 and later; bullseye's v247
 * still unescapes them, which this test checks too), and words after "--". */
static void test_systemd_agrees(void) {
        static const char line[] = "  systemd.mask=\"q1.service\" 'systemd.mask=q2.service' systemd.mask=q\"3\".service "
                                   "systemd.mask=a\\x2db.service\tsystemd.mask=tab.service\r\n quiet "
                                   "systemd.mask=x'y'z.service -- systemd.mask=after.service \"--\" "
                                   "systemd.mask=\"last.service";
        static const char *const generators[] = {
                "/usr/lib/systemd/system-generators/systemd-debug-generator",
                "/lib/systemd/system-generators/systemd-debug-generator",
        };
        _cleanup_strv_free_ char **words = NULL, **ours = NULL, **theirs = NULL;
        char dir[] = "/tmp/test-cmdline-XXXXXX", cmd[1024], name[256];
        const char *gen = NULL;
        unsigned major;
        FILE *f;
        int status;

        for (size_t i = 0; i < ELEMENTSOF(generators); i++)
                if (access(generators[i], X_OK) == 0) {
                        gen = generators[i];
                        break;
                }
        if (!gen) {
                fprintf(stderr, "   systemd-debug-generator not installed, skipping\n");
                return;
        }

        major = host_systemd_major();
        ASSERT_TRUE(major > 0);
        ASSERT_EQ(sdc_cmdline_split(line, &words, NULL), 0);
        STRV_FOREACH(w, words)
                if (strncmp(*w, "systemd.mask=", 13) == 0)
                        ASSERT_EQ(strv_consume(&ours, major >= 249 ? strdup(*w + 13) : pre_v249_unescape(*w + 13)), 0);
        ASSERT_EQ(strv_length(ours), 8);
        ASSERT_TRUE(strv_contains(ours, "after.service"));
        ASSERT_TRUE(strv_contains(ours, major >= 249 ? "a\\x2db.service" : "ax2db.service"));

        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_EQ(setenv("SYSTEMD_PROC_CMDLINE", line, 1), 0);
        snprintf(cmd, sizeof(cmd), "mkdir %s/n %s/e %s/l && %s %s/n %s/e %s/l 2>/dev/null", dir, dir, dir, gen, dir,
                 dir, dir);
        status = system(cmd);
        ASSERT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
        ASSERT_EQ(unsetenv("SYSTEMD_PROC_CMDLINE"), 0);

        snprintf(cmd, sizeof(cmd), "find %s -lname /dev/null -printf '%%f\\n'", dir);
        f = popen(cmd, "r");
        ASSERT_TRUE(f);
        while (fgets(name, sizeof(name), f)) {
                name[strcspn(name, "\n")] = '\0';
                ASSERT_EQ(strv_extend(&theirs, name), 0);
        }
        ASSERT_EQ(pclose(f), 0);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ASSERT_EQ(system(cmd), 0);

        strv_sort(ours);
        strv_sort(theirs);
        fprintf(stderr, "   systemd %u masked %zu units, sdcompat found %zu\n", major, strv_length(theirs),
                strv_length(ours));
        ASSERT_EQ(strv_length(ours), strv_length(theirs));
        for (size_t i = 0; ours[i]; i++) {
                fprintf(stderr, "     %s\n", ours[i]);
                ASSERT_STREQ(ours[i], theirs[i]);
        }
}

int main(void) {
        TEST(test_real_line);
        TEST(test_quotes);
        TEST(test_dashdash);
        TEST(test_last_wins);
        TEST(test_boolean);
        TEST(test_bounds);
        TEST(test_proc_cmdline);
        TEST(test_systemd_agrees);
        return 0;
}

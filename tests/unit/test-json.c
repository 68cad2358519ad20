/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "macro.h"
#include "tests.h"

typedef void (*BuildFn)(JsonWriter *w);

/* Debian's own python3 if present: a version manager's shim in PATH can cost half a second per
 * start, and this test starts the parser dozens of times. */
static const char *python = "python3";
static bool have_jq;

static char *render(BuildFn build, bool pretty) {
        char *buf = NULL;
        size_t size = 0;
        JsonWriter w;
        FILE *f;

        f = open_memstream(&buf, &size);
        ASSERT_TRUE(f);
        json_init(&w, f, pretty);
        build(&w);
        json_finish(&w);
        ASSERT_EQ(fclose(f), 0);
        return buf;
}

/* A real JSON parser decides whether the output is JSON: Python's, strict (control characters in
 * strings, NaN and Infinity rejected). It prints the document back in one canonical form (ASCII
 * only, no blanks), which the tests compare with what they wrote, so escaping is checked for
 * meaning, not only for syntax. jq parses it too when installed. */
static char *reparse(const char *json) {
        char path[] = "/tmp/test-json-XXXXXX", cmd[512], out[65536];
        size_t n;
        FILE *f;
        int fd, status;

        fd = mkstemp(path);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, json, strlen(json)), (ssize_t) strlen(json));
        close(fd);

        snprintf(cmd, sizeof(cmd),
                 "%s -c 'import json,sys\n"
                 "def bad(c): raise ValueError(\"not JSON: \" + c)\n"
                 "v = json.load(sys.stdin, parse_constant=bad)\n"
                 "sys.stdout.write(json.dumps(v, ensure_ascii=True, separators=(\",\", \":\")))' < %s",
                 python, path);
        f = popen(cmd, "r");
        ASSERT_TRUE(f);
        n = fread(out, 1, sizeof(out) - 1, f);
        out[n] = '\0';
        status = pclose(f);
        if (status != 0) {
                fprintf(stderr, "python3 rejected:\n%s\n", json);
                ASSERT_TRUE(false);
        }

        if (have_jq) {
                snprintf(cmd, sizeof(cmd), "jq -e . < %s >/dev/null 2>&1 || test $? -eq 1", path);
                if (system(cmd) != 0) {
                        fprintf(stderr, "jq rejected:\n%s\n", json);
                        ASSERT_TRUE(false);
                }
        }
        unlink(path);
        return strdup(out);
}

/* Renders build in both modes; both must parse to expected_canonical. */
static void check(BuildFn build, const char *expected_canonical) {
        for (int pretty = 0; pretty <= 1; pretty++) {
                _cleanup_free_ char *out = render(build, pretty), *canon = NULL;

                canon = reparse(out);
                if (strcmp(canon, expected_canonical) != 0) {
                        fprintf(stderr, "output (%s):\n%s\nparsed: %s\nexpected: %s\n", pretty ? "pretty" : "compact", out,
                                canon, expected_canonical);
                        ASSERT_TRUE(false);
                }
        }
}

/* ---- nesting and empty containers ---- */

static void build_nested(JsonWriter *w) {
        json_object_begin(w, NULL);
        json_string(w, "name", "sdcompat");
        json_object_begin(w, "empty_object");
        json_object_end(w);
        json_array_begin(w, "empty_array");
        json_array_end(w);
        json_array_begin(w, "list");
        json_int(w, NULL, 1);
        json_object_begin(w, NULL);
        json_bool(w, "t", true);
        json_bool(w, "f", false);
        json_null(w, "n");
        json_object_end(w);
        json_array_begin(w, NULL);
        json_array_end(w);
        json_array_begin(w, NULL);
        json_array_begin(w, NULL);
        json_string(w, NULL, "deep");
        json_array_end(w);
        json_array_end(w);
        json_object_begin(w, NULL);
        json_object_end(w);
        json_string(w, NULL, NULL);
        json_array_end(w);
        json_object_begin(w, "last");
        json_uint(w, "u", 7);
        json_object_end(w);
        json_object_end(w);
}

static void test_nesting(void) {
        check(build_nested, "{\"name\":\"sdcompat\",\"empty_object\":{},\"empty_array\":[],"
                            "\"list\":[1,{\"t\":true,\"f\":false,\"n\":null},[],[[\"deep\"]],{},null],"
                            "\"last\":{\"u\":7}}");
}

static void build_empty_object(JsonWriter *w) {
        json_object_begin(w, NULL);
        json_object_end(w);
}

static void build_empty_array(JsonWriter *w) {
        json_array_begin(w, NULL);
        json_array_end(w);
}

static void test_empty_top(void) {
        check(build_empty_object, "{}");
        check(build_empty_array, "[]");
}

/* Deeper than any fixed-size bookkeeping: arrays at even levels, objects at odd levels, each
 * holding a scalar before and after the next level, so a lost or extra comma at any depth breaks
 * the document. */
#define DEEP 100
static void build_deep(JsonWriter *w) {
        for (int i = 0; i < DEEP; i++)
                if (i % 2 == 0) {
                        json_array_begin(w, i == 0 ? NULL : "k");
                        json_int(w, NULL, i);
                } else {
                        json_object_begin(w, NULL);
                        json_int(w, "a", i);
                }
        for (int i = DEEP - 1; i >= 0; i--)
                if (i % 2 == 0) {
                        json_int(w, NULL, i);
                        json_array_end(w);
                } else {
                        json_int(w, "z", i);
                        json_object_end(w);
                }
}

static void test_deep(void) {
        char expected[8192], *p = expected;

        for (int i = 0; i < DEEP; i++)
                p += i % 2 == 0 ? sprintf(p, "%s[%d,", i == 0 ? "" : "\"k\":", i) : sprintf(p, "{\"a\":%d,", i);
        for (int i = DEEP - 1; i >= 0; i--)
                p += i % 2 == 0 ? sprintf(p, "%d]%s", i, i > 0 ? "," : "") : sprintf(p, "\"z\":%d}%s", i, i > 0 ? "," : "");
        check(build_deep, expected);
}

/* ---- strings ---- */

static const char *str_value;

static void build_string(JsonWriter *w) {
        json_object_begin(w, NULL);
        json_string(w, str_value, str_value); /* the same text as key and value */
        json_object_end(w);
}

static void check_string(const char *s, const char *expected_escaped_canonical) {
        char expected[4096];

        snprintf(expected, sizeof(expected), "{\"%s\":\"%s\"}", expected_escaped_canonical, expected_escaped_canonical);
        str_value = s;
        check(build_string, expected);
}

static void test_strings(void) {
        char controls[32];

        check_string("", "");
        check_string("plain", "plain");
        check_string("quote \" backslash \\ slash /", "quote \\\" backslash \\\\ slash /");
        check_string("nl\n tab\t cr\r bs\b ff\f", "nl\\n tab\\t cr\\r bs\\b ff\\f");
        check_string("del \x7f", "del \\u007f");

        for (int i = 1; i < 32; i++)
                controls[i - 1] = (char) i;
        controls[31] = '\0';
        check_string(controls, "\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
                               "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b"
                               "\\u001c\\u001d\\u001e\\u001f");

        /* Valid UTF-8 of every length passes through. */
        check_string("\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf",
                     "\\u00e9 \\u20ac \\ud83d\\ude00 \\uffff \\udbff\\udfff");

        /* Invalid UTF-8: each offending byte becomes U+FFFD, the rest survives. */
        check_string("a\x80z", "a\\ufffdz");                       /* stray continuation byte */
        check_string("a\xffz", "a\\ufffdz");                       /* never valid */
        check_string("a\xc0\xafz", "a\\ufffd\\ufffdz");             /* overlong '/' */
        check_string("a\xe0\x80\xafz", "a\\ufffd\\ufffd\\ufffdz");   /* overlong, 3 bytes */
        check_string("a\xed\xa0\x80z", "a\\ufffd\\ufffd\\ufffdz");   /* UTF-16 surrogate */
        check_string("a\xf4\x90\x80\x80z", "a\\ufffd\\ufffd\\ufffd\\ufffdz"); /* above U+10FFFF */
        check_string("a\xe2\x82", "a\\ufffd\\ufffd");                /* cut off at the end */
        check_string("\xe2\x82z", "\\ufffd\\ufffdz");
        check_string("\xc3", "\\ufffd");
}

/* ---- numbers ---- */

static void build_numbers(JsonWriter *w) {
        json_array_begin(w, NULL);
        json_int(w, NULL, INT64_MIN);
        json_int(w, NULL, INT64_MAX);
        json_int(w, NULL, 0);
        json_int(w, NULL, -1);
        json_uint(w, NULL, UINT64_MAX);
        json_double(w, NULL, 0.5);
        json_double(w, NULL, -2.25);
        json_double(w, NULL, 1e300);
        json_double(w, NULL, 1e-300);
        json_double(w, NULL, NAN);
        json_double(w, NULL, INFINITY);
        json_double(w, NULL, -INFINITY);
        json_array_end(w);
}

static void test_numbers(void) {
        check(build_numbers, "[-9223372036854775808,9223372036854775807,0,-1,18446744073709551615,"
                             "0.5,-2.25,1e+300,1e-300,null,null,null]");
}

/* ---- exact bytes of both modes ---- */

static void build_small(JsonWriter *w) {
        json_object_begin(w, NULL);
        json_string(w, "a", "x");
        json_array_begin(w, "b");
        json_int(w, NULL, 1);
        json_object_begin(w, NULL);
        json_object_end(w);
        json_array_end(w);
        json_array_begin(w, "c");
        json_array_end(w);
        json_object_end(w);
}

static void test_exact_bytes(void) {
        _cleanup_free_ char *compact = render(build_small, false), *pretty = render(build_small, true);

        ASSERT_STREQ(compact, "{\"a\":\"x\",\"b\":[1,{}],\"c\":[]}\n");
        ASSERT_STREQ(pretty, "{\n"
                             "  \"a\": \"x\",\n"
                             "  \"b\": [\n"
                             "    1,\n"
                             "    {}\n"
                             "  ],\n"
                             "  \"c\": []\n"
                             "}\n");
}

/* Several documents one after another (one per line, as `sdcompat-check --json` might stream). */
static void test_top_level_scalars(void) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        JsonWriter w;
        FILE *f = open_memstream(&buf, &size);

        ASSERT_TRUE(f);
        json_init(&w, f, false);
        json_string(&w, NULL, "x");
        json_finish(&w);
        json_int(&w, NULL, 5);
        json_finish(&w);
        ASSERT_EQ(fclose(f), 0);
        ASSERT_STREQ(buf, "\"x\"\n5\n");
}

int main(void) {
        char cmd[128];

        if (access("/usr/bin/python3", X_OK) == 0)
                python = "/usr/bin/python3";
        snprintf(cmd, sizeof(cmd), "%s -c 'import json' 2>/dev/null", python);
        have_jq = system("command -v jq >/dev/null 2>&1") == 0;
        if (system(cmd) != 0) {
                fprintf(stderr, "python3 is needed to validate the output\n");
                return 77; /* meson: skipped */
        }
        TEST(test_nesting);
        TEST(test_empty_top);
        TEST(test_deep);
        TEST(test_strings);
        TEST(test_numbers);
        TEST(test_exact_bytes);
        TEST(test_top_level_scalars);
        return 0;
}

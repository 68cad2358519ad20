/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The strict JSON reader (json-parse.h): what json.h writes reads back; what RFC 8259 forbids, and
 * what sdcompat's records never hold, is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-parse.h"
#include "json.h"
#include "macro.h"
#include "tests.h"

static int parse(const char *s, JsonValue **ret) {
        return json_parse(s, strlen(s), ret);
}

static void test_writer_round_trip(void) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        JsonWriter w;
        JsonValue *v = NULL;
        const JsonValue *a;
        int64_t i;

        ASSERT_TRUE(f);
        json_init(&w, f, true);
        json_object_begin(&w, NULL);
        json_uint(&w, "schema_version", 1);
        json_string(&w, "text", "quote \" backslash \\ tab \t newline \n é \x01 end");
        json_string(&w, "bad_utf8", "a\xff" "b");
        json_int(&w, "negative", -95);
        json_double(&w, "real", 2.5);
        json_bool(&w, "yes", true);
        json_null(&w, "nothing");
        json_array_begin(&w, "list");
        json_string(&w, NULL, "one");
        json_object_begin(&w, NULL);
        json_array_begin(&w, "empty");
        json_array_end(&w);
        json_object_end(&w);
        json_array_end(&w);
        json_object_end(&w);
        json_finish(&w);
        ASSERT_EQ(fclose(f), 0);

        ASSERT_EQ(json_parse(buf, size, &v), 0);
        ASSERT_TRUE(json_member_integer(v, "schema_version", &i) && i == 1);
        ASSERT_STREQ(json_member_string(v, "text"), "quote \" backslash \\ tab \t newline \n é \x01 end");
        ASSERT_STREQ(json_member_string(v, "bad_utf8"), "a\xef\xbf\xbd" "b"); /* U+FFFD, as json.h writes */
        ASSERT_TRUE(json_member_integer(v, "negative", &i) && i == -95);
        ASSERT_TRUE(!json_member_integer(v, "real", &i) && json_member(v, "real")->number == 2.5);
        ASSERT_TRUE(json_member(v, "yes")->type == JSON_BOOLEAN && json_member(v, "yes")->boolean);
        ASSERT_TRUE(json_member(v, "nothing")->type == JSON_NULL && !json_member_string(v, "nothing"));
        a = json_member(v, "list");
        ASSERT_TRUE(a && a->type == JSON_ARRAY && a->n_items == 2);
        ASSERT_STREQ(a->items[0].string, "one");
        ASSERT_TRUE(json_member(&a->items[1], "empty")->n_items == 0);
        ASSERT_TRUE(!json_member(v, "absent") && !json_member(a, "one"));
        json_value_free(v);
        free(buf);
}

static void test_accepted(void) {
        static const char *const good[] = {
                "0", "-0", "1.5e3", "-12E-2", "true", "null", "\"\"", "[]", "{}", " \t\r\n[ 1 , 2 ] \n",
                "\"\\u00e9\\ud83d\\ude00\\/\"", "{\"a\": {\"a\": [[]]}}", "9223372036854775808",
        };
        JsonValue *v;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                fprintf(stderr, "  %s\n", good[i]);
                ASSERT_EQ(parse(good[i], &v), 0);
                json_value_free(v);
        }
        ASSERT_EQ(parse("\"\\u00e9\\ud83d\\ude00\"", &v), 0);
        ASSERT_STREQ(v->string, "é\xf0\x9f\x98\x80");
        json_value_free(v);
        /* past int64_t: a number, not an integer */
        ASSERT_EQ(parse("9223372036854775808", &v), 0);
        ASSERT_TRUE(v->type == JSON_NUMBER && !v->is_integer);
        json_value_free(v);
}

static void test_refused(void) {
        static const char *const bad[] = {
                "", " ", "nul", "tru", "True", "01", "-", "1.", ".5", "1e", "+1", "0x10", "NaN", "Infinity",
                "[1,]", "[,1]", "[1 2]", "{\"a\" 1}", "{\"a\":}", "{a: 1}", "{\"a\": 1,}", "{'a': 1}",
                "\"abc", "\"a\tb\"", "\"\\x41\"", "\"\\u12\"", "\"\\u0000\"", "\"\\udc00\"", "\"\\ud83d\"",
                "\"\\ud83dx\"", "\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "[1] [2]", "{} x",
                "{\"a\": 1, \"a\": 2}", "[", "{", "]", "\"\\", "\"\\\"",
                "11111111111111111111111111111111111111111111111111111111111111111111111",
        };
        char deep[2 * JSON_DEPTH_MAX + 8] = "", ok[2 * JSON_DEPTH_MAX + 8] = "";
        JsonValue *v;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                fprintf(stderr, "  %s\n", bad[i]);
                ASSERT_EQ(parse(bad[i], &v), -EBADMSG);
        }
        /* a NUL byte inside a string and after the value */
        ASSERT_EQ(json_parse("\"a\0b\"", 5, &v), -EBADMSG);
        ASSERT_EQ(json_parse("1\0", 2, &v), -EBADMSG);
        /* nesting: JSON_DEPTH_MAX levels read, one more refused */
        memset(ok, '[', JSON_DEPTH_MAX);
        memset(ok + JSON_DEPTH_MAX, ']', JSON_DEPTH_MAX);
        ASSERT_EQ(parse(ok, &v), 0);
        json_value_free(v);
        memset(deep, '[', JSON_DEPTH_MAX + 1);
        memset(deep + JSON_DEPTH_MAX + 1, ']', JSON_DEPTH_MAX + 1);
        ASSERT_EQ(parse(deep, &v), -EBADMSG);
}

int main(void) {
        TEST(test_writer_round_trip);
        TEST(test_accepted);
        TEST(test_refused);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cgroup release record: what the release writes, read back by the same module; another
 * schema version or a broken record is said as such, never read as "nothing released". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup-release-record.h"
#include "macro.h"
#include "strv.h"
#include "tests.h"

#define WORDS(...) ((char *[]) { __VA_ARGS__, NULL })

static char *written(int error, const SdcCgroupRelease *rep, bool reexec) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        ASSERT_TRUE(f);
        ASSERT_EQ(sdc_cgroup_release_record_write(f, error, rep, reexec), 0);
        ASSERT_EQ(fclose(f), 0);
        return text;
}

/* Every list whole, as the words joined by one space, whatever its length: no 256-byte cut. */
static void test_round_trip(void) {
        char long_word[600];
        SdcCgroupRelease rep = {
                .bound = WORDS("memory", "pids", "devices"),
                .released = WORDS("pids", "devices"),
                .still_bound = WORDS("memory", long_word),
                .busy = WORDS("memory:3"),
                .removed = 7,
        };
        _cleanup_free_ char *text = NULL;
        _cleanup_(sdc_cgroup_release_record_done) SdcCgroupReleaseRecord rec = {};

        memset(long_word, 'x', sizeof(long_word) - 1);
        long_word[sizeof(long_word) - 1] = 0;
        text = written(0, &rep, true);
        ASSERT_TRUE(strstr(text, "\"schema_version\": 1,\n"));
        ASSERT_TRUE(strstr(text, "\"bound_before\": \"memory pids devices\",\n"));
        ASSERT_TRUE(strstr(text, "\"in_use\": \"\",\n"));
        ASSERT_TRUE(strstr(text, "\"cgroups_removed\": 7,\n"));
        ASSERT_EQ(sdc_cgroup_release_record_parse(text, &rec), 0);
        ASSERT_EQ(rec.schema_version, SDC_CGROUP_RELEASE_RECORD_VERSION);
        ASSERT_EQ(rec.error, 0);
        ASSERT_STREQ(rec.released, "pids devices");
        ASSERT_EQ(strlen(rec.still_bound), strlen("memory ") + strlen(long_word));
        ASSERT_TRUE(rec.pid1_reexecuted);
}

static void test_error_and_empty(void) {
        SdcCgroupRelease rep = {};
        _cleanup_free_ char *text = written(-EBUSY, &rep, false);
        _cleanup_(sdc_cgroup_release_record_done) SdcCgroupReleaseRecord rec = {};

        ASSERT_EQ(sdc_cgroup_release_record_parse(text, &rec), 0);
        ASSERT_EQ(rec.error, -EBUSY);
        ASSERT_STREQ(rec.released, "");
        ASSERT_STREQ(rec.still_bound, "");
        ASSERT_TRUE(!rec.pid1_reexecuted);
}

/* A reader meets another version: it reads nothing of it and says which version it found. */
static void test_other_version(void) {
        SdcCgroupReleaseRecord rec = {};

        ASSERT_EQ(sdc_cgroup_release_record_parse("{\n  \"schema_version\": 2,\n  \"released\": \"pids\"\n}\n", &rec),
                  -EPROTONOSUPPORT);
        ASSERT_EQ(rec.schema_version, 2);
        ASSERT_TRUE(!rec.released);
        ASSERT_EQ(sdc_cgroup_release_record_parse("{\n  \"schema_version\": 0\n}\n", &rec), -EPROTONOSUPPORT);
}

static void test_broken(void) {
        SdcCgroupReleaseRecord rec = {};

        ASSERT_EQ(sdc_cgroup_release_record_parse("", &rec), -EBADMSG);
        ASSERT_EQ(sdc_cgroup_release_record_parse("{\n  \"schema_version\": \"1\"\n}\n", &rec), -EBADMSG);
        /* version 1 without its members */
        ASSERT_EQ(sdc_cgroup_release_record_parse("{\n  \"schema_version\": 1\n}\n", &rec), -EBADMSG);
        ASSERT_EQ(sdc_cgroup_release_record_parse("{\n  \"schema_version\": 1,\n  \"error\": 0,\n"
                                                  "  \"pid1_reexecuted\": maybe\n}\n", &rec),
                  -EBADMSG);
}

/* The one formatter of a list, and its inverse. */
static void test_join_split(void) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *empty = strv_join(NULL, " "), *joined = NULL;

        ASSERT_STREQ(empty, "");
        ASSERT_EQ(strv_split_extend(&l, "  cpu,cpuacct  memory\n", " \n"), 0);
        ASSERT_EQ(strv_length(l), 2);
        ASSERT_EQ(strv_split_extend(&l, "a,,b", ","), 0);
        joined = strv_join(l, " ");
        ASSERT_STREQ(joined, "cpu,cpuacct memory a b");
}

int main(void) {
        TEST(test_round_trip);
        TEST(test_error_and_empty);
        TEST(test_other_version);
        TEST(test_broken);
        TEST(test_join_split);
        return 0;
}

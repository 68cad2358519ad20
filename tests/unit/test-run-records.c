/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The JSON run files and their modules: shim.json (shim-record.h) and handoff.json
 * (handoff-record.h): written, read back, versions both ways, cut and malformed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "handoff-record.h"
#include "macro.h"
#include "run-file.h"
#include "shim-record.h"
#include "tests.h"

/* shim.json as sdcompat-shim writes it, byte for byte (operators' tools read it). */
static const char shim_v1[] =
        "{\n"
        "  \"schema_version\": 1,\n"
        "  \"sdcompat_version\": \"" PACKAGE_VERSION "\",\n"
        "  \"mode\": \"translate\",\n"
        "  \"target\": \"/usr/lib/systemd/systemd\",\n"
        "  \"steps\": [\n"
        "    {\n"
        "      \"step\": \"plan\",\n"
        "      \"detail\": \"mode translate for a root systemd 262\",\n"
        "      \"error\": 0\n"
        "    },\n"
        "    {\n"
        "      \"step\": \"exec\",\n"
        "      \"detail\": \"\\\"quoted\\\" /usr/lib/systemd/systemd\",\n"
        "      \"error\": -8\n"
        "    }\n"
        "  ]\n"
        "}\n";

static void make_dirs(char *top, char **ret_dir) {
        ASSERT_TRUE(mkdtemp(top));
        ASSERT_TRUE(asprintf(ret_dir, "%s/sdcompat", top) >= 0);
        ASSERT_EQ(mkdir(*ret_dir, 0755), 0);
}

static void test_shim_record_round_trip(void) {
        char top[] = "/tmp/test-run-records-XXXXXX", *dir, *data = NULL, *path = NULL;
        SdcShimStep steps[2] = {
                { .name = "plan", .detail = "mode translate for a root systemd 262" },
                { .name = "exec", .detail = "\"quoted\" /usr/lib/systemd/systemd", .error = -8 },
        };
        SdcShimRecord rec;
        unsigned version = 99;

        make_dirs(top, &dir);
        ASSERT_EQ(sdc_shim_record_read(top, &rec, &version), -ENOENT);
        ASSERT_EQ(sdc_shim_record_write(dir, SDC_MODE_TRANSLATE, "/usr/lib/systemd/systemd", steps, 2), 0);
        ASSERT_EQ(sdc_run_file_read(dir, SDC_SHIM_RECORD_NAME, &path, &data, NULL), 0);
        ASSERT_STREQ(data, shim_v1);
        ASSERT_EQ(sdc_shim_record_read(top, &rec, &version), 0);
        ASSERT_EQ(version, 1);
        ASSERT_STREQ(rec.mode, "translate");
        ASSERT_STREQ(rec.last_step, "exec");
        ASSERT_STREQ(rec.last_detail, "\"quoted\" /usr/lib/systemd/systemd");
        ASSERT_STREQ(rec.path, path);
        ASSERT_EQ(rec.n_steps, 2);
        ASSERT_EQ(rec.n_failed, 1);
        ASSERT_TRUE(rec.fallback); /* a step failed */
        sdc_shim_record_done(&rec);
        /* the planned exec took over, nothing failed: no fallback; a fresh plan means exec-fresh */
        steps[1].error = 0;
        ASSERT_EQ(sdc_shim_record_write(dir, SDC_MODE_TRANSLATE, NULL, steps, 2), 0);
        ASSERT_EQ(sdc_shim_record_read(top, &rec, NULL), 0);
        ASSERT_TRUE(!rec.fallback && rec.n_failed == 0);
        sdc_shim_record_done(&rec);
        ASSERT_EQ(sdc_shim_record_write(dir, SDC_MODE_FRESH, NULL, steps, 2), 0);
        ASSERT_EQ(sdc_shim_record_read(top, &rec, NULL), 0);
        ASSERT_TRUE(rec.fallback);
        sdc_shim_record_done(&rec);
        ASSERT_EQ(unlink(path), 0);
        ASSERT_EQ(rmdir(dir), 0);
        ASSERT_EQ(rmdir(top), 0);
        free(path);
        free(data);
        free(dir);
}

static void test_shim_record_versions(void) {
        SdcShimRecord rec;
        unsigned version;

#define PARSE(s) sdc_shim_record_parse((s), strlen(s), &rec, &version)
        ASSERT_EQ(PARSE("{\"schema_version\": 2, \"steps\": \"whatever 2 means\"}"), -EPROTONOSUPPORT);
        ASSERT_EQ(version, 2);
        ASSERT_EQ(PARSE("{\"schema_version\": 0, \"steps\": []}"), -EPROTONOSUPPORT);
        ASSERT_EQ(version, 0);
        ASSERT_EQ(PARSE("{\"schema_version\": \"1\", \"steps\": []}"), -EBADMSG);
        ASSERT_EQ(PARSE("{\"steps\": []}"), -EBADMSG);
        ASSERT_EQ(PARSE("{\"schema_version\": 1}"), -EBADMSG);
        ASSERT_EQ(PARSE("{\"schema_version\": 1, \"steps\": [{\"detail\": \"no step\"}]}"), -EBADMSG);
        ASSERT_EQ(PARSE("[]"), -EBADMSG);
        /* members a newer writer adds within version 1 are ignored */
        ASSERT_EQ(PARSE("{\"schema_version\": 1, \"new\": [1], \"steps\": []}"), 0);
        ASSERT_TRUE(rec.n_steps == 0 && rec.fallback);
        sdc_shim_record_done(&rec);
#undef PARSE
        /* cut anywhere before its last brace: never read */
        for (size_t cut = 0; cut < strlen(shim_v1) - 2; cut++)
                ASSERT_EQ(sdc_shim_record_parse(shim_v1, cut, &rec, &version), -EBADMSG);
        ASSERT_EQ(sdc_shim_record_parse(shim_v1, strlen(shim_v1), &rec, &version), 0);
        sdc_shim_record_done(&rec);
}

static void test_handoff_record(void) {
        char top[] = "/tmp/test-run-records-XXXXXX", *dir, *data = NULL;
        char *errors[] = { (char *) "cannot write the plan: the shim is unmounted again", (char *) "second", NULL };
        bool applied[_SDC_ACTION_MAX] = { [SDC_ACTION_DROPIN_SIGTERM_SUCCESS] = true };
        SdcPlan plan = { .mode = SDC_MODE_NATIVE };
        SdcAssessment assessment = {};
        SdcHandoffRecord rec = {
                .plan = &plan,
                .assessment = &assessment,
                .applied = applied,
                .cmdline = "root=LABEL=root",
                .cgroup_observed = "unified",
                .errors = errors,
                .duration_usec = 5,
        };
        SdcHandoffSummary s;
        size_t size;

        make_dirs(top, &dir);
        ASSERT_EQ(sdc_handoff_record_read(dir, &s), -ENOENT);
        ASSERT_EQ(sdc_handoff_record_write(dir, &rec), 0);
        ASSERT_EQ(sdc_handoff_record_read(dir, &s), 0);
        ASSERT_EQ(s.version, 1);
        ASSERT_STREQ(s.mode, "native");
        ASSERT_STREQ(s.errors, "cannot write the plan: the shim is unmounted again; second");
        sdc_handoff_summary_done(&s);
        ASSERT_EQ(sdc_run_file_read(dir, SDC_HANDOFF_RECORD_NAME, NULL, &data, &size), 0);
        ASSERT_TRUE(strstr(data, "\"actions_applied\": [\n    \"dropin-sigterm-success\"\n  ]"));
        ASSERT_TRUE(strstr(data, "\"initrd\": null"));
        /* cut anywhere: never read */
        for (size_t cut = 0; cut < size - 2; cut++)
                ASSERT_EQ(sdc_handoff_record_parse(data, cut, &s), -EBADMSG);
        free(data);
        /* no errors: none */
        rec.errors = NULL;
        ASSERT_EQ(sdc_handoff_record_write(dir, &rec), 0);
        ASSERT_EQ(sdc_handoff_record_read(dir, &s), 0);
        ASSERT_TRUE(!s.errors);
        sdc_handoff_summary_done(&s);
#define PARSE(x) sdc_handoff_record_parse((x), strlen(x), &s)
        ASSERT_EQ(PARSE("{\"schema_version\": 2, \"errors\": 3}"), -EPROTONOSUPPORT);
        ASSERT_EQ(s.version, 2);
        ASSERT_EQ(PARSE("{\"schema_version\": -1, \"errors\": []}"), -EPROTONOSUPPORT);
        ASSERT_EQ(s.version, 0);
        ASSERT_EQ(PARSE("{\"errors\": []}"), -EBADMSG);
        ASSERT_EQ(PARSE("{\"schema_version\": 1, \"errors\": [1]}"), -EBADMSG);
        ASSERT_EQ(PARSE("{\"schema_version\": 1}"), -EBADMSG);
#undef PARSE
        {
                char *path;
                ASSERT_TRUE(asprintf(&path, "%s/%s", dir, SDC_HANDOFF_RECORD_NAME) >= 0);
                ASSERT_EQ(unlink(path), 0);
                free(path);
        }
        ASSERT_EQ(rmdir(dir), 0);
        ASSERT_EQ(rmdir(top), 0);
        free(dir);
}

int main(void) {
        TEST(test_shim_record_round_trip);
        TEST(test_shim_record_versions);
        TEST(test_handoff_record);
        return 0;
}

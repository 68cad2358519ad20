/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for every text and binary parser besides the image reader (fuzz-image): rule
 * files, manifests, os-release files, versions, kernel command lines, ELF headers, the probe's
 * version and feature scanners, and the run files (sdcompat.run(5)): the strict JSON reader with
 * shim.json and handoff.json, and the plan; a shim's self-test head in its file and its self-test's
 * output (shim-select.h). The first byte picks the parser. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "elf-reader.h"
#include "envfile.h"
#include "handoff-record.h"
#include "json-parse.h"
#include "manifest.h"
#include "plan-file.h"
#include "probe.h"
#include "rules.h"
#include "shim-record.h"
#include "shim-select.h"
#include "strv.h"
#include "version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(const char *key, const char *value, unsigned line, void *userdata) {
        (*(size_t *) userdata) += strlen(key) + strlen(value) + line;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *d = data + 1;
        size_t n = size ? size - 1 : 0;
        char *s;

        if (size == 0)
                return 0;
        /* The text parsers get a NUL-terminated copy, like the strings they see. */
        s = malloc(n + 1);
        if (!s)
                return 0;
        memcpy(s, d, n);
        s[n] = 0;

        switch (data[0] % 10) {
        case 0: {
                SdcRule r = {};
                char *error = NULL;
                if (sdc_rule_parse("fuzz.rules", (const char *) d, n, &r, &error) >= 0) {
                        /* What parses must evaluate: a bare "219" on RHEL 7.8 against Debian's 252. */
                        SdcPairFacts f = { .has_initrd_version = true, .has_root_version = true };

                        (void) sdc_version_parse("252.39-1~deb12u2", &f.initrd_version);
                        (void) sdc_version_parse("219", &f.root_version);
                        strcpy(f.root_distro.id, "rhel");
                        strcpy(f.root_distro.release, "7.8");
                        strcpy(f.initrd_distro.id, "debian");
                        (void) sdc_rule_evaluate(&r, &f, NULL);
                        sdc_rule_done(&r);
                }
                free(error);
                break;
        }
        case 1: {
                SdcManifest m = {};
                char *text = NULL;
                if (sdc_manifest_parse((const char *) d, n, &m) >= 0) {
                        /* What parses must format again. */
                        if (sdc_manifest_format(&m, &text) >= 0)
                                free(text);
                        sdc_manifest_done(&m);
                }
                break;
        }
        case 2: {
                size_t total = 0;
                unsigned bad;
                char *v = NULL;
                (void) sdc_envfile_parse((const char *) d, n, count, &total, &bad);
                if (sdc_envfile_get((const char *) d, n, "ID", &v) >= 0)
                        free(v);
                {
                        /* The distribution as the probe derives it, the whole input also read as a
                         * redhat-release line. */
                        static const char *const keys[] = { "ID", "ID_LIKE", "VERSION_ID", "VERSION", "PRETTY_NAME" };
                        char *val[ELEMENTSOF(keys)] = {};
                        SdcDistroFacts df;

                        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                                (void) sdc_envfile_get((const char *) d, n, keys[i], &val[i]);
                        sdc_distro_from_os_release(val[0], val[1], val[2], val[3], val[4], s, &df);
                        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                                free(val[i]);
                }
                break;
        }
        case 3: {
                SdcVersion a, b;
                if (sdc_version_parse(s, &a) >= 0 && sdc_version_parse(a.text, &b) >= 0)
                        (void) sdc_version_compare(&a, &b);
                break;
        }
        case 4: {
                char **words = NULL;
                size_t dd;
                const char *v;
                if (sdc_cmdline_split(s, &words, &dd) >= 0) {
                        (void) sdc_cmdline_get(words, "rd.sdcompat", &v);
                        strv_free(words);
                }
                break;
        }
        case 5: {
                SdcElfInfo info = {};
                char *f = NULL;
                if (sdc_elf_parse(d, n, &info) >= 0) {
                        if (info.package_note && sdc_elf_note_field(info.package_note, "version", &f) >= 0)
                                free(f);
                        sdc_elf_info_done(&info);
                }
                break;
        }
        case 6: {
                SdcVersion v;
                char *shim_version = NULL;
                (void) sdc_probe_scan_version(d, n, &v);
                (void) sdc_probe_scan_version_major(d, n, 252, &v);
                if (sdc_shim_self_test_version(d, n, &shim_version) >= 0)
                        free(shim_version);
                break;
        }
        case 7: {
                char *f = NULL;
                if (sdc_probe_scan_features(d, n, &f) > 0)
                        free(f);
                break;
        }
        case 8: {
                JsonValue *v = NULL;
                SdcShimRecord rec;
                SdcHandoffSummary h;
                if (json_parse((const char *) d, n, &v) >= 0)
                        json_value_free(v);
                if (sdc_shim_record_parse((const char *) d, n, &rec, NULL) >= 0)
                        sdc_shim_record_done(&rec);
                if (sdc_handoff_record_parse((const char *) d, n, &h) >= 0)
                        sdc_handoff_summary_done(&h);
                break;
        }
        case 9: {
                bool all[_SDC_ACTION_MAX];
                SdcPlanFile p, q;
                char *text = NULL, buf[256];
                size_t len = 0;
                FILE *f;
                /* A root shim's self-test output, as negotiate judges it. */
                for (int a = 0; a < _SDC_ACTION_MAX; a++)
                        all[a] = true;
                (void) sdc_shim_self_test_verdict((const char *) d, n, "0.1", all, buf, sizeof(buf));
                /* What parses must format again, and read back as the same plan. */
                if (sdc_plan_file_parse((const char *) d, n, &p, NULL) < 0)
                        break;
                f = open_memstream(&text, &len);
                if (f) {
                        bool formatted = sdc_plan_file_format(&p, f) >= 0;

                        if (fclose(f) == 0 && formatted) {
                                if (sdc_plan_file_parse(text, len, &q, NULL) < 0 || q.mode != p.mode ||
                                    memcmp(q.actions, p.actions, sizeof(p.actions)) != 0)
                                        abort();
                                sdc_plan_file_done(&q);
                        }
                }
                free(text);
                sdc_plan_file_done(&p);
                break;
        }
        }
        free(s);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verdict (assess.c) over the shipped rules (rules.d) and the facts of real pairs: each
 * suite's dracut image and the fixture root trees. safe, at-risk, protected (the image's sdcompat
 * handles each hazard) and blocked (no rules; a root newer than the catalogue knows; dracut's squash
 * images whose root image is not read: erofs). A squashfs root image is read: its verdict is the
 * plain image's. */

#include <string.h>

#include "assess.h"
#include "manifest.h"
#include "pair-fixtures.h"

static SdcRuleSet *rules;

static const SdcFinding *finding(const SdcAssessment *a, const char *id) {
        for (size_t i = 0; i < a->n_findings; i++)
                if (strcmp(a->findings[i].rule->id, id) == 0)
                        return &a->findings[i];
        return NULL;
}

static bool starts_with(const char *s, const char *prefix) {
        return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* bullseye's 247 initramfs to sid: the mount units it serializes (SDC-H4) are a degrading hazard. */
static void test_at_risk(void) {
        SdcPairFacts f = pair_of("dracut-bullseye", "tree-sid", "root=LABEL=root ro quiet");
        SdcAssessment a = {};
        const SdcFinding *h4;

        ASSERT_EQ(sdc_assess(rules, &f, NULL, &a), 0);
        ASSERT_EQ(a.verdict, SDC_VERDICT_AT_RISK);
        ASSERT_STREQ(sdc_verdict_to_string(a.verdict), "at-risk");
        h4 = finding(&a, "SDC-H4");
        ASSERT_TRUE(h4);
        ASSERT_EQ(h4->match, SDC_MATCH_YES);
        ASSERT_EQ(h4->rule->action, SDC_ACTION_SHIM_DROP_SECTIONS);
        ASSERT_TRUE(!h4->handled_by_root);
        ASSERT_TRUE(starts_with(a.reason, "hazards apply: SDC-H4"));
        sdc_assessment_done(&a);
        sdc_pair_facts_done(&f);
}

/* The same pair with an image whose sdcompat does what SDC-H4 needs: protected. Without that one
 * action (only the others), at risk again. */
static void test_protected(void) {
        SdcPairFacts f = pair_of("dracut-bullseye", "tree-sid", "root=LABEL=root ro quiet");
        SdcManifest m = {};
        SdcAssessment a = {};

        sdc_manifest_set_implemented_actions(&m);
        ASSERT_TRUE(m.actions[SDC_ACTION_SHIM_DROP_SECTIONS]);
        ASSERT_EQ(sdc_assess(rules, &f, m.actions, &a), 0);
        ASSERT_EQ(a.verdict, SDC_VERDICT_PROTECTED);
        ASSERT_TRUE(starts_with(
                a.reason, "hazards apply, and sdcompat in the image handles them at boot: SDC-H4"));
        sdc_assessment_done(&a);

        m.actions[SDC_ACTION_SHIM_DROP_SECTIONS] = false;
        ASSERT_EQ(sdc_assess(rules, &f, m.actions, &a), 0);
        ASSERT_EQ(a.verdict, SDC_VERDICT_AT_RISK);
        sdc_assessment_done(&a);
        sdc_manifest_done(&m);
        sdc_pair_facts_done(&f);
}

/* A suite's image on its own root, and an image without systemd on any root: safe. */
static void test_safe(void) {
        static const char *const pairs[][2] = {
                { "dracut-bookworm", "tree-bookworm" },
                { "dracut-bookworm", "tree-sid" },
                { "dracut-sid", "tree-sid" },
                { "initramfs-tools-bookworm", "tree-sid" },
                { "initramfs-tools-bookworm", "tree-bullseye" },
        };

        for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
                SdcPairFacts f = pair_of(pairs[i][0], pairs[i][1], "root=LABEL=root ro quiet");
                SdcAssessment a = {};

                ASSERT_EQ(sdc_assess(rules, &f, NULL, &a), 0);
                if (a.verdict != SDC_VERDICT_SAFE)
                        fprintf(stderr, "%s -> %s: %s\n", pairs[i][0], pairs[i][1], a.reason);
                ASSERT_EQ(a.verdict, SDC_VERDICT_SAFE);
                /* Only cosmetic findings may be listed beside "safe". */
                for (size_t j = 0; j < a.n_findings; j++)
                        ASSERT_TRUE(a.findings[j].rule->severity == SDC_SEVERITY_COSMETIC);
                sdc_assessment_done(&a);
                sdc_pair_facts_done(&f);
        }
}

/* bookworm's 252 mounting the legacy hierarchy for a sid root (262 refuses v1): SDC-H2A. */
static void test_cgroup_v1_command_line(void) {
        SdcPairFacts f =
                pair_of("dracut-bookworm", "tree-sid", "root=LABEL=root systemd.unified_cgroup_hierarchy=0");
        SdcAssessment a = {};

        ASSERT_EQ(sdc_assess(rules, &f, NULL, &a), 0);
        ASSERT_EQ(a.verdict, SDC_VERDICT_AT_RISK);
        ASSERT_TRUE(finding(&a, "SDC-H2A"));
        ASSERT_EQ(finding(&a, "SDC-H2A")->rule->severity, SDC_SEVERITY_BOOT_FAILS);
        sdc_assessment_done(&a);
        sdc_pair_facts_done(&f);
}

/* The catalogue checked only up to 256, a trixie root (257): no rule applies, and still not safe. */
static void test_unknown_future_version(void) {
        SdcPairFacts f = pair_of("dracut-bookworm", "tree-trixie", "root=LABEL=root ro");
        unsigned max = rules->catalogue.systemd_max;
        SdcAssessment a = {};

        ASSERT_EQ(sdc_assess(rules, &f, NULL, &a), 0);
        ASSERT_EQ(a.verdict, SDC_VERDICT_SAFE);
        sdc_assessment_done(&a);
        rules->catalogue.systemd_max = 256;
        ASSERT_EQ(sdc_assess(rules, &f, NULL, &a), 0);
        ASSERT_EQ(a.verdict, SDC_VERDICT_BLOCKED);
        ASSERT_TRUE(starts_with(a.reason, "unknown future version: root systemd 257.13-1~deb13u1"));
        sdc_assessment_done(&a);
        rules->catalogue.systemd_max = max;
        sdc_pair_facts_done(&f);
}

/* No rules at all (an empty rule directory): nothing can be judged. */
static void test_no_rules(void) {
        char dir[] = "/tmp/test-assess-XXXXXX";
        SdcPairFacts f = pair_of("dracut-bookworm", "tree-bookworm", "root=LABEL=root");
        SdcRuleSet *none = NULL;
        SdcAssessment a = {};

        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_EQ(sdc_rules_load(dir, &none), 0);
        ASSERT_EQ(none->n_rules, 0);
        ASSERT_EQ(sdc_assess(none, &f, NULL, &a), 0);
        ASSERT_EQ(a.verdict, SDC_VERDICT_BLOCKED);
        sdc_assessment_done(&a);
        sdc_rules_free(none);
        ASSERT_EQ(rmdir(dir), 0);
        sdc_pair_facts_done(&f);
}

/* dracut's squash images (059 and 112, squashfs and erofs): /init is a script, and systemd runs from
 * the root image that script mounts. squashfs (read with libsquashfs): the verdict, its reason and
 * its findings are exactly those of the same suite's image without the squash module, on every
 * root. erofs (no reader), or squashfs in a build without libsquashfs: blocked, never "no systemd";
 * the reason names the file, why it was not read and the remedy. */
static void assert_same_assessment(const SdcAssessment *a, const SdcAssessment *b) {
        ASSERT_EQ(a->verdict, b->verdict);
        ASSERT_STREQ(a->reason, b->reason);
        ASSERT_EQ(a->n_findings, b->n_findings);
        for (size_t k = 0; k < a->n_findings; k++) {
                ASSERT_STREQ(a->findings[k].rule->id, b->findings[k].rule->id);
                ASSERT_EQ(a->findings[k].match, b->findings[k].match);
        }
}

static void test_squash_root_image(void) {
        static const struct {
                const char *image, *root_image, *plain;
                bool readable;
        } images[] = {
                { "dracut-bookworm-squash", "/squash-root.img", "dracut-bookworm", HAVE_SQUASHFS },
                { "dracut-sid-squashfs", "/squashfs-root.img", "dracut-sid", HAVE_SQUASHFS },
                { "dracut-sid-erofs", "/erofs-root.img", NULL, false },
        };
        static const char *const roots[] = { "tree-bookworm", "tree-sid", "tree-bullseye", "tree-trixie" };
        unsigned verdicts = 0;

        for (size_t i = 0; i < sizeof(images) / sizeof(images[0]); i++)
                for (size_t j = 0; j < sizeof(roots) / sizeof(roots[0]); j++) {
                        SdcPairFacts f = pair_of(images[i].image, roots[j], "root=LABEL=root ro quiet");
                        SdcAssessment a = {};

                        ASSERT_EQ(sdc_assess(rules, &f, NULL, &a), 0);
                        if (images[i].readable) {
                                SdcPairFacts p = pair_of(images[i].plain, roots[j], "root=LABEL=root ro quiet");
                                SdcAssessment b = {};

                                ASSERT_TRUE(!f.initrd_root_image);
                                ASSERT_EQ(f.initrd_systemd, SDC_TRI_YES);
                                ASSERT_TRUE(f.has_initrd_version);
                                ASSERT_STREQ(f.initrd_version.text, p.initrd_version.text);
                                ASSERT_EQ(sdc_assess(rules, &p, NULL, &b), 0);
                                assert_same_assessment(&a, &b);
                                verdicts |= 1u << a.verdict;
                                sdc_assessment_done(&b);
                                sdc_pair_facts_done(&p);
                        } else {
                                ASSERT_STREQ(f.initrd_root_image, images[i].root_image);
                                ASSERT_TRUE(f.initrd_root_image_error);
                                ASSERT_EQ(f.initrd_systemd, SDC_TRI_UNKNOWN);
                                ASSERT_EQ(a.verdict, SDC_VERDICT_BLOCKED);
                                ASSERT_TRUE(strstr(a.reason, images[i].root_image));
                                ASSERT_TRUE(strstr(a.reason, f.initrd_root_image_error));
                                ASSERT_TRUE(strstr(a.reason, "`dracut --add sdcompat`"));
                                ASSERT_TRUE(!strstr(a.reason, "no systemd"));
                        }
                        sdc_assessment_done(&a);
                        sdc_pair_facts_done(&f);
                }
        /* The pairs span more than one verdict (safe, at-risk, blocked on a kernel fact), so that
         * "the same as the plain image" is not "always the same answer". */
        if (HAVE_SQUASHFS)
                ASSERT_TRUE(verdicts & (1u << SDC_VERDICT_SAFE) && verdicts & (1u << SDC_VERDICT_AT_RISK));
}

/* A squashfs root image over SdcImageLimits.max_root_image is let pass as the image streams, and not
 * read: blocked, with the size and the limit in the reason. */
static void test_squash_root_image_limit(void) {
        static const SdcImageLimits limits = { .max_unpacked = 1ULL << 30, .max_entries = 1 << 20,
                                               .max_root_image = 1 << 20 };
        char path[PATH_MAX * 2];
        SdcImageError err = {};
        Side i = {}, r = side_tree("tree-sid");
        SdcPairFacts f = {};
        SdcAssessment a = {};

        if (!HAVE_SQUASHFS)
                return;
        snprintf(path, sizeof(path), "%s/images/dracut-sid-squashfs.img", fixtures_dir());
        ASSERT_EQ(sdc_tree_open_image(AT_FDCWD, path, &limits, &i.tree, &err), 0);
        ASSERT_EQ(sdc_probe_tree(i.tree, SDC_ROLE_INITRD, &i.facts), 0);
        ASSERT_STREQ(i.facts.root_image, "/squashfs-root.img");
        ASSERT_TRUE(!i.facts.root_image_read);
        ASSERT_TRUE(!i.facts.runs_systemd);
        ASSERT_TRUE(strstr(i.facts.root_image_error, "MiB, more than the limit of 1.0 MiB"));
        ASSERT_EQ(sdc_pair_facts_build(&i.facts, &r.facts, r.tree, "root=LABEL=root ro", "6.1.0-13-amd64", &f), 0);
        ASSERT_EQ(sdc_assess(rules, &f, NULL, &a), 0);
        ASSERT_EQ(a.verdict, SDC_VERDICT_BLOCKED);
        ASSERT_TRUE(strstr(a.reason, "/squashfs-root.img"));
        ASSERT_TRUE(strstr(a.reason, "more than the limit of 1.0 MiB"));
        sdc_assessment_done(&a);
        sdc_pair_facts_done(&f);
        side_done(&i);
        side_done(&r);
}

static void test_worst(void) {
        ASSERT_EQ(sdc_verdict_worst(SDC_VERDICT_SAFE, SDC_VERDICT_PROTECTED), SDC_VERDICT_PROTECTED);
        ASSERT_EQ(sdc_verdict_worst(SDC_VERDICT_BLOCKED, SDC_VERDICT_PROTECTED), SDC_VERDICT_BLOCKED);
        ASSERT_EQ(sdc_verdict_worst(SDC_VERDICT_BLOCKED, SDC_VERDICT_AT_RISK), SDC_VERDICT_AT_RISK);
        ASSERT_EQ(sdc_verdict_worst(SDC_VERDICT_AT_RISK, SDC_VERDICT_SAFE), SDC_VERDICT_AT_RISK);
}

int main(void) {
        (void) fixtures_dir();
        rules = shipped_rules();
        TEST(test_at_risk);
        TEST(test_protected);
        TEST(test_safe);
        TEST(test_cgroup_v1_command_line);
        TEST(test_unknown_future_version);
        TEST(test_no_rules);
        TEST(test_squash_root_image);
        TEST(test_squash_root_image_limit);
        TEST(test_worst);
        sdc_rules_free(rules);
        return 0;
}

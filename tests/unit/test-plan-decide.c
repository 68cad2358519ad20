/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plan's decision (plan-decide.c) over real verdicts: the shipped rules assessed on fixture
 * pairs, then the kernel command line words negotiate reads (rd.sdcompat=, rd.sdcompat.mode=,
 * rd.sdcompat.debug) and what this build implements. */

#include <string.h>

#include "assess.h"
#include "manifest.h"
#include "pair-fixtures.h"
#include "plan-decide.h"
#include "strv.h"

static SdcRuleSet *rules;
static bool all[_SDC_ACTION_MAX], none[_SDC_ACTION_MAX] = { [SDC_ACTION_NONE] = true };

/* The plan for image INITRD to root ROOT with CMDLINE (the same words decide and assess see). */
static SdcPlan decide(const char *initrd, const char *root, const char *cmdline, const bool *implemented) {
        SdcPairFacts f = pair_of(initrd, root, cmdline);
        SdcAssessment a = {};
        SdcPlan p = {};

        ASSERT_EQ(sdc_assess(rules, &f, NULL, &a), 0);
        ASSERT_EQ(sdc_plan_decide(&a, implemented, f.cmdline_words, &p), 0);
        sdc_assessment_done(&a);
        sdc_pair_facts_done(&f);
        return p;
}

static unsigned n_applied(const SdcPlan *p) {
        unsigned n = 0;

        for (int i = 0; i < _SDC_ACTION_MAX; i++)
                n += p->apply[i];
        return n;
}

/* SDC-H4 (bullseye's 247 -> sid) needs shim-drop-sections: translate, that one action. */
static void test_translate(void) {
        SdcPlan p = decide("dracut-bullseye", "tree-sid", "root=LABEL=root ro quiet", all);

        ASSERT_EQ(p.mode, SDC_MODE_TRANSLATE);
        ASSERT_TRUE(p.apply[SDC_ACTION_SHIM_DROP_SECTIONS]);
        ASSERT_EQ(n_applied(&p), 1);
        ASSERT_TRUE(!p.forced);
        ASSERT_TRUE(!p.disabled);
        ASSERT_TRUE(!p.debug);
        ASSERT_TRUE(p.note == NULL);
        sdc_plan_done(&p);
}

/* A build without the action: nothing applied, native, and the action listed as unavailable. */
static void test_unavailable(void) {
        SdcPlan p = decide("dracut-bullseye", "tree-sid", "root=LABEL=root ro quiet", none);

        ASSERT_EQ(p.mode, SDC_MODE_NATIVE);
        ASSERT_EQ(n_applied(&p), 0);
        ASSERT_TRUE(p.unavailable[SDC_ACTION_SHIM_DROP_SECTIONS]);
        sdc_plan_done(&p);
}

/* A safe pair: native, nothing applied, nothing unavailable. */
static void test_safe_is_native(void) {
        SdcPlan p = decide("dracut-bookworm", "tree-bookworm", "root=LABEL=root ro quiet", all);

        ASSERT_EQ(p.mode, SDC_MODE_NATIVE);
        ASSERT_EQ(n_applied(&p), 0);
        for (int i = 0; i < _SDC_ACTION_MAX; i++)
                ASSERT_TRUE(!p.unavailable[i]);
        sdc_plan_done(&p);
}

/* bookworm's 252 on the legacy hierarchy to a sid root: cgroup-convert (SDC-H2A, boot-fails). */
static void test_cgroup_convert(void) {
        SdcPlan p = decide(
                "dracut-bookworm", "tree-sid", "root=LABEL=root systemd.unified_cgroup_hierarchy=0", all);

        ASSERT_EQ(p.mode, SDC_MODE_TRANSLATE);
        ASSERT_TRUE(p.apply[SDC_ACTION_CGROUP_CONVERT]);
        sdc_plan_done(&p);
}

/* rd.sdcompat=0: disabled whatever the hazards, and the note says why. rd.sdcompat=1 is not. */
static void test_disabled(void) {
        SdcPlan p = decide("dracut-bullseye", "tree-sid", "root=LABEL=root rd.sdcompat=0", all);

        ASSERT_TRUE(p.disabled);
        ASSERT_EQ(n_applied(&p), 0);
        ASSERT_STREQ(p.note, "disabled by rd.sdcompat=0 on the kernel command line");
        sdc_plan_done(&p);
        p = decide("dracut-bullseye", "tree-sid", "root=LABEL=root rd.sdcompat=1", all);
        ASSERT_TRUE(!p.disabled);
        ASSERT_EQ(p.mode, SDC_MODE_TRANSLATE);
        sdc_plan_done(&p);
}

/* rd.sdcompat.mode=: forced. native empties the actions; translate on a safe pair forces the shim
 * with nothing to do; a word that is no mode is ignored and said so. */
static void test_forced_mode(void) {
        SdcPlan p = decide("dracut-bullseye", "tree-sid", "root=LABEL=root rd.sdcompat.mode=native", all);

        ASSERT_TRUE(p.forced);
        ASSERT_EQ(p.mode, SDC_MODE_NATIVE);
        ASSERT_EQ(n_applied(&p), 0);
        sdc_plan_done(&p);

        p = decide("dracut-bookworm", "tree-bookworm", "root=LABEL=root rd.sdcompat.mode=translate", all);
        ASSERT_TRUE(p.forced);
        ASSERT_EQ(p.mode, SDC_MODE_TRANSLATE);
        ASSERT_EQ(n_applied(&p), 0);
        sdc_plan_done(&p);

        p = decide("dracut-bullseye", "tree-sid", "root=LABEL=root rd.sdcompat.mode=sideways", all);
        ASSERT_TRUE(!p.forced);
        ASSERT_EQ(p.mode, SDC_MODE_TRANSLATE);
        ASSERT_STREQ(p.note, "rd.sdcompat.mode=sideways is not native, translate or fresh: ignored");
        sdc_plan_done(&p);
}

/* rd.sdcompat.mode=fresh: fresh where the build can; where it cannot, stock (native) and said so. */
static void test_forced_fresh(void) {
        bool no_fresh[_SDC_ACTION_MAX];
        SdcPlan p =
                decide("dracut-bookworm", "tree-bookworm", "root=LABEL=root rd.sdcompat.mode=fresh", all);

        ASSERT_EQ(p.mode, SDC_MODE_FRESH);
        ASSERT_TRUE(p.forced);
        sdc_plan_done(&p);

        memcpy(no_fresh, all, sizeof(no_fresh));
        no_fresh[SDC_ACTION_FRESH] = false;
        p = decide("dracut-bookworm", "tree-bookworm", "root=LABEL=root rd.sdcompat.mode=fresh", no_fresh);
        ASSERT_EQ(p.mode, SDC_MODE_NATIVE);
        ASSERT_TRUE(p.unavailable[SDC_ACTION_FRESH]);
        ASSERT_TRUE(p.note && strstr(p.note, "cannot hand over fresh"));
        sdc_plan_done(&p);
}

static void test_debug(void) {
        SdcPlan p = decide("dracut-bookworm", "tree-bookworm", "root=LABEL=root rd.sdcompat.debug", all);

        ASSERT_TRUE(p.debug);
        sdc_plan_done(&p);
        p = decide("dracut-bookworm", "tree-bookworm", "root=LABEL=root rd.sdcompat.debug=0", all);
        ASSERT_TRUE(!p.debug);
        sdc_plan_done(&p);
}

/* No assessment (negotiate before it has probed anything): native, only the command line counts. */
static void test_no_assessment(void) {
        _cleanup_strv_free_ char **words = NULL;
        size_t dashdash;
        SdcPlan p = {};

        ASSERT_EQ(sdc_cmdline_split("rd.sdcompat.mode=translate", &words, &dashdash), 0);
        ASSERT_EQ(sdc_plan_decide(NULL, all, words, &p), 0);
        ASSERT_EQ(p.mode, SDC_MODE_TRANSLATE);
        ASSERT_TRUE(p.forced);
        sdc_plan_done(&p);
}

int main(void) {
        SdcManifest m = {};

        (void) fixtures_dir();
        rules = shipped_rules();
        sdc_manifest_set_implemented_actions(&m);
        memcpy(all, m.actions, sizeof(all));
        sdc_manifest_done(&m);
        TEST(test_translate);
        TEST(test_unavailable);
        TEST(test_safe_is_native);
        TEST(test_cgroup_convert);
        TEST(test_disabled);
        TEST(test_forced_mode);
        TEST(test_forced_fresh);
        TEST(test_debug);
        TEST(test_no_assessment);
        sdc_rules_free(rules);
        return 0;
}

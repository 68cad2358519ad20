/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The facts of a handoff (pairfacts.c) built from the real fixtures: each suite's dracut image (as
 * sdcompat-check reads it) handing over to a root tree of another suite, with the command lines
 * that change what the initramfs's systemd does. Only end-to-end tests reached this module before;
 * here each fact is held against what the packages are. */

#include "pair-fixtures.h"
#include "strv.h"

/* bullseye's dracut image (systemd 247, built with default-hierarchy=unified) to a sid root (262). */
static void test_bullseye_to_sid(void) {
        SdcPairFacts f = pair_of("dracut-bullseye", "tree-sid", "root=LABEL=root ro quiet");

        ASSERT_EQ(f.initrd_systemd, SDC_TRI_YES);
        ASSERT_TRUE(f.has_initrd_version);
        ASSERT_STREQ(f.initrd_version.text, "247.3-7+deb11u5");
        ASSERT_EQ(f.initrd_version.major, 247);
        ASSERT_EQ(f.root_systemd, SDC_TRI_YES);
        ASSERT_TRUE(f.has_root_version);
        ASSERT_STREQ(f.root_version.text, "262.1-1");
        ASSERT_EQ(f.root_version.major, 262);
        /* dracut's systemd-initrd switches root through systemctl. */
        ASSERT_EQ(f.initrd_switch_root_via_systemctl, SDC_TRI_YES);
        /* The build default, no command line word about cgroups. */
        ASSERT_EQ(f.initrd_cgroup, SDC_CGROUP_UNIFIED);
        ASSERT_TRUE(f.initrd_cgroup_reason != NULL);
        /* sid is merged-/usr: the initramfs's /lib/systemd/systemd is there, /usr is no mount. */
        ASSERT_EQ(f.root_has_binary_path, SDC_TRI_YES);
        ASSERT_EQ(f.root_os_release, SDC_TRI_YES);
        ASSERT_TRUE(f.has_kernel);
        ASSERT_EQ(f.kernel_major, 6);
        ASSERT_EQ(f.kernel_minor, 1);
        ASSERT_EQ(f.init_args_break_parsing, SDC_TRI_NO);
        ASSERT_EQ(strv_length(f.cmdline_words), 3);
        ASSERT_STREQ(f.cmdline_words[0], "root=LABEL=root");
        /* No /usr line in the tree's fstab: /usr is part of the root ... */
        ASSERT_EQ(f.root_usr_separate, SDC_TRI_NO);
        sdc_pair_facts_done(&f);
        /* ... unless the command line mounts one (mount.usr=, as image-based systems do). */
        f = pair_of("dracut-bullseye", "tree-sid", "root=LABEL=root mount.usr=/dev/vda3 ro");
        ASSERT_EQ(f.root_usr_separate, SDC_TRI_YES);
        sdc_pair_facts_done(&f);
}

/* systemd.unified_cgroup_hierarchy=0: 247 (default unified, no legacy_systemd_cgroup_controller)
 * mounts the legacy hierarchy; bookworm's 252 the same; sid's 262 ignores the word (v2 only). */
static void test_unified_cgroup_hierarchy_0(void) {
        SdcPairFacts f =
                pair_of("dracut-bullseye", "tree-sid", "root=LABEL=root systemd.unified_cgroup_hierarchy=0");

        ASSERT_EQ(f.initrd_cgroup, SDC_CGROUP_LEGACY);
        sdc_pair_facts_done(&f);

        f = pair_of(
                "dracut-bookworm", "tree-sid",
                "root=LABEL=root systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=0");
        ASSERT_EQ(f.initrd_cgroup, SDC_CGROUP_HYBRID);
        sdc_pair_facts_done(&f);

        f = pair_of("dracut-sid", "tree-bookworm", "root=LABEL=root systemd.unified_cgroup_hierarchy=0");
        ASSERT_EQ(f.initrd_version.major, 262);
        ASSERT_EQ(f.initrd_cgroup, SDC_CGROUP_UNIFIED);
        sdc_pair_facts_done(&f);
}

/* Words the kernel hands init that stop systemd's option parsing before --deserialize (H5). */
static void test_init_args(void) {
        SdcPairFacts f = pair_of("dracut-bookworm", "tree-trixie", "root=LABEL=root ro -- -b");

        ASSERT_EQ(f.init_args_break_parsing, SDC_TRI_YES);
        ASSERT_TRUE(f.cmdline_dashdash != SIZE_MAX);
        sdc_pair_facts_done(&f);
        f = pair_of("dracut-bookworm", "tree-trixie", "root=LABEL=root ro single");
        ASSERT_EQ(f.init_args_break_parsing, SDC_TRI_NO);
        sdc_pair_facts_done(&f);
}

/* An initramfs-tools image runs no systemd: nothing about its systemd is claimed. */
static void test_no_systemd_initramfs(void) {
        SdcPairFacts f = pair_of("initramfs-tools-bookworm", "tree-bookworm", "root=LABEL=root");

        ASSERT_EQ(f.initrd_systemd, SDC_TRI_NO);
        ASSERT_TRUE(!f.has_initrd_version);
        ASSERT_EQ(f.root_systemd, SDC_TRI_YES);
        ASSERT_STREQ(f.root_version.text, "252.39-1~deb12u2");
        sdc_pair_facts_done(&f);
}

/* Without a root tree or a kernel, those facts are unknown, never guessed. */
static void test_unknowns(void) {
        Side i = side_image("dracut-bookworm"), r = side_tree("tree-bullseye");
        SdcPairFacts f = {};

        ASSERT_EQ(sdc_pair_facts_build(&i.facts, &r.facts, NULL, NULL, NULL, &f), 0);
        ASSERT_EQ(f.root_has_binary_path, SDC_TRI_UNKNOWN);
        ASSERT_TRUE(!f.has_kernel);
        ASSERT_EQ(f.init_args_break_parsing, SDC_TRI_NO);
        ASSERT_STREQ(f.root_version.text, "247.3-7+deb11u5");
        sdc_pair_facts_done(&f);
        side_done(&i);
        side_done(&r);
}

int main(void) {
        TEST(test_bullseye_to_sid);
        TEST(test_unified_cgroup_hierarchy_0);
        TEST(test_init_args);
        TEST(test_no_systemd_initramfs);
        TEST(test_unknowns);
        return 0;
}
